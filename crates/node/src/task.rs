//! Spawning the addon's tasks, counted.
//!
//! Every task is spawned through `spawn`, which counts, per thread, each time a task is
//! scheduled: when spawned and whenever it is woken. The inline runtime (`inline_runtime`) runs
//! its tasks between the JS thread's callbacks and must know when it has run them all: the queue
//! is empty once a whole pass of running tasks and polling the sockets has scheduled nothing.
//! Tokio does not say how many tasks it has queued; this count says when it has queued none.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

thread_local! {
    static SCHEDULED: Cell<u64> = const { Cell::new(0) };
}

/// How many times a task was scheduled on this thread so far.
pub fn scheduled() -> u64 {
    SCHEDULED.with(Cell::get)
}

fn count_scheduled() {
    SCHEDULED.with(|count| count.set(count.get().wrapping_add(1)));
}

/// Spawns `future` on the current runtime.
pub fn spawn<F>(future: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    count_scheduled();
    tokio::spawn(Counted {
        future,
        wakers: None,
    });
}

/// A task's future whose wakes are counted.
struct Counted<F> {
    future: F,
    /// The waker tokio gave the task, and the counting one wrapped around it.
    wakers: Option<(Waker, Waker)>,
}

struct CountingWaker(Waker);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        count_scheduled();
        self.0.wake_by_ref();
    }
}

impl<F: Future<Output = ()>> Future for Counted<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: `future` is never moved out of the pinned `Counted`; `wakers` is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        // A task's waker stays the same from poll to poll: the counting one is made once.
        let counting = match &this.wakers {
            Some((given, counting)) if given.will_wake(cx.waker()) => counting,
            _ => {
                let counting = Waker::from(Arc::new(CountingWaker(cx.waker().clone())));
                &this.wakers.insert((cx.waker().clone(), counting)).1
            }
        };
        future.poll(&mut Context::from_waker(counting))
    }
}
