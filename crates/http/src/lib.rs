//! HTTP/1.1 wire rules for ferrowsgi: request heads, chunked request bodies and the chunk framing
//! of responses. Pure functions and state machines over byte slices: no I/O, no async runtime, no
//! N-API, and no heap allocation per parsed request (header fields go into storage the caller
//! owns, as with httparse).
//!
//! The rules are RFC 9112's, stricter than eventlet wherever eventlet lets a request be read two
//! ways (request smuggling) while keeping eventlet's limits and error responses.
//!
//! Public surface:
//! - [`parse_request_head`] and [`request_line_received`] with [`Limits`], [`MAX_HEADERS`],
//!   [`Parsed`], [`RequestHead`], [`Version`], [`BodyFraming`] and [`HeadError`] (whose
//!   `response()` is the exact answer to write before closing, dated with an [`HttpDate`]);
//! - [`ChunkedDecoder`] with [`Decoded`] and [`ChunkError`] for `Transfer-Encoding: chunked`
//!   request bodies;
//! - [`chunk_size_line`], [`ChunkSizeLine`], [`LAST_CHUNK`] and [`CHUNK_END`] to frame chunked
//!   responses;
//! - [`Header`] and [`EMPTY_HEADER`], re-exported from httparse so callers can build the header
//!   storage without depending on httparse themselves.
//!
//! The head is parsed by this crate, not by `httparse::Request::parse`: httparse accepts bare LF,
//! and its errors cannot tell apart the reasons the server must log and answer differently. The
//! request target accepts exactly the bytes httparse accepts.

mod body_framing;
mod chunk_error;
mod chunk_framing;
mod chunked;
mod content_length;
mod head;
mod head_error;
mod header_line;
mod http_date;
mod limits;
mod line;
mod list;
mod request_line;
mod syntax;
mod transfer_encoding;
mod version;

pub use body_framing::BodyFraming;
pub use chunk_error::ChunkError;
pub use chunk_framing::{chunk_size_line, ChunkSizeLine, CHUNK_END, LAST_CHUNK};
pub use chunked::{ChunkedDecoder, Decoded};
pub use head::{parse_request_head, request_line_received, Parsed, RequestHead};
pub use head_error::HeadError;
pub use http_date::HttpDate;
pub use httparse::{Header, EMPTY_HEADER};
pub use limits::{Limits, MAX_HEADERS};
pub use version::Version;
