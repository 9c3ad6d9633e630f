//! The one error type of the crate.

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::Response;

mod stale;
mod suffix;

use self::suffix::{
    at_suffix, expected_suffix, path_suffix, reason_suffix, status_suffix, via_suffix,
};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error from user code (a callback or a `send_map` function).
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// Which bound on a request's time ran out, in [`Error::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// The total timeout: the whole request, redirects and all, took too long.
    Total,
    /// The idle timeout: the connection went silent, receiving no byte for that long.
    Idle,
    /// The connect timeout: resolving the host, connecting, the TLS handshake or setting up
    /// a proxy's tunnel took too long.
    Connect,
    /// The minimum speed: the body arrived slower than it on average over its period
    /// ([`HttpBuilder::min_speed`](crate::HttpBuilder::min_speed)); `after` is the period.
    MinSpeed,
}

impl std::fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutKind::Total => "total timeout",
            TimeoutKind::Idle => "idle timeout",
            TimeoutKind::Connect => "connect timeout",
            TimeoutKind::MinSpeed => "below the minimum speed",
        })
    }
}

/// Why a request failed.
///
/// An `Error` is stored once per request and handed out on every access, so it is `Clone`:
/// sources are kept behind an [`Arc`]. Its `Display` describes this layer only; the cause is
/// reached through [`source()`](std::error::Error::source), and [`Error::chain`] renders the
/// whole chain on one line.
///
/// HTTP statuses such as 404 or 500 are responses, not errors.
///
/// The types of the `source` fields (from isahc and `std::io`) are not part of this crate's
/// stable API.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be built: a bad method, header name or value, or URL.
    /// Nothing was sent.
    #[error("invalid request: {reason}")]
    #[non_exhaustive]
    InvalidRequest {
        /// What is wrong with it.
        reason: String,
    },

    /// The URI has no scheme or no authority; httplib2's `RelativeURIError`. Nothing was sent.
    #[error("only absolute URIs are allowed, got {uri:?}")]
    #[non_exhaustive]
    RelativeUri {
        /// The URI as the caller gave it.
        uri: String,
    },

    /// The host name could not be resolved; httplib2's `ServerNotFoundError`.
    #[error("unable to find the server at {host}")]
    #[non_exhaustive]
    ServerNotFound {
        /// The host that did not resolve.
        host: String,
        /// The transport's error.
        #[source]
        source: Arc<isahc::Error>,
    },

    /// No connection could be made: refused or unreachable. Through a proxy, it is the
    /// proxy that could not be reached (a proxy that refused the tunnel is
    /// [`Error::Proxy`]). A request sent to another address by
    /// [`HttpBuilder::connect_to`](crate::HttpBuilder::connect_to), or over a Unix socket,
    /// names where it went: `could not connect to api.test:443 at 127.0.0.1:8443`,
    /// `could not connect to localhost:80 at unix:/run/app.sock` (a socket that is not
    /// there fails so, with the system's reason as its source).
    #[error(
        "could not connect to {authority}{}{}",
        at_suffix(.to.as_deref()),
        via_suffix(.proxy.as_deref())
    )]
    #[non_exhaustive]
    Connect {
        /// `host:port` of the server, as the URL names it.
        authority: String,
        /// `host:port` of the proxy the request went through, if any.
        proxy: Option<String>,
        /// Where the connection went instead of the URL's host and port, if it did: the
        /// `address:port` of a connect-to target, or `unix:` and a socket's path.
        to: Option<String>,
        /// The transport's error.
        #[source]
        source: Arc<isahc::Error>,
    },

    /// A bound on the request's time ran out; `bound` says which one.
    ///
    /// - [`TimeoutKind::Total`]: the request did not complete within its total timeout,
    ///   counted from the moment a worker started it
    ///   ([`HttpBuilder::timeout`](crate::HttpBuilder::timeout)).
    /// - [`TimeoutKind::Idle`]: nothing was received for the idle timeout
    ///   ([`HttpBuilder::idle_timeout`](crate::HttpBuilder::idle_timeout)).
    /// - [`TimeoutKind::Connect`]: resolving the host, connecting, the TLS handshake or a
    ///   proxy's tunnel took longer than the connect timeout
    ///   ([`HttpBuilder::connect_timeout`](crate::HttpBuilder::connect_timeout)).
    /// - [`TimeoutKind::MinSpeed`]: fewer bytes than the minimum speed allows arrived over
    ///   its period ([`HttpBuilder::min_speed`](crate::HttpBuilder::min_speed)).
    ///
    /// The idle bound and the minimum speed are watched by the crate itself; libcurl reports the other two with one
    /// code and isahc keeps none of its text, so they are told apart by the clock: a
    /// request past its total deadline ran out of total time, one still connecting or in a
    /// TLS or proxy handshake before it, of connect time.
    ///
    /// `Display` names the bound: `timed out after 30s (total timeout)`.
    #[error("timed out after {after:?} ({bound})")]
    #[non_exhaustive]
    Timeout {
        /// The timeout that ran out, as it was set.
        after: Duration,
        /// Which bound it was.
        bound: TimeoutKind,
    },

    /// The TLS handshake or certificate verification failed.
    ///
    /// `Display` gives the reason when libcurl gave one: `TLS failure: invalid peer
    /// certificate: UnknownIssuer` for a certificate from an unknown CA, `...: NotValidForName`
    /// for one of another host, `...: Expired`, or `TLS failure: received fatal alert:
    /// ProtocolVersion` for a server below the minimum version.
    #[error("TLS failure{}", reason_suffix(.reason.as_deref()))]
    #[non_exhaustive]
    Tls {
        /// What libcurl said went wrong, when it could be learnt: isahc keeps only the
        /// error code, so the handshake is made once more (without sending anything) to
        /// read it.
        reason: Option<String>,
        /// The transport's error.
        #[source]
        source: Arc<isahc::Error>,
    },

    /// More redirects than the request allowed; httplib2's `RedirectLimit`.
    #[error("redirected more times than the limit of {limit}")]
    #[non_exhaustive]
    RedirectLimit {
        /// The number of redirects allowed.
        limit: u32,
        /// The last redirect response, its `previous` chain attached.
        response: Arc<Response>,
        /// Its body, undecoded.
        content: Arc<[u8]>,
    },

    /// A redirect status without a `Location` header; httplib2's `RedirectMissingLocation`.
    #[error("redirected but the response is missing a Location: header")]
    #[non_exhaustive]
    RedirectMissingLocation {
        /// The redirect response, its `previous` chain attached.
        response: Arc<Response>,
        /// Its body, undecoded.
        content: Arc<[u8]>,
    },

    /// A redirect to a URL that is not followed: a scheme other than http or https, or a
    /// `Location` that does not parse. Nothing was sent there.
    #[error("refused to follow the redirect to {location:?}: {reason}")]
    #[non_exhaustive]
    RedirectRefused {
        /// The `Location` as the server sent it.
        location: String,
        /// Why it is not followed.
        reason: String,
        /// The redirect response.
        response: Arc<Response>,
        /// Its body, undecoded.
        content: Arc<[u8]>,
    },

    /// The body claimed a `Content-Encoding` that could not be decoded;
    /// httplib2's `FailedToDecompressContent`.
    #[error(
        "content purported to be compressed with {encoding} but failed to decompress{}",
        reason_suffix(.reason.as_deref())
    )]
    #[non_exhaustive]
    Decompress {
        /// The `Content-Encoding` of the response.
        encoding: String,
        /// Why it could not be decoded at all (a coding this crate does not decode), when
        /// no decoder ran.
        reason: Option<String>,
        /// The decoder's own error, when one ran and failed on the bytes.
        #[source]
        source: Option<Arc<io::Error>>,
        /// The response whose body could not be decoded, as it arrived (its body is not
        /// kept). [`HttpBuilder::force_exception_to_status_code`] turns it into a 500.
        ///
        /// [`HttpBuilder::force_exception_to_status_code`]: crate::HttpBuilder::force_exception_to_status_code
        response: Option<Arc<Response>>,
    },

    /// The body, counted after decompression, is larger than
    /// [`HttpBuilder::max_body_size`](crate::HttpBuilder::max_body_size), or its
    /// `Content-Length` announces more than that; for a download, larger than its
    /// [`Destination::limit`](crate::Destination::limit).
    #[error(
        "response body is larger than its limit, {limit} bytes \
         (HttpBuilder::max_body_size, or Destination::limit for a download)"
    )]
    #[non_exhaustive]
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },

    /// The connection ended or broke after it was made, before the whole response arrived:
    /// an empty reply, a reset, a truncated body, broken chunked framing. The partial body
    /// is never handed out.
    ///
    /// A request whose method is not idempotent (POST, PATCH) that met a kept-alive
    /// connection closed before any byte of the answer fails so too, after 0 bytes: the
    /// server may have acted on it, so it is not sent again.
    #[error("response body ended early after {received} bytes{}", expected_suffix(*.expected))]
    #[non_exhaustive]
    BodyIncomplete {
        /// Body bytes received on the wire before the failure (0 if it broke in the head).
        received: u64,
        /// The announced `Content-Length`, if there was one and its head was handed over:
        /// a connection closed right after the head, before any body byte, is reported by
        /// libcurl in place of the head, so its length is not known here (`None`).
        expected: Option<u64>,
        /// The transport's error.
        #[source]
        source: Arc<isahc::Error>,
    },

    /// A download's destination refused the body: a file that could not be created,
    /// written or renamed into place, a writer that failed, or an answer to a resumed
    /// download that does not continue its partial file.
    #[error("could not write the body{}", path_suffix(.path.as_deref()))]
    #[non_exhaustive]
    Write {
        /// The file, for a download to a file.
        path: Option<std::path::PathBuf>,
        /// What the file system or the writer said.
        #[source]
        source: Arc<io::Error>,
    },

    /// The request's body could not be sent: its file could not be opened or read, its
    /// reader failed or gave fewer bytes than its length (or more), or it was a reader
    /// already read that a redirect, a 401 answer, a retry or a new connection needed again
    /// ([`Body::remake`](crate::Body::remake) makes one that can be sent again). The
    /// exchange that needed the body was cut short: the server never saw a whole body. It
    /// is not retried, and stays an error under
    /// [`force_exception_to_status_code`](crate::HttpBuilder::force_exception_to_status_code).
    ///
    /// ```text
    /// request body: could not open video.mp4: No such file or directory (os error 2)
    /// request body: the body was a reader, already sent once; a 307 redirect needs it again (Body::remake makes it again)
    /// ```
    #[error("request body: {reason}")]
    #[non_exhaustive]
    Body {
        /// What went wrong, and at which step.
        reason: String,
        /// The file, for a body (or a part of one) read from a file.
        path: Option<std::path::PathBuf>,
        /// What the file system or the reader said, when it failed.
        #[source]
        source: Option<Arc<io::Error>>,
    },

    /// The response headers are larger than the transport accepts.
    #[error("response headers are too large")]
    #[non_exhaustive]
    HeadersTooLarge {
        /// The transport's error.
        #[source]
        source: Arc<isahc::Error>,
    },

    /// Any other failure of the transport, such as a malformed response.
    #[error("transport failure")]
    #[non_exhaustive]
    Transport {
        /// The transport's error.
        #[source]
        source: Arc<isahc::Error>,
    },

    /// A callback or a `send_map` function returned an error or panicked, or a
    /// [`MockTransport`](crate::MockTransport)'s handler panicked.
    #[error("{message}")]
    #[non_exhaustive]
    Callback {
        /// `"callback returned an error"`, or `"callback panicked: "` (`"mock handler
        /// panicked: "`) and the panic's message.
        message: String,
        /// The error returned by the callback; `None` after a panic.
        #[source]
        source: Option<Arc<dyn StdError + Send + Sync>>,
    },

    /// A [`Hook`](crate::Hook) failed the request: its `before_send` returned an error or
    /// set a header that cannot be sent, or one of its methods panicked (all but
    /// `on_failure`, whose panic leaves the request's own error in place). The request is not
    /// sent again, and fails with this even under
    /// [`force_exception_to_status_code`](crate::HttpBuilder::force_exception_to_status_code).
    ///
    /// ```text
    /// hook my_app::Signer: before_send returned an error: the signing key has expired
    /// ```
    #[error("hook {hook}: {reason}")]
    #[non_exhaustive]
    Hook {
        /// The hook's [`name`](crate::Hook::name).
        hook: String,
        /// What it did: `"before_send returned an error"`, `"before_send set a header that
        /// cannot be sent"`, or the method that panicked and the panic's message
        /// (`"on_response panicked: ..."`).
        reason: String,
        /// The error the hook returned, or [`Error::InvalidRequest`] for the header it
        /// set; `None` after a panic.
        #[source]
        source: Option<Arc<dyn StdError + Send + Sync>>,
    },

    /// The body is not the JSON that was asked for (with the `json` feature). The status
    /// says whether the server meant it as a success: an error page is often not JSON.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[error("the body of the {status} response is not the JSON expected")]
    #[non_exhaustive]
    Json {
        /// The status of the response whose body this is.
        status: u16,
        /// serde_json's error, with the line and column.
        #[source]
        source: Arc<serde_json::Error>,
    },

    /// The request was cancelled with [`LazyResponse::cancel`](crate::LazyResponse::cancel)
    /// before a worker started it; nothing was sent.
    #[error("the request was cancelled before it was sent")]
    Cancelled,

    /// The worker pool's bounded queue was full: at once with [`WhenFull::Fail`], or for
    /// all of [`WhenFull::Block`]'s timeout. Nothing was sent.
    ///
    /// [`WhenFull::Fail`]: crate::WhenFull::Fail
    /// [`WhenFull::Block`]: crate::WhenFull::Block
    #[error("the request queue is full ({capacity} waiting; waited {waited:?})")]
    #[non_exhaustive]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
        /// How long the submitting thread waited for room.
        waited: Duration,
    },

    /// The [`Http`](crate::Http) was shut down before the request could be queued or run.
    #[error("the Http client is shut down")]
    Closed,

    /// The client could not be set up: a setting of the builder was refused, or the
    /// transport could not be made.
    #[error("could not set up the client: {reason}")]
    #[non_exhaustive]
    Init {
        /// What failed.
        reason: String,
    },

    /// The worker could not run the request: no worker thread could be started, or the
    /// worker panicked outside any callback (a defect of this crate; a callback's panic
    /// is [`Error::Callback`]). Nothing more is known of whether it was sent.
    #[error("the worker failed: {reason}")]
    #[non_exhaustive]
    Worker {
        /// What happened to it.
        reason: String,
    },

    /// A [`CookieJar`](crate::CookieJar) could not be saved or loaded (the writer or reader
    /// failed, or the text is not a saved jar), was given a public suffix list that does
    /// not parse, or refused a cookie handed to [`CookieJar::add`](crate::CookieJar::add).
    #[error("cookie jar: {reason}")]
    #[non_exhaustive]
    CookieJar {
        /// What could not be done.
        reason: String,
        /// The I/O, JSON or cookie error behind it, when there is one.
        #[source]
        source: Option<Arc<dyn StdError + Send + Sync>>,
    },

    /// The proxy would not open a tunnel to the server: it answered the `CONNECT` of an
    /// https request with an error status (407 when it wants credentials, or other ones;
    /// 502 when it could not reach the server), or a SOCKS proxy refused. Nothing reached
    /// the server.
    ///
    /// ```text
    /// the proxy 127.0.0.1:3128 refused the tunnel to example.com:443: 407 Proxy Authentication Required
    /// ```
    ///
    /// A proxy that cannot be reached at all is [`Error::Connect`].
    #[error("the proxy {proxy} refused the tunnel to {target}{}", status_suffix(*.status))]
    #[non_exhaustive]
    Proxy {
        /// `host:port` of the proxy.
        proxy: String,
        /// `host:port` of the server the tunnel was for.
        target: String,
        /// The status of the proxy's answer to the `CONNECT`; `None` for a SOCKS proxy.
        status: Option<u16>,
        /// The transport's error.
        #[source]
        source: Arc<isahc::Error>,
    },
}

impl Error {
    /// The error of a body that is not the JSON expected.
    #[cfg(feature = "json")]
    pub(crate) fn json(status: u16, source: serde_json::Error) -> Self {
        Error::Json {
            status,
            source: Arc::new(source),
        }
    }

    /// This error and all its sources on one line, separated by `": "`.
    ///
    /// ```
    /// let e = asynchttp::Error::Closed;
    /// assert_eq!(e.chain(), "the Http client is shut down");
    /// ```
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = self.source();
        while let Some(cause) = source {
            let _ = write!(text, ": {cause}");
            source = cause.source();
        }
        text
    }

    /// True for [`Error::Timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // A server that takes the connection and never answers.
    /// let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let http = asynchttp::Http::builder().timeout(Duration::from_millis(100)).build()?;
    /// let (response, _) = http.request(&format!("http://{}/", silent.local_addr()?));
    /// assert!(asynchttp::LazyResponse::wait(&response).unwrap_err().is_timeout());
    /// assert!(!asynchttp::Error::Closed.is_timeout());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// The error of a cookie jar that could not do what `reason` says, for `source`.
    pub(crate) fn cookie_jar(
        reason: impl Into<String>,
        source: Option<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Error::CookieJar {
            reason: reason.into(),
            source: source.map(Arc::from),
        }
    }

    /// Which bound ran out, for [`Error::Timeout`]; `None` for any other error.
    ///
    /// ```
    /// use std::time::Duration;
    /// use asynchttp::TimeoutKind;
    ///
    /// // A server that takes the connection and never answers.
    /// let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let http = asynchttp::Http::builder().timeout(Duration::from_millis(100)).build()?;
    /// let (response, _) = http.request(&format!("http://{}/", silent.local_addr()?));
    /// let error = asynchttp::LazyResponse::wait(&response).unwrap_err();
    /// assert_eq!(error.timeout_kind(), Some(TimeoutKind::Total));
    /// assert_eq!(asynchttp::Error::Closed.timeout_kind(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timeout_kind(&self) -> Option<TimeoutKind> {
        match self {
            Error::Timeout { bound, .. } => Some(*bound),
            _ => None,
        }
    }

    /// The error of a request body that could not be sent, for `reason`.
    pub(crate) fn body(
        reason: impl Into<String>,
        path: Option<&std::path::Path>,
        source: Option<io::Error>,
    ) -> Self {
        Error::Body {
            reason: reason.into(),
            path: path.map(std::path::Path::to_path_buf),
            source: source.map(Arc::new),
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Error::InvalidRequest {
            reason: reason.into(),
        }
    }

    /// The error of a request whose driver or worker panicked while running it, outside
    /// any callback.
    pub(crate) fn worker_panicked() -> Self {
        Error::Worker {
            reason: "it panicked while running this request".to_owned(),
        }
    }

    pub(crate) fn callback_panicked(payload: &(dyn std::any::Any + Send)) -> Self {
        Error::Callback {
            message: format!("callback panicked: {}", panic_text(payload)),
            source: None,
        }
    }

    pub(crate) fn from_callback(error: BoxError) -> Self {
        Error::Callback {
            message: "callback returned an error".to_owned(),
            source: Some(Arc::from(error)),
        }
    }
}

/// A panic's message, as the errors that carry one show it.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 96,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn tls_and_proxy_failures_say_why() {
        let source = Arc::new(isahc::Error::from(io::Error::other("refused")));
        let tls = |reason: Option<&str>| Error::Tls {
            reason: reason.map(str::to_owned),
            source: source.clone(),
        };
        assert_eq!(tls(None).to_string(), "TLS failure");
        assert_eq!(
            tls(Some("invalid peer certificate: UnknownIssuer")).to_string(),
            "TLS failure: invalid peer certificate: UnknownIssuer"
        );
        let proxy = |status| Error::Proxy {
            proxy: "127.0.0.1:3128".to_owned(),
            target: "origin.test:443".to_owned(),
            status,
            source: source.clone(),
        };
        assert_eq!(
            proxy(Some(407)).to_string(),
            "the proxy 127.0.0.1:3128 refused the tunnel to origin.test:443: 407 Proxy Authentication Required"
        );
        assert_eq!(
            proxy(Some(599)).to_string(),
            "the proxy 127.0.0.1:3128 refused the tunnel to origin.test:443: 599"
        );
        assert_eq!(
            proxy(None).to_string(),
            "the proxy 127.0.0.1:3128 refused the tunnel to origin.test:443"
        );
        let connect = Error::Connect {
            authority: "origin.test:443".to_owned(),
            proxy: Some("127.0.0.1:3128".to_owned()),
            to: None,
            source: source.clone(),
        };
        assert_eq!(
            connect.to_string(),
            "could not connect to origin.test:443 through the proxy 127.0.0.1:3128"
        );
        let elsewhere = Error::Connect {
            authority: "localhost:80".to_owned(),
            proxy: None,
            to: Some("unix:/run/app.sock".to_owned()),
            source: source.clone(),
        };
        assert_eq!(
            elsewhere.to_string(),
            "could not connect to localhost:80 at unix:/run/app.sock"
        );
    }

    #[test]
    fn chain_renders_sources() {
        let source: BoxError = "bad json".into();
        let e = Error::from_callback(source);
        assert_eq!(e.chain(), "callback returned an error: bad json");
        let e = Error::BodyIncomplete {
            received: 10,
            expected: Some(100),
            source: Arc::new(isahc::Error::from(io::Error::other("closed"))),
        };
        assert!(
            e.to_string()
                .starts_with("response body ended early after 10 bytes of 100")
        );
    }
}
