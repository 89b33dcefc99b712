//! Reading one request's body out of the connection's input, in either framing.

use ferrowsgi_http::{BodyFraming, ChunkedDecoder};

use crate::input_buffer::InputBuffer;

pub enum RequestBody {
    Length {
        remaining: u64,
    },
    Chunked(ChunkedDecoder),
    /// The framing broke; every later read answers with this message.
    Failed(String),
}

impl RequestBody {
    pub fn new(framing: BodyFraming) -> Self {
        match framing {
            BodyFraming::None => RequestBody::Length { remaining: 0 },
            BodyFraming::Length(n) => RequestBody::Length { remaining: n },
            BodyFraming::Chunked => RequestBody::Chunked(ChunkedDecoder::new()),
        }
    }

    /// Moves up to `max` decoded body bytes from `input` to the end of `out`; true once the
    /// body is complete.
    pub fn take_into(
        &mut self,
        input: &mut InputBuffer,
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<bool, String> {
        match self {
            RequestBody::Length { remaining } => {
                let n = (*remaining).min(input.data().len() as u64).min(max as u64) as usize;
                out.extend_from_slice(&input.data()[..n]);
                input.consume(n);
                *remaining -= n as u64;
                Ok(*remaining == 0)
            }
            RequestBody::Chunked(decoder) => match decoder.decode(input.data(), out, max) {
                Ok(decoded) => {
                    input.consume(decoded.consumed);
                    Ok(decoded.done)
                }
                Err(err) => {
                    let message = format!("malformed chunked request body: {err}");
                    *self = RequestBody::Failed(message.clone());
                    Err(message)
                }
            },
            RequestBody::Failed(message) => Err(message.clone()),
        }
    }

    /// The whole body, when it is already in `input` and at most `max` bytes; otherwise `None`,
    /// and nothing is consumed (a body that JS reads in parts is better read in one piece).
    pub fn take_whole(&mut self, input: &mut InputBuffer, max: usize) -> Option<Vec<u8>> {
        let mut whole = Vec::new();
        match self {
            RequestBody::Length { remaining } => {
                let length = usize::try_from(*remaining)
                    .ok()
                    .filter(|&n| n <= max && n <= input.len())?;
                whole.extend_from_slice(&input.data()[..length]);
                input.consume(length);
                *remaining = 0;
            }
            RequestBody::Chunked(decoder) => {
                let mut trial = *decoder;
                let decoded = trial
                    .decode(input.data(), &mut whole, max)
                    .ok()
                    .filter(|decoded| decoded.done)?;
                input.consume(decoded.consumed);
                *decoder = trial;
            }
            RequestBody::Failed(_) => return None,
        }
        Some(whole)
    }

    /// Every byte of a body without chunked framing has been taken (a chunked body is never
    /// reported complete: that only costs it the dispatch of pipelined requests ahead).
    pub fn is_complete(&self) -> bool {
        matches!(self, RequestBody::Length { remaining: 0 })
    }

    /// Body bytes still expected, for a Content-Length body. Such bytes need no decoding, so
    /// they may be read from the socket straight to where JS will get them.
    pub fn remaining_length(&self) -> Option<u64> {
        match self {
            RequestBody::Length { remaining } => Some(*remaining),
            _ => None,
        }
    }

    /// `n` bytes of a Content-Length body were read past the input buffer.
    pub fn took_directly(&mut self, n: usize) {
        if let RequestBody::Length { remaining } = self {
            *remaining -= n as u64;
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
        let mut scratch = Vec::new();
        loop {
            scratch.clear();
            if self.take_into(input, &mut scratch, 64 * 1024)? {
                return Ok(true);
            }
            if scratch.is_empty() {
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
