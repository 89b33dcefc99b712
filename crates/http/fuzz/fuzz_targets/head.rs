//! Request heads from arbitrary bytes, under eventlet's limits and under small ones that every
//! input can reach. Beyond "never panics", it checks what the server relies on:
//! - a complete head lies inside the input, ends with CRLF CRLF, and parses the same without the
//!   bytes after it (so a pipelined request cannot change how this one reads);
//! - no prefix of a complete head is already complete or refused (the server never answers a head
//!   before it has arrived whole, and never refuses one that would have been valid);
//! - a prefix of any input is never complete unless the whole input is, at the same length;
//! - "read more" is only ever the answer for a bounded number of bytes (no unbounded buffering);
//! - what a complete head holds obeys the rules the parser promises (tokens, no CR/LF/NUL in
//!   values, fewer fields than the limit, Host on HTTP/1.1, one framing).
#![no_main]

use ferrowsgi_http::{
    parse_request_head, BodyFraming, HeadError, HttpDate, Limits, Parsed, RequestHead, Version,
    EMPTY_HEADER, MAX_HEADERS,
};
use libfuzzer_sys::fuzz_target;

/// Limits small enough for random inputs to hit every size check, one of them degenerate.
const SMALL: Limits = Limits { request_line: 64, header_line: 32, headers_total: 256, max_headers: 5 };
const TINY: Limits = Limits { request_line: 3, header_line: 2, headers_total: 1, max_headers: 0 };

/// An owned copy of a head, so results of different parses can be compared.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    method: String,
    target: String,
    version: Version,
    headers: Vec<(String, Vec<u8>)>,
    len: usize,
    framing: BodyFraming,
    connection_close: bool,
    connection_keep_alive: bool,
    expect_continue: bool,
}

impl Head {
    fn of(head: &RequestHead<'_, '_>) -> Head {
        Head {
            method: head.method.to_owned(),
            target: head.target.to_owned(),
            version: head.version,
            headers: head.headers.iter().map(|h| (h.name.to_owned(), h.value.to_owned())).collect(),
            len: head.len,
            framing: head.framing,
            connection_close: head.connection_close,
            connection_keep_alive: head.connection_keep_alive,
            expect_continue: head.expect_continue,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Partial,
    Complete(Head),
    Refused(HeadError),
}

fn parse(buf: &[u8], limits: &Limits) -> Outcome {
    let mut storage = [EMPTY_HEADER; MAX_HEADERS];
    match parse_request_head(buf, limits, &mut storage) {
        Ok(Parsed::Partial) => Outcome::Partial,
        Ok(Parsed::Complete(head)) => Outcome::Complete(Head::of(&head)),
        Err(err) => Outcome::Refused(err),
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn check_head(buf: &[u8], head: &Head, limits: &Limits) {
    assert!(head.len <= buf.len(), "head of {} bytes in {} bytes of input", head.len, buf.len());
    assert!(buf[..head.len].ends_with(b"\r\n\r\n"), "a complete head must end with CRLF CRLF");
    assert!(!head.method.is_empty() && head.method.bytes().all(is_tchar), "method {:?}", head.method);
    assert!(!head.target.is_empty(), "empty target");
    assert!(!head.target.bytes().any(|b| b <= b' ' || b == 0x7f), "target {:?}", head.target);
    assert!(head.headers.len() < limits.max_headers.min(MAX_HEADERS), "{} fields", head.headers.len());
    for (name, value) in &head.headers {
        assert!(!name.is_empty() && name.bytes().all(is_tchar), "header name {name:?}");
        assert!(!value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0), "header value {value:?}");
        assert!(value.first().map_or(true, |&b| b != b' ' && b != b'\t'), "untrimmed value {value:?}");
        assert!(value.last().map_or(true, |&b| b != b' ' && b != b'\t'), "untrimmed value {value:?}");
    }
    let count = |wanted: &str| head.headers.iter().filter(|(name, _)| name.eq_ignore_ascii_case(wanted)).count();
    if head.version == Version::Http11 {
        assert_eq!(count("host"), 1, "HTTP/1.1 needs exactly one Host");
    }
    assert!(count("content-length") == 0 || count("transfer-encoding") == 0, "CL with TE accepted");
    match head.framing {
        BodyFraming::None => assert_eq!(count("transfer-encoding"), 0),
        BodyFraming::Length(_) => assert!(count("content-length") > 0),
        BodyFraming::Chunked => assert!(count("transfer-encoding") > 0),
    }
    if head.expect_continue {
        assert_eq!(head.version, Version::Http11, "no 100-continue on HTTP/1.0");
    }
}

/// Bytes a head may take while still incomplete: the empty lines before the request line and the
/// request line are each below `request_line`, the header section at most `headers_total`.
fn partial_bound(limits: &Limits) -> usize {
    2 * limits.request_line + limits.headers_total + 4
}

fn check(buf: &[u8], limits: &Limits) {
    let whole = parse(buf, limits);
    match &whole {
        Outcome::Complete(head) => {
            check_head(buf, head, limits);
            assert_eq!(parse(&buf[..head.len], limits), whole, "bytes after the head changed it");
            for cut in [head.len - 1, head.len / 2, head.len.min(1)] {
                if cut < head.len {
                    assert_eq!(parse(&buf[..cut], limits), Outcome::Partial, "a prefix of {cut} bytes was decided");
                }
            }
        }
        Outcome::Partial => {
            assert!(buf.len() <= partial_bound(limits), "{} bytes still 'partial'", buf.len());
            for cut in [buf.len() / 2, buf.len().saturating_sub(1)] {
                assert_eq!(parse(&buf[..cut], limits), Outcome::Partial, "a prefix of partial input was decided");
            }
        }
        Outcome::Refused(err) => {
            let response = err.response(&HttpDate::from_unix_seconds(0));
            assert!(response.starts_with(b"HTTP/1."), "{err:?}");
            assert!(response.ends_with(b"\r\nConnection: close\r\nContent-Length: 0\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n"), "{err:?}");
            for cut in [buf.len() / 2, buf.len().saturating_sub(1)] {
                assert!(!matches!(parse(&buf[..cut], limits), Outcome::Complete(_)), "a prefix of refused input was complete");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data, &Limits::default());
    check(data, &SMALL);
    check(data, &TINY);
});
