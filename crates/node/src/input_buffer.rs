//! A connection's read buffer: bytes received and not yet consumed.
//!
//! Consuming moves a start offset instead of shifting bytes, so a pipelined burst of small
//! requests is parsed without a copy per request; the unread tail is moved to the front only
//! when the buffer needs room.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

const READ_SIZE: usize = 16 * 1024;

pub struct InputBuffer {
    bytes: Vec<u8>,
    start: usize,
}

impl InputBuffer {
    pub fn new() -> Self {
        InputBuffer { bytes: Vec::with_capacity(READ_SIZE), start: 0 }
    }

    pub fn data(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.bytes.len()
    }

    pub fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.bytes.len());
        if self.start == self.bytes.len() {
            self.bytes.clear();
            self.start = 0;
        }
    }

    /// Reads once from `io`; `Ok(0)` is end of stream. Cancel-safe, for use in `select!`.
    pub async fn read_from<S: AsyncRead + Unpin>(&mut self, io: &mut S) -> io::Result<usize> {
        if self.bytes.capacity() - self.bytes.len() < READ_SIZE / 4 {
            self.bytes.drain(..self.start);
            self.start = 0;
            self.bytes.reserve(READ_SIZE);
        }
        io.read_buf(&mut self.bytes).await
    }
}
