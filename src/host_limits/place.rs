//! A request's place in its host's line ([`HostPlace`]): it counts against its host from
//! the moment it is let through until its job is done, run or not; its place is given back
//! with how it ended ([`outcome`]), which an adaptive rate listens to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::limiter::HostLimiter;
use super::lines::Outcome;
use crate::exchange::Exchange;
use crate::retry;

/// A request's place with its host, from its submission until its job is done: in line,
/// then let through and counted against its host.
pub(crate) struct HostPlace {
    limiter: Arc<HostLimiter>,
    /// `host:port`, as [`origin::authority`](crate::origin::authority) names it.
    key: Box<str>,
    /// The request's id: a fleet sharing limits names its lease by it.
    id: u64,
    /// When it joined the line, and when it was let through.
    joined: Instant,
    admitted: Option<Instant>,
    /// Time in line over every attempt.
    waited: Duration,
}

impl HostPlace {
    pub(crate) fn new(limiter: &Arc<HostLimiter>, key: String, id: u64) -> Box<Self> {
        Box::new(HostPlace {
            limiter: limiter.clone(),
            key: key.into(),
            id,
            joined: Instant::now(),
            admitted: None,
            waited: Duration::ZERO,
        })
    }

    pub(crate) fn limiter(&self) -> &Arc<HostLimiter> {
        &self.limiter
    }

    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Its host let it through.
    pub(crate) fn admitted(&mut self) {
        let now = Instant::now();
        self.waited += now.saturating_duration_since(self.joined);
        self.admitted = Some(now);
    }

    /// How long it waited for its host, over every attempt.
    pub(crate) fn waited(&self) -> Duration {
        self.waited
    }

    /// The attempt ended as `outcome`: the place goes to the next in line. The request
    /// joins the line again, from `at`, if it is sent again.
    pub(crate) fn leave(&mut self, outcome: Outcome, at: Instant) {
        if self.admitted.take().is_some() {
            self.limiter.leave(&self.key, self.id, outcome);
        }
        self.joined = at;
    }
}

impl Drop for HostPlace {
    /// A job dropped unrun, or failed, gives back the place it was let through to.
    fn drop(&mut self) {
        if self.admitted.take().is_some() {
            self.limiter.leave(&self.key, self.id, Outcome::Failed);
        }
    }
}

/// How an attempt ended, as its host's pace sees it: a 429 or 503 slows an adaptive rate,
/// for its `Retry-After` when it says one. A stale stored response given in place of the
/// host's failure (`stale-if-error`) counts as that failure.
pub(crate) fn outcome<E>(result: &Result<Exchange, E>) -> Outcome {
    let Ok(exchange) = result else {
        return Outcome::Failed;
    };
    // A stale stored answer in place of the origin's failure: the host hears the failure.
    let response = match exchange.response.stale_on_error() {
        Some(stale) => match stale.response() {
            Some(origin) => origin,
            None => return Outcome::Failed,
        },
        None => &exchange.response,
    };
    match retry::slows_down(response.status) {
        true => Outcome::Slowed {
            retry_after: retry::asked_wait(response),
        },
        false => Outcome::Success,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{Cause, StaleOnError};
    use crate::retry::tests::answer;

    #[test]
    fn a_429_or_503_slows_its_host_for_its_retry_after() {
        let slowed = |status, retry_after| {
            let (response, content) = (answer(status, retry_after), Vec::new());
            outcome::<()>(&Ok(Exchange { response, content }))
        };
        let retry_after = Some(Duration::from_secs(3));
        assert_eq!(slowed(429, Some("3")), Outcome::Slowed { retry_after });
        assert_eq!(slowed(503, None), Outcome::Slowed { retry_after: None });
        assert_eq!(slowed(502, Some("3")), Outcome::Success);
        assert_eq!(outcome::<()>(&Err(())), Outcome::Failed);
    }

    #[test]
    fn a_stale_answer_in_place_of_a_failure_counts_as_the_failure() {
        let stale = |cause| {
            let mut response = answer(200, None);
            response.set_stale_on_error(StaleOnError::new(cause, Duration::ZERO));
            outcome::<()>(&Ok(Exchange {
                response,
                content: Vec::new(),
            }))
        };
        let retry_after = Some(Duration::from_secs(3));
        let slowed = Cause::Status(Box::new(answer(503, Some("3"))));
        assert_eq!(stale(slowed), Outcome::Slowed { retry_after });
        let closed = Cause::Failed(Arc::new(crate::Error::Closed));
        assert_eq!(stale(closed), Outcome::Failed);
        assert_eq!(
            stale(Cause::Status(Box::new(answer(500, None)))),
            Outcome::Success
        );
    }
}
