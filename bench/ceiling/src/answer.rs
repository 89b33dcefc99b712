//! What the ceiling answers to the bytes a connection has sent so far: one response for each
//! complete request head, in order, so that pipelined requests are answered in one write.

use httparse::{Request, Status, EMPTY_HEADER};

/// The seed's hello world body, as ferrowsgi's hello world app returns it.
pub const BODY: &[u8] = b"Hello, World!\r\n";
/// More than a browser sends; a head with more fields is an error, which ends the connection.
const MAX_HEADERS: usize = 64;

#[derive(Debug, PartialEq, Eq)]
pub struct Answered {
    /// Bytes of `input` taken by the requests answered; the rest is the start of the next.
    pub consumed: usize,
    /// The connection ends after the responses written so far.
    pub close: bool,
}

/// Appends `response` to `output` once per complete request at the start of `input`.
///
/// This server answers requests without a body: a request that announces one, a malformed head,
/// an HTTP/1.0 request or `Connection: close` ends the connection (after the responses to the
/// requests before it), rather than being misread.
pub fn answer(input: &[u8], response: &[u8], output: &mut Vec<u8>) -> Answered {
    let mut consumed = 0;
    loop {
        let mut headers = [EMPTY_HEADER; MAX_HEADERS];
        let mut request = Request::new(&mut headers);
        let length = match request.parse(&input[consumed..]) {
            Ok(Status::Complete(length)) => length,
            Ok(Status::Partial) => {
                return Answered {
                    consumed,
                    close: false,
                }
            }
            Err(_) => {
                return Answered {
                    consumed,
                    close: true,
                }
            }
        };
        if has_body(&request) {
            return Answered {
                consumed,
                close: true,
            };
        }
        consumed += length;
        output.extend_from_slice(response);
        if request.version != Some(1) || asks_to_close(&request) {
            return Answered {
                consumed,
                close: true,
            };
        }
    }
}

fn has_body(request: &Request) -> bool {
    request.headers.iter().any(|header| {
        header.name.eq_ignore_ascii_case("transfer-encoding")
            || (header.name.eq_ignore_ascii_case("content-length") && header.value != b"0")
    })
}

fn asks_to_close(request: &Request) -> bool {
    request.headers.iter().any(|header| {
        header.name.eq_ignore_ascii_case("connection")
            && header
                .value
                .split(|&byte| byte == b',')
                .any(|option| option.trim_ascii().eq_ignore_ascii_case(b"close"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESPONSE: &[u8] = b"R";
    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    fn run(input: &[u8]) -> (Answered, Vec<u8>) {
        let mut output = Vec::new();
        (answer(input, RESPONSE, &mut output), output)
    }

    #[test]
    fn answers_every_pipelined_request_and_keeps_a_partial_one() {
        let input = [GET, GET, &GET[..10]].concat();
        assert_eq!(
            run(&input),
            (
                Answered {
                    consumed: 2 * GET.len(),
                    close: false
                },
                b"RR".to_vec()
            )
        );
    }

    #[test]
    fn connection_close_ends_after_its_response() {
        let close = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive, Close\r\n\r\n";
        let input = [close.as_slice(), GET].concat();
        assert_eq!(
            run(&input),
            (
                Answered {
                    consumed: close.len(),
                    close: true
                },
                b"R".to_vec()
            )
        );
    }

    #[test]
    fn http_1_0_is_answered_once() {
        assert_eq!(
            run(b"GET / HTTP/1.0\r\n\r\n"),
            (
                Answered {
                    consumed: 18,
                    close: true
                },
                b"R".to_vec()
            )
        );
    }

    #[test]
    fn a_request_with_a_body_or_a_bad_head_ends_the_connection_unanswered() {
        let post = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(
            run(post),
            (
                Answered {
                    consumed: 0,
                    close: true
                },
                Vec::new()
            )
        );
        let input = [GET, b"GET / HTTP/9\r\n\r\n"].concat();
        assert_eq!(
            run(&input),
            (
                Answered {
                    consumed: GET.len(),
                    close: true
                },
                b"R".to_vec()
            )
        );
    }
}
