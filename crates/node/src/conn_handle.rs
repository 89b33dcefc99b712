//! The JS-facing side of one connection: what `respond`, `write` and the other calls do on the
//! JS thread before (and mostly instead of) involving the connection task.
//!
//! Writes are tried right here, on the socket itself, when nothing is queued for the task: the
//! common response fits in the socket buffer and is done without waking any other thread. What
//! the socket does not take now is handed to the task, in order; from then on every write goes
//! through the task until it has caught up, so bytes can never overtake each other.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{Notify, OwnedSemaphorePermit};

use crate::command::{write_flags, BodyBytes, Command, End, Framing};
use crate::events::EventQueue;
use crate::outgoing::Outgoing;
use crate::response_writer::ResponseWriter;
use crate::shared_stream::DirectWrite;

/// Above this many bytes waiting for the task, `respond`/`write` tell JS to wait for DRAIN.
pub const HIGH_WATER_MARK: usize = 64 * 1024;

pub struct ConnHandle {
    pub id: u32,
    commands: UnboundedSender<Command>,
    /// The socket, for writes from the JS thread.
    direct: Arc<dyn DirectWrite>,
    outbox: Mutex<Outbox>,
    /// Set when the JS thread finished a keep-alive response by itself.
    ended: AtomicBool,
    /// Wakes the task for `ended` when it waits for it.
    pub end_wake: Notify,
    events: Arc<EventQueue>,
}

#[derive(Default)]
struct Outbox {
    /// The response in progress, between `respond` and the call with END.
    writer: Option<ResponseWriter>,
    /// Bytes handed to the task and not yet written.
    queued: usize,
    drain_wanted: bool,
    /// The request's place under `maxSize`, given back when its response ends.
    permit: Option<OwnedSemaphorePermit>,
}

impl ConnHandle {
    pub fn new(
        id: u32,
        commands: UnboundedSender<Command>,
        direct: Arc<dyn DirectWrite>,
        events: Arc<EventQueue>,
    ) -> Self {
        ConnHandle {
            id,
            commands,
            direct,
            outbox: Mutex::new(Outbox::default()),
            ended: AtomicBool::new(false),
            end_wake: Notify::new(),
            events,
        }
    }

    /// Starts a response; false when JS should wait for DRAIN.
    pub fn respond(&self, head: Vec<u8>, framing: Framing, body: BodyBytes, flags: u32) -> bool {
        let mut outbox = self.outbox.lock().expect("outbox poisoned");
        outbox.writer = Some(ResponseWriter::new(framing));
        self.send_body(&mut outbox, head, body, flags)
    }

    /// More of the response body; false when JS should wait for DRAIN.
    pub fn write(&self, body: BodyBytes, flags: u32) -> bool {
        let mut outbox = self.outbox.lock().expect("outbox poisoned");
        self.send_body(&mut outbox, Vec::new(), body, flags)
    }

    /// An interim response, written as is.
    pub fn interim(&self, head: Vec<u8>) {
        let mut outbox = self.outbox.lock().expect("outbox poisoned");
        self.send(&mut outbox, Outgoing::raw(head), None);
    }

    pub fn command(&self, command: Command) {
        // A closed channel means the task is gone; its CLOSED event tells JS.
        let _ = self.commands.send(command);
    }

    /// Called by the task after writing `bytes` it was handed; true when a DRAIN event is due.
    pub fn written(&self, bytes: usize) -> bool {
        let mut outbox = self.outbox.lock().expect("outbox poisoned");
        outbox.queued -= bytes;
        let due = outbox.queued <= HIGH_WATER_MARK && outbox.drain_wanted;
        if due {
            outbox.drain_wanted = false;
        }
        due
    }

    pub fn hold_permit(&self, permit: OwnedSemaphorePermit) {
        self.outbox.lock().expect("outbox poisoned").permit = Some(permit);
    }

    pub fn release_permit(&self) {
        self.outbox.lock().expect("outbox poisoned").permit = None;
    }

    /// Whether the JS thread ended a keep-alive response by itself since the last call.
    pub fn take_ended(&self) -> bool {
        self.ended.swap(false, Ordering::AcqRel)
    }

    fn send_body(&self, outbox: &mut Outbox, head: Vec<u8>, body: BodyBytes, flags: u32) -> bool {
        // A write before `respond` would put body bytes on the wire without a head: the JS side
        // never does it, and it is dropped if it happens.
        let Some(writer) = outbox.writer.as_mut() else {
            return true;
        };
        let end = flags & write_flags::END != 0;
        let out = Outgoing::framed(head, body, writer, end);
        let end = end.then(|| End {
            keep_alive: flags & write_flags::KEEP_ALIVE != 0 && writer.end().reusable,
            notify: flags & write_flags::NOTIFY != 0,
        });
        if end.is_some() {
            outbox.writer = None;
            outbox.permit = None;
        }
        self.send(outbox, out, end)
    }

    fn send(&self, outbox: &mut Outbox, mut out: Outgoing, end: Option<End>) -> bool {
        if outbox.queued == 0 {
            // An error is left for the task to meet and report, with the rest of the bytes.
            let _ = write_now(self.direct.as_ref(), &mut out);
        }
        if out.is_done() {
            match end {
                None => return true,
                Some(end) if end.keep_alive => {
                    if end.notify {
                        self.events.done(self.id, true);
                    }
                    self.ended.store(true, Ordering::Release);
                    self.end_wake.notify_one();
                    return true;
                }
                // A response that closes the connection goes through the task, which closes it.
                Some(_) => {}
            }
        }
        outbox.queued += out.remaining();
        self.command(Command::Send {
            out: Box::new(out),
            end,
        });
        if outbox.queued > HIGH_WATER_MARK {
            outbox.drain_wanted = true;
            false
        } else {
            true
        }
    }
}

/// Writes what the socket takes without waiting.
fn write_now(direct: &dyn DirectWrite, out: &mut Outgoing) -> io::Result<()> {
    while !out.is_done() {
        match direct.try_write_vectored(&out.slices()) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => out.advance(n),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
