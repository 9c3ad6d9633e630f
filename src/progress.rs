//! A batch's progress: counted as each request finishes, read without touching the
//! requests.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::Error;
use crate::exchange::Exchange;
use crate::promise::Watcher;
use crate::sync;

/// How far a [`Batch`](crate::Batch) has got: a snapshot, counted as each request finishes.
///
/// `done` counts every finished request, with a response or with an error; `failed` counts
/// those with an error (toolbelt's exceptions), so an HTTP 404 is done and not failed.
/// `bytes` is the total length of the bodies received, after decoding.
///
/// ```
/// let p = asynchttp::Progress { total: 10, done: 4, failed: 1, bytes: 2_048, retries: 0 };
/// assert_eq!(p.succeeded(), 3);
/// assert_eq!(p.pending(), 6);
/// assert!(!p.is_complete());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Requests in the batch.
    pub total: usize,
    /// Requests finished, with a response or with an error.
    pub done: usize,
    /// Requests finished with an error.
    pub failed: usize,
    /// Body bytes received by the finished requests.
    pub bytes: u64,
    /// Times a request was sent again, as its [`Retry`](crate::Retry) policy allowed,
    /// counted as each retry is decided: finished requests and pending ones alike.
    pub retries: usize,
}

impl Progress {
    /// Requests finished with a response (of any status).
    pub fn succeeded(&self) -> usize {
        self.done - self.failed
    }

    /// Requests not finished yet.
    pub fn pending(&self) -> usize {
        self.total - self.done
    }

    /// True once every request has finished.
    pub fn is_complete(&self) -> bool {
        self.done == self.total
    }
}

/// The counts behind [`Progress`], updated by each request's slot as it is filled. One
/// lock keeps every snapshot consistent (never more failed than done); it is taken once
/// per finished request, which is nothing beside the request itself.
pub(crate) struct Tally {
    counts: Mutex<Counts>,
    changed: Condvar,
}

struct Counts {
    progress: Progress,
    /// Threads blocked in `wait_past`: a finish with none to wake makes no system call.
    waiters: usize,
}

impl Tally {
    pub(crate) fn new() -> Self {
        Tally {
            counts: Mutex::new(Counts {
                progress: Progress::default(),
                waiters: 0,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        sync::lock(&self.counts)
    }

    /// Sets the number of requests, once they are all submitted.
    pub(crate) fn set_total(&self, total: usize) {
        self.lock().progress.total = total;
    }

    /// Counts a change and wakes those waiting for one.
    fn count(&self, change: impl FnOnce(&mut Progress)) {
        let mut counts = self.lock();
        change(&mut counts.progress);
        if counts.waiters > 0 {
            drop(counts);
            self.changed.notify_all();
        }
    }

    pub(crate) fn snapshot(&self) -> Progress {
        self.lock().progress
    }

    /// Blocks until more than `seen` requests are done, every request is, or `timeout`
    /// passes; then the snapshot.
    pub(crate) fn wait_past(&self, seen: usize, timeout: Duration) -> Progress {
        let deadline = Instant::now().checked_add(timeout);
        let mut counts = self.lock();
        loop {
            let progress = counts.progress;
            if progress.done > seen || progress.is_complete() {
                return progress;
            }
            let left = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return progress,
                },
                None => Duration::MAX,
            };
            counts.waiters += 1;
            counts = sync::wait_timeout(&self.changed, counts, left).0;
            counts.waiters -= 1;
        }
    }
}

impl Watcher<Exchange> for Tally {
    fn retried(&self) {
        self.count(|progress| progress.retries += 1);
    }

    fn filled(&self, outcome: &Result<Exchange, Error>) {
        self.count(|progress| {
            progress.done += 1;
            match outcome {
                Ok(exchange) => progress.bytes += exchange.content.len() as u64,
                Err(_) => progress.failed += 1,
            }
        });
    }
}
