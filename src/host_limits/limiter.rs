//! A client's host limits wired to its pool: a request goes to the pool's queue when its
//! host has room, and otherwise waits in its host's line ([`Lines`]), holding no thread and
//! no place in the pool, until a request of that host ends or the host's rate allows
//! another (a pump the pool's timer runs). With limits shared by a fleet (the `redis`
//! feature), a request its host's line lets through waits once more, for the fleet
//! (`Fleet`), before it goes to the queue.

use std::sync::Arc;
use std::time::Instant;

use super::lines::{Admit, Lines, Outcome, Released};
use super::value::{HostLimits, own_for};
use crate::Error;
use crate::pool::PoolRef;
use crate::task::Task;

#[cfg(feature = "redis")]
use super::shared::{Fleet, Through};

/// A request in its host's line: its id (which names its lease with the fleet) and its
/// task.
struct Waiting {
    id: u64,
    task: Arc<Task>,
}

/// The host limits of one client, and the pool its requests go to.
pub(crate) struct HostLimiter {
    /// Every host's, but those with limits of their own.
    every: Lines<Waiting>,
    /// Those with limits of their own, by `host:port` or name alone.
    own: Vec<(String, Lines<Waiting>)>,
    pool: PoolRef,
    /// The same limits, held by every process sharing them.
    #[cfg(feature = "redis")]
    fleet: Option<Arc<Fleet>>,
}

impl HostLimiter {
    /// A limiter for `limits`, or none when they limit nothing.
    pub(crate) fn new(limits: HostLimits, pool: PoolRef) -> Option<Arc<Self>> {
        if !limits.is_limited() {
            return None;
        }
        Some(Arc::new_cyclic(|_me: &std::sync::Weak<HostLimiter>| {
            #[cfg(feature = "redis")]
            let fleet = limits.shared_through().and_then(|redis| {
                let through: std::sync::Weak<dyn Through> = _me.clone();
                Fleet::new(redis, &limits, pool.clone(), through)
            });
            let (every, own) = limits.split();
            let own = own
                .into_iter()
                .map(|(host, limits)| (host, Lines::new(limits.split().0)))
                .collect();
            HostLimiter {
                every: Lines::new(every),
                own,
                pool,
                #[cfg(feature = "redis")]
                fleet,
            }
        }))
    }

    /// The limits `key` (`host:port`) goes by: its own, by name and port or name alone,
    /// else everyone's; as [`HostLimits::for_host`] says.
    fn lines(&self, key: &str) -> &Lines<Waiting> {
        own_for(&self.own, key).unwrap_or(&self.every)
    }

    /// Lets request `id`'s `task` through for its host now, giving it back to queue, or
    /// keeps it in the host's line.
    pub(crate) fn enter(
        self: &Arc<Self>,
        key: &str,
        id: u64,
        task: Arc<Task>,
    ) -> Option<Arc<Task>> {
        match self
            .lines(key)
            .admit(key, Waiting { id, task }, Instant::now())
        {
            Admit::Now(waiting) => self.let_through(key, waiting),
            Admit::Waiting { pump_at } => {
                self.arm(key, pump_at);
                None
            }
        }
    }

    /// As [`enter`](Self::enter), queuing what is let through; never waits (a retry, or
    /// a request its host lets through later).
    pub(crate) fn dispatch(self: &Arc<Self>, key: &str, id: u64, task: Arc<Task>) {
        if let Some(task) = self.enter(key, id, task) {
            self.pool.offer(task);
        }
    }

    /// Passes a request its host's line let through to the fleet's line, if limits are
    /// shared, then marks it as let through; a task whose job is gone (cancelled while it
    /// waited) gives its place back at once.
    fn let_through(self: &Arc<Self>, key: &str, waiting: Waiting) -> Option<Arc<Task>> {
        let Waiting { id, task } = waiting;
        #[cfg(feature = "redis")]
        let task = match &self.fleet {
            Some(fleet) => fleet.enter(key, id, task)?,
            None => task,
        };
        self.admit(key, id, task)
    }

    fn admit(self: &Arc<Self>, key: &str, id: u64, task: Arc<Task>) -> Option<Arc<Task>> {
        if task.admitted() {
            Some(task)
        } else {
            self.leave(key, id, Outcome::Failed);
            None
        }
    }

    /// Request `id` of `key`'s host is done with it: the next in line may go. The fleet
    /// hears first, so that the lease it gives back reaches Redis before the next request
    /// of this process asks for one.
    #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
    pub(super) fn leave(self: &Arc<Self>, key: &str, id: u64, outcome: Outcome) {
        #[cfg(feature = "redis")]
        if let Some(fleet) = &self.fleet {
            fleet.leave(key, id, outcome);
        }
        let released = self.lines(key).done(key, outcome, Instant::now());
        self.release(key, released);
    }

    fn release(self: &Arc<Self>, key: &str, released: Released<Waiting>) {
        for waiting in released.ready {
            if let Some(task) = self.let_through(key, waiting) {
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
        let own: usize = self.own.iter().map(|(_, h)| h.waiting()).sum();
        #[cfg(feature = "redis")]
        let own = own + self.fleet.as_ref().map_or(0, |fleet| fleet.waiting());
        self.every.waiting() + own
    }

    fn fail_waiting(&self) {
        let every = std::iter::once(&self.every).chain(self.own.iter().map(|(_, h)| h));
        for waiting in every.flat_map(Lines::drain) {
            waiting.task.fail(Error::Closed);
        }
        #[cfg(feature = "redis")]
        if let Some(fleet) = &self.fleet {
            fleet.fail_waiting();
        }
    }
}

#[cfg(feature = "redis")]
impl Through for HostLimiter {
    fn through(self: Arc<Self>, key: &str, id: u64, task: Arc<Task>) {
        if let Some(task) = self.admit(key, id, task) {
            self.pool.offer(task);
        }
    }
}
