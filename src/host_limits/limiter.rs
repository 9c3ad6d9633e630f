//! A client's host limits wired to its pool: a request goes to the pool's queue when its
//! host has room, and otherwise waits in its host's line ([`Lines`]), holding no thread and
//! no place in the pool, until a request of that host ends or the host's rate allows
//! another (a pump the pool's timer runs).

use std::sync::Arc;
use std::time::Instant;

use super::lines::{Admit, Lines, Outcome, Released};
use super::value::{HostLimits, own_for};
use crate::Error;
use crate::pool::PoolRef;
use crate::task::Task;

/// The host limits of one client, and the pool its requests go to.
pub(crate) struct HostLimiter {
    /// Every host's, but those with limits of their own.
    every: Lines<Arc<Task>>,
    /// Those with limits of their own, by `host:port` or name alone.
    own: Vec<(String, Lines<Arc<Task>>)>,
    pool: PoolRef,
}

impl HostLimiter {
    /// A limiter for `limits`, or none when they limit nothing.
    pub(crate) fn new(limits: HostLimits, pool: PoolRef) -> Option<Arc<Self>> {
        if !limits.is_limited() {
            return None;
        }
        let (every, own) = limits.split();
        let own = own
            .into_iter()
            .map(|(host, limits)| (host, Lines::new(limits.split().0)))
            .collect();
        Some(Arc::new(HostLimiter {
            every: Lines::new(every),
            own,
            pool,
        }))
    }

    /// The limits `key` (`host:port`) goes by: its own, by name and port or name alone,
    /// else everyone's; as [`HostLimits::for_host`] says.
    fn lines(&self, key: &str) -> &Lines<Arc<Task>> {
        own_for(&self.own, key).unwrap_or(&self.every)
    }

    /// Lets `task` through for its host now, giving it back to queue, or keeps it in the
    /// host's line.
    pub(crate) fn enter(self: &Arc<Self>, key: &str, task: Arc<Task>) -> Option<Arc<Task>> {
        match self.lines(key).admit(key, task, Instant::now()) {
            Admit::Now(task) => self.let_through(key, task),
            Admit::Waiting { pump_at } => {
                self.arm(key, pump_at);
                None
            }
        }
    }

    /// As [`enter`](Self::enter), queuing what is let through; never waits (a retry, or
    /// a request its host lets through later).
    pub(crate) fn dispatch(self: &Arc<Self>, key: &str, task: Arc<Task>) {
        if let Some(task) = self.enter(key, task) {
            self.pool.offer(task);
        }
    }

    /// Marks `task` as let through; a task whose job is gone (cancelled while it waited)
    /// gives its place back at once.
    fn let_through(self: &Arc<Self>, key: &str, task: Arc<Task>) -> Option<Arc<Task>> {
        if task.admitted() {
            Some(task)
        } else {
            self.leave(key, Outcome::Failed);
            None
        }
    }

    /// A request of `key`'s host is done with it: the next in line may go.
    pub(super) fn leave(self: &Arc<Self>, key: &str, outcome: Outcome) {
        let released = self.lines(key).done(key, outcome, Instant::now());
        self.release(key, released);
    }

    fn release(self: &Arc<Self>, key: &str, released: Released<Arc<Task>>) {
        for task in released.ready {
            if let Some(task) = self.let_through(key, task) {
                self.pool.offer(task);
            }
        }
        self.arm(key, released.pump_at);
    }

    /// Asks the pool's timer to look at `key`'s line again at `at`.
    fn arm(self: &Arc<Self>, key: &str, at: Option<Instant>) {
        let Some(at) = at else {
            return;
        };
        let (limiter, key) = (self.clone(), Box::<str>::from(key));
        if self
            .pool
            .at(at, Box::new(move || limiter.pump(&key)))
            .is_err()
        {
            // The pool has closed: nothing will ever let the line through.
            self.fail_waiting();
        }
    }

    fn pump(self: &Arc<Self>, key: &str) {
        if self.pool.is_closed() {
            self.fail_waiting();
            return;
        }
        let released = self.lines(key).pump(key, Instant::now());
        self.release(key, released);
    }

    /// Requests in line, every host.
    pub(crate) fn waiting(&self) -> usize {
        self.every.waiting() + self.own.iter().map(|(_, h)| h.waiting()).sum::<usize>()
    }

    fn fail_waiting(&self) {
        let every = std::iter::once(&self.every).chain(self.own.iter().map(|(_, h)| h));
        for task in every.flat_map(Lines::drain) {
            task.fail(Error::Closed);
        }
    }
}
