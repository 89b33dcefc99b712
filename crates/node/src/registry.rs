//! Live connections by id, so that calls from JS reach the right connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use crate::command::Command;
use crate::conn_handle::ConnHandle;
use crate::events::EventQueue;
use crate::shared_stream::DirectWrite;

#[derive(Default)]
pub struct Registry {
    next_id: AtomicU32,
    live: Mutex<HashMap<u32, Arc<ConnHandle>>>,
}

impl Registry {
    pub fn open(
        &self,
        direct: Arc<dyn DirectWrite>,
        events: Arc<EventQueue>,
    ) -> (Arc<ConnHandle>, UnboundedReceiver<Command>) {
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
        let handle = Arc::new(ConnHandle::new(id, commands, direct, events));
        live.insert(id, handle.clone());
        (handle, receiver)
    }

    pub fn get(&self, id: u32) -> Option<Arc<ConnHandle>> {
        self.live
            .lock()
            .expect("registry poisoned")
            .get(&id)
            .cloned()
    }

    pub fn remove(&self, id: u32) {
        self.live.lock().expect("registry poisoned").remove(&id);
    }
}
