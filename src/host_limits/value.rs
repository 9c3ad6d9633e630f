//! The limits a client's requests follow per host, as given to the builder: the public
//! [`HostLimits`], and which of them a host follows ([`own_for`]).

use crate::origin;

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
    /// Why the first text given to [`host`](Self::host) that names no host, or the first
    /// Redis URL given to `shared` that names no Redis, was refused: `HttpBuilder::build`
    /// says so.
    refused: Option<String>,
    /// The Redis through which a fleet of processes shares these limits.
    #[cfg(feature = "redis")]
    shared: Option<super::RedisLimits>,
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
                self.refused
                    .get_or_insert_with(|| format!("host: {reason}"));
            }
        }
        self
    }

    /// The same limits held by every process that gives the same Redis (and key prefix):
    /// each host's requests in flight, its rate and burst, and its slowdowns, counted
    /// across the fleet rather than per process. Ten processes limited to 2 a second send
    /// 2 a second to a host between them, not 20. The limits of hosts with limits of their
    /// own ([`host`](Self::host)) are shared too, through the same Redis; a `shared` given
    /// to a host's own limits is not looked at.
    ///
    /// Each process still keeps its own limits as well, and goes by them alone while Redis
    /// is away or slower than its timeout: requests never fail, and never wait on Redis,
    /// because of it, but the fleet-wide cap becomes a per-process one until it is back (a
    /// warning is logged as it goes, an info line as it comes back). The recipe is in the
    /// guide, [limits shared by a fleet](crate::guide::retries#limits-shared-by-a-fleet).
    ///
    /// ```no_run
    /// use asynchttp::{HostLimits, Http, RedisLimits};
    ///
    /// let redis = RedisLimits::new("redis://127.0.0.1:6379/").prefix("crawler");
    /// let http = Http::builder()
    ///     .per_host(HostLimits::new().in_flight(2).rate(10.0, 1).adaptive(true).shared(redis))
    ///     .build()?;
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn shared(mut self, redis: super::RedisLimits) -> Self {
        if let Some(reason) = redis.refused() {
            self.refused
                .get_or_insert_with(|| format!("shared: {reason}"));
        }
        self.shared = Some(redis);
        self
    }

    /// The Redis these limits are shared through, if they are.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn shared_through(&self) -> Option<&super::RedisLimits> {
        self.shared.as_ref()
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
    pub(super) fn split(mut self) -> (HostLimits, Vec<(String, HostLimits)>) {
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
pub(super) fn own_for<'a, T>(own: &'a [(String, T)], key: &str) -> Option<&'a T> {
    let name = key.rsplit_once(':').map_or(key, |(name, _)| name);
    let find = |wanted: &str| own.iter().find(|(h, _)| h == wanted).map(|(_, t)| t);
    find(key).or_else(|| find(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    static_assertions::assert_impl_all!(HostLimits: Clone, Send, Sync);

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
    }
}
