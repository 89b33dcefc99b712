use super::*;

/// What a caller sees after feeding `pieces` in order, keeping unconsumed bytes for the next call
/// as a connection would.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    body: Vec<u8>,
    consumed: usize,
    done: bool,
}

fn feed<'a>(pieces: impl IntoIterator<Item = &'a [u8]>, max: usize) -> Result<Outcome, ChunkError> {
    let mut decoder = ChunkedDecoder::new();
    let mut pending = Vec::new();
    let mut body = Vec::new();
    let mut consumed = 0;
    for piece in pieces {
        pending.extend_from_slice(piece);
        loop {
            let decoded = decoder.decode(&pending, &mut body, max)?;
            assert_eq!(decoded.done, decoder.is_done());
            pending.drain(..decoded.consumed);
            consumed += decoded.consumed;
            if decoded.done {
                return Ok(Outcome {
                    body,
                    consumed,
                    done: true,
                });
            }
            if decoded.consumed == 0 {
                break;
            }
        }
    }
    Ok(Outcome {
        body,
        consumed,
        done: false,
    })
}

fn whole(input: &[u8]) -> Result<Outcome, ChunkError> {
    feed([input], usize::MAX)
}

fn done(body: &[u8], consumed: usize) -> Result<Outcome, ChunkError> {
    Ok(Outcome {
        body: body.to_vec(),
        consumed,
        done: true,
    })
}

fn error(input: &[u8]) -> ChunkError {
    match whole(input) {
        Err(err) => err,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
    }
}

/// Encoded bodies covering extensions, trailers, case and leading zeros, with their content.
const BODIES: [(&[u8], &[u8]); 6] = [
    (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
    (b"0\r\n\r\n", b""),
    (
        b"A\r\n0123456789\r\n00a\r\nabcdefghij\r\n000\r\n\r\n",
        b"0123456789abcdefghij",
    ),
    (
        b"3;name=value\r\nabc\r\n1 ;x\r\nd\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n",
        b"abcd",
    ),
    (b"4; here is dirt\0bla\r\nwiki\r\n0\r\n\r\n", b"wiki"),
    (b"1\r\n\r\r\n2\r\n\n\r\r\n0\r\n\r\n", b"\r\n\r"),
];

#[test]
fn decodes_whole_bodies() {
    for (encoded, body) in BODIES {
        assert_eq!(
            whole(encoded),
            done(body, encoded.len()),
            "{:?}",
            String::from_utf8_lossy(encoded)
        );
    }
}

#[test]
fn decodes_with_every_split_point() {
    for (encoded, body) in BODIES {
        for at in 0..=encoded.len() {
            let (a, b) = encoded.split_at(at);
            assert_eq!(
                feed([a, b], usize::MAX),
                done(body, encoded.len()),
                "split at {at}"
            );
        }
    }
}

#[test]
fn decodes_with_every_pair_of_split_points() {
    for (encoded, body) in BODIES {
        for i in 0..=encoded.len() {
            for j in i..=encoded.len() {
                let pieces = [&encoded[..i], &encoded[i..j], &encoded[j..]];
                assert_eq!(
                    feed(pieces, usize::MAX),
                    done(body, encoded.len()),
                    "split at {i}, {j}"
                );
            }
        }
    }
}

#[test]
fn decodes_one_byte_at_a_time() {
    for (encoded, body) in BODIES {
        assert_eq!(
            feed(encoded.chunks(1), usize::MAX),
            done(body, encoded.len())
        );
        for max in [1, 2, 3, 7] {
            assert_eq!(
                feed(encoded.chunks(1), max),
                done(body, encoded.len()),
                "max {max}"
            );
        }
    }
}

#[test]
fn every_proper_prefix_is_incomplete_without_error() {
    for (encoded, _) in BODIES {
        for end in 0..encoded.len() {
            let outcome = whole(&encoded[..end]).unwrap();
            assert_eq!(
                (outcome.consumed, outcome.done),
                (end, false),
                "prefix {end}"
            );
        }
    }
}

#[test]
fn stops_at_the_end_of_the_body() {
    let input = b"2\r\nhi\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    let mut decoder = ChunkedDecoder::new();
    let mut out = Vec::new();
    assert_eq!(
        decoder.decode(input, &mut out, usize::MAX),
        Ok(Decoded {
            consumed: 12,
            done: true
        })
    );
    assert_eq!(out, b"hi");
}

// Chunk size.

#[test]
fn size_is_hex_in_either_case_with_leading_zeros() {
    let body = vec![b'x'; 0x1af];
    for size in ["1af", "1AF", "1Af", "0001af", "00000000000000000000001AF"] {
        let encoded = [size.as_bytes(), b"\r\n", &body, b"\r\n0\r\n\r\n"].concat();
        assert_eq!(whole(&encoded), done(&body, encoded.len()), "{size}");
    }
}

#[test]
fn malformed_size_is_refused() {
    for input in [
        &b" 5\r\nhello\r\n"[..],
        b"\t5\r\n",
        b"+5\r\n",
        b"-5\r\n",
        b"0x5\r\n",
        b"g\r\n",
        b"\r\n",
        b";ext\r\n",
        b"5 \r\n",
        b"5\t\r\n",
        b"5 x\r\n",
        b"5x\r\n",
        b"5,\r\n",
        b"5\n",
        b"5\rX",
        b"5;ext\n",
        b"5;ext\rX",
        b"5\r\r\n",
    ] {
        assert_eq!(
            error(input),
            ChunkError::InvalidSizeLine,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn sizes_up_to_2_pow_63_minus_1_are_accepted() {
    for size in ["7fffffffffffffff", "00007FFFFFFFFFFFFFFF"] {
        let input = format!("{size}\r\nabc");
        assert_eq!(
            whole(input.as_bytes()),
            Ok(Outcome {
                body: b"abc".to_vec(),
                consumed: input.len(),
                done: false
            })
        );
    }
}

#[test]
fn sizes_above_2_pow_63_minus_1_are_refused() {
    for size in [
        "8000000000000000",
        "ffffffffffffffff",
        "10000000000000000",
        "123456789abcdef0123",
    ] {
        let input = format!("{size}\r\n");
        assert_eq!(error(input.as_bytes()), ChunkError::SizeTooLarge, "{size}");
    }
}

#[test]
fn size_error_is_found_before_the_line_ends() {
    assert_eq!(error(b"8000000000000000"), ChunkError::SizeTooLarge);
    assert_eq!(error(b"5 x"), ChunkError::InvalidSizeLine);
}

// Extensions.

#[test]
fn extensions_are_ignored() {
    for ext in [
        ";a",
        ";a=b",
        "; a = \"q;\\\"x\"",
        " ;a",
        "\t ;a",
        ";",
        "; here is dirt\0bla",
        ";\x01\x7f\u{e9}",
    ] {
        let encoded = format!("3{ext}\r\nabc\r\n0{ext}\r\n\r\n");
        assert_eq!(
            whole(encoded.as_bytes()),
            done(b"abc", encoded.len()),
            "{ext:?}"
        );
    }
}

#[test]
fn size_line_of_4096_bytes_is_accepted() {
    let ext = "x".repeat(4096 - 4);
    let encoded = format!("3;{ext}\r\nabc\r\n0\r\n\r\n");
    assert_eq!(whole(encoded.as_bytes()), done(b"abc", encoded.len()));
    let zeros = format!("{}3\r\nabc\r\n0\r\n\r\n", "0".repeat(4093));
    assert_eq!(whole(zeros.as_bytes()), done(b"abc", zeros.len()));
}

#[test]
fn size_line_over_4096_bytes_is_refused_before_its_end() {
    let ext = "x".repeat(4096 - 3);
    assert_eq!(
        error(format!("3;{ext}").as_bytes()),
        ChunkError::SizeLineTooLong
    );
    assert_eq!(
        error(format!("3 {ext}").replace('x', " ").as_bytes()),
        ChunkError::SizeLineTooLong
    );
    assert_eq!(
        error(format!("{}3", "0".repeat(4094)).as_bytes()),
        ChunkError::SizeLineTooLong
    );
    assert_eq!(
        error(format!("3;{}", "x".repeat(100_000)).as_bytes()),
        ChunkError::SizeLineTooLong
    );
}

// Chunk data.

#[test]
fn data_may_hold_any_byte() {
    let data: Vec<u8> = (0..=255).collect();
    let encoded = [&b"100\r\n"[..], &data, b"\r\n0\r\n\r\n"].concat();
    assert_eq!(whole(&encoded), done(&data, encoded.len()));
}

#[test]
fn data_must_be_followed_by_crlf() {
    for input in [
        &b"5\r\nhelloX"[..],
        b"5\r\nhello\rX",
        b"5\r\nhello\n",
        b"5\r\nhello\r\r\n",
        b"3\r\nhello\r\n",
        b"5\r\nhello0\r\n\r\n",
    ] {
        assert_eq!(
            error(input),
            ChunkError::MissingDataCrlf,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn large_chunk_spans_many_calls() {
    let data = vec![7u8; 100_000];
    let encoded = [&b"186a0\r\n"[..], &data, b"\r\n0\r\n\r\n"].concat();
    assert_eq!(
        feed(encoded.chunks(999), usize::MAX),
        done(&data, encoded.len())
    );
    assert_eq!(feed(encoded.chunks(4096), 1000), done(&data, encoded.len()));
}

// Trailers.

#[test]
fn trailers_are_consumed_and_discarded() {
    let encoded = b"2\r\nok\r\n0\r\nX-Sum: 1\r\nanything at all\0\r\n\r\nnext";
    assert_eq!(whole(encoded), done(b"ok", encoded.len() - 4));
}

#[test]
fn bare_line_ends_in_trailers_are_refused() {
    for input in [
        &b"0\r\n\n"[..],
        b"0\r\nX: a\n\r\n",
        b"0\r\nX: a\rb\r\n\r\n",
        b"0\r\n\rX",
        b"0\r\nX: a\r\n\r\r\n",
    ] {
        assert_eq!(
            error(input),
            ChunkError::InvalidTrailerLine,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

/// `0\r\n`, trailer lines of the given lengths (CRLF included), and the final CRLF.
fn with_trailers(lengths: &[usize]) -> Vec<u8> {
    let mut encoded = b"0\r\n".to_vec();
    for &len in lengths {
        encoded.extend_from_slice(format!("X: {}\r\n", "t".repeat(len - 5)).as_bytes());
    }
    encoded.extend_from_slice(b"\r\n");
    encoded
}

#[test]
fn trailer_line_of_8192_bytes_is_accepted() {
    let encoded = with_trailers(&[8192]);
    assert_eq!(whole(&encoded), done(b"", encoded.len()));
}

#[test]
fn trailer_line_over_8192_bytes_is_refused_before_its_end() {
    let encoded = with_trailers(&[8193]);
    assert_eq!(error(&encoded), ChunkError::TrailerLineTooLong);
    assert_eq!(error(&encoded[..3 + 8191]), ChunkError::TrailerLineTooLong);
    assert!(!whole(&encoded[..3 + 8190]).unwrap().done);
}

#[test]
fn trailer_section_of_65536_bytes_is_accepted() {
    let encoded = with_trailers(&[8192, 8192, 8192, 8192, 8192, 8192, 8192, 8190]);
    assert_eq!(encoded.len() - 3, 65536);
    assert_eq!(whole(&encoded), done(b"", encoded.len()));
}

#[test]
fn trailer_section_over_65536_bytes_is_refused_before_its_end() {
    let encoded = with_trailers(&[8192, 8192, 8192, 8192, 8192, 8192, 8192, 8191]);
    assert_eq!(error(&encoded), ChunkError::TrailerTooLarge);
    // The complete lines already leave no room for the final CRLF.
    assert_eq!(
        error(&encoded[..encoded.len() - 2]),
        ChunkError::TrailerTooLarge
    );
    let endless: Vec<u8> = with_trailers(&[100; 1000]);
    assert_eq!(error(&endless), ChunkError::TrailerTooLarge);
}

// The `max` budget.

#[test]
fn max_limits_the_bytes_produced_per_call() {
    let input = b"5\r\nhello\r\n0\r\n\r\n";
    let mut decoder = ChunkedDecoder::new();
    let mut out = Vec::new();
    assert_eq!(
        decoder.decode(input, &mut out, 3),
        Ok(Decoded {
            consumed: 6,
            done: false
        })
    );
    assert_eq!(out, b"hel");
    assert_eq!(
        decoder.decode(&input[6..], &mut out, 3),
        Ok(Decoded {
            consumed: input.len() - 6,
            done: true
        })
    );
    assert_eq!(out, b"hello");
}

#[test]
fn framing_after_the_budget_is_still_consumed() {
    let input = b"5\r\nhello\r\n0\r\n\r\n";
    let mut decoder = ChunkedDecoder::new();
    let mut out = Vec::new();
    assert_eq!(
        decoder.decode(input, &mut out, 5),
        Ok(Decoded {
            consumed: input.len(),
            done: true
        })
    );
    assert_eq!(out, b"hello");
}

#[test]
fn zero_budget_reads_up_to_the_data() {
    let mut decoder = ChunkedDecoder::new();
    let mut out = Vec::new();
    assert_eq!(
        decoder.decode(b"5;x\r\nhello", &mut out, 0),
        Ok(Decoded {
            consumed: 5,
            done: false
        })
    );
    assert!(out.is_empty());
}

#[test]
fn output_is_appended() {
    let mut decoder = ChunkedDecoder::new();
    let mut out = b"prefix:".to_vec();
    decoder
        .decode(b"2\r\nab\r\n0\r\n\r\n", &mut out, usize::MAX)
        .unwrap();
    assert_eq!(out, b"prefix:ab");
}

// Lifecycle.

#[test]
fn new_decoder_is_not_done_and_waits_on_empty_input() {
    let mut decoder = ChunkedDecoder::default();
    assert_eq!(decoder, ChunkedDecoder::new());
    assert!(!decoder.is_done());
    assert_eq!(
        decoder.decode(b"", &mut Vec::new(), usize::MAX),
        Ok(Decoded {
            consumed: 0,
            done: false
        })
    );
}

#[test]
fn done_decoder_consumes_nothing_more() {
    let mut decoder = ChunkedDecoder::new();
    let mut out = Vec::new();
    decoder.decode(b"0\r\n\r\n", &mut out, usize::MAX).unwrap();
    assert!(decoder.is_done());
    assert_eq!(
        decoder.decode(b"5\r\nhello\r\n", &mut out, usize::MAX),
        Ok(Decoded {
            consumed: 0,
            done: true
        })
    );
    assert!(out.is_empty());
}

#[test]
fn errors_are_sticky() {
    let mut decoder = ChunkedDecoder::new();
    let mut out = Vec::new();
    assert_eq!(
        decoder.decode(b"zz", &mut out, usize::MAX),
        Err(ChunkError::InvalidSizeLine)
    );
    assert_eq!(
        decoder.decode(b"0\r\n\r\n", &mut out, usize::MAX),
        Err(ChunkError::InvalidSizeLine)
    );
    assert_eq!(
        decoder.decode(b"", &mut out, usize::MAX),
        Err(ChunkError::InvalidSizeLine)
    );
    assert!(!decoder.is_done());
}

#[test]
fn rearm_starts_a_fresh_body() {
    let mut decoder = ChunkedDecoder::new();
    let mut out = Vec::new();
    decoder
        .decode(b"1\r\na\r\n0\r\n\r\n", &mut out, usize::MAX)
        .unwrap();
    assert!(decoder.is_done());
    decoder.rearm();
    assert!(!decoder.is_done());
    assert_eq!(
        decoder.decode(b"1\r\nb\r\n0\r\n\r\n", &mut out, usize::MAX),
        Ok(Decoded {
            consumed: 11,
            done: true
        })
    );
    assert_eq!(out, b"ab");
}
