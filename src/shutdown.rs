//! How an `Http` stops: it closes to new requests, the requests already queued still run,
//! and `shutdown` returns once the last of them is gone.
//!
//! Where that wait would hold up a thread that must not wait, it happens on a thread of its
//! own instead: a driver's (see `run.rs`), and an async executor's. The crate depends on no
//! async runtime, so it cannot ask one whether this thread is its own; it counts as an
//! executor's thread any thread that has polled one of the crate's futures (awaited a pair
//! or a `Lazy`, a download or its progress), since that is what an executor's threads do.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use crate::{logs, sync};

thread_local! {
    /// True once this thread has polled one of the crate's futures.
    static POLLS_FUTURES: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as one that polls futures: an async executor's.
pub(crate) fn note_async_thread() {
    POLLS_FUTURES.with(|polls| polls.set(true));
}

/// True on a thread that has polled one of the crate's futures: waiting for requests or
/// joining threads there could stall every task of its executor.
pub(crate) fn on_async_thread() -> bool {
    POLLS_FUTURES.with(Cell::get)
}

/// Runs `f(value)` on a detached thread named `name`, or right here if no thread can be
/// started (after logging why): a release that must not wait on this thread, but must
/// happen all the same.
pub(crate) fn off_thread<V: Send + 'static>(name: &str, value: V, f: fn(V)) {
    let cell = Arc::new(Mutex::new(Some(value)));
    let theirs = cell.clone();
    let spawned = thread::Builder::new().name(name.to_owned()).spawn(move || {
        let value = sync::lock(&theirs).take();
        if let Some(value) = value {
            f(value);
        }
    });
    if let Err(e) = spawned {
        logs::error!("could not start {name}, so this thread does its work: {e}");
        let value = sync::lock(&cell).take();
        if let Some(value) = value {
            f(value);
        }
    }
}

/// Counts a client's requests from submission until their jobs are gone.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    closed: AtomicBool,
    pending: Mutex<usize>,
    drained: Condvar,
}

impl Gate {
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the gate to new requests; true the first time.
    pub(crate) fn close(&self) -> bool {
        !self.closed.swap(true, Ordering::AcqRel)
    }

    /// One more request pending.
    pub(crate) fn enter(&self) {
        *sync::lock(&self.pending) += 1;
    }

    /// One request fewer pending.
    pub(crate) fn leave(&self) {
        let mut pending = sync::lock(&self.pending);
        *pending -= 1;
        if *pending == 0 {
            self.drained.notify_all();
        }
    }

    /// Returns once no request is pending.
    pub(crate) fn wait_drained(&self) {
        let mut pending = sync::lock(&self.pending);
        while *pending > 0 {
            pending = sync::wait(&self.drained, pending);
        }
    }
}
