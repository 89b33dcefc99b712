//! Comma-separated field values (RFC 9110 §5.6.1), read across repeated fields.

use httparse::Header;

use crate::syntax::trim_ows;

/// The elements of one list value, each trimmed of OWS. Empty elements are kept: codings and
/// lengths refuse them, option lists skip them.
pub(crate) fn elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(trim_ows)
}

/// The values of every field called `name` (case-insensitive), in arrival order.
pub(crate) fn values<'h, 'b>(
    headers: &'h [Header<'b>],
    name: &'static str,
) -> impl Iterator<Item = &'b [u8]> + 'h {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// Whether the lists of the fields called `name` contain `token`, case-insensitively.
pub(crate) fn has_token(headers: &[Header<'_>], name: &'static str, token: &str) -> bool {
    values(headers, name)
        .flat_map(elements)
        .any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<'a>(name: &'a str, value: &'a str) -> Header<'a> {
        Header {
            name,
            value: value.as_bytes(),
        }
    }

    #[test]
    fn elements_split_on_commas_and_trim() {
        let got: Vec<&[u8]> = elements(b" a ,b,\tc\t").collect();
        assert_eq!(got, [&b"a"[..], b"b", b"c"]);
    }

    #[test]
    fn elements_keep_empty_ones() {
        let got: Vec<&[u8]> = elements(b"a,, b,").collect();
        assert_eq!(got, [&b"a"[..], b"", b"b", b""]);
        assert_eq!(elements(b"").collect::<Vec<_>>(), [&b""[..]]);
    }

    #[test]
    fn values_match_names_case_insensitively_in_order() {
        let headers = [h("Host", "a"), h("X", "1"), h("x", "2"), h("HOST", "b")];
        let got: Vec<&[u8]> = values(&headers, "x").collect();
        assert_eq!(got, [&b"1"[..], b"2"]);
        assert_eq!(values(&headers, "none").count(), 0);
    }

    #[test]
    fn has_token_reads_lists_across_repeated_fields() {
        let headers = [
            h("Connection", "foo, Keep-Alive"),
            h("connection", "x,CLOSE"),
        ];
        assert!(has_token(&headers, "connection", "close"));
        assert!(has_token(&headers, "connection", "keep-alive"));
        assert!(!has_token(&headers, "connection", "upgrade"));
        assert!(!has_token(&headers, "connection", "clos"));
        assert!(!has_token(
            &[h("Connection", "closed")],
            "connection",
            "close"
        ));
        assert!(!has_token(
            &[h("X-Connection", "close")],
            "connection",
            "close"
        ));
    }
}
