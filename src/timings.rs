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
/// Each response carries one, so it is kept small: 48 bytes, read through its methods.
///
/// ```
/// use std::time::Duration;
///
/// let t = asynchttp::Response::new(200).timings;
/// assert_eq!(t, asynchttp::Timings::default());
/// assert_eq!((t.total(), t.tls()), (Duration::ZERO, None));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Whole nanoseconds.
    queued: u64,
    host_wait: u64,
    first_byte: u64,
    total: u64,
    /// Whole microseconds (libcurl's own unit) plus one; 0 for not measured.
    resolve: u32,
    connect: u32,
    tls: u32,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A phase as stored: `None` is 0, anything else its microseconds plus one, at most
/// `u32::MAX - 1` (71 minutes; no handshake takes that long).
fn phase(d: Option<Duration>) -> u32 {
    d.map_or(0, |d| {
        u32::try_from(d.as_micros())
            .unwrap_or(u32::MAX - 1)
            .min(u32::MAX - 1)
            + 1
    })
}

fn unphase(stored: u32) -> Option<Duration> {
    stored
        .checked_sub(1)
        .map(|micros| Duration::from_micros(micros.into()))
}

impl Timings {
    /// In the queue: from submission until a driver or a worker started the request; for a
    /// request sent again, its last attempt's, from when that attempt was due. The
    /// request's own clock, `total` and its timeout, starts after it.
    pub fn queued(&self) -> Duration {
        Duration::from_nanos(self.queued)
    }

    /// The part of the time queued spent waiting for its host's turn under
    /// [`HostLimits`](crate::HostLimits); for a request sent again, summed over its
    /// attempts. Zero for a client without host limits.
    pub fn host_wait(&self) -> Duration {
        Duration::from_nanos(self.host_wait)
    }

    /// Resolving the host's name, as libcurl counts it: from the exchange's start, so a
    /// wait of libcurl's own for a free connection is in it too.
    pub fn resolve(&self) -> Option<Duration> {
        unphase(self.resolve)
    }

    /// Making the TCP connection, once the name was resolved; through a proxy, the
    /// connection to the proxy.
    pub fn connect(&self) -> Option<Duration> {
        unphase(self.connect)
    }

    /// The TLS handshake, once connected; through a proxy, the tunnel's setup too.
    pub fn tls(&self) -> Option<Duration> {
        unphase(self.tls)
    }

    /// From the request's start until the head of this response arrived, with every
    /// earlier hop in it. The head is handed over with the first bytes of its body (at the
    /// end of the exchange when there is none), so a server that sends its head and then
    /// pauses before its body is counted up to the body.
    pub fn first_byte(&self) -> Duration {
        Duration::from_nanos(self.first_byte)
    }

    /// From the request's start to its whole body read: the same as
    /// [`Response::elapsed`](crate::Response::elapsed).
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.total)
    }

    /// An exchange's: the time to its head, and its phases if they were measured.
    pub(crate) fn of_exchange(
        first_byte: Duration,
        (resolve, connect, tls): (Option<Duration>, Option<Duration>, Option<Duration>),
    ) -> Self {
        Timings {
            first_byte: nanos(first_byte),
            resolve: phase(resolve),
            connect: phase(connect),
            tls: phase(tls),
            ..Timings::default()
        }
    }

    /// The request's own: its time queued and in its host's line.
    pub(crate) fn set_waits(&mut self, queued: Duration, host_wait: Duration) {
        self.queued = nanos(queued);
        self.host_wait = nanos(host_wait);
    }

    pub(crate) fn set_total(&mut self, total: Duration) {
        self.total = nanos(total);
    }
}

impl fmt::Debug for Timings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timings")
            .field("queued", &self.queued())
            .field("host_wait", &self.host_wait())
            .field("resolve", &self.resolve())
            .field("connect", &self.connect())
            .field("tls", &self.tls())
            .field("first_byte", &self.first_byte())
            .field("total", &self.total())
            .finish()
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
    fn kept_small_and_read_back_as_set() {
        assert!(std::mem::size_of::<Timings>() <= 48);
        let t = Timings::of_exchange(
            Duration::from_nanos(1_234_567),
            (Some(Duration::ZERO), Some(Duration::from_micros(7)), None),
        );
        assert_eq!(t.first_byte(), Duration::from_nanos(1_234_567));
        assert_eq!(t.resolve(), Some(Duration::ZERO), "zero is not none");
        assert_eq!(t.connect(), Some(Duration::from_micros(7)));
        assert_eq!(t.tls(), None);
        let hours = Timings::of_exchange(
            Duration::MAX,
            (Some(Duration::from_secs(1 << 40)), None, None),
        );
        assert_eq!(
            hours.resolve(),
            Some(Duration::from_micros(u64::from(u32::MAX - 1)))
        );
        assert_eq!(hours.first_byte(), Duration::from_nanos(u64::MAX));
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
