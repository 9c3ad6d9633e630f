//! [`Http`], the public client: the calls that make requests, the credentials and
//! certificates it adds, and how it stops. What happens to a request is in `run.rs`.

use std::error::Error as StdError;
use std::fmt;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;

use crate::download::{Destination, Download, Sink};
use crate::engine::Engine;
use crate::exchange::Exchange;
use crate::finish::{AsIs, Finish};
use crate::lazy::{self, Lazy, LazyContent, LazyResponse};
use crate::pool::WorkerPool;
use crate::promise::{Slot, Watcher};
use crate::run;
use crate::{Body, CookieJar, Error, Request, Response, logs, shutdown};

/// A promise-returning HTTP client: each request returns at once, runs on a worker thread,
/// and blocks only when its result is read.
///
/// `Http` is cheap to clone; clones share workers, connections and settings. Dropping the
/// last clone shuts it down as [`Http::shutdown`] does, waiting for the requests in flight,
/// except on an async executor's thread, where it never waits: see
/// [`shutdown`](Http::shutdown).
///
/// ```no_run
/// let http = asynchttp::Http::new();
/// let (response, content) = http.request("http://127.0.0.1:8080/get");
/// // ... other work ...
/// println!("{} {}", response.status, content);
/// ```
#[derive(Clone)]
pub struct Http {
    running: Arc<Owner>,
}

/// What the user-facing clones share; dropping it shuts the client down, here or, on an
/// async executor's thread, on a thread of its own.
struct Owner(Option<Running>);

/// A running client: its engine and its pool.
struct Running {
    engine: Arc<Engine>,
    pool: WorkerPool,
    /// A shared pool is stopped by its last user, not by this client.
    owns_pool: bool,
}

impl Http {
    /// A client whose engine runs its requests on `pool`.
    pub(crate) fn start(engine: Engine, pool: WorkerPool, owns_pool: bool) -> Self {
        Http {
            running: Arc::new(Owner(Some(Running {
                engine: Arc::new(engine),
                pool,
                owns_pool,
            }))),
        }
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
    /// `String`, `&[u8]` or `Vec<u8>` (`""` is an empty body), or a [`Body`] read as it is
    /// sent.
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
        body: impl Into<Body>,
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
        lazy::pair(self.submit(req, Location::caller(), AsIs))
    }

    /// As [`send`](Self::send), with `watcher` told of the request's retries and outcome
    /// from before it is queued.
    #[track_caller]
    pub(crate) fn send_watched(
        &self,
        req: Request,
        watcher: Arc<dyn Watcher<Exchange>>,
    ) -> (LazyResponse, LazyContent) {
        let location = Location::caller();
        let (engine, pool) = (&self.running.engine, &self.running.pool);
        lazy::pair(run::submit(
            engine,
            pool,
            req,
            location,
            Some(watcher),
            AsIs,
        ))
    }

    /// Downloads `uri` into the file at `path`, streamed on a worker: the body never has to
    /// fit in memory. As [`send_to`](Self::send_to) with a GET and
    /// [`Destination::file`].
    ///
    /// Unless a timeout is set for it, a download has no total timeout: it runs as long as
    /// bytes keep coming, and fails when none has come for 30 seconds (an idle timeout; see
    /// [`HttpBuilder::idle_timeout`](crate::HttpBuilder::idle_timeout)).
    ///
    /// ```no_run
    /// let http = asynchttp::Http::new();
    /// let download = http.download("http://127.0.0.1:8080/big.iso", "big.iso");
    /// println!("{} bytes", download.wait().unwrap().bytes);
    /// ```
    #[track_caller]
    pub fn download(&self, uri: &str, path: impl Into<PathBuf>) -> Download {
        self.send_to(Request::get(uri), Destination::file(path))
    }

    /// Sends a request and streams the body of its final response, if its status is 2xx,
    /// into `to` as it arrives, decoded as a pair's body is; see the [`download`
    /// module](crate::Destination) docs for files, resuming and limits. Runs on a worker
    /// thread, since a destination may block; the cache is not consulted.
    ///
    /// A download to a file that may resume continues a partial file left by an earlier
    /// one (`Range` and `If-Range` are added), unless the request has its own `Range`.
    #[track_caller]
    pub fn send_to(&self, mut req: Request, to: Destination) -> Download {
        let (mut sink, transfer) = Sink::new(to);
        match (req.has_header("range"), sink.resume_headers()) {
            (true, _) => sink.start_over(),
            (false, Some(headers)) => {
                for (name, value) in headers {
                    req = req.header(name, value);
                }
            }
            (false, None) => {}
        }
        req.sink = Some(Box::new(sink));
        let landed = transfer.clone();
        let finish =
            move |exchange: Exchange| Ok(landed.downloaded(exchange.response, exchange.content));
        let outcome = Lazy::new(self.submit(req, Location::caller(), finish));
        Download::new(outcome, transfer)
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
        Lazy::new(self.submit(req, Location::caller(), finish))
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
        Lazy::new(self.submit(req, Location::caller(), decode))
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
        Lazy::new(self.submit(req, Location::caller(), decode))
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
    pub fn post(&self, uri: &str, body: impl Into<Body>) -> (LazyResponse, LazyContent) {
        self.send(Request::new("POST", uri).body(body))
    }

    /// A PUT request with a body.
    ///
    /// ```no_run
    /// let (response, _) = asynchttp::Http::new().put("http://127.0.0.1:8080/item/1", b"data".to_vec());
    /// println!("{}", response.status);
    /// ```
    #[track_caller]
    pub fn put(&self, uri: &str, body: impl Into<Body>) -> (LazyResponse, LazyContent) {
        self.send(Request::new("PUT", uri).body(body))
    }

    /// A PATCH request with a body.
    ///
    /// ```no_run
    /// let (response, _) = asynchttp::Http::new().patch("http://127.0.0.1:8080/item/1", "x=2");
    /// println!("{}", response.status);
    /// ```
    #[track_caller]
    pub fn patch(&self, uri: &str, body: impl Into<Body>) -> (LazyResponse, LazyContent) {
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
        self.running.engine.transport.close();
    }

    /// Adds a user name and password, as httplib2's `add_credentials`: when a server answers
    /// 401, the credentials that apply are tried in the order added, Digest (RFC 7616, MD5
    /// or SHA-256) before Basic. Once one is accepted it is sent up front to the same
    /// origin and path prefix.
    ///
    /// `domain` `""` means the origin (scheme, host, port) of the URL the request was made
    /// for, never a host reached only through a redirect; otherwise `"host"` or
    /// `"host:port"`. Shared by every clone. Where one applies, a `.netrc`'s entry
    /// ([`HttpBuilder::netrc`](crate::HttpBuilder::netrc)) is not sent.
    ///
    /// Concurrent Digest requests: each nonce the server accepted is sent up front by one
    /// request at a time, so its counts reach the server in order, as a server that checks
    /// them wants (Apache's `AuthDigestNcCheck On`). A request that finds every such nonce in
    /// use goes without an authorization and answers the server's challenge with a nonce of
    /// its own, which later requests reuse: the first requests that run at once cost one
    /// more round trip each, and after that each has a nonce to itself. A server that gives
    /// every challenge the same nonce has it shared, each request with a count of its own.
    ///
    /// One request costs at most: the request; after a 401, one answer per credential and
    /// scheme that applies; and once, a Digest answer sent again when the server says the
    /// nonce is `stale` or refused a count that may have arrived late. A wrong password ends
    /// in its 401.
    ///
    /// ```
    /// let http = asynchttp::Http::new();
    /// http.add_credentials("alice", "s3cret", "");
    /// http.add_credentials("bob", "hunter2", "api.example.com");
    /// ```
    pub fn add_credentials(&self, name: &str, password: &str, domain: &str) {
        self.running.engine.credentials.add(name, password, domain);
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
        let transport = &self.running.engine.transport;
        transport.add_certificate(key_path.into(), cert_path.into(), domain);
    }

    /// The cookie jar this client keeps cookies in, if it keeps them
    /// ([`HttpBuilder::cookies`](crate::HttpBuilder::cookies),
    /// [`HttpBuilder::cookie_jar`](crate::HttpBuilder::cookie_jar)); shared by every clone.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().cookies(true).build()?;
    /// let jar = http.cookie_jar().expect("cookies(true)").clone(); // shares its cookies
    /// assert!(jar.is_empty());
    /// assert!(asynchttp::Http::new().cookie_jar().is_none()); // none by default
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn cookie_jar(&self) -> Option<&CookieJar> {
        self.running.engine.transport.cookie_jar()
    }

    /// Forgets every credential, and every authorization servers accepted. A `.netrc`'s
    /// entries ([`HttpBuilder::netrc`](crate::HttpBuilder::netrc)) stay: they were read
    /// when the client was built.
    ///
    /// ```
    /// let http = asynchttp::Http::new();
    /// http.add_credentials("alice", "s3cret", "");
    /// http.clear_credentials();
    /// ```
    pub fn clear_credentials(&self) {
        self.running.engine.credentials.clear();
    }

    /// Stops the client, for every clone: later requests fail with [`Error::Closed`], queued
    /// ones still run, and this returns once they are done and this client's own workers
    /// have exited. A shared [`WorkerPool`] keeps running for its other users.
    ///
    /// Called on a worker thread (from a callback), it stops the client without waiting,
    /// since the worker would wait on itself. Dropping the last clone does the same as this.
    ///
    /// In async code, this call blocks its thread as any wait does. Dropping the last clone
    /// does not, on a thread that has awaited a pair or a [`Lazy`] (the crate depends on no
    /// runtime, and takes such a thread for an executor's): the client closes at once, and
    /// a thread of its own, `asynchttp-release`, waits for the requests in flight, which all
    /// still complete, and joins the client's threads. Await what you need before the
    /// process exits: requests still in flight then are cut short.
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
        self.running.shutdown();
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
        self.running.engine.drain.is_closed()
    }

    /// Requests held back by their host's limits ([`HttpBuilder::per_host`]), waiting
    /// in its line: they hold no thread and are not in the pool's queue yet.
    ///
    /// [`HttpBuilder::per_host`]: crate::HttpBuilder::per_host
    ///
    /// ```
    /// assert_eq!(asynchttp::Http::new().held_by_hosts(), 0);
    /// ```
    pub fn held_by_hosts(&self) -> usize {
        self.running
            .engine
            .limiter
            .as_ref()
            .map_or(0, |limiter| limiter.waiting())
    }

    /// The pool this client runs on.
    ///
    /// ```
    /// let http = asynchttp::Http::new();
    /// assert_eq!(http.pool().workers(), 0); // none started before the first request
    /// ```
    pub fn pool(&self) -> &WorkerPool {
        &self.running.pool
    }

    fn submit<T, F>(
        &self,
        req: Request,
        location: &'static Location<'static>,
        finish: F,
    ) -> Arc<Slot<T>>
    where
        T: Send + Sync + 'static,
        F: Finish<T>,
    {
        run::submit(
            &self.running.engine,
            &self.running.pool,
            req,
            location,
            None,
            finish,
        )
    }
}

impl Running {
    fn shutdown(&self) {
        let drain = &self.engine.drain;
        if drain.close() {
            logs::debug!("shutting down");
        }
        // A worker would wait for itself.
        if !shutdown::on_pool_thread() {
            drain.wait_drained();
        }
        if self.owns_pool {
            self.pool.shutdown();
        }
    }
}

impl Deref for Owner {
    type Target = Running;

    fn deref(&self) -> &Running {
        self.0.as_ref().expect("taken only as the last clone goes")
    }
}

impl Drop for Owner {
    /// As [`Http::shutdown`], except on an async executor's thread (one that has awaited a
    /// pair or a `Lazy`): waiting for requests and joining threads there would stall the
    /// executor's other tasks, so the client closes here and a thread of its own,
    /// `asynchttp-release`, waits and joins, and drops the engine's last reference, which
    /// joins its isahc agents. On a worker thread, `shutdown` waits for nothing anyway.
    fn drop(&mut self) {
        let Some(running) = self.0.take() else {
            return;
        };
        if shutdown::on_executor_thread() {
            if running.engine.drain.close() {
                logs::debug!("shutting down on asynchttp-release: dropped on an async thread");
            }
            shutdown::release(running, |running| running.shutdown());
        } else {
            running.shutdown();
        }
    }
}

/// Every setting the client was built with, and what it holds now: its pool, how many
/// cookies its jar keeps, the requests its hosts hold back, whether it is shut down. Never
/// a password: a proxy's credentials are not shown, nor those added to the client.
impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("config", &self.running.engine.config)
            .field("pool", &self.running.pool)
            .field("cookie_jar", &self.cookie_jar())
            .field("held_by_hosts", &self.held_by_hosts())
            .field("shut_down", &self.is_shut_down())
            .field("mock", &self.running.engine.transport.mock())
            .finish()
    }
}
