//! Why a chunked request body could not be decoded.

use std::fmt;

/// A broken `Transfer-Encoding: chunked` body. The body's end can no longer be found, so the
/// connection must close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkError {
    /// The chunk-size line is not hex digits, optional BWS and `;` extensions, then CRLF.
    InvalidSizeLine,
    /// The chunk size is above 2^63-1.
    SizeTooLarge,
    /// The chunk-size line, extensions and CRLF included, is over 4096 bytes.
    SizeLineTooLong,
    /// Chunk data not followed by exactly CRLF.
    MissingDataCrlf,
    /// A bare CR or LF in the trailer section.
    InvalidTrailerLine,
    /// A trailer line, CRLF included, is over 8192 bytes.
    TrailerLineTooLong,
    /// The trailer section, final CRLF included, is over 65536 bytes.
    TrailerTooLarge,
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChunkError::InvalidSizeLine => "invalid chunk size line",
            ChunkError::SizeTooLarge => "chunk size too large",
            ChunkError::SizeLineTooLong => "chunk size line too long (chunk extension too long)",
            ChunkError::MissingDataCrlf => "missing CRLF after chunk data",
            ChunkError::InvalidTrailerLine => "invalid line ending in trailer section",
            ChunkError::TrailerLineTooLong => "trailer line too long",
            ChunkError::TrailerTooLarge => "trailer section too large",
        })
    }
}

impl std::error::Error for ChunkError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_was_wrong() {
        let all = [
            (ChunkError::InvalidSizeLine, "invalid chunk size line"),
            (ChunkError::SizeTooLarge, "chunk size too large"),
            (
                ChunkError::SizeLineTooLong,
                "chunk size line too long (chunk extension too long)",
            ),
            (ChunkError::MissingDataCrlf, "missing CRLF after chunk data"),
            (
                ChunkError::InvalidTrailerLine,
                "invalid line ending in trailer section",
            ),
            (ChunkError::TrailerLineTooLong, "trailer line too long"),
            (ChunkError::TrailerTooLarge, "trailer section too large"),
        ];
        for (err, text) in all {
            assert_eq!(err.to_string(), text);
        }
    }
}
