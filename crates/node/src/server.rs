//! `NativeServer`: the object the TypeScript `Server` drives (BRIDGE.md).

use std::sync::Arc;
use std::time::Duration;

use ferrowsgi_http::Limits;
use napi::bindgen_prelude::*;
use napi::JsString;
use napi_derive::napi;
use tokio::sync::{watch, Semaphore};

use crate::accept::accept_loop;
use crate::command::{BodyBytes, Command, Framing};
use crate::events::{BatchArgs, EventQueue};
use crate::listener::NativeListener;
use crate::registry::Registry;
use crate::runtime::spawn_from_js;
use crate::server_context::{Lifecycle, ServerContext, Timeouts};

#[napi(object)]
pub struct NativeServerOptions {
    pub max_requests: u32,
    pub url_length_limit: u32,
    pub keepalive_timeout_ms: u32,
    pub socket_timeout_ms: u32,
    pub header_timeout_ms: u32,
}

#[napi]
pub struct NativeServer {
    ctx: Arc<ServerContext>,
}

fn millis(ms: u32) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(u64::from(ms)))
}

#[napi]
impl NativeServer {
    #[napi(constructor)]
    pub fn new(
        env: Env,
        listener: &NativeListener,
        on_events: Function<BatchArgs, Unknown<'static>>,
        options: NativeServerOptions,
    ) -> Result<Self> {
        if options.max_requests == 0 || options.url_length_limit == 0 {
            return Err(Error::from_reason(
                "maxRequests and urlLengthLimit must be at least 1",
            ));
        }
        let events = Arc::new(EventQueue::new());
        let drained = events.clone();
        let wake = on_events
            .build_threadsafe_function::<()>()
            .callee_handled::<false>()
            .build_callback(move |_| Ok(drained.take_batch()))?;
        events.set_wake(wake);
        let socket = listener.take()?;
        let limits = Limits {
            request_line: options.url_length_limit as usize,
            ..Limits::default()
        };
        let ctx = Arc::new(ServerContext {
            events,
            registry: Registry::default(),
            limits,
            timeouts: Timeouts {
                keepalive: millis(options.keepalive_timeout_ms),
                socket: millis(options.socket_timeout_ms),
                header: millis(options.header_timeout_ms),
            },
            permits: Arc::new(Semaphore::new(options.max_requests as usize)),
            push_budget: Arc::new(Semaphore::new(PUSH_BUDGET)),
            lifecycle: watch::Sender::new(Lifecycle::Running),
        });
        spawn_from_js(&env, accept_loop(socket, ctx.clone()));
        Ok(NativeServer { ctx })
    }

    #[napi]
    pub fn respond(
        &self,
        env: Env,
        conn: u32,
        head: JsString,
        framing: i64,
        body: Option<Either<JsString, BufferSlice>>,
        flags: u32,
    ) -> Result<bool> {
        let Some(handle) = self.ctx.registry.get(conn) else {
            return Ok(true);
        };
        let framing = Framing::from_js(framing)
            .ok_or_else(|| Error::from_reason(format!("invalid framing {framing}")))?;
        let head = head.into_latin1()?.take();
        let body = match body {
            Some(body) => body_bytes(&env, body)?,
            None => BodyBytes::Copied(Vec::new()),
        };
        Ok(handle.respond(head, framing, body, flags))
    }

    #[napi]
    pub fn write(
        &self,
        env: Env,
        conn: u32,
        body: Either<JsString, BufferSlice>,
        flags: u32,
    ) -> Result<bool> {
        let Some(handle) = self.ctx.registry.get(conn) else {
            return Ok(true);
        };
        let body = body_bytes(&env, body)?;
        Ok(handle.write(body, flags))
    }

    /// Writes the responses `respond` held back with CORK.
    #[napi]
    pub fn uncork(&self, conn: u32) {
        if let Some(handle) = self.ctx.registry.get(conn) {
            handle.uncork();
        }
    }

    #[napi]
    pub fn interim(&self, conn: u32, head: JsString) -> Result<()> {
        if let Some(handle) = self.ctx.registry.get(conn) {
            handle.interim(head.into_latin1()?.take());
        }
        Ok(())
    }

    #[napi]
    pub fn read(&self, conn: u32, max: u32, fill: bool) {
        if let Some(handle) = self.ctx.registry.get(conn) {
            handle.command(Command::Read {
                max: max.max(1) as usize,
                fill,
            });
        }
    }

    #[napi]
    pub fn rearm(&self, conn: u32) {
        if let Some(handle) = self.ctx.registry.get(conn) {
            handle.command(Command::Rearm);
        }
    }

    #[napi]
    pub fn abort(&self, conn: u32) {
        if let Some(handle) = self.ctx.registry.get(conn) {
            handle.command(Command::Abort);
        }
    }

    #[napi]
    pub fn close(&self) {
        self.ctx
            .lifecycle
            .send_if_modified(|state| advance(state, Lifecycle::Closing));
    }

    #[napi]
    pub fn abort_all(&self) {
        self.ctx
            .lifecycle
            .send_if_modified(|state| advance(state, Lifecycle::Aborting));
    }
}

/// Lifecycles only move forward: Running → Closing → Aborting.
fn advance(state: &mut Lifecycle, to: Lifecycle) -> bool {
    let rank = |s: Lifecycle| match s {
        Lifecycle::Running => 0,
        Lifecycle::Closing => 1,
        Lifecycle::Aborting => 2,
    };
    if rank(to) > rank(*state) {
        *state = to;
        true
    } else {
        false
    }
}

/// The most request-body bytes a server reads ahead of its apps at any time (BODY_PUSHED).
const PUSH_BUDGET: usize = 64 * 1024 * 1024;

/// Buffers at least this large are written from the JS memory instead of being copied: holding
/// a reference costs more than copying a small buffer, and less than copying a large one.
const SHARE_MIN: usize = 64 * 1024;

fn body_bytes(env: &Env, body: Either<JsString, BufferSlice>) -> Result<BodyBytes> {
    Ok(match body {
        Either::A(text) => BodyBytes::Copied(text.into_utf8()?.take()),
        Either::B(bytes) if bytes.len() >= SHARE_MIN => BodyBytes::Shared(bytes.into_buffer(env)?),
        Either::B(bytes) => BodyBytes::Copied(bytes.to_vec()),
    })
}
