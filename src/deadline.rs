//! One deadline per request: every redirect hop, 401 retry and revalidation of a request
//! share it, as curl's `CURLOPT_TIMEOUT` and Go's `Client.Timeout` cover a whole chain.

use std::time::{Duration, Instant};

use crate::Error;

/// The longest timeout honoured; a longer one, up to `Duration::MAX`, is taken as this.
/// libcurl refuses a millisecond count that does not fit its `long`, and a year is no
/// limit any request meets.
pub(crate) const LONGEST: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A timeout as libcurl can honour it: whole milliseconds rounded up, since libcurl reads
/// 0 ms as "no timeout" and a 500 µs timeout must never become none; at most [`LONGEST`].
pub(crate) fn honoured(timeout: Duration) -> Duration {
    let millis = timeout.min(LONGEST).as_nanos().div_ceil(1_000_000);
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

/// When a request must be done by, counted from the moment a worker started it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Instant,
    /// The timeout as given (clamped), for the error that reports it.
    total: Duration,
}

impl Deadline {
    /// A deadline `total` from now.
    pub(crate) fn start(total: Duration) -> Self {
        let total = total.min(LONGEST);
        Deadline {
            at: Instant::now() + total,
            total,
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

    /// The error of a request that ran out of time.
    pub(crate) fn expired(&self) -> Error {
        Error::Timeout { after: self.total }
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
        assert!(Deadline::start(Duration::MAX).left().is_ok());
    }

    #[test]
    fn a_passed_deadline_is_a_timeout_with_the_whole_budget() {
        let deadline = Deadline::start(Duration::ZERO);
        match deadline.left() {
            Err(Error::Timeout { after }) => assert_eq!(after, Duration::ZERO),
            other => panic!("{other:?}"),
        }
    }
}
