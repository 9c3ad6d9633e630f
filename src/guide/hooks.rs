//! Hooks: your code at each step of every request of a client, beside requests'
//! `hooks={'response': f}`, httpx's `event_hooks` and requests-futures'
//! `background_callback`. Signing each attempt, a trace header, metrics, a log of redirects.
//!
//! ```python
//! import httpx
//!
//! def sign(request):                       # before each request; redirects and retries too?
//!     request.headers["X-Signature"] = hmac_of(request)
//! def log_response(response):
//!     print(response.request.url, response.status_code)
//!
//! client = httpx.Client(event_hooks={"request": [sign], "response": [log_response]})
//! ```
//!
//! A [`Hook`] has one method per step, each a no-op by default: implement those you need and
//! add the hook to the builder ([`HttpBuilder::hook`]: every request of the client runs it)
//! or to one request ([`Request::hook`]). The client's hooks run first, then the request's,
//! each in the order added. [`HttpBuilder::before_send`] and [`HttpBuilder::on_response`]
//! take a closure for the two most common.
//!
//! | step | method | called |
//! |---|---|---|
//! | an exchange is about to go out | [`before_send`](crate::Hook::before_send), may set headers | before every exchange: the first, each redirect hop, each 401 answered, each revalidation, each retry |
//! | a response head arrived | [`on_response`](crate::Hook::on_response) | for each of those exchanges, before its body is read |
//! | a redirect is followed | [`on_redirect`](crate::Hook::on_redirect) | once per hop followed |
//! | the retry policy sends it again | [`on_retry`](crate::Hook::on_retry) | once per retry, with the status or error and the wait |
//! | it ended | [`on_finish`](crate::Hook::on_finish) or [`on_failure`](crate::Hook::on_failure) | exactly one of them, once, for every request the client is given |
//!
//! | requests / httpx / requests-futures | asynchttp |
//! |---|---|
//! | requests `hooks={'response': f}` (final response only) | [`on_response`](crate::Hook::on_response) (every head) or [`on_finish`](crate::Hook::on_finish) (the final response, its body read) |
//! | httpx `event_hooks={'request': [f]}` | [`before_send`](crate::Hook::before_send), on the request exactly as it goes out |
//! | httpx `event_hooks={'response': [f]}` | [`on_response`](crate::Hook::on_response) |
//! | requests-futures `background_callback` | [`on_finish`](crate::Hook::on_finish) for every request of a client, or one request's [`callback`](crate::Request::callback) |
//! | an exception in a hook | [`Error::Hook`], for that request alone, never retried |
//!
//! A request with hooks runs on a worker thread, as one with a callback does, so a hook may
//! block: it holds up its own request, never another's I/O. An error from `before_send`, or a
//! panic in any method, fails that request with [`Error::Hook`] (its `source()` is your
//! error); the pool and the other requests go on.
//!
//! # Signing each attempt
//!
//! `before_send` sees the request as it goes out, with the `Authorization` the client's
//! credentials add, its cookies and its cache validators, and is called again for each
//! redirect hop, each answer to a 401 and each retry: a signature over a timestamp or a
//! counter is fresh on every one. [`Outgoing::exchange`] counts the exchanges of a request
//! over all its attempts, so it can serve as a nonce.
//!
//! ```
//! use std::time::{SystemTime, UNIX_EPOCH};
//! use asynchttp::{BoxError, Hook, Http, Outgoing};
//! use sha2::{Digest, Sha256};
//!
//! struct Signer {
//!     key: String,
//! }
//!
//! impl Hook for Signer {
//!     fn before_send(&self, attempt: &mut Outgoing<'_>) -> Result<(), BoxError> {
//!         let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs().to_string();
//!         // An HMAC in real code; a keyed hash keeps the example short.
//!         let text = format!("{}\n{}\n{}\n{now}", self.key, attempt.method(), attempt.path());
//!         let signature: String = Sha256::digest(text.as_bytes())
//!             .iter()
//!             .map(|b| format!("{b:02x}"))
//!             .collect();
//!         attempt.set_header("X-Date", &now)?;
//!         attempt.set_header("X-Signature", &signature)?;
//!         Ok(())
//!     }
//! }
//!
//! let http = Http::builder().hook(Signer { key: "k3y".into() }).build()?;
//! # drop(http);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! A header is checked as [`Request::header`]'s are: [`Outgoing::set_header`] refuses a
//! value with a control character or a byte outside ASCII, and the request then fails with
//! [`Error::Hook`], whether the hook returns that error or not.
//!
//! # A trace header
//!
//! ```
//! let http = asynchttp::Http::builder()
//!     .before_send(|attempt| {
//!         let id = format!("00-{:032x}-{:016x}-01", attempt.id(), attempt.exchange());
//!         attempt.set_header("traceparent", &id)?;
//!         Ok(())
//!     })
//!     .build()?;
//! # drop(http);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # Metrics: requests, failures, retries
//!
//! A hook is shared by every thread of the client: count with atomics.
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
//! use std::sync::Arc;
//! use asynchttp::{Failure, Finished, Hook, Http, RetryReason, Retrying};
//!
//! #[derive(Default)]
//! struct Metrics {
//!     finished: AtomicU64,
//!     failed: AtomicU64,
//!     retried_statuses: AtomicU64,
//!     retried_errors: AtomicU64,
//! }
//!
//! struct Count(Arc<Metrics>);
//!
//! impl Hook for Count {
//!     fn on_retry(&self, retry: &Retrying<'_>) {
//!         match retry.reason() {
//!             RetryReason::Status(_) => self.0.retried_statuses.fetch_add(1, Relaxed),
//!             _ => self.0.retried_errors.fetch_add(1, Relaxed),
//!         };
//!     }
//!     fn on_finish(&self, done: &Finished<'_>) {
//!         self.0.finished.fetch_add(1, Relaxed);
//!         let _took = done.response().timings.total(); // into a histogram
//!     }
//!     fn on_failure(&self, _: &Failure<'_>) {
//!         self.0.failed.fetch_add(1, Relaxed);
//!     }
//! }
//!
//! let metrics = Arc::new(Metrics::default());
//! let http = Http::builder()
//!     .retry(asynchttp::Retry::new(3))
//!     .hook(Count(metrics.clone()))
//!     .build()?;
//! # drop(http);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # Logging redirects
//!
//! ```
//! use asynchttp::{Hook, Http, Redirect};
//!
//! struct LogRedirects;
//!
//! impl Hook for LogRedirects {
//!     fn on_redirect(&self, hop: &Redirect<'_>) {
//!         eprintln!("req={} {} {} -> {}", hop.id(), hop.status(), hop.from(), hop.to());
//!     }
//! }
//!
//! let http = Http::builder().hook(LogRedirects).build()?;
//! # drop(http);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # Tracing
//!
//! With the `tracing` feature, every client makes a span per request and one per attempt,
//! through a hook of its own, when a global `tracing` subscriber is set
//! (`tracing::subscriber::set_global_default`; a thread's own default does not reach the
//! client's threads):
//!
//! | span (target `asynchttp`, INFO) | fields |
//! |---|---|
//! | `request` | `id`, `method`, `host` (`host:port`); when it ends `status`, `attempts`, `queued_us`, `first_byte_us`, `total_us` (and `resolve_us`, `connect_us`, `tls_us` with [`HttpBuilder::timings`]), or `error` |
//! | `attempt`, its child | `attempt`, `status` (its last head's); when sent again, `retry` (the status or error) and `delay_us` |
//!
//! A `request` span opens where the request is made, as a child of the span current on
//! that thread: a request made inside your handler's span shows under it (a root when no
//! span is current). The spans are recorded, not entered, since a request moves between
//! threads. The span hook only records, as the crate's log lines do, so
//! unlike yours it leaves a plain request on a driver. The `log` lines stay as they are
//! ([`guide::logging`](super::logging)).
//!
//! [`Error::Hook`]: crate::Error::Hook
//! [`Hook`]: crate::Hook
//! [`HttpBuilder::before_send`]: crate::HttpBuilder::before_send
//! [`HttpBuilder::hook`]: crate::HttpBuilder::hook
//! [`HttpBuilder::on_response`]: crate::HttpBuilder::on_response
//! [`HttpBuilder::timings`]: crate::HttpBuilder::timings
//! [`Outgoing::exchange`]: crate::Outgoing::exchange
//! [`Outgoing::set_header`]: crate::Outgoing::set_header
//! [`Request::header`]: crate::Request::header
//! [`Request::hook`]: crate::Request::hook
