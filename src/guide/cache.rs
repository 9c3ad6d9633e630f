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
//!   once it is stale beyond its `stale-while-revalidate` or `stale-if-error`; one with
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
//! # What the test suite fails, and why
//!
//! - **`stale-close-must-revalidate`, `stale-close-no-cache`** (required) depend on the check
//!   `stale-close`: serving a stale response when the server cannot be reached. The cache never
//!   does that (httplib2 does not either), so these two are graded as failed dependencies.
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
//! [`MemoryCache`]: crate::MemoryCache
#![cfg_attr(feature = "redis", doc = "[`RedisCache`]: crate::RedisCache")]
#![cfg_attr(
    not(feature = "redis"),
    doc = "[`RedisCache`]: https://docs.rs/asynchttp/latest/asynchttp/struct.RedisCache.html"
)]
