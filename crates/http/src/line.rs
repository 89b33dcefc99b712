//! Finding where a line of the request head ends. Only CRLF ends a line: a bare LF or a CR not
//! followed by LF is an error (RFC 9112 §2.2), never tolerated as httparse would.

use crate::head_error::HeadError;

/// The first line of some bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// The line's `content` bytes are followed by CRLF.
    Complete { content: usize },
    /// No line end has arrived yet after `content` bytes (a final lone CR is not counted).
    Partial { content: usize },
}

impl Line {
    /// Length of the line content (without CRLF) received so far.
    pub(crate) fn content(self) -> usize {
        match self {
            Line::Complete { content } | Line::Partial { content } => content,
        }
    }
}

/// Splits off the first line of `bytes`.
pub(crate) fn first_line(bytes: &[u8]) -> Result<Line, HeadError> {
    let Some(i) = bytes.iter().position(|&b| b == b'\r' || b == b'\n') else {
        return Ok(Line::Partial {
            content: bytes.len(),
        });
    };
    if bytes[i] == b'\n' {
        return Err(HeadError::BareLf);
    }
    match bytes.get(i + 1) {
        None => Ok(Line::Partial { content: i }),
        Some(b'\n') => Ok(Line::Complete { content: i }),
        Some(_) => Err(HeadError::BareCr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_completes_a_line() {
        assert_eq!(
            first_line(b"GET / HTTP/1.1\r\nrest"),
            Ok(Line::Complete { content: 14 })
        );
        assert_eq!(first_line(b"\r\n"), Ok(Line::Complete { content: 0 }));
    }

    #[test]
    fn no_line_end_is_partial() {
        assert_eq!(first_line(b""), Ok(Line::Partial { content: 0 }));
        assert_eq!(first_line(b"GET /"), Ok(Line::Partial { content: 5 }));
    }

    #[test]
    fn final_cr_is_partial_and_not_counted() {
        assert_eq!(first_line(b"GET /\r"), Ok(Line::Partial { content: 5 }));
        assert_eq!(first_line(b"\r"), Ok(Line::Partial { content: 0 }));
    }

    #[test]
    fn bare_lf_is_an_error() {
        assert_eq!(first_line(b"GET /\nHost: a\r\n"), Err(HeadError::BareLf));
        assert_eq!(first_line(b"\n"), Err(HeadError::BareLf));
    }

    #[test]
    fn bare_cr_is_an_error() {
        assert_eq!(first_line(b"GET /\rHost: a\r\n"), Err(HeadError::BareCr));
        assert_eq!(first_line(b"\r\r\n"), Err(HeadError::BareCr));
    }

    #[test]
    fn content_reports_both_kinds() {
        assert_eq!(Line::Complete { content: 3 }.content(), 3);
        assert_eq!(Line::Partial { content: 4 }.content(), 4);
    }
}
