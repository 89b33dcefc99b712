//! A TLS connection that its task and the JS thread share, as `SharedStream` shares a plain
//! socket: the JS thread encrypts and writes a response itself, so that a TLS response costs no
//! wake of the connection task either.
//!
//! The rustls session sits behind a mutex, held only for the synchronous work of one call. The
//! socket may not take all the ciphertext of a write at once; what it leaves stays in the
//! session and goes out first at the next read, write or shutdown of either side. When the JS
//! thread leaves some, it wakes the task, whose read readiness then writes it.

use std::future::Future;
use std::io::{self, IoSlice, Read, Write};
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rustls::ServerConnection;
use tokio::time::Sleep;

use crate::shared_stream::ReadyStream;

/// How long a closing connection may take to write the ciphertext it still holds.
const CLOSE_FLUSH_LIMIT: Duration = Duration::from_secs(10);

pub struct SharedTls<T> {
    socket: T,
    state: Mutex<State>,
}

struct State {
    session: ServerConnection,
    /// The socket reported end of stream.
    eof: bool,
    /// The task's waker while it waits for input, for the JS thread to wake when it leaves
    /// ciphertext behind.
    reader: Option<Waker>,
    /// Bounds the final flush once the connection is shutting down.
    closing: Option<Pin<Box<Sleep>>>,
}

impl<T: ReadyStream> SharedTls<T> {
    pub fn new(socket: T, session: ServerConnection) -> Self {
        SharedTls {
            socket,
            state: Mutex::new(State {
                session,
                eof: false,
                reader: None,
                closing: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("TLS session poisoned")
    }

    /// Writes the ciphertext the session holds; `WouldBlock` when the socket takes no more.
    fn flush(&self, session: &mut ServerConnection) -> io::Result<()> {
        while session.wants_write() {
            if session.write_tls(&mut SocketWriter(&self.socket))? == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }

    /// Flushes, and when the socket is full registers the task for its writability, so that
    /// a waiting reader comes back to write the rest.
    fn flush_or_register(
        &self,
        session: &mut ServerConnection,
        cx: &mut Context<'_>,
    ) -> io::Result<()> {
        loop {
            match self.flush(session) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    match self.socket.poll_write_ready(cx) {
                        Poll::Ready(Ok(())) => continue,
                        Poll::Ready(Err(err)) => return Err(err),
                        Poll::Pending => return Ok(()),
                    }
                }
                result => return result,
            }
        }
    }

    /// Plaintext the session holds, reading records from the socket while it has none.
    fn read_plaintext(&self, state: &mut State, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match state.session.reader().read(buf) {
                // 0: the client sent close_notify.
                Ok(n) => return Ok(n),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                // The TCP stream ended without close_notify. Only the body framing can tell a
                // truncated request, as on a plain socket (eventlet's suppress_ragged_eofs too).
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(err) => return Err(err),
            }
            if state.eof {
                return Ok(0);
            }
            match state.session.read_tls(&mut SocketReader(&self.socket))? {
                0 => state.eof = true,
                _ => {
                    if let Err(err) = state.session.process_new_packets() {
                        // rustls queued an alert that tells the client why.
                        let _ = self.flush(&mut state.session);
                        return Err(io::Error::new(io::ErrorKind::InvalidData, err));
                    }
                    // Processing may have queued output of its own (a key update, an alert).
                    match self.flush(&mut state.session) {
                        Err(err) if err.kind() != io::ErrorKind::WouldBlock => return Err(err),
                        _ => {}
                    }
                }
            }
        }
    }
}

impl<T: ReadyStream> ReadyStream for SharedTls<T> {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.lock();
        self.flush_or_register(&mut state.session, cx)?;
        if state.eof {
            return Poll::Ready(Ok(()));
        }
        match state.session.process_new_packets() {
            Ok(io) if io.plaintext_bytes_to_read() > 0 || io.peer_has_closed() => {
                return Poll::Ready(Ok(()))
            }
            Ok(_) => {}
            // The session is unusable from now on; rustls says so again at every call.
            Err(err) => return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, err))),
        }
        match self.socket.poll_read_ready(cx) {
            Poll::Pending => {
                state.reader = Some(cx.waker().clone());
                Poll::Pending
            }
            ready => ready,
        }
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.lock();
        loop {
            match self.flush(&mut state.session) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    std::task::ready!(self.socket.poll_write_ready(cx))?
                }
                result => return Poll::Ready(result),
            }
        }
    }

    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut state = self.lock();
        self.read_plaintext(&mut state, buf)
    }

    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut state = self.lock();
        // Older ciphertext first; while the socket is full, nothing new is taken.
        self.flush(&mut state.session)?;
        let n = state.session.writer().write_vectored(bufs)?;
        if n == 0 && bufs.iter().any(|buf| !buf.is_empty()) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match self.flush(&mut state.session) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                // The plaintext is taken; its ciphertext is the task's to finish writing.
                if let Some(reader) = state.reader.take() {
                    reader.wake();
                }
            }
            Err(err) => return Err(err),
        }
        Ok(n)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        let mut state = self.lock();
        state.session.send_close_notify();
        let _ = self.flush(&mut state.session);
        self.socket.shutdown_write()
    }

    /// Sends close_notify after everything still held, then ends the socket's writing side.
    fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.lock();
        if state.closing.is_none() {
            state.session.send_close_notify();
            state.closing = Some(Box::pin(tokio::time::sleep(CLOSE_FLUSH_LIMIT)));
        }
        loop {
            match self.flush(&mut state.session) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    match self.socket.poll_write_ready(cx) {
                        Poll::Ready(Ok(())) => continue,
                        Poll::Ready(Err(_)) => break,
                        Poll::Pending => {
                            // A client that stopped reading gets no more than the limit.
                            if state
                                .closing
                                .as_mut()
                                .is_some_and(|limit| limit.as_mut().poll(cx).is_ready())
                            {
                                break;
                            }
                            return Poll::Pending;
                        }
                    }
                }
                _ => break,
            }
        }
        Poll::Ready(self.socket.shutdown_write())
    }
}

/// `io::Read` over the socket's non-blocking read, for `read_tls`.
struct SocketReader<'a, T>(&'a T);

impl<T: ReadyStream> Read for SocketReader<'_, T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

/// `io::Write` over the socket's non-blocking write, for `write_tls`.
struct SocketWriter<'a, T>(&'a T);

impl<T: ReadyStream> Write for SocketWriter<'_, T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.0.try_write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
