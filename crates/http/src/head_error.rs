//! Why a request head was refused, and the exact bytes sent to the client before closing.

use std::fmt;

use crate::HttpDate;

/// The lines after the status line of every refusal: the connection closes, and no body follows.
const CLOSE_EMPTY: &[u8] = b"\r\nConnection: close\r\nContent-Length: 0\r\n";

/// A request head that breaks a rule. Every variant closes the connection after
/// [`response`](HeadError::response) is written: once framing is in doubt, nothing after it on
/// the connection can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadError {
    /// The request line, CRLF included, reached `Limits::request_line`.
    UriTooLong,
    /// A header line, CRLF included, reached `Limits::header_line`.
    HeaderLineTooLong,
    /// The header lines plus the final empty line exceed `Limits::headers_total`.
    HeadersTooLarge,
    /// `Limits::max_headers` header fields or more.
    TooManyHeaders,
    /// `HTTP/d.d` other than 1.0 and 1.1.
    UnsupportedVersion,
    /// The empty lines before the request line reached `Limits::request_line` bytes.
    TooManyEmptyLines,
    /// A line ended with LF alone.
    BareLf,
    /// A CR not followed by LF.
    BareCr,
    /// A header line starting with SP or HTAB (obsolete line folding).
    ObsFold,
    /// A header name that is empty or has a character outside `tchar`.
    HeaderNameNotToken,
    /// SP or HTAB between a header name and its colon.
    WhitespaceBeforeColon,
    /// A header line without a colon.
    MissingColon,
    /// A header value with NUL or another control character other than HTAB.
    InvalidHeaderValue,
    /// A request line that is not three parts separated by single spaces.
    MalformedRequestLine,
    /// A method that is not a token.
    MethodNotToken,
    /// A request target with a byte httparse refuses (controls, space, DEL) or invalid UTF-8.
    InvalidTarget,
    /// `METHOD target` without a version: an HTTP/0.9 request.
    MissingVersion,
    /// A version that is not `HTTP/` DIGIT `.` DIGIT.
    InvalidVersion,
    /// An HTTP/1.1 request without `Host`.
    MissingHost,
    /// More than one `Host` field.
    MultipleHost,
    /// A `Content-Length` element that is not 1*DIGIT.
    InvalidContentLength,
    /// A `Content-Length` that does not fit in 64 bits.
    ContentLengthTooLarge,
    /// `Content-Length` values that differ.
    ConflictingContentLength,
    /// Both `Content-Length` and `Transfer-Encoding`.
    ContentLengthWithTransferEncoding,
    /// A transfer coding list other than exactly one `chunked`.
    UnsupportedTransferCoding,
}

impl HeadError {
    /// The complete response to write before closing the connection, dated `date`.
    #[must_use]
    pub fn response(&self, date: &HttpDate) -> Vec<u8> {
        [
            self.status_line().as_bytes(),
            CLOSE_EMPTY,
            b"Date: ",
            date.as_bytes(),
            b"\r\n\r\n",
        ]
        .concat()
    }

    /// eventlet's status lines for its limits (HTTP/1.0 ones included), RFC 9112's for the rest.
    #[must_use]
    pub fn status_line(&self) -> &'static str {
        match self {
            HeadError::UriTooLong => "HTTP/1.0 414 Request URI Too Long",
            HeadError::HeaderLineTooLong => "HTTP/1.0 400 Header Line Too Long",
            HeadError::HeadersTooLarge => "HTTP/1.0 400 Headers Too Large",
            HeadError::TooManyHeaders => "HTTP/1.1 431 Request Header Fields Too Large",
            HeadError::UnsupportedVersion => "HTTP/1.1 505 HTTP Version Not Supported",
            _ => "HTTP/1.1 400 Bad Request",
        }
    }

    /// A short text for the log.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            HeadError::UriTooLong => "request line too long",
            HeadError::HeaderLineTooLong => "header line too long",
            HeadError::HeadersTooLarge => "header section too large",
            HeadError::TooManyHeaders => "too many header fields",
            HeadError::UnsupportedVersion => "unsupported HTTP version",
            HeadError::TooManyEmptyLines => "too many empty lines before the request line",
            HeadError::BareLf => "line ends with a bare LF",
            HeadError::BareCr => "bare CR in the request head",
            HeadError::ObsFold => "obsolete line folding in a header",
            HeadError::HeaderNameNotToken => "header name is not a token",
            HeadError::WhitespaceBeforeColon => "whitespace between header name and colon",
            HeadError::MissingColon => "header line without a colon",
            HeadError::InvalidHeaderValue => "control character in a header value",
            HeadError::MalformedRequestLine => "malformed request line",
            HeadError::MethodNotToken => "method is not a token",
            HeadError::InvalidTarget => "invalid request target",
            HeadError::MissingVersion => "request line without an HTTP version (HTTP/0.9)",
            HeadError::InvalidVersion => "malformed HTTP version",
            HeadError::MissingHost => "HTTP/1.1 request without Host",
            HeadError::MultipleHost => "more than one Host header",
            HeadError::InvalidContentLength => "Content-Length is not a decimal number",
            HeadError::ContentLengthTooLarge => "Content-Length too large",
            HeadError::ConflictingContentLength => "conflicting Content-Length values",
            HeadError::ContentLengthWithTransferEncoding => {
                "Content-Length together with Transfer-Encoding"
            }
            HeadError::UnsupportedTransferCoding => "transfer coding other than a single chunked",
        }
    }
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for HeadError {}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [HeadError; 25] = [
        HeadError::UriTooLong,
        HeadError::HeaderLineTooLong,
        HeadError::HeadersTooLarge,
        HeadError::TooManyHeaders,
        HeadError::UnsupportedVersion,
        HeadError::TooManyEmptyLines,
        HeadError::BareLf,
        HeadError::BareCr,
        HeadError::ObsFold,
        HeadError::HeaderNameNotToken,
        HeadError::WhitespaceBeforeColon,
        HeadError::MissingColon,
        HeadError::InvalidHeaderValue,
        HeadError::MalformedRequestLine,
        HeadError::MethodNotToken,
        HeadError::InvalidTarget,
        HeadError::MissingVersion,
        HeadError::InvalidVersion,
        HeadError::MissingHost,
        HeadError::MultipleHost,
        HeadError::InvalidContentLength,
        HeadError::ContentLengthTooLarge,
        HeadError::ConflictingContentLength,
        HeadError::ContentLengthWithTransferEncoding,
        HeadError::UnsupportedTransferCoding,
    ];

    /// RFC 9110's example date.
    fn date() -> HttpDate {
        HttpDate::from_unix_seconds(784_111_777)
    }

    fn response_text(err: HeadError) -> String {
        String::from_utf8(err.response(&date())).unwrap()
    }

    #[test]
    fn limit_errors_have_eventlet_status_lines() {
        let expected = [
            (HeadError::UriTooLong, "HTTP/1.0 414 Request URI Too Long"),
            (
                HeadError::HeaderLineTooLong,
                "HTTP/1.0 400 Header Line Too Long",
            ),
            (HeadError::HeadersTooLarge, "HTTP/1.0 400 Headers Too Large"),
            (
                HeadError::TooManyHeaders,
                "HTTP/1.1 431 Request Header Fields Too Large",
            ),
            (
                HeadError::UnsupportedVersion,
                "HTTP/1.1 505 HTTP Version Not Supported",
            ),
        ];
        for (err, status) in expected {
            assert_eq!(err.status_line(), status, "{err:?}");
        }
    }

    #[test]
    fn other_errors_answer_400_bad_request() {
        for err in &ALL[5..] {
            assert_eq!(err.status_line(), "HTTP/1.1 400 Bad Request", "{err:?}");
        }
    }

    #[test]
    fn every_response_closes_has_an_empty_body_and_is_dated() {
        for err in ALL {
            assert_eq!(
                response_text(err),
                format!(
                    "{}\r\nConnection: close\r\nContent-Length: 0\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
                    err.status_line()
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn reasons_are_distinct_and_display_them() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(!a.reason().is_empty());
            assert_eq!(a.to_string(), a.reason());
            for b in &ALL[i + 1..] {
                assert_ne!(a.reason(), b.reason(), "{a:?} and {b:?}");
            }
        }
        assert_eq!(
            HeadError::HeaderNameNotToken.reason(),
            "header name is not a token"
        );
    }
}
