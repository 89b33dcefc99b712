//! One task per connection: read a head, hand the request to JS, carry out what JS asks until
//! the response ends, then discard any unread body and read the next request.
//!
//! The task owns the socket. JS reaches it only through `Command`s, and hears from it only
//! through the event queue, so no socket state is shared between threads.

use std::sync::Arc;

use ferrowsgi_http::{parse_request_head, BodyFraming, HeadError, Parsed, RequestHead, Version, MAX_HEADERS};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::{Sender, UnboundedReceiver};
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

use crate::command::{write_flags, Command};
use crate::events::request_flags;
use crate::input_buffer::InputBuffer;
use crate::registry::ConnHandle;
use crate::request_body::RequestBody;
use crate::response_writer::ResponseWriter;
use crate::server_context::{Lifecycle, ServerContext};

/// Decoded body bytes that travel with a REQUEST, so small bodies need no `read` round trip.
const BODY_PREFIX_MAX: usize = 64 * 1024;

/// Who is on the other end, as the environ shows it: `remote \0 port \0 local \0 port`.
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
    /// Bytes on their way to the socket (reused between writes).
    output: Vec<u8>,
    /// Held while the task runs: the server's close waits until every sender is gone.
    _alive: Sender<()>,
}

/// What the head of a request told us, once the borrow of the input buffer is over.
struct RequestStart {
    flags: u32,
    framing: BodyFraming,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(io: S, peer: Peer, ctx: Arc<ServerContext>, alive: Sender<()>) -> Self {
        let (handle, commands) = ctx.registry.open();
        let lifecycle = ctx.lifecycle.subscribe();
        Connection {
            io,
            peer,
            ctx,
            handle,
            commands,
            lifecycle,
            input: InputBuffer::new(),
            text: Vec::with_capacity(1024),
            output: Vec::with_capacity(16 * 1024),
            _alive: alive,
        }
    }

    pub async fn run(mut self) {
        self.serve().await;
        self.ctx.registry.remove(self.handle.id);
        let _ = self.io.shutdown().await;
    }

    async fn serve(&mut self) {
        loop {
            let Some(start) = self.next_request().await else { return };
            let Some(_permit) = self.acquire_permit().await else { return };
            let mut body = RequestBody::new(start.framing);
            let mut flags = start.flags;
            let prefix = match body.take(&mut self.input, BODY_PREFIX_MAX) {
                Ok(taken) => {
                    if taken.end {
                        flags |= request_flags::BODY_COMPLETE;
                    }
                    taken.bytes
                }
                // The first `read` reports it.
                Err(_) => Vec::new(),
            };
            let text = &self.text;
            self.ctx.events.request(self.handle.id, flags, |out| out.extend_from_slice(text), &prefix);
            match self.exchange(&mut body).await {
                Outcome::KeepAlive => {}
                Outcome::Close => return,
            }
            if *self.lifecycle.borrow() != Lifecycle::Running || !self.discard(&mut body).await {
                return;
            }
        }
    }

    /// Waits for a complete request head and prepares its REQUEST text in `self.text`.
    /// `None`: the connection is over (end of stream, timeout, shutdown or a rejected head).
    async fn next_request(&mut self) -> Option<RequestStart> {
        let timeouts = self.ctx.timeouts;
        let idle_deadline = timeouts.keepalive.map(|t| Instant::now() + t);
        let mut head_deadline = None;
        loop {
            if !self.input.is_empty() {
                head_deadline = head_deadline.or_else(|| timeouts.header.map(|t| Instant::now() + t));
                match self.parse_head() {
                    Ok(Some(start)) => return Some(start),
                    Ok(None) => {}
                    Err(err) => {
                        self.reject(err).await;
                        return None;
                    }
                }
            } else if *self.lifecycle.borrow() != Lifecycle::Running {
                return None;
            }
            // Before the first byte of a head the keep-alive limit applies, after it the header one.
            let deadline = if self.input.is_empty() { idle_deadline } else { head_deadline };
            tokio::select! {
                read = self.input.read_from(&mut self.io) => match read {
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
        let mut storage = [ferrowsgi_http::EMPTY_HEADER; MAX_HEADERS];
        let head = match parse_request_head(self.input.data(), &self.ctx.limits, &mut storage)? {
            Parsed::Partial => return Ok(None),
            Parsed::Complete(head) => head,
        };
        let start = RequestStart { flags: self.flags_of(&head), framing: head.framing };
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
        self.ctx.events.log(&format!("{} - rejected request: {}", self.peer.remote, err.reason()));
        let _ = self.write(err.response()).await;
    }

    /// Waits for room under `maxSize`; `None` when the server is aborted meanwhile.
    async fn acquire_permit(&mut self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let permits = self.ctx.permits.clone();
        tokio::select! {
            permit = permits.acquire_owned() => permit.ok(),
            () = aborted(&mut self.lifecycle) => None,
        }
    }

    /// Carries out JS's commands for the current request until the response has ended.
    async fn exchange(&mut self, body: &mut RequestBody) -> Outcome {
        let id = self.handle.id;
        let mut response: Option<ResponseWriter> = None;
        let mut pending_read: Option<usize> = None;
        let mut read_deadline = None;
        // A broken request body: the response may still be sent, then the connection closes.
        let mut body_failed = false;
        loop {
            if let Some(max) = pending_read {
                match body.take(&mut self.input, max) {
                    Ok(taken) if taken.end || !taken.bytes.is_empty() => {
                        self.ctx.events.data(id, taken.end, &taken.bytes);
                        pending_read = None;
                    }
                    Ok(_) => {}
                    Err(message) => {
                        self.ctx.events.error(id, &message);
                        pending_read = None;
                        body_failed = true;
                    }
                }
            }
            let waiting_for_body = pending_read.is_some();
            tokio::select! {
                biased;
                command = self.commands.recv() => {
                    let Some(command) = command else { return Outcome::Close };
                    match command {
                        Command::Respond { head, framing, body: bytes, flags } => {
                            let mut writer = ResponseWriter::new(framing);
                            self.output.extend_from_slice(&head);
                            writer.body(&bytes, &mut self.output);
                            if let Some(outcome) = self.send(&mut writer, bytes.len(), flags, body_failed).await {
                                return outcome;
                            }
                            response = Some(writer);
                        }
                        Command::Write { body: bytes, flags } => {
                            // A write before `respond` would put body bytes on the wire without a
                            // head: the JS side never does it, and it is dropped if it happens.
                            let Some(mut writer) = response.take() else { continue };
                            writer.body(&bytes, &mut self.output);
                            if let Some(outcome) = self.send(&mut writer, bytes.len(), flags, body_failed).await {
                                return outcome;
                            }
                            response = Some(writer);
                        }
                        Command::Interim(head) => {
                            if self.write(&head).await.is_err() {
                                return self.lost(pending_read.is_some());
                            }
                        }
                        Command::Read(max) => {
                            pending_read = Some(max.max(1));
                            read_deadline = self.ctx.timeouts.socket.map(|t| Instant::now() + t);
                        }
                        Command::Rearm => body.rearm(),
                        Command::Abort => return Outcome::Close,
                    }
                }
                read = self.input.read_from(&mut self.io), if waiting_for_body => match read {
                    Ok(0) | Err(_) => return self.lost(true),
                    Ok(_) => read_deadline = self.ctx.timeouts.socket.map(|t| Instant::now() + t),
                },
                () = sleep_until_opt(read_deadline), if waiting_for_body => {
                    self.ctx.events.error(id, "timed out reading the request body");
                    self.ctx.events.closed(id);
                    return Outcome::Close;
                }
                () = aborted(&mut self.lifecycle) => {
                    self.ctx.events.closed(id);
                    return Outcome::Close;
                }
            }
        }
    }

    /// Writes what `self.output` holds for a response step; `Some` once the exchange is over.
    async fn send(&mut self, writer: &mut ResponseWriter, body_len: usize, flags: u32, body_failed: bool) -> Option<Outcome> {
        let end = flags & write_flags::END != 0;
        let reusable = end && writer.end(&mut self.output);
        let written = self.flush_output().await;
        if self.handle.written(body_len) {
            self.ctx.events.drain(self.handle.id);
        }
        if !end {
            return match written {
                Ok(()) => None,
                Err(()) => Some(self.lost(false)),
            };
        }
        if flags & write_flags::NOTIFY != 0 {
            self.ctx.events.done(self.handle.id, written.is_ok());
        }
        let keep_alive = written.is_ok() && reusable && !body_failed && flags & write_flags::KEEP_ALIVE != 0;
        Some(if keep_alive { Outcome::KeepAlive } else { Outcome::Close })
    }

    /// The connection failed while JS had the request: tell it, and end.
    fn lost(&mut self, read_pending: bool) -> Outcome {
        if read_pending {
            self.ctx.events.error(self.handle.id, "the client disconnected before the request body was complete");
        }
        self.ctx.events.closed(self.handle.id);
        Outcome::Close
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
                read = self.input.read_from(&mut self.io) => match read {
                    Ok(0) | Err(_) => return false,
                    Ok(_) => {}
                },
                () = sleep_until_opt(deadline) => return false,
                () = aborted(&mut self.lifecycle) => return false,
            }
        }
    }

    async fn flush_output(&mut self) -> Result<(), ()> {
        let output = std::mem::take(&mut self.output);
        let result = self.write(&output).await;
        self.output = output;
        self.output.clear();
        result
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), ()> {
        let write = self.io.write_all(bytes);
        match self.ctx.timeouts.socket {
            Some(limit) => match tokio::time::timeout(limit, write).await {
                Ok(result) => result.map_err(drop),
                Err(_) => Err(()),
            },
            None => write.await.map_err(drop),
        }
    }
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

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Resolves once the server is aborted (`abortAll`), never otherwise.
async fn aborted(lifecycle: &mut watch::Receiver<Lifecycle>) {
    if lifecycle.wait_for(|state| *state == Lifecycle::Aborting).await.is_err() {
        std::future::pending::<()>().await;
    }
}
