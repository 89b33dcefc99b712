//! Incremental decoder of `Transfer-Encoding: chunked` request bodies (RFC 9112 §7.1).
//!
//! Bytes may arrive split anywhere, one at a time included, so the decoder keeps its place in a
//! state machine rather than re-parsing. Every line it reads is bounded, so a client cannot make
//! it wait forever on one line, and chunk data must end with exactly CRLF, so the end of the body
//! is never guessed.

use crate::chunk_error::ChunkError;

/// Largest chunk size accepted: 2^63-1, so sizes stay representable as a signed 64-bit count.
const MAX_CHUNK_SIZE: u64 = i64::MAX as u64;
/// Longest chunk-size line, extensions and CRLF included.
const MAX_SIZE_LINE: usize = 4096;
/// Longest trailer line, CRLF included.
const MAX_TRAILER_LINE: usize = 8192;
/// Largest trailer section, every line and the final CRLF included.
const MAX_TRAILER_SECTION: usize = 65536;

/// Decodes one chunked body at a time; [`rearm`](ChunkedDecoder::rearm) starts the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkedDecoder {
    state: State,
}

/// The result of one [`ChunkedDecoder::decode`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// Input bytes used. Less than the input when the body ended (the rest belongs to what
    /// follows it) or when `max` body bytes were produced.
    pub consumed: usize,
    /// The last chunk, the trailer section and its final CRLF have been consumed.
    pub done: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading framing one byte at a time.
    Framing(Framing),
    /// Inside chunk data, with `remaining` > 0 bytes to go.
    Data {
        remaining: u64,
    },
    Done,
    /// An error was found: every later call returns it again.
    Failed(ChunkError),
}

/// The places in the framing between chunk data. `line` counts the bytes of the current line
/// before its CR; `total` counts the complete trailer lines, CRLFs included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// Before the first hex digit of a chunk size.
    SizeStart,
    /// Inside the hex digits.
    Size { size: u64, line: usize },
    /// Whitespace after the digits; only `;` may follow it.
    SizeSpace { size: u64, line: usize },
    /// Inside chunk extensions, which are ignored whatever they hold.
    Extension { size: u64, line: usize },
    /// After the CR of the size line.
    SizeLf { size: u64 },
    /// After chunk data, expecting CR.
    DataCr,
    /// After chunk data and CR, expecting LF.
    DataLf,
    /// At the start of a trailer line, or of the final empty line.
    TrailerStart { total: usize },
    /// Inside a trailer field line.
    Trailer { line: usize, total: usize },
    /// After the CR of a trailer field line.
    TrailerLf { total: usize },
    /// After the CR of the final empty line.
    EndLf,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder::new()
    }
}

impl ChunkedDecoder {
    #[must_use]
    pub fn new() -> Self {
        ChunkedDecoder {
            state: State::Framing(Framing::SizeStart),
        }
    }

    /// Decodes from `input`, appending at most `max` body bytes to `out`. Returns how many input
    /// bytes were consumed and whether the body is complete (the last-chunk and the trailer
    /// section and final CRLF were consumed).
    ///
    /// Framing is consumed even once `max` bytes were produced, so the end of the body is seen as
    /// soon as it arrives; decoding stops only where more data would have to be produced. When it
    /// returns with `consumed == input.len()` and not `done`, the caller reads more.
    ///
    /// # Errors
    ///
    /// A [`ChunkError`] when the framing breaks a rule; the same error is returned by every later
    /// call, as the end of the body can no longer be found.
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<Decoded, ChunkError> {
        let mut pos = 0;
        let mut budget = max;
        loop {
            match self.state {
                State::Failed(err) => return Err(err),
                State::Done => break,
                _ if pos == input.len() => break,
                State::Data { remaining } => {
                    let available = input.len() - pos;
                    let n = usize::try_from(remaining)
                        .map_or(available, |r| r.min(available))
                        .min(budget);
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&input[pos..pos + n]);
                    pos += n;
                    budget -= n;
                    self.state = match remaining - n as u64 {
                        0 => State::Framing(Framing::DataCr),
                        remaining => State::Data { remaining },
                    };
                }
                State::Framing(framing) => {
                    self.state = step(framing, input[pos]).unwrap_or_else(State::Failed);
                    pos += 1;
                }
            }
        }
        Ok(Decoded {
            consumed: pos,
            done: self.is_done(),
        })
    }

    /// Whether the whole body, trailers included, has been consumed.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// After the body ended, start decoding a fresh chunked body (eventlet's multiple
    /// 100-continue). Also clears an error, so only call it where a new body really starts.
    pub fn rearm(&mut self) {
        *self = ChunkedDecoder::new();
    }
}

/// The state after framing byte `b`.
fn step(framing: Framing, b: u8) -> Result<State, ChunkError> {
    let next = match framing {
        Framing::SizeStart => {
            let digit = hex_value(b).ok_or(ChunkError::InvalidSizeLine)?;
            Framing::Size {
                size: digit,
                line: 1,
            }
        }
        Framing::Size { size, line } => match hex_value(b) {
            Some(digit) => {
                let size = size
                    .checked_mul(16)
                    .and_then(|s| s.checked_add(digit))
                    .filter(|&s| s <= MAX_CHUNK_SIZE)
                    .ok_or(ChunkError::SizeTooLarge)?;
                Framing::Size {
                    size,
                    line: size_line(line)?,
                }
            }
            None => after_size(size, line, b)?,
        },
        Framing::SizeSpace { size, line } => match b {
            b' ' | b'\t' => Framing::SizeSpace {
                size,
                line: size_line(line)?,
            },
            b';' => Framing::Extension {
                size,
                line: size_line(line)?,
            },
            _ => return Err(ChunkError::InvalidSizeLine),
        },
        Framing::Extension { size, line } => match b {
            b'\r' => Framing::SizeLf { size },
            b'\n' => return Err(ChunkError::InvalidSizeLine),
            _ => Framing::Extension {
                size,
                line: size_line(line)?,
            },
        },
        Framing::SizeLf { size } => match (b, size) {
            (b'\n', 0) => Framing::TrailerStart { total: 0 },
            (b'\n', remaining) => return Ok(State::Data { remaining }),
            _ => return Err(ChunkError::InvalidSizeLine),
        },
        Framing::DataCr if b == b'\r' => Framing::DataLf,
        Framing::DataLf if b == b'\n' => Framing::SizeStart,
        Framing::DataCr | Framing::DataLf => return Err(ChunkError::MissingDataCrlf),
        Framing::TrailerStart { total } => match b {
            b'\r' => Framing::EndLf,
            b'\n' => return Err(ChunkError::InvalidTrailerLine),
            _ => Framing::Trailer {
                line: trailer_line(0, total)?,
                total,
            },
        },
        Framing::Trailer { line, total } => match b {
            b'\r' => Framing::TrailerLf {
                total: total + line + 2,
            },
            b'\n' => return Err(ChunkError::InvalidTrailerLine),
            _ => Framing::Trailer {
                line: trailer_line(line, total)?,
                total,
            },
        },
        Framing::TrailerLf { total } if b == b'\n' => Framing::TrailerStart { total },
        Framing::EndLf if b == b'\n' => return Ok(State::Done),
        Framing::TrailerLf { .. } | Framing::EndLf => return Err(ChunkError::InvalidTrailerLine),
    };
    Ok(State::Framing(next))
}

/// The state after the first byte that is not a digit of the size. Whitespace is tolerated only
/// before `;` (RFC 9112 §7.1.1 BWS).
fn after_size(size: u64, line: usize, b: u8) -> Result<Framing, ChunkError> {
    match b {
        b' ' | b'\t' => Ok(Framing::SizeSpace {
            size,
            line: size_line(line)?,
        }),
        b';' => Ok(Framing::Extension {
            size,
            line: size_line(line)?,
        }),
        b'\r' => Ok(Framing::SizeLf { size }),
        _ => Err(ChunkError::InvalidSizeLine),
    }
}

/// The size line's length after one more byte, if the line, CRLF included, still fits.
fn size_line(line: usize) -> Result<usize, ChunkError> {
    let line = line + 1;
    if line + 2 > MAX_SIZE_LINE {
        return Err(ChunkError::SizeLineTooLong);
    }
    Ok(line)
}

/// The trailer line's length after one more byte, if both the line and the smallest section it
/// can end (this line and the final CRLF) still fit.
fn trailer_line(line: usize, total: usize) -> Result<usize, ChunkError> {
    let line = line + 1;
    if line + 2 > MAX_TRAILER_LINE {
        return Err(ChunkError::TrailerLineTooLong);
    }
    if total + line + 2 + 2 > MAX_TRAILER_SECTION {
        return Err(ChunkError::TrailerTooLarge);
    }
    Ok(line)
}

fn hex_value(b: u8) -> Option<u64> {
    char::from(b).to_digit(16).map(u64::from)
}

#[cfg(test)]
mod tests;
