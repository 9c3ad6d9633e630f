//! Where it differs from asynchttp and httplib2, on purpose.
//!
//! - **Timeouts.** Every request has one deadline, 30 s by default, counted from the moment it
//!   starts, so a long queue never times out; httplib2 waits forever by default. It covers the
//!   whole request: redirect hops, answers to a 401 and a cache revalidation share it, as curl's
//!   `--max-time` and Go's `Client.Timeout` do ([`HttpBuilder::timeout`]).
//! - **Idle, connect and speed timeouts.** An idle timeout is silence, as requests' read
//!   timeout and wget's `--read-timeout` are, not a speed floor: it never ends a request that
//!   keeps receiving, however slowly ([`HttpBuilder::idle_timeout`]). The crate watches it on
//!   the pool's timer thread, so it ends an exchange within milliseconds of the bound however
//!   many run at once, where libcurl's low-speed limit averaged over seconds and fired late
//!   under load. Opening a connection is bounded on its own, 10 s by default
//!   ([`HttpBuilder::connect_timeout`]), and a speed floor is a setting of its own
//!   ([`HttpBuilder::min_speed`], curl's `--speed-limit` and `--speed-time`). [`Error::Timeout`]
//!   names the bound that ran out ([`TimeoutKind`]), where requests has `ConnectTimeout` and
//!   `ReadTimeout`.
//! - **Downloads are bounded by silence.** A download with no timeout of either kind set has no
//!   total timeout and a 30 s idle one, as curl's `--speed-time` and wget's read timeout bound
//!   one: a 10 GiB file at 100 B/s keeps going, a server that stops sending ends it
//!   ([downloads](super::downloads)).
//! - **Retries.** httplib2 makes up to two attempts (`RETRIES = 2`) on a few socket errors, with
//!   no wait, and always one more on a kept-alive connection found closed. Here libcurl does the
//!   last (for idempotent methods only, see keep-alive below), and nothing else is retried unless
//!   a [`Retry`] policy asks: then with backoff, `Retry-After`, one deadline for every attempt
//!   and a budget per client ([retries](super::retries)).
//! - **Bodies are bounded.** A body larger than `max_body_size` (100 MiB by default), counted
//!   after decompression, fails with `BodyTooLarge`; a gzip, br or zstd bomb stops at the
//!   limit.
//! - **Broken responses are errors.** A truncated, reset or badly chunked body fails with
//!   `BodyIncomplete`; partial content is never handed out.
//! - **Injection is impossible.** Space, CR, LF and other control characters in the URL are
//!   percent-encoded (httplib2's CVE-2020-11078 fix); in a method or header they are refused with
//!   `InvalidRequest` before anything is queued.
//! - **Only absolute http and https URLs.** `file:`, `ftp:` and the like are refused; so is
//!   userinfo (`http://user:pass@host/`), which would otherwise become credentials sent to
//!   whoever the URL names.
//! - **Redirects** follow httplib2's rules (300, 301, 302, 303, 307, 308; `follow_redirects`,
//!   `follow_all_redirects`, `redirect_codes`, `Request::redirections`, the `previous` chain with
//!   each hop's `content-location`), with these differences:
//!   - `Authorization`, `Cookie` and `Proxy-Authorization` are kept on a redirect to the same
//!     origin and dropped on a redirect to any other, compared with the origin of the URL the
//!     request was made for, not the previous hop (httplib2 drops `Authorization` on every
//!     redirect and keeps `Cookie`). `forward_authorization_headers(true)` keeps them everywhere.
//!     These are the headers you set; a cookie jar's cookies go where its rules say
//!     ([cookies](super::cookies)).
//!   - A POST answered with 301 is followed as GET without its body and `Content-*` headers, as
//!     302 and 303 are (httplib2 keeps POST on a 301). HEAD stays HEAD on every code.
//!   - Only http and https targets are followed; `file:`, `ftp:` or `data:` in a `Location` is
//!     `Error::RedirectRefused`. Userinfo in a `Location` is dropped, never used.
//!   - Redirect bodies are read raw, at most 64 KiB, and never decoded, so a compressed bomb in
//!     one costs nothing.
//! - **`force_exception_to_status_code`** maps failures as httplib2 does (408 for a timeout, 500
//!   for a redirect error, 400 otherwise), except requests refused before they were queued (a
//!   bad URL or header), which stay errors, and callback errors, which are not the transport's.
//! - **Drivers and workers.** asynchttp gave each request a worker thread; here a plain request
//!   runs as a future on one of two driver threads, and only requests that run code of the
//!   caller's, a cache or credentials take a worker ([how it works](crate#how-it-works)).
//!   `workers(n)` still bounds the requests running at once to n.
//! - **Workers live until shutdown**, the isahc clients are shared by all of them, and keep-alive
//!   connections survive between requests. asynchttp's workers exited whenever the queue ran
//!   empty, taking their connections with them.
//! - **Keep-alive.** Connections are reused by every worker of an `Http`. A request with an
//!   idempotent method (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) that meets a kept-alive
//!   connection the server has just closed is sent once more on a fresh one. Any other method
//!   (POST, PATCH, custom ones) keeps its connection alive too, but is never sent twice: its
//!   body goes to libcurl as a stream it cannot rewind, so where libcurl would send it again
//!   (a kept connection closed before any byte of the answer) the request fails instead, as
//!   `Error::BodyIncomplete { received: 0 }`, and the caller decides (unless its [`Retry`]
//!   policy opts it in); httplib2 resends it. Such a request without a body has nothing to
//!   rewind, so it alone gets a fresh connection.
//! - **HTTP/2.** Over https, libcurl offers HTTP/2 and `Response::version` says `20` when the
//!   server takes it. The first request to an https origin goes alone and the others to it wait
//!   for its answer (within their own deadlines); an origin that answered over HTTP/2 then gets
//!   one multiplexed connection for every worker's requests, two past 100 workers. 100 requests
//!   at once to one such origin open one connection (`tests/it/http2.rs`), where libcurl alone
//!   opens up to one per worker (isahc does not set curl's `PIPEWAIT`). A server that retires
//!   connections with GOAWAY, or refuses streams, fails no request: libcurl sends the streams it
//!   never processed again, on a new connection.
//! - **Dropped pairs still run**, as in httplib2: a request is not cancelled because nobody reads
//!   its result ([shutdown](super::port#shared-workers-and-shutdown)).
//! - **Headers you pass are a dict:** a name given twice keeps the last value. Header names are
//!   sent lower-cased, as httplib2 sends them.
//! - **Repeated response headers** are joined with `", "` by `get` and `response["..."]`, as
//!   httplib2 joins them; `get_all` gives each line's value apart, which a `Set-Cookie` with an
//!   `Expires` date needs. A response from the cache gives the same lines as the original.
//! - **`reason`** is the standard phrase for the status: libcurl does not report the server's own.
//! - **Encodings:** gzip, x-gzip, deflate (zlib or raw), and br and zstd (the `brotli` and
//!   `zstd` features, on by default), and chains of them are decoded, the original kept under
//!   `-content-encoding` as httplib2 does; `Accept-Encoding` offers them all
//!   ([compression](super::compression)). A coding the client cannot decode is an error,
//!   unless you asked for it yourself with an `Accept-Encoding` header, in which case the body
//!   is passed through untouched.
//! - **A `Content-Length` past 2⁶⁴** fails with `BodyTooLarge` before the body is read (libcurl
//!   would read it as no length and take a truncated body for a whole one); repeated
//!   `Content-Length` lines must agree.
//! - **The cache follows RFC 9111 where httplib2 does not**: it stores any status with
//!   explicit freshness and the heuristically cacheable ones (httplib2: 200 and 203), answers
//!   `Range` requests from complete entries (httplib2 bypasses the cache), invalidates after an
//!   unsafe method's response instead of before it, generates `Age`, serves within
//!   `stale-while-revalidate`, and within `stale-if-error` when the server is down or fails
//!   (httplib2 raises, or returns the 503). A caller's own conditional request gets the server's 304
//!   (httplib2 answers it from the cache as 200). See [the cache](super::cache).
//!
//! What differs because it cannot yet be otherwise is in [limits](super::limits).
//!
//! [`Error::Timeout`]: crate::Error::Timeout
//! [`HttpBuilder::connect_timeout`]: crate::HttpBuilder::connect_timeout
//! [`HttpBuilder::idle_timeout`]: crate::HttpBuilder::idle_timeout
//! [`HttpBuilder::min_speed`]: crate::HttpBuilder::min_speed
//! [`HttpBuilder::timeout`]: crate::HttpBuilder::timeout
//! [`Retry`]: crate::Retry
//! [`TimeoutKind`]: crate::TimeoutKind
