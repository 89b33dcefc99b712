//! Where the servers' tasks run.
//!
//! By default, on Linux, on the JS thread that started the server (`inline_runtime`): on the
//! 2-core machines this server is measured on, handing each request from an I/O thread to the JS
//! thread cost more than the I/O itself (see `npm run bench`). `FERROWSGI_IO_THREADS=N`, with N
//! at least 1, runs every server's I/O on one shared runtime of N worker threads instead, which
//! can pay on machines with cores to spare; it is also where the inline runtime cannot run.

use std::future::Future;
use std::sync::OnceLock;

use napi::Env;
use tokio::runtime::{Builder, Handle, Runtime};

use crate::task;

const THREADS_VAR: &str = "FERROWSGI_IO_THREADS";
/// Worker threads when the inline runtime cannot run and the variable does not say.
const DEFAULT_THREADS: usize = 1;

/// `FERROWSGI_IO_THREADS` as a number of worker threads, if it asks for any.
fn threads_asked() -> Option<usize> {
    std::env::var(THREADS_VAR)
        .ok()
        .and_then(|value| value.parse::<usize>().ok())
        .filter(|&n| n > 0)
}

fn threaded() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(threads_asked().unwrap_or(DEFAULT_THREADS))
            .thread_name("ferrowsgi-io")
            .enable_all()
            .build()
            .expect("the tokio runtime could not start")
    })
}

#[cfg(target_os = "linux")]
fn inline(env: &Env) -> Option<Handle> {
    crate::inline_runtime::handle(env)
}

#[cfg(not(target_os = "linux"))]
fn inline(_: &Env) -> Option<Handle> {
    None
}

/// Spawns a server's task from the JS thread.
pub fn spawn_from_js<F>(env: &Env, future: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let handle = match threads_asked() {
        Some(_) => None,
        None => inline(env),
    }
    .unwrap_or_else(|| threaded().handle().clone());
    let _entered = handle.enter();
    task::spawn(future);
}
