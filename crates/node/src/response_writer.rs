//! Frames the body of one response as the JS side asked (`Framing`) into an output buffer.

use ferrowsgi_http::{chunk_size_line, CHUNK_END, LAST_CHUNK};

use crate::command::Framing;

pub struct ResponseWriter {
    framing: Framing,
    /// Body bytes put on the wire so far (framing excluded).
    sent: u64,
}

impl ResponseWriter {
    pub fn new(framing: Framing) -> Self {
        ResponseWriter { framing, sent: 0 }
    }

    pub fn body(&mut self, body: &[u8], out: &mut Vec<u8>) {
        match self.framing {
            Framing::Length(length) => {
                let room = length.saturating_sub(self.sent).min(body.len() as u64) as usize;
                out.extend_from_slice(&body[..room]);
                self.sent += room as u64;
            }
            Framing::Chunked if !body.is_empty() => {
                out.extend_from_slice(&chunk_size_line(body.len()));
                out.extend_from_slice(body);
                out.extend_from_slice(CHUNK_END);
                self.sent += body.len() as u64;
            }
            Framing::Chunked | Framing::Bodiless => {}
            Framing::UntilClose => {
                out.extend_from_slice(body);
                self.sent += body.len() as u64;
            }
        }
    }

    /// Ends the body; returns whether the connection can carry another request afterwards.
    pub fn end(&mut self, out: &mut Vec<u8>) -> bool {
        match self.framing {
            Framing::Length(length) => self.sent == length,
            Framing::Chunked => {
                out.extend_from_slice(LAST_CHUNK);
                true
            }
            Framing::UntilClose => false,
            Framing::Bodiless => true,
        }
    }
}
