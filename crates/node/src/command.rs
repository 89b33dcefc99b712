//! The JS → Rust half of the bridge: what the JS thread asks a connection task to do.

/// How the response body is delimited on the wire (the `framing` argument of `respond`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`: extra bytes are dropped, a short body closes the connection.
    Length(u64),
    /// `Transfer-Encoding: chunked`, framed here.
    Chunked,
    /// Delimited by closing the connection.
    UntilClose,
    /// No body may be sent (HEAD, 1xx, 204, 304).
    Bodiless,
}

impl Framing {
    pub fn from_js(value: i64) -> Option<Framing> {
        match value {
            n if n >= 0 => Some(Framing::Length(n as u64)),
            -1 => Some(Framing::Chunked),
            -2 => Some(Framing::UntilClose),
            -3 => Some(Framing::Bodiless),
            _ => None,
        }
    }
}

/// Flags of `respond` and `write` (BRIDGE.md).
pub mod write_flags {
    pub const END: u32 = 1;
    pub const KEEP_ALIVE: u32 = 2;
    pub const NOTIFY: u32 = 4;
}

/// Body bytes from JS: small ones copied, large ones kept where JS put them.
pub enum BodyBytes {
    Copied(Vec<u8>),
    Shared(napi::bindgen_prelude::Buffer),
}

impl std::ops::Deref for BodyBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            BodyBytes::Copied(bytes) => bytes,
            BodyBytes::Shared(buffer) => buffer,
        }
    }
}

pub enum Command {
    Respond { head: Vec<u8>, framing: Framing, body: BodyBytes, flags: u32 },
    Write { body: BodyBytes, flags: u32 },
    Interim(Vec<u8>),
    /// Up to `max` body bytes; with `fill`, not before `max` are there or the body ended.
    Read { max: usize, fill: bool },
    Rearm,
    Abort,
}
