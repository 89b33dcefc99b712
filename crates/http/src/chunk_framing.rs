//! The framing of a chunked response body (RFC 9112 §7.1): a size line before each chunk, CRLF
//! after it, and the last chunk with an empty trailer section.

use std::ops::Deref;

/// The bytes that follow each chunk's data.
pub const CHUNK_END: &[u8] = b"\r\n";

/// The last chunk and the empty trailer section that end a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Two hex digits per byte of `usize`, then CRLF.
const CAPACITY: usize = 2 * std::mem::size_of::<usize>() + 2;

/// A chunk-size line, `{lowercase hex}\r\n`, held inline so framing a chunk never allocates.
/// Dereferences to its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkSizeLine {
    bytes: [u8; CAPACITY],
    start: usize,
}

impl Deref for ChunkSizeLine {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

impl AsRef<[u8]> for ChunkSizeLine {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

/// The size line for a chunk of `len` bytes. `len` 0 gives `0\r\n`, the start of the last
/// chunk, so callers skip empty chunks and end with [`LAST_CHUNK`].
#[must_use]
pub fn chunk_size_line(len: usize) -> ChunkSizeLine {
    let mut bytes = [0; CAPACITY];
    bytes[CAPACITY - 2..].copy_from_slice(b"\r\n");
    let mut start = CAPACITY - 2;
    let mut rest = len;
    loop {
        start -= 1;
        bytes[start] = b"0123456789abcdef"[rest % 16];
        rest /= 16;
        if rest == 0 {
            break;
        }
    }
    ChunkSizeLine { bytes, start }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_lines_are_lowercase_hex_and_crlf() {
        assert_eq!(&*chunk_size_line(0), b"0\r\n");
        assert_eq!(&*chunk_size_line(1), b"1\r\n");
        assert_eq!(&*chunk_size_line(10), b"a\r\n");
        assert_eq!(&*chunk_size_line(15), b"f\r\n");
        assert_eq!(&*chunk_size_line(16), b"10\r\n");
        assert_eq!(&*chunk_size_line(255), b"ff\r\n");
        assert_eq!(&*chunk_size_line(0xAB_CDEF), b"abcdef\r\n");
        assert_eq!(&*chunk_size_line(65536), b"10000\r\n");
    }

    #[test]
    fn largest_size_fits() {
        let expected = format!("{:x}\r\n", usize::MAX);
        assert_eq!(&*chunk_size_line(usize::MAX), expected.as_bytes());
    }

    #[test]
    fn matches_format_for_many_sizes() {
        for len in (0..5000).chain([1 << 20, (1 << 32) - 1, 123_456_789]) {
            assert_eq!(
                &*chunk_size_line(len),
                format!("{len:x}\r\n").as_bytes(),
                "{len}"
            );
        }
    }

    #[test]
    fn as_ref_equals_deref() {
        let line = chunk_size_line(300);
        assert_eq!(line.as_ref(), &*line);
    }

    #[test]
    fn constants_frame_a_body() {
        assert_eq!(CHUNK_END, b"\r\n");
        assert_eq!(LAST_CHUNK, b"0\r\n\r\n");
        let mut body = Vec::new();
        for chunk in [&b"hello"[..], b", world"] {
            body.extend_from_slice(&chunk_size_line(chunk.len()));
            body.extend_from_slice(chunk);
            body.extend_from_slice(CHUNK_END);
        }
        body.extend_from_slice(LAST_CHUNK);
        assert_eq!(body, b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
    }
}
