//! One header field line: `field-name ":" OWS field-value OWS` (RFC 9112 §5).

use httparse::Header;

use crate::head_error::HeadError;
use crate::syntax::{is_forbidden_in_value, is_ows, token_str, trim_ows};

/// Parses a header line given without its CRLF. The caller refuses lines starting with SP/HTAB
/// (obs-fold) before they are complete, so they never reach here. The value is trimmed of OWS at
/// both ends.
pub(crate) fn parse_header_line(line: &[u8]) -> Result<Header<'_>, HeadError> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(HeadError::MissingColon)?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    let name = match token_str(name) {
        Some(name) => name,
        None if name.last().is_some_and(|&b| is_ows(b)) && token_str(trim_ows(name)).is_some() => {
            return Err(HeadError::WhitespaceBeforeColon)
        }
        None => return Err(HeadError::HeaderNameNotToken),
    };
    if value.iter().any(|&b| is_forbidden_in_value(b)) {
        return Err(HeadError::InvalidHeaderValue);
    }
    Ok(Header {
        name,
        value: trim_ows(value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[u8]) -> Result<(&str, &[u8]), HeadError> {
        parse_header_line(line).map(|h| (h.name, h.value))
    }

    #[test]
    fn splits_name_and_trimmed_value() {
        assert_eq!(
            parse(b"Host: example.com"),
            Ok(("Host", &b"example.com"[..]))
        );
        assert_eq!(parse(b"X-A:\t a b \t"), Ok(("X-A", &b"a b"[..])));
        assert_eq!(parse(b"X-A:b"), Ok(("X-A", &b"b"[..])));
    }

    #[test]
    fn empty_value_is_allowed() {
        assert_eq!(parse(b"X-Empty:"), Ok(("X-Empty", &b""[..])));
        assert_eq!(parse(b"X-Empty:  \t "), Ok(("X-Empty", &b""[..])));
    }

    #[test]
    fn colons_after_the_first_belong_to_the_value() {
        assert_eq!(parse(b"Host: a:80"), Ok(("Host", &b"a:80"[..])));
    }

    #[test]
    fn value_may_hold_obs_text_and_htab() {
        assert_eq!(parse(b"X: caf\xe9\ta"), Ok(("X", &b"caf\xe9\ta"[..])));
    }

    #[test]
    fn line_without_colon_is_refused() {
        assert_eq!(parse(b"Host example.com"), Err(HeadError::MissingColon));
        assert_eq!(parse(b"x"), Err(HeadError::MissingColon));
    }

    #[test]
    fn name_must_be_a_token() {
        for line in [
            &b": empty name"[..],
            b"X(y): 1",
            b"X y: 1",
            b"X\0: 1",
            b"caf\xe9: 1",
            b"X\x7f: 1",
            b"@: 1",
        ] {
            assert_eq!(parse(line), Err(HeadError::HeaderNameNotToken), "{line:?}");
        }
    }

    #[test]
    fn whitespace_before_colon_is_refused() {
        assert_eq!(parse(b"X-Sp : a"), Err(HeadError::WhitespaceBeforeColon));
        assert_eq!(parse(b"X-Sp\t: a"), Err(HeadError::WhitespaceBeforeColon));
        assert_eq!(parse(b"X-Sp \t : a"), Err(HeadError::WhitespaceBeforeColon));
    }

    #[test]
    fn controls_in_value_are_refused() {
        for line in [
            &b"X: a\0b"[..],
            b"X: \x01",
            b"X: a\x7f",
            b"X: a\x0bb",
            b"X: \x1f",
            b"X:\0",
        ] {
            assert_eq!(parse(line), Err(HeadError::InvalidHeaderValue), "{line:?}");
        }
    }
}
