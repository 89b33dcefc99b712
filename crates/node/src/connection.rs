//! One task per connection: read a head, hand the request to JS, carry out what JS asks until
//! the response ends, then discard any unread body and read the next request.
//!
//! The task does all the reading of the socket. The JS thread writes responses to it directly
//! when it can (`conn_handle`); for everything else JS reaches the task through `Command`s, and
//! hears from it only through the event queue.

use std::sync::Arc;

use ferrowsgi_http::{
    parse_request_head, request_line_received, BodyFraming, HeadError, HttpDate, Parsed,
    RequestHead, Version, MAX_HEADERS,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::{Sender, UnboundedReceiver};
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::{sleep_until, Instant};

use crate::body_pool;
use crate::command::Command;
use crate::conn_handle::ConnHandle;
use crate::events::{request_flags, CloseCause};
use crate::input_buffer::{InputBuffer, BODY_READ, HEAD_READ};
use crate::outgoing::Outgoing;
use crate::request_body::RequestBody;
use crate::server_context::{Lifecycle, ServerContext};
use crate::shared_stream::{ReadReady, ReadyStream, SharedStream};

/// A body up to this size that arrived with its head travels with the REQUEST, so it needs no
/// `read` round trip.
const BODY_PREFIX_MAX: usize = 64 * 1024;
/// A Content-Length body up to this size is read and sent to JS without waiting for the app to
/// ask (REQUEST flag BODY_PUSHED), while the server's push budget allows: `read()` of the whole
/// body then costs no round trip to this task.
const PUSH_MAX: u64 = 1024 * 1024;
/// How much of a pipelined next request is buffered while the current one is in progress.
const LOOKAHEAD_MAX: usize = 64 * 1024;
/// The most requests of one connection handed to JS at once: pipelined requests without a body
/// go ahead of the response to the one before them, and JS runs them in order.
const IN_FLIGHT_MAX: u32 = 32;

/// A `read` from JS being gathered.
struct PendingRead {
    max: usize,
    fill: bool,
    bytes: Vec<u8>,
}

/// A body read before the app asked for it (BODY_PUSHED), under its share of the push budget.
struct PushedBody {
    read: PendingRead,
    _budget: OwnedSemaphorePermit,
}

/// Who is on the other end, as the environ shows it:
/// `remote \0 port \0 local \0 port \0 clientSubject` (BRIDGE.md, REQUEST).
pub struct Peer {
    pub text: Vec<u8>,
    pub tls: bool,
    /// The client address for log lines.
    pub remote: String,
}

/// How one exchange left the connection.
enum Outcome {
    /// The response is complete and the connection may carry another request.
    KeepAlive,
    Close,
}

pub struct Connection<S> {
    io: S,
    peer: Peer,
    ctx: Arc<ServerContext>,
    handle: Arc<ConnHandle>,
    commands: UnboundedReceiver<Command>,
    lifecycle: watch::Receiver<Lifecycle>,
    input: InputBuffer,
    /// The REQUEST text under construction (reused between requests).
    text: Vec<u8>,
    /// Whether JS has heard of this connection, and of its end.
    closed: Closed,
    /// What CLOSED will say ended the connection.
    cause: CloseCause,
    /// Held while the task runs: the server's close waits until every sender is gone.
    _alive: Sender<()>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Closed {
    /// No request yet: JS does not know the connection, so its end is no news.
    Unknown,
    NotYet,
    Reported,
}

/// What the head of a request told us, once the borrow of the input buffer is over.
struct RequestStart {
    flags: u32,
    framing: BodyFraming,
}

impl<T: ReadyStream> Connection<SharedStream<T>> {
    /// A connection over a socket (plain or TLS) that the JS thread may also write to.
    pub fn shared(stream: T, peer: Peer, ctx: Arc<ServerContext>, alive: Sender<()>) -> Self {
        let stream = Arc::new(stream);
        let (handle, commands) = ctx.registry.open(stream.clone(), ctx.events.clone());
        let lifecycle = ctx.lifecycle.subscribe();
        Connection {
            io: SharedStream(stream),
            peer,
            ctx,
            handle,
            commands,
            lifecycle,
            input: InputBuffer::new(),
            text: Vec::new(),
            closed: Closed::Unknown,
            cause: CloseCause::Ended,
            _alive: alive,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + ReadReady + Unpin> Connection<S> {
    pub async fn run(mut self) {
        self.serve().await;
        self.ctx.registry.remove(self.handle.id);
        self.report_closed();
        let _ = self.io.shutdown().await;
    }

    async fn serve(&mut self) {
        loop {
            let Some(start) = self.next_request().await else {
                return;
            };
            let Some(permit) = self.acquire_permit().await else {
                return;
            };
            // The request is in progress until its response ends, which the JS thread may see
            // first: the handle holds the permit and gives it back at the end.
            self.handle.hold_permit(permit);
            let (mut body, pushed) = self.dispatch(start);
            let outcome = self.exchange(&mut body, pushed).await;
            self.handle.release_permit();
            match outcome {
                Outcome::KeepAlive => {}
                Outcome::Close => return,
            }
            if *self.lifecycle.borrow() != Lifecycle::Running || !self.discard(&mut body).await {
                return;
            }
            self.input.release_if_empty();
        }
    }

    /// Hands the request whose text is in `self.text` to JS, with its body when it is all here.
    /// A small Content-Length body still on its way is pushed to JS once complete: the read that
    /// does so is returned.
    fn dispatch(&mut self, start: RequestStart) -> (RequestBody, Option<PushedBody>) {
        let mut body = RequestBody::new(start.framing);
        let mut flags = start.flags;
        let prefix = body.take_whole(&mut self.input, BODY_PREFIX_MAX);
        if prefix.is_some() {
            flags |= request_flags::BODY_COMPLETE;
        }
        let pushed = self.push(&body, flags);
        if pushed.is_some() {
            flags |= request_flags::BODY_PUSHED;
        }
        let prefix = prefix.unwrap_or_default();
        if body.is_complete() && self.next_head_goes_ahead() {
            flags |= request_flags::PIPELINED_NEXT;
        }
        let text = &self.text;
        self.ctx.events.request(
            self.handle.id,
            flags,
            |out| out.extend_from_slice(text),
            &prefix,
        );
        self.input.release_if_empty();
        if self.closed == Closed::Unknown {
            self.closed = Closed::NotYet;
        }
        (body, pushed)
    }

    /// The read that pushes `body` to JS unasked, when it is a Content-Length body of at most
    /// `PUSH_MAX` bytes still to come, no interim response is expected first, and the push
    /// budget has room for it.
    fn push(&self, body: &RequestBody, flags: u32) -> Option<PushedBody> {
        let remaining = body
            .remaining_length()
            .filter(|&n| n > 0 && n <= PUSH_MAX)? as usize;
        if flags & request_flags::EXPECT_CONTINUE != 0 {
            return None;
        }
        let budget = self
            .ctx
            .push_budget
            .clone()
            .try_acquire_many_owned(remaining as u32)
            .ok()?;
        Some(PushedBody {
            read: PendingRead {
                max: remaining,
                fill: true,
                bytes: body_pool::take(remaining),
            },
            _budget: budget,
        })
    }

    /// Waits for a complete request head and prepares its REQUEST text in `self.text`.
    /// `None`: the connection is over (end of stream, timeout, shutdown or a rejected head).
    async fn next_request(&mut self) -> Option<RequestStart> {
        let timeouts = self.ctx.timeouts;
        let idle_deadline = timeouts.keepalive.map(|t| Instant::now() + t);
        let mut head_deadline = None;
        loop {
            if !self.input.is_empty() {
                head_deadline =
                    head_deadline.or_else(|| timeouts.header.map(|t| Instant::now() + t));
                match self.parse_head() {
                    Ok(Some(start)) => return Some(start),
                    Ok(None) => {}
                    Err(err) => {
                        self.reject(err).await;
                        return None;
                    }
                }
            }
            // A connection is idle until its request line is complete: a graceful close ends it
            // then, rather than waiting for a head that one byte began (as eventlet does).
            if *self.lifecycle.borrow() != Lifecycle::Running
                && !request_line_received(self.input.data())
            {
                return None;
            }
            // Before the first byte of a head the keep-alive limit applies, after it the header
            // one; and no read may stall longer than the socket timeout.
            let phase_deadline = if self.input.is_empty() {
                idle_deadline
            } else {
                head_deadline
            };
            let deadline = earliest(phase_deadline, timeouts.socket.map(|t| Instant::now() + t));
            tokio::select! {
                read = self.input.read_from(&mut self.io, HEAD_READ) => match read {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                },
                () = sleep_until_opt(deadline) => return None,
                changed = self.lifecycle.changed() => {
                    if changed.is_err() || *self.lifecycle.borrow() == Lifecycle::Aborting {
                        return None;
                    }
                }
            }
        }
    }

    fn parse_head(&mut self) -> Result<Option<RequestStart>, HeadError> {
        self.parse_head_if(|_| true)
    }

    /// The next pipelined request, if it may go to JS before the responses in flight have
    /// ended: its head is complete and valid, it is HTTP/1.1, keeps the connection, has no body
    /// and expects no interim response. Anything else waits for its turn, as before.
    fn parse_head_ahead(&mut self) -> Option<RequestStart> {
        self.parse_head_if(goes_ahead).ok().flatten()
    }

    /// Whether the buffered input starts with a head that `parse_head_ahead` would take.
    fn next_head_goes_ahead(&self) -> bool {
        if self.input.is_empty() {
            return false;
        }
        let mut storage = [ferrowsgi_http::EMPTY_HEADER; MAX_HEADERS];
        match parse_request_head(self.input.data(), &self.ctx.limits, &mut storage) {
            Ok(Parsed::Complete(head)) => goes_ahead(&RequestStart {
                flags: self.flags_of(&head),
                framing: head.framing,
            }),
            _ => false,
        }
    }

    /// A complete head that `accept` takes is consumed and its REQUEST text prepared.
    fn parse_head_if(
        &mut self,
        accept: impl FnOnce(&RequestStart) -> bool,
    ) -> Result<Option<RequestStart>, HeadError> {
        let mut storage = [ferrowsgi_http::EMPTY_HEADER; MAX_HEADERS];
        let head = match parse_request_head(self.input.data(), &self.ctx.limits, &mut storage)? {
            Parsed::Partial => return Ok(None),
            Parsed::Complete(head) => head,
        };
        let start = RequestStart {
            flags: self.flags_of(&head),
            framing: head.framing,
        };
        if !accept(&start) {
            return Ok(None);
        }
        encode_request_text(&mut self.text, &head, &self.peer.text);
        let consumed = head.len;
        self.input.consume(consumed);
        Ok(Some(start))
    }

    fn flags_of(&self, head: &RequestHead<'_, '_>) -> u32 {
        let mut flags = match head.framing {
            BodyFraming::None => 0,
            BodyFraming::Length(_) => request_flags::BODY_LENGTH,
            BodyFraming::Chunked => request_flags::BODY_CHUNKED,
        };
        if head.version == Version::Http11 {
            flags |= request_flags::HTTP_11;
        }
        if head.expect_continue {
            flags |= request_flags::EXPECT_CONTINUE;
        }
        if head.connection_close {
            flags |= request_flags::CONNECTION_CLOSE;
        }
        if head.connection_keep_alive {
            flags |= request_flags::CONNECTION_KEEP_ALIVE;
        }
        if self.peer.tls {
            flags |= request_flags::TLS;
        }
        flags
    }

    /// Answers a head that breaks a rule, without involving JS, and logs why.
    async fn reject(&mut self, err: HeadError) {
        self.ctx.events.log(&format!(
            "{} - rejected request: {}",
            self.peer.remote,
            err.reason()
        ));
        let _ = self
            .write_out(&mut Outgoing::raw(err.response(&HttpDate::now())))
            .await;
    }

    /// Waits for room under `maxSize`; `None` when the server is aborted meanwhile.
    async fn acquire_permit(&mut self) -> Option<OwnedSemaphorePermit> {
        let permits = self.ctx.permits.clone();
        tokio::select! {
            permit = permits.acquire_owned() => permit.ok(),
            () = aborted(&mut self.lifecycle) => None,
        }
    }

    /// Carries out JS's commands for the current request until its response, and those of the
    /// pipelined requests dispatched ahead of their turn, have ended.
    ///
    /// The JS thread usually writes the response itself and only flags its end (`take_ended`);
    /// the task learns of it when the client's next request arrives, so a keep-alive exchange
    /// needs no wake of this task at all. Meanwhile the socket is watched: a reset is reported
    /// at once (CLOSED) rather than at the next write, and bytes of a pipelined next request are
    /// buffered, up to a bound; those that may go ahead (`parse_head_ahead`) go to JS at once.
    async fn exchange(&mut self, body: &mut RequestBody, pushed: Option<PushedBody>) -> Outcome {
        let id = self.handle.id;
        let mut read_deadline = pushed
            .as_ref()
            .and_then(|_| self.ctx.timeouts.socket.map(|t| Instant::now() + t));
        // The budget share stays taken until the exchange ends: the bytes live on in JS.
        let (mut pending, _budget) = match pushed {
            Some(PushedBody {
                read,
                _budget: budget,
            }) => (Some(read), Some(budget)),
            None => (None, None),
        };
        // `pending` is the push, not a read JS asked for.
        let mut pushing = pending.is_some();
        // A broken request body: the response may still be sent, then the connection closes.
        let mut body_failed = false;
        // The client shut down its side; it may still read the response.
        let mut peer_done = false;
        // Requests handed to JS whose responses have not ended: this one, and the pipelined
        // ones dispatched ahead.
        let mut in_flight: u32 = 1;
        loop {
            in_flight -= self.handle.take_ended().min(in_flight);
            if in_flight == 0 {
                return if body_failed {
                    Outcome::Close
                } else {
                    Outcome::KeepAlive
                };
            }
            if pending.is_none()
                && !self.input.is_empty()
                && !body_failed
                && in_flight < IN_FLIGHT_MAX
                && body.is_complete()
                && *self.lifecycle.borrow() == Lifecycle::Running
            {
                if let Some(start) = self.parse_head_ahead() {
                    self.handle.dispatched_ahead();
                    // Only bodiless requests go ahead, so nothing is pushed.
                    (*body, _) = self.dispatch(start);
                    in_flight += 1;
                    continue;
                }
            }
            if let Some(read) = pending.as_mut() {
                let room = read.max - read.bytes.len();
                match body.take_into(&mut self.input, &mut read.bytes, room) {
                    Ok(end) => {
                        if end
                            || read.bytes.len() == read.max
                            || (!read.fill && !read.bytes.is_empty())
                        {
                            self.ctx
                                .events
                                .data(id, end, std::mem::take(&mut read.bytes));
                            pending = None;
                        }
                    }
                    Err(message) => {
                        self.ctx.events.error(id, &message);
                        pending = None;
                        body_failed = true;
                    }
                }
                if pending.is_none() {
                    pushing = false;
                    self.input.release_if_empty();
                } else if peer_done {
                    // The rest of the body can never arrive.
                    return self.lost(true);
                }
            }
            let read_size = if pending.is_some() {
                BODY_READ
            } else {
                HEAD_READ
            };
            // A Content-Length body read with nothing buffered goes from the socket straight into
            // the read's own buffer.
            let direct = match (&pending, body.remaining_length()) {
                (Some(read), Some(remaining)) if self.input.is_empty() && !peer_done => {
                    (remaining.min((read.max - read.bytes.len()) as u64) as usize).max(1)
                }
                _ => 0,
            };
            let watch = direct == 0
                && !peer_done
                && (pending.is_some() || self.input.len() < LOOKAHEAD_MAX);
            // Without a next request to serve, a timer to start, a shutdown to carry out or a push
            // whose budget share others may need (the app answered before its body was all
            // here), the end of a response written by the JS thread can wait until the client
            // speaks again.
            let end_matters = !self.input.is_empty()
                || pushing
                || peer_done
                || self.ctx.timeouts.keepalive.is_some()
                || self.ctx.timeouts.socket.is_some()
                || *self.lifecycle.borrow() != Lifecycle::Running;
            tokio::select! {
                biased;
                command = self.commands.recv() => {
                    let Some(command) = command else { return Outcome::Close };
                    match command {
                        Command::Send { mut out, end } => {
                            let queued = out.remaining();
                            let written = self.write_out(&mut out).await;
                            if self.handle.written(queued) {
                                self.ctx.events.drain(id);
                            }
                            match end {
                                None if written.is_err() => return self.lost(pending.is_some()),
                                None => {}
                                Some(end) => {
                                    if end.notify {
                                        self.ctx.events.done(id, written.is_ok());
                                    }
                                    if !(written.is_ok() && end.keep_alive && !body_failed) {
                                        return Outcome::Close;
                                    }
                                    in_flight -= 1;
                                    if in_flight == 0 {
                                        return Outcome::KeepAlive;
                                    }
                                }
                            }
                        }
                        // A read while the body is being pushed ends the push: what it gathered
                        // answers this read, and later reads are answered on demand.
                        Command::Read { .. } if pushing && pending.as_ref().is_some_and(|read| !read.bytes.is_empty()) => {
                            pushing = false;
                            if let Some(read) = pending.take() {
                                self.ctx.events.data(id, false, read.bytes);
                            }
                        }
                        Command::Read { max, fill } => {
                            pushing = false;
                            let expected = body.remaining_length().unwrap_or(BODY_READ as u64);
                            let capacity = expected.min(max as u64) as usize;
                            pending = Some(PendingRead { max, fill, bytes: body_pool::take(capacity) });
                            read_deadline = self.ctx.timeouts.socket.map(|t| Instant::now() + t);
                        }
                        Command::Rearm => body.rearm(),
                        Command::Abort => return Outcome::Close,
                    }
                }
                () = self.handle.end_wake.notified(), if end_matters => {}
                read = read_some(&mut self.io, &mut self.input, pending.as_mut().map(|read| &mut read.bytes), direct, read_size), if direct > 0 || watch => match read {
                    (Ok(0), _) if pending.is_some() => return self.lost(true),
                    (Ok(0), _) => peer_done = true,
                    (Err(_), _) => return self.lost(pending.is_some()),
                    (Ok(n), direct) => {
                        if direct {
                            body.took_directly(n);
                        }
                        read_deadline = self.ctx.timeouts.socket.map(|t| Instant::now() + t);
                    }
                },
                () = sleep_until_opt(read_deadline), if pending.is_some() => {
                    self.ctx.events.error(id, "timed out reading the request body");
                    self.cause = CloseCause::TimedOut;
                    self.report_closed();
                    return Outcome::Close;
                }
                changed = self.lifecycle.changed() => {
                    if changed.is_err() || *self.lifecycle.borrow() == Lifecycle::Aborting {
                        self.cause = CloseCause::Aborted;
                        self.report_closed();
                        return Outcome::Close;
                    }
                }
            }
        }
    }

    /// The connection failed while JS had the request: tell it, and end.
    fn lost(&mut self, read_pending: bool) -> Outcome {
        if read_pending {
            let message = match self.cause {
                CloseCause::TimedOut => "timed out writing to the client",
                _ => "the client disconnected before the request body was complete",
            };
            self.ctx.events.error(self.handle.id, message);
        }
        self.report_closed();
        Outcome::Close
    }

    /// CLOSED, once per connection that had a request (BRIDGE.md).
    fn report_closed(&mut self) {
        if self.closed == Closed::NotYet {
            self.ctx.events.closed(self.handle.id, self.cause);
            self.closed = Closed::Reported;
        }
    }

    /// Drops the body bytes the app left unread; false when the connection cannot continue.
    async fn discard(&mut self, body: &mut RequestBody) -> bool {
        loop {
            match body.skip(&mut self.input) {
                Ok(true) => return true,
                Ok(false) => {}
                Err(_) => return false,
            }
            let deadline = self.ctx.timeouts.socket.map(|t| Instant::now() + t);
            tokio::select! {
                read = self.input.read_from(&mut self.io, BODY_READ) => match read {
                    Ok(0) | Err(_) => return false,
                    Ok(_) => {}
                },
                () = sleep_until_opt(deadline) => return false,
                () = aborted(&mut self.lifecycle) => return false,
            }
        }
    }

    /// Writes the rest of `out`, with as few syscalls as the socket allows. The socket timeout
    /// bounds each stall, not the whole write: a slow but steady reader is not dropped.
    async fn write_out(&mut self, out: &mut Outgoing) -> Result<(), ()> {
        while !out.is_done() {
            let slices = out.slices();
            let write = self.io.write_vectored(&slices);
            let written = match self.ctx.timeouts.socket {
                Some(limit) => match tokio::time::timeout(limit, write).await {
                    Ok(written) => written,
                    Err(_) => {
                        self.cause = CloseCause::TimedOut;
                        return Err(());
                    }
                },
                None => write.await,
            };
            let n = match written {
                Ok(0) | Err(_) => return Err(()),
                Ok(n) => n,
            };
            out.advance(n);
        }
        Ok(())
    }
}

/// Reads once: with `direct > 0` at most that many bytes to the end of `direct_out`, otherwise
/// about `size` bytes into `input`. Says how many, and whether they went direct. Cancel-safe.
async fn read_some<S: AsyncRead + ReadReady + Unpin>(
    io: &mut S,
    input: &mut InputBuffer,
    direct_out: Option<&mut Vec<u8>>,
    direct: usize,
    size: usize,
) -> (std::io::Result<usize>, bool) {
    match direct_out {
        Some(out) if direct > 0 => {
            out.reserve(direct.min(BODY_READ));
            let room = (out.capacity() - out.len()).min(direct);
            (io.take(room as u64).read_buf(out).await, true)
        }
        _ => (input.read_from(io, size).await, false),
    }
}

/// A pipelined request may go to JS before the responses ahead of it have ended.
fn goes_ahead(start: &RequestStart) -> bool {
    matches!(start.framing, BodyFraming::None)
        && start.flags & request_flags::HTTP_11 != 0
        && start.flags & (request_flags::CONNECTION_CLOSE | request_flags::EXPECT_CONTINUE) == 0
}

/// `method \0 target \0 <peer> ( \0 name \0 value )*` (BRIDGE.md, REQUEST).
fn encode_request_text(out: &mut Vec<u8>, head: &RequestHead<'_, '_>, peer: &[u8]) {
    out.clear();
    out.extend_from_slice(head.method.as_bytes());
    out.push(0);
    out.extend_from_slice(head.target.as_bytes());
    out.push(0);
    out.extend_from_slice(peer);
    for header in head.headers {
        out.push(0);
        out.extend_from_slice(header.name.as_bytes());
        out.push(0);
        out.extend_from_slice(header.value);
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Resolves once the server is aborted (`abortAll`), never otherwise.
async fn aborted(lifecycle: &mut watch::Receiver<Lifecycle>) {
    if lifecycle
        .wait_for(|state| *state == Lifecycle::Aborting)
        .await
        .is_err()
    {
        std::future::pending::<()>().await;
    }
}
