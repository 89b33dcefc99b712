//! The few libuv calls the inline runtime needs, from the libuv inside the Node process.
//!
//! Node exports libuv's symbols to addons (Node-API's own `napi_get_uv_event_loop` hands out
//! its loop). Handles are allocated at the size libuv reports for them, so nothing here depends
//! on the layout of libuv's structs: a handle is only ever passed back to libuv.

use std::ffi::{c_int, c_void};

use napi::sys::uv_loop_s;

/// `uv_handle_type` values (uv.h, `UV_HANDLE_TYPE_MAP`).
const UV_POLL: c_int = 8;
const UV_TIMER: c_int = 13;
/// `uv_poll_event`.
const UV_READABLE: c_int = 1;

pub type PollCallback = extern "C" fn(*mut c_void, c_int, c_int);
pub type TimerCallback = extern "C" fn(*mut c_void);

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_poll_init(event_loop: *mut uv_loop_s, handle: *mut c_void, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut c_void, events: c_int, callback: PollCallback) -> c_int;
    fn uv_timer_init(event_loop: *mut uv_loop_s, handle: *mut c_void) -> c_int;
    fn uv_timer_start(
        handle: *mut c_void,
        callback: TimerCallback,
        timeout_ms: u64,
        repeat_ms: u64,
    ) -> c_int;
    fn uv_timer_stop(handle: *mut c_void) -> c_int;
    fn uv_unref(handle: *mut c_void);
    fn uv_close(handle: *mut c_void, callback: extern "C" fn(*mut c_void));
}

/// An initialised libuv handle. Neither kind keeps the loop alive: the servers' own references
/// do that.
pub struct Handle(*mut c_void);

/// Memory for a handle of `kind`, or `None` when the allocation fails.
fn allocate(kind: c_int) -> Option<*mut c_void> {
    // SAFETY: `uv_handle_size` only reads its argument; `calloc` returns memory aligned for any
    // type, or null.
    let memory = unsafe { libc::calloc(1, uv_handle_size(kind)) };
    (!memory.is_null()).then_some(memory)
}

impl Handle {
    /// Watches `fd`; `callback` runs on the loop's thread whenever it is readable.
    pub fn poll_readable(
        event_loop: *mut uv_loop_s,
        fd: c_int,
        callback: PollCallback,
    ) -> Option<Handle> {
        let memory = allocate(UV_POLL)?;
        // SAFETY: fresh memory of the size libuv asked for, initialised on the loop's thread. A
        // failed init leaves nothing registered, so the memory is simply freed.
        if unsafe { uv_poll_init(event_loop, memory, fd) } != 0 {
            unsafe { libc::free(memory) };
            return None;
        }
        let handle = Handle(memory);
        // SAFETY: the handle is initialised.
        if unsafe { uv_poll_start(handle.0, UV_READABLE, callback) } != 0 {
            handle.close();
            return None;
        }
        unsafe { uv_unref(handle.0) };
        Some(handle)
    }

    /// A timer, not yet started (see `start_timer`).
    pub fn timer(event_loop: *mut uv_loop_s) -> Option<Handle> {
        let memory = allocate(UV_TIMER)?;
        // SAFETY: as in `poll_readable`.
        if unsafe { uv_timer_init(event_loop, memory) } != 0 {
            unsafe { libc::free(memory) };
            return None;
        }
        let handle = Handle(memory);
        unsafe { uv_unref(handle.0) };
        Some(handle)
    }

    /// (Re)starts a timer handle: `callback` after `first_ms`, then every `every_ms`.
    pub fn start_timer(&self, callback: TimerCallback, first_ms: u64, every_ms: u64) {
        // SAFETY: only called on initialised timer handles, on the loop's thread, where it
        // cannot fail.
        unsafe { uv_timer_start(self.0, callback, first_ms, every_ms) };
    }

    /// Stops a timer handle until `start_timer` starts it again.
    pub fn stop_timer(&self) {
        // SAFETY: only called on initialised timer handles, on the loop's thread.
        unsafe { uv_timer_stop(self.0) };
    }

    /// Stops the handle; libuv frees it once it is done with it.
    pub fn close(self) {
        // SAFETY: the handle is initialised; `free_handle` runs once, after which libuv no
        // longer refers to it.
        unsafe { uv_close(self.0, free_handle) };
    }
}

extern "C" fn free_handle(handle: *mut c_void) {
    // SAFETY: `handle` came from `calloc` in `allocate`.
    unsafe { libc::free(handle) };
}
