//! A pool's timer: one thread, `asynchttp-timer`, started on demand, that runs small
//! actions at given instants. A request waiting out a retry's backoff, or a host's rate
//! limit, is an entry in its heap: no thread and no place in the pool is held per waiting
//! request, however many wait.
//!
//! Closing the timer runs every action left at once (each then finds its pool closed and
//! fails its request) and lets the thread end; the pool joins it.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use crate::{logs, sync};

/// Something to do at an instant; it must not block.
pub(crate) type Action = Box<dyn FnOnce() + Send>;

struct Entry {
    at: Instant,
    /// Breaks ties in the order the actions were set.
    seq: u64,
    action: Action,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed: the heap's top is the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

#[derive(Default)]
struct State {
    heap: BinaryHeap<Entry>,
    seq: u64,
    closed: bool,
    thread: Option<JoinHandle<()>>,
}

/// The timer of one pool.
#[derive(Default)]
pub(crate) struct Timer {
    state: Mutex<State>,
    changed: Condvar,
}

impl Timer {
    /// Runs `action` at `at` (at once if it has passed) on the timer's thread, which is
    /// started on first use with `mark` run on it first. A closed timer, or one whose
    /// thread cannot start, gives the action back.
    pub(crate) fn at(
        self: &Arc<Self>,
        at: Instant,
        action: Action,
        mark: fn(),
    ) -> Result<(), Action> {
        let mut state = self.lock();
        if state.closed {
            return Err(action);
        }
        if state.thread.is_none() {
            let timer = self.clone();
            let spawned = thread::Builder::new()
                .name("asynchttp-timer".to_owned())
                .spawn(move || {
                    mark();
                    timer.run();
                });
            match spawned {
                Ok(handle) => state.thread = Some(handle),
                Err(e) => {
                    logs::error!("could not start asynchttp-timer: {e}");
                    return Err(action);
                }
            }
        }
        let seq = state.seq;
        state.seq += 1;
        let earliest = state.heap.peek().is_none_or(|top| at < top.at);
        state.heap.push(Entry { at, seq, action });
        drop(state);
        if earliest {
            self.changed.notify_one();
        }
        Ok(())
    }

    /// Actions waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().heap.len()
    }

    /// Closes the timer: its thread runs what is left at once and ends. The thread's
    /// handle, to join, if it was started.
    pub(crate) fn close(&self) -> Option<JoinHandle<()>> {
        let mut state = self.lock();
        state.closed = true;
        let thread = state.thread.take();
        drop(state);
        self.changed.notify_one();
        thread
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        sync::lock(&self.state)
    }

    /// The thread's life: sleep until the earliest entry is due, run it, until closed and
    /// empty.
    fn run(&self) {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let due = match state.heap.peek() {
                Some(top) if state.closed || top.at <= now => state.heap.pop(),
                _ => None,
            };
            if let Some(entry) = due {
                drop(state);
                if catch_unwind(AssertUnwindSafe(entry.action)).is_err() {
                    logs::error!("a timed action panicked");
                }
                state = self.lock();
                continue;
            }
            if state.closed {
                break;
            }
            state = match state.heap.peek().map(|top| top.at) {
                Some(at) => sync::wait_timeout(&self.changed, state, at - now).0,
                None => sync::wait(&self.changed, state),
            };
        }
        logs::debug!("timer stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn actions_run_in_time_order_and_close_runs_the_rest() {
        let timer = Arc::new(Timer::default());
        let (tx, rx) = flume::unbounded();
        let now = Instant::now();
        for (n, ms) in [(3, 60), (1, 0), (2, 30), (4, 3_600_000)] {
            let tx = tx.clone();
            let at = now + Duration::from_millis(ms);
            let set = timer.at(at, Box::new(move || tx.send(n).unwrap()), || {});
            assert!(set.is_ok());
        }
        let bound = Duration::from_secs(10);
        let first: Vec<i32> = (0..3).map(|_| rx.recv_timeout(bound).unwrap()).collect();
        assert_eq!(first, [1, 2, 3]);
        assert_eq!(timer.len(), 1, "the hour-long one still waits");
        let thread = timer.close().expect("started");
        thread.join().unwrap();
        assert_eq!(rx.try_recv(), Ok(4), "closing ran it at once");
        assert!(timer.at(now, Box::new(|| {}), || {}).is_err());
    }
}
