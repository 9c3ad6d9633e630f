//! A request's way into the pool past its host's limits ([`HostLimits`]): it goes to the
//! pool's queue when its host has room, and otherwise waits in its host's line, holding no
//! thread and no place in the pool, until a request of that host ends or the host's rate
//! allows another (a pump the pool's timer runs). The limits themselves, per host, are
//! [`Hosts`]; this module only connects them to the pool.
//!
//! A request counts against its host from the moment it is let through ([`HostPlace`])
//! until its job is done, run or not: its place is given back with how it ended, which an
//! adaptive rate listens to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::exchange::Exchange;
use crate::hosts::{self, Admit, HostLimits, Hosts, Outcome, Released};
use crate::pool::PoolRef;
use crate::task::Task;
use crate::{Error, retry};

/// The host limits of one client, and the pool its requests go to.
pub(crate) struct HostGate {
    /// Every host's, but those with limits of their own.
    hosts: Hosts<Arc<Task>>,
    /// Those with limits of their own, by `host:port` or name alone.
    own: Vec<(String, Hosts<Arc<Task>>)>,
    pool: PoolRef,
}

impl HostGate {
    /// A gate for `limits`, or none when they limit nothing.
    pub(crate) fn new(limits: HostLimits, pool: PoolRef) -> Option<Arc<Self>> {
        if !limits.is_limited() {
            return None;
        }
        let (every, own) = limits.split();
        let own = own
            .into_iter()
            .map(|(host, limits)| (host, Hosts::new(limits.split().0)))
            .collect();
        Some(Arc::new(HostGate {
            hosts: Hosts::new(every),
            own,
            pool,
        }))
    }

    /// The limits `key` (`host:port`) goes by: its own, by name and port or name alone,
    /// else everyone's; as [`HostLimits::for_host`] says.
    fn hosts(&self, key: &str) -> &Hosts<Arc<Task>> {
        hosts::own_for(&self.own, key).unwrap_or(&self.hosts)
    }

    /// Lets `task` through for its host now, giving it back to queue, or keeps it in the
    /// host's line.
    pub(crate) fn enter(self: &Arc<Self>, key: &str, task: Arc<Task>) -> Option<Arc<Task>> {
        match self.hosts(key).admit(key, task, Instant::now()) {
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
    fn leave(self: &Arc<Self>, key: &str, outcome: Outcome) {
        let released = self.hosts(key).done(key, outcome, Instant::now());
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
        let (gate, key) = (self.clone(), Box::<str>::from(key));
        if self.pool.at(at, Box::new(move || gate.pump(&key))).is_err() {
            // The pool has closed: nothing will ever let the line through.
            self.fail_waiting();
        }
    }

    fn pump(self: &Arc<Self>, key: &str) {
        if self.pool.is_closed() {
            self.fail_waiting();
            return;
        }
        let released = self.hosts(key).pump(key, Instant::now());
        self.release(key, released);
    }

    /// Requests in line, every host.
    pub(crate) fn waiting(&self) -> usize {
        self.hosts.waiting() + self.own.iter().map(|(_, h)| h.waiting()).sum::<usize>()
    }

    fn fail_waiting(&self) {
        let every = std::iter::once(&self.hosts).chain(self.own.iter().map(|(_, h)| h));
        for task in every.flat_map(Hosts::drain) {
            task.fail(Error::Closed);
        }
    }
}

/// A request's place with its host, from its submission until its job is done: in line,
/// then let through and counted against its host.
pub(crate) struct HostPlace {
    gate: Arc<HostGate>,
    /// `host:port`, as [`origin::authority`](crate::origin::authority) names it.
    key: Box<str>,
    /// When it joined the line, and when it was let through.
    joined: Instant,
    admitted: Option<Instant>,
    /// Time in line over every attempt.
    waited: Duration,
}

impl HostPlace {
    pub(crate) fn new(gate: &Arc<HostGate>, key: String) -> Box<Self> {
        Box::new(HostPlace {
            gate: gate.clone(),
            key: key.into(),
            joined: Instant::now(),
            admitted: None,
            waited: Duration::ZERO,
        })
    }

    pub(crate) fn gate(&self) -> &Arc<HostGate> {
        &self.gate
    }

    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// Its host let it through.
    pub(crate) fn admitted(&mut self) {
        let now = Instant::now();
        self.waited += now.saturating_duration_since(self.joined);
        self.admitted = Some(now);
    }

    /// How long it waited for its host, over every attempt.
    pub(crate) fn waited(&self) -> Duration {
        self.waited
    }

    /// The attempt ended as `outcome`: the place goes to the next in line. The request
    /// joins the line again, from `at`, if it is sent again.
    pub(crate) fn leave(&mut self, outcome: Outcome, at: Instant) {
        if self.admitted.take().is_some() {
            self.gate.leave(&self.key, outcome);
        }
        self.joined = at;
    }
}

impl Drop for HostPlace {
    /// A job dropped unrun, or failed, gives back the place it was let through to.
    fn drop(&mut self) {
        if self.admitted.take().is_some() {
            self.gate.leave(&self.key, Outcome::Failed);
        }
    }
}

/// How an attempt ended, as its host's pace sees it: a 429 or 503 slows an adaptive rate,
/// for its `Retry-After` when it says one.
pub(crate) fn outcome<E>(result: &Result<Exchange, E>) -> Outcome {
    match result {
        Ok(exchange) if retry::slows_down(exchange.response.status) => Outcome::Slowed {
            retry_after: retry::asked_wait(&exchange.response),
        },
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::tests::answer;

    #[test]
    fn a_429_or_503_slows_its_host_for_its_retry_after() {
        let slowed = |status, retry_after| {
            let (response, content) = (answer(status, retry_after), Vec::new());
            outcome::<()>(&Ok(Exchange { response, content }))
        };
        let retry_after = Some(Duration::from_secs(3));
        assert_eq!(slowed(429, Some("3")), Outcome::Slowed { retry_after });
        assert_eq!(slowed(503, None), Outcome::Slowed { retry_after: None });
        assert_eq!(slowed(502, Some("3")), Outcome::Success);
        assert_eq!(outcome::<()>(&Err(())), Outcome::Failed);
    }
}
