//! One deadline per request: every redirect hop, 401 retry and revalidation of a request
//! share it, as curl's `CURLOPT_TIMEOUT` and Go's `Client.Timeout` cover a whole chain.
//! Beside it, an optional idle bound that each exchange gets whole, and the error that
//! names which of the bounds ran out.

use std::time::{Duration, Instant};

use crate::{Error, TimeoutKind};

/// A request's total timeout when neither it nor its client set one, and neither set an
/// idle timeout instead.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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

/// How far an exchange that libcurl ended with a timeout had got, as far as can be told:
/// libcurl reports every one of its bounds with the same code, and isahc keeps none of its
/// text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Still connecting (no connection was made): only the connect bound could end it.
    Connecting { connect: Duration },
    /// Connected (its head had arrived, or a plain connection was made): only the idle
    /// bound could end it.
    Connected,
    /// Connected, but maybe still in a TLS handshake or a proxy's handshake, after
    /// `elapsed`: the clock tells.
    Either {
        connect: Duration,
        elapsed: Duration,
    },
}

/// The connect timeout fires on time, within this; an idle timeout can fire later.
const ON_TIME: Duration = Duration::from_millis(250);

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

    /// The error of an exchange libcurl ended with a timeout, as far as it had got. A
    /// deadline that has passed is the total bound. Otherwise, in a handshake that may or
    /// may not be over, the clock tells: libcurl's connect timeout fires on time, the
    /// connect time after the exchange began, and the idle timeout never does before it
    /// could (it needs a connection) and most often later; so an end on time is the
    /// connect timeout, and any other the idle timeout.
    pub(crate) fn timed_out(&self, phase: Phase) -> Error {
        if Instant::now() + SLACK >= self.at {
            return self.expired();
        }
        let connecting = |after| Error::Timeout {
            after,
            bound: TimeoutKind::Connect,
        };
        let Some(idle) = self.idle else {
            return match phase {
                Phase::Connecting { connect } | Phase::Either { connect, .. } => {
                    connecting(connect)
                }
                Phase::Connected => self.expired(),
            };
        };
        let idling = Error::Timeout {
            after: idle,
            bound: TimeoutKind::Idle,
        };
        match phase {
            Phase::Connecting { connect } => connecting(connect),
            Phase::Connected => idling,
            Phase::Either { connect, elapsed } => {
                // Too early for the connect timeout, or too late for it to be on time.
                if elapsed + SLACK < connect || elapsed >= connect + ON_TIME {
                    idling
                } else {
                    connecting(connect)
                }
            }
        }
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
    fn a_timeout_before_the_deadline_is_the_idle_or_the_connect_bound() {
        let (idle, connect) = (Duration::from_secs(1), Duration::from_secs(2));
        let deadline = Deadline::start(Duration::from_secs(60), Some(idle));
        let kind = |phase| match deadline.timed_out(phase) {
            Error::Timeout { after, bound } => (bound, after),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            kind(Phase::Connecting { connect }),
            (TimeoutKind::Connect, connect)
        );
        assert_eq!(kind(Phase::Connected), (TimeoutKind::Idle, idle));
        let either = |ms| Phase::Either {
            connect,
            elapsed: Duration::from_millis(ms),
        };
        // Before the connect timeout could fire, and long after it would have.
        assert_eq!(kind(either(1_200)), (TimeoutKind::Idle, idle));
        assert_eq!(kind(either(3_500)), (TimeoutKind::Idle, idle));
        // On time for the connect timeout.
        assert_eq!(kind(either(2_010)), (TimeoutKind::Connect, connect));
        // Without an idle bound, a handshake can only end at the connect bound.
        let no_idle = Deadline::start(Duration::from_secs(60), None);
        assert!(matches!(
            no_idle.timed_out(either(900)),
            Error::Timeout {
                bound: TimeoutKind::Connect,
                ..
            }
        ));
        // A deadline that has passed is the total bound, whatever the phase.
        let passed = Deadline::start(Duration::ZERO, Some(idle));
        assert!(matches!(
            passed.timed_out(Phase::Connecting { connect }),
            Error::Timeout {
                bound: TimeoutKind::Total,
                ..
            }
        ));
    }
}
