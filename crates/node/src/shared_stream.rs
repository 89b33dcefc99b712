//! A plain socket shared by its connection task and the JS thread.
//!
//! The task reads and writes it as an ordinary tokio stream. The JS thread may also write to it
//! directly, without waking the task: a response that fits in the socket buffer (nearly every
//! response) then costs one `send` on the JS thread and no cross-thread wake at all. Who may
//! write when is decided by the connection's outbox (`conn_handle`); this module only provides
//! the two ways in.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;

/// What a socket offers for sharing: readiness-based, non-blocking I/O through `&self`.
pub trait ReadyStream: Send + Sync + 'static {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// `try_read`, except that a read shorter than `buf`, which emptied the socket, also ends
    /// its read readiness: the next poll then waits for new data instead of costing a read that
    /// only says `WouldBlock`.
    fn try_read_drained(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_read(buf)
    }
    /// `try_read` into a `ReadBuf`, advancing it. A stream that knows how much it has (TLS
    /// plaintext) initialises only that much of the buffer, not all of it.
    fn try_read_buf(&self, buf: &mut ReadBuf<'_>) -> io::Result<usize> {
        let n = self.try_read(buf.initialize_unfilled())?;
        buf.advance(n);
        Ok(n)
    }
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    fn shutdown_write(&self) -> io::Result<()>;
    /// Ends the writing side. A stream with bytes of its own still to send (TLS: ciphertext and
    /// close_notify) sends them first.
    fn poll_shutdown(&self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}

macro_rules! ready_stream {
    ($stream:ty) => {
        impl ReadyStream for $stream {
            fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                <$stream>::poll_read_ready(self, cx)
            }
            fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                <$stream>::poll_write_ready(self, cx)
            }
            fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                <$stream>::try_read(self, buf)
            }
            fn try_read_drained(&self, buf: &mut [u8]) -> io::Result<usize> {
                let mut read = 0;
                // `try_io` clears the readiness it saw before the read, never a newer one: data
                // that arrives after the read has woken the reader again by then.
                let result = self.try_io(Interest::READABLE, || {
                    read = <$stream>::try_read(self, buf)?;
                    if read > 0 && read < buf.len() {
                        Err(io::ErrorKind::WouldBlock.into())
                    } else {
                        Ok(read)
                    }
                });
                match result {
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock && read > 0 => Ok(read),
                    result => result,
                }
            }
            /// Reads into the unfilled part of `buf` without zeroing it first, and ends the read
            /// readiness on a short read (see `try_read_drained`): one `recv` per request.
            fn try_read_buf(&self, buf: &mut ReadBuf<'_>) -> io::Result<usize> {
                // SAFETY: `recv` only writes to the slice, and `assume_init` covers exactly the
                // bytes it wrote (tokio's own `poll_read` does the same).
                let unfilled = unsafe {
                    &mut *(buf.unfilled_mut() as *mut [std::mem::MaybeUninit<u8>] as *mut [u8])
                };
                let n = ReadyStream::try_read_drained(self, unfilled)?;
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                Ok(n)
            }
            fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                <$stream>::try_write_vectored(self, bufs)
            }
            fn shutdown_write(&self) -> io::Result<()> {
                socket2::SockRef::from(self).shutdown(std::net::Shutdown::Write)
            }
        }
    };
}

ready_stream!(TcpStream);
#[cfg(unix)]
ready_stream!(UnixStream);

/// The JS thread's way in: write what the socket takes now, never wait.
pub trait DirectWrite: Send + Sync {
    /// Bytes written, or `WouldBlock` when the socket buffer is full.
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
}

impl<T: ReadyStream> DirectWrite for T {
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        ReadyStream::try_write_vectored(self, bufs)
    }
}

/// The task's way in: an `AsyncRead + AsyncWrite` over the shared socket.
pub struct SharedStream<T>(pub Arc<T>);

/// Waiting for data before there is a buffer to put it in, so that an idle connection holds none.
pub trait ReadReady {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

impl<T: ReadyStream> ReadReady for SharedStream<T> {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll_read_ready(cx)
    }
}

impl<T: ReadyStream> AsyncRead for SharedStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            match self.0.try_read_buf(buf) {
                Ok(_) => return Poll::Ready(Ok(())),
                // The readiness was stale: polling again registers for the next one.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl<T: ReadyStream> AsyncWrite for SharedStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_write_vectored(bufs) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll_shutdown(cx)
    }
}
