//! Character classes of RFC 9110 §5.6 shared by the request line and the header fields.

/// `tchar`: the characters of a token (methods, field names, codings, connection options).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// `bytes` as a string when it is a token (non-empty, all `tchar`), which is always ASCII.
pub(crate) fn token_str(bytes: &[u8]) -> Option<&str> {
    if bytes.is_empty() || !bytes.iter().all(|&b| is_tchar(b)) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// SP or HTAB: optional whitespace (`OWS`).
pub(crate) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `bytes` without leading and trailing SP/HTAB.
pub(crate) fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_ows(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// A control character that may not appear in a field value: all of `CTL` except HTAB.
pub(crate) fn is_forbidden_in_value(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchar_accepts_alnum_and_listed_punctuation() {
        for b in b"azAZ09!#$%&'*+-.^_`|~" {
            assert!(is_tchar(*b), "{}", *b as char);
        }
    }

    #[test]
    fn tchar_rejects_delimiters_controls_and_non_ascii() {
        for b in b"\"(),/:;<=>?@[\\]{} \t\0\x7f\x80\xff" {
            assert!(!is_tchar(*b), "{:#x}", *b);
        }
    }

    #[test]
    fn token_str_requires_a_non_empty_token() {
        assert_eq!(token_str(b"GET"), Some("GET"));
        assert_eq!(token_str(b"X-Custom_1"), Some("X-Custom_1"));
        assert_eq!(token_str(b""), None);
        assert_eq!(token_str(b"G T"), None);
        assert_eq!(token_str(b"caf\xc3\xa9"), None);
    }

    #[test]
    fn trim_ows_strips_sp_and_htab_at_both_ends_only() {
        assert_eq!(trim_ows(b" \t a b \t "), b"a b");
        assert_eq!(trim_ows(b"ab"), b"ab");
        assert_eq!(trim_ows(b" \t "), b"");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b"\x0ba\x0b"), b"\x0ba\x0b");
    }

    #[test]
    fn forbidden_in_value_is_ctl_except_htab() {
        for b in (0u8..0x20).chain([0x7f]) {
            assert_eq!(is_forbidden_in_value(b), b != b'\t', "{b:#x}");
        }
        for b in (0x20u8..0x7f).chain(0x80..=0xff) {
            assert!(!is_forbidden_in_value(b), "{b:#x}");
        }
    }
}
