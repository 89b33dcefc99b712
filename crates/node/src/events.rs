//! The Rust → JS half of the bridge: one queue of encoded events per server, drained in batches.
//!
//! Events are encoded straight into the queue's byte buffer (BRIDGE.md, "The event batch"). The
//! first event into an empty queue wakes the JS thread; that wake hands *everything* queued by
//! then to JavaScript as one `Buffer`. Under load many requests share one wake, one Buffer and
//! one JS call, which is what makes the hop cheap.

use std::sync::Mutex;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

use crate::body_pool::{self, PooledBuffer};

/// What one wake hands to JS: the encoded events, and the large payloads they refer to.
pub type BatchArgs = FnArgs<(Buffer, Option<Vec<PooledBuffer>>)>;

/// The JS function that receives batches, its result ignored.
pub type BatchFunction = ThreadsafeFunction<(), Unknown<'static>, BatchArgs, Status, false>;

/// DATA payloads at least this large travel beside the batch as Buffers of their own, so they
/// are not copied into it.
const OUT_OF_BAND_MIN: usize = 16 * 1024;
/// DATA flag bits (BRIDGE.md).
const DATA_END: u8 = 1;
const DATA_OUT_OF_BAND: u8 = 2;

#[derive(Clone, Copy)]
#[repr(u8)]
enum Kind {
    Request = 1,
    Data = 2,
    Error = 3,
    Drain = 4,
    Done = 5,
    Closed = 6,
    Log = 7,
    ServerClosed = 8,
}

/// REQUEST flags (BRIDGE.md).
pub mod request_flags {
    pub const HTTP_11: u32 = 1;
    pub const BODY_LENGTH: u32 = 1 << 1;
    pub const BODY_CHUNKED: u32 = 2 << 1;
    pub const BODY_COMPLETE: u32 = 1 << 3;
    pub const EXPECT_CONTINUE: u32 = 1 << 4;
    pub const CONNECTION_CLOSE: u32 = 1 << 5;
    pub const CONNECTION_KEEP_ALIVE: u32 = 1 << 6;
    pub const TLS: u32 = 1 << 7;
    pub const PIPELINED_NEXT: u32 = 1 << 8;
    pub const BODY_PUSHED: u32 = 1 << 9;
}

/// Why a connection closed, as CLOSED tells JS (BRIDGE.md): what the log says of a response
/// that could not be completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CloseCause {
    /// The client closed or reset it, a write to it failed, or its exchange was over.
    Ended = 0,
    /// A read or write made no progress for `socketTimeout`.
    TimedOut = 1,
    /// The server was aborted (`close()`'s timeout).
    Aborted = 2,
}

pub struct EventQueue {
    inner: Mutex<Inner>,
}

struct Inner {
    pending: Vec<u8>,
    payloads: Vec<Vec<u8>>,
    /// Taken out once SERVER_CLOSED is queued: releasing it lets the Node event loop exit.
    wake: Option<BatchFunction>,
}

impl EventQueue {
    pub fn new() -> Self {
        EventQueue {
            inner: Mutex::new(Inner {
                pending: Vec::with_capacity(16 * 1024),
                payloads: Vec::new(),
                wake: None,
            }),
        }
    }

    /// The wake is built from a callback that drains this queue, so it is set after creation.
    pub fn set_wake(&self, wake: BatchFunction) {
        self.inner.lock().expect("event queue poisoned").wake = Some(wake);
    }

    /// Everything queued so far, for the JS thread. Called by the wake itself.
    pub fn take_batch(&self) -> BatchArgs {
        let (batch, payloads) = {
            let mut inner = self.inner.lock().expect("event queue poisoned");
            (
                std::mem::take(&mut inner.pending),
                std::mem::take(&mut inner.payloads),
            )
        };
        let payloads =
            (!payloads.is_empty()).then(|| payloads.into_iter().map(PooledBuffer).collect());
        FnArgs::from((Buffer::from(batch), payloads))
    }

    /// Encodes a REQUEST. `write_text` appends the NUL-separated text, `body` is the prefix.
    pub fn request(
        &self,
        conn: u32,
        flags: u32,
        write_text: impl FnOnce(&mut Vec<u8>),
        body: &[u8],
    ) {
        self.push(|out, _| {
            header(out, Kind::Request, conn);
            out.extend_from_slice(&flags.to_le_bytes());
            let len_at = out.len();
            out.extend_from_slice(&[0; 4]);
            write_text(out);
            let text_len = (out.len() - len_at - 4) as u32;
            out[len_at..len_at + 4].copy_from_slice(&text_len.to_le_bytes());
            bytes(out, body);
        });
    }

    pub fn data(&self, conn: u32, end: bool, data: Vec<u8>) {
        let end = if end { DATA_END } else { 0 };
        if data.len() < OUT_OF_BAND_MIN {
            self.push(|out, _| {
                header(out, Kind::Data, conn);
                out.push(end);
                bytes(out, &data);
            });
            body_pool::give_back(data);
        } else {
            self.push(|out, payloads| {
                header(out, Kind::Data, conn);
                out.push(end | DATA_OUT_OF_BAND);
                out.extend_from_slice(&(payloads.len() as u32).to_le_bytes());
                payloads.push(data);
            });
        }
    }

    pub fn error(&self, conn: u32, message: &str) {
        self.push(|out, _| {
            header(out, Kind::Error, conn);
            bytes(out, message.as_bytes());
        });
    }

    pub fn drain(&self, conn: u32) {
        self.push(|out, _| header(out, Kind::Drain, conn));
    }

    pub fn done(&self, conn: u32, ok: bool) {
        self.push(|out, _| {
            header(out, Kind::Done, conn);
            out.push(u8::from(ok));
        });
    }

    pub fn closed(&self, conn: u32, cause: CloseCause) {
        self.push(|out, _| {
            header(out, Kind::Closed, conn);
            out.push(cause as u8);
        });
    }

    pub fn log(&self, line: &str) {
        self.push(|out, _| {
            header(out, Kind::Log, 0);
            bytes(out, line.as_bytes());
        });
    }

    /// The last event of a server. The wake is released after it, so the process may exit.
    pub fn server_closed(&self) {
        let wake = {
            let mut inner = self.inner.lock().expect("event queue poisoned");
            header(&mut inner.pending, Kind::ServerClosed, 0);
            inner.wake.take()
        };
        if let Some(wake) = wake {
            wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    fn push(&self, encode: impl FnOnce(&mut Vec<u8>, &mut Vec<Vec<u8>>)) {
        let mut inner = self.inner.lock().expect("event queue poisoned");
        let was_empty = inner.pending.is_empty();
        let Inner {
            pending, payloads, ..
        } = &mut *inner;
        encode(pending, payloads);
        if was_empty {
            if let Some(wake) = &inner.wake {
                wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
            }
        }
    }
}

fn header(out: &mut Vec<u8>, kind: Kind, conn: u32) {
    out.push(kind as u8);
    out.extend_from_slice(&conn.to_le_bytes());
}

fn bytes(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
}
