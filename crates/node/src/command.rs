//! What the JS thread asks of a connection: the framing it chose, and the commands that reach
//! the connection task.

use crate::outgoing::Outgoing;

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
    /// More responses on this connection follow at once: hold the bytes of this one until the
    /// next one or `uncork` (BRIDGE.md).
    pub const CORK: u32 = 8;
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

/// How a response ended, as decided on the JS thread.
#[derive(Clone, Copy)]
pub struct End {
    /// The client may send another request on this connection.
    pub keep_alive: bool,
    /// Send DONE once the last byte is written.
    pub notify: bool,
}

pub enum Command {
    /// Write these bytes (what the JS thread could not write itself), then end if `end`.
    /// Boxed: every connection's channel holds a block of 32 commands from the start, and
    /// commands as large as `Outgoing` would make that several KiB per idle connection.
    Send {
        out: Box<Outgoing>,
        end: Option<End>,
    },
    /// Up to `max` body bytes; with `fill`, not before `max` are there or the body ended.
    Read {
        max: usize,
        fill: bool,
    },
    Rearm,
    Abort,
}
