//! What every request of an `Http` shares on its way through a worker, behind one `Arc`:
//! the transport, the credentials, the redirect policy, the cache and the drain count.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Credentials;
use crate::cache::Cache;
use crate::deadline::{self, Deadline, Floor};
use crate::deadline::{DEFAULT_DOWNLOAD_IDLE, DEFAULT_TIMEOUT};
use crate::host_limits::HostLimiter;
use crate::pool::PoolRef;
use crate::redirect::{Network, Policy, StoredHops};
use crate::request::{Prepared, Timeouts};
use crate::retry::{Budget, Retry};
use crate::shutdown::Drain;
use crate::transport::Transport;

pub(crate) struct Client {
    pub(crate) transport: Transport,
    pub(crate) credentials: Credentials,
    pub(crate) redirects: Policy,
    pub(crate) cache: Option<Arc<dyn Cache>>,
    pub(crate) ignore_etag: bool,
    pub(crate) force_exception_to_status_code: bool,
    /// A request's whole budget, unless it sets its own; see [`Deadline`]. `None` when the
    /// builder set none: then [`DEFAULT_TIMEOUT`], unless the request has an idle timeout.
    pub(crate) timeout: Option<Duration>,
    /// How long each exchange may receive nothing, unless the request sets its own.
    pub(crate) idle_timeout: Option<Duration>,
    /// The speed each exchange's body must keep up, unless the request sets its own.
    pub(crate) min_speed: Option<Floor>,
    /// What a request without a retry policy of its own follows; `None` for no retries.
    pub(crate) retry: Option<Arc<Retry>>,
    /// Shared by every request of the client, whichever policy it follows.
    pub(crate) budget: Budget,
    /// Where a request goes back to wait for its next attempt.
    pub(crate) pool: PoolRef,
    /// Per-host limits, when the client has any: each request passes them on its way to
    /// the pool.
    pub(crate) limiter: Option<Arc<HostLimiter>>,
    pub(crate) drain: Drain,
}

impl Client {
    /// What the redirect loop needs, for one request with this deadline.
    pub(crate) fn network(&self, deadline: Deadline) -> Network<'_> {
        Network {
            transport: &self.transport,
            credentials: &self.credentials,
            policy: &self.redirects,
            stored: self.cache.as_ref().map(|c| c as &dyn StoredHops),
            deadline,
        }
    }

    /// The retry policy `req` follows: its own, else the client's; `None` for none.
    pub(crate) fn retry_for<'a>(&'a self, req: &'a Prepared) -> Option<&'a Arc<Retry>> {
        match &req.retry {
            Some(own) => (own.retries() > 0).then_some(own),
            None => self.retry.as_ref(),
        }
    }

    /// A deadline for a request with its `own` timeouts, or the client's: see [`bounds`].
    pub(crate) fn deadline(&self, own: Timeouts, download: bool) -> Deadline {
        let floor = own.floor().or(self.min_speed);
        let paced = floor.is_some();
        let (total, idle) = bounds(own, self.timeout, self.idle_timeout, paced, download);
        Deadline::start(total, idle).with_floor(floor)
    }
}

/// The total and idle timeouts of a request with its `own` timeouts, on a client with
/// these: the request's own first, then the client's. A total timeout applies when the
/// request or the client set one, or when neither set an idle timeout nor a minimum speed
/// (`paced`) ([`DEFAULT_TIMEOUT`]); a bound on progress set alone means no total one
/// ([`LONGEST`](deadline::LONGEST)).
///
/// A download with no total timeout set anywhere gets [`DEFAULT_DOWNLOAD_IDLE`] unless an
/// idle timeout is set: its length says nothing of whether it is stuck, silence does (as
/// curl's `--speed-time` and wget's `--read-timeout` bound one).
fn bounds(
    own: Timeouts,
    total: Option<Duration>,
    idle: Option<Duration>,
    paced: bool,
    download: bool,
) -> (Duration, Option<Duration>) {
    let total = own.total().or(total);
    let idle = match own.idle().or(idle) {
        None if download && total.is_none() => Some(DEFAULT_DOWNLOAD_IDLE),
        idle => idle,
    };
    let total = match total {
        Some(total) => total,
        None if idle.is_some() || paced => deadline::LONGEST,
        None => DEFAULT_TIMEOUT,
    };
    (total, idle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Request;

    fn own(req: Request) -> Timeouts {
        req.prepare("http://h/").unwrap().timeouts
    }

    #[test]
    fn an_idle_timeout_alone_lifts_the_default_total_one() {
        let (s, none) = (Duration::from_secs, None);
        let plain = || Request::get("http://h/");
        // The default stays: 30 s, no idle bound.
        assert_eq!(
            bounds(own(plain()), none, none, false, false),
            (DEFAULT_TIMEOUT, None)
        );
        // Idle alone, on the client or the request: no total.
        assert_eq!(
            bounds(own(plain()), none, Some(s(5)), false, false),
            (deadline::LONGEST, Some(s(5)))
        );
        assert_eq!(
            bounds(own(plain().idle_timeout(s(5))), none, none, false, false),
            (deadline::LONGEST, Some(s(5)))
        );
        // Both set, wherever: both apply.
        assert_eq!(
            bounds(own(plain()), Some(s(60)), Some(s(5)), false, false),
            (s(60), Some(s(5)))
        );
        assert_eq!(
            bounds(
                own(plain().idle_timeout(s(5))),
                Some(s(60)),
                none,
                false,
                false
            ),
            (s(60), Some(s(5)))
        );
        assert_eq!(
            bounds(own(plain().timeout(s(9))), none, Some(s(5)), false, false),
            (s(9), Some(s(5)))
        );
        // The request's own win over the client's.
        assert_eq!(
            bounds(
                own(plain().timeout(s(9)).idle_timeout(s(2))),
                Some(s(60)),
                Some(s(5)),
                false,
                false
            ),
            (s(9), Some(s(2)))
        );
    }

    #[test]
    fn a_download_is_bounded_by_silence_unless_a_total_timeout_is_set() {
        let (s, none) = (Duration::from_secs, None);
        let plain = || Request::get("http://h/");
        // Nothing set: no total bound, the download's idle one.
        assert_eq!(
            bounds(own(plain()), none, none, false, true),
            (deadline::LONGEST, Some(DEFAULT_DOWNLOAD_IDLE))
        );
        // An idle timeout set anywhere is the one it follows.
        assert_eq!(
            bounds(own(plain()), none, Some(s(5)), false, true),
            (deadline::LONGEST, Some(s(5)))
        );
        assert_eq!(
            bounds(own(plain().idle_timeout(s(2))), none, none, false, true),
            (deadline::LONGEST, Some(s(2)))
        );
        // A total timeout set anywhere applies, as the caller asked, without an idle one.
        assert_eq!(
            bounds(own(plain()), Some(s(60)), none, false, true),
            (s(60), None)
        );
        assert_eq!(
            bounds(own(plain().timeout(s(9))), none, none, false, true),
            (s(9), None)
        );
    }

    #[test]
    fn a_minimum_speed_alone_lifts_the_default_total_timeout() {
        let (s, none) = (Duration::from_secs, None);
        let plain = || Request::get("http://h/");
        assert_eq!(
            bounds(own(plain()), none, none, true, false),
            (deadline::LONGEST, None)
        );
        assert_eq!(
            bounds(own(plain()), Some(s(60)), none, true, false),
            (s(60), None)
        );
        // A download keeps its idle bound beside it.
        assert_eq!(
            bounds(own(plain()), none, none, true, true),
            (deadline::LONGEST, Some(DEFAULT_DOWNLOAD_IDLE))
        );
    }
}
