//! One deadline per request: every redirect hop, 401 retry and revalidation of a request
//! share it, as curl's `CURLOPT_TIMEOUT` and Go's `Client.Timeout` cover a whole chain.
//! Beside it, an optional idle bound that each exchange gets whole, and the error that
//! names which of the bounds ran out.

use std::time::{Duration, Instant};

use crate::{Error, TimeoutKind};

/// A request's total timeout when neither it nor its client set one, and neither set an
/// idle timeout instead.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A download's idle timeout when no timeout of either kind is set for it: it has no total
/// one then.
pub(crate) const DEFAULT_DOWNLOAD_IDLE: Duration = Duration::from_secs(30);

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

/// The bounds a caller set, for a client or for one request, checked as one rule: each
/// must be more than zero. libcurl reads a zero timeout as "no timeout", so a zero would
/// be no bound at all, and zero bytes or zero time is no speed. Gives the minimum speed
/// as a [`Floor`], or why a bound was refused.
pub(crate) fn checked(
    timeouts: &[Option<Duration>],
    min_speed: Option<(u64, Duration)>,
) -> Result<Option<Floor>, &'static str> {
    if timeouts.iter().flatten().any(Duration::is_zero) {
        return Err("the timeout must be more than zero");
    }
    match min_speed {
        Some((bytes, over)) if bytes == 0 || over.is_zero() => {
            Err("the minimum speed must be more than zero bytes over more than zero time")
        }
        Some((bytes, over)) => Ok(Some(Floor::new(bytes, over))),
        None => Ok(None),
    }
}

/// How far an exchange that libcurl ended with a timeout had got, as far as can be told:
/// libcurl reports its connect and total bounds with the same code, and isahc keeps none
/// of its text. (The idle bound is not libcurl's: see `transport::silence`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not connected yet, or connected but maybe still in a TLS or proxy handshake: the
    /// connect bound, unless the deadline has passed.
    Connecting { connect: Duration },
    /// Connected over plain TCP, nothing more to set up: only the total bound is left.
    Connected,
}

/// When a request must be done by, counted from the moment a worker started it, and how
/// long each of its exchanges may go without receiving anything.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    /// When the request started: its timings count from here.
    began: Instant,
    at: Instant,
    /// The timeout as given (clamped), for the error that reports it; [`LONGEST`] when
    /// the request has no total timeout.
    total: Duration,
    /// The idle timeout as given, if any.
    idle: Option<Duration>,
    /// The minimum speed, if any.
    floor: Option<Floor>,
}

/// A minimum speed: an exchange whose body arrives at fewer than `bytes_per_second` on
/// average over a period of `over` fails (curl's `--speed-limit` and `--speed-time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Floor {
    bytes_per_second: u64,
    pub(crate) over: Duration,
}

impl Floor {
    pub(crate) fn new(bytes_per_second: u64, over: Duration) -> Self {
        Floor {
            bytes_per_second,
            over: over.min(LONGEST),
        }
    }

    /// `bytes` received in `elapsed` are below the floor.
    pub(crate) fn too_slow(&self, bytes: u64, elapsed: Duration) -> bool {
        u128::from(bytes) * 1_000_000_000 < u128::from(self.bytes_per_second) * elapsed.as_nanos()
    }
}

impl Deadline {
    /// A deadline `total` from now, and an idle bound for each exchange.
    pub(crate) fn start(total: Duration, idle: Option<Duration>) -> Self {
        let total = total.min(LONGEST);
        let began = Instant::now();
        Deadline {
            began,
            at: began + total,
            total,
            idle,
            floor: None,
        }
    }

    /// This deadline, with a minimum speed for each exchange.
    pub(crate) fn with_floor(self, floor: Option<Floor>) -> Self {
        Deadline { floor, ..self }
    }

    /// The minimum speed of each exchange, if any.
    pub(crate) fn floor(&self) -> Option<Floor> {
        self.floor
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

    /// When the request started, which every exchange of it shares.
    pub(crate) fn began(&self) -> Instant {
        self.began
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

    /// The error of an exchange libcurl ended with a timeout, as far as it had got: the
    /// total bound once the deadline has passed, else the connect bound while connecting.
    pub(crate) fn timed_out(&self, phase: Phase) -> Error {
        match phase {
            _ if self.passed() => self.expired(),
            Phase::Connecting { connect } => Error::Timeout {
                after: connect,
                bound: TimeoutKind::Connect,
            },
            Phase::Connected => self.expired(),
        }
    }

    /// The error of an exchange that met a bound its watch keeps (the idle timeout, the
    /// minimum speed): the total bound instead once the deadline has passed.
    pub(crate) fn met(&self, bound: TimeoutKind) -> Error {
        let after = match bound {
            TimeoutKind::Idle => self.idle,
            TimeoutKind::MinSpeed => self.floor.map(|floor| floor.over),
            _ => None,
        };
        match after {
            Some(after) if !self.passed() => Error::Timeout { after, bound },
            _ => self.expired(),
        }
    }

    /// The deadline has passed, or is close enough that libcurl's clock may have seen it so.
    fn passed(&self) -> bool {
        Instant::now() + SLACK >= self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bound_must_be_more_than_zero() {
        let (second, zero) = (Some(Duration::from_secs(1)), Some(Duration::ZERO));
        assert_eq!(checked(&[None, second], None), Ok(None));
        assert!(checked(&[second, zero], None).is_err());
        assert!(checked(&[zero], Some((1, Duration::from_secs(1)))).is_err());
        let floor = Floor::new(10, Duration::from_secs(2));
        assert_eq!(
            checked(&[second], Some((10, Duration::from_secs(2)))),
            Ok(Some(floor))
        );
        for no_speed in [(0, Duration::from_secs(2)), (10, Duration::ZERO)] {
            assert!(checked(&[], Some(no_speed)).is_err(), "{no_speed:?}");
        }
    }

    #[test]
    fn a_floor_compares_the_average_over_the_time_elapsed() {
        let floor = Floor::new(1_000, Duration::from_secs(2));
        assert!(!floor.too_slow(2_000, Duration::from_secs(2)));
        assert!(floor.too_slow(1_999, Duration::from_secs(2)));
        // A period looked at late is averaged over all of it.
        assert!(floor.too_slow(2_000, Duration::from_secs(3)));
        assert!(!floor.too_slow(u64::MAX, LONGEST));
    }

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
    fn a_timeout_before_the_deadline_is_the_connect_or_the_idle_bound() {
        let (idle, connect) = (Duration::from_secs(1), Duration::from_secs(2));
        let deadline = Deadline::start(Duration::from_secs(60), Some(idle));
        let kind = |e| match e {
            Error::Timeout { after, bound } => (bound, after),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            kind(deadline.timed_out(Phase::Connecting { connect })),
            (TimeoutKind::Connect, connect)
        );
        assert_eq!(
            kind(deadline.met(TimeoutKind::Idle)),
            (TimeoutKind::Idle, idle)
        );
        // libcurl's timeout once connected over plain TCP: its total bound.
        assert_eq!(
            kind(deadline.timed_out(Phase::Connected)),
            (TimeoutKind::Total, Duration::from_secs(60))
        );
        // The minimum speed names its period.
        let floor = deadline.with_floor(Some(Floor::new(10, connect)));
        assert_eq!(
            kind(floor.met(TimeoutKind::MinSpeed)),
            (TimeoutKind::MinSpeed, connect)
        );
        // A deadline that has passed is the total bound, whatever the phase.
        let passed = Deadline::start(Duration::ZERO, Some(idle));
        assert_eq!(
            kind(passed.timed_out(Phase::Connecting { connect })),
            (TimeoutKind::Total, Duration::ZERO)
        );
        assert_eq!(
            kind(passed.met(TimeoutKind::Idle)),
            (TimeoutKind::Total, Duration::ZERO)
        );
    }
}
