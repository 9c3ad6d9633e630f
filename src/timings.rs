//! Where a request's time went, as its response tells it.

use std::fmt;
use std::time::Duration;

/// Where the time of a request went, from its submission to its whole body:
/// [`Response::timings`](crate::Response::timings).
///
/// A request has one start: the moment a driver or a worker took it from the queue, when
/// its deadline starts too (the first attempt's, for a request its [`Retry`](crate::Retry)
/// policy sent again). `first_byte` and `total` are counted from there, across every
/// attempt, redirect followed and 401 answered with credentials, so they tell what the
/// caller waited. `resolve`, `connect` and `tls` are the phases of the last exchange only, the one
/// that gave this response; each response in [`previous`](crate::Response::previous) has its
/// own exchange's, and its own `first_byte`, counted from the same start.
///
/// - A response answered from the cache without the network has all zero but `total`.
///   One revalidated with a 304 has the 304's exchange's.
/// - `resolve`, `connect` and `tls` are measured only when
///   [`HttpBuilder::timings`](crate::HttpBuilder::timings) turns them on; `None` otherwise,
///   and `None` too for a phase the exchange did not go through: all three on a kept-alive
///   connection used again (HTTP/2 streams included), `tls` over plain http.
/// - [`Response::new`](crate::Response::new) gives all zero.
///
/// ```
/// use std::time::Duration;
///
/// let t = asynchttp::Response::new(200).timings;
/// assert_eq!(t, asynchttp::Timings::default());
/// assert_eq!((t.total(), t.tls()), (Duration::ZERO, None));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    queued: Duration,
    host_wait: Duration,
    /// `None` when not measured, or not gone through.
    resolve: Option<Duration>,
    connect: Option<Duration>,
    tls: Option<Duration>,
    first_byte: Duration,
    total: Duration,
}

impl Timings {
    /// In the queue: from submission until a driver or a worker started the request; for a
    /// request sent again, its last attempt's, from when that attempt was due. The
    /// request's own clock, `total` and its timeout, starts after it.
    pub fn queued(&self) -> Duration {
        self.queued
    }

    /// The part of the time queued spent waiting for its host's turn under
    /// [`HostLimits`](crate::HostLimits); for a request sent again, summed over its
    /// attempts. Zero for a client without host limits.
    pub fn host_wait(&self) -> Duration {
        self.host_wait
    }

    /// Resolving the host's name, as libcurl counts it: from the exchange's start, so a
    /// wait of libcurl's own for a free connection is in it too.
    pub fn resolve(&self) -> Option<Duration> {
        self.resolve
    }

    /// Making the TCP connection, once the name was resolved; through a proxy, the
    /// connection to the proxy.
    pub fn connect(&self) -> Option<Duration> {
        self.connect
    }

    /// The TLS handshake, once connected; through a proxy, the tunnel's setup too.
    pub fn tls(&self) -> Option<Duration> {
        self.tls
    }

    /// From the request's start until the head of this response arrived, with every
    /// earlier hop in it. The head is handed over with the first bytes of its body (at the
    /// end of the exchange when there is none), so a server that sends its head and then
    /// pauses before its body is counted up to the body.
    pub fn first_byte(&self) -> Duration {
        self.first_byte
    }

    /// From the request's start to its whole body read: the same as
    /// [`Response::elapsed`](crate::Response::elapsed).
    pub fn total(&self) -> Duration {
        self.total
    }

    /// An exchange's: the time to its head, and its phases if they were measured.
    pub(crate) fn of_exchange(
        first_byte: Duration,
        (resolve, connect, tls): (Option<Duration>, Option<Duration>, Option<Duration>),
    ) -> Self {
        Timings {
            first_byte,
            resolve,
            connect,
            tls,
            ..Timings::default()
        }
    }

    /// The request's own: its time queued and in its host's line.
    pub(crate) fn set_waits(&mut self, queued: Duration, host_wait: Duration) {
        self.queued = queued;
        self.host_wait = host_wait;
    }

    pub(crate) fn set_total(&mut self, total: Duration) {
        self.total = total;
    }
}

/// Formats the parts of a request's timings that were measured, beyond the time queued,
/// for its `finished` line: `, first byte 2.9ms, dns 0.1ms, connect 0.2ms, tls 1.1ms`.
pub(crate) struct Measured<'a>(pub(crate) &'a Timings);

impl fmt::Display for Measured<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        let waited = Some(t.host_wait()).filter(|d| !d.is_zero());
        let first_byte = Some(t.first_byte()).filter(|d| !d.is_zero());
        let parts = [
            ("host wait", waited),
            ("first byte", first_byte),
            ("dns", t.resolve()),
            ("connect", t.connect()),
            ("tls", t.tls()),
        ];
        for (name, time) in parts {
            if let Some(time) = time {
                write!(f, ", {name} {time:.1?}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_back_as_set() {
        let t = Timings::of_exchange(
            Duration::from_nanos(1_234_567),
            (
                Some(Duration::ZERO),
                Some(Duration::from_nanos(7_001)),
                None,
            ),
        );
        assert_eq!(t.first_byte(), Duration::from_nanos(1_234_567));
        assert_eq!(t.resolve(), Some(Duration::ZERO), "zero is not none");
        assert_eq!(t.connect(), Some(Duration::from_nanos(7_001)));
        assert_eq!(t.tls(), None);
        let mut long = Timings::of_exchange(
            Duration::MAX,
            (Some(Duration::from_secs(1 << 40)), None, None),
        );
        long.set_waits(Duration::from_secs(3), Duration::from_secs(2));
        long.set_total(Duration::from_secs(5));
        assert_eq!(long.resolve(), Some(Duration::from_secs(1 << 40)));
        assert_eq!(long.first_byte(), Duration::MAX);
        assert_eq!(
            (long.queued(), long.host_wait(), long.total()),
            (
                Duration::from_secs(3),
                Duration::from_secs(2),
                Duration::from_secs(5)
            )
        );
    }

    #[test]
    fn debug_shows_each_time() {
        let t = Timings::of_exchange(Duration::from_millis(3), (None, None, None));
        assert_eq!(
            format!("{t:?}"),
            "Timings { queued: 0ns, host_wait: 0ns, resolve: None, connect: None, tls: None, \
             first_byte: 3ms, total: 0ns }"
        );
    }

    #[test]
    fn a_response_holds_it_in_a_bounded_size() {
        // Seven times, as `Duration` and `Option<Duration>` (16 bytes each: `Option` uses
        // the nanoseconds' spare values); each response carries one.
        assert!(std::mem::size_of::<Timings>() <= 7 * 16);
    }

    #[test]
    fn only_what_was_measured_is_shown() {
        let ms = Duration::from_millis;
        assert_eq!(Measured(&Timings::default()).to_string(), "");
        let connect = Some(Duration::from_micros(250));
        let mut t = Timings::of_exchange(ms(3), (None, connect, None));
        assert_eq!(
            Measured(&t).to_string(),
            ", first byte 3.0ms, connect 250.0µs"
        );
        t = Timings::of_exchange(ms(3), (None, connect, Some(ms(1))));
        t.set_waits(ms(20), ms(12));
        assert_eq!(
            Measured(&t).to_string(),
            ", host wait 12.0ms, first byte 3.0ms, connect 250.0µs, tls 1.0ms"
        );
    }
}
