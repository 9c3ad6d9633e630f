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
//! httplib2's memcache-compatible objects), such as a [`MemoryCache`]. The rules pass more of
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
