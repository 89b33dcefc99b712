//! The chunked decoder as the server drives it (bytes arriving in arbitrary pieces, each read
//! asking for at most `max` bytes) against one call over the whole input: both must produce the
//! same body bytes, stop at the same place and agree on "done" and on the error.
//!
//! Input layout, so that plain chunked bodies work as seeds after two zero bytes:
//! byte 0: `max` per call (0: unlimited); byte 1: number of piece sizes that follow (mod 16);
//! then those sizes (0 stands for 1); the rest is the body, cut into pieces of those sizes in turn.
#![no_main]

use ferrowsgi_http::{ChunkError, ChunkedDecoder};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq, Eq)]
struct Run {
    out: Vec<u8>,
    consumed: usize,
    /// `Ok(true)`: done; `Ok(false)`: needs more input.
    end: Result<bool, ChunkError>,
}

fn whole(body: &[u8]) -> Run {
    let mut decoder = ChunkedDecoder::new();
    let mut out = Vec::new();
    let end = decoder.decode(body, &mut out, usize::MAX);
    let (consumed, end) = match end {
        Ok(decoded) => {
            assert!(decoded.done || decoded.consumed == body.len(), "stopped early without being done");
            assert_eq!(decoded.done, decoder.is_done());
            (decoded.consumed, Ok(decoded.done))
        }
        // Where it failed is not reported; the split run stops at the same byte, so compare output.
        Err(err) => (usize::MAX, Err(err)),
    };
    if let Err(err) = end {
        // An error sticks: the end of the body can no longer be found.
        assert_eq!(decoder.decode(b"0\r\n\r\n", &mut Vec::new(), usize::MAX), Err(err));
    } else if end == Ok(true) {
        // A finished body takes nothing more: the rest is the next request.
        let after = decoder.decode(b"GET", &mut out, usize::MAX).expect("no error after done");
        assert_eq!((after.consumed, after.done), (0, true));
    }
    Run { out, consumed, end }
}

fn split(body: &[u8], sizes: &[usize], max: usize) -> Run {
    let mut decoder = ChunkedDecoder::new();
    let mut out = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut consumed = 0;
    let mut at = 0;
    let mut turn = 0;
    while at < body.len() {
        let size = sizes[turn % sizes.len()].min(body.len() - at);
        turn += 1;
        pending.extend_from_slice(&body[at..at + size]);
        at += size;
        while !pending.is_empty() {
            let before = out.len();
            let decoded = match decoder.decode(&pending, &mut out, max) {
                Ok(decoded) => decoded,
                Err(err) => return Run { out, consumed: usize::MAX, end: Err(err) },
            };
            assert!(out.len() - before <= max, "produced more than max");
            assert!(decoded.consumed <= pending.len());
            // Every call makes progress, or the server would spin on a buffer it cannot use.
            assert!(decoded.consumed > 0 || decoded.done, "no progress on {} pending bytes", pending.len());
            pending.drain(..decoded.consumed);
            consumed += decoded.consumed;
            if decoded.done {
                return Run { out, consumed, end: Ok(true) };
            }
        }
    }
    Run { out, consumed, end: Ok(false) }
}

fuzz_target!(|data: &[u8]| {
    let Some((&max_byte, rest)) = data.split_first() else { return };
    let Some((&count, rest)) = rest.split_first() else { return };
    let count = usize::from(count % 16).min(rest.len());
    let (sizes, body) = rest.split_at(count);
    let mut sizes: Vec<usize> = sizes.iter().map(|&s| usize::from(s).max(1)).collect();
    if sizes.is_empty() {
        sizes.push(body.len().max(1));
    }
    let max = if max_byte == 0 { usize::MAX } else { usize::from(max_byte) };

    let reference = whole(body);
    let pieces = split(body, &sizes, max);
    assert_eq!(pieces, reference, "split into {sizes:?} with max {max}");
});
