//! The request line: `method SP request-target SP HTTP-version` (RFC 9112 §3), single spaces only.

use crate::head_error::HeadError;
use crate::syntax::token_str;
use crate::version::{parse_version, Version};

/// A valid request line, borrowing the received bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestLine<'b> {
    pub(crate) method: &'b str,
    pub(crate) target: &'b str,
    pub(crate) version: Version,
}

/// Parses a request line given without its CRLF.
pub(crate) fn parse_request_line(line: &[u8]) -> Result<RequestLine<'_>, HeadError> {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(HeadError::MalformedRequestLine);
    };
    let version = parts.next();
    if parts.next().is_some() || [Some(method), Some(target), version].contains(&Some(&b""[..])) {
        return Err(HeadError::MalformedRequestLine);
    }
    let method = token_str(method).ok_or(HeadError::MethodNotToken)?;
    let target = target_str(target).ok_or(HeadError::InvalidTarget)?;
    let version = parse_version(version.ok_or(HeadError::MissingVersion)?)?;
    Ok(RequestLine {
        method,
        target,
        version,
    })
}

/// The target as a string when httparse would accept it: visible ASCII or bytes >= 0x80, forming
/// valid UTF-8.
fn target_str(bytes: &[u8]) -> Option<&str> {
    if !bytes
        .iter()
        .all(|&b| matches!(b, b'!'..=b'~' | 0x80..=0xff))
    {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<RequestLine<'_>, HeadError> {
        parse_request_line(line.as_bytes())
    }

    #[test]
    fn parses_method_target_and_version() {
        assert_eq!(
            parse("GET /a?b=c HTTP/1.1"),
            Ok(RequestLine {
                method: "GET",
                target: "/a?b=c",
                version: Version::Http11
            })
        );
        assert_eq!(
            parse("M-SEARCH * HTTP/1.0"),
            Ok(RequestLine {
                method: "M-SEARCH",
                target: "*",
                version: Version::Http10
            })
        );
    }

    #[test]
    fn accepts_the_target_forms_httparse_accepts() {
        for target in [
            "http://example.com:80/x",
            "example.com:443",
            "/%20{}|\\^`\"<>",
            "/caf\u{e9}",
        ] {
            let line = format!("GET {target} HTTP/1.1");
            assert_eq!(parse(&line).map(|l| l.target), Ok(target), "{target}");
        }
    }

    #[test]
    fn extra_or_missing_spaces_are_malformed() {
        for line in [
            "GET  / HTTP/1.1",
            "GET /  HTTP/1.1",
            " GET / HTTP/1.1",
            "GET / HTTP/1.1 ",
            "GET / extra HTTP/1.1",
            "GET",
            "",
            " ",
            "GET /x HTTP/1.1 x",
        ] {
            assert_eq!(
                parse(line),
                Err(HeadError::MalformedRequestLine),
                "{line:?}"
            );
        }
    }

    #[test]
    fn http_0_9_line_has_no_version() {
        assert_eq!(parse("GET /"), Err(HeadError::MissingVersion));
        assert_eq!(parse("POST /x"), Err(HeadError::MissingVersion));
    }

    #[test]
    fn method_must_be_a_token() {
        for line in [
            "G(T / HTTP/1.1",
            "GET\t/ HTTP/1.1",
            "G\0T / HTTP/1.1",
            "GÉT / HTTP/1.1",
            "GET: / HTTP/1.1",
        ] {
            assert_eq!(parse(line), Err(HeadError::MethodNotToken), "{line:?}");
        }
    }

    #[test]
    fn target_with_controls_or_bad_utf8_is_invalid() {
        for line in [
            &b"GET /\0 HTTP/1.1"[..],
            b"GET /\t HTTP/1.1",
            b"GET /\x7f HTTP/1.1",
            b"GET /\xff HTTP/1.1",
        ] {
            assert_eq!(
                parse_request_line(line),
                Err(HeadError::InvalidTarget),
                "{line:?}"
            );
        }
    }

    #[test]
    fn bad_version_text_is_invalid() {
        assert_eq!(parse("GET / HTTP/1.x"), Err(HeadError::InvalidVersion));
        assert_eq!(parse("GET / http/1.1"), Err(HeadError::InvalidVersion));
    }

    #[test]
    fn other_well_formed_versions_are_unsupported() {
        assert_eq!(parse("GET / HTTP/2.0"), Err(HeadError::UnsupportedVersion));
        assert_eq!(parse("GET / HTTP/0.9"), Err(HeadError::UnsupportedVersion));
    }
}
