//! `Http`, its builder, and how a request becomes a job on the pool.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use isahc::HttpClient;
use isahc::http::HeaderValue;
use isahc::http::Method;
use once_cell::sync::OnceCell;
use url::Url;

use crate::auth::Credentials;
use crate::cache::flow;
use crate::cache::{Cache, FileCache};
use crate::deadline::{self, Deadline};
use crate::forced;
use crate::lazy::{self, Exchange, Lazy, LazyContent, LazyResponse, Origin, Promise, Slot};
use crate::logs;
use crate::pool::{self, Job, WhenFull, WorkerPool};
use crate::proxy::ProxyInfo;
use crate::redirect::{self, Policy};
use crate::request::Prepared;
use crate::sync;
use crate::tls::{Certificates, TlsSettings, TlsVersion};
use crate::transport::{self, Limits};
use crate::{Error, Request, Response, uri};

/// asynchttp's default number of workers.
const DEFAULT_WORKERS: usize = 5;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_BODY_SIZE: u64 = 100 << 20;

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// A promise-returning HTTP client: each request returns at once, runs on a worker thread,
/// and blocks only when its result is read.
///
/// `Http` is cheap to clone; clones share workers, connections and settings. Dropping the
/// last clone shuts it down as [`Http::shutdown`] does.
///
/// ```no_run
/// let http = asynchttp::Http::new();
/// let (response, content) = http.request("http://127.0.0.1:8080/get");
/// // ... other work ...
/// println!("{} {}", response.status, content);
/// ```
#[derive(Clone)]
pub struct Http {
    handle: Arc<Handle>,
}

/// What the user-facing clones share; dropping it shuts the client down.
struct Handle {
    core: Arc<Core>,
    pool: WorkerPool,
    owns_pool: bool,
}

/// What jobs share with the clones.
struct Core {
    limits: Limits,
    cache: Option<Arc<dyn Cache>>,
    ignore_etag: bool,
    credentials: Credentials,
    tls: TlsSettings,
    certificates: Certificates,
    redirects: Policy,
    force_exception_to_status_code: bool,
    connections: usize,
    connect_timeout: Duration,
    /// Keeps connections alive, for idempotent methods.
    client: RwLock<HttpClient>,
    /// Never reuses a connection, for the other methods; made on first use.
    unpooled: OnceCell<HttpClient>,
    closed: AtomicBool,
    pending: Mutex<usize>,
    drained: Condvar,
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
    timeout: Duration,
    connect_timeout: Duration,
    max_body_size: u64,
    user_agent: String,
    redirects: Policy,
    force_exception_to_status_code: bool,
    tls: TlsSettings,
    proxy: Option<ProxyInfo>,
    cache: Option<CacheChoice>,
    ignore_etag: bool,
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
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            user_agent: concat!("asynchttp/", env!("CARGO_PKG_VERSION")).to_owned(),
            redirects: Policy::default(),
            force_exception_to_status_code: false,
            tls: TlsSettings::default(),
            proxy: None,
            cache: None,
            ignore_etag: false,
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

    /// The total time one request may take, from the moment a worker starts it (time spent
    /// waiting in the queue does not count) until its body is read. Default 30 seconds.
    ///
    /// It is one deadline for the whole request as it was made: every redirect hop, every
    /// answer to a 401 and a cache revalidation share it. Zero is refused by `build()`;
    /// less than a millisecond is rounded up to one (libcurl counts milliseconds), and more
    /// than a year, up to `Duration::MAX`, is taken as a year.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let http = asynchttp::Http::builder().timeout(Duration::from_secs(5)).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time a connection may take to open, within the total timeout. Default 10 seconds.
    /// Zero is refused by `build()`, less than a millisecond rounded up to one.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let http = asynchttp::Http::builder().connect_timeout(Duration::from_secs(2)).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
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

    /// Also follow redirects of unsafe methods (POST, PUT, DELETE, ...) with 301, 302 and
    /// 307; default false, as httplib2. 303 and 308 are followed for any method.
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
    /// and port) of the URL the request was made for.
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
    /// transport failure 400 with the error as its body. Callback errors, and requests
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
    /// afterwards), and an unsafe method's response invalidates its URL's entry. A GET whose entry is fresh is answered on the
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

    /// The proxies requests go through (httplib2's `proxy_info`). By default
    /// [`ProxyInfo::from_environment`], read when the client is built; loopback hosts
    /// always go direct. [`ProxyInfo::none`] turns proxies off.
    ///
    /// ```
    /// use asynchttp::{Http, ProxyInfo};
    ///
    /// let direct = Http::builder().proxy_info(ProxyInfo::none()).build()?;
    /// # drop(direct);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn proxy_info(mut self, proxy: ProxyInfo) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Trust the CA certificates in this PEM file instead of the platform's roots
    /// (httplib2's `ca_certs`).
    ///
    /// ```no_run
    /// let http = asynchttp::Http::builder().ca_certs("/etc/my-ca.pem").build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn ca_certs(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca_certs = Some(path.into());
        self
    }

    /// Accept any server certificate, for any host (httplib2's
    /// `disable_ssl_certificate_validation`). Only for testing: anyone on the path can
    /// then read and change the traffic. Default false.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().disable_ssl_certificate_validation(true).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn disable_ssl_certificate_validation(mut self, disable: bool) -> Self {
        self.tls.insecure = disable;
        self
    }

    /// The lowest TLS version to accept (httplib2's `tls_minimum_version`). By default the
    /// TLS library's own minimum, TLS 1.2.
    ///
    /// ```
    /// use asynchttp::{Http, TlsVersion};
    ///
    /// let http = Http::builder().tls_minimum_version(TlsVersion::Tls13).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn tls_minimum_version(mut self, version: TlsVersion) -> Self {
        self.tls.min_version = Some(version);
        self
    }

    /// Builds the client. No worker starts until the first request.
    ///
    /// # Errors
    ///
    /// [`Error::Init`] if `workers` is 0, a timeout is zero, the `ca_certs` file does not
    /// exist, or the transport cannot be set up.
    ///
    /// # Examples
    ///
    /// ```
    /// let refused = asynchttp::Http::builder().workers(0).build();
    /// assert!(matches!(refused, Err(asynchttp::Error::Init { .. })));
    /// ```
    pub fn build(self) -> Result<Http, Error> {
        if self.workers == 0 && self.pool.is_none() {
            return Err(Error::Init {
                reason: "workers must be at least 1".to_owned(),
            });
        }
        // libcurl reads 0 as "no timeout": a zero timeout would be none at all.
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::Init {
                reason: "the timeout must be more than zero".to_owned(),
            });
        }
        let owns_pool = self.pool.is_none();
        let pool = match (self.pool, self.queue) {
            (Some(_), Some(_)) => {
                return Err(Error::Init {
                    reason: "queue_limit applies to a client's own pool; bound a shared \
                             pool with WorkerPool::bounded"
                        .to_owned(),
                });
            }
            (Some(pool), None) => pool,
            (None, None) => WorkerPool::new(self.workers),
            (None, Some((capacity, when_full))) => {
                WorkerPool::bounded(self.workers, capacity, when_full)
            }
        };
        let connections = pool.size();
        let connect_timeout = deadline::honoured(self.connect_timeout.min(self.timeout));
        if let Some(path) = self.tls.ca_certs.as_ref().filter(|p| !p.is_file()) {
            return Err(Error::Init {
                reason: format!("ca_certs: no file at {}", path.display()),
            });
        }
        let client = transport::client(connections, connect_timeout, &self.tls, true)?;
        let core = Core {
            limits: Limits {
                timeout: self.timeout.min(deadline::LONGEST),
                proxy: self.proxy.unwrap_or_else(ProxyInfo::from_environment),
                max_body_size: self.max_body_size,
                user_agent: HeaderValue::from_str(self.user_agent.trim_matches([' ', '\t']))
                    .map_err(|_| Error::Init {
                        reason: "control character in the user agent".to_owned(),
                    })?,
                tls: self.tls.clone(),
            },
            cache: match self.cache {
                None => None,
                Some(CacheChoice::Store(store)) => Some(store),
                Some(CacheChoice::Dir(dir)) => match FileCache::new(&dir) {
                    Ok(files) => Some(Arc::new(files) as Arc<dyn Cache>),
                    Err(e) => {
                        logs::warning!(
                            "cache: {} cannot be used ({e}); caching is off",
                            dir.display()
                        );
                        None
                    }
                },
            },
            ignore_etag: self.ignore_etag,
            credentials: Credentials::default(),
            tls: self.tls,
            certificates: Certificates::default(),
            redirects: self.redirects,
            force_exception_to_status_code: self.force_exception_to_status_code,
            connections,
            connect_timeout,
            client: RwLock::new(client),
            unpooled: OnceCell::new(),
            closed: AtomicBool::new(false),
            pending: Mutex::new(0),
            drained: Condvar::new(),
        };
        Ok(Http {
            handle: Arc::new(Handle {
                core: Arc::new(core),
                pool,
                owns_pool,
            }),
        })
    }
}

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

    /// A GET request; returns the pair at once.
    ///
    /// # Panics
    ///
    /// Never here. Reading a failed request's pair panics; see [`LazyResponse`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let http = asynchttp::Http::new();
    /// let (response, content) = http.request("http://127.0.0.1:8080/");
    /// println!("{} {content}", response.status);
    /// ```
    #[track_caller]
    pub fn request(&self, uri: &str) -> (LazyResponse, LazyContent) {
        self.send(Request::get(uri))
    }

    /// httplib2's full call: `request(uri, method, body, headers)`. `body` takes `&str`,
    /// `String`, `&[u8]` or `Vec<u8>`; `""` is an empty body.
    ///
    /// ```no_run
    /// let http = asynchttp::Http::new();
    /// let (response, content) = http.request_with(
    ///     "http://127.0.0.1:8080/post",
    ///     "POST",
    ///     "name=value",
    ///     &[("Content-Type", "application/x-www-form-urlencoded")],
    /// );
    /// assert_eq!(response.status, 200);
    /// ```
    #[track_caller]
    pub fn request_with(
        &self,
        uri: &str,
        method: &str,
        body: impl Into<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> (LazyResponse, LazyContent) {
        let mut req = Request::new(method, uri).body(body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.send(req)
    }

    /// Sends a [`Request`]; returns the pair at once.
    ///
    /// Submitting never fails: a request that cannot be sent (bad URL, control characters
    /// in a header, a shut-down client) gives a pair that is already failed, and nothing is
    /// queued or sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use asynchttp::{Error, Http, LazyResponse, Request};
    ///
    /// let http = Http::new();
    /// let (response, _) = http.send(Request::get("http://127.0.0.1/").header("X-A", "1\r\nX-B: 2"));
    /// assert!(matches!(LazyResponse::wait(&response), Err(Error::InvalidRequest { .. })));
    /// ```
    #[track_caller]
    pub fn send(&self, req: Request) -> (LazyResponse, LazyContent) {
        lazy::pair(self.submit(req, Location::caller(), true, Ok))
    }

    /// Sends a request and runs `f` on the worker with the response and body; the value it
    /// returns is what the [`Lazy`] holds. An error or panic in `f` becomes
    /// [`Error::Callback`].
    ///
    /// ```no_run
    /// let http = asynchttp::Http::new();
    /// let length = http.send_map(asynchttp::Request::get("http://127.0.0.1:8080/"), |_, body| {
    ///     Ok::<_, std::io::Error>(body.len())
    /// });
    /// println!("{} bytes", *length);
    /// ```
    #[track_caller]
    pub fn send_map<T, F, E>(&self, req: Request, f: F) -> Lazy<T>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&Response, &[u8]) -> Result<T, E> + Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let finish = move |exchange: Exchange| match catch_unwind(AssertUnwindSafe(|| {
            f(&exchange.response, &exchange.content)
        })) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(Error::from_callback(e.into())),
            Err(panic) => Err(Error::callback_panicked(&*panic)),
        };
        Lazy::new(self.submit(req, Location::caller(), false, finish))
    }

    /// Sends a request and decodes its body as JSON on the worker (with the `json`
    /// feature), as requests-futures users attach parsed JSON in a background callback.
    /// A body that is not a `T` fails with [`Error::Json`], which gives the response's
    /// status: a 404 or a 500 page is seldom the JSON expected. The body is decoded
    /// whatever the status, since many APIs answer errors in JSON; use
    /// [`send_json_with_response`](Self::send_json_with_response) to see the status of a
    /// success too.
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")] {
    /// use asynchttp::{Error, Http, Lazy, Request};
    ///
    /// let http = Http::new();
    /// let items = http.send_json::<Vec<String>>(Request::get("http://127.0.0.1:8080/items"));
    /// match Lazy::wait(&items) {
    ///     Ok(items) => println!("{} items", items.len()),
    ///     Err(Error::Json { status, .. }) => println!("a {status} answer, not JSON"),
    ///     Err(e) => println!("failed: {e}"),
    /// }
    /// # }
    /// ```
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[track_caller]
    pub fn send_json<T>(&self, req: Request) -> Lazy<T>
    where
        T: serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        let decode = |exchange: Exchange| {
            serde_json::from_slice(&exchange.content)
                .map_err(|e| Error::json(exchange.response.status, e))
        };
        Lazy::new(self.submit(req, Location::caller(), false, decode))
    }

    /// As [`send_json`](Self::send_json), and keeps the response beside the value: its
    /// status and headers (a `Link` to the next page, a rate limit) are often wanted too.
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")] {
    /// use asynchttp::{Http, Request};
    ///
    /// let http = Http::new();
    /// let page = http.send_json_with_response::<Vec<String>>(Request::get("http://127.0.0.1:8080/items"));
    /// let (response, items) = &*page;
    /// println!("{}: {} items, next {:?}", response.status, items.len(), response.get("link"));
    /// # }
    /// ```
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[track_caller]
    pub fn send_json_with_response<T>(&self, req: Request) -> Lazy<(Response, T)>
    where
        T: serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        let decode = |exchange: Exchange| match serde_json::from_slice(&exchange.content) {
            Ok(value) => Ok((exchange.response, value)),
            Err(e) => Err(Error::json(exchange.response.status, e)),
        };
        Lazy::new(self.submit(req, Location::caller(), false, decode))
    }

    /// A GET request.
    ///
    /// ```no_run
    /// let (response, _) = asynchttp::Http::new().get("http://127.0.0.1:8080/");
    /// assert_eq!(response.status, 200);
    /// ```
    #[track_caller]
    pub fn get(&self, uri: &str) -> (LazyResponse, LazyContent) {
        self.send(Request::new("GET", uri))
    }

    /// A HEAD request; its content is always empty.
    ///
    /// ```no_run
    /// let (response, content) = asynchttp::Http::new().head("http://127.0.0.1:8080/");
    /// println!("{:?}", response.get("content-length"));
    /// assert!(content.is_empty());
    /// ```
    #[track_caller]
    pub fn head(&self, uri: &str) -> (LazyResponse, LazyContent) {
        self.send(Request::new("HEAD", uri))
    }

    /// A DELETE request.
    ///
    /// ```no_run
    /// let (response, _) = asynchttp::Http::new().delete("http://127.0.0.1:8080/item/1");
    /// println!("{}", response.status);
    /// ```
    #[track_caller]
    pub fn delete(&self, uri: &str) -> (LazyResponse, LazyContent) {
        self.send(Request::new("DELETE", uri))
    }

    /// An OPTIONS request.
    ///
    /// ```no_run
    /// let (response, _) = asynchttp::Http::new().options("http://127.0.0.1:8080/");
    /// println!("{:?}", response.get("allow"));
    /// ```
    #[track_caller]
    pub fn options(&self, uri: &str) -> (LazyResponse, LazyContent) {
        self.send(Request::new("OPTIONS", uri))
    }

    /// A POST request with a body.
    ///
    /// ```no_run
    /// let (response, _) = asynchttp::Http::new().post("http://127.0.0.1:8080/items", "name=x");
    /// println!("{}", response.status);
    /// ```
    #[track_caller]
    pub fn post(&self, uri: &str, body: impl Into<Vec<u8>>) -> (LazyResponse, LazyContent) {
        self.send(Request::new("POST", uri).body(body))
    }

    /// A PUT request with a body.
    ///
    /// ```no_run
    /// let (response, _) = asynchttp::Http::new().put("http://127.0.0.1:8080/item/1", b"data".to_vec());
    /// println!("{}", response.status);
    /// ```
    #[track_caller]
    pub fn put(&self, uri: &str, body: impl Into<Vec<u8>>) -> (LazyResponse, LazyContent) {
        self.send(Request::new("PUT", uri).body(body))
    }

    /// A PATCH request with a body.
    ///
    /// ```no_run
    /// let (response, _) = asynchttp::Http::new().patch("http://127.0.0.1:8080/item/1", "x=2");
    /// println!("{}", response.status);
    /// ```
    #[track_caller]
    pub fn patch(&self, uri: &str, body: impl Into<Vec<u8>>) -> (LazyResponse, LazyContent) {
        self.send(Request::new("PATCH", uri).body(body))
    }

    /// Closes idle pooled connections, as httplib2's `close()`. The client stays usable: later
    /// requests open new connections, and requests in flight finish on theirs.
    ///
    /// ```
    /// let http = asynchttp::Http::new();
    /// http.close();
    /// assert!(!http.is_shut_down());
    /// ```
    pub fn close(&self) {
        let core = &self.handle.core;
        match transport::client(core.connections, core.connect_timeout, &core.tls, true) {
            Ok(fresh) => {
                // The old client, and its connections, go when its last request finishes.
                *core.client.write().unwrap_or_else(PoisonError::into_inner) = fresh;
                logs::debug!("idle connections closed");
            }
            Err(e) => logs::warning!("close: {}", e.chain()),
        }
    }

    /// Adds a user name and password, as httplib2's `add_credentials`: when a server answers
    /// 401, the credentials that apply are tried in the order added, Digest (RFC 7616, MD5
    /// or SHA-256) before Basic. Once one is accepted it is sent up front to the same
    /// origin and path prefix.
    ///
    /// `domain` `""` means the origin (scheme, host, port) of the URL the request was made
    /// for, never a host reached only through a redirect; otherwise `"host"` or
    /// `"host:port"`. Shared by every clone.
    ///
    /// ```
    /// let http = asynchttp::Http::new();
    /// http.add_credentials("alice", "s3cret", "");
    /// http.add_credentials("bob", "hunter2", "api.example.com");
    /// ```
    pub fn add_credentials(&self, name: &str, password: &str, domain: &str) {
        self.handle.core.credentials.add(name, password, domain);
    }

    /// Adds a client certificate (PEM files of the private key and the certificate) for
    /// https requests to `domain` (`"host"` or `"host:port"`; `""` for any host), as
    /// httplib2's `add_certificate`. The first one added that matches is used.
    ///
    /// ```no_run
    /// let http = asynchttp::Http::new();
    /// http.add_certificate("client.key", "client.pem", "mtls.example.com");
    /// ```
    pub fn add_certificate(
        &self,
        key_path: impl Into<PathBuf>,
        cert_path: impl Into<PathBuf>,
        domain: &str,
    ) {
        let core = &self.handle.core;
        core.certificates
            .add(key_path.into(), cert_path.into(), domain);
    }

    /// Forgets every credential, and every authorization servers accepted.
    ///
    /// ```
    /// let http = asynchttp::Http::new();
    /// http.add_credentials("alice", "s3cret", "");
    /// http.clear_credentials();
    /// ```
    pub fn clear_credentials(&self) {
        self.handle.core.credentials.clear();
    }

    /// Stops the client, for every clone: later requests fail with [`Error::Closed`], queued
    /// ones still run, and this returns once they are done and this client's own workers
    /// have exited. A shared [`WorkerPool`] keeps running for its other users.
    ///
    /// Called on a worker thread (from a callback), it stops the client without waiting,
    /// since the worker would wait on itself. Dropping the last clone does the same as this.
    ///
    /// ```
    /// use asynchttp::{Error, Http, LazyResponse};
    ///
    /// let http = Http::new();
    /// http.shutdown();
    /// let (late, _) = http.request("http://127.0.0.1:8080/");
    /// assert!(matches!(LazyResponse::wait(&late), Err(Error::Closed)));
    /// ```
    pub fn shutdown(&self) {
        self.handle.shutdown();
    }

    /// True once [`shutdown`](Self::shutdown) was called.
    ///
    /// ```
    /// let http = asynchttp::Http::new();
    /// let clone = http.clone();
    /// clone.shutdown();
    /// assert!(http.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.handle.core.closed.load(Ordering::Acquire)
    }

    /// The pool this client runs on.
    ///
    /// ```
    /// let http = asynchttp::Http::new();
    /// assert_eq!(http.pool().workers(), 0); // none started before the first request
    /// ```
    pub fn pool(&self) -> &WorkerPool {
        &self.handle.pool
    }

    /// `plain` is true for the pair, whose outcome needs no user code: a fresh cache entry
    /// then answers it right here, without a worker.
    fn submit<T, F>(
        &self,
        req: Request,
        location: &'static Location<'static>,
        plain: bool,
        finish: F,
    ) -> Arc<Slot<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(Exchange) -> Result<T, Error> + Send + 'static,
    {
        let core = &self.handle.core;
        let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
        let method = shown_method(req.method.clone());
        let refused = |url: String, error: Error| {
            let url: Arc<str> = Arc::from(url);
            logs::debug!("req={id} refused {method} {url}: {}", error.chain());
            let origin = Origin {
                id,
                method: method.clone(),
                url,
                location,
            };
            Slot::filled(origin, Err(error))
        };
        if core.closed.load(Ordering::Acquire) {
            return refused(uri::redact(&req.uri), Error::Closed);
        }
        let raw_uri = req.uri.clone();
        let prepared = match req.prepare(&raw_uri) {
            Ok(prepared) => prepared,
            Err(e) => return refused(uri::redact(&raw_uri), e),
        };
        // The parsed URL is most often the text given: the origin then shares it.
        let url = if prepared.url.as_str() == &*raw_uri {
            raw_uri
        } else {
            Arc::from(prepared.url.as_str())
        };
        let origin = Origin {
            id,
            method: method.clone(),
            url,
            location,
        };
        if let (true, None, Some(cache)) = (plain, &prepared.callback, &core.cache) {
            let started = Instant::now();
            if let Some(mut exchange) = flow::fresh(cache.as_ref(), &prepared) {
                exchange.response.elapsed = started.elapsed();
                logs::debug!(
                    "req={id} {method} {} answered from the cache",
                    uri::without_query(&prepared.url)
                );
                return Slot::filled(origin, finish(exchange));
            }
        }
        let slot = Slot::new(origin);
        logs::debug!(
            "req={id} queued {method} {}",
            uri::without_query(&prepared.url)
        );
        let task = pool::task(RequestJob {
            pending: Pending::start(core),
            queued: Instant::now(),
            prepared,
            promise: Promise::new(slot.clone()),
            finish,
        });
        slot.attach(&task);
        self.handle.pool.submit(task);
        slot
    }
}

/// The method as messages show it: a standard one (static, see `Request::new`) as it is,
/// any other with control characters escaped (it may be a refused injection attempt).
fn shown_method(method: Cow<'static, str>) -> Cow<'static, str> {
    match method {
        Cow::Borrowed(standard) => Cow::Borrowed(standard),
        Cow::Owned(other) => Cow::Owned(other.escape_debug().to_string()),
    }
}

impl Handle {
    fn shutdown(&self) {
        let core = &self.core;
        if !core.closed.swap(true, Ordering::AcqRel) {
            logs::debug!("shutting down");
        }
        if !crate::pool::on_worker_thread() {
            let mut pending = sync::lock(&core.pending);
            while *pending > 0 {
                pending = core
                    .drained
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        if self.owns_pool {
            self.pool.shutdown();
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Core {
    /// The client for a request with this method: the pooled one for idempotent methods,
    /// else the one that opens a fresh connection every time.
    fn client_for(&self, method: &Method) -> Result<HttpClient, Error> {
        if transport::is_idempotent(method) {
            return Ok(self
                .client
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone());
        }
        self.unpooled
            .get_or_try_init(|| {
                transport::client(self.connections, self.connect_timeout, &self.tls, false)
            })
            .cloned()
    }
}

/// Counts a request as pending on its client from submission until its job is gone.
struct Pending(Arc<Core>);

impl Pending {
    fn start(core: &Arc<Core>) -> Self {
        *sync::lock(&core.pending) += 1;
        Pending(core.clone())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut pending = sync::lock(&self.0.pending);
        *pending -= 1;
        if *pending == 0 {
            self.0.drained.notify_all();
        }
    }
}

/// A request on its way through a worker.
struct RequestJob<T, F> {
    pending: Pending,
    /// When it entered the queue: the finished line tells time queued from time worked.
    queued: Instant,
    prepared: Prepared,
    promise: Promise<T>,
    finish: F,
}

impl<T, F> Job for RequestJob<T, F>
where
    T: Send + Sync + 'static,
    F: FnOnce(Exchange) -> Result<T, Error> + Send + 'static,
{
    fn run(self) {
        let RequestJob {
            pending,
            queued,
            mut prepared,
            promise,
            finish,
        } = self;
        let core = &pending.0;
        let id = promise.origin().id;
        let shown_url = uri::without_query(&prepared.url);
        logs::debug!("req={id} started {} {shown_url}", prepared.method);
        let started = Instant::now();
        let waited = started.duration_since(queued);
        let deadline = Deadline::start(prepared.timeout.unwrap_or(core.limits.timeout));
        let client_for = |method: &Method| core.client_for(method);
        let tls_for = |url: &Url| {
            let certificate = core.certificates.for_url(url)?;
            Some(Box::new(core.tls.config(Some(&certificate))))
        };
        let cached = |hop: &Prepared| {
            let cache = core.cache.as_ref()?;
            flow::hop(cache.as_ref(), hop)
        };
        let session = redirect::Session {
            client_for: &client_for,
            tls_for: &tls_for,
            limits: &core.limits,
            policy: &core.redirects,
            credentials: &core.credentials,
            deadline,
            cached: &cached,
        };
        let mut refresh = None;
        let fetched = match &core.cache {
            Some(cache) => flow::fetch(
                cache.as_ref(),
                core.ignore_etag,
                &session,
                &mut prepared,
                id,
            )
            .map(|through| {
                refresh = through.refresh;
                through.exchange
            }),
            None if flow::only_if_cached(&prepared) => Ok(flow::gateway_timeout(&prepared.url)),
            None => redirect::fetch(&session, &mut prepared, id),
        };
        let shown_url = uri::without_query(&prepared.url);
        let mut result = fetched.or_else(|failed| {
            if core.force_exception_to_status_code {
                forced::as_status(*failed)
            } else {
                Err(failed.error)
            }
        });
        if let Ok(exchange) = &mut result {
            exchange.response.elapsed = started.elapsed();
        }
        if let (Ok(exchange), Some(callback)) = (&mut result, prepared.callback.take()) {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                callback(&mut exchange.response, &mut exchange.content)
            }));
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(Error::from_callback(e)),
                Err(panic) => result = Err(Error::callback_panicked(&*panic)),
            }
        }
        let elapsed = started.elapsed();
        match &result {
            Ok(exchange) => logs::debug!(
                "req={id} finished {} {shown_url} -> {} ({} bytes) in {elapsed:?} \
                 (queued {waited:?})",
                prepared.method,
                exchange.response.status,
                exchange.content.len()
            ),
            Err(e) => logs::debug!(
                "req={id} failed {} {shown_url} after {elapsed:?} (queued {waited:?}): {}",
                prepared.method,
                e.chain()
            ),
        }
        // The response keeps the URL's own text, made when the request was queued, instead
        // of a copy made here: the copy would leave that text's memory a hole in the
        // submitting thread's heap, which the worker's heap cannot reuse.
        if let Ok(exchange) = &mut result {
            if exchange.response.url == prepared.url.as_str() {
                exchange.response.url = String::from(prepared.url);
            }
        }
        promise.fulfil(result.and_then(finish));
        // A stale answer given within stale-while-revalidate: the caller has it; this
        // worker now refreshes the entry, with a deadline of its own.
        if let (Some(req), Some(cache)) = (refresh, &core.cache) {
            let session = redirect::Session {
                deadline: Deadline::start(req.timeout.unwrap_or(core.limits.timeout)),
                ..session
            };
            flow::refresh(cache.as_ref(), core.ignore_etag, &session, req, id);
        }
    }

    fn fail(self, error: Error) {
        logs::debug!("req={} not run: {error}", self.promise.origin().id);
        self.promise.fulfil(Err(error));
    }
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("pool", &self.handle.pool)
            .field("timeout", &self.handle.core.limits.timeout)
            .field("shut_down", &self.is_shut_down())
            .finish()
    }
}
