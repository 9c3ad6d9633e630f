//! The per-host gate: at most so many requests of one host at once, at most so many a
//! second, slower still while the host answers 429 or 503.
//!
//! The gate only counts and queues. It is handed each request as it is submitted and says
//! whether it may start now; the ones that may not wait in their host's queue, in order,
//! until a request of that host ends ([`Hosts::done`]) or time passes ([`Hosts::pump`]).
//! Both give back the requests that may start then, and the time at which the caller must
//! pump again, so that one timer for the whole process serves every host and no waiting
//! request holds a thread or a timer of its own. The gate never calls out: its lock is
//! never held while anything of the caller's runs.
//!
//! The rate is a token bucket kept as the time its next token is due (the "generic cell
//! rate algorithm" of ATM networks): whole nanoseconds, so it never drifts, and a long
//! idle time or a huge rate cannot overflow it.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::origin;
use crate::sync::lock;

/// Limits that apply to each host apart: how many of its requests run at once, how many
/// start each second, and whether a host that answers 429 or 503 is slowed down.
///
/// A host is a host name and a port, the scheme's default port made explicit:
/// `http://example.com/` and `http://example.com:80/` are one host, `https://example.com/`
/// (port 443) and `http://www.example.com/` are others. No limit is set by default.
///
/// # Examples
///
/// A polite crawler: four requests to a host at once at most, two a second at most (a
/// burst of 1: never more than two in any second; see [`rate`](Self::rate)), and slower
/// while the host says it is overloaded. The limits are given to the client with
/// `HttpBuilder::per_host`.
///
/// ```
/// use asynchttp::HostLimits;
///
/// let limits = HostLimits::new().in_flight(4).rate(2.0, 1).adaptive(true);
/// assert_eq!(limits.in_flight_cap(), Some(4));
/// assert_eq!(limits.rate_limit(), Some((2.0, 1)));
/// assert!(limits.is_adaptive() && limits.is_limited());
/// assert!(!HostLimits::new().is_limited());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostLimits {
    in_flight: Option<usize>,
    rate: Option<(f64, u32)>,
    adaptive: bool,
    /// Hosts with limits of their own, by `host:port` or by host name for every port.
    own: Vec<(String, HostLimits)>,
    /// Why the first text given to [`host`](Self::host) that names no host was refused:
    /// `HttpBuilder::build` says so.
    refused: Option<String>,
}

impl HostLimits {
    /// No limits: every request starts as soon as the client can run it.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `n` requests of one host run at once; the others wait, in the order they
    /// were made. 0 is taken as 1.
    ///
    /// ```
    /// let limits = asynchttp::HostLimits::new().in_flight(0);
    /// assert_eq!(limits.in_flight_cap(), Some(1));
    /// ```
    pub fn in_flight(mut self, n: usize) -> Self {
        self.in_flight = Some(n.max(1));
        self
    }

    /// At most `per_second` requests of one host start each second, on average, and at
    /// most `burst` at once after the host has been idle: a token bucket per host that
    /// holds `burst` tokens (0 is taken as 1), starts full, and refills at `per_second`
    /// tokens a second; each request takes one as it starts.
    ///
    /// The burst comes on top of the rate: in any span of `w` seconds, fewer than
    /// `burst + per_second × w` requests of a host start. `rate(5.0, 5)` lets 5 go at once
    /// after a rest, then one every 200 ms: up to 9 in the first second. To keep within a
    /// server's "N requests a second" in every one-second window, give a burst of 1:
    /// `rate(N, 1)` starts one request every 1/N s, never more than N in any second. What
    /// the server sees is shifted by the network: a request that also opens a connection
    /// arrives a little later after its start than those after it, so a server that counts
    /// arrivals strictly over a sliding second may now and then see N + 1. Against such a
    /// server, leave a margin: `rate(0.9 * N, 1)`.
    ///
    /// A rate that is not a positive finite number (0, negative, infinite, NaN) sets no
    /// rate limit, and removes one set before. The gap between two requests is counted in
    /// whole nanoseconds, rounded up, and is one day at most: a rate above a billion a
    /// second acts as a billion a second, one below one a day as one a day.
    ///
    /// ```
    /// use asynchttp::HostLimits;
    ///
    /// let limits = HostLimits::new().rate(0.5, 3); // a request every 2 s, 3 after a rest
    /// assert_eq!(limits.rate_limit(), Some((0.5, 3)));
    /// assert_eq!(limits.rate(f64::INFINITY, 3).rate_limit(), None);
    /// ```
    pub fn rate(mut self, per_second: f64, burst: u32) -> Self {
        self.rate =
            (per_second.is_finite() && per_second > 0.0).then(|| (per_second, burst.max(1)));
        self
    }

    /// Whether a host that answers 429 (Too Many Requests) or 503 (Service Unavailable)
    /// is slowed down. Off by default.
    ///
    /// When on, each such response:
    /// - halves the host's rate, never below one request a minute (or the configured
    ///   rate, if that is lower), and empties its bucket: its next request starts one
    ///   interval of the halved rate later at the earliest;
    /// - if it carries `Retry-After`, starts none of the host's requests until then, 60 s
    ///   at most.
    ///
    /// Each successful response that comes at least 1 s after the host's last slowdown
    /// doubles its rate back, up to the configured one; a host left alone for a minute
    /// after its last slowdown starts again at the configured rate. Halving needs a rate
    /// ([`rate`](Self::rate)); without one, only `Retry-After` is honoured. Requests
    /// already running are never stopped.
    pub fn adaptive(mut self, on: bool) -> Self {
        self.adaptive = on;
        self
    }

    /// Limits for one host instead of these. `host` is one of:
    ///
    /// - a name or address and a port: `"api.example.com:443"`, `"127.0.0.1:8080"`,
    ///   `"[::1]:8080"`;
    /// - a name or address alone, for every port of it: `"api.example.com"`;
    /// - an http or https URL, for its host and port, the scheme's default port (80, 443)
    ///   when it gives none: `"https://api.example.com/v1"` is `"api.example.com:443"`.
    ///   Its path is not looked at: limits are per host.
    ///
    /// Names compare as in a request's URL: case aside, and IDNA-encoded. A name with a
    /// port wins over the name alone; the host's own limits replace these whole (the limits
    /// given here for other hosts are not looked at). Anything else (an empty text, a
    /// path, a bad port, a URL of another scheme) names no host: the client is then not
    /// built, and [`HttpBuilder::build`](crate::HttpBuilder::build) fails with
    /// [`Error::Init`](crate::Error::Init) saying which text it was.
    ///
    /// ```
    /// use asynchttp::{HostLimits, Http};
    ///
    /// // Eight at once for any host; the search API, two a second and one at a time.
    /// let limits = HostLimits::new()
    ///     .in_flight(8)
    ///     .host("search.example.com:443", HostLimits::new().in_flight(1).rate(2.0, 1))
    ///     .host("http://127.0.0.1:8080/api", HostLimits::new().in_flight(2));
    /// assert_eq!(limits.for_host("search.example.com:443").rate_limit(), Some((2.0, 1)));
    /// assert_eq!(limits.for_host("https://search.example.com/q").rate_limit(), Some((2.0, 1)));
    /// assert_eq!(limits.for_host("127.0.0.1:8080").in_flight_cap(), Some(2));
    /// assert_eq!(limits.for_host("www.example.com:443").in_flight_cap(), Some(8));
    ///
    /// let garbage = HostLimits::new().host("/api", HostLimits::new().in_flight(1));
    /// let refused = Http::builder().per_host(garbage).build();
    /// assert!(matches!(refused, Err(asynchttp::Error::Init { .. })));
    /// ```
    pub fn host(mut self, host: &str, limits: HostLimits) -> Self {
        match origin::host_key(host) {
            Ok(host) => {
                self.own.retain(|(h, _)| *h != host);
                self.own.push((host, limits));
            }
            Err(reason) => {
                self.refused.get_or_insert(reason);
            }
        }
        self
    }

    /// The limits that apply to `host` (in any form [`host`](Self::host) takes): its own
    /// if it has some, else these.
    pub fn for_host(&self, host: &str) -> &HostLimits {
        let key = origin::host_key(host).unwrap_or_else(|_| host.to_ascii_lowercase());
        own_for(&self.own, &key).unwrap_or(self)
    }

    /// Why a text given to [`host`](Self::host) names no host, if one does not.
    pub(crate) fn refused(&self) -> Option<&str> {
        self.refused.as_deref()
    }

    /// These limits alone, and the hosts with limits of their own.
    pub(crate) fn split(mut self) -> (HostLimits, Vec<(String, HostLimits)>) {
        let own = std::mem::take(&mut self.own);
        (self, own)
    }

    /// The most requests of one host that run at once, if limited.
    pub fn in_flight_cap(&self) -> Option<usize> {
        self.in_flight
    }

    /// The rate limit, as requests a second and burst, if limited.
    pub fn rate_limit(&self) -> Option<(f64, u32)> {
        self.rate
    }

    /// Whether 429 and 503 responses slow their host down.
    pub fn is_adaptive(&self) -> bool {
        self.adaptive
    }

    /// Whether any limit is set, for any host (adaptivity counts, since it honours
    /// `Retry-After`).
    pub fn is_limited(&self) -> bool {
        self.in_flight.is_some()
            || self.rate.is_some()
            || self.adaptive
            || self.own.iter().any(|(_, limits)| limits.is_limited())
    }
}

/// The entry of `own` for `key` (`host:port`): by host and port, else by host alone.
pub(crate) fn own_for<'a, T>(own: &'a [(String, T)], key: &str) -> Option<&'a T> {
    let name = key.rsplit_once(':').map_or(key, |(name, _)| name);
    let find = |wanted: &str| own.iter().find(|(h, _)| h == wanted).map(|(_, t)| t);
    find(key).or_else(|| find(name))
}

/// The longest gap between two requests of a host that a rate can set.
const SLOWEST: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest gap adaptivity slows a host down to, unless its rate is slower already.
const ADAPTIVE_SLOWEST: Duration = Duration::from_secs(60);

/// The longest `Retry-After` honoured. A later one (the end of a maintenance window, a
/// date from a clock far off) would hold the host's queue blind for that long; after a
/// minute, one more request asks again, and its answer pauses the host again if need be.
const LONGEST_PAUSE: Duration = Duration::from_secs(60);

/// How long after its last slowdown a host must answer well before its rate is raised.
const RECOVERY: Duration = Duration::from_secs(1);

/// A slowed host left alone this long after its last slowdown, its bucket full, starts
/// afresh at the configured rate: otherwise every host that ever answered 429 would keep
/// an entry for good.
const FORGET: Duration = Duration::from_secs(60);

/// A sweep of idle entries runs when the table has grown to this many entries at least.
const SWEEP_MIN: usize = 256;

/// The gap between two requests at `per_second` (positive and finite): rounded up to
/// whole nanoseconds, so the rate is never exceeded, and at most [`SLOWEST`].
fn gap(per_second: f64) -> Duration {
    // 1e9 / per_second is positive (or +inf), never NaN; `as` saturates.
    let nanos = (1e9 / per_second).ceil().min(SLOWEST.as_nanos() as f64);
    Duration::from_nanos((nanos as u64).max(1))
}

/// `t + d`, or `t` on an overflow, which the bounds above rule out: every instant the gate
/// computes lies within `burst` times a day of the caller's clock.
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d).unwrap_or(t)
}

/// What may happen to a request handed to [`Hosts::admit`].
#[derive(Debug)]
pub(crate) enum Admit<T> {
    /// It may start now: it counts as in flight for its host until [`Hosts::done`].
    Now(T),
    /// It waits in its host's queue. `pump_at` is `Some` when the caller must call
    /// [`Hosts::pump`] for the host at that time; `None` when a request ending or a timer
    /// asked for before will release it.
    Waiting { pump_at: Option<Instant> },
}

/// The waiting requests that may start now (each counts as in flight for its host), and
/// when to call [`Hosts::pump`] for the host, as in [`Admit::Waiting`].
#[derive(Debug)]
pub(crate) struct Released<T> {
    pub(crate) ready: Vec<T>,
    pub(crate) pump_at: Option<Instant>,
}

impl<T> Released<T> {
    fn none() -> Self {
        Released {
            ready: Vec::new(),
            pump_at: None,
        }
    }
}

/// How a request that was in flight ended, as far as its host's pace is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A response other than 429 and 503.
    Success,
    /// A 429 or 503 response, with its `Retry-After` as a delay if it had one.
    Slowed { retry_after: Option<Duration> },
    /// No response (a transport error): says nothing about the host's load.
    Failed,
}

/// The per-host gate; see the module docs.
pub(crate) struct Hosts<T> {
    limits: HostLimits,
    /// The in-flight cap, `usize::MAX` when there is none.
    cap: usize,
    /// The configured rate as a gap between requests, and the burst.
    rate: Option<(Duration, u32)>,
    table: Mutex<Table<T>>,
}

struct Table<T> {
    hosts: HashMap<Box<str>, Host<T>>,
    /// Requests waiting, all hosts.
    waiting: usize,
    /// The table's size that triggers the next sweep of idle entries.
    sweep_at: usize,
}

/// One host's state. It is removed once it says nothing a fresh entry would not: nothing
/// in flight or waiting, no timer armed, a full bucket and no slowdown in effect.
struct Host<T> {
    queue: VecDeque<T>,
    in_flight: usize,
    /// Requests start at the earliest then (a `Retry-After`).
    paused_until: Option<Instant>,
    /// The times of the timers handed out and not yet fired, earliest last. A new one is
    /// asked for only when it is earlier than all of these, so each fired timer is the
    /// last one here; most of the time there is at most one.
    timers: Vec<Instant>,
    pace: Option<Pace>,
}

/// A host's token bucket, kept as the time its next token is due (`due`): a request may
/// start when `due` is at most `burst - 1` gaps ahead of now, and each request that starts
/// moves `due` one gap on. A `due` in the past is a full bucket.
struct Pace {
    due: Instant,
    /// The gap between two requests now: the configured one, or longer while slowed.
    gap: Duration,
    /// The last 429 or 503, while the host is slowed.
    slowed_at: Option<Instant>,
}

impl Pace {
    /// How far ahead of now `due` may be for a request to start.
    fn slack(&self, burst: u32) -> Duration {
        self.gap.saturating_mul(burst - 1)
    }

    /// When a token is there: `now` when one is there already.
    fn ready_at(&self, now: Instant, burst: u32) -> Instant {
        let ahead = self.due.saturating_duration_since(now);
        later(now, ahead.saturating_sub(self.slack(burst)))
    }

    fn take(&mut self, now: Instant) {
        self.due = later(self.due.max(now), self.gap);
    }

    /// A 429 or 503: half the rate, down to `slowest`, and an empty bucket, so that the
    /// next request starts one new gap from now at the earliest, or at `resume`.
    fn slow(&mut self, now: Instant, resume: Instant, slowest: Duration, burst: u32) {
        self.gap = self.gap.saturating_mul(2).min(slowest).max(self.gap);
        self.slowed_at = Some(now);
        let next = later(now, self.gap).max(resume);
        self.due = self.due.max(later(next, self.slack(burst)));
    }

    /// A success: twice the rate, up to the configured one, if the last slowdown is
    /// [`RECOVERY`] old. The tokens in the bucket stay as they are; those still to come
    /// come at the new rate.
    fn recover(&mut self, now: Instant, configured: Duration) {
        let Some(slowed_at) = self.slowed_at else {
            return;
        };
        if now.saturating_duration_since(slowed_at) < RECOVERY {
            return;
        }
        let gap = (self.gap / 2).max(configured);
        // The ratio is at most 1, so the product never overflows.
        let ahead = self.due.saturating_duration_since(now);
        let ratio = gap.as_secs_f64() / self.gap.as_secs_f64();
        self.due = later(now, ahead.mul_f64(ratio));
        self.gap = gap;
        if gap == configured {
            self.slowed_at = None;
        }
    }

    /// Nothing here a fresh bucket would not say: it is full, and any slowdown is
    /// [`FORGET`] old.
    fn rested(&self, now: Instant) -> bool {
        self.due <= now
            && self
                .slowed_at
                .is_none_or(|at| now.saturating_duration_since(at) >= FORGET)
    }
}

impl<T> Host<T> {
    fn new(now: Instant, rate: Option<(Duration, u32)>) -> Self {
        Host {
            queue: VecDeque::new(),
            in_flight: 0,
            paused_until: None,
            timers: Vec::new(),
            pace: rate.map(|(gap, _)| Pace {
                due: now,
                gap,
                slowed_at: None,
            }),
        }
    }
}

impl<T> Hosts<T> {
    /// A gate that applies `limits` to each host.
    pub(crate) fn new(limits: HostLimits) -> Self {
        Hosts {
            cap: limits.in_flight.unwrap_or(usize::MAX),
            rate: limits
                .rate
                .map(|(per_second, burst)| (gap(per_second), burst)),
            limits,
            table: Mutex::new(Table {
                hosts: HashMap::new(),
                waiting: 0,
                sweep_at: SWEEP_MIN,
            }),
        }
    }

    /// `item` of `host` may start now (it then counts as in flight for `host`, and took a
    /// token), or waits in the host's queue behind the others.
    pub(crate) fn admit(&self, host: &str, item: T, now: Instant) -> Admit<T> {
        if !self.limits.is_limited() {
            return Admit::Now(item);
        }
        let mut table = lock(&self.table);
        if table.hosts.len() >= table.sweep_at {
            self.sweep(&mut table, now);
        }
        // An idle entry is as good as gone, whether or not a sweep has found it yet.
        match table.hosts.get_mut(host) {
            Some(entry) if self.idle(entry, now) => *entry = Host::new(now, self.rate),
            Some(_) => {}
            None => {
                table.hosts.insert(host.into(), Host::new(now, self.rate));
            }
        }
        let Table { hosts, waiting, .. } = &mut *table;
        let entry = hosts.get_mut(host).expect("inserted above");
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
    pub(crate) fn done(&self, host: &str, outcome: Outcome, now: Instant) -> Released<T> {
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
    pub(crate) fn pump(&self, host: &str, now: Instant) -> Released<T> {
        self.update(host, now, |entry| {
            // Timers fire in the order of their times, and the earliest is last.
            entry.timers.pop();
        })
    }

    /// Requests waiting, all hosts.
    pub(crate) fn waiting(&self) -> usize {
        lock(&self.table).waiting
    }

    /// Takes every waiting request out, all hosts; those in flight still count until
    /// [`done`](Self::done).
    pub(crate) fn drain(&self) -> Vec<T> {
        let mut table = lock(&self.table);
        table.waiting = 0;
        table
            .hosts
            .values_mut()
            .flat_map(|entry| entry.queue.drain(..))
            .collect()
    }

    /// Applies `change` to `host`'s entry, then starts what may start and removes the
    /// entry if it is idle.
    fn update(&self, host: &str, now: Instant, change: impl FnOnce(&mut Host<T>)) -> Released<T> {
        let mut table = lock(&self.table);
        let Table { hosts, waiting, .. } = &mut *table;
        let Some(entry) = hosts.get_mut(host) else {
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
            hosts.remove(host);
        }
        Released { ready, pump_at }
    }

    /// The bucket's size; 1 when there is no bucket.
    fn burst(&self) -> u32 {
        self.rate.map_or(1, |(_, burst)| burst)
    }

    fn may_start(&self, entry: &Host<T>, now: Instant) -> bool {
        entry.in_flight < self.cap && self.start_at(entry, now) <= now
    }

    /// When the host's next request may start as far as time goes: a pause and a token.
    fn start_at(&self, entry: &Host<T>, now: Instant) -> Instant {
        let token = entry
            .pace
            .as_ref()
            .map_or(now, |pace| pace.ready_at(now, self.burst()));
        entry.paused_until.map_or(token, |until| until.max(token))
    }

    fn start(&self, entry: &mut Host<T>, now: Instant) {
        entry.in_flight += 1;
        if let Some(pace) = &mut entry.pace {
            pace.take(now);
        }
    }

    /// The time for a new timer, if the host's queue needs one that is earlier than every
    /// timer armed: none is needed while the queue is empty or the host is at its cap,
    /// since a request ending releases the next.
    fn timer(&self, entry: &mut Host<T>, now: Instant) -> Option<Instant> {
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

    fn adapt(&self, entry: &mut Host<T>, outcome: Outcome, now: Instant) {
        if !self.limits.adaptive {
            return;
        }
        match outcome {
            Outcome::Slowed { retry_after } => {
                if let Some(delay) = retry_after {
                    let until = later(now, delay.min(LONGEST_PAUSE));
                    entry.paused_until = Some(entry.paused_until.map_or(until, |p| p.max(until)));
                }
                let resume = entry.paused_until.unwrap_or(now);
                if let (Some(pace), Some((configured, burst))) = (&mut entry.pace, self.rate) {
                    pace.slow(now, resume, ADAPTIVE_SLOWEST.max(configured), burst);
                }
            }
            Outcome::Success => {
                if let (Some(pace), Some((configured, _))) = (&mut entry.pace, self.rate) {
                    pace.recover(now, configured);
                }
            }
            Outcome::Failed => {}
        }
    }

    /// Nothing in the entry that a fresh one would not say.
    fn idle(&self, entry: &Host<T>, now: Instant) -> bool {
        entry.in_flight == 0
            && entry.queue.is_empty()
            && entry.timers.is_empty()
            && entry.paused_until.is_none_or(|until| until <= now)
            && entry.pace.as_ref().is_none_or(|pace| pace.rested(now))
    }

    /// Removes the idle entries. An entry is removed as it turns idle when a request ends
    /// or a timer fires, but a bucket refills with nobody watching: those are found here,
    /// each time the table has doubled since the last sweep, so a sweep costs O(1) a
    /// request over time.
    fn sweep(&self, table: &mut Table<T>, now: Instant) {
        table.hosts.retain(|_, entry| !self.idle(entry, now));
        table.sweep_at = SWEEP_MIN.max(table.hosts.len() * 2);
    }
}

impl<T> fmt::Debug for Hosts<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = lock(&self.table);
        f.debug_struct("Hosts")
            .field("limits", &self.limits)
            .field("hosts", &table.hosts.len())
            .field("waiting", &table.waiting)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashSet};

    static_assertions::assert_impl_all!(HostLimits: Clone, Send, Sync);
    static_assertions::assert_impl_all!(Hosts<std::sync::Arc<dyn Fn() + Send + Sync>>: Send, Sync);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn now<T>(admit: Admit<T>) -> T {
        match admit {
            Admit::Now(item) => item,
            Admit::Waiting { .. } => panic!("waits"),
        }
    }

    /// The timer a waiting request asked for; panics if it started.
    fn waits<T>(admit: Admit<T>) -> Option<Instant> {
        match admit {
            Admit::Now(_) => panic!("started"),
            Admit::Waiting { pump_at } => pump_at,
        }
    }

    fn entries<T>(hosts: &Hosts<T>) -> usize {
        lock(&hosts.table).hosts.len()
    }

    #[test]
    fn limits_as_given_and_clamped() {
        let none = HostLimits::new();
        assert_eq!(none, HostLimits::default());
        assert!(!none.is_limited());
        assert_eq!((none.in_flight_cap(), none.rate_limit()), (None, None));
        assert_eq!(HostLimits::new().in_flight(0).in_flight_cap(), Some(1));
        assert_eq!(HostLimits::new().rate(3.0, 0).rate_limit(), Some((3.0, 1)));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let limits = HostLimits::new().rate(2.0, 1).rate(bad, 5);
            assert_eq!(limits.rate_limit(), None, "{bad}");
        }
        assert!(HostLimits::new().adaptive(true).is_limited());
        assert_eq!(gap(2.0), ms(500));
        assert_eq!(gap(3.0), Duration::from_nanos(333_333_334));
        assert_eq!(gap(1e12), Duration::from_nanos(1));
        assert_eq!(gap(f64::MAX), Duration::from_nanos(1));
        assert_eq!(gap(f64::MIN_POSITIVE), SLOWEST);
    }

    #[test]
    fn no_limits_start_everything_and_keep_nothing() {
        let hosts = Hosts::new(HostLimits::new());
        let t0 = Instant::now();
        for i in 0..1000 {
            assert_eq!(now(hosts.admit("a:80", i, t0)), i);
        }
        assert_eq!(entries(&hosts), 0);
        assert!(hosts.done("a:80", Outcome::Success, t0).ready.is_empty());
    }

    #[test]
    fn in_flight_cap_queues_in_order() {
        let hosts = Hosts::new(HostLimits::new().in_flight(2));
        let t0 = Instant::now();
        now(hosts.admit("a:80", 1, t0));
        now(hosts.admit("a:80", 2, t0));
        // At the cap, a request ending releases the next: no timer.
        assert_eq!(waits(hosts.admit("a:80", 3, t0)), None);
        assert_eq!(waits(hosts.admit("a:80", 4, t0)), None);
        assert_eq!(hosts.waiting(), 2);
        let released = hosts.done("a:80", Outcome::Success, t0);
        assert_eq!((released.ready, released.pump_at), (vec![3], None));
        assert_eq!(hosts.done("a:80", Outcome::Failed, t0).ready, vec![4]);
        assert_eq!(hosts.waiting(), 0);
        hosts.done("a:80", Outcome::Success, t0);
        hosts.done("a:80", Outcome::Success, t0);
        assert_eq!(entries(&hosts), 0);
    }

    #[test]
    fn hosts_are_limited_apart() {
        let hosts = Hosts::new(HostLimits::new().in_flight(1).rate(1.0, 1));
        let t0 = Instant::now();
        now(hosts.admit("a:80", 1, t0));
        waits(hosts.admit("a:80", 2, t0));
        waits(hosts.admit("a:80", 3, t0));
        now(hosts.admit("a:443", 4, t0));
        now(hosts.admit("b:80", 5, t0));
        assert_eq!(hosts.waiting(), 2);
    }

    #[test]
    fn rate_spaces_requests_and_refills_to_burst_only() {
        let hosts = Hosts::new(HostLimits::new().rate(2.0, 1));
        let t0 = Instant::now();
        now(hosts.admit("a:80", 1, t0));
        assert_eq!(waits(hosts.admit("a:80", 2, t0)), Some(t0 + ms(500)));
        // A timer that fires early releases nothing and asks again.
        let early = hosts.pump("a:80", t0 + ms(499));
        assert_eq!((early.ready, early.pump_at), (vec![], Some(t0 + ms(500))));
        let on_time = hosts.pump("a:80", t0 + ms(500));
        assert_eq!((on_time.ready, on_time.pump_at), (vec![2], None));
        // An hour idle fills the bucket to its burst of 1, not 7200.
        let t1 = t0 + Duration::from_secs(3600);
        now(hosts.admit("a:80", 3, t1));
        assert_eq!(waits(hosts.admit("a:80", 4, t1)), Some(t1 + ms(500)));
    }

    #[test]
    fn burst_starts_at_once_after_rest() {
        let hosts = Hosts::new(HostLimits::new().rate(10.0, 3));
        let t0 = Instant::now();
        for i in 0..3 {
            now(hosts.admit("a:80", i, t0));
        }
        assert_eq!(waits(hosts.admit("a:80", 3, t0)), Some(t0 + ms(100)));
        assert_eq!(hosts.pump("a:80", t0 + ms(100)).ready, vec![3]);
        // A day later: three again, then one each 100 ms.
        let t1 = t0 + Duration::from_secs(86_400);
        for i in 4..7 {
            now(hosts.admit("a:80", i, t1));
        }
        assert_eq!(waits(hosts.admit("a:80", 7, t1)), Some(t1 + ms(100)));
    }

    #[test]
    fn one_timer_for_many_waiting() {
        let hosts = Hosts::new(HostLimits::new().rate(1.0, 1));
        let t0 = Instant::now();
        now(hosts.admit("a:80", 0, t0));
        let timers: Vec<_> = (1..100)
            .filter_map(|i| waits(hosts.admit("a:80", i, t0 + ms(i))))
            .collect();
        assert_eq!(timers, vec![t0 + ms(1000)]);
        let released = hosts.pump("a:80", t0 + ms(1000));
        assert_eq!(
            (released.ready, released.pump_at),
            (vec![1], Some(t0 + ms(2000)))
        );
        // Requests ending ask for no second timer while one is armed.
        assert_eq!(
            hosts.done("a:80", Outcome::Success, t0 + ms(1100)).pump_at,
            None
        );
        assert_eq!(waits(hosts.admit("a:80", 100, t0 + ms(1200))), None);
    }

    #[test]
    fn slowdown_halves_the_rate_and_success_restores_it() {
        let limits = HostLimits::new().rate(10.0, 1).adaptive(true);
        let hosts = Hosts::new(limits);
        let t0 = Instant::now();
        now(hosts.admit("a:80", 0, t0));
        for i in 1..20 {
            hosts.admit("a:80", i, t0);
        }
        // A 429: the gap becomes 200 ms from now; the timer armed for 100 ms still fires.
        let slowed = hosts.done("a:80", Outcome::Slowed { retry_after: None }, t0 + ms(50));
        assert_eq!((slowed.ready.len(), slowed.pump_at), (0, None));
        let early = hosts.pump("a:80", t0 + ms(100));
        assert_eq!((early.ready.len(), early.pump_at), (0, Some(t0 + ms(250))));
        let first = hosts.pump("a:80", t0 + ms(250));
        assert_eq!((first.ready, first.pump_at), (vec![1], Some(t0 + ms(450))));
        // A success within 1 s of the slowdown changes nothing.
        assert_eq!(
            hosts.done("a:80", Outcome::Success, t0 + ms(300)).pump_at,
            None
        );
        assert_eq!(hosts.pump("a:80", t0 + ms(450)).ready, vec![2]);
        // A second 429 halves again: 400 ms.
        hosts.done("a:80", Outcome::Slowed { retry_after: None }, t0 + ms(500));
        assert_eq!(hosts.pump("a:80", t0 + ms(650)).pump_at, Some(t0 + ms(900)));
        assert_eq!(
            hosts.pump("a:80", t0 + ms(900)).pump_at,
            Some(t0 + ms(1300))
        );
        assert_eq!(
            hosts.pump("a:80", t0 + ms(1300)).pump_at,
            Some(t0 + ms(1700))
        );
        // A success 1 s after the last slowdown doubles the rate: the next token, 200 ms
        // away at 400 ms a token, is 100 ms away, earlier than the timer armed, so the
        // host asks for one more.
        let success = hosts.done("a:80", Outcome::Success, t0 + ms(1500));
        assert_eq!(
            (success.ready, success.pump_at),
            (vec![], Some(t0 + ms(1600)))
        );
        let next = hosts.pump("a:80", t0 + ms(1600));
        assert_eq!((next.ready, next.pump_at), (vec![5], None));
        // The timer armed for 1700 ms fires, and the host asks for the next.
        assert_eq!(
            hosts.pump("a:80", t0 + ms(1700)).pump_at,
            Some(t0 + ms(1800))
        );
        // Another success: the configured 100 ms (the next token 25 ms away, not 50),
        // and no further.
        let success = hosts.done("a:80", Outcome::Success, t0 + ms(1750));
        assert_eq!(success.pump_at, Some(t0 + ms(1775)));
        let next = hosts.pump("a:80", t0 + ms(1775));
        assert_eq!((next.ready, next.pump_at), (vec![6], None));
        assert_eq!(
            hosts.pump("a:80", t0 + ms(1800)).pump_at,
            Some(t0 + ms(1875))
        );
        assert_eq!(
            hosts.done("a:80", Outcome::Success, t0 + ms(1850)).pump_at,
            None
        );
        let next = hosts.pump("a:80", t0 + ms(1875));
        assert_eq!((next.ready, next.pump_at), (vec![7], Some(t0 + ms(1975))));
    }

    #[test]
    fn a_slowdown_is_forgotten_after_a_minute_alone() {
        let hosts = Hosts::new(HostLimits::new().rate(10.0, 1).adaptive(true));
        let t0 = Instant::now();
        now(hosts.admit("a:80", 0, t0));
        hosts.done("a:80", Outcome::Slowed { retry_after: None }, t0);
        // 30 s later: still slowed, a gap of 200 ms.
        let t1 = t0 + Duration::from_secs(30);
        now(hosts.admit("a:80", 1, t1));
        hosts.done("a:80", Outcome::Failed, t1);
        assert_eq!(waits(hosts.admit("a:80", 2, t1)), Some(t1 + ms(200)));
        hosts.pump("a:80", t1 + ms(200));
        hosts.done("a:80", Outcome::Failed, t1 + ms(200));
        // A minute after the slowdown: 100 ms again.
        let t2 = t0 + Duration::from_secs(60);
        now(hosts.admit("a:80", 3, t2));
        assert_eq!(waits(hosts.admit("a:80", 4, t2)), Some(t2 + ms(100)));
    }

    #[test]
    fn slowdowns_stop_at_one_a_minute() {
        let hosts = Hosts::new(HostLimits::new().rate(1.0, 20).adaptive(true));
        let t0 = Instant::now();
        for i in 0..20 {
            now(hosts.admit("a:80", i, t0));
        }
        for _ in 0..20 {
            hosts.done("a:80", Outcome::Slowed { retry_after: None }, t0);
        }
        assert_eq!(waits(hosts.admit("a:80", 20, t0)), Some(t0 + ms(60_000)));
        waits(hosts.admit("a:80", 21, t0));
        let next = hosts.pump("a:80", t0 + ms(60_000));
        assert_eq!(
            (next.ready, next.pump_at),
            (vec![20], Some(t0 + ms(120_000)))
        );
        // A rate slower than that is never slowed further.
        let hosts = Hosts::new(HostLimits::new().rate(1.0 / 120.0, 1).adaptive(true));
        now(hosts.admit("a:80", 0, t0));
        hosts.done("a:80", Outcome::Slowed { retry_after: None }, t0);
        assert_eq!(waits(hosts.admit("a:80", 1, t0)), Some(t0 + ms(120_000)));
    }

    #[test]
    fn retry_after_pauses_the_host_up_to_a_minute() {
        let hosts = Hosts::new(HostLimits::new().in_flight(1).adaptive(true));
        let t0 = Instant::now();
        now(hosts.admit("a:80", 0, t0));
        waits(hosts.admit("a:80", 1, t0));
        let retry_after = Some(Duration::from_secs(5));
        let paused = hosts.done("a:80", Outcome::Slowed { retry_after }, t0);
        assert_eq!(
            (paused.ready, paused.pump_at),
            (vec![], Some(t0 + ms(5000)))
        );
        assert_eq!(waits(hosts.admit("a:80", 2, t0 + ms(10))), None);
        now(hosts.admit("b:80", 3, t0 + ms(10)));
        assert_eq!(hosts.pump("a:80", t0 + ms(5000)).ready, vec![1]);
        // An hour asked for: a minute given.
        let retry_after = Some(Duration::from_secs(3600));
        let capped = hosts.done("a:80", Outcome::Slowed { retry_after }, t0 + ms(6000));
        assert_eq!(capped.pump_at, Some(t0 + ms(66_000)));
        assert_eq!(hosts.pump("a:80", t0 + ms(66_000)).ready, vec![2]);
    }

    #[test]
    fn without_adaptive_slowdowns_change_nothing() {
        let hosts = Hosts::new(HostLimits::new().rate(10.0, 1));
        let t0 = Instant::now();
        now(hosts.admit("a:80", 0, t0));
        let retry_after = Some(Duration::from_secs(30));
        hosts.done("a:80", Outcome::Slowed { retry_after }, t0);
        assert_eq!(waits(hosts.admit("a:80", 1, t0)), Some(t0 + ms(100)));
    }

    #[test]
    fn idle_entries_are_removed() {
        // No rate: removed as its last request ends.
        let hosts = Hosts::new(HostLimits::new().in_flight(1));
        let t0 = Instant::now();
        for i in 0..100_000 {
            let host = format!("h{i}:80");
            now(hosts.admit(&host, i, t0));
            hosts.done(&host, Outcome::Success, t0);
        }
        assert_eq!(entries(&hosts), 0);
        // A rate: a bucket that has not refilled stays until a sweep finds it full.
        let hosts = Hosts::new(HostLimits::new().rate(2.0, 1).adaptive(true));
        for i in 0..100_000 {
            let host = format!("h{i}:80");
            let at = t0 + ms(10 * i);
            now(hosts.admit(&host, i, at));
            hosts.done(&host, Outcome::Success, at);
            assert!(entries(&hosts) <= SWEEP_MIN, "{i}");
        }
        // A slowed host stays until the slowdown is forgotten.
        let hosts = Hosts::new(HostLimits::new().rate(2.0, 1).adaptive(true));
        now(hosts.admit("a:80", 0, t0));
        hosts.done("a:80", Outcome::Slowed { retry_after: None }, t0);
        let mut table = lock(&hosts.table);
        hosts.sweep(&mut table, t0 + ms(59_999));
        assert_eq!(table.hosts.len(), 1);
        hosts.sweep(&mut table, t0 + ms(60_000));
        assert_eq!(table.hosts.len(), 0);
    }

    #[test]
    fn drain_takes_every_waiting_request() {
        let hosts = Hosts::new(HostLimits::new().in_flight(1));
        let t0 = Instant::now();
        for host in ["a:80", "b:80"] {
            for i in 0..3 {
                hosts.admit(host, i, t0);
            }
        }
        assert_eq!(hosts.waiting(), 4);
        let mut drained = hosts.drain();
        drained.sort();
        assert_eq!(drained, vec![1, 1, 2, 2]);
        assert_eq!(hosts.waiting(), 0);
        assert!(hosts.done("a:80", Outcome::Success, t0).ready.is_empty());
        hosts.done("b:80", Outcome::Success, t0);
        assert_eq!(entries(&hosts), 0);
    }

    #[test]
    fn extreme_rates_and_clocks_never_panic() {
        let t0 = Instant::now();
        let fast = Hosts::new(HostLimits::new().rate(1e9, 1000));
        for i in 0..1000 {
            now(fast.admit("a:80", i, t0));
        }
        assert_eq!(
            waits(fast.admit("a:80", 1000, t0)),
            Some(t0 + Duration::from_nanos(1))
        );
        let fastest = Hosts::new(HostLimits::new().rate(f64::MAX, u32::MAX).adaptive(true));
        let slowest = Hosts::new(
            HostLimits::new()
                .rate(f64::MIN_POSITIVE, u32::MAX)
                .adaptive(true),
        );
        let decade = Duration::from_secs(10 * 365 * 86_400);
        for hosts in [fastest, slowest] {
            for i in 0..100 {
                hosts.admit("a:80", i, t0 + decade);
                // A clock read before another thread's: earlier than the last call.
                hosts.admit("a:80", i, t0);
                hosts.done(
                    "a:80",
                    Outcome::Slowed {
                        retry_after: Some(Duration::MAX),
                    },
                    t0,
                );
                hosts.pump("a:80", t0 + decade + decade);
            }
        }
    }

    /// One step of a random run.
    #[derive(Debug, Clone)]
    enum Step {
        Admit(usize),
        /// Ends the oldest request in flight of a host, if any.
        Done(usize, Outcome),
        /// Moves the clock on; due timers fire.
        Wait(u64),
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        let outcome = prop_oneof![
            4 => Just(Outcome::Success),
            1 => Just(Outcome::Failed),
            1 => proptest::option::of(0..90_000u64).prop_map(|ms| Outcome::Slowed {
                retry_after: ms.map(Duration::from_millis),
            }),
        ];
        prop_oneof![
            3 => (0..3usize).prop_map(Step::Admit),
            2 => (0..3usize, outcome).prop_map(|(h, o)| Step::Done(h, o)),
            2 => (0..3_000u64).prop_map(Step::Wait),
        ]
    }

    fn limits() -> impl proptest::strategy::Strategy<Value = HostLimits> {
        use proptest::prelude::*;
        (
            proptest::option::of(1..4usize),
            proptest::option::of((0.5..20.0f64, 1..4u32)),
            any::<bool>(),
        )
            .prop_map(|(cap, rate, adaptive)| {
                let mut limits = HostLimits::new().adaptive(adaptive);
                if let Some(cap) = cap {
                    limits = limits.in_flight(cap);
                }
                if let Some((per_second, burst)) = rate {
                    limits = limits.rate(per_second, burst);
                }
                limits
            })
    }

    /// The caller's side of a random run: one timer queue for every host, as the pool
    /// will have, and what each host has in flight.
    struct Run {
        hosts: Hosts<u32>,
        cap: usize,
        clock: Instant,
        timers: BTreeMap<(Instant, u64), usize>,
        armed: u64,
        in_flight: [VecDeque<u32>; 3],
        out: HashSet<u32>,
        /// The last request of each host that came out: they come out in order.
        last: [Option<u32>; 3],
    }

    const NAMES: [&str; 3] = ["a:80", "b:80", "c:443"];

    impl Run {
        fn arm(&mut self, host: usize, at: Option<Instant>) {
            if let Some(at) = at {
                self.armed += 1;
                self.timers.insert((at, self.armed), host);
            }
        }

        fn start(&mut self, host: usize, item: u32) {
            assert!(self.out.insert(item), "{item} came out twice");
            assert!(self.last[host] < Some(item), "{item} overtook");
            self.last[host] = Some(item);
            self.in_flight[host].push_back(item);
            assert!(self.in_flight[host].len() <= self.cap, "over the cap");
        }

        fn released(&mut self, host: usize, released: Released<u32>) {
            for item in released.ready {
                self.start(host, item);
            }
            self.arm(host, released.pump_at);
        }

        fn done(&mut self, host: usize, outcome: Outcome) {
            if self.in_flight[host].pop_front().is_some() {
                let released = self.hosts.done(NAMES[host], outcome, self.clock);
                self.released(host, released);
            }
        }

        /// Fires the timers due by `until`, in order, moving the clock to each.
        fn wait_until(&mut self, until: Instant) {
            while let Some(entry) = self.timers.first_entry() {
                if entry.key().0 > until {
                    break;
                }
                let ((at, _), host) = entry.remove_entry();
                self.clock = self.clock.max(at);
                let released = self.hosts.pump(NAMES[host], self.clock);
                self.released(host, released);
            }
            self.clock = self.clock.max(until);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// Whatever happens, no host has more than its cap in flight, every request comes
        /// out exactly once, and none waits forever: once requests end and timers fire,
        /// the queues empty and the table with them.
        #[test]
        fn never_over_the_cap_never_lost_never_stuck(
            limits in limits(),
            steps in proptest::collection::vec(step(), 0..200),
        ) {
            let mut run = Run {
                cap: limits.in_flight_cap().unwrap_or(usize::MAX),
                hosts: Hosts::new(limits),
                clock: Instant::now(),
                timers: BTreeMap::new(),
                armed: 0,
                in_flight: Default::default(),
                out: HashSet::new(),
                last: [None; 3],
            };
            let mut admitted = 0;
            for step in steps {
                match step {
                    Step::Admit(host) => {
                        let item = admitted;
                        admitted += 1;
                        match run.hosts.admit(NAMES[host], item, run.clock) {
                            Admit::Now(item) => run.start(host, item),
                            Admit::Waiting { pump_at } => run.arm(host, pump_at),
                        }
                    }
                    Step::Done(host, outcome) => run.done(host, outcome),
                    Step::Wait(ms) => run.wait_until(run.clock + Duration::from_millis(ms)),
                }
                let table = lock(&run.hosts.table);
                let queued: usize = table.hosts.values().map(|h| h.queue.len()).sum();
                // The gate knows of exactly the timers the caller has armed.
                for (host, name) in NAMES.iter().enumerate() {
                    let mut armed: Vec<_> = run.timers.iter().filter(|(_, h)| **h == host).map(|((at, _), _)| *at).collect();
                    armed.reverse();
                    let known = table.hosts.get(*name).map_or(&[][..], |h| &h.timers);
                    proptest::prop_assert_eq!(&armed[..], known);
                }
                drop(table);
                proptest::prop_assert_eq!(run.hosts.waiting(), queued);
                proptest::prop_assert_eq!(run.out.len() + queued, admitted as usize);
            }
            // The end: requests end as they start, timers fire, until nothing waits.
            for _ in 0..100_000 {
                for host in 0..3 {
                    while !run.in_flight[host].is_empty() {
                        run.done(host, Outcome::Success);
                    }
                }
                let Some((&(at, _), _)) = run.timers.first_key_value() else {
                    break;
                };
                run.wait_until(at);
            }
            proptest::prop_assert_eq!(run.hosts.waiting(), 0, "stuck");
            proptest::prop_assert_eq!(run.out.len(), admitted as usize);
            let mut table = lock(&run.hosts.table);
            run.hosts.sweep(&mut table, run.clock + Duration::from_secs(86_400));
            proptest::prop_assert_eq!(table.hosts.len(), 0);
        }
    }
}
