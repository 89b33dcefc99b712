//! A connection's read buffer: bytes received and not yet consumed.
//!
//! Consuming moves a start offset instead of shifting bytes, so a pipelined burst of small
//! requests is parsed without a copy per request; the unread tail is moved to the front only
//! when the buffer needs room. Heads are read 16 KiB at a time, bodies in larger reads, and the
//! memory is freed whenever the buffer is empty, so that idle connections hold none.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::shared_stream::ReadReady;

pub const HEAD_READ: usize = 16 * 1024;
pub const BODY_READ: usize = 64 * 1024;

pub struct InputBuffer {
    bytes: Vec<u8>,
    start: usize,
}

impl InputBuffer {
    pub fn new() -> Self {
        InputBuffer {
            bytes: Vec::new(),
            start: 0,
        }
    }

    pub fn data(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    pub fn len(&self) -> usize {
        self.bytes.len() - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.bytes.len());
        if self.start == self.bytes.len() {
            self.bytes.clear();
            self.start = 0;
        }
    }

    /// Reads once from `io`, up to about `size` bytes; `Ok(0)` is end of stream. Cancel-safe,
    /// for use in `select!`.
    pub async fn read_from<S: AsyncRead + ReadReady + Unpin>(
        &mut self,
        io: &mut S,
        size: usize,
    ) -> io::Result<usize> {
        if self.bytes.capacity() == 0 {
            std::future::poll_fn(|cx| io.poll_read_ready(cx)).await?;
        }
        if self.bytes.capacity() - self.bytes.len() < size / 4 {
            self.bytes.drain(..self.start);
            self.start = 0;
            self.bytes.reserve(size);
        }
        io.read_buf(&mut self.bytes).await
    }

    /// Gives the memory back once every byte is consumed: most connections wait idle between
    /// requests, and the next read allocates again.
    pub fn release_if_empty(&mut self) {
        if self.is_empty() {
            self.bytes = Vec::new();
            self.start = 0;
        }
    }
}
