//! Frames the body of one response as the JS side asked (`Framing`).
//!
//! It decides what goes around and how much of each body write reaches the wire; `Outgoing`
//! puts the pieces together, so that a large body is never copied to add a chunk size line.

use ferrowsgi_http::{chunk_size_line, ChunkSizeLine, CHUNK_END, LAST_CHUNK};

use crate::command::Framing;

pub struct ResponseWriter {
    framing: Framing,
    /// Body bytes put on the wire so far (framing excluded).
    sent: u64,
}

/// How one body write goes on the wire: `prefix`, the first `len` bytes of the body, `suffix`.
pub struct BodyFrame {
    pub prefix: Option<ChunkSizeLine>,
    pub len: usize,
    pub suffix: &'static [u8],
}

/// How the response ends: `trailer` is written last; `reusable` says whether the connection
/// can carry another request afterwards.
pub struct BodyEnd {
    pub trailer: &'static [u8],
    pub reusable: bool,
}

impl ResponseWriter {
    pub fn new(framing: Framing) -> Self {
        ResponseWriter { framing, sent: 0 }
    }

    pub fn frame(&mut self, body_len: usize) -> BodyFrame {
        let (prefix, len, suffix) = match self.framing {
            Framing::Length(length) => (
                None,
                length.saturating_sub(self.sent).min(body_len as u64) as usize,
                &[][..],
            ),
            Framing::Chunked if body_len > 0 => {
                (Some(chunk_size_line(body_len)), body_len, CHUNK_END)
            }
            Framing::Chunked | Framing::Bodiless => (None, 0, &[][..]),
            Framing::UntilClose => (None, body_len, &[][..]),
        };
        self.sent += len as u64;
        BodyFrame {
            prefix,
            len,
            suffix,
        }
    }

    pub fn end(&self) -> BodyEnd {
        match self.framing {
            Framing::Length(length) => BodyEnd {
                trailer: &[],
                reusable: self.sent == length,
            },
            Framing::Chunked => BodyEnd {
                trailer: LAST_CHUNK,
                reusable: true,
            },
            Framing::UntilClose => BodyEnd {
                trailer: &[],
                reusable: false,
            },
            Framing::Bodiless => BodyEnd {
                trailer: &[],
                reusable: true,
            },
        }
    }
}
