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
/// assert_eq!((t.total, t.tls), (Duration::ZERO, None));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timings {
    /// In the queue: from submission until a driver or a worker started the request; for a
    /// request sent again, its last attempt's, from when that attempt was due. The
    /// request's own clock, `total` and its timeout, starts after it.
    pub queued: Duration,
    /// The part of the time queued spent waiting for its host's turn under
    /// [`HostLimits`](crate::HostLimits); for a request sent again, summed over its
    /// attempts. Zero for a client without host limits.
    pub host_wait: Duration,
    /// Resolving the host's name, as libcurl counts it: from the exchange's start, so a wait
    /// of libcurl's own for a free connection is in it too.
    pub resolve: Option<Duration>,
    /// Making the TCP connection, once the name was resolved; through a proxy, the
    /// connection to the proxy.
    pub connect: Option<Duration>,
    /// The TLS handshake, once connected; through a proxy, the tunnel's setup too.
    pub tls: Option<Duration>,
    /// From the request's start until the head of this response arrived, with every
    /// earlier hop in it. The head is handed over with the first bytes of its body (at the
    /// end of the exchange when there is none), so a server that sends its head and then
    /// pauses before its body is counted up to the body.
    pub first_byte: Duration,
    /// From the request's start to its whole body read: the same as
    /// [`Response::elapsed`](crate::Response::elapsed).
    pub total: Duration,
}

/// Formats the parts of a request's timings that were measured, beyond the time queued,
/// for its `finished` line: `, first byte 2.9ms, dns 0.1ms, connect 0.2ms, tls 1.1ms`.
pub(crate) struct Measured<'a>(pub(crate) &'a Timings);

impl fmt::Display for Measured<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        let waited = Some(t.host_wait).filter(|d| !d.is_zero());
        let first_byte = Some(t.first_byte).filter(|d| !d.is_zero());
        let parts = [
            ("host wait", waited),
            ("first byte", first_byte),
            ("dns", t.resolve),
            ("connect", t.connect),
            ("tls", t.tls),
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
    fn only_what_was_measured_is_shown() {
        let ms = Duration::from_millis;
        let mut t = Timings::default();
        assert_eq!(Measured(&t).to_string(), "");
        t.first_byte = ms(3);
        t.connect = Some(Duration::from_micros(250));
        assert_eq!(
            Measured(&t).to_string(),
            ", first byte 3.0ms, connect 250.0µs"
        );
        t.host_wait = ms(12);
        t.tls = Some(ms(1));
        assert_eq!(
            Measured(&t).to_string(),
            ", host wait 12.0ms, first byte 3.0ms, connect 250.0µs, tls 1.0ms"
        );
    }
}
