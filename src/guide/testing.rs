//! Testing your own code with the mock transport: a function that answers your client's
//! requests in place of a server, beside httpx's `MockTransport` and the `responses` and
//! `requests-mock` libraries.
//!
//! A client built with [`HttpBuilder::mock`] sends nothing: each exchange goes to your
//! function, which answers it with a [`MockResponse`]. The rest of the client runs as it
//! does against a server, so a test sees what its code would see: redirects followed,
//! 401s answered with credentials, the cache and the cookie jar fed, retries made,
//! per-host limits kept, timeouts met, bodies decoded and held to their limit. The
//! [`MockTransport`] keeps every request it was sent, for the test to look at. No socket
//! is opened and no name resolved, so any URL will do.
//!
//! ```python
//! def handler(request):
//!     if request.url.path == "/user":
//!         return httpx.Response(200, json={"name": "alice"})
//!     return httpx.Response(404)
//!
//! client = httpx.Client(transport=httpx.MockTransport(handler))
//! assert client.get("http://api.test/user").json() == {"name": "alice"}
//! ```
//!
//! ```
//! use asynchttp::{Http, MockResponse, MockTransport};
//!
//! let mock = MockTransport::new(|req| match req.path() {
//!     "/user" => MockResponse::ok(r#"{"name":"alice"}"#).header("Content-Type", "application/json"),
//!     _ => MockResponse::new(404),
//! });
//! let http = Http::builder().mock(mock.clone()).build()?;
//! assert_eq!(http.request("http://api.test/user").1.to_string(), r#"{"name":"alice"}"#);
//! assert_eq!(mock.requests()[0].url(), "http://api.test/user");
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! | Python | asynchttp |
//! |---|---|
//! | `httpx.MockTransport(handler)` | `MockTransport::new(handler)`, given to `Http::builder().mock(..)` |
//! | `httpx.Response(200, headers=..., content=...)` | `MockResponse::new(200).header(..).body(..)`, or `MockResponse::ok(body)` |
//! | `raise httpx.ConnectError(...)` in the handler | `MockResponse::connection_refused()`, and the other failures below |
//! | `responses.add(GET, url, body=...)` | a `match` on `req.method()` and `req.path()` in the handler |
//! | `responses.calls`, `requests_mock.request_history` | `mock.requests()`, `mock.count()` |
//! | `requests_mock`'s `response_list` | a counter in the handler (below) |
//!
//! # Your code takes the client
//!
//! Code that makes its own [`Http`] cannot be given a mocked one: take the client as an
//! argument (or a field), and build it with the mock in the test.
//!
//! ```
//! use asynchttp::{Error, Http, LazyResponse, MockResponse, MockTransport};
//!
//! /// The code under test: how many items the service has.
//! fn count_items(http: &Http, base: &str) -> Result<usize, Error> {
//!     let (response, content) = http.request(&format!("{base}/items"));
//!     LazyResponse::wait(&response)?;
//!     Ok(content.to_string().lines().count())
//! }
//!
//! let mock = MockTransport::new(|_| MockResponse::ok("pen\npaper\nink\n"));
//! let http = Http::builder().mock(mock).build()?;
//! assert_eq!(count_items(&http, "http://shop.test")?, 3);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # What went out
//!
//! Each [`MockRequest`] is an exchange as it would have gone out: its method, its URL,
//! every header the crate added (the user agent, `Authorization`, the jar's `Cookie`, the
//! cache's `If-None-Match`) and its body. Each redirect hop, answer to a 401,
//! revalidation and retry is one of its own. Assert on them in the handler (its panic
//! fails the request, with its message, as [`Error::Callback`]) or afterwards, on
//! [`MockTransport::requests`].
//!
//! ```
//! use asynchttp::{Http, MockResponse, MockTransport};
//!
//! let mock = MockTransport::new(|req| {
//!     assert_eq!(req.header("content-type"), Some("application/json"));
//!     MockResponse::new(201)
//! });
//! let http = Http::builder().mock(mock.clone()).build()?;
//! http.add_credentials("alice", "s3cret", "");
//! let (response, _) = http.request_with(
//!     "http://api.test/items",
//!     "POST",
//!     r#"{"name":"pen"}"#,
//!     &[("Content-Type", "application/json")],
//! );
//! assert_eq!(response.status, 201);
//! // No 401 came, so no credentials went out (as httplib2: they answer a challenge).
//! let sent = mock.requests();
//! assert_eq!((sent.len(), sent[0].header("authorization")), (1, None));
//! assert_eq!(sent[0].body(), br#"{"name":"pen"}"#);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # Answers that change
//!
//! The handler is a `Fn`, called from any of the client's threads: keep its state in
//! atomics or a mutex. A first attempt that fails and a second that succeeds:
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use asynchttp::{Http, MockResponse, MockTransport, Retry, RetryBudget};
//!
//! let calls = AtomicUsize::new(0);
//! let mock = MockTransport::new(move |_| match calls.fetch_add(1, Ordering::SeqCst) {
//!     0 => MockResponse::retry_after(503, 0),
//!     _ => MockResponse::ok("up again"),
//! });
//! let http = Http::builder()
//!     .mock(mock.clone())
//!     .retry(Retry::new(3))
//!     .retry_budget(RetryBudget::unlimited())
//!     .build()?;
//! let (response, content) = http.request("http://api.test/status");
//! assert_eq!((response.status, response.attempts, mock.count()), (200, 2, 2));
//! assert_eq!(content.to_string(), "up again");
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # Failures
//!
//! Each failure of the network has a constructor, and ends the request with the
//! [`Error`] a real one gives (the table is on [`MockResponse`]):
//! [`connection_refused`](crate::MockResponse::connection_refused),
//! [`server_not_found`](crate::MockResponse::server_not_found),
//! [`timeout`](crate::MockResponse::timeout), [`connect_timeout`](crate::MockResponse::connect_timeout),
//! [`tls_failure`](crate::MockResponse::tls_failure),
//! [`connection_closed`](crate::MockResponse::connection_closed), and a body cut short with
//! [`cut_after`](crate::MockResponse::cut_after). Your code's error handling sees what it would
//! see in production.
//!
//! ```
//! use std::time::Duration;
//! use asynchttp::{Error, Http, LazyResponse, MockResponse, MockTransport};
//!
//! let mock = MockTransport::new(|req| match req.host() {
//!     "gone.test" => MockResponse::server_not_found(),
//!     "slow.test" => MockResponse::timeout(),
//!     _ => MockResponse::ok("partial").cut_after(3),
//! });
//! let http = Http::builder().mock(mock).timeout(Duration::from_millis(50)).build()?;
//! let error = |url: &str| LazyResponse::wait(&http.request(url).0).unwrap_err();
//!
//! assert!(matches!(error("http://gone.test/"), Error::ServerNotFound { host, .. } if host == "gone.test"));
//! assert!(error("http://slow.test/").is_timeout());
//! assert!(matches!(error("http://cut.test/"), Error::BodyIncomplete { received: 3, .. }));
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # Slow answers, and how many at once
//!
//! [`MockResponse::delay`] makes an answer wait; it waits on the client's timer, so the
//! handler returns at once and no thread sleeps. A delay past the request's timeout ends it
//! with [`Error::Timeout`] at that timeout, as a slow server would.
//! [`MockTransport::most_in_flight`] tells how many exchanges the mock held at once: what
//! your code's concurrency, or a client's [`HttpBuilder::per_host`] limit, let through.
//!
//! ```
//! use std::time::Duration;
//! use asynchttp::{HostLimits, Http, MockResponse, MockTransport};
//!
//! let slow = || MockTransport::new(|_| MockResponse::ok("").delay(Duration::from_millis(20)));
//! let (limited, free) = (slow(), slow());
//! for (mock, limits) in [(&limited, HostLimits::new().in_flight(1)), (&free, HostLimits::new())] {
//!     let http = Http::builder().mock(mock.clone()).per_host(limits).build()?;
//!     http.batch((0..6).map(|i| format!("http://api.test/{i}"))).join_all();
//! }
//! assert_eq!(limited.most_in_flight(), 1);
//! assert!(free.most_in_flight() > 1);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # What a mock does not show
//!
//! - **The wire.** The headers libcurl adds itself (`Host`, `Content-Length`, `Accept`)
//!   are not in a [`MockRequest`]; connections, their reuse, HTTP/2, TLS and proxies are
//!   not there to test, nor where connections go and how fast
//!   ([`guide::connect`](super::connect): checked, then without effect). The loopback
//!   servers of the crate's own tests are for those.
//! - **Blocking in the handler.** It runs on the thread that runs the request, most often
//!   one of the two drivers that run many requests at once: a handler that blocks holds
//!   them all up. Give the answer a delay instead.
//! - **Timings.** A mocked response's [`Timings`](crate::Timings) have the queue, the
//!   host's wait and the time to the head (the delay), and no resolve, connect or TLS
//!   phase.
//!
//! [`HttpBuilder::mock`]: crate::HttpBuilder::mock
//! [`HttpBuilder::per_host`]: crate::HttpBuilder::per_host
//! [`MockResponse`]: crate::MockResponse
//! [`MockResponse::delay`]: crate::MockResponse::delay
//! [`MockRequest`]: crate::MockRequest
//! [`MockTransport`]: crate::MockTransport
//! [`MockTransport::requests`]: crate::MockTransport::requests
//! [`MockTransport::most_in_flight`]: crate::MockTransport::most_in_flight
//! [`Http`]: crate::Http
//! [`Error`]: crate::Error
//! [`Error::Callback`]: crate::Error::Callback
//! [`Error::Timeout`]: crate::Error::Timeout
