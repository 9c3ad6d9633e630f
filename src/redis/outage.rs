//! While Redis does not answer: the state that makes a call skip Redis for a while after a
//! failure, and logs each outage once.
//!
//! A call that fails for want of Redis (refused, reset, timed out, a cluster that is down)
//! opens a pause of [`PAUSE`]: calls in it are not tried, so that a Redis that is away
//! costs a request nothing rather than a timeout each time. The first call after the pause
//! tries again. The first failure of an outage is logged at warn with its error ("is
//! away"); the first success after it at info, "is back", with how long it was away and how many calls
//! went without it. An error that Redis itself answers (out of memory, a wrong type) fails
//! that call only, opens no pause, and is logged the same way. Outages closer together than
//! [`QUIET`] are logged at debug after the first, so a Redis that comes and goes does not
//! fill the log.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{logs, sync};

/// How long calls skip Redis after it failed to answer.
pub(crate) const PAUSE: Duration = Duration::from_secs(1);

/// The least time between two outages logged at warn.
const QUIET: Duration = Duration::from_secs(60);

/// The health of one Redis, as its calls have found it.
#[derive(Debug, Default)]
pub(crate) struct Outage {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Since when calls have failed, if they do now.
    down_since: Option<Instant>,
    /// Calls that went without Redis in this outage: failed or skipped.
    missed: u64,
    /// Until when calls are skipped.
    paused_until: Option<Instant>,
    /// When an outage was last logged at warn.
    warned: Option<Instant>,
}

impl Outage {
    /// True if a call may try Redis now; false within a pause, and the call is counted as
    /// one that went without it.
    pub(crate) fn may_try(&self) -> bool {
        let mut state = sync::lock(&self.state);
        match state.paused_until {
            Some(until) if Instant::now() < until => {
                state.missed += 1;
                false
            }
            _ => true,
        }
    }

    /// Whether Redis is away: a call failed for want of it, or by an answer of its, and
    /// none has succeeded since.
    pub(crate) fn is_down(&self) -> bool {
        sync::lock(&self.state).down_since.is_some()
    }

    /// A call failed with `error`; `unreachable`: for want of Redis, not by its answer.
    pub(crate) fn failed(&self, server: &str, error: &dyn std::fmt::Display, unreachable: bool) {
        let now = Instant::now();
        let mut state = sync::lock(&self.state);
        state.missed += 1;
        if unreachable {
            state.paused_until = Some(now + PAUSE);
        }
        if state.down_since.is_some() {
            return;
        }
        state.down_since = Some(now);
        if state
            .warned
            .is_some_and(|at| now.duration_since(at) < QUIET)
        {
            logs::debug!("redis {server} is away again ({error}): going on without it");
            return;
        }
        state.warned = Some(now);
        logs::warning!(
            "redis {server} is away ({error}): going on without it (tried again every {}s), logged once until it answers",
            PAUSE.as_secs()
        );
    }

    /// A call succeeded: the end of an outage, if there was one.
    pub(crate) fn answered(&self, server: &str) {
        let mut state = sync::lock(&self.state);
        let Some(since) = state.down_since.take() else {
            return;
        };
        let missed = std::mem::take(&mut state.missed);
        state.paused_until = None;
        logs::info!(
            "redis {server} is back after {:.1?}; {missed} calls went without it",
            since.elapsed()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> redis::RedisError {
        redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
    }

    #[test]
    fn a_failure_pauses_calls_and_a_success_ends_the_outage() {
        let outage = Outage::default();
        assert!(outage.may_try());
        outage.failed("127.0.0.1:1", &refused(), true);
        assert!(!outage.may_try(), "paused");
        assert!(!outage.may_try());
        {
            let state = sync::lock(&outage.state);
            assert_eq!(state.missed, 3);
            assert!(state.down_since.is_some());
        }
        // The pause over: one call tries, and its success ends the outage.
        sync::lock(&outage.state).paused_until = Some(Instant::now());
        assert!(outage.may_try());
        outage.answered("127.0.0.1:1");
        let state = sync::lock(&outage.state);
        assert_eq!(
            (state.down_since, state.missed, state.paused_until),
            (None, 0, None)
        );
    }

    #[test]
    fn an_answered_error_pauses_nothing() {
        let outage = Outage::default();
        let oom = redis::RedisError::from((redis::ErrorKind::Client, "OOM"));
        outage.failed("127.0.0.1:1", &oom, false);
        assert!(outage.may_try());
        assert!(sync::lock(&outage.state).down_since.is_some());
    }

    #[test]
    fn outages_close_together_warn_once() {
        let outage = Outage::default();
        outage.failed("s", &refused(), true);
        let first = sync::lock(&outage.state).warned;
        outage.answered("s");
        outage.failed("s", &refused(), true);
        assert_eq!(
            sync::lock(&outage.state).warned,
            first,
            "the second is not warned"
        );
    }
}
