//! A TLS connection that its task and the JS thread share, as `SharedStream` shares a plain
//! socket: the JS thread encrypts and writes a response itself, so that a TLS response costs no
//! wake of the connection task either.
//!
//! The rustls session sits behind a mutex. The JS thread holds it to encrypt and write a
//! response; the task holds it only to decrypt what it has already read, never across a read
//! from the socket, and not at all while it waits for the client: the two threads then hardly
//! ever meet on the lock (which would cost both a futex sleep per request).
//!
//! The socket may not take all the ciphertext of a write at once. What it leaves stays in the
//! session and goes out first at the next write or shutdown; when the JS thread leaves some, it
//! wakes the task, whose read readiness then writes it.

use std::future::Future;
use std::io::{self, IoSlice, Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rustls::ServerConnection;
use tokio::io::ReadBuf;
use tokio::time::Sleep;

use crate::shared_stream::ReadyStream;

/// How long a closing connection may take to write the ciphertext it still holds.
const CLOSE_FLUSH_LIMIT: Duration = Duration::from_secs(10);

/// Ciphertext read per socket read: one full TLS record and then some.
const INBOX_SIZE: usize = 32 * 1024;

pub struct SharedTls<T> {
    socket: T,
    /// The rustls session, and the shutdown's deadline.
    session: Mutex<Session>,
    /// Ciphertext read from the socket that rustls has not taken yet: the task's alone.
    inbox: Mutex<Inbox>,
    /// `try_read` has something to give without reading the socket: plaintext, the end of the
    /// stream or an error. Only the task sets it.
    buffered: AtomicBool,
    /// The session holds ciphertext the socket did not take. Set under the session lock.
    leftover: AtomicBool,
    /// The task's waker while it waits for input, for the JS thread to wake when it leaves
    /// ciphertext behind.
    reader: Mutex<Option<Waker>>,
}

struct Session {
    conn: ServerConnection,
    closing: Option<Pin<Box<Sleep>>>,
}

/// Ciphertext read from the socket: `bytes[start..]` is not yet given to rustls. Its memory is
/// freed whenever it is all given, so that an idle connection holds none.
struct Inbox {
    bytes: Vec<u8>,
    start: usize,
    eof: bool,
}

impl Inbox {
    fn pending(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    fn release_if_empty(&mut self) {
        if self.start == self.bytes.len() {
            self.bytes = Vec::new();
            self.start = 0;
        }
    }
}

impl<T: ReadyStream> SharedTls<T> {
    pub fn new(socket: T, mut conn: ServerConnection) -> Self {
        // The client's first request may have come with its last handshake message.
        let buffered = conn.process_new_packets().map_or(true, |io| {
            io.plaintext_bytes_to_read() > 0 || io.peer_has_closed()
        });
        let leftover = conn.wants_write();
        SharedTls {
            socket,
            session: Mutex::new(Session {
                conn,
                closing: None,
            }),
            inbox: Mutex::new(Inbox {
                bytes: Vec::new(),
                start: 0,
                eof: false,
            }),
            buffered: AtomicBool::new(buffered),
            leftover: AtomicBool::new(leftover),
            reader: Mutex::new(None),
        }
    }

    fn session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().expect("TLS session poisoned")
    }

    /// Writes the ciphertext the session holds; `WouldBlock` when the socket takes no more.
    fn flush(&self, conn: &mut ServerConnection) -> io::Result<()> {
        let result = (|| {
            while conn.wants_write() {
                if conn.write_tls(&mut SocketWriter(&self.socket))? == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
            }
            Ok(())
        })();
        self.leftover.store(conn.wants_write(), Ordering::SeqCst);
        result
    }

    /// Gives rustls the ciphertext in `inbox` and takes plaintext into `buf`; `None` when it
    /// needs more ciphertext from the socket.
    fn take_plaintext(
        &self,
        conn: &mut ServerConnection,
        inbox: &mut Inbox,
        buf: &mut ReadBuf<'_>,
    ) -> Option<io::Result<usize>> {
        while !inbox.pending().is_empty() {
            match conn.read_tls(&mut inbox.pending()) {
                // No room until the plaintext it holds has been taken.
                Ok(0) => break,
                Ok(n) => inbox.start += n,
                Err(_)
                    if conn
                        .process_new_packets()
                        .is_ok_and(|io| io.plaintext_bytes_to_read() > 0) =>
                {
                    break
                }
                Err(err) => return Some(Err(err)),
            }
            if let Err(err) = conn.process_new_packets() {
                // rustls queued an alert that tells the client why.
                let _ = self.flush(conn);
                return Some(Err(io::Error::new(io::ErrorKind::InvalidData, err)));
            }
        }
        // Processing may have queued output of its own (a key update, an alert).
        if conn.wants_write() {
            match self.flush(conn) {
                Err(err) if err.kind() != io::ErrorKind::WouldBlock => return Some(Err(err)),
                _ => {}
            }
        }
        // Zeroing all of `buf` first would cost more than decrypting a small request.
        let available = match conn.process_new_packets() {
            Ok(io) => io.plaintext_bytes_to_read(),
            Err(err) => return Some(Err(io::Error::new(io::ErrorKind::InvalidData, err))),
        };
        // At least one byte, to learn of close_notify or the end of the stream.
        let room = buf.initialize_unfilled_to(available.max(1).min(buf.remaining()));
        let result = match conn.reader().read(room) {
            // 0: the client sent close_notify.
            Ok(n) => {
                buf.advance(n);
                Some(Ok(n))
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                // The TCP stream ended without close_notify. Only the body framing can tell a
                // truncated request, as on a plain socket (eventlet's suppress_ragged_eofs too).
                (inbox.eof && inbox.pending().is_empty()).then_some(Ok(0))
            }
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Some(Ok(0)),
            Err(err) => Some(Err(err)),
        };
        let more = match conn.process_new_packets() {
            Ok(io) => io.plaintext_bytes_to_read() > 0 || io.peer_has_closed(),
            Err(_) => true,
        };
        self.buffered.store(
            more || inbox.eof || result.as_ref().is_some_and(Result::is_err),
            Ordering::Relaxed,
        );
        result
    }
}

impl<T: ReadyStream> ReadyStream for SharedTls<T> {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The waker goes in before `leftover` is looked at: a JS-thread write that leaves
        // ciphertext after this point finds it and wakes the task.
        {
            let mut reader = self.reader.lock().expect("TLS reader poisoned");
            if !reader
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()))
            {
                *reader = Some(cx.waker().clone());
            }
        }
        if self.leftover.load(Ordering::SeqCst) {
            let mut session = self.session();
            loop {
                match self.flush(&mut session.conn) {
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        // Come back when the socket takes more.
                        match self.socket.poll_write_ready(cx) {
                            Poll::Ready(Ok(())) => continue,
                            Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                            Poll::Pending => break,
                        }
                    }
                    Err(err) => return Poll::Ready(Err(err)),
                    Ok(()) => break,
                }
            }
        }
        if self.buffered.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(()));
        }
        self.socket.poll_read_ready(cx)
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut session = self.session();
        loop {
            match self.flush(&mut session.conn) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    std::task::ready!(self.socket.poll_write_ready(cx))?
                }
                result => return Poll::Ready(result),
            }
        }
    }

    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_read_buf(&mut ReadBuf::new(buf))
    }

    fn try_read_buf(&self, buf: &mut ReadBuf<'_>) -> io::Result<usize> {
        let mut inbox = self.inbox.lock().expect("TLS inbox poisoned");
        loop {
            if self.buffered.load(Ordering::Relaxed) || !inbox.pending().is_empty() || inbox.eof {
                let mut session = self.session();
                if let Some(result) = self.take_plaintext(&mut session.conn, &mut inbox, buf) {
                    inbox.release_if_empty();
                    return result;
                }
            }
            // Without the session lock: the JS thread may be writing a response meanwhile.
            let Inbox { bytes, start, .. } = &mut *inbox;
            bytes.drain(..*start);
            *start = 0;
            if bytes.len() == INBOX_SIZE {
                // rustls always has room for a whole record once its plaintext is taken.
                return Err(io::Error::other("TLS records larger than the input buffer"));
            }
            let held = bytes.len();
            bytes.reserve_exact(INBOX_SIZE - held);
            let mut room = ReadBuf::uninit(&mut bytes.spare_capacity_mut()[..INBOX_SIZE - held]);
            let n = self.socket.try_read_buf(&mut room)?;
            // SAFETY: `try_read_buf` initialised and filled the first `n` bytes of the spare room.
            unsafe { bytes.set_len(held + n) };
            if n == 0 {
                inbox.eof = true;
            }
        }
    }

    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut session = self.session();
        // Older ciphertext first; while the socket is full, nothing new is taken.
        self.flush(&mut session.conn)?;
        let n = session.conn.writer().write_vectored(bufs)?;
        if n == 0 && bufs.iter().any(|buf| !buf.is_empty()) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match self.flush(&mut session.conn) {
            Ok(()) => Ok(n),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                // The plaintext is taken; its ciphertext is the task's to finish writing.
                drop(session);
                if let Some(reader) = self.reader.lock().expect("TLS reader poisoned").take() {
                    reader.wake();
                }
                Ok(n)
            }
            Err(err) => Err(err),
        }
    }

    fn shutdown_write(&self) -> io::Result<()> {
        let mut session = self.session();
        session.conn.send_close_notify();
        let _ = self.flush(&mut session.conn);
        self.socket.shutdown_write()
    }

    /// Sends close_notify after everything still held, then ends the socket's writing side.
    fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut session = self.session();
        let session = &mut *session;
        if session.closing.is_none() {
            session.conn.send_close_notify();
            session.closing = Some(Box::pin(tokio::time::sleep(CLOSE_FLUSH_LIMIT)));
        }
        loop {
            match self.flush(&mut session.conn) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    match self.socket.poll_write_ready(cx) {
                        Poll::Ready(Ok(())) => continue,
                        Poll::Ready(Err(_)) => break,
                        Poll::Pending => {
                            // A client that stopped reading gets no more than the limit.
                            if session
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
