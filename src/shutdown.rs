//! How an `Http` stops: it closes to new requests, the requests already queued still run,
//! and `shutdown` returns once the last of them is gone.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

use crate::sync;

thread_local! {
    /// True once this thread has polled one of the crate's futures.
    static POLLS_FUTURES: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as one that polls futures: an async executor's.
pub(crate) fn note_async_thread() {
    POLLS_FUTURES.with(|polls| polls.set(true));
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
