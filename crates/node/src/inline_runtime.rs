//! A tokio runtime that runs on the JS thread, driven by its libuv loop.
//!
//! Each JS thread that starts a server gets a current-thread runtime of its own. Its tasks (the
//! accept loops and connections) run between the thread's callbacks, as node:http's sockets do:
//! a request costs no wake of another thread and no context switch, which on a machine with
//! few cores cost more than the reading and parsing they would hand off.
//!
//! libuv watches tokio's epoll descriptor. Whenever it is readable (a socket is ready, or a task
//! was woken from outside the runtime), `drive` runs the runtime until it is idle: every task
//! run, the sockets polled without waiting, and nothing scheduled by that pass. Tokio's timers
//! are only looked at when the runtime runs, so a timer handle drives it every `TICK_MS` too,
//! while it has tasks (servers) at all.
//!
//! Tokio does not expose its epoll descriptor; it is found as the one that building the runtime
//! added to `/proc/self/fd`. Where that cannot be done, `start` returns `None` and the servers of
//! the thread use the threaded runtime (`runtime`).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::ffi::{c_int, c_void};
use std::os::fd::RawFd;
use std::rc::Rc;

use napi::Env;
use tokio::runtime::{Builder, Handle, Runtime};

use crate::task;
use crate::uv;

/// How often the runtime runs for its timers when no socket wakes it: the lateness a timeout
/// (keep-alive, socketTimeout, the header timeout) may have at most.
const TICK_MS: u64 = 10;

/// Passes of one `drive` at most, so that a stream of input that keeps some task busy cannot
/// keep the JS thread from its applications. The rest waits for the next turn of the loop.
const MAX_PASSES: u32 = 64;

struct Inline {
    runtime: Runtime,
    epoll: uv::Handle,
    timer: uv::Handle,
    /// The timer runs: false once the runtime has no task left, until a server starts again.
    ticking: Cell<bool>,
}

thread_local! {
    static INLINE: RefCell<Option<Rc<Inline>>> = const { RefCell::new(None) };
    /// `start` failed on this thread: later servers go to the threaded runtime without building
    /// and scanning again.
    static UNAVAILABLE: Cell<bool> = const { Cell::new(false) };
}

/// The runtime of this JS thread, started on first use; `None` when it cannot run here.
pub fn handle(env: &Env) -> Option<Handle> {
    if let Some(inline) = current() {
        if !inline.ticking.replace(true) {
            inline.timer.start_timer(on_tick, TICK_MS, TICK_MS);
        }
        return Some(inline.runtime.handle().clone());
    }
    if UNAVAILABLE.get() {
        return None;
    }
    let Some(inline) = start(env) else {
        UNAVAILABLE.set(true);
        return None;
    };
    let handle = inline.runtime.handle().clone();
    INLINE.with(|slot| *slot.borrow_mut() = Some(Rc::new(inline)));
    Some(handle)
}

fn current() -> Option<Rc<Inline>> {
    INLINE.with(|slot| slot.borrow().clone())
}

fn start(env: &Env) -> Option<Inline> {
    let before = epoll_descriptors()?;
    let runtime = Builder::new_current_thread()
        .enable_all()
        // Each pass runs every queued task before it polls the sockets: `run_until_idle`
        // relies on a pass leaving no task behind.
        .event_interval(u32::MAX)
        .build()
        .ok()?;
    let added: Vec<RawFd> = epoll_descriptors()?.difference(&before).copied().collect();
    let epoll_fd = the_one_epoll(&added)?;
    let event_loop = env.get_uv_event_loop().ok()?;
    let epoll = uv::Handle::poll_readable(event_loop, epoll_fd, on_readable)?;
    let Some(timer) = uv::Handle::timer(event_loop) else {
        epoll.close();
        return None;
    };
    timer.start_timer(on_tick, TICK_MS, TICK_MS);
    // Before the loop closes (a worker thread ending), its handles must be closed.
    let hooked = env.add_env_cleanup_hook((), |()| stop());
    let inline = Inline {
        runtime,
        epoll,
        timer,
        ticking: Cell::new(true),
    };
    if hooked.is_err() {
        inline.epoll.close();
        inline.timer.close();
        return None;
    }
    Some(inline)
}

/// The epoll descriptors the process has open, or `None` without `/proc`.
fn epoll_descriptors() -> Option<HashSet<RawFd>> {
    let mut found = HashSet::new();
    for entry in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        let is_epoll = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.as_os_str() == "anon_inode:[eventpoll]");
        if let (true, Some(fd)) = (is_epoll, entry.file_name().to_str()) {
            found.extend(fd.parse::<RawFd>());
        }
    }
    Some(found)
}

/// One of `added`, if they are all the same epoll instance: tokio keeps a duplicate of its
/// descriptor (mio's `Registry::try_clone`). Duplicates watch the same descriptors, which
/// `/proc/self/fdinfo` lists; an epoll another thread created meanwhile watches others, and
/// then nothing here can tell which is tokio's.
fn the_one_epoll(added: &[RawFd]) -> Option<RawFd> {
    let watched = |fd: RawFd| -> Option<Vec<String>> {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
        Some(
            info.lines()
                .filter(|line| line.starts_with("tfd:"))
                .map(str::to_owned)
                .collect(),
        )
    };
    let (&first, rest) = added.split_first()?;
    let first_watches = watched(first)?;
    rest.iter()
        .all(|&fd| watched(fd).as_ref() == Some(&first_watches))
        .then_some(first)
}

extern "C" fn on_readable(_: *mut c_void, _: c_int, _: c_int) {
    drive();
}

extern "C" fn on_tick(_: *mut c_void) {
    drive();
}

fn drive() {
    let Some(inline) = current() else { return };
    if !inline.runtime.block_on(run_until_idle()) {
        // Work is left: run again at once, from the next turn of the loop.
        inline.timer.start_timer(on_tick, 0, TICK_MS);
    } else if inline.runtime.metrics().num_alive_tasks() == 0 && inline.ticking.replace(false) {
        // Every server is closed: no timer to look after.
        inline.timer.stop_timer();
    }
}

/// Runs tasks and polls the sockets until a whole pass schedules nothing; false if it stopped
/// at `MAX_PASSES` with work left.
async fn run_until_idle() -> bool {
    for _ in 0..MAX_PASSES {
        let before = task::scheduled();
        // The runtime runs every queued task, polls the sockets and timers without waiting,
        // then comes back here.
        tokio::task::yield_now().await;
        if task::scheduled() == before {
            return true;
        }
    }
    false
}

/// Closes the libuv handles and drops the runtime, with every task still in it.
fn stop() {
    let Some(inline) = INLINE.with(|slot| slot.borrow_mut().take()) else {
        return;
    };
    let Ok(Inline {
        runtime,
        epoll,
        timer,
        ..
    }) = Rc::try_unwrap(inline)
    else {
        return;
    };
    epoll.close();
    timer.close();
    drop(runtime);
}
