//! One deadline per request: every redirect hop, 401 retry and revalidation of a request
//! share it, as curl's `CURLOPT_TIMEOUT` and Go's `Client.Timeout` cover a whole chain.
//! Beside it, an optional idle bound that each exchange gets whole, and the error that
//! names which of the bounds ran out.

use std::time::{Duration, Instant};

use crate::{Error, TimeoutKind};

/// The longest timeout honoured; a longer one, up to `Duration::MAX`, is taken as this.
/// libcurl refuses a millisecond count that does not fit its `long`, and a year is no
/// limit any request meets.
pub(crate) const LONGEST: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A deadline is taken as passed this close to it: libcurl's clock and ours are read at
/// slightly different moments.
const SLACK: Duration = Duration::from_millis(5);

/// A timeout as libcurl can honour it: whole milliseconds rounded up, since libcurl reads
/// 0 ms as "no timeout" and a 500 µs timeout must never become none; at most [`LONGEST`].
pub(crate) fn honoured(timeout: Duration) -> Duration {
    let millis = timeout.min(LONGEST).as_nanos().div_ceil(1_000_000);
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

/// An idle timeout as libcurl can honour it: it counts low-speed time in whole seconds
/// (`CURLOPT_LOW_SPEED_TIME`), so rounded up to one at least; at most [`LONGEST`].
pub(crate) fn honoured_idle(idle: Duration) -> Duration {
    let secs = idle.min(LONGEST).as_nanos().div_ceil(1_000_000_000);
    Duration::from_secs(u64::try_from(secs).unwrap_or(u64::MAX).max(1))
}

/// How libcurl said a transfer timed out, from its error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CurlTimeout {
    /// The low-speed check: "Operation too slow".
    TooSlow,
    /// Resolving, connecting or a handshake: "Resolving timed out", "Connection timed
    /// out", "Connection timeout", "SSL connection timeout".
    Connecting,
    /// Anything else, or no text at all.
    Other,
}

impl CurlTimeout {
    /// Reads libcurl's error text for a `CURLE_OPERATION_TIMEDOUT`.
    pub(crate) fn of(text: Option<&str>) -> Self {
        let Some(text) = text else {
            return CurlTimeout::Other;
        };
        if text.starts_with("Operation too slow") {
            CurlTimeout::TooSlow
        } else if text.starts_with("Resolving timed out")
            || text.starts_with("Connection timed out")
            || text.starts_with("Connection timeout")
            || text.starts_with("SSL connection timeout")
        {
            CurlTimeout::Connecting
        } else {
            CurlTimeout::Other
        }
    }
}

/// When a request must be done by, counted from the moment a worker started it, and how
/// long each of its exchanges may go without receiving anything.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Instant,
    /// The timeout as given (clamped), for the error that reports it; [`LONGEST`] when
    /// the request has no total timeout.
    total: Duration,
    /// The idle timeout as given, if any.
    idle: Option<Duration>,
}

impl Deadline {
    /// A deadline `total` from now, and an idle bound for each exchange.
    pub(crate) fn start(total: Duration, idle: Option<Duration>) -> Self {
        let total = total.min(LONGEST);
        Deadline {
            at: Instant::now() + total,
            total,
            idle,
        }
    }

    /// The time left for the next exchange, as libcurl can honour it; the timeout error
    /// once there is none, so nothing more is sent.
    pub(crate) fn left(&self) -> Result<Duration, Error> {
        let left = self.at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.expired());
        }
        Ok(honoured(left))
    }

    /// The idle bound of each exchange, as given.
    pub(crate) fn idle(&self) -> Option<Duration> {
        self.idle
    }

    /// The error of a request that ran out of time.
    pub(crate) fn expired(&self) -> Error {
        Error::Timeout {
            after: self.total,
            bound: TimeoutKind::Total,
        }
    }

    /// The error of an exchange libcurl ended with a timeout: `said` is how libcurl put
    /// it, and `connect` the connect timeout the exchange had (`None` once its response's
    /// head has arrived: it was connected). Both libcurl's bounds end a transfer with the
    /// same code, so the clock tells them apart first: a deadline that has passed is the
    /// total timeout; one that has not was the idle or the connect timeout, as libcurl's
    /// text says, or as the bounds the exchange had leave possible.
    pub(crate) fn timed_out(&self, said: CurlTimeout, connect: Option<Duration>) -> Error {
        if Instant::now() + SLACK >= self.at {
            return self.expired();
        }
        let idle = self.idle.map(|after| Error::Timeout {
            after,
            bound: TimeoutKind::Idle,
        });
        let connecting = connect.map(|after| Error::Timeout {
            after,
            bound: TimeoutKind::Connect,
        });
        let (first, second) = match said {
            CurlTimeout::TooSlow => (idle, connecting),
            CurlTimeout::Connecting | CurlTimeout::Other => (connecting, idle),
        };
        first.or(second).unwrap_or_else(|| self.expired())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_millisecond_timeouts_round_up_and_huge_ones_are_clamped() {
        assert_eq!(
            honoured(Duration::from_micros(500)),
            Duration::from_millis(1)
        );
        assert_eq!(honoured(Duration::from_nanos(1)), Duration::from_millis(1));
        assert_eq!(honoured(Duration::from_millis(7)), Duration::from_millis(7));
        assert_eq!(
            honoured(Duration::from_micros(7_001)),
            Duration::from_millis(8)
        );
        assert_eq!(honoured(Duration::MAX), LONGEST);
        assert!(Deadline::start(Duration::MAX, None).left().is_ok());
    }

    #[test]
    fn a_passed_deadline_is_a_timeout_with_the_whole_budget() {
        let deadline = Deadline::start(Duration::ZERO, None);
        match deadline.left() {
            Err(Error::Timeout {
                after,
                bound: TimeoutKind::Total,
            }) => assert_eq!(after, Duration::ZERO),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn idle_timeouts_are_whole_seconds_of_at_least_one() {
        assert_eq!(
            honoured_idle(Duration::from_millis(1)),
            Duration::from_secs(1)
        );
        assert_eq!(
            honoured_idle(Duration::from_millis(300)),
            Duration::from_secs(1)
        );
        assert_eq!(
            honoured_idle(Duration::from_secs(2)),
            Duration::from_secs(2)
        );
        assert_eq!(
            honoured_idle(Duration::from_millis(2_001)),
            Duration::from_secs(3)
        );
        assert_eq!(honoured_idle(Duration::MAX), LONGEST);
    }

    #[test]
    fn libcurl_timeout_texts() {
        let slow = "Operation too slow. Less than 1 bytes/sec transferred the last 1 seconds";
        assert_eq!(CurlTimeout::of(Some(slow)), CurlTimeout::TooSlow);
        for connecting in [
            "Resolving timed out after 100 milliseconds",
            "Connection timed out after 1001 milliseconds",
            "Connection timeout after 1000 ms",
            "SSL connection timeout",
        ] {
            assert_eq!(CurlTimeout::of(Some(connecting)), CurlTimeout::Connecting);
        }
        let total = "Operation timed out after 1000 milliseconds with 0 bytes received";
        assert_eq!(CurlTimeout::of(Some(total)), CurlTimeout::Other);
        assert_eq!(CurlTimeout::of(None), CurlTimeout::Other);
    }

    #[test]
    fn a_timeout_before_the_deadline_is_the_idle_or_the_connect_bound() {
        let (idle, connect) = (Duration::from_secs(1), Duration::from_secs(2));
        let deadline = Deadline::start(Duration::from_secs(60), Some(idle));
        let kind = |said, connect| match deadline.timed_out(said, connect) {
            Error::Timeout { after, bound } => (bound, after),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            kind(CurlTimeout::TooSlow, Some(connect)),
            (TimeoutKind::Idle, idle)
        );
        assert_eq!(
            kind(CurlTimeout::Connecting, Some(connect)),
            (TimeoutKind::Connect, connect)
        );
        // Reading a body, only the idle bound is left.
        assert_eq!(kind(CurlTimeout::Other, None), (TimeoutKind::Idle, idle));
        // Without an idle bound, before the head only the connect bound is.
        let no_idle = Deadline::start(Duration::from_secs(60), None);
        assert!(matches!(
            no_idle.timed_out(CurlTimeout::Other, Some(connect)),
            Error::Timeout {
                bound: TimeoutKind::Connect,
                ..
            }
        ));
        // A deadline that has passed is the total bound, whatever libcurl said.
        let passed = Deadline::start(Duration::ZERO, Some(idle));
        assert!(matches!(
            passed.timed_out(CurlTimeout::TooSlow, Some(connect)),
            Error::Timeout {
                bound: TimeoutKind::Total,
                ..
            }
        ));
    }
}
