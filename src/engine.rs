//! [`Engine`]: what every request of an `Http` shares on its way through a driver or a
//! worker, behind one `Arc`: its settings ([`Config`]), fixed when it was built, and its
//! live parts: the transport, the credentials, the cache, the retry budget, the host lines
//! and the drain count.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Credentials;
use crate::cache::{Cache, FileCache};
use crate::config::{Caching, Config};
use crate::cookies::CookieJar;
use crate::deadline::{self, Deadline};
use crate::deadline::{DEFAULT_DOWNLOAD_IDLE, DEFAULT_TIMEOUT};
use crate::host_limits::HostLimiter;
use crate::pool::PoolRef;
use crate::redirect::{Network, StoredHops};
use crate::request::{Prepared, Timeouts};
use crate::retry::{Budget, Retry};
use crate::shutdown::Drain;
use crate::transport::Transport;
use crate::{Error, MockTransport, logs};

pub(crate) struct Engine {
    /// Every setting, as the builder checked it; read, never changed.
    pub(crate) config: Config,
    pub(crate) transport: Transport,
    pub(crate) credentials: Credentials,
    /// The store, when the client caches and it could be opened.
    pub(crate) cache: Option<Arc<dyn Cache>>,
    /// Shared by every request of the client, whichever policy it follows.
    pub(crate) budget: Budget,
    /// Where a request goes back to wait for its next attempt.
    pub(crate) pool: PoolRef,
    /// Per-host limits, when the client has any: each request passes them on its way to
    /// the pool.
    pub(crate) limiter: Option<Arc<HostLimiter>>,
    pub(crate) drain: Drain,
}

impl Engine {
    /// The live parts made from `config`, for requests that run on `pool`. The cache
    /// `store` and cookie `jar` are those the caller gave the builder, if any: the client
    /// uses them if `config` says it caches with a store of the caller's and keeps cookies.
    /// A `mock` answers every exchange in place of the network.
    pub(crate) fn new(
        config: Config,
        store: Option<Arc<dyn Cache>>,
        jar: Option<CookieJar>,
        mock: Option<MockTransport>,
        pool: PoolRef,
    ) -> Result<Self, Error> {
        let cookies = config.cookies.then(|| jar.unwrap_or_default());
        let settings = config.transport.clone();
        Ok(Engine {
            transport: Transport::new(settings, cookies, pool.clone(), mock)?,
            credentials: Credentials::new(config.netrc.clone()),
            cache: match &config.cache {
                Caching::Off => None,
                Caching::Store => store,
                Caching::Dir(dir) => files(dir),
            },
            budget: Budget::new(config.retry_budget),
            limiter: HostLimiter::new(config.per_host.clone(), pool.clone()),
            pool,
            drain: Drain::default(),
            config,
        })
    }

    /// What the redirect loop needs, for one request with this deadline.
    pub(crate) fn network(&self, deadline: Deadline) -> Network<'_> {
        Network {
            transport: &self.transport,
            credentials: &self.credentials,
            policy: &self.config.redirects,
            stored: self.cache.as_ref().map(|c| c as &dyn StoredHops),
            deadline,
        }
    }

    /// The retry policy `req` follows: its own, else the client's; `None` for none.
    pub(crate) fn retry_for<'a>(&'a self, req: &'a Prepared) -> Option<&'a Arc<Retry>> {
        match &req.retry {
            Some(own) => (own.retries() > 0).then_some(own),
            None => self.config.retry.as_ref(),
        }
    }

    /// A deadline for a request with its `own` timeouts, or the client's: see [`bounds`].
    pub(crate) fn deadline(&self, own: Timeouts, download: bool) -> Deadline {
        let config = &self.config;
        let floor = own.floor().or(config.min_speed);
        let paced = floor.is_some();
        let (total, idle) = bounds(own, config.timeout, config.idle_timeout, paced, download);
        Deadline::start(total, idle).with_floor(floor)
    }
}

/// A cache in the files of `dir`; none, with a warning in the log, when it cannot be used:
/// requests still work.
fn files(dir: &Path) -> Option<Arc<dyn Cache>> {
    match FileCache::new(dir) {
        Ok(files) => Some(Arc::new(files)),
        Err(e) => {
            logs::warning!(
                "cache: {} cannot be used ({e}); caching is off",
                dir.display()
            );
            None
        }
    }
}

/// The total and idle timeouts of a request with its `own` timeouts, on a client with
/// these: the request's own first, then the client's. A total timeout applies when the
/// request or the client set one, or when neither set an idle timeout nor a minimum speed
/// (`paced`) ([`DEFAULT_TIMEOUT`]); a bound on progress set alone means no total one
/// ([`LONGEST`](deadline::LONGEST)).
///
/// A download, or an upload of a body read as it is sent (`download`: a body streamed
/// either way), with no total timeout set anywhere gets [`DEFAULT_DOWNLOAD_IDLE`] unless an
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
