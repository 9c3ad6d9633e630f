//! The builder's setting for a cache whose origin fails: a stale stored response in its
//! place, within a bound.

use std::time::Duration;

use super::HttpBuilder;

impl HttpBuilder {
    /// Answer with a stale stored response, at most `max_staleness` past its freshness,
    /// when the origin cannot be reached or answers with a server error, as if every
    /// response said `Cache-Control: stale-if-error` (RFC 5861; requests-cache's
    /// `stale_if_error`, nginx's `proxy_cache_use_stale`). Off by default: a failure is
    /// the request's error, unless the response itself said `stale-if-error=N`, which is
    /// honoured within its `N` seconds with or without this setting. Needs a cache
    /// ([`cache`](Self::cache) or [`cache_store`](Self::cache_store)).
    ///
    /// **When.** A GET whose stored response is stale (or that the request asks to
    /// revalidate) is sent to the origin, and:
    /// - it fails to get there or back: the name does not resolve, the connection is
    ///   refused or unreachable, a connect, total, idle or speed timeout runs out, the
    ///   connection breaks before the whole answer arrived
    ///   ([`Error::ServerNotFound`](crate::Error::ServerNotFound),
    ///   [`Connect`](crate::Error::Connect), [`Timeout`](crate::Error::Timeout),
    ///   [`BodyIncomplete`](crate::Error::BodyIncomplete), or a proxy that answers its
    ///   tunnel with 502, 503 or 504);
    /// - or it answers 500, 502, 503 or 504. That answer is neither stored nor does it
    ///   take the stored response's place.
    ///
    /// A TLS failure never counts: a certificate that does not verify may be an attack,
    /// which a stale answer would hide. Nor does any error of the request itself or of
    /// your code.
    ///
    /// **Never** past the bound, and never for a stored response that may not be served
    /// stale (RFC 9111 §4.2.4): one with `no-cache`, `must-revalidate` or
    /// `proxy-revalidate`. A stored redirect is never given this way, nor a HEAD's, a
    /// range's or a download's answer ([`Http::send_to`](crate::Http::send_to) goes
    /// around the cache).
    ///
    /// **Who decides.** The longer of this bound and the response's own `stale-if-error`
    /// holds. A request's own `Cache-Control: stale-if-error=N` replaces both for that
    /// request, to allow more or less (`stale-if-error=0` takes only a response that is
    /// not yet stale); a request's `no-cache` turns both off unless it carries its own.
    ///
    /// **With retries**, the stale answer is the last resort: the request's
    /// [`Retry`](crate::Retry) policy sends it again first, and only when it is spent (or
    /// its budget or deadline stops it) does the stored response answer.
    /// [`force_exception_to_status_code`](Self::force_exception_to_status_code) applies
    /// only when nothing stored may answer.
    ///
    /// **The mark.** Such an answer is [`from_cache`](crate::Response::from_cache), keeps
    /// its stored status and body, carries its `Age` and the warnings a cache gave before
    /// RFC 9111 (`Warning: 110 - "Response is Stale"`, unless it was not yet stale, and
    /// `111 - "Revalidation Failed"`), and [`Response::stale_on_error`](crate::Response::stale_on_error) says
    /// what failed and how stale it was. Hooks hear of it in `on_finish`, with that
    /// response; the log says it at debug level; an adaptive
    /// [`HostLimits`](crate::HostLimits) rate hears the origin's failure, not a success.
    /// A store that forgets
    /// ([`RedisCache`](crate::guide::cache#sharing-a-cache-across-processes-with-redis))
    /// keeps an entry without validators this much longer.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let http = asynchttp::Http::builder()
    ///     .cache(".cache")
    ///     .stale_if_error(Duration::from_secs(24 * 3600)) // a day at most
    ///     .build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    ///
    /// [`guide::cache`](crate::guide::cache#when-the-origin-is-down) has the recipe.
    pub fn stale_if_error(mut self, max_staleness: Duration) -> Self {
        self.stale_if_error = Some(max_staleness);
        self
    }
}
