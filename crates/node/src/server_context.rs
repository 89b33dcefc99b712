//! What every connection task of one server shares.

use std::sync::Arc;
use std::time::Duration;

use ferrowsgi_http::Limits;
use tokio::sync::{watch, Semaphore};

use crate::events::EventQueue;
use crate::registry::Registry;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    Running,
    /// `close()`: no new connections or requests; requests in progress finish.
    Closing,
    /// `abortAll()`: every connection ends now.
    Aborting,
}

#[derive(Clone, Copy)]
pub struct Timeouts {
    /// Longest wait for the first byte of a request head (SPEC `keepalive` as a number).
    pub keepalive: Option<Duration>,
    /// Longest stall of one read or write (SPEC `socketTimeout`).
    pub socket: Option<Duration>,
    /// Longest time from the first byte of a head to its end.
    pub header: Option<Duration>,
}

pub struct ServerContext {
    pub events: Arc<EventQueue>,
    pub registry: Registry,
    pub limits: Limits,
    pub timeouts: Timeouts,
    /// One permit per request in progress (SPEC `maxSize`).
    pub permits: Arc<Semaphore>,
    /// One permit per byte of request bodies read before the app asked (BODY_PUSHED), held
    /// until their exchange ends: it bounds that memory across all connections.
    pub push_budget: Arc<Semaphore>,
    pub lifecycle: watch::Sender<Lifecycle>,
}
