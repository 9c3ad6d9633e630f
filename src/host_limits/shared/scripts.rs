//! The Redis side of shared limits: three Lua scripts, each atomic on the server, and the
//! typed calls that run them (EVALSHA; a Redis that restarted and forgot them is sent them
//! again).
//!
//! A host's limits live in keys that share a hash tag, so that a Redis Cluster keeps them
//! on one node: `<prefix>:limits:{<host:port>}:leases`, a sorted set of the leases of the
//! requests in flight scored by their expiry; `…:state`, a hash with the bucket's next
//! token (`due`), its gap while slowed (`gap`, `slowed`) and a `Retry-After` pause
//! (`paused`); `…:waiters`, set while a process waits for the host's cap, when a lease
//! given back is told on the channel `<prefix>:limits:released`. Times are the server's clock (`TIME`) in microseconds, so that processes
//! whose clocks differ still agree; they are written with `%.0f`, since Lua's own
//! conversion of a number keeps 14 digits and a time in microseconds has 16. The rules are
//! those of the process's own lines ([`Lines`](super::super::lines)) and bucket, with the
//! same constants, handed to each script.

use std::sync::LazyLock;
use std::time::Duration;

use redis::{ConnectionLike, RedisResult, Script};

use super::super::bucket;
use super::super::lines::{ADAPTIVE_SLOWEST, LONGEST_PAUSE, Outcome};
use crate::HostLimits;

/// A host at its cap, because of other processes' requests, is asked about again this
/// often, if no release is told first (a message lost while Redis was away).
pub(super) const POLL: Duration = Duration::from_millis(250);

/// How long a process stopped by a host's cap counts as waiting for it: it asks again
/// within a [`POLL`] while it waits, and each ask that finds the host full renews it.
const WAITING: Duration = POLL.saturating_mul(4);

/// A host's limits as the scripts take them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Params {
    /// The in-flight cap; 0 for none, when no lease is taken.
    cap: usize,
    /// The gap between two requests in microseconds, rounded up; 0 for no rate.
    gap: u64,
    burst: u32,
    adaptive: bool,
}

impl Params {
    pub(super) fn of(limits: &HostLimits) -> Self {
        let rate = limits.rate_limit();
        Params {
            cap: limits.in_flight_cap().unwrap_or(0),
            gap: rate.map_or(0, |(per_second, _)| micros(bucket::gap(per_second)).max(1)),
            burst: rate.map_or(1, |(_, burst)| burst),
            adaptive: limits.is_adaptive(),
        }
    }

    /// Whether anything is shared: without a limit, no request asks Redis.
    pub(super) fn shares(&self) -> bool {
        self.cap > 0 || self.gap > 0 || self.adaptive
    }

    /// Whether a request let through holds a lease, to give back when it ends.
    pub(super) fn leases(&self) -> bool {
        self.cap > 0
    }

    /// Whether a request's end tells Redis anything beyond giving back its lease.
    pub(super) fn adapts(&self, outcome: Outcome) -> bool {
        self.adaptive && outcome != Outcome::Failed
    }
}

/// Whole microseconds, rounded up, within a `u64` (what a `Duration` of a day at most, or
/// a lease, always is).
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_nanos().div_ceil(1000)).unwrap_or(u64::MAX)
}

/// The keys of a host, and the channel its released leases are told on.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    leases: String,
    state: String,
    /// Set while a process waits for the host's cap: a release is then told.
    waiters: String,
    channel: String,
    host: String,
}

impl Keys {
    /// `prefixed` makes `<prefix>:<rest>`.
    pub(super) fn new(prefixed: impl Fn(&str) -> String, host: &str) -> Self {
        Keys {
            leases: prefixed(&format!("limits:{{{host}}}:leases")),
            state: prefixed(&format!("limits:{{{host}}}:state")),
            waiters: prefixed(&format!("limits:{{{host}}}:waiters")),
            channel: channel(prefixed),
            host: host.to_owned(),
        }
    }
}

/// The channel on which a lease given back is told, by its host, to processes waiting for
/// one.
pub(super) fn channel(prefixed: impl Fn(&str) -> String) -> String {
    prefixed("limits:released")
}

/// What Redis said to an ask for leases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grant {
    /// How many of the requests asking may start now, in order.
    pub(crate) granted: usize,
    /// For the others: the host is paused, or its next token is due, this much later.
    pub(crate) wait: Duration,
    /// Or the host is at its cap, and its oldest lease expires this much later.
    pub(crate) full: Option<Duration>,
}

/// Purges the expired leases, then gives a lease and a token to as many of the requests
/// asking (`ARGV[7..]`, one lease id each) as the host's pause, cap and bucket allow.
/// Returns `{granted, wait, full}`: `wait` until the pause ends or the next token is due,
/// `full` (or -1) until the oldest lease expires when the cap stopped it; a process stopped
/// by the cap is noted as waiting (`KEYS[3]`, for `ARGV[6]` ms), so that releases are told.
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cap, gap0, burst, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local forget = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
local held = redis.call('ZCARD', KEYS[1])
local s = redis.call('HMGET', KEYS[2], 'due', 'gap', 'paused')
local due = tonumber(s[1]) or now
local gap = math.max(tonumber(s[2]) or gap0, gap0)
local paused = tonumber(s[3]) or 0
local granted, wait, full = 0, 0, -1
for i = 7, #ARGV do
  if paused > now then wait = paused - now break end
  if cap > 0 and held >= cap then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    full = math.max(tonumber(oldest[2]) - now, 0)
    redis.call('SET', KEYS[3], '1', 'PX', ARGV[6])
    break
  end
  if gap0 > 0 then
    local ready = due - gap * (burst - 1)
    if ready > now then wait = ready - now break end
    due = math.max(due, now) + gap
  end
  if cap > 0 then
    redis.call('ZADD', KEYS[1], string.format('%.0f', now + lease), ARGV[i])
    held = held + 1
  end
  granted = granted + 1
end
if granted > 0 and cap > 0 then
  redis.call('PEXPIRE', KEYS[1], math.ceil(lease / 1000) + 1000)
end
if granted > 0 and gap0 > 0 then
  redis.call('HSET', KEYS[2], 'due', string.format('%.0f', due))
  redis.call('PEXPIRE', KEYS[2], math.ceil((math.max(due, paused) - now + forget) / 1000))
end
return {granted, wait, full}
",
    )
});

/// Gives back a lease (`ARGV[1]`, or none when empty), telling it on the channel `ARGV[10]`
/// (the host, `ARGV[11]`) when a process waits for one, and, for an adaptive host, applies
/// how the request ended (`ARGV[2]`: `slow` for a 429 or 503, with its `Retry-After` in
/// `ARGV[3]` or -1; `ok` for any other response): the rules of the process's own lines.
static DONE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if ARGV[1] ~= '' and redis.call('ZREM', KEYS[1], ARGV[1]) == 1 and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('PUBLISH', ARGV[10], ARGV[11])
end
if ARGV[2] ~= 'slow' and ARGV[2] ~= 'ok' then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local retry, gap0, burst = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local longest, slowest, recovery, forget = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local s = redis.call('HMGET', KEYS[2], 'due', 'gap', 'paused', 'slowed')
local due = tonumber(s[1]) or now
local gap = math.max(tonumber(s[2]) or gap0, gap0)
local paused = tonumber(s[3]) or 0
local slowed = tonumber(s[4])
if ARGV[2] == 'slow' then
  if retry >= 0 then
    paused = math.max(paused, now + math.min(retry, longest))
    redis.call('HSET', KEYS[2], 'paused', string.format('%.0f', paused))
  end
  if gap0 > 0 then
    gap = math.max(math.min(gap * 2, math.max(slowest, gap0)), gap)
    local resume = math.max(now + gap, paused)
    due = math.max(due, resume + gap * (burst - 1))
    redis.call('HSET', KEYS[2], 'due', string.format('%.0f', due), 'gap', string.format('%.0f', gap),
      'slowed', string.format('%.0f', now))
  end
else
  if gap0 == 0 or not slowed or now - slowed < recovery then return 0 end
  local halved = math.max(math.ceil(gap / 2), gap0)
  if due > now then due = now + math.floor((due - now) * halved / gap) end
  gap = halved
  redis.call('HSET', KEYS[2], 'due', string.format('%.0f', due), 'gap', string.format('%.0f', gap))
  if gap == gap0 then redis.call('HDEL', KEYS[2], 'slowed') end
end
redis.call('PEXPIRE', KEYS[2], math.ceil((math.max(due, paused, now) - now + forget) / 1000))
return 1
",
    )
});

/// Pushes the expiry of the leases `ARGV[2..]` still held to `ARGV[1]` from now; a lease
/// that expired meanwhile is not taken again.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local lease = tonumber(ARGV[1])
local expiry = string.format('%.0f', now + lease)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], math.ceil(lease / 1000) + 1000)
return 0
",
    )
});

/// Asks for a lease (or a token) for each of `ids`, in order.
pub(super) fn acquire(
    conn: &mut dyn ConnectionLike,
    keys: &Keys,
    params: &Params,
    lease: Duration,
    ids: &[String],
) -> RedisResult<Grant> {
    let (granted, wait, full): (usize, u64, i64) = ACQUIRE
        .key(&keys.leases)
        .key(&keys.state)
        .key(&keys.waiters)
        .arg(params.cap)
        .arg(params.gap)
        .arg(params.burst)
        .arg(micros(lease))
        .arg(micros(bucket::FORGET))
        .arg(WAITING.as_millis() as u64)
        .arg(ids)
        .invoke(conn)?;
    Ok(Grant {
        granted,
        wait: Duration::from_micros(wait),
        full: u64::try_from(full).ok().map(Duration::from_micros),
    })
}

/// A request let through ended as `outcome`: gives back its `lease` if it has one, and
/// tells an adaptive host how it went.
pub(super) fn done(
    conn: &mut dyn ConnectionLike,
    keys: &Keys,
    params: &Params,
    lease: Option<&str>,
    outcome: Outcome,
) -> RedisResult<()> {
    let (said, retry_after) = match outcome {
        Outcome::Slowed { retry_after } if params.adaptive => (
            "slow",
            retry_after.map_or(-1, |d| i64::try_from(micros(d)).unwrap_or(i64::MAX)),
        ),
        Outcome::Success if params.adaptive => ("ok", -1),
        _ => ("", -1),
    };
    DONE.key(&keys.leases)
        .key(&keys.state)
        .key(&keys.waiters)
        .arg(lease.unwrap_or(""))
        .arg(said)
        .arg(retry_after)
        .arg(params.gap)
        .arg(params.burst)
        .arg(micros(LONGEST_PAUSE))
        .arg(micros(ADAPTIVE_SLOWEST))
        .arg(micros(bucket::RECOVERY))
        .arg(micros(bucket::FORGET))
        .arg(&keys.channel)
        .arg(&keys.host)
        .invoke(conn)
}

/// Renews the leases `ids` of a host for `lease` from now.
pub(super) fn renew(
    conn: &mut dyn ConnectionLike,
    keys: &Keys,
    lease: Duration,
    ids: &[String],
) -> RedisResult<()> {
    RENEW
        .key(&keys.leases)
        .arg(micros(lease))
        .arg(ids)
        .invoke(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_in_microseconds_and_keys_in_one_slot() {
        let limits = HostLimits::new().in_flight(2).rate(3.0, 4).adaptive(true);
        let params = Params::of(&limits);
        assert_eq!((params.cap, params.gap, params.burst), (2, 333_334, 4));
        assert!(params.shares() && params.leases());
        assert!(params.adapts(Outcome::Success) && !params.adapts(Outcome::Failed));
        let rate_only = Params::of(&HostLimits::new().rate(1e9, 1));
        assert_eq!((rate_only.gap, rate_only.leases()), (1, false));
        assert!(!Params::of(&HostLimits::new()).shares());
        let keys = Keys::new(|rest| format!("app:{rest}"), "a.test:443");
        assert_eq!(keys.leases, "app:limits:{a.test:443}:leases");
        assert_eq!(keys.state, "app:limits:{a.test:443}:state");
        assert_eq!(keys.channel, "app:limits:released");
    }
}
