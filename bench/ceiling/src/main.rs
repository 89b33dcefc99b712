//! The ceiling row of `npm run bench`: the seed's hello world served by tokio and httparse alone,
//! with no JavaScript and no N-API in the way, so that ferrowsgi's rate can be read as a share of
//! what its I/O stack reaches without them. It sends the bytes ferrowsgi sends for the hello world
//! (status, Content-Type, Content-Length, Date, body), keeps connections alive and answers
//! pipelined requests with one write per read, as a careful server on this stack would.
//!
//! Like bench/servers/*.ts, it listens on 127.0.0.1:$PORT (0 picks a free port) and prints
//! `listening on URL` for bench/server-process.ts.

mod answer;

use std::cell::RefCell;
use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use answer::{answer, Answered};

const HOST: &str = "127.0.0.1";
/// Room added to a connection's input buffer whenever it is full.
const READ_SIZE: usize = 8192;
/// A head still incomplete at this size is not a request this server will ever answer.
const MAX_INPUT: usize = 64 * 1024;

fn main() -> io::Result<()> {
    let port = match std::env::var("PORT") {
        Ok(text) => text.parse::<u16>().map_err(|err| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("PORT={text}: {err}"))
        })?,
        Err(_) => 0,
    };
    // One thread does all the I/O, as ferrowsgi's JS thread does by default
    // (crates/node/src/inline_runtime.rs): the multi-thread scheduler with one worker, on which
    // every task, the accept loop included, runs; the main thread only waits. This row shows what
    // that thread does when nothing but the I/O costs anything.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_io()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind((HOST, port)).await?;
        let mut stdout = io::stdout();
        writeln!(
            stdout,
            "listening on http://{HOST}:{}",
            listener.local_addr()?.port()
        )?;
        stdout.flush()?;
        tokio::spawn(accept(listener))
            .await
            .map_err(io::Error::other)?
    })
}

async fn accept(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            // A peer that resets its connection ends only that connection.
            let _ = serve(stream).await;
        });
    }
}

async fn serve(mut stream: TcpStream) -> io::Result<()> {
    // As ferrowsgi does (crates/node/src/accept.rs): a response is written whole, so Nagle's
    // delay would only hold back the last segment.
    stream.set_nodelay(true)?;
    let mut input = Vec::with_capacity(READ_SIZE);
    let mut output = Vec::new();
    loop {
        if input.len() == input.capacity() {
            input.reserve(READ_SIZE);
        }
        if stream.read_buf(&mut input).await? == 0 {
            return Ok(());
        }
        let Answered { consumed, close } =
            RESPONSE.with_borrow_mut(|response| answer(&input, response.current(), &mut output));
        input.drain(..consumed);
        if !output.is_empty() {
            stream.write_all(&output).await?;
            output.clear();
        }
        if close || input.len() >= MAX_INPUT {
            return Ok(());
        }
    }
}

/// The whole response, rebuilt when the second of its Date changes.
struct Response {
    second: u64,
    bytes: Vec<u8>,
}

impl Response {
    fn current(&mut self) -> &[u8] {
        let now = SystemTime::now();
        let second = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        if second != self.second || self.bytes.is_empty() {
            self.second = second;
            self.bytes = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nDate: {}\r\n\r\n",
                answer::BODY.len(),
                httpdate::fmt_http_date(now),
            )
            .into_bytes();
            self.bytes.extend_from_slice(answer::BODY);
        }
        &self.bytes
    }
}

thread_local! {
    // Every connection task runs on the one worker thread, so they all share this one.
    static RESPONSE: RefCell<Response> = const { RefCell::new(Response { second: 0, bytes: Vec::new() }) };
}
