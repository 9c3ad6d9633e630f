//! The limits a client applies to each host apart: how many requests at once, how many
//! a second, and slower while the host answers 429 or 503.

/// Limits that apply to each host apart: how many of its requests run at once, how many
/// start each second, and whether a host that answers 429 or 503 is slowed down.
///
/// A host is a host name and a port, the scheme's default port made explicit:
/// `http://example.com/` and `http://example.com:80/` are one host, `https://example.com/`
/// (port 443) and `http://www.example.com/` are others. No limit is set by default.
///
/// # Examples
///
/// A polite crawler: four requests to a host at once at most, two a second at most, and
/// slower while the host says it is overloaded. The limits are given to the client with
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

    /// Whether any limit is set (adaptivity counts, since it honours `Retry-After`).
    pub fn is_limited(&self) -> bool {
        self.in_flight.is_some() || self.rate.is_some() || self.adaptive
    }
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
