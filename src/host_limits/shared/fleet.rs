//! A client's shared limits at work ([`Fleet`]): the second lines ([`Queues`]) wired to the
//! client's Redis thread ([`Link`]), to the pool's timer, and back to the client's limiter
//! ([`Through`]) for the requests the fleet lets through.
//!
//! Every call to Redis runs on the Redis thread; what it answers comes back there and is
//! acted on at once (a request let through goes to the pool, a wait becomes a timer), so
//! that no thread of a request, driver or timer waits on Redis. A lease's release is sent
//! before the ask it makes room for, and the thread runs calls in order. A line waiting for
//! its host's cap asks again as soon as a lease of the host is given back: by a request of
//! its own process, or, told by Redis on a channel that a listener thread hears, by
//! another's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::queue::{Enter, Queues, Then};
use super::scripts::{self, Grant, Keys, Params};
use super::settings::RedisLimits;
use crate::host_limits::lines::Outcome;
use crate::host_limits::value::{HostLimits, own_for};
use crate::pool::PoolRef;
use crate::redis::link::Link;
use crate::redis::listen::Listener;
use crate::redis::{Redis, Settings};
use crate::task::Task;
use crate::{Error, logs, random};

/// Where a request the fleet lets through goes: its client's limiter.
pub(crate) trait Through: Send + Sync {
    /// Request `id` of `key`'s host passed the fleet's limits: on to the pool, or, if its
    /// job is gone, its places given back.
    fn through(self: Arc<Self>, key: &str, id: u64, task: Arc<Task>);
}

/// A client's limits as a fleet shares them; see the module docs.
pub(crate) struct Fleet {
    link: Link,
    /// Hears of leases given back by any process, for the lines waiting for a cap; held
    /// for its thread, which it stops when dropped.
    _listener: Option<Listener>,
    settings: Settings,
    queues: Queues<Arc<Task>>,
    /// Every host's, and those of the hosts with limits of their own.
    every: Params,
    own: Vec<(String, Params)>,
    /// A lease's id is `<token>:<request id>`: the token tells this client's from every
    /// other's in the fleet.
    token: String,
    lease: Duration,
    pool: PoolRef,
    through: Weak<dyn Through>,
    me: Weak<Fleet>,
    /// A renewal of the leases held is armed on the pool's timer.
    renewing: AtomicBool,
}

impl Fleet {
    /// The fleet's side of `limits`, through `redis`; `None` when its thread cannot start,
    /// and the client then goes by its own limits alone.
    pub(crate) fn new(
        redis: &RedisLimits,
        limits: &HostLimits,
        pool: PoolRef,
        through: Weak<dyn Through>,
    ) -> Option<Arc<Fleet>> {
        let link = match Link::start(redis.settings().clone()) {
            Ok(link) => link,
            Err(e) => {
                logs::error!("could not start asynchttp-redis: {e}; limits are not shared");
                return None;
            }
        };
        let (every, own) = limits.clone().split();
        Some(Arc::new_cyclic(|me: &Weak<Fleet>| Fleet {
            _listener: listen(redis.settings(), me.clone()),
            link,
            settings: redis.settings().clone(),
            queues: Queues::new(),
            every: Params::of(&every),
            own: own
                .iter()
                .map(|(host, l)| (host.clone(), Params::of(l)))
                .collect(),
            token: random::token()[..16].to_owned(),
            lease: redis.lease_length(),
            pool,
            through,
            me: me.clone(),
            renewing: AtomicBool::new(false),
        }))
    }

    fn params(&self, key: &str) -> Params {
        *own_for(&self.own, key).unwrap_or(&self.every)
    }

    fn keys(&self, key: &str) -> Keys {
        Keys::new(|rest| self.settings.key(rest), key)
    }

    fn lease_id(&self, id: u64) -> String {
        format!("{}:{id}", self.token)
    }

    /// Request `id` of `key`'s host, let through by its process's own line, asks the
    /// fleet: given back when it may go now (nothing shared for its host, or Redis away),
    /// else kept until Redis lets it through.
    pub(crate) fn enter(&self, key: &str, id: u64, task: Arc<Task>) -> Option<Arc<Task>> {
        if !self.params(key).shares() {
            return Some(task);
        }
        match self.queues.enter(key, id, task, self.link.is_away()) {
            Enter::Go(mut ready) => {
                let (_, task) = ready.pop().expect("the new one is last");
                self.let_through(key, ready);
                Some(task)
            }
            Enter::Ask(ids) => {
                self.ask(key, ids);
                None
            }
            Enter::Wait => None,
        }
    }

    /// Request `id` of `key`'s host, let through, ended as `outcome`: its lease goes back,
    /// an adaptive host hears how it went, and the next in line may ask.
    pub(crate) fn leave(&self, key: &str, id: u64, outcome: Outcome) {
        let params = self.params(key);
        if !params.shares() {
            return;
        }
        let (held, ask) = self.queues.leave(key, id);
        if held || params.adapts(outcome) {
            let lease = held.then(|| self.lease_id(id));
            let keys = self.keys(key);
            self.link.send(Box::new(move |redis: &Redis| {
                redis.call(|c| scripts::done(c, &keys, &params, lease.as_deref(), outcome));
            }));
        }
        if let Some(ids) = ask {
            self.ask(key, ids);
        }
    }

    /// Redis told that a lease of `key` was given back.
    fn released(&self, key: &str) {
        if let Some(ids) = self.queues.released(key) {
            self.ask(key, ids);
        }
    }

    /// Asks Redis for leases for `ids`, the first in `key`'s line.
    fn ask(&self, key: &str, ids: Vec<u64>) {
        let (keys, params, lease) = (self.keys(key), self.params(key), self.lease);
        let lease_ids: Vec<String> = ids.iter().map(|&id| self.lease_id(id)).collect();
        let (fleet, host) = (self.me.clone(), Box::<str>::from(key));
        let sent = self.link.send(Box::new(move |redis: &Redis| {
            let answer = redis.call(|c| scripts::acquire(c, &keys, &params, lease, &lease_ids));
            if let Some(fleet) = fleet.upgrade() {
                fleet.answered(&host, answer);
            }
        }));
        if !sent {
            self.answered(key, None);
        }
    }

    /// Redis answered an ask for `key` (`None`: it is away).
    fn answered(&self, key: &str, answer: Option<Grant>) {
        let leases = self.params(key).leases();
        let answered = self.queues.answered(key, answer, leases, Instant::now());
        if answered.leased && !answered.ready.is_empty() {
            self.renew_later();
        }
        self.let_through(key, answered.ready);
        match answered.then {
            Then::Nothing => {}
            Then::Ask(ids) => self.ask(key, ids),
            Then::At(at) => self.arm(key, at),
        }
    }

    fn let_through(&self, key: &str, ready: Vec<(u64, Arc<Task>)>) {
        if ready.is_empty() {
            return;
        }
        match self.through.upgrade() {
            Some(through) => {
                for (id, task) in ready {
                    through.clone().through(key, id, task);
                }
            }
            None => {
                for (_, task) in ready {
                    task.fail(Error::Closed);
                }
            }
        }
    }

    /// Asks again for `key`'s line at `at`, on the pool's timer.
    fn arm(&self, key: &str, at: Instant) {
        let (fleet, host) = (self.me.clone(), Box::<str>::from(key));
        let pump = Box::new(move || {
            if let Some(fleet) = fleet.upgrade() {
                fleet.pump(&host, at);
            }
        });
        if self.pool.at(at, pump).is_err() {
            self.fail_waiting();
        }
    }

    fn pump(&self, key: &str, at: Instant) {
        if self.pool.is_closed() {
            self.fail_waiting();
            return;
        }
        if let Some(ids) = self.queues.pump(key, at) {
            self.ask(key, ids);
        }
    }

    /// Arms the next renewal of the leases held, unless one is armed.
    fn renew_later(&self) {
        if self.renewing.swap(true, Ordering::AcqRel) {
            return;
        }
        let fleet = self.me.clone();
        let renew = Box::new(move || {
            if let Some(fleet) = fleet.upgrade() {
                fleet.renew();
            }
        });
        if self
            .pool
            .at(Instant::now() + self.lease / 3, renew)
            .is_err()
        {
            self.renewing.store(false, Ordering::Release);
        }
    }

    /// Renews every lease held, and arms the next renewal while any is.
    fn renew(&self) {
        self.renewing.store(false, Ordering::Release);
        let held = self.queues.held();
        if held.is_empty() {
            return;
        }
        let held: Vec<(Keys, Vec<String>)> = held
            .iter()
            .map(|(key, ids)| {
                let lease_ids = ids.iter().map(|&id| self.lease_id(id)).collect();
                (self.keys(key), lease_ids)
            })
            .collect();
        let lease = self.lease;
        self.link.send(Box::new(move |redis: &Redis| {
            for (keys, lease_ids) in &held {
                redis.call(|c| scripts::renew(c, keys, lease, lease_ids));
            }
        }));
        self.renew_later();
    }

    /// Requests waiting for Redis, all hosts.
    pub(crate) fn waiting(&self) -> usize {
        self.queues.waiting()
    }

    /// Fails every request waiting for Redis: the pool has closed.
    pub(crate) fn fail_waiting(&self) {
        for task in self.queues.drain() {
            task.fail(Error::Closed);
        }
    }
}

/// A listener to the leases given back, for `fleet`; `None` when its thread cannot start,
/// and lines waiting for a cap then ask again each poll.
fn listen(settings: &Settings, fleet: Weak<Fleet>) -> Option<Listener> {
    let channel = scripts::channel(|rest| settings.key(rest));
    let heard = move |host: &str| {
        if let Some(fleet) = fleet.upgrade() {
            fleet.released(host);
        }
    };
    match Listener::start(settings.clone(), channel, heard) {
        Ok(listener) => Some(listener),
        Err(e) => {
            logs::error!("could not start asynchttp-redis-listen: {e}");
            None
        }
    }
}
