//! The bytes of one response step, framed, on their way to the socket.
//!
//! Small pieces are gathered in one buffer; a large body stays where JS put it and goes out
//! beside that buffer with vectored writes. `written` tracks a partial write, so whoever writes
//! the rest (the JS thread or the connection task) continues where the other stopped.

use std::io::IoSlice;

use crate::command::BodyBytes;
use crate::response_writer::ResponseWriter;

/// Bodies up to this size are copied next to the head and written in one piece.
const COPY_MAX: usize = 16 * 1024;

pub struct Outgoing {
    front: Vec<u8>,
    body: Option<BodyBytes>,
    /// How much of `body` goes on the wire (a Content-Length can cut it short).
    body_len: usize,
    back: [&'static [u8]; 2],
    written: usize,
}

impl Outgoing {
    /// Raw bytes, such as an interim response.
    pub fn raw(bytes: Vec<u8>) -> Self {
        Outgoing {
            front: bytes,
            body: None,
            body_len: 0,
            back: [&[], &[]],
            written: 0,
        }
    }

    /// `head` (if any) and `body`, framed by `writer`; with `end`, the framing's trailer too.
    pub fn framed(head: Vec<u8>, body: BodyBytes, writer: &mut ResponseWriter, end: bool) -> Self {
        let frame = writer.frame(body.len());
        let trailer = if end { writer.end().trailer } else { &[] };
        let mut front = head;
        if let Some(prefix) = &frame.prefix {
            front.extend_from_slice(prefix);
        }
        if frame.len <= COPY_MAX {
            front.extend_from_slice(&body[..frame.len]);
            front.extend_from_slice(frame.suffix);
            front.extend_from_slice(trailer);
            return Outgoing {
                front,
                body: None,
                body_len: 0,
                back: [&[], &[]],
                written: 0,
            };
        }
        Outgoing {
            front,
            body: Some(body),
            body_len: frame.len,
            back: [frame.suffix, trailer],
            written: 0,
        }
    }

    /// All the bytes, taken out, when they are in one piece and none is written yet.
    pub fn take_contiguous(&mut self) -> Option<Vec<u8>> {
        let contiguous = self.body.is_none()
            && self.back.iter().all(|part| part.is_empty())
            && self.written == 0;
        contiguous.then(|| std::mem::take(&mut self.front))
    }

    pub fn remaining(&self) -> usize {
        self.front.len() + self.body_len + self.back[0].len() + self.back[1].len() - self.written
    }

    pub fn is_done(&self) -> bool {
        self.remaining() == 0
    }

    pub fn advance(&mut self, n: usize) {
        self.written += n;
    }

    /// What is left to write, as slices for a vectored write.
    pub fn slices(&self) -> [IoSlice<'_>; 4] {
        let body = self
            .body
            .as_deref()
            .map_or(&[][..], |body| &body[..self.body_len]);
        // Written parts become empty slices, which a vectored write passes over: no allocation
        // on the per-response path.
        let mut skip = self.written;
        [&self.front[..], body, self.back[0], self.back[1]].map(|part| {
            let from = skip.min(part.len());
            skip -= from;
            IoSlice::new(&part[from..])
        })
    }
}
