//! The tokio runtime shared by every server in the process.
//!
//! One runtime serves all listeners: its worker threads do the socket I/O and parsing while the
//! JavaScript thread runs applications. The worker count defaults to one: on the 2-core machines
//! this server is measured on, the JS thread needs the other core (see `npm run bench`).
//! `FERROWSGI_IO_THREADS` overrides it.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

const THREADS_VAR: &str = "FERROWSGI_IO_THREADS";
const DEFAULT_THREADS: usize = 1;

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let threads = std::env::var(THREADS_VAR)
            .ok()
            .and_then(|value| value.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_THREADS);
        Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("ferrowsgi-io")
            .enable_all()
            .build()
            .expect("the tokio runtime could not start")
    })
}
