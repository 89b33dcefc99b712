//! The JS-facing side of one connection: what `respond`, `write` and the other calls do on the
//! JS thread before (and mostly instead of) involving the connection task.
//!
//! Writes are tried right here, on the socket itself, when nothing is queued for the task: the
//! common response fits in the socket buffer and is done without waking any other thread. What
//! the socket does not take now is handed to the task, in order; from then on every write goes
//! through the task until it has caught up, so bytes can never overtake each other.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
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
    /// Keep-alive responses the JS thread finished by itself, not yet counted by the task.
    ended: AtomicU32,
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
    /// The connection's place under `maxSize`, given back when the last response in flight
    /// ends: requests dispatched ahead of their turn share their predecessor's.
    permit: Option<OwnedSemaphorePermit>,
    /// Requests dispatched to JS whose responses have not ended.
    in_flight: u32,
    /// Whole keep-alive responses held back (CORK) to leave with the next write, and how many.
    corked: Vec<u8>,
    corked_ends: u32,
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
            ended: AtomicU32::new(0),
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
        self.send(&mut outbox, Outgoing::raw(head), None, false);
    }

    /// Writes the responses held back by CORK.
    pub fn uncork(&self) {
        let mut outbox = self.outbox.lock().expect("outbox poisoned");
        self.flush_corked(&mut outbox);
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

    /// A request is dispatched under `permit`.
    pub fn hold_permit(&self, permit: OwnedSemaphorePermit) {
        let mut outbox = self.outbox.lock().expect("outbox poisoned");
        outbox.permit = Some(permit);
        outbox.in_flight = 1;
    }

    /// One more request is dispatched before the responses in flight have ended.
    pub fn dispatched_ahead(&self) {
        self.outbox.lock().expect("outbox poisoned").in_flight += 1;
    }

    pub fn release_permit(&self) {
        let mut outbox = self.outbox.lock().expect("outbox poisoned");
        outbox.permit = None;
        outbox.in_flight = 0;
    }

    /// How many keep-alive responses the JS thread ended by itself since the last call.
    pub fn take_ended(&self) -> u32 {
        self.ended.swap(0, Ordering::AcqRel)
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
            outbox.in_flight = outbox.in_flight.saturating_sub(1);
            if outbox.in_flight == 0 {
                outbox.permit = None;
            }
        }
        self.send(outbox, out, end, flags & write_flags::CORK != 0)
    }

    fn send(&self, outbox: &mut Outbox, mut out: Outgoing, end: Option<End>, cork: bool) -> bool {
        // Only whole keep-alive responses wait, and only while nothing waits for the task: their
        // ends are counted when they are written, so the task never runs ahead of them.
        let keep_alive_end = end.is_some_and(|end| end.keep_alive && !end.notify);
        if cork && keep_alive_end && outbox.queued == 0 {
            if let Some(bytes) = out.take_contiguous() {
                outbox.corked.extend_from_slice(&bytes);
                outbox.corked_ends += 1;
                return true;
            }
        }
        if !outbox.corked.is_empty() {
            // Usually this response can go out in the same write as the held ones.
            if let Some(bytes) = out.take_contiguous() {
                outbox.corked.extend_from_slice(&bytes);
            }
            self.flush_corked(outbox);
        }
        if outbox.queued == 0 {
            // An error is left for the task to meet and report, with the rest of the bytes.
            let _ = write_now(self.direct.as_ref(), &mut out);
        }
        if out.is_done() {
            match end {
                None => return true,
                // Not while bytes ahead of it wait for the task: it counts the end after them.
                Some(end) if end.keep_alive && outbox.queued == 0 => {
                    if end.notify {
                        self.events.done(self.id, true);
                    }
                    self.ended.fetch_add(1, Ordering::Release);
                    self.end_wake.notify_one();
                    return true;
                }
                // A response that closes the connection goes through the task, which closes it.
                Some(_) => {}
            }
        }
        self.queue(outbox, out, end);
        if outbox.queued > HIGH_WATER_MARK {
            outbox.drain_wanted = true;
            false
        } else {
            true
        }
    }

    fn queue(&self, outbox: &mut Outbox, out: Outgoing, end: Option<End>) {
        outbox.queued += out.remaining();
        self.command(Command::Send {
            out: Box::new(out),
            end,
        });
    }

    /// Writes the held responses; what the socket does not take goes to the task, followed by
    /// one empty step per response so that the task counts each end once its bytes are out.
    fn flush_corked(&self, outbox: &mut Outbox) {
        if outbox.corked.is_empty() {
            return;
        }
        let mut out = Outgoing::raw(std::mem::take(&mut outbox.corked));
        let ends = std::mem::take(&mut outbox.corked_ends);
        if outbox.queued == 0 {
            let _ = write_now(self.direct.as_ref(), &mut out);
        }
        if out.is_done() {
            self.ended.fetch_add(ends, Ordering::Release);
            self.end_wake.notify_one();
            return;
        }
        self.queue(outbox, out, None);
        let end = End {
            keep_alive: true,
            notify: false,
        };
        for _ in 0..ends {
            self.queue(outbox, Outgoing::raw(Vec::new()), Some(end));
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
