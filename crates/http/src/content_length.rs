//! `Content-Length` (RFC 9110 §8.6, RFC 9112 §6.3): strictly 1*DIGIT, so no two parsers along the
//! way can read a different length (request smuggling).

use httparse::Header;

use crate::head_error::HeadError;
use crate::list::{elements, values};

/// The body length declared by the `Content-Length` fields, if any. Repeated fields and the list
/// form `5, 5` are accepted when every element is the same number; empty elements are not.
pub(crate) fn content_length(headers: &[Header<'_>]) -> Result<Option<u64>, HeadError> {
    let mut length = None;
    for element in values(headers, "content-length").flat_map(elements) {
        let n = parse_decimal(element)?;
        if length.is_some_and(|first| first != n) {
            return Err(HeadError::ConflictingContentLength);
        }
        length = Some(n);
    }
    Ok(length)
}

/// 1*DIGIT as a u64: no sign, no separators, no spaces.
fn parse_decimal(digits: &[u8]) -> Result<u64, HeadError> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(HeadError::InvalidContentLength);
    }
    digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or(HeadError::ContentLengthTooLarge)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cl(values: &[&'static str]) -> Result<Option<u64>, HeadError> {
        let headers: Vec<Header<'static>> = values
            .iter()
            .map(|v| Header {
                name: "Content-Length",
                value: v.as_bytes(),
            })
            .collect();
        content_length(&headers)
    }

    #[test]
    fn absent_is_none() {
        assert_eq!(cl(&[]), Ok(None));
        assert_eq!(
            content_length(&[Header {
                name: "X-Content-Length",
                value: b"5"
            }]),
            Ok(None)
        );
    }

    #[test]
    fn plain_decimal_is_read() {
        assert_eq!(cl(&["0"]), Ok(Some(0)));
        assert_eq!(cl(&["5"]), Ok(Some(5)));
        assert_eq!(cl(&["007"]), Ok(Some(7)));
        assert_eq!(cl(&["18446744073709551615"]), Ok(Some(u64::MAX)));
    }

    #[test]
    fn name_is_case_insensitive() {
        assert_eq!(
            content_length(&[Header {
                name: "content-LENGTH",
                value: b"3"
            }]),
            Ok(Some(3))
        );
    }

    #[test]
    fn not_1_digit_is_invalid() {
        for v in [
            "", "+5", "-5", "1 0", "1_0", "0x10", "a", "5.0", "١", "5;", "1e3",
        ] {
            assert_eq!(cl(&[v]), Err(HeadError::InvalidContentLength), "{v:?}");
        }
    }

    #[test]
    fn overflowing_u64_is_too_large() {
        assert_eq!(
            cl(&["18446744073709551616"]),
            Err(HeadError::ContentLengthTooLarge)
        );
        assert_eq!(
            cl(&["99999999999999999999999"]),
            Err(HeadError::ContentLengthTooLarge)
        );
    }

    #[test]
    fn equal_duplicates_are_accepted() {
        assert_eq!(cl(&["5", "5"]), Ok(Some(5)));
        assert_eq!(cl(&["5, 5"]), Ok(Some(5)));
        assert_eq!(cl(&["5,5", "05"]), Ok(Some(5)));
    }

    #[test]
    fn differing_values_conflict() {
        assert_eq!(cl(&["5", "6"]), Err(HeadError::ConflictingContentLength));
        assert_eq!(cl(&["5, 6"]), Err(HeadError::ConflictingContentLength));
        assert_eq!(cl(&["0", "5"]), Err(HeadError::ConflictingContentLength));
    }

    #[test]
    fn empty_list_elements_are_invalid() {
        assert_eq!(cl(&["5,"]), Err(HeadError::InvalidContentLength));
        assert_eq!(cl(&["5,,5"]), Err(HeadError::InvalidContentLength));
        assert_eq!(cl(&["5", ""]), Err(HeadError::InvalidContentLength));
    }
}
