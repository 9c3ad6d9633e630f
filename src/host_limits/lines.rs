//! Each host's line: at most so many of its requests in flight, at most so many a second
//! (its [`Bucket`]), slower still while the host answers 429 or 503, and the rest waiting
//! in order.
//!
//! The lines only count and queue. They are handed each request as it is submitted and say
//! whether it may start now; the ones that may not wait in their host's line, in order,
//! until a request of that host ends ([`Lines::done`]) or time passes ([`Lines::pump`]).
//! Both give back the requests that may start then, and the time at which the caller must
//! pump again, so that one timer for the whole process serves every host and no waiting
//! request holds a thread or a timer of its own. The lines never call out: their lock is
//! never held while anything of the caller's runs.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::HostLimits;
use super::bucket::{self, Bucket, later};
use crate::sync::lock;

/// The longest gap adaptivity slows a host down to, unless its rate is slower already.
pub(super) const ADAPTIVE_SLOWEST: Duration = Duration::from_secs(60);

/// The longest `Retry-After` honoured. A later one (the end of a maintenance window, a
/// date from a clock far off) would hold the host's queue blind for that long; after a
/// minute, one more request asks again, and its answer pauses the host again if need be.
pub(super) const LONGEST_PAUSE: Duration = Duration::from_secs(60);

/// A sweep of idle entries runs when the table has grown to this many entries at least.
const SWEEP_MIN: usize = 256;

/// What may happen to a request handed to [`Lines::admit`].
#[derive(Debug)]
pub(super) enum Admit<T> {
    /// It may start now: it counts as in flight for its host until [`Lines::done`].
    Now(T),
    /// It waits in its host's queue. `pump_at` is `Some` when the caller must call
    /// [`Lines::pump`] for the host at that time; `None` when a request ending or a timer
    /// asked for before will release it.
    Waiting { pump_at: Option<Instant> },
}

/// The waiting requests that may start now (each counts as in flight for its host), and
/// when to call [`Lines::pump`] for the host, as in [`Admit::Waiting`].
#[derive(Debug)]
pub(super) struct Released<T> {
    pub(super) ready: Vec<T>,
    pub(super) pump_at: Option<Instant>,
}

impl<T> Released<T> {
    fn none() -> Self {
        Released {
            ready: Vec::new(),
            pump_at: None,
        }
    }
}

/// How a request that was in flight ended, as far as its host's bucket is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A response other than 429 and 503.
    Success,
    /// A 429 or 503 response, with its `Retry-After` as a delay if it had one.
    Slowed { retry_after: Option<Duration> },
    /// No response (a transport error): says nothing about the host's load.
    Failed,
}

/// Every host's line, each following the same limits; see the module docs.
pub(super) struct Lines<T> {
    limits: HostLimits,
    /// The in-flight cap, `usize::MAX` when there is none.
    cap: usize,
    /// The configured rate as a gap between requests, and the burst.
    rate: Option<(Duration, u32)>,
    table: Mutex<Table<T>>,
}

struct Table<T> {
    lines: HashMap<Box<str>, Line<T>>,
    /// Requests waiting, all hosts.
    waiting: usize,
    /// The table's size that triggers the next sweep of idle entries.
    sweep_at: usize,
}

/// One host's line: its requests waiting and in flight, its pause, the timers it asked
/// for, and its bucket. It is removed once it says nothing a fresh entry would not: nothing
/// in flight or waiting, no timer armed, a full bucket and no slowdown in effect.
struct Line<T> {
    queue: VecDeque<T>,
    in_flight: usize,
    /// Requests start at the earliest then (a `Retry-After`).
    paused_until: Option<Instant>,
    /// The times of the timers handed out and not yet fired, earliest last. A new one is
    /// asked for only when it is earlier than all of these, so each fired timer is the
    /// last one here; most of the time there is at most one.
    timers: Vec<Instant>,
    bucket: Option<Bucket>,
}

impl<T> Line<T> {
    fn new(now: Instant, rate: Option<(Duration, u32)>) -> Self {
        Line {
            queue: VecDeque::new(),
            in_flight: 0,
            paused_until: None,
            timers: Vec::new(),
            bucket: rate.map(|(gap, _)| Bucket::new(now, gap)),
        }
    }
}

impl<T> Lines<T> {
    /// Lines that apply `limits` to each host.
    pub(super) fn new(limits: HostLimits) -> Self {
        Lines {
            cap: limits.in_flight_cap().unwrap_or(usize::MAX),
            rate: limits
                .rate_limit()
                .map(|(per_second, burst)| (bucket::gap(per_second), burst)),
            limits,
            table: Mutex::new(Table {
                lines: HashMap::new(),
                waiting: 0,
                sweep_at: SWEEP_MIN,
            }),
        }
    }

    /// `item` of `host` may start now (it then counts as in flight for `host`, and took a
    /// token), or waits in the host's queue behind the others.
    pub(super) fn admit(&self, host: &str, item: T, now: Instant) -> Admit<T> {
        if !self.limits.is_limited() {
            return Admit::Now(item);
        }
        let mut table = lock(&self.table);
        if table.lines.len() >= table.sweep_at {
            self.sweep(&mut table, now);
        }
        // An idle entry is as good as gone, whether or not a sweep has found it yet.
        match table.lines.get_mut(host) {
            Some(entry) if self.idle(entry, now) => *entry = Line::new(now, self.rate),
            Some(_) => {}
            None => {
                table.lines.insert(host.into(), Line::new(now, self.rate));
            }
        }
        let Table { lines, waiting, .. } = &mut *table;
        let entry = lines.get_mut(host).expect("inserted above");
        if entry.queue.is_empty() && self.may_start(entry, now) {
            self.start(entry, now);
            return Admit::Now(item);
        }
        entry.queue.push_back(item);
        *waiting += 1;
        Admit::Waiting {
            pump_at: self.timer(entry, now),
        }
    }

    /// One request of `host` that was in flight ended with `outcome`: frees its place,
    /// applies adaptivity, and gives back the waiting requests that may start now.
    pub(super) fn done(&self, host: &str, outcome: Outcome, now: Instant) -> Released<T> {
        if !self.limits.is_limited() {
            return Released::none();
        }
        self.update(host, now, |entry| {
            debug_assert!(entry.in_flight > 0, "done for a request not in flight");
            entry.in_flight = entry.in_flight.saturating_sub(1);
            self.adapt(entry, outcome, now);
        })
    }

    /// A timer the caller armed for `host` fired: the waiting requests that may start now.
    pub(super) fn pump(&self, host: &str, now: Instant) -> Released<T> {
        self.update(host, now, |entry| {
            // Timers fire in the order of their times, and the earliest is last.
            entry.timers.pop();
        })
    }

    /// Requests waiting, all hosts.
    pub(super) fn waiting(&self) -> usize {
        lock(&self.table).waiting
    }

    /// Takes every waiting request out, all hosts; those in flight still count until
    /// [`done`](Self::done).
    pub(super) fn drain(&self) -> Vec<T> {
        let mut table = lock(&self.table);
        table.waiting = 0;
        table
            .lines
            .values_mut()
            .flat_map(|entry| entry.queue.drain(..))
            .collect()
    }

    /// Applies `change` to `host`'s entry, then starts what may start and removes the
    /// entry if it is idle.
    fn update(&self, host: &str, now: Instant, change: impl FnOnce(&mut Line<T>)) -> Released<T> {
        let mut table = lock(&self.table);
        let Table { lines, waiting, .. } = &mut *table;
        let Some(entry) = lines.get_mut(host) else {
            return Released::none();
        };
        change(entry);
        let mut ready = Vec::new();
        while !entry.queue.is_empty() && self.may_start(entry, now) {
            self.start(entry, now);
            ready.extend(entry.queue.pop_front());
        }
        *waiting -= ready.len();
        let pump_at = self.timer(entry, now);
        if self.idle(entry, now) {
            lines.remove(host);
        }
        Released { ready, pump_at }
    }

    /// The bucket's size; 1 when there is no bucket.
    fn burst(&self) -> u32 {
        self.rate.map_or(1, |(_, burst)| burst)
    }

    fn may_start(&self, entry: &Line<T>, now: Instant) -> bool {
        entry.in_flight < self.cap && self.start_at(entry, now) <= now
    }

    /// When the host's next request may start as far as time goes: a pause and a token.
    fn start_at(&self, entry: &Line<T>, now: Instant) -> Instant {
        let token = entry
            .bucket
            .as_ref()
            .map_or(now, |bucket| bucket.ready_at(now, self.burst()));
        entry.paused_until.map_or(token, |until| until.max(token))
    }

    fn start(&self, entry: &mut Line<T>, now: Instant) {
        entry.in_flight += 1;
        if let Some(bucket) = &mut entry.bucket {
            bucket.take(now);
        }
    }

    /// The time for a new timer, if the host's queue needs one that is earlier than every
    /// timer armed: none is needed while the queue is empty or the host is at its cap,
    /// since a request ending releases the next.
    fn timer(&self, entry: &mut Line<T>, now: Instant) -> Option<Instant> {
        if entry.queue.is_empty() || entry.in_flight >= self.cap {
            return None;
        }
        let at = self.start_at(entry, now);
        if entry.timers.last().is_some_and(|&armed| armed <= at) {
            return None;
        }
        entry.timers.push(at);
        Some(at)
    }

    fn adapt(&self, entry: &mut Line<T>, outcome: Outcome, now: Instant) {
        if !self.limits.is_adaptive() {
            return;
        }
        match outcome {
            Outcome::Slowed { retry_after } => {
                if let Some(delay) = retry_after {
                    let until = later(now, delay.min(LONGEST_PAUSE));
                    entry.paused_until = Some(entry.paused_until.map_or(until, |p| p.max(until)));
                }
                let resume = entry.paused_until.unwrap_or(now);
                if let (Some(bucket), Some((configured, burst))) = (&mut entry.bucket, self.rate) {
                    bucket.slow(now, resume, ADAPTIVE_SLOWEST.max(configured), burst);
                }
            }
            Outcome::Success => {
                if let (Some(bucket), Some((configured, _))) = (&mut entry.bucket, self.rate) {
                    bucket.recover(now, configured);
                }
            }
            Outcome::Failed => {}
        }
    }

    /// Nothing in the entry that a fresh one would not say.
    fn idle(&self, entry: &Line<T>, now: Instant) -> bool {
        entry.in_flight == 0
            && entry.queue.is_empty()
            && entry.timers.is_empty()
            && entry.paused_until.is_none_or(|until| until <= now)
            && entry
                .bucket
                .as_ref()
                .is_none_or(|bucket| bucket.rested(now))
    }

    /// Removes the idle entries. An entry is removed as it turns idle when a request ends
    /// or a timer fires, but a bucket refills with nobody watching: those are found here,
    /// each time the table has doubled since the last sweep, so a sweep costs O(1) a
    /// request over time.
    fn sweep(&self, table: &mut Table<T>, now: Instant) {
        table.lines.retain(|_, entry| !self.idle(entry, now));
        table.sweep_at = SWEEP_MIN.max(table.lines.len() * 2);
    }
}

impl<T> fmt::Debug for Lines<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = lock(&self.table);
        f.debug_struct("Lines")
            .field("limits", &self.limits)
            .field("hosts", &table.lines.len())
            .field("waiting", &table.waiting)
            .finish()
    }
}

#[cfg(test)]
mod tests;
