//! A threaded HTTP client with httplib2's semantics and Python asynchttp's promises:
//! [`Http::request`] returns a `(response, content)` pair at once, the request runs on a
//! thread of the client's, and reading either half blocks until it is done. Underneath, the
//! isahc (libcurl) clients of each [`Http`] are shared by its threads, with keep-alive
//! connections for every method, HTTP/2 multiplexing, timeouts, connection limits,
//! bounded, decoded bodies, and timings per request and per host of a batch.
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
//! # The manual
//!
//! The chapters are doc-only modules under [`guide`], each a set of recipes whose examples
//! are compiled as tests. The reference is on each type and method: a setting's rules are on
//! its [`HttpBuilder`] method, and a per-request setting on [`Request`] points there.
//!
//! | chapter | what it covers |
//! |---|---|
//! | [`guide::port`] | from asynchttp and httplib2: the pair, taking values, errors and panics, callbacks, credentials and a `.netrc`, TLS and proxies, shutdown |
//! | [`guide::async_code`] | awaiting pairs on any executor, by value or by reference, sizing the pool, what still blocks |
//! | [`guide::batches`] | many requests at once: batches, progress, cancelling, bounded queues, the `fetch` command |
//! | [`guide::retries`] | retries with backoff and a budget, per-host limits and rates, limits shared by a fleet through Redis |
//! | [`guide::downloads`] | big bodies streamed to a file or a writer, progress, resuming |
//! | [`guide::compression`] | gzip, deflate, br and zstd bodies decoded, the limit on decoded bytes, the `brotli` and `zstd` features |
//! | [`guide::uploads`] | files and readers sent as they are read, what can be sent again, upload progress, `fetch -T` |
//! | [`guide::forms`] | multipart forms with files, form fields, query strings and JSON bodies: requests' `files=`, `data=`, `params=`, `json=`, curl's `-F` |
//! | [`guide::cookies`] | the cookie jar: what is stored, sent and saved |
//! | [`guide::connect`] | where connections go and how fast: names pinned to addresses, connect-to, Unix sockets, IPv4 or IPv6, happy eyeballs, the DNS cache, bandwidth caps; curl's `--resolve`, `--connect-to`, `--unix-socket`, `-4`/`-6`, `--limit-rate` |
//! | [`guide::cache`] | the HTTP cache: RFC 9111's rules, stale answers when the origin is down, one cache shared by processes through Redis, and what the test suite fails |
//! | [`guide::timings`] | where a request's time went, and a batch's by host |
//! | [`guide::testing`] | testing your own code with the mock transport: no server, every failure |
//! | [`guide::hooks`] | your code at each step of every request: signing, trace headers, metrics, redirects; `tracing` spans |
//! | [`guide::logging`] | log targets, levels and lines |
//! | [`guide::differences`] | where it differs from asynchttp and httplib2, on purpose |
//! | [`guide::limits`] | limits that remain, from libcurl and isahc |
//!
//! # How it works
//!
//! Each request is checked on the caller's thread (URL, method, headers); a bad one gives a
//! pair that is already failed, and nothing is sent. A good one is queued on a
//! [flume](https://docs.rs/flume) queue, unbounded unless [`HttpBuilder::queue_limit`] or
//! [`WorkerPool::bounded`] bounds it. At most the pool's size (5 by default, as asynchttp)
//! run at once. A plain request runs on a driver thread (`asynchttp-driver-<n>`, two at
//! most), which runs many requests at once as futures over isahc's async API, so a request
//! waiting on the network holds no thread. A request with a callback, a hook or a function
//! of the caller's, a body read as it is sent (a file, a reader), a cache or credentials
//! runs on a worker thread (`asynchttp-worker-<n>`, started on demand up to the pool's
//! size), where that code may block or panic without holding up anyone else's I/O. All share the isahc (libcurl) clients of their [`Http`], so
//! connections are kept alive and reused. A pool whose requests wait for a retry or for
//! their host's limits ([`Retry`], [`HostLimits`]) starts one more, `asynchttp-timer`,
//! which holds every waiting request until its time comes. Short-lived threads may appear
//! too: `asynchttp-writer` writes a download's body while its worker reads on (one per
//! download, for as long as it runs), `asynchttp-diagnose` connects once more after a
//! failed TLS handshake or proxy tunnel to learn why (for at most 5 s), `asynchttp-resolve`
//! looks up the name of a [`HttpBuilder::connect_to`] target (one lookup per name at a
//! time, which every request needing it awaits within its connect timeout), and `asynchttp-release` lets go of a client a driver held last, or shuts down a client
//! dropped on an async executor's thread. A client whose host limits are shared through
//! Redis (the `redis` feature) has two more: `asynchttp-redis`, which makes every call to
//! Redis so that no request's thread waits on it, and `asynchttp-redis-listen`, which hears
//! of places other processes give back. `src/run.rs` tells a request's life in order.
//!
//! A request is sent, its whole body read (decoding gzip, deflate, and br and zstd with
//! their features, with a size limit counted after decoding), its callback run if it has one, and the pair filled. Redirects
//! are followed in the crate's own loop, with httplib2's rules; where the crate departs
//! from them, and from asynchttp, is in [`guide::differences`].

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod auth;
mod batch;
mod blocking;
mod body;
mod builder;
mod cache;
mod config;
mod cookies;
mod deadline;
mod download;
mod driver;
mod engine;
mod error;
mod exchange;
mod files;
mod finish;
mod forced;
mod forms;
mod future;
mod hooks;
mod host_limits;
mod http;
mod lazy;
mod logs;
mod method;
mod mock;
mod multipart;
mod netrc;
mod origin;
mod pool;
mod progress;
mod promise;
mod random;
mod redirect;
#[cfg(feature = "redis")]
mod redis;
mod request;
mod response;
mod retry;
mod run;
mod sendable;
mod shutdown;
mod sync;
mod task;
mod timer;
mod timings;
mod transfer;
mod transport;
mod upload;
mod uri;
mod urlencode;

pub use crate::batch::{Batch, BatchException, BatchResponse, HostReport};
pub use crate::body::Body;
pub use crate::builder::HttpBuilder;
pub use crate::cache::{Cache, FileCache, MemoryCache};
#[cfg(feature = "redis")]
pub use crate::cache::{RedisCache, RedisCacheBuilder};
pub use crate::cookies::CookieJar;
pub use crate::download::{Destination, Download, Downloaded};
pub use crate::error::{BoxError, Error, Result, TimeoutKind};
pub use crate::future::{Take, Wait};
pub use crate::hooks::{
    Failure, Finished, Hook, Incoming, Outgoing, Redirect, RetryReason, Retrying,
};
pub use crate::host_limits::HostLimits;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use crate::host_limits::RedisLimits;
pub use crate::http::Http;
pub use crate::lazy::{Lazy, LazyContent, LazyExt, LazyResponse};
pub use crate::mock::{MockRequest, MockResponse, MockTransport};
pub use crate::multipart::{Form, Part};
pub use crate::pool::{WhenFull, WorkerPool};
pub use crate::progress::Progress;
pub use crate::request::Request;
pub use crate::response::{Response, StaleOnError};
pub use crate::retry::{RETRY_STATUSES, Retry, RetryBudget};
pub use crate::timings::Timings;
pub use crate::transfer::{ProgressChanged, Transferred};
pub use crate::transport::connect::IpVersion;
pub use crate::transport::proxy::ProxyInfo;
pub use crate::transport::tls::TlsVersion;
pub use crate::upload::Upload;

pub mod guide;

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
    assert_impl_all!(Upload: Clone, Send, Sync);
    assert_impl_all!(Body: Clone, Send, Sync);
    assert_impl_all!(MockTransport: Clone, Send, Sync);
    assert_impl_all!(MockRequest: Clone, Send, Sync);
    assert_impl_all!(MockResponse: Clone, Send, Sync);
    assert_impl_all!(Body: Clone, Send, Sync);
    assert_impl_all!(Form: Send, Sync);
    assert_impl_all!(Part: Send, Sync);
    #[cfg(feature = "redis")]
    assert_impl_all!(RedisCache: Send, Sync, std::fmt::Debug);
}
