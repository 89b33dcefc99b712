//! Live connections by id, so that calls from JS reach the right connection task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::command::Command;

/// Above this many queued body bytes, `respond`/`write` tell JS to wait for DRAIN.
pub const HIGH_WATER_MARK: usize = 64 * 1024;

/// The JS-facing side of one connection.
pub struct ConnHandle {
    pub id: u32,
    commands: UnboundedSender<Command>,
    queued: AtomicUsize,
    drain_wanted: AtomicBool,
}

impl ConnHandle {
    /// Queues a command carrying `bytes` body bytes; false when JS should wait for DRAIN.
    pub fn send(&self, command: Command, bytes: usize) -> bool {
        let queued = self.queued.fetch_add(bytes, Ordering::AcqRel) + bytes;
        // A closed channel means the task is gone; its CLOSED event tells JS.
        let _ = self.commands.send(command);
        if queued > HIGH_WATER_MARK {
            self.drain_wanted.store(true, Ordering::Release);
            false
        } else {
            true
        }
    }

    /// Called by the task once `bytes` were written; true when a DRAIN event is due.
    pub fn written(&self, bytes: usize) -> bool {
        let left = self.queued.fetch_sub(bytes, Ordering::AcqRel) - bytes;
        left <= HIGH_WATER_MARK && self.drain_wanted.swap(false, Ordering::AcqRel)
    }
}

#[derive(Default)]
pub struct Registry {
    next_id: AtomicU32,
    live: Mutex<HashMap<u32, Arc<ConnHandle>>>,
}

impl Registry {
    pub fn open(&self) -> (Arc<ConnHandle>, UnboundedReceiver<Command>) {
        let (commands, receiver) = unbounded_channel();
        let mut live = self.live.lock().expect("registry poisoned");
        let id = loop {
            // Ids start at 1 (0 means "the server" in events) and skip ids still in use after
            // the counter wraps.
            let id = self.next_id.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if id != 0 && !live.contains_key(&id) {
                break id;
            }
        };
        let handle = Arc::new(ConnHandle {
            id,
            commands,
            queued: AtomicUsize::new(0),
            drain_wanted: AtomicBool::new(false),
        });
        live.insert(id, handle.clone());
        (handle, receiver)
    }

    pub fn get(&self, id: u32) -> Option<Arc<ConnHandle>> {
        self.live.lock().expect("registry poisoned").get(&id).cloned()
    }

    pub fn remove(&self, id: u32) {
        self.live.lock().expect("registry poisoned").remove(&id);
    }
}
