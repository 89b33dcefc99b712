//! `Transfer-Encoding` (RFC 9112 §6.1). Only `chunked` alone is decoded: any other list (codings
//! we cannot undo, `chunked` twice, `identity`) is refused rather than guessed at.

use httparse::Header;

use crate::head_error::HeadError;
use crate::list::{elements, values};

/// Whether `Transfer-Encoding` is present: `Ok(true)` when the codings of all its fields together
/// are exactly one `chunked` (case-insensitive), `Ok(false)` when there is no such field.
pub(crate) fn is_chunked(headers: &[Header<'_>]) -> Result<bool, HeadError> {
    let mut codings = values(headers, "transfer-encoding").flat_map(elements);
    match (codings.next(), codings.next()) {
        (None, _) => Ok(false),
        (Some(coding), None) if coding.eq_ignore_ascii_case(b"chunked") => Ok(true),
        _ => Err(HeadError::UnsupportedTransferCoding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn te(values: &[&'static str]) -> Result<bool, HeadError> {
        let headers: Vec<Header<'static>> = values
            .iter()
            .map(|v| Header {
                name: "Transfer-Encoding",
                value: v.as_bytes(),
            })
            .collect();
        is_chunked(&headers)
    }

    #[test]
    fn absent_is_not_chunked() {
        assert_eq!(te(&[]), Ok(false));
    }

    #[test]
    fn single_chunked_in_any_case() {
        assert_eq!(te(&["chunked"]), Ok(true));
        assert_eq!(te(&["Chunked"]), Ok(true));
        assert_eq!(te(&["CHUNKED"]), Ok(true));
        assert_eq!(
            is_chunked(&[Header {
                name: "transfer-ENCODING",
                value: b"chunked"
            }]),
            Ok(true)
        );
    }

    #[test]
    fn other_codings_are_refused() {
        for v in [
            "gzip",
            "identity",
            "chunked;q=1",
            "chunkedx",
            "",
            "x-chunked",
        ] {
            assert_eq!(te(&[v]), Err(HeadError::UnsupportedTransferCoding), "{v:?}");
        }
    }

    #[test]
    fn lists_other_than_one_chunked_are_refused() {
        for v in [
            "gzip, chunked",
            "chunked, chunked",
            "chunked, gzip",
            "chunked,",
            ",chunked",
            "identity, chunked",
        ] {
            assert_eq!(te(&[v]), Err(HeadError::UnsupportedTransferCoding), "{v:?}");
        }
    }

    #[test]
    fn repeated_fields_count_together() {
        assert_eq!(
            te(&["chunked", "chunked"]),
            Err(HeadError::UnsupportedTransferCoding)
        );
        assert_eq!(
            te(&["gzip", "chunked"]),
            Err(HeadError::UnsupportedTransferCoding)
        );
        assert_eq!(
            te(&["chunked", ""]),
            Err(HeadError::UnsupportedTransferCoding)
        );
    }
}
