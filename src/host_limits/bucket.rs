//! A host's token bucket: how fast its requests may start, and how an adaptive rate slows
//! down on a 429 or 503 and speeds up again.
//!
//! The bucket is kept as the time its next token is due (the "generic cell rate algorithm"
//! of ATM networks): whole nanoseconds, so it never drifts, and a long idle time or a huge
//! rate cannot overflow it.

use std::time::{Duration, Instant};

/// The longest gap between two requests of a host that a rate can set.
const SLOWEST: Duration = Duration::from_secs(24 * 60 * 60);

/// How long after its last slowdown a host must answer well before its rate is raised.
pub(super) const RECOVERY: Duration = Duration::from_secs(1);

/// A slowed host left alone this long after its last slowdown, its bucket full, starts
/// afresh at the configured rate: otherwise every host that ever answered 429 would keep
/// an entry for good.
pub(super) const FORGET: Duration = Duration::from_secs(60);

/// The gap between two requests at `per_second` (positive and finite): rounded up to
/// whole nanoseconds, so the rate is never exceeded, and at most [`SLOWEST`].
pub(super) fn gap(per_second: f64) -> Duration {
    // 1e9 / per_second is positive (or +inf), never NaN; `as` saturates.
    let nanos = (1e9 / per_second).ceil().min(SLOWEST.as_nanos() as f64);
    Duration::from_nanos((nanos as u64).max(1))
}

/// `t + d`, or `t` on an overflow, which the bounds above rule out: every instant the lines
/// compute lies within `burst` times a day of the caller's clock.
pub(super) fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d).unwrap_or(t)
}

/// A host's token bucket, kept as the time its next token is due (`due`): a request may
/// start when `due` is at most `burst - 1` gaps ahead of now, and each request that starts
/// moves `due` one gap on. A `due` in the past is a full bucket.
pub(super) struct Bucket {
    due: Instant,
    /// The gap between two requests now: the configured one, or longer while slowed.
    gap: Duration,
    /// The last 429 or 503, while the host is slowed.
    slowed_at: Option<Instant>,
}

impl Bucket {
    /// A full bucket, a request every `gap`.
    pub(super) fn new(now: Instant, gap: Duration) -> Self {
        Bucket {
            due: now,
            gap,
            slowed_at: None,
        }
    }

    /// How far ahead of now `due` may be for a request to start.
    fn slack(&self, burst: u32) -> Duration {
        self.gap.saturating_mul(burst - 1)
    }

    /// When a token is there: `now` when one is there already.
    pub(super) fn ready_at(&self, now: Instant, burst: u32) -> Instant {
        let ahead = self.due.saturating_duration_since(now);
        later(now, ahead.saturating_sub(self.slack(burst)))
    }

    pub(super) fn take(&mut self, now: Instant) {
        self.due = later(self.due.max(now), self.gap);
    }

    /// A 429 or 503: half the rate, down to `slowest`, and an empty bucket, so that the
    /// next request starts one new gap from now at the earliest, or at `resume`.
    pub(super) fn slow(&mut self, now: Instant, resume: Instant, slowest: Duration, burst: u32) {
        self.gap = self.gap.saturating_mul(2).min(slowest).max(self.gap);
        self.slowed_at = Some(now);
        let next = later(now, self.gap).max(resume);
        self.due = self.due.max(later(next, self.slack(burst)));
    }

    /// A success: twice the rate, up to the configured one, if the last slowdown is
    /// [`RECOVERY`] old. The tokens in the bucket stay as they are; those still to come
    /// come at the new rate.
    pub(super) fn recover(&mut self, now: Instant, configured: Duration) {
        let Some(slowed_at) = self.slowed_at else {
            return;
        };
        if now.saturating_duration_since(slowed_at) < RECOVERY {
            return;
        }
        let gap = (self.gap / 2).max(configured);
        // The ratio is at most 1, so the product never overflows.
        let ahead = self.due.saturating_duration_since(now);
        let ratio = gap.as_secs_f64() / self.gap.as_secs_f64();
        self.due = later(now, ahead.mul_f64(ratio));
        self.gap = gap;
        if gap == configured {
            self.slowed_at = None;
        }
    }

    /// Nothing here a fresh bucket would not say: it is full, and any slowdown is
    /// [`FORGET`] old.
    pub(super) fn rested(&self, now: Instant) -> bool {
        self.due <= now
            && self
                .slowed_at
                .is_none_or(|at| now.saturating_duration_since(at) >= FORGET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_rounds_up_within_a_nanosecond_and_a_day() {
        assert_eq!(gap(2.0), Duration::from_millis(500));
        assert_eq!(gap(3.0), Duration::from_nanos(333_333_334));
        assert_eq!(gap(1e12), Duration::from_nanos(1));
        assert_eq!(gap(f64::MAX), Duration::from_nanos(1));
        assert_eq!(gap(f64::MIN_POSITIVE), SLOWEST);
    }
}
