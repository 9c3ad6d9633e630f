//! How an `Http` stops: it closes to new requests, the requests already queued still run,
//! and `shutdown` returns once the last of them is gone.
//!
//! Which thread may wait is decided here, for every place that waits for requests to end
//! or joins threads:
//! - a pool's own thread (a driver, a worker, the timer) never waits for its pool or a
//!   client's requests: it would wait on itself. A shutdown there closes and returns, and
//!   the pool's threads finish the queue alone;
//! - an async executor's thread must not block, or every task of the executor stalls. A
//!   client or a pool whose last handle goes there closes at once, and the wait and the
//!   joins happen on a thread of their own, `asynchttp-release` ([`release`]); so does a
//!   driver's letting go of the last reference to a client, whose isahc agents it would
//!   join while they wait on that very driver.
//!
//! The crate depends on no async runtime, so it cannot ask one whether this thread is its
//! own; it counts as an executor's thread any thread that has polled one of the crate's
//! futures (awaited a pair or a `Lazy`, a download or its progress) and is none of the
//! pools' own, since that is what an executor's threads do.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use crate::{logs, sync};

thread_local! {
    /// True once this thread has polled one of the crate's futures.
    static POLLS_FUTURES: Cell<bool> = const { Cell::new(false) };
    /// The id of the pool this thread is one of; 0 on any other thread.
    static POOL: Cell<u64> = const { Cell::new(0) };
}

/// Marks this thread as one that polls futures: an async executor's, unless it is a pool's.
pub(crate) fn note_async_thread() {
    POLLS_FUTURES.with(|polls| polls.set(true));
}

/// Marks this thread as one of the pool with id `pool` (never 0).
pub(crate) fn note_pool_thread(pool: u64) {
    POOL.with(|p| p.set(pool));
}

/// True on a thread of any asynchttp worker pool: it must never wait for a pool.
pub(crate) fn on_pool_thread() -> bool {
    POOL.with(Cell::get) != 0
}

/// True on a thread of the pool with id `pool`.
pub(crate) fn on_thread_of(pool: u64) -> bool {
    POOL.with(Cell::get) == pool
}

/// True on an async executor's thread: one that has polled the crate's futures and is none
/// of the pools' own. A wait there holds up every task of the executor; a blocking wait
/// for a request runs the request itself, and a callback may block.
pub(crate) fn on_executor_thread() -> bool {
    POLLS_FUTURES.with(Cell::get) && !on_pool_thread()
}

/// The thread a release runs on when the thread that lets go must not wait.
const RELEASE: &str = "asynchttp-release";

/// Runs `f(value)` on a detached thread of its own, `asynchttp-release`, or right here if
/// no thread can be started (after logging why): a release that must not wait on this
/// thread, but must happen all the same.
pub(crate) fn release<V: Send + 'static>(value: V, f: fn(V)) {
    let cell = Arc::new(Mutex::new(Some(value)));
    let theirs = cell.clone();
    let spawned = thread::Builder::new()
        .name(RELEASE.to_owned())
        .spawn(move || {
            let value = sync::lock(&theirs).take();
            if let Some(value) = value {
                f(value);
            }
        });
    if let Err(e) = spawned {
        logs::error!("could not start {RELEASE}, so this thread does its work: {e}");
        let value = sync::lock(&cell).take();
        if let Some(value) = value {
            f(value);
        }
    }
}

/// Counts a client's requests from submission until their jobs are gone.
#[derive(Debug, Default)]
pub(crate) struct Drain {
    closed: AtomicBool,
    pending: Mutex<usize>,
    drained: Condvar,
}

impl Drain {
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the client to new requests; true the first time.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `f` on a fresh thread, whose marks start unset.
    fn on_fresh_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        thread::spawn(f).join().unwrap()
    }

    #[test]
    fn a_thread_is_the_callers_an_executors_or_a_pools() {
        let kind = || (on_pool_thread(), on_executor_thread());
        assert_eq!(on_fresh_thread(kind), (false, false));
        let polled = on_fresh_thread(move || {
            note_async_thread();
            kind()
        });
        assert_eq!(polled, (false, true));
        // A pool's thread that polls futures (a driver) is the pool's, never an executor's.
        let driver = on_fresh_thread(move || {
            note_pool_thread(7);
            note_async_thread();
            (kind(), on_thread_of(7), on_thread_of(8))
        });
        assert_eq!(driver, ((true, false), true, false));
    }

    #[test]
    fn a_release_runs_on_a_thread_of_its_own() {
        let (tx, rx) = std::sync::mpsc::channel();
        release(tx, |tx| {
            let name = thread::current().name().map(str::to_owned);
            tx.send(name).unwrap();
        });
        let ran_on = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        assert_eq!(ran_on.as_deref(), Some(RELEASE));
    }
}
