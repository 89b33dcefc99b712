use super::*;
use httparse::EMPTY_HEADER;

/// An owned copy of a parsed head, so tests need not keep the storage alive.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    method: String,
    target: String,
    version: Version,
    headers: Vec<(String, Vec<u8>)>,
    len: usize,
    framing: BodyFraming,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
}

fn parse_with(buf: &[u8], limits: &Limits) -> Result<Option<Head>, HeadError> {
    let mut storage = [EMPTY_HEADER; MAX_HEADERS];
    Ok(match parse_request_head(buf, limits, &mut storage)? {
        Parsed::Partial => None,
        Parsed::Complete(head) => Some(Head {
            method: head.method.to_owned(),
            target: head.target.to_owned(),
            version: head.version,
            headers: head
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
            len: head.len,
            framing: head.framing,
            close: head.connection_close,
            keep_alive: head.connection_keep_alive,
            expect_continue: head.expect_continue,
        }),
    })
}

fn parse(buf: &[u8]) -> Result<Option<Head>, HeadError> {
    parse_with(buf, &Limits::default())
}

fn complete(buf: &[u8]) -> Head {
    match parse(buf) {
        Ok(Some(head)) => head,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(buf)),
    }
}

fn error(buf: &[u8]) -> HeadError {
    match parse(buf) {
        Err(err) => err,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(buf)),
    }
}

fn is_partial(buf: &[u8], limits: &Limits) -> bool {
    matches!(parse_with(buf, limits), Ok(None))
}

/// A request with `fields` (each without CRLF) after `GET / HTTP/1.1` and a Host field.
fn get(fields: &[&str]) -> Vec<u8> {
    let mut buf = b"GET / HTTP/1.1\r\nHost: example.com\r\n".to_vec();
    for field in fields {
        buf.extend_from_slice(field.as_bytes());
        buf.extend_from_slice(b"\r\n");
    }
    buf.extend_from_slice(b"\r\n");
    buf
}

/// A header line of exactly `len` bytes, CRLF included.
fn header_line_of(len: usize) -> String {
    format!("X-Pad: {}\r\n", "a".repeat(len - 9))
}

// Request line and result fields.

#[test]
fn parses_a_simple_request() {
    let buf = b"GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
    assert_eq!(
        complete(buf),
        Head {
            method: "GET".into(),
            target: "/index.html?a=1".into(),
            version: Version::Http11,
            headers: vec![
                ("Host".into(), b"example.com".to_vec()),
                ("Accept".into(), b"*/*".to_vec())
            ],
            len: buf.len(),
            framing: BodyFraming::None,
            close: false,
            keep_alive: false,
            expect_continue: false,
        }
    );
}

#[test]
fn http_1_0_without_host_is_accepted() {
    let head = complete(b"POST /x HTTP/1.0\r\n\r\n");
    assert_eq!(
        (head.method.as_str(), head.version, head.headers.len()),
        ("POST", Version::Http10, 0)
    );
}

#[test]
fn target_is_kept_as_received() {
    for target in [
        "/a%2Fb/../c?q=%20#frag",
        "http://example.com/x",
        "*",
        "example.com:443",
        "/caf\u{e9}",
    ] {
        let buf = format!("OPTIONS {target} HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(complete(buf.as_bytes()).target, target);
    }
}

#[test]
fn len_stops_at_the_end_of_the_head() {
    let head = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
    let mut buf = head.to_vec();
    buf.extend_from_slice(b"helloGET / HTTP/1.1\r\n");
    assert_eq!(complete(&buf).len, head.len());
}

#[test]
fn header_values_are_trimmed_and_kept_in_order() {
    let head = complete(&get(&["B: \t two  \t", "A:one", "B:", "X: caf\u{e9} \t"]));
    assert_eq!(
        head.headers,
        [
            ("Host".to_owned(), b"example.com".to_vec()),
            ("B".into(), b"two".to_vec()),
            ("A".into(), b"one".to_vec()),
            ("B".into(), b"".to_vec()),
            ("X".into(), "caf\u{e9}".as_bytes().to_vec()),
        ]
    );
}

#[test]
fn header_values_may_hold_obs_text() {
    let head = complete(b"GET / HTTP/1.1\r\nHost: a\r\nX: \xff\xfe\r\n\r\n");
    assert_eq!(head.headers[1].1, b"\xff\xfe");
}

// Partial input.

#[test]
fn empty_input_is_partial() {
    assert!(is_partial(b"", &Limits::default()));
}

#[test]
fn every_prefix_of_a_valid_head_is_partial() {
    let buf = get(&["Content-Length: 3", "Connection: keep-alive", "X:"]);
    for end in 0..buf.len() {
        assert!(is_partial(&buf[..end], &Limits::default()), "prefix {end}");
    }
    assert_eq!(complete(&buf).len, buf.len());
}

#[test]
fn every_prefix_with_leading_empty_lines_is_partial() {
    let buf = b"\r\n\r\nGET / HTTP/1.0\r\nX: y\r\n\r\n";
    for end in 0..buf.len() {
        assert!(is_partial(&buf[..end], &Limits::default()), "prefix {end}");
    }
    assert_eq!(complete(buf).len, buf.len());
}

#[test]
fn request_line_is_checked_before_the_headers_arrive() {
    assert_eq!(
        error(b"GET  / HTTP/1.1\r\nHo"),
        HeadError::MalformedRequestLine
    );
    assert_eq!(error(b"GET / HTTP/2.0\r\n"), HeadError::UnsupportedVersion);
}

#[test]
fn header_lines_are_checked_before_the_head_ends() {
    assert_eq!(
        error(b"GET / HTTP/1.1\r\nX y: 1\r\nHo"),
        HeadError::HeaderNameNotToken
    );
    assert_eq!(
        error(b"GET / HTTP/1.1\r\nX: \0\r\n"),
        HeadError::InvalidHeaderValue
    );
}

// Leading empty lines (RFC 9112 §2.2).

#[test]
fn leading_empty_lines_are_skipped_and_counted_in_len() {
    let buf = b"\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let head = complete(buf);
    assert_eq!((head.method.as_str(), head.len), ("GET", buf.len()));
}

#[test]
fn leading_empty_lines_alone_are_partial() {
    for buf in [&b"\r"[..], b"\r\n", b"\r\n\r", b"\r\n\r\n"] {
        assert!(is_partial(buf, &Limits::default()), "{buf:?}");
    }
}

#[test]
fn leading_bare_lf_or_cr_is_refused() {
    assert_eq!(
        error(b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        HeadError::BareLf
    );
    assert_eq!(error(b"\r\n\nGET / HTTP/1.1\r\n"), HeadError::BareLf);
    assert_eq!(error(b"\rGET / HTTP/1.1\r\n"), HeadError::BareCr);
}

#[test]
fn leading_empty_lines_are_bounded_by_the_request_line_limit() {
    let mut buf = b"\r\n".repeat(4095);
    assert!(is_partial(&buf, &Limits::default()));
    buf.extend_from_slice(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(complete(&buf).len, buf.len());
    assert_eq!(error(&b"\r\n".repeat(4096)), HeadError::TooManyEmptyLines);
    let limits = Limits {
        request_line: 10,
        ..Limits::default()
    };
    assert_eq!(
        parse_with(&b"\r\n".repeat(5), &limits),
        Err(HeadError::TooManyEmptyLines)
    );
    assert!(is_partial(&b"\r\n".repeat(4), &limits));
}

// Line endings.

#[test]
fn bare_lf_is_refused_anywhere_in_the_head() {
    for buf in [
        &b"GET / HTTP/1.1\nHost: a\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: a\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\n",
        b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
        b"GET / HTTP/1.1\n",
    ] {
        assert_eq!(error(buf), HeadError::BareLf, "{buf:?}");
    }
}

#[test]
fn bare_cr_is_refused_anywhere_in_the_head() {
    for buf in [
        &b"GET / HTTP/1.1\rHost: a\r\n\r\n"[..],
        b"GET /\r HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n",
        b"GET / HTTP/1.1\r\nX: a\rb\r\n",
    ] {
        assert_eq!(error(buf), HeadError::BareCr, "{buf:?}");
    }
}

// Request line syntax.

#[test]
fn http_0_9_request_is_refused() {
    assert_eq!(error(b"GET /\r\n\r\n"), HeadError::MissingVersion);
    assert_eq!(
        error(b"GET /\r\nHost: a\r\n\r\n"),
        HeadError::MissingVersion
    );
}

#[test]
fn extra_spaces_in_the_request_line_are_refused() {
    for line in [
        "GET  / HTTP/1.1",
        "GET / HTTP/1.1 ",
        " GET / HTTP/1.1",
        "GET /hello extra HTTP/1.1",
        "GET",
    ] {
        let buf = format!("{line}\r\nHost: a\r\n\r\n");
        assert_eq!(
            error(buf.as_bytes()),
            HeadError::MalformedRequestLine,
            "{line:?}"
        );
    }
}

#[test]
fn non_token_method_is_refused() {
    assert_eq!(
        error(b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n"),
        HeadError::MethodNotToken
    );
    assert_eq!(
        error(b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"),
        HeadError::MethodNotToken
    );
}

#[test]
fn invalid_target_is_refused() {
    assert_eq!(
        error(b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n"),
        HeadError::InvalidTarget
    );
    assert_eq!(
        error(b"GET /\xc3 HTTP/1.1\r\nHost: a\r\n\r\n"),
        HeadError::InvalidTarget
    );
}

#[test]
fn bad_version_text_is_refused_with_400() {
    for version in ["HTTP/1.x", "HTTP/1", "http/1.1", "HTTP/10.1"] {
        let buf = format!("GET / {version}\r\nHost: a\r\n\r\n");
        let err = error(buf.as_bytes());
        assert_eq!(err, HeadError::InvalidVersion, "{version}");
        assert_eq!(err.status_line(), "HTTP/1.1 400 Bad Request");
    }
}

#[test]
fn unsupported_versions_get_505() {
    for version in ["HTTP/2.0", "HTTP/0.9", "HTTP/3.0"] {
        let buf = format!("GET / {version}\r\nHost: a\r\n\r\n");
        let err = error(buf.as_bytes());
        assert_eq!(err, HeadError::UnsupportedVersion, "{version}");
        assert_eq!(err.status_line(), "HTTP/1.1 505 HTTP Version Not Supported");
    }
}

#[test]
fn http_1_2_is_read_as_http_1_1() {
    let head = complete(b"GET / HTTP/1.2\r\nHost: a\r\n\r\n");
    assert_eq!(head.version, Version::Http11);
}

// Request line limit.

#[test]
fn request_line_of_8191_bytes_is_accepted() {
    let line = format!("GET /{} HTTP/1.0\r\n", "a".repeat(8191 - 16));
    assert_eq!(line.len(), 8191);
    let buf = format!("{line}\r\n");
    assert_eq!(complete(buf.as_bytes()).target.len(), 8191 - 15);
}

#[test]
fn request_line_of_8192_bytes_is_414() {
    let line = format!("GET /{} HTTP/1.0\r\n", "a".repeat(8192 - 16));
    assert_eq!(line.len(), 8192);
    let err = error(line.as_bytes());
    assert_eq!(err, HeadError::UriTooLong);
    assert_eq!(err.status_line(), "HTTP/1.0 414 Request URI Too Long");
}

#[test]
fn long_request_line_is_refused_before_its_crlf() {
    let limits = Limits::default();
    let line = format!("GET /{}", "a".repeat(9000));
    assert_eq!(parse(line.as_bytes()), Err(HeadError::UriTooLong));
    // 8190 bytes can only end as an 8192-byte line.
    assert_eq!(parse(&line.as_bytes()[..8190]), Err(HeadError::UriTooLong));
    // 8189 bytes may still end as an 8191-byte line, with or without its CR.
    assert!(is_partial(&line.as_bytes()[..8189], &limits));
    let with_cr = [&line.as_bytes()[..8189], b"\r"].concat();
    assert!(is_partial(&with_cr, &limits));
}

#[test]
fn request_line_limit_is_configurable() {
    let limits = Limits {
        request_line: 20,
        ..Limits::default()
    };
    assert!(parse_with(b"GET /abc HTTP/1.0\r\n\r\n", &limits)
        .unwrap()
        .is_some()); // 19 bytes
    assert_eq!(
        parse_with(b"GET /abcd HTTP/1.0\r\n\r\n", &limits),
        Err(HeadError::UriTooLong)
    );
    assert_eq!(
        parse_with(b"GET /abcd HTTP/1.0", &limits),
        Err(HeadError::UriTooLong)
    );
    assert!(is_partial(b"GET /abc HTTP/1.0", &limits));
}

// Header line limit.

#[test]
fn header_line_of_8191_bytes_is_accepted() {
    let line = header_line_of(8191);
    let buf = format!("GET / HTTP/1.0\r\n{line}\r\n");
    assert_eq!(complete(buf.as_bytes()).headers[0].1.len(), 8191 - 9);
}

#[test]
fn header_line_of_8192_bytes_is_refused() {
    let buf = format!("GET / HTTP/1.0\r\n{}\r\n", header_line_of(8192));
    let err = error(buf.as_bytes());
    assert_eq!(err, HeadError::HeaderLineTooLong);
    assert_eq!(err.status_line(), "HTTP/1.0 400 Header Line Too Long");
}

#[test]
fn long_header_line_is_refused_before_its_crlf() {
    let start = format!("GET / HTTP/1.0\r\nX-Pad: {}", "a".repeat(9000));
    assert_eq!(parse(start.as_bytes()), Err(HeadError::HeaderLineTooLong));
    let header_start = "GET / HTTP/1.0\r\n".len();
    assert_eq!(
        parse(&start.as_bytes()[..header_start + 8190]),
        Err(HeadError::HeaderLineTooLong)
    );
    assert!(is_partial(
        &start.as_bytes()[..header_start + 8189],
        &Limits::default()
    ));
}

#[test]
fn header_line_limit_is_configurable() {
    let limits = Limits {
        header_line: 8,
        ..Limits::default()
    };
    assert!(parse_with(b"GET / HTTP/1.0\r\nA: 12\r\n\r\n", &limits)
        .unwrap()
        .is_some());
    assert_eq!(
        parse_with(b"GET / HTTP/1.0\r\nA: 123\r\n\r\n", &limits),
        Err(HeadError::HeaderLineTooLong)
    );
}

// Header section limit.

/// `GET / HTTP/1.0` with header lines taking `lines` bytes, then the final CRLF.
fn head_with_header_bytes(lines: usize) -> Vec<u8> {
    let mut buf = b"GET / HTTP/1.0\r\n".to_vec();
    let mut left = lines;
    while left > 0 {
        let len = if left > 8191 {
            (left - 20).min(8191)
        } else {
            left
        };
        buf.extend_from_slice(header_line_of(len).as_bytes());
        left -= len;
    }
    buf.extend_from_slice(b"\r\n");
    buf
}

#[test]
fn header_section_of_65536_bytes_is_accepted() {
    let buf = head_with_header_bytes(65534);
    let head = complete(&buf);
    assert_eq!(buf.len() - "GET / HTTP/1.0\r\n".len(), 65536);
    assert_eq!(head.len, buf.len());
}

#[test]
fn header_section_of_65537_bytes_is_refused() {
    let buf = head_with_header_bytes(65535);
    let err = error(&buf);
    assert_eq!(err, HeadError::HeadersTooLarge);
    assert_eq!(err.status_line(), "HTTP/1.0 400 Headers Too Large");
}

#[test]
fn header_section_limit_is_checked_before_the_head_ends() {
    // Complete lines of 65535 bytes can only end as a 65537-byte section.
    let buf = head_with_header_bytes(65535);
    assert_eq!(
        parse(&buf[..buf.len() - 2]),
        Err(HeadError::HeadersTooLarge)
    );
    let buf = head_with_header_bytes(65534);
    assert!(is_partial(&buf[..buf.len() - 2], &Limits::default()));
    // So can a line still arriving.
    let limits = Limits {
        headers_total: 20,
        ..Limits::default()
    };
    assert!(is_partial(b"GET / HTTP/1.0\r\nX: 0123456789abc", &limits));
    assert_eq!(
        parse_with(b"GET / HTTP/1.0\r\nX: 0123456789abcd", &limits),
        Err(HeadError::HeadersTooLarge)
    );
}

#[test]
fn request_line_does_not_count_in_the_header_section() {
    let limits = Limits {
        headers_total: 11,
        ..Limits::default()
    };
    let long_line = format!("GET /{} HTTP/1.0\r\nA: 1234\r\n\r\n", "a".repeat(1000));
    assert!(parse_with(long_line.as_bytes(), &limits).unwrap().is_some());
    assert_eq!(
        parse_with(b"GET / HTTP/1.0\r\nA: 12345\r\n\r\n", &limits),
        Err(HeadError::HeadersTooLarge)
    );
}

// Header count.

fn head_with_fields(count: usize) -> Vec<u8> {
    let fields: Vec<String> = (1..count).map(|i| format!("X-{i}: {i}")).collect();
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    get(&fields) // Host is one of the `count` fields
}

#[test]
fn ninety_nine_fields_are_accepted() {
    let head = complete(&head_with_fields(99));
    assert_eq!(head.headers.len(), 99);
    assert_eq!(head.headers[98], ("X-98".to_owned(), b"98".to_vec()));
}

#[test]
fn a_hundred_fields_are_431() {
    let err = error(&head_with_fields(100));
    assert_eq!(err, HeadError::TooManyHeaders);
    assert_eq!(
        err.status_line(),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    assert_eq!(error(&head_with_fields(150)), HeadError::TooManyHeaders);
}

#[test]
fn field_count_is_checked_before_the_head_ends() {
    let buf = head_with_fields(100);
    assert_eq!(parse(&buf[..buf.len() - 2]), Err(HeadError::TooManyHeaders));
}

#[test]
fn field_count_limit_is_configurable_and_clamped_to_the_storage() {
    let limits = Limits {
        max_headers: 3,
        ..Limits::default()
    };
    assert!(parse_with(&head_with_fields(2), &limits).unwrap().is_some());
    assert_eq!(
        parse_with(&head_with_fields(3), &limits),
        Err(HeadError::TooManyHeaders)
    );
    let limits = Limits {
        max_headers: 1000,
        ..Limits::default()
    };
    assert!(parse_with(&head_with_fields(99), &limits)
        .unwrap()
        .is_some());
    assert_eq!(
        parse_with(&head_with_fields(100), &limits),
        Err(HeadError::TooManyHeaders)
    );
}

// Header field syntax.

#[test]
fn obs_fold_is_refused() {
    assert_eq!(error(&get(&["X: a", " b"])), HeadError::ObsFold);
    assert_eq!(error(&get(&["X: a", "\tb"])), HeadError::ObsFold);
    assert_eq!(
        error(b"GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
        HeadError::ObsFold
    );
}

#[test]
fn obs_fold_is_refused_at_its_first_byte() {
    assert_eq!(error(b"GET / HTTP/1.1\r\nHost: a\r\n "), HeadError::ObsFold);
    assert_eq!(
        error(b"GET / HTTP/1.1\r\nHost: a\r\n\t"),
        HeadError::ObsFold
    );
}

#[test]
fn non_token_header_name_is_refused() {
    for field in ["X y: 1", "X(y): 1", ": 1", "X\u{e9}: 1", "X\": 1", "X/Y: 1"] {
        assert_eq!(
            error(&get(&[field])),
            HeadError::HeaderNameNotToken,
            "{field:?}"
        );
    }
}

#[test]
fn whitespace_before_colon_is_refused() {
    assert_eq!(error(&get(&["X-Sp : a"])), HeadError::WhitespaceBeforeColon);
    assert_eq!(
        error(b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"),
        HeadError::WhitespaceBeforeColon
    );
}

#[test]
fn header_line_without_colon_is_refused() {
    assert_eq!(error(&get(&["NoColon"])), HeadError::MissingColon);
}

#[test]
fn nul_and_controls_in_values_are_refused() {
    for value in ["a\0b", "\x01", "a\x7f", "\x1b[0m", "\x0c"] {
        let field = format!("X: {value}");
        assert_eq!(
            error(&get(&[&field])),
            HeadError::InvalidHeaderValue,
            "{value:?}"
        );
    }
    assert_eq!(complete(&get(&["X: a\tb"])).headers[1].1, b"a\tb");
}

// Host.

#[test]
fn http_1_1_without_host_is_refused() {
    assert_eq!(error(b"GET / HTTP/1.1\r\n\r\n"), HeadError::MissingHost);
    assert_eq!(
        error(b"GET / HTTP/1.1\r\nX-Host: a\r\n\r\n"),
        HeadError::MissingHost
    );
}

#[test]
fn host_name_is_case_insensitive_and_may_be_empty() {
    assert_eq!(
        complete(b"GET / HTTP/1.1\r\nhOsT: a\r\n\r\n").headers[0].0,
        "hOsT"
    );
    assert_eq!(
        complete(b"GET * HTTP/1.1\r\nHost:\r\n\r\n").headers[0].1,
        b""
    );
}

#[test]
fn more_than_one_host_is_refused() {
    assert_eq!(error(&get(&["Host: b"])), HeadError::MultipleHost);
    assert_eq!(error(&get(&["host: example.com"])), HeadError::MultipleHost);
    assert_eq!(
        error(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
        HeadError::MultipleHost
    );
}

// Body framing.

#[test]
fn content_length_sets_a_length() {
    assert_eq!(
        complete(&get(&["Content-Length: 42"])).framing,
        BodyFraming::Length(42)
    );
    assert_eq!(
        complete(&get(&["Content-Length: 0"])).framing,
        BodyFraming::Length(0)
    );
    assert_eq!(complete(&get(&[])).framing, BodyFraming::None);
}

#[test]
fn equal_duplicate_content_lengths_are_accepted() {
    assert_eq!(
        complete(&get(&["Content-Length: 5, 5"])).framing,
        BodyFraming::Length(5)
    );
    assert_eq!(
        complete(&get(&["Content-Length: 5", "content-length: 5"])).framing,
        BodyFraming::Length(5)
    );
}

#[test]
fn malformed_content_length_is_refused() {
    for value in ["+3", "-1", "1_0", "1 0", "0x10", "a", "", "5,", "3.0"] {
        let field = format!("Content-Length: {value}");
        assert_eq!(
            error(&get(&[&field])),
            HeadError::InvalidContentLength,
            "{value:?}"
        );
    }
    assert_eq!(
        error(&get(&["Content-Length: 18446744073709551616"])),
        HeadError::ContentLengthTooLarge
    );
}

#[test]
fn differing_content_lengths_are_refused() {
    assert_eq!(
        error(&get(&["Content-Length: 5", "Content-Length: 6"])),
        HeadError::ConflictingContentLength
    );
    assert_eq!(
        error(&get(&["Content-Length: 5, 6"])),
        HeadError::ConflictingContentLength
    );
}

#[test]
fn chunked_sets_chunked_framing() {
    assert_eq!(
        complete(&get(&["Transfer-Encoding: chunked"])).framing,
        BodyFraming::Chunked
    );
    assert_eq!(
        complete(&get(&["transfer-encoding: CHUNKED"])).framing,
        BodyFraming::Chunked
    );
}

#[test]
fn http_1_0_chunked_is_honoured() {
    let head = complete(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(head.framing, BodyFraming::Chunked);
}

#[test]
fn content_length_with_transfer_encoding_is_refused() {
    let err = error(&get(&["Content-Length: 5", "Transfer-Encoding: chunked"]));
    assert_eq!(err, HeadError::ContentLengthWithTransferEncoding);
    assert_eq!(err.status_line(), "HTTP/1.1 400 Bad Request");
    assert_eq!(
        error(&get(&["Transfer-Encoding: gzip", "Content-Length: 5"])),
        HeadError::ContentLengthWithTransferEncoding
    );
}

#[test]
fn codings_other_than_one_chunked_are_refused() {
    for fields in [
        &["Transfer-Encoding: gzip, chunked"][..],
        &["Transfer-Encoding: chunked, chunked"],
        &["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
        &["Transfer-Encoding: identity"],
        &["Transfer-Encoding: gzip"],
        &["Transfer-Encoding:"],
    ] {
        assert_eq!(
            error(&get(fields)),
            HeadError::UnsupportedTransferCoding,
            "{fields:?}"
        );
    }
}

// Connection and Expect.

#[test]
fn connection_close_and_keep_alive_are_read_as_token_lists() {
    let flags = |fields: &[&str]| {
        let head = complete(&get(fields));
        (head.close, head.keep_alive)
    };
    assert_eq!(flags(&[]), (false, false));
    assert_eq!(flags(&["Connection: close"]), (true, false));
    assert_eq!(flags(&["Connection: Keep-Alive"]), (false, true));
    assert_eq!(flags(&["Connection: CLOSE, foo"]), (true, false));
    assert_eq!(flags(&["Connection: foo,close"]), (true, false));
    assert_eq!(
        flags(&["Connection: upgrade", "connection: keep-alive"]),
        (false, true)
    );
    assert_eq!(flags(&["Connection: keep-alive, close"]), (true, true));
    assert_eq!(flags(&["Connection: closed, keep-alive-x"]), (false, false));
    assert_eq!(flags(&["Proxy-Connection: close"]), (false, false));
}

#[test]
fn expect_100_continue_on_http_1_1() {
    assert!(complete(&get(&["Expect: 100-continue"])).expect_continue);
    assert!(complete(&get(&["expect: 100-CONTINUE "])).expect_continue);
    assert!(!complete(&get(&["Expect: 100-continued"])).expect_continue);
    assert!(!complete(&get(&["Expect: foo"])).expect_continue);
    assert!(!complete(&get(&[])).expect_continue);
}

#[test]
fn expect_100_continue_is_ignored_on_http_1_0() {
    assert!(!complete(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_continue);
}

#[test]
fn pipelined_requests_parse_one_after_the_other() {
    let buf = [&get(&["A: 1"])[..], &get(&["B: 2"])].concat();
    let first = complete(&buf);
    let second = complete(&buf[first.len..]);
    assert_eq!(first.headers[1].0, "A");
    assert_eq!(second.headers[1].0, "B");
    assert_eq!(first.len + second.len, buf.len());
}

#[test]
fn a_request_line_is_received_once_its_crlf_is() {
    for buf in [
        &b"GET / HTTP/1.1\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: a",
        b"\r\n\r\nG\r\n",
    ] {
        assert!(request_line_received(buf), "{buf:?}");
    }
    for buf in [
        &b""[..],
        b"G",
        b"GET / HTTP/1.1\r",
        b"\r\n",
        b"\r\n\r\nGET /",
        b"GET /\nHost: a",
    ] {
        assert!(!request_line_received(buf), "{buf:?}");
    }
}
