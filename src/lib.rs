//! A threaded HTTP client with httplib2's semantics and Python asynchttp's promises:
//! [`Http::request`] returns a `(response, content)` pair at once, the request runs on a
//! worker thread, and reading either half blocks until it is done.
//!
//! # Usage
//!
//! ```no_run
//! use asynchttp::{Http, LazyResponse};
//!
//! let http = Http::new();
//! let (response, content) = http.request("http://127.0.0.1:8080/get"); // returns at once
//! let (other, _) = http.request("http://127.0.0.1:8080/other");       // runs alongside
//!
//! println!("{}", response.status); // blocks until the first request is done
//! println!("{content}");           // the body as text
//!
//! // The fallible path: no panic, the error as a value.
//! match LazyResponse::wait(&other) {
//!     Ok(r) => println!("{} {}", r.status, r.reason),
//!     Err(e) => eprintln!("{e}"),
//! }
//! ```
//!
//! # How it works
//!
//! Each request is checked on the caller's thread (URL, method, headers); a bad one gives a
//! pair that is already failed, and nothing is sent. A good one is queued on a
//! [flume](https://docs.rs/flume) queue, unbounded unless [`HttpBuilder::queue_limit`] or
//! [`WorkerPool::bounded`] bounds it. At most the pool's size (5 by default, as asynchttp)
//! run at once. A plain request runs on a driver thread (`asynchttp-driver-<n>`, two at
//! most), which runs many requests at once as futures over isahc's async API, so a request
//! waiting on the network holds no thread. A request with a callback or a function of the
//! caller's, a cache or credentials runs on a worker thread (`asynchttp-worker-<n>`, started
//! on demand up to the pool's size), where that code may block or panic without holding up
//! anyone else's I/O. All share the isahc (libcurl) clients of their [`Http`], so
//! connections are kept alive and reused. A pool whose requests wait for a retry or for
//! their host's limits ([`Retry`], [`HostLimits`]) starts one more, `asynchttp-timer`,
//! which holds every waiting request until its time comes. Short-lived threads may appear
//! too:
//! `asynchttp-writer` writes a download's body while its worker reads on (one per
//! download, for as long as it runs), `asynchttp-diagnose` connects once more after a
//! failed TLS handshake or proxy tunnel to learn why (for at most 5 s), and
//! `asynchttp-release` lets go of a client a driver held last, or shuts down a client
//! dropped on an async executor's thread. `src/run.rs` tells a request's life in order.
//!
//! A request is sent, its whole body read (decoding gzip and deflate, with a size limit
//! counted after decoding), its callback run if it has one, and the pair filled. The
//! timeout starts when the request starts, so a long queue never times requests out. Redirects are followed in the crate's own loop, with httplib2's rules,
//! and `Authorization`, `Cookie` and `Proxy-Authorization` headers of the caller's never go
//! to an origin other than the one the request was made for (a [`CookieJar`]'s cookies go
//! by the jar's own rules; see [Cookies](#cookies)). Credentials ([`Http::add_credentials`]) answer 401
//! challenges with Digest or Basic; TLS and proxies are set on the [`HttpBuilder`], proxies
//! from the environment by default ([`ProxyInfo`]). Requests of every method share kept-alive
//! connections; one whose method is not idempotent (POST) is never sent twice: where
//! libcurl would send it again, it fails instead (unless its [`Retry`] policy opts it in). With a cache ([`HttpBuilder::cache`]), a GET whose entry is fresh is answered
//! when it is made, from the cache, and its pair is ready at once.
//!
//! # Many requests at once
//!
//! [`Http::batch`] sends a list of requests and keeps them together, as requests-toolbelt's
//! threaded pool: [`Batch::responses`], [`Batch::exceptions`], [`Batch::retry_exceptions`],
//! [`Batch::as_completed`] (results in the order they finish), [`Batch::progress`] (done,
//! failed, total, bytes, counted as each request finishes) and [`Batch::hosts`] (requests,
//! failures and times by host, slowest first). [`Http::map`] is toolbelt's
//! `threaded.map`. A request still queued can be cancelled ([`LazyResponse::cancel`],
//! [`Batch::cancel`]); one that a worker started runs to its end. `examples/fetch.rs` is a
//! command-line fetcher built this way.
//!
//! # Retries and per-host limits
//!
//! A [`Retry`] policy ([`HttpBuilder::retry`], [`Request::retry`]) sends a request again
//! after a failure to connect, a timeout, a cut body or a 429/502/503/504, with jittered
//! exponential backoff, `Retry-After` honoured within a cap, every wait inside the
//! request's one deadline, and a [`RetryBudget`] per client. [`HostLimits`]
//! ([`HttpBuilder::per_host`]) caps each host's requests in flight and paces them with a
//! token bucket that a 429 or 503 slows. Neither holds a thread while a request waits: the
//! pool's timer thread holds every waiting request.
//!
//! To match a server's "N requests a second", give the rate a burst of 1: `rate(N, 1)`
//! never starts more than N of a host's requests in any second (leave a margin, such as
//! `rate(0.9 * N, 1)`, for a server that counts arrivals strictly over a sliding second:
//! see [`HostLimits::rate`]). A larger burst comes on top of the rate (fewer than
//! `burst + N × w` in any `w` seconds): `rate(5.0, 5)` lets 5 go at once after a rest,
//! then 5 a second, so up to 9 in the first second.
//!
//! ```no_run
//! use asynchttp::{HostLimits, Http, Retry};
//!
//! let http = Http::builder()
//!     .retry(Retry::new(3))
//!     .per_host(HostLimits::new().in_flight(4).rate(5.0, 1).adaptive(true))
//!     .build()?;
//! let (response, _) = http.request("http://127.0.0.1:8080/flaky");
//! println!("{} after {} attempts", response.status, response.attempts);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # Async code: awaiting and taking values
//!
//! The pair, [`Lazy`] and [`Download`] can be awaited, on any executor: the crate runs no runtime and
//! depends on none, and the slot that wakes blocked threads wakes awaiting futures too.
//! The same [`Http`] serves blocking code and async code at once. Awaiting a pair by value
//! gives its outcome by value, as `into_result` does; awaiting a reference borrows it, as
//! `wait` does (the [`Take`] and [`Wait`] futures):
//!
//! ```no_run
//! use asynchttp::{Error, Http};
//!
//! async fn fetch(http: &Http, url: &str) -> Result<(u16, Vec<u8>), Error> {
//!     let (response, content) = http.request(url); // sent at once, as ever
//!     let status = (&response).await?.status; // borrowed, without blocking the thread
//!     drop(response);
//!     let body = content.await?; // the last handle: the body is moved out, not copied
//!     Ok((status, body))
//! }
//! ```
//!
//! At most the pool's size of requests run at once, 5 by default (asynchttp's): 200
//! requests awaited at once run 5 at a time, so 200 answers of 100 ms each take 4 s, not
//! 0.1. Size the pool for what you await at once:
//!
//! ```no_run
//! let http = asynchttp::Http::builder().workers(200).build()?; // 200 in flight, not 5
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! Plain requests run on the two driver threads whatever the size, so this starts no thread
//! for them; it bounds how many are in flight.
//!
//! A poll never blocks its thread: a future never runs a request itself, as a blocking
//! wait on a worker thread does. Dereferencing a pair in async code still blocks, as in
//! blocking code, and stalls every task of the executor's thread meanwhile: on a thread that
//! has awaited one of the crate's futures, the first blocking wait logs a DEBUG line that
//! says where it blocked and to `.await` instead (once per thread). Blocking code takes values with [`LazyResponse::into_result`],
//! [`LazyContent::into_result`] and [`Lazy::into_result`] (moved out from the last handle on
//! the request, cloned otherwise), or [`Lazy::into_inner`] (the last handle only, for a `T`
//! that is not `Clone`). [`prelude`] gives these as methods: `content.into_result()`.
//!
//! # Big bodies
//!
//! [`Http::download`] and [`Http::send_to`] stream a body on a worker into a file or any
//! writer ([`Destination`]) instead of memory, decoded as usual, with resuming of a partial
//! file (`Range` with `If-Range`). A file is written as `NAME.part` and renamed once whole.
//! A [`Download`] is waited on or awaited as a pair is, and so is its progress:
//! [`Download::wait_progress_every`] blocks, [`Download::progress_changed`] is a future,
//! and either gives at most one update per interval, where the chunks come by thousands:
//!
//! ```no_run
//! use std::time::Duration;
//! use asynchttp::{Error, Http};
//!
//! async fn fetch(http: &Http) -> Result<(), Error> {
//!     let download = http.download("http://127.0.0.1:8080/big.iso", "big.iso");
//!     let mut seen = download.progress();
//!     while !seen.done {
//!         seen = download.progress_changed(seen.bytes).every(Duration::from_millis(100)).await;
//!         eprintln!("{} of {:?} bytes", seen.bytes, seen.total);
//!     }
//!     let done = download.await?; // as `into_result`: the response, the bytes, the file
//!     println!("{} {} bytes in {:?}", done.response.status, done.bytes, done.path);
//!     Ok(())
//! }
//! ```
//!
//! # Cookies
//!
//! None are kept by default, as in httplib2. With [`HttpBuilder::cookies`] a client keeps
//! them in a [`CookieJar`] that its clones, drivers and workers share, or in one of the
//! caller's with [`HttpBuilder::cookie_jar`]; [`Http::cookie_jar`] gives it back. A login's
//! session then holds for every later request, and a saved jar holds it across runs:
//!
//! ```no_run
//! use std::fs::File;
//! use asynchttp::{CookieJar, Http};
//!
//! // The jar the last run saved, if there is one: its login still holds.
//! let jar = match File::open("cookies.json") {
//!     Ok(file) => CookieJar::load_json(file)?,
//!     Err(_) => CookieJar::new(),
//! };
//! // A POST answered with 302 stays a 302 unless follow_all_redirects(true), as httplib2
//! // has it; the cookies the 302 sets are kept either way.
//! let http = Http::builder().cookie_jar(jar.clone()).follow_all_redirects(true).build()?;
//! if jar.cookies_for("http://127.0.0.1:8080/account").is_empty() {
//!     let (login, _) = http.request_with(
//!         "http://127.0.0.1:8080/login",
//!         "POST",
//!         "user=alice&password=s3cret",
//!         &[("Content-Type", "application/x-www-form-urlencoded")],
//!     );
//!     println!("login: {}", login.status); // the session its 302 set is in the jar
//! }
//! let (account, _) = http.request("http://127.0.0.1:8080/account"); // sends the session
//! println!("{}", account.status);
//! jar.save_json(File::create("cookies.json")?)?; // session cookies included
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - **Stored:** the `Set-Cookie` lines of every response that comes over the network: the
//!   final one, each redirect followed, each 401 answered with credentials, a cache
//!   revalidation. Each line is a cookie apart (see [`Response::get_all`]).
//! - **Sent:** each request, and each redirect hop of it, carries the cookies the jar has
//!   for that hop's URL, by RFC 6265's rules as [`CookieJar`] lists them: domain and path,
//!   `Secure` over https only, expiry; `HttpOnly` cookies go too, `SameSite` is ignored, and
//!   ports are not told apart.
//! - **A `Cookie` header of the caller's wins:** the request sends it alone, the jar adds
//!   nothing to it. A redirect to another origin drops it, as before; that hop carries the
//!   jar's cookies for its URL instead.
//! - **The cache:** a response answered from the cache without the network sends and stores
//!   nothing. A response that varies on `Cookie` is not stored for a request whose cookies
//!   came from the jar, since the cache never sees them.
//! - **Saved:** [`CookieJar::save_json`] writes every cookie that has not expired, session
//!   cookies too, so that a login survives a restart; [`CookieJar::load_json`] reads them
//!   back. The jar is a lock held only to read or store, never across I/O, so requests with
//!   a jar still run on the drivers.
//!
//! # Where the time went
//!
//! Each [`Response`] tells where its request's time went ([`Timings`]): in the queue, to
//! the head of its answer and in total, counted from the request's start across its
//! redirects; with [`HttpBuilder::timings`], the last exchange's name lookup, connection
//! and TLS handshake too. [`Batch::hosts`] sums a batch up by host, slowest first:
//!
//! ```no_run
//! use asynchttp::{Http, LazyResponse};
//!
//! let http = Http::builder().timings(true).build()?;
//! let (response, _) = http.request("https://127.0.0.1:8443/report");
//! let t = LazyResponse::wait(&response)?.timings;
//! println!("queued {:?}, first byte {:?}, total {:?}", t.queued(), t.first_byte(), t.total());
//! if let Some(tls) = t.tls() {
//!     println!("the TLS handshake took {tls:?}"); // on a new connection only
//! }
//!
//! let batch = http.batch(["http://127.0.0.1:8080/a", "http://127.0.0.1:8081/b"]);
//! batch.join_all();
//! for host in batch.hosts().iter().take(5) {
//!     println!("{}: {} requests, {} failed, p99 {:?}", host.host, host.requests, host.failures, host.p99);
//! }
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! The same figures end each request's `finished` line in the log ([Logging](#logging)).
//!
//! # Errors and panics
//!
//! [`LazyResponse::wait`], [`LazyContent::wait`] and [`Lazy::wait`] return
//! `Result<&T, Error>`: the robust path. Dereferencing (`response.status`, `&*content`) and
//! `Display` are the httplib2-like path: on a failed request they panic with a message that
//! names the method, the URL, the error chain and the line where the request was made, and
//! the panic points at the line that read it. The error is stored once; every access gives
//! it again, nothing is retried. `Debug` never blocks.
//!
//! HTTP error statuses (404, 500, ...) are responses, not errors. [`Error`] lists what can
//! fail: connection, a proxy's refusal, timeout, TLS, a truncated or oversized body, a bad
//! encoding, a callback's error or panic.
//!
//! A callback that panics fails only its own request ([`Error::Callback`]); the worker goes
//! on. A callback that waits on another request of the same client never deadlocks for want
//! of a free worker: a wait made on a worker thread runs the awaited request right there if
//! no worker has started it yet. Only an untimed wait does that: `wait_timeout` returns
//! within its timeout, on any thread, and never runs a request itself. Two callbacks that wait on each other's requests still
//! deadlock, as any two threads that wait on each other do.
//!
//! # Logging
//!
//! Through the [`log`](https://docs.rs/log) crate, under targets that start with
//! `asynchttp`, so `RUST_LOG=asynchttp=debug` shows everything with `env_logger`. Every line
//! about a request carries `req=<id>` ([`LazyResponse::id`] gives it for a pair), and every
//! message starts with the name of the thread that wrote it, in brackets, so that any
//! logger shows it, env_logger's default format included. A format that prints thread
//! names itself would print them twice; `examples/logging.rs` shows one that does not. The
//! `finished` line gives the time the request ran and the time spent queued before it, so a
//! request that was slow only because others were ahead of it shows as such, then the
//! parts of its [`Timings`] that were measured (the phases with [`HttpBuilder::timings`]):
//!
//! ```text
//! [main] req=7 queued GET http://127.0.0.1:8080/get
//! [asynchttp-driver-2] req=7 started GET http://127.0.0.1:8080/get
//! [asynchttp-driver-2] req=7 finished GET http://127.0.0.1:8080/get -> 200 (100 bytes) in 412.3µs (queued 41.0µs, first byte 398.1µs, dns 30.2µs, connect 95.7µs)
//! ```
//!
//! | level | what |
//! |-------|------|
//! | ERROR | a driver or worker could not start, or a request panicked outside its callback |
//! | WARN  | a setting that could not be applied |
//! | DEBUG | each request queued, started, finished (status, bytes, time) or failed; a stored error read back, with where the request was made; drivers and workers started and stopped; the first blocking wait on a thread that has awaited the crate's futures, with where it blocked |
//!
//! Header values and bodies are never logged; query strings are left out of log lines.
//!
//! # Shutdown
//!
//! [`Http::shutdown`], or dropping the last clone of an [`Http`], stops it: later requests
//! fail with [`Error::Closed`], queued requests still run, and the call returns once they
//! are done and the workers have been joined. Every pair is filled; none waits forever.
//! Dropped on a worker thread (inside a callback), the client stops without waiting, since
//! a worker cannot join itself. Dropped on a thread that has awaited a pair or a [`Lazy`],
//! which the crate takes for an async executor's thread, it never waits either: it closes
//! there, and a thread of its own (`asynchttp-release`) waits for the requests in flight
//! and joins the client's threads; those requests still complete, unless the process exits
//! first. Dropping a pair early cancels nothing: the request still runs, as in httplib2;
//! [`LazyResponse::cancel`] stops one that is still queued.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod admission;
mod auth;
mod batch;
mod blocking;
mod builder;
mod cache;
mod client;
mod cookies;
mod deadline;
mod download;
mod driver;
mod error;
mod exchange;
mod forced;
mod future;
mod hosts;
mod http;
mod lazy;
mod logs;
mod method;
mod origin;
mod pool;
mod progress;
mod promise;
mod redirect;
mod request;
mod response;
mod retry;
mod run;
mod shutdown;
mod sync;
mod task;
mod timer;
mod timings;
mod transfer;
mod transport;
mod uri;

pub use crate::batch::{Batch, BatchException, BatchResponse, HostReport};
pub use crate::builder::HttpBuilder;
pub use crate::cache::{Cache, FileCache, MemoryCache};
pub use crate::cookies::CookieJar;
pub use crate::download::{Destination, Download, Downloaded};
pub use crate::error::{BoxError, Error, Result, TimeoutKind};
pub use crate::future::{Take, Wait};
pub use crate::hosts::HostLimits;
pub use crate::http::Http;
pub use crate::lazy::{Lazy, LazyContent, LazyExt, LazyResponse};
pub use crate::pool::{WhenFull, WorkerPool};
pub use crate::progress::Progress;
pub use crate::request::Request;
pub use crate::response::Response;
pub use crate::retry::{RETRY_STATUSES, Retry, RetryBudget};
pub use crate::timings::Timings;
pub use crate::transfer::{ProgressChanged, Transferred};
pub use crate::transport::proxy::ProxyInfo;
pub use crate::transport::tls::TlsVersion;

/// Method forms of the lazy types' operations: `use asynchttp::prelude::*;` brings in
/// [`LazyExt`], so that `response.wait()`, `content.into_result()` and `lazy.into_inner()`
/// work without naming the types. Only traits are here, so a glob import never clashes
/// with a name of your own.
///
/// ```
/// use asynchttp::prelude::*;
///
/// let http = asynchttp::Http::new();
/// let (response, _content) = http.request("ftp://127.0.0.1/"); // refused at once
/// assert!(response.into_result().is_err());
/// ```
pub mod prelude {
    pub use crate::lazy::LazyExt;
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;
    use static_assertions::assert_impl_all;

    assert_impl_all!(Http: Clone, Send, Sync);
    assert_impl_all!(LazyResponse: Clone, Send, Sync);
    assert_impl_all!(LazyContent: Clone, Send, Sync);
    assert_impl_all!(Lazy<String>: Clone, Send, Sync);
    assert_impl_all!(Error: Clone, Send, Sync, std::error::Error);
    assert_impl_all!(WorkerPool: Clone, Send, Sync);
    assert_impl_all!(CookieJar: Clone, Send, Sync);
    assert_impl_all!(Request: Send);
    assert_impl_all!(Batch: Send);
    assert_impl_all!(Download: Send, Sync);
}
