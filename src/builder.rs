//! [`HttpBuilder`], and the ways to make an [`Http`]: its settings checked into a
//! [`Config`], and the client's live parts (its engine) made from it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::cache::flow::Rules;
use crate::config::{Caching, Config};
use crate::cookies::CookieJar;
use crate::deadline;
use crate::engine::Engine;
use crate::hooks::{HookList, Hooks};
use crate::pool::{WhenFull, WorkerPool};
use crate::redirect::Policy;
use crate::retry::{Retry, RetryBudget};
use crate::sendable;
use crate::transport::Settings;
use crate::transport::connect::{self, ConnectSettings};
use crate::transport::proxy::ProxyInfo;
use crate::transport::tls::TlsSettings;
use crate::{Error, HostLimits, Http, MockTransport};

mod bandwidth;
mod dial;
mod dns;
mod hooks;
mod mock;
mod netrc;
mod stale;
mod timeouts;
mod tls;

/// asynchttp's default number of workers.
const DEFAULT_WORKERS: usize = 5;
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_BODY_SIZE: u64 = 100 << 20;

impl Http {
    /// A client with 5 workers and the defaults of [`HttpBuilder`].
    ///
    /// # Panics
    ///
    /// If the transport cannot be set up; [`Http::builder`] returns that as an error.
    ///
    /// # Examples
    ///
    /// ```
    /// let http = asynchttp::Http::new();
    /// assert_eq!(http.pool().size(), 5);
    /// ```
    #[allow(clippy::new_without_default)] // building can fail; no silent Default
    pub fn new() -> Self {
        match Http::builder().build() {
            Ok(http) => http,
            Err(e) => panic!("asynchttp: {}", e.chain()),
        }
    }

    /// A builder for a configured client.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().workers(2).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn builder() -> HttpBuilder {
        HttpBuilder::default()
    }
}

/// Configures an [`Http`]; get one from [`Http::builder`].
///
/// ```
/// use std::time::Duration;
///
/// let http = asynchttp::Http::builder()
///     .workers(8)
///     .timeout(Duration::from_secs(5))
///     .max_body_size(10 << 20)
///     .user_agent("my-tool/1.0")
///     .build()?;
/// # drop(http);
/// # Ok::<(), asynchttp::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct HttpBuilder {
    workers: usize,
    pool: Option<WorkerPool>,
    queue: Option<(usize, WhenFull)>,
    /// `None` until set: the default applies unless an idle timeout is set alone.
    timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    /// Bytes a second, over a period; checked by `build()`.
    min_speed: Option<(u64, Duration)>,
    connect_timeout: Duration,
    max_body_size: u64,
    user_agent: String,
    redirects: Policy,
    force_exception_to_status_code: bool,
    tls: TlsSettings,
    proxy: Option<ProxyInfo>,
    /// Where connections go and how fast, as given; checked by `build()`.
    connect: connect::Asked,
    cache: Option<CacheChoice>,
    ignore_etag: bool,
    stale_if_error: Option<Duration>,
    cookies: Option<JarChoice>,
    retry: Option<Retry>,
    retry_budget: RetryBudget,
    per_host: HostLimits,
    timings: bool,
    /// Answers every exchange in place of the network, when set.
    mock: Option<MockTransport>,
    hooks: HookList,
    /// The `.netrc` to read when the client is built, if any.
    netrc: Option<crate::netrc::Source>,
}

/// Where the builder's cookie jar comes from.
#[derive(Debug, Clone)]
enum JarChoice {
    /// A new empty jar for each client built.
    Fresh,
    Given(CookieJar),
}

/// Where the builder's cache comes from.
#[derive(Clone)]
enum CacheChoice {
    Dir(PathBuf),
    Store(Arc<dyn Cache>),
}

impl fmt::Debug for CacheChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheChoice::Dir(dir) => write!(f, "Dir({})", dir.display()),
            CacheChoice::Store(_) => f.write_str("Store(..)"),
        }
    }
}

impl Default for HttpBuilder {
    fn default() -> Self {
        HttpBuilder {
            workers: DEFAULT_WORKERS,
            pool: None,
            queue: None,
            timeout: None,
            idle_timeout: None,
            min_speed: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            user_agent: concat!("asynchttp/", env!("CARGO_PKG_VERSION")).to_owned(),
            redirects: Policy::default(),
            force_exception_to_status_code: false,
            tls: TlsSettings::default(),
            proxy: None,
            connect: connect::Asked::default(),
            cache: None,
            ignore_etag: false,
            stale_if_error: None,
            cookies: None,
            retry: None,
            retry_budget: RetryBudget::default(),
            per_host: HostLimits::new(),
            timings: false,
            mock: None,
            hooks: HookList::default(),
            netrc: None,
        }
    }
}

impl HttpBuilder {
    /// The number of worker threads, started on demand (default 5, as asynchttp). Also the
    /// connection limit, in total and per host.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().workers(8).build()?;
    /// assert_eq!(http.pool().size(), 8);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// Runs requests on a shared [`WorkerPool`] instead of a pool of this client's own.
    ///
    /// ```
    /// let pool = asynchttp::WorkerPool::new(4);
    /// let http = asynchttp::Http::builder().pool(pool.clone()).build()?;
    /// assert_eq!(http.pool().size(), 4);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn pool(mut self, pool: WorkerPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Bounds this client's queue to `capacity` requests waiting for a worker; a request
    /// that finds it full waits or fails as `when_full` says (see [`WorkerPool::bounded`]).
    /// The queue is unbounded by default. A shared pool is bounded where it is made, so
    /// this together with [`pool`](Self::pool) is refused by `build()`.
    ///
    /// ```
    /// use asynchttp::{Http, WhenFull};
    ///
    /// let http = Http::builder().workers(8).queue_limit(100, WhenFull::Fail).build()?;
    /// assert_eq!(http.pool().capacity(), Some(100));
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn queue_limit(mut self, capacity: usize, when_full: WhenFull) -> Self {
        self.queue = Some((capacity, when_full));
        self
    }

    /// Sends each request again after a failure or a retryable status, as `retry` says;
    /// see [`Retry`] for what is retried, the waits and the deadline they count against.
    /// Off by default, as in httplib2.
    ///
    /// [`Request::retry`](crate::Request::retry) sets a policy for one request, in place of
    /// the client's; [`Retry::none()`] there opts that request out.
    ///
    /// ```
    /// use asynchttp::{Http, Retry};
    ///
    /// let http = Http::builder().retry(Retry::new(3)).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Limits on each host: how many of its requests run at once, and how many start per
    /// second; see [`HostLimits`]. Default: none, beyond the pool's size.
    ///
    /// A request its host holds back waits in that host's line, holding no thread and no
    /// place in the pool, and never holds up requests to other hosts. The time it waits
    /// does not count against its timeout, which starts when it is let through.
    ///
    /// A text given to [`HostLimits::host`] that names no host makes
    /// [`build`](Self::build) fail with [`Error::Init`].
    ///
    /// ```
    /// use asynchttp::{HostLimits, Http};
    ///
    /// // At most 4 requests at once per host, never more than 10 in a second, fewer while
    /// // a host says 429.
    /// let http = Http::builder()
    ///     .workers(64)
    ///     .per_host(HostLimits::new().in_flight(4).rate(10.0, 1).adaptive(true))
    ///     .build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn per_host(mut self, limits: HostLimits) -> Self {
        self.per_host = limits;
        self
    }

    /// How many retries the client makes at most, as a share of its requests; see
    /// [`RetryBudget`]. Default: a fifth of the requests, beyond a reserve of 10.
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.retry_budget = budget;
        self
    }

    /// The largest body accepted, counted after decompression; a larger one fails with
    /// [`Error::BodyTooLarge`]. Default 100 MiB.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().max_body_size(1 << 20).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// The `User-Agent` sent when a request sets none. Default `asynchttp/<version>`.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().user_agent("my-crawler/1.0").build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn user_agent(mut self, agent: &str) -> Self {
        self.user_agent = agent.to_owned();
        self
    }

    /// Whether redirects are followed at all (default true, as httplib2).
    ///
    /// ```
    /// let http = asynchttp::Http::builder().follow_redirects(false).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.redirects.follow = follow;
        self
    }

    /// Also follow redirects of unsafe methods (POST, PUT, DELETE, ...) with 300, 301, 302
    /// and 307, such as a login form's POST answered with 302; default false, as httplib2,
    /// and then that redirect is the response. 303 and 308 are followed for any method.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().follow_all_redirects(true).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn follow_all_redirects(mut self, follow: bool) -> Self {
        self.redirects.follow_all = follow;
        self
    }

    /// The statuses treated as redirects (httplib2's `redirect_codes`); default 300, 301,
    /// 302, 303, 307 and 308.
    ///
    /// ```
    /// // Follow everything but 301.
    /// let http = asynchttp::Http::builder().redirect_codes([300, 302, 303, 307, 308]).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn redirect_codes(mut self, codes: impl IntoIterator<Item = u16>) -> Self {
        self.redirects.codes = codes.into_iter().collect();
        self
    }

    /// Send `Authorization`, `Cookie` and `Proxy-Authorization` headers to the other
    /// origins a redirect leads to. Default false: they go only to the origin (scheme, host
    /// and port) of the URL the request was made for. This is about the headers the caller
    /// sets; a [`CookieJar`]'s cookies go where the jar's rules say, whatever this says.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().forward_authorization_headers(true).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn forward_authorization_headers(mut self, forward: bool) -> Self {
        self.redirects.forward_authorization = forward;
        self
    }

    /// Turn failures into synthetic responses, as httplib2's flag does: a timeout becomes
    /// 408, a redirect error 500 (with the redirect's body and `previous` chain), a body
    /// that cannot be decompressed 500 (with the response's headers), any other
    /// transport failure 400 with the error as its body. Callback and hook errors, and requests
    /// refused before they were queued, stay errors. Default false.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().force_exception_to_status_code(true).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn force_exception_to_status_code(mut self, force: bool) -> Self {
        self.force_exception_to_status_code = force;
        self
    }

    /// Cache responses in this directory, as httplib2's `Http(".cache")` does, by RFC
    /// 9111's rules for a private cache: fresh entries are answered without the network,
    /// stale ones revalidated (or, within `stale-while-revalidate`, answered and refreshed
    /// afterwards; within `stale-if-error`, answered when the origin fails: see
    /// [`stale_if_error`](Self::stale_if_error)), and an unsafe method's response invalidates its URL's entry. A GET whose entry is fresh is answered on the
    /// thread that makes it (one small file read) and its pair is ready at once. A directory
    /// that cannot be used turns caching off with one warning in the log; requests still
    /// work.
    ///
    /// ```no_run
    /// let http = asynchttp::Http::builder().cache(".cache").build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = Some(CacheChoice::Dir(dir.into()));
        self
    }

    /// Cache responses in any [`Cache`], such as a [`MemoryCache`](crate::MemoryCache) or
    /// one shared by several clients.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use asynchttp::{Http, MemoryCache};
    ///
    /// let http = Http::builder().cache_store(Arc::new(MemoryCache::new())).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn cache_store(mut self, store: Arc<dyn Cache>) -> Self {
        self.cache = Some(CacheChoice::Store(store));
        self
    }

    /// Never send a cached `ETag` back: no `If-None-Match` when revalidating and no
    /// `If-Match` on PUT and PATCH (httplib2's `ignore_etag`). Default false.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().cache_store(std::sync::Arc::new(asynchttp::MemoryCache::new())).ignore_etag(true).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn ignore_etag(mut self, ignore: bool) -> Self {
        self.ignore_etag = ignore;
        self
    }

    /// Keep cookies: `true` gives the client a new, empty [`CookieJar`] (each client built
    /// gets its own), `false` (the default, as httplib2 keeps none) keeps none and drops a
    /// jar given with [`cookie_jar`](Self::cookie_jar). `true` after `cookie_jar` keeps the
    /// jar given. [`Http::cookie_jar`] gives the jar back, to look at or to save.
    ///
    /// What a client with a jar stores, sends and saves, on redirects and with the cache:
    /// [`guide::cookies`](crate::guide::cookies).
    ///
    /// ```
    /// let http = asynchttp::Http::builder().cookies(true).build()?;
    /// assert!(http.cookie_jar().is_some_and(|jar| jar.is_empty()));
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn cookies(mut self, keep: bool) -> Self {
        self.cookies = match (keep, self.cookies) {
            (false, _) => None,
            (true, None) => Some(JarChoice::Fresh),
            (true, Some(choice)) => Some(choice),
        };
        self
    }

    /// Keep cookies in this jar: one loaded from a file ([`CookieJar::load_json`]), or one
    /// that other clients share. The client uses the jar as
    /// [`cookies(true)`](Self::cookies) describes; keep a clone of it to look at or save
    /// its cookies while the client runs.
    ///
    /// ```
    /// use asynchttp::{CookieJar, Http};
    ///
    /// let jar = CookieJar::new();
    /// jar.add("http://127.0.0.1:8080/", "session=abc; Path=/")?;
    /// let http = Http::builder().cookie_jar(jar.clone()).build()?;
    /// assert_eq!(http.cookie_jar().map(CookieJar::len), Some(1));
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn cookie_jar(mut self, jar: CookieJar) -> Self {
        self.cookies = Some(JarChoice::Given(jar));
        self
    }

    /// Whether each exchange's phases are measured: [`Timings`]'s `resolve`, `connect` and
    /// `tls` in every [`Response::timings`](crate::Response::timings), from libcurl's own
    /// clocks. Off by default: to publish them libcurl calls a progress callback during
    /// each transfer, which cost 4% of the requests per second of a batch of 100,000 small
    /// bodies (`cargo bench --bench batch`, on and off in turns; up to 13% in noisier
    /// runs). The time queued, waiting for the host, to the first byte and in total are
    /// measured either way.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().timings(true).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    ///
    /// [`Timings`]: crate::Timings
    pub fn timings(mut self, measure: bool) -> Self {
        self.timings = measure;
        self
    }

    /// Builds the client. No worker starts until the first request.
    ///
    /// # Errors
    ///
    /// [`Error::Init`] if `workers` is 0, a timeout is zero, the `ca_certs` file does not
    /// exist, a [`HostLimits::host`] names no host, a `.netrc` to read cannot be read or
    /// has a mistake ([`netrc`](Self::netrc)), an entry of [`resolve`](Self::resolve) or
    /// [`connect_to`](Self::connect_to) or a [`unix_socket`](Self::unix_socket)'s path is
    /// refused, or the transport cannot be set up.
    ///
    /// # Examples
    ///
    /// ```
    /// let refused = asynchttp::Http::builder().workers(0).build();
    /// assert!(matches!(refused, Err(asynchttp::Error::Init { .. })));
    /// ```
    pub fn build(self) -> Result<Http, Error> {
        let config = self.config()?;
        // What the caller gave to share with the client; the settings say whether to.
        let store = match self.cache {
            Some(CacheChoice::Store(store)) => Some(store),
            _ => None,
        };
        let jar = match self.cookies {
            Some(JarChoice::Given(jar)) => Some(jar),
            _ => None,
        };
        let (pool, owns_pool) = match (self.pool, self.queue) {
            (Some(shared), _) => (shared, false),
            (None, None) => (WorkerPool::new(self.workers), true),
            (None, Some((capacity, when_full))) => {
                (WorkerPool::bounded(self.workers, capacity, when_full), true)
            }
        };
        let engine = Engine::new(config, store, jar, self.mock, pool.downgrade())?;
        Ok(Http::start(engine, pool, owns_pool))
    }

    /// Every setting checked, and kept as the client follows it; the first refused is
    /// the error. Nothing is made here that would have to be undone.
    fn config(&self) -> Result<Config, Error> {
        let refused = |reason: String| Err(Error::Init { reason });
        if self.workers == 0 && self.pool.is_none() {
            return refused("workers must be at least 1".to_owned());
        }
        if self.pool.is_some() && self.queue.is_some() {
            return refused(
                "queue_limit applies to a client's own pool; bound a shared pool with \
                 WorkerPool::bounded"
                    .to_owned(),
            );
        }
        let timeouts = [self.timeout, self.idle_timeout, Some(self.connect_timeout)];
        let min_speed = match deadline::checked(&timeouts, self.min_speed) {
            Ok(floor) => floor,
            Err(reason) => return refused(reason.to_owned()),
        };
        if let Some(reason) = self.per_host.refused() {
            return refused(format!("per_host: HostLimits::{reason}"));
        }
        if let Some(path) = self.tls.ca_certs.as_ref().filter(|p| !p.is_file()) {
            return refused(format!("ca_certs: no file at {}", path.display()));
        }
        let Some(user_agent) = sendable::value(self.user_agent.trim_matches([' ', '\t'])) else {
            return refused("control character or one outside ASCII in the user agent".to_owned());
        };
        let connect =
            ConnectSettings::checked(&self.connect).map_err(|reason| Error::Init { reason })?;
        let transport = Settings {
            connections: self.pool.as_ref().map_or(self.workers, WorkerPool::size),
            connect_timeout: deadline::honoured(
                self.connect_timeout
                    .min(self.timeout.unwrap_or(deadline::LONGEST)),
            ),
            proxy: self
                .proxy
                .clone()
                .unwrap_or_else(ProxyInfo::from_environment),
            max_body_size: self.max_body_size,
            user_agent,
            tls: self.tls.clone(),
            timings: self.timings,
            connect,
        };
        // Last: the only check that reads a file.
        let netrc = match self
            .netrc
            .as_ref()
            .map(crate::netrc::Source::read)
            .transpose()
        {
            Ok(netrc) => netrc.flatten().map(Arc::new),
            Err(reason) => return refused(reason),
        };
        Ok(Config {
            transport: Arc::new(transport),
            timeout: self.timeout.map(|t| t.min(deadline::LONGEST)),
            idle_timeout: self.idle_timeout,
            min_speed,
            redirects: self.redirects.clone(),
            force_exception_to_status_code: self.force_exception_to_status_code,
            cache: match &self.cache {
                None => Caching::Off,
                Some(CacheChoice::Dir(dir)) => Caching::Dir(dir.clone()),
                Some(CacheChoice::Store(_)) => Caching::Store,
            },
            cache_rules: Rules {
                ignore_etag: self.ignore_etag,
                stale_if_error: self.stale_if_error,
            },
            cookies: self.cookies.is_some(),
            retry: self.retry.clone().filter(|r| r.retries() > 0).map(Arc::new),
            retry_budget: self.retry_budget,
            per_host: self.per_host.clone(),
            hooks: Hooks::new(&self.hooks),
            netrc,
        })
    }
}
