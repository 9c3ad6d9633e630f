//! The HTTP cache: RFC 9111's rules for a private cache, beside httplib2's `Http(".cache")`.
//!
//! ```python
//! http = httplib2.Http(".cache")
//! response, content = http.request(url)
//! response.fromcache
//! ```
//!
//! ```no_run
//! let http = asynchttp::Http::builder().cache(".cache").build()?;
//! let (response, _content) = http.request("http://127.0.0.1:8080/doc");
//! println!("{}", response.from_cache);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! [`HttpBuilder::cache`] keeps one file per URL in a directory ([`FileCache`]);
//! [`HttpBuilder::cache_store`] takes any [`Cache`] (`get`, `set`, `delete` of bytes, like
//! httplib2's memcache-compatible objects), such as a [`MemoryCache`], or a [`RedisCache`]
//! that processes on many machines share ([below](#sharing-a-cache-across-processes-with-redis)). The rules pass more of
//! the public HTTP cache test suite than any browser (the README's "HTTP cache conformance"
//! has the score and the command to run it):
//!
//! - **Stored:** any final response with explicit freshness (`max-age`, `Expires`, `public`),
//!   and the statuses RFC 9110 allows heuristic freshness for (200, 203, 204, 206, 300, 301,
//!   308, 404, 405, 410, 414, 501: a tenth of the time since `Last-Modified`, a week at most).
//!   Never `no-store`, a response to a request with credentials unless `public`,
//!   `must-revalidate` or `s-maxage` allow it, `Vary: *`, or the headers named in `Connection`.
//! - **Fresh:** served without the network, right when the request is made (the pair is ready
//!   at once; a request with a callback still goes through a worker), with an `Age` header.
//!   Directive names in any case, the first valid `Age`, `Expires` in all three HTTP date forms,
//!   request directives (`no-cache`, `max-age`, `min-fresh`, `max-stale`, `only-if-cached`,
//!   which without an entry or without a cache is a 504 with nothing sent; `Pragma: no-cache`).
//! - **Stale:** revalidated with `If-None-Match` / `If-Modified-Since`; a 304 updates the stored
//!   response and is answered as 200 from it, with `from_cache`, also when it repeats no
//!   validator. Within `stale-while-revalidate` the stale response is answered at once and the
//!   worker refreshes it afterwards. A caller who sent a conditional header gets the 304.
//!   Within `stale-if-error`, or [`HttpBuilder::stale_if_error`], the stale response answers
//!   when the origin is down or fails ([below](#when-the-origin-is-down)).
//! - **Ranges:** a `Range` is answered from a complete fresh entry (206 with `Content-Range`,
//!   416 past the end; several ranges get the whole 200); a complete 200 fetched for a range
//!   request is stored.
//! - **Unsafe methods** invalidate their URL, and the same-origin URLs in `Location` and
//!   `Content-Location`, once a non-error response arrives (or the request failed and its
//!   effect is unknown); PUT and PATCH carry `If-Match` with the cached `ETag` (off with
//!   [`HttpBuilder::ignore_etag`]).
//! - **Redirects:** each hop of a chain is looked up in the cache; 301 and 308 responses are
//!   kept as permanent redirects, so a later GET of their URL goes straight to the target, the
//!   redirect in `previous` with `from_cache` (for as long as their own `max-age` or `Expires`
//!   says, if they have one). A fresh GET entry also answers a HEAD (with an empty body); a HEAD
//!   response about the stored one updates its headers.
//! - **Cookies:** see [cookies](super::cookies#what-is-stored-sent-and-saved).
//!
//! Unlike httplib2's `FileCache`, writes are atomic (a temporary file renamed into place), every
//! file is checksummed (a damaged one is a miss and is deleted), file names are portable and
//! bounded, and an unusable directory turns caching off with a warning instead of failing
//! requests.
//!
//! # Sharing a cache across processes with Redis
//!
//! httplib2 takes any memcache-like object as its cache, so that every process of a fleet
//! shares one:
//!
//! ```python
//! http = httplib2.Http(cache=memcache.Client(["10.0.0.5:11211"]))
//! ```
//!
//! With the `redis` feature, [`RedisCache`] keeps the entries in Redis:
//!
//! ```toml
//! asynchttp = { version = "0.1", features = ["redis"] }
//! ```
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use asynchttp::{Http, RedisCache};
//!
//! let cache = RedisCache::builder("redis://10.0.0.5:6379/")
//!     .prefix("crawler:http:") // apart from other applications on the same Redis
//!     .response_timeout(Duration::from_millis(100))
//!     .build()?; // checks the URL; connects on first use
//! let http = Http::builder().cache_store(Arc::new(cache)).workers(32).build()?;
//! let (response, _content) = http.request("http://127.0.0.1:8080/doc");
//! println!("{}", response.from_cache); // true if any process fetched it while fresh
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "redis"))]
//! # fn main() {}
//! ```
//!
//! Every process built this way, on any machine, shares the entries: what one fetched
//! answers the others while it is fresh, and once it is stale the first to ask revalidates
//! it with its `ETag` or `Last-Modified`, and the `304` updates it for all. A Redis Cluster
//! takes some of its nodes' URLs, `RedisCache::cluster(["redis://10.0.0.1:7000/", ...])`.
//!
//! - **In Redis:** one string per URL, named by the prefix and the URL, each written by one
//!   `SET` (no reader sees half of one) and checksummed. `redis-cli --scan --pattern
//!   'crawler:http:*'` lists them, `TTL` says how long each has left.
//! - **Expiry:** an entry goes when it can answer nothing more: one without validators
//!   once it is stale beyond its `stale-while-revalidate` or `stale-if-error`, or the
//!   client's [`HttpBuilder::stale_if_error`] if that is longer; one with
//!   validators, and a permanent redirect, a week after it was last stored
//!   (`keep_validated`). Give Redis a `maxmemory` and `maxmemory-policy allkeys-lru`, and
//!   the least used go first when it fills.
//! - **Redis slow or away:** each call waits 250 ms at most (`connect_timeout`,
//!   `response_timeout`); a read that fails is a miss and a write is skipped, never an
//!   error of the request. The outage is logged once at warn, and at info when Redis is
//!   back; meanwhile Redis is tried once a second, so requests go at the server's pace.
//!   What a client gives up while it is away is on [`RedisCache`].
//!
//! The HTTP cache test suite scores the same through Redis as through files
//! (`conformance/cache-tests/run.sh --redis`, beside a redis-server of its own).
//!
//! # When the origin is down
//!
//! A program that reads a price list or a configuration every minute would rather have the
//! last good copy than an error while its server is down for a deploy. requests-cache
//! offers it as a session setting:
//!
//! ```python
//! session = requests_cache.CachedSession(stale_if_error=timedelta(hours=1))
//! ```
//!
//! [`HttpBuilder::stale_if_error`] does the same: when the origin cannot be reached, or
//! answers 500, 502, 503 or 504, a stale stored response answers in its place, an hour past
//! its freshness at most here. The answer is marked: [`Response::stale_on_error`] says what
//! failed and how stale it was, and `Warning: 110` and `111` say it to code that reads
//! headers, as httplib2-era caches did.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::time::Duration;
//! use asynchttp::{Http, MemoryCache, MockResponse, MockTransport};
//!
//! // The origin answers once, then is down for maintenance (a mock stands in for it).
//! let down = Arc::new(AtomicBool::new(false));
//! let origin = down.clone();
//! let mock = MockTransport::new(move |_| match origin.load(Ordering::SeqCst) {
//!     false => MockResponse::ok("EUR 1.08").header("Cache-Control", "max-age=0"),
//!     true => MockResponse::new(503).header("Retry-After", "120"),
//! });
//! let http = Http::builder()
//!     .mock(mock)
//!     .cache_store(Arc::new(MemoryCache::new()))
//!     .stale_if_error(Duration::from_secs(3600))
//!     .build()?;
//! assert_eq!(http.request("http://rates.test/eur").1.to_string(), "EUR 1.08");
//!
//! down.store(true, Ordering::SeqCst);
//! let (response, content) = http.request("http://rates.test/eur");
//! assert_eq!((response.status, content.to_string()), (200, "EUR 1.08".to_owned()));
//! assert!(response.from_cache);
//! let stale = response.stale_on_error().expect("the stored copy, stale");
//! assert_eq!(stale.status(), Some(503));
//! assert!(stale.staleness() < Duration::from_secs(3600));
//! let warnings: Vec<&str> = response.get_all("warning").collect();
//! assert_eq!(warnings, [r#"110 - "Response is Stale""#, r#"111 - "Revalidation Failed""#]);
//! // "the origin answered 503; a stored response 0s stale answered instead"
//! println!("{stale}");
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! Without the setting, a response's own `Cache-Control: stale-if-error=N` (RFC 5861) is
//! honoured within its `N` seconds, and a request's own `Cache-Control: stale-if-error=N`
//! decides for that request, to allow more or less. What counts as the origin failing, what
//! is never served this way, and how it goes with retries is on
//! [`HttpBuilder::stale_if_error`]. In short:
//!
//! - **Failures:** a name that does not resolve, a connection refused or unreachable, any
//!   timeout, a connection that breaks before the whole answer, a proxy that cannot reach
//!   the server; or a 500, 502, 503 or 504, which is then neither stored nor put in the
//!   stored response's place. Not a TLS failure: a certificate that does not verify may be
//!   an attack, and a stale answer would hide it.
//! - **Never** past the bound, nor for a stored response with `no-cache`,
//!   `must-revalidate` or `proxy-revalidate`, nor for a request's `no-cache` (unless it
//!   carries its own `stale-if-error`). Nothing stored: the error, or the 5xx, as before.
//! - **Retries first:** with a [`Retry`](crate::Retry) policy the request is sent again as
//!   it says, and the stored response answers only once it is spent;
//!   `force_exception_to_status_code` makes a status only when nothing stored may answer.
//! - **Hooks and logs:** the hooks' `on_finish` gets the stale response, whose
//!   `stale_on_error()` holds the error or the status (each `on_response` saw the 5xx's
//!   head); the debug log says `req=7 the origin answered 503; a stored response 12s stale
//!   answered instead`.
//! - **Also:** an entry answered within `stale-while-revalidate` whose background refresh
//!   meets a server error stays stored, for this to answer later. `only-if-cached` never
//!   asks the origin, so it never meets an error. A download goes around the cache, and a
//!   HEAD or a `Range` request is not answered this way. A [`RedisCache`] keeps entries
//!   without validators for the client's bound too.
//!
//! # What the test suite fails, and why
//!
//! The suite's runner turns on `stale_if_error` (a day), as a browser serves stale pages
//! offline, so that the check `stale-close` (a stale response when the server closes the
//! connection) and the tests that depend on it run: `stale-close-must-revalidate` and
//! `stale-close-no-cache` pass.
//!
//! - **`headers-store-Transfer-Encoding`** (required): an unknown transfer coding, which libcurl
//!   refuses (see [limits](super::limits)).
//! - **`partial-store-partial-*`** (5, optimal): storing 206 responses and combining them. Only
//!   complete responses are stored; ranges are answered from those.
//! - **`vary-normalise-lang-*`, `vary-invalidate`** (4, optimal): one entry per URL, and `Vary`
//!   values compared after whitespace is normalised, not by each header's own grammar.
//! - **`cc-resp-immutable-fresh`** (optimal, browsers only): a request's own `no-cache` is
//!   honoured even when the response is `immutable`; a program that asks for a fresh copy gets
//!   one.
//!
//! [`Cache`]: crate::Cache
//! [`FileCache`]: crate::FileCache
//! [`HttpBuilder::cache`]: crate::HttpBuilder::cache
//! [`HttpBuilder::cache_store`]: crate::HttpBuilder::cache_store
//! [`HttpBuilder::ignore_etag`]: crate::HttpBuilder::ignore_etag
//! [`HttpBuilder::stale_if_error`]: crate::HttpBuilder::stale_if_error
//! [`Response::stale_on_error`]: crate::Response::stale_on_error
//! [`MemoryCache`]: crate::MemoryCache
#![cfg_attr(feature = "redis", doc = "[`RedisCache`]: crate::RedisCache")]
#![cfg_attr(
    not(feature = "redis"),
    doc = "[`RedisCache`]: https://docs.rs/asynchttp/latest/asynchttp/struct.RedisCache.html"
)]
