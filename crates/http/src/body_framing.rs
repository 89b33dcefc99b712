//! How the request body is delimited (RFC 9112 §6.3).

use httparse::Header;

use crate::content_length::content_length;
use crate::head_error::HeadError;
use crate::transfer_encoding::is_chunked;

/// The framing of a request body. A request with neither `Content-Length` nor
/// `Transfer-Encoding` has no body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
}

/// Reads the framing from the header fields. Both fields together are refused whatever their
/// values, since two parsers may each honour a different one (request smuggling). HTTP/1.0 with
/// `Transfer-Encoding: chunked` is honoured, as eventlet does.
pub(crate) fn body_framing(headers: &[Header<'_>]) -> Result<BodyFraming, HeadError> {
    let has = |name: &str| headers.iter().any(|h| h.name.eq_ignore_ascii_case(name));
    if has("content-length") && has("transfer-encoding") {
        return Err(HeadError::ContentLengthWithTransferEncoding);
    }
    if is_chunked(headers)? {
        return Ok(BodyFraming::Chunked);
    }
    Ok(content_length(headers)?.map_or(BodyFraming::None, BodyFraming::Length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing(fields: &[(&'static str, &'static str)]) -> Result<BodyFraming, HeadError> {
        let headers: Vec<Header<'static>> = fields
            .iter()
            .map(|(name, value)| Header {
                name,
                value: value.as_bytes(),
            })
            .collect();
        body_framing(&headers)
    }

    #[test]
    fn no_framing_fields_means_no_body() {
        assert_eq!(framing(&[]), Ok(BodyFraming::None));
        assert_eq!(framing(&[("Host", "a")]), Ok(BodyFraming::None));
    }

    #[test]
    fn content_length_gives_a_length() {
        assert_eq!(
            framing(&[("Content-Length", "12")]),
            Ok(BodyFraming::Length(12))
        );
        assert_eq!(
            framing(&[("Content-Length", "0")]),
            Ok(BodyFraming::Length(0))
        );
    }

    #[test]
    fn chunked_gives_chunked() {
        assert_eq!(
            framing(&[("Transfer-Encoding", "chunked")]),
            Ok(BodyFraming::Chunked)
        );
    }

    #[test]
    fn content_length_with_transfer_encoding_is_refused_whatever_the_values() {
        for fields in [
            [("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
            [("Transfer-Encoding", "chunked"), ("content-length", "0")],
            [("Content-Length", "x"), ("Transfer-Encoding", "gzip")],
        ] {
            assert_eq!(
                framing(&fields),
                Err(HeadError::ContentLengthWithTransferEncoding),
                "{fields:?}"
            );
        }
    }

    #[test]
    fn field_errors_propagate() {
        assert_eq!(
            framing(&[("Content-Length", "-1")]),
            Err(HeadError::InvalidContentLength)
        );
        assert_eq!(
            framing(&[("Transfer-Encoding", "gzip")]),
            Err(HeadError::UnsupportedTransferCoding)
        );
    }
}
