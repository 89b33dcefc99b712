//! The request head: request line, header fields and the empty line that ends them
//! (RFC 9112 §2-§6), parsed without allocating and with every limit enforced on partial input.

use httparse::Header;

use crate::body_framing::{body_framing, BodyFraming};
use crate::head_error::HeadError;
use crate::header_line::parse_header_line;
use crate::limits::{Limits, MAX_HEADERS};
use crate::line::{first_line, Line};
use crate::list::{has_token, values};
use crate::request_line::parse_request_line;
use crate::syntax::is_ows;
use crate::version::Version;

/// The outcome of parsing the bytes received so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed<'b, 'h> {
    /// No complete head yet, and nothing received so far breaks a rule: read more.
    Partial,
    Complete(RequestHead<'b, 'h>),
}

/// A valid request head, borrowing the received bytes (`'b`) and the caller's header storage
/// (`'h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHead<'b, 'h> {
    pub method: &'b str,
    /// The request target as received.
    pub target: &'b str,
    pub version: Version,
    /// The header fields in arrival order, values trimmed of SP/HTAB at both ends.
    pub headers: &'h [Header<'b>],
    /// Bytes of the buffer the head takes: leading empty lines, request line, header lines and
    /// the final empty line. The body, or the next request, starts here.
    pub len: usize,
    pub framing: BodyFraming,
    /// The `Connection` lists contain `close` (case-insensitive).
    pub connection_close: bool,
    /// The `Connection` lists contain `keep-alive` (case-insensitive).
    pub connection_keep_alive: bool,
    /// HTTP/1.1 with `Expect: 100-continue` (case-insensitive). Always false on HTTP/1.0, which
    /// has no interim responses (RFC 9110 §10.1.1).
    pub expect_continue: bool,
}

/// Parses the request head at the start of `buf`, filling `storage` with its header fields.
///
/// Returns [`Parsed::Partial`] until the empty line after the headers has arrived, unless the
/// bytes so far already break a rule: limits are checked on incomplete lines too, so a client
/// cannot make the caller buffer more than the limits allow. Each call parses from the start of
/// `buf`; the caller consumes [`RequestHead::len`] bytes once the head is complete.
///
/// # Errors
///
/// A [`HeadError`] as soon as the bytes received break a rule; write its
/// [`response`](HeadError::response) and close the connection.
pub fn parse_request_head<'b, 'h>(
    buf: &'b [u8],
    limits: &Limits,
    storage: &'h mut [Header<'b>; MAX_HEADERS],
) -> Result<Parsed<'b, 'h>, HeadError> {
    let Some(start) = skip_empty_lines(buf, limits)? else {
        return Ok(Parsed::Partial);
    };
    let rest = &buf[start..];
    let line = first_line(rest)?;
    if line.content() + 2 >= limits.request_line {
        return Err(HeadError::UriTooLong);
    }
    let Line::Complete { content } = line else {
        return Ok(Parsed::Partial);
    };
    let request_line = parse_request_line(&rest[..content])?;
    let mut pos = start + content + 2;

    let max_headers = limits.max_headers.min(MAX_HEADERS);
    let mut count = 0;
    // Bytes of the complete header lines so far, CRLFs included.
    let mut total = 0;
    loop {
        let rest = &buf[pos..];
        if rest.first().is_some_and(|&b| is_ows(b)) {
            return Err(HeadError::ObsFold);
        }
        let line = first_line(rest)?;
        // The smallest the header section can end up: what has arrived plus the final CRLF.
        let line_len = match line.content() {
            0 => 0,
            content => content + 2,
        };
        if line_len > 0 && line_len >= limits.header_line {
            return Err(HeadError::HeaderLineTooLong);
        }
        if total + line_len + 2 > limits.headers_total {
            return Err(HeadError::HeadersTooLarge);
        }
        match line {
            Line::Partial { .. } => return Ok(Parsed::Partial),
            Line::Complete { content: 0 } => {
                pos += 2;
                break;
            }
            Line::Complete { content } => {
                if count + 1 >= max_headers {
                    return Err(HeadError::TooManyHeaders);
                }
                storage[count] = parse_header_line(&rest[..content])?;
                count += 1;
                total += line_len;
                pos += line_len;
            }
        }
    }

    let storage: &'h [Header<'b>; MAX_HEADERS] = storage;
    let headers = &storage[..count];
    let version = request_line.version;
    match values(headers, "host").count() {
        0 if version == Version::Http11 => return Err(HeadError::MissingHost),
        0 | 1 => {}
        _ => return Err(HeadError::MultipleHost),
    }
    Ok(Parsed::Complete(RequestHead {
        method: request_line.method,
        target: request_line.target,
        version,
        headers,
        len: pos,
        framing: body_framing(headers)?,
        connection_close: has_token(headers, "connection", "close"),
        connection_keep_alive: has_token(headers, "connection", "keep-alive"),
        expect_continue: version == Version::Http11
            && values(headers, "expect").any(|v| v.eq_ignore_ascii_case(b"100-continue")),
    }))
}

/// Whether `buf` holds a complete request line, after any empty lines before it. Until then a
/// connection is idle, as eventlet's `STATE_IDLE`: a graceful shutdown may close it rather than
/// wait for the rest of a head that has hardly begun (one byte must not hold a shutdown).
#[must_use]
pub fn request_line_received(buf: &[u8]) -> bool {
    let mut rest = buf;
    loop {
        match first_line(rest) {
            Ok(Line::Complete { content: 0 }) => rest = &rest[2..],
            Ok(Line::Complete { .. }) => return true,
            Ok(Line::Partial { .. }) | Err(_) => return false,
        }
    }
}

/// Skips the empty lines a client may send before the request line (RFC 9112 §2.2). Returns
/// where the request line starts, or `None` while only empty lines (or a part of one) arrived.
/// Their bytes are bounded by the request-line limit, so they cannot be used to fill memory.
fn skip_empty_lines(buf: &[u8], limits: &Limits) -> Result<Option<usize>, HeadError> {
    let mut pos = 0;
    loop {
        match first_line(&buf[pos..])? {
            Line::Complete { content: 0 } => pos += 2,
            Line::Partial { content: 0 } => return Ok(None),
            _ => return Ok(Some(pos)),
        }
        if pos >= limits.request_line {
            return Err(HeadError::TooManyEmptyLines);
        }
    }
}

#[cfg(test)]
mod tests;
