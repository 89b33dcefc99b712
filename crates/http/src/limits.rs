//! Bounds on the request head, so a client can never make the server buffer without limit.

/// How many header fields the caller's storage holds. The field-count limit is clamped to this,
/// so a head that fits the limit always fits the storage.
pub const MAX_HEADERS: usize = 100;

/// Size limits of a request head. Each is checked on partial input as well, as soon as the bytes
/// received prove the head breaks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A request line whose length, CRLF included, reaches this is refused with 414. Also bounds
    /// the empty lines allowed before the request line.
    pub request_line: usize,
    /// A header line whose length, CRLF included, reaches this is refused with 400.
    pub header_line: usize,
    /// The header lines plus the final empty line (the request line is not counted) may take at
    /// most this many bytes; one more is refused with 400.
    pub headers_total: usize,
    /// A head with this many header fields or more is refused with 431. Values above
    /// [`MAX_HEADERS`] act as [`MAX_HEADERS`].
    pub max_headers: usize,
}

impl Default for Limits {
    /// eventlet's limits: 8191-byte lines pass, 8192 do not; 64 KiB of headers; 99 fields.
    fn default() -> Self {
        Limits {
            request_line: 8192,
            header_line: 8192,
            headers_total: 65536,
            max_headers: MAX_HEADERS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_match_eventlet() {
        let limits = Limits::default();
        assert_eq!(limits.request_line, 8192);
        assert_eq!(limits.header_line, 8192);
        assert_eq!(limits.headers_total, 65536);
        assert_eq!(limits.max_headers, 100);
        assert_eq!(MAX_HEADERS, 100);
    }
}
