//! The HTTP version of a request line (RFC 9112 §2.3).

use crate::head_error::HeadError;

/// The two versions served. Anything else is refused before a head is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// Reads `HTTP/` DIGIT `.` DIGIT. A later 1.x is served as 1.1, the highest minor version of
/// the major one this server implements (RFC 9110 §6.2); other well-formed versions get 505;
/// anything else (case, missing digits, `HTTP/10.0`) is malformed.
pub(crate) fn parse_version(bytes: &[u8]) -> Result<Version, HeadError> {
    match bytes {
        b"HTTP/1.0" => Ok(Version::Http10),
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor] if minor.is_ascii_digit() => {
            Ok(Version::Http11)
        }
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Err(HeadError::UnsupportedVersion)
        }
        _ => Err(HeadError::InvalidVersion),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_1_0_and_1_1() {
        assert_eq!(parse_version(b"HTTP/1.0"), Ok(Version::Http10));
        assert_eq!(parse_version(b"HTTP/1.1"), Ok(Version::Http11));
    }

    #[test]
    fn later_minor_versions_of_1_are_served_as_1_1() {
        for v in ["HTTP/1.2", "HTTP/1.9"] {
            assert_eq!(parse_version(v.as_bytes()), Ok(Version::Http11), "{v}");
        }
    }

    #[test]
    fn other_well_formed_versions_are_unsupported() {
        for v in ["HTTP/2.0", "HTTP/0.9", "HTTP/3.0", "HTTP/9.9", "HTTP/0.0"] {
            assert_eq!(
                parse_version(v.as_bytes()),
                Err(HeadError::UnsupportedVersion),
                "{v}"
            );
        }
    }

    #[test]
    fn malformed_versions_are_invalid() {
        for v in [
            "HTTP/1.x",
            "http/1.1",
            "HTTP/1",
            "HTTP/11",
            "HTTP/10.0",
            "HTTP/1.10",
            "HTTP 1.1",
            "HTTPS/1.1",
            "HTTP/1.1 ",
            "",
            "HTTP/-.1",
        ] {
            assert_eq!(
                parse_version(v.as_bytes()),
                Err(HeadError::InvalidVersion),
                "{v:?}"
            );
        }
    }
}
