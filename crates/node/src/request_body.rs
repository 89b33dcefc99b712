//! Reading one request's body out of the connection's input, in either framing.

use ferrowsgi_http::{BodyFraming, ChunkedDecoder};

use crate::input_buffer::InputBuffer;

pub enum RequestBody {
    Length { remaining: u64 },
    Chunked(ChunkedDecoder),
    /// The framing broke; every later read answers with this message.
    Failed(String),
}

/// What one `take` produced. `bytes` empty and `end` false: more input is needed.
pub struct Taken {
    pub bytes: Vec<u8>,
    pub end: bool,
}

impl RequestBody {
    pub fn new(framing: BodyFraming) -> Self {
        match framing {
            BodyFraming::None => RequestBody::Length { remaining: 0 },
            BodyFraming::Length(n) => RequestBody::Length { remaining: n },
            BodyFraming::Chunked => RequestBody::Chunked(ChunkedDecoder::new()),
        }
    }

    /// Takes up to `max` decoded body bytes from `input`.
    pub fn take(&mut self, input: &mut InputBuffer, max: usize) -> Result<Taken, String> {
        match self {
            RequestBody::Length { remaining } => {
                let n = (*remaining).min(input.data().len() as u64).min(max as u64) as usize;
                let bytes = input.data()[..n].to_vec();
                input.consume(n);
                *remaining -= n as u64;
                Ok(Taken { bytes, end: *remaining == 0 })
            }
            RequestBody::Chunked(decoder) => {
                let mut bytes = Vec::new();
                match decoder.decode(input.data(), &mut bytes, max) {
                    Ok(decoded) => {
                        input.consume(decoded.consumed);
                        Ok(Taken { bytes, end: decoded.done })
                    }
                    Err(err) => {
                        let message = format!("malformed chunked request body: {err}");
                        *self = RequestBody::Failed(message.clone());
                        Err(message)
                    }
                }
            }
            RequestBody::Failed(message) => Err(message.clone()),
        }
    }

    /// Drops decoded bytes from `input`; true once the whole body is gone.
    pub fn skip(&mut self, input: &mut InputBuffer) -> Result<bool, String> {
        if let RequestBody::Length { remaining } = self {
            let n = (*remaining).min(input.data().len() as u64);
            input.consume(n as usize);
            *remaining -= n;
            return Ok(*remaining == 0);
        }
        loop {
            let taken = self.take(input, usize::MAX)?;
            if taken.end {
                return Ok(true);
            }
            if taken.bytes.is_empty() {
                return Ok(false);
            }
        }
    }

    pub fn rearm(&mut self) {
        if let RequestBody::Chunked(decoder) = self {
            decoder.rearm();
        }
    }
}
