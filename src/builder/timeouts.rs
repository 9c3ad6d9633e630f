//! The builder's bounds on a request's time: its total timeout, its idle timeout, its
//! minimum speed and the connect timeout.

use std::time::Duration;

use super::HttpBuilder;

impl HttpBuilder {
    /// The total time one request may take, from the moment a worker starts it (time spent
    /// waiting in the queue does not count) until its body is read. Default 30 seconds,
    /// unless an [`idle_timeout`](Self::idle_timeout) is set and this is not: then a
    /// request has no total timeout. When both are set, both apply.
    ///
    /// It is one deadline for the whole request as it was made: every redirect hop, every
    /// answer to a 401 and a cache revalidation share it. Less than a millisecond is
    /// rounded up to one (libcurl counts milliseconds), and more than a year, up to
    /// `Duration::MAX`, is taken as a year. When it runs out, the request fails with
    /// [`Error::Timeout`](crate::Error::Timeout) and [`TimeoutKind::Total`](crate::TimeoutKind::Total).
    ///
    /// [`Request::timeout`](crate::Request::timeout) sets it for one request, in place of
    /// the client's. Zero is refused: here by `build()`, on a request by failing its pair
    /// with [`Error::InvalidRequest`](crate::Error::InvalidRequest) before anything is sent.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let http = asynchttp::Http::builder().timeout(Duration::from_secs(5)).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long a request may receive nothing: an exchange that hears no byte for this long
    /// fails with [`Error::Timeout`](crate::Error::Timeout) and [`TimeoutKind::Idle`](crate::TimeoutKind::Idle),
    /// however slowly the bytes before came, while one that keeps receiving, even a byte
    /// now and then, is never ended by it. It is requests' read timeout and wget's
    /// `--read-timeout`: silence, not a speed. Default: none, except for downloads (below).
    ///
    /// The clock starts when an exchange is handed to the connection and starts again with
    /// its head and with every read of its body that brings bytes; each redirect hop or 401
    /// answer gets it whole. The head is handed over with the body's first bytes, so until
    /// those arrive the clock runs from the hand-over, and opening a new connection (itself
    /// bounded by the [`connect_timeout`](Self::connect_timeout)) counts as silence too:
    /// keep the idle timeout above the time a connection takes to open. It ends an
    /// exchange within a few milliseconds of the bound, however many run at once.
    ///
    /// Where no total timeout is set, neither with [`timeout`](Self::timeout) nor with
    /// [`Request::timeout`](crate::Request::timeout), it replaces the default total
    /// timeout: a request runs as long as bytes keep arriving. Where one is set, both
    /// apply, and whichever runs out first ends the request. A download
    /// ([`Http::download`](crate::Http::download), [`Http::send_to`](crate::Http::send_to))
    /// for which neither is set anywhere has no total timeout and an idle timeout of 30
    /// seconds.
    ///
    /// [`Request::idle_timeout`](crate::Request::idle_timeout) sets it for one request, in
    /// place of the client's. Zero is refused: here by `build()`, on a request by failing
    /// its pair with [`Error::InvalidRequest`](crate::Error::InvalidRequest) before anything is sent.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // Downloads of any length, as long as none goes silent for 30 seconds.
    /// let http = asynchttp::Http::builder().idle_timeout(Duration::from_secs(30)).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// A minimum speed: a request whose body arrives at fewer than `bytes_per_second` on
    /// average over a period of `over` fails with [`Error::Timeout`](crate::Error::Timeout) and
    /// [`TimeoutKind::MinSpeed`](crate::TimeoutKind::MinSpeed), as curl's `--speed-limit`
    /// and `--speed-time` end a transfer. Default: none.
    ///
    /// Where the [`idle_timeout`](Self::idle_timeout) bounds silence, this bounds a transfer
    /// that trickles: a mirror sending a byte every few seconds never goes silent but never
    /// finishes either. The periods follow one another from the moment the request is handed
    /// to the connection (so a new connection's set-up counts toward the first); each
    /// redirect hop or 401 answer starts again. A period looked at late is averaged over
    /// all of it. Set alone, it replaces the default total timeout, as an idle timeout
    /// does.
    ///
    /// [`Request::min_speed`](crate::Request::min_speed) sets it for one request, in place
    /// of the client's. Zero bytes or a zero period is refused: here by `build()`, on a
    /// request by failing its pair with [`Error::InvalidRequest`](crate::Error::InvalidRequest) before anything is sent.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // Give up on a mirror that sends less than 10 KiB a second over 20 seconds.
    /// let http = asynchttp::Http::builder()
    ///     .min_speed(10 * 1024, Duration::from_secs(20))
    ///     .build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn min_speed(mut self, bytes_per_second: u64, over: Duration) -> Self {
        self.min_speed = Some((bytes_per_second, over));
        self
    }

    /// The time a connection may take to open, within the total timeout: resolving the
    /// host, connecting, the TLS handshake and, through an http proxy, its `CONNECT`
    /// tunnel (libcurl's `CURLOPT_CONNECTTIMEOUT`, which its resolver honours too). When
    /// it runs out, the request fails with [`Error::Timeout`](crate::Error::Timeout) and
    /// [`TimeoutKind::Connect`](crate::TimeoutKind::Connect). Default 10 seconds. Zero is
    /// refused by `build()`, less than a millisecond rounded up to one.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let http = asynchttp::Http::builder().connect_timeout(Duration::from_secs(2)).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}
