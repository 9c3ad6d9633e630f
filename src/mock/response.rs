//! [`MockResponse`]: what a mock answers an exchange with: a response, a failure of the
//! network, or either after a delay.

use std::fmt;
use std::time::Duration;

/// A mock's answer to one exchange: a response (a status, headers and a body), or a
/// failure of the network, either of them after an optional [`delay`](Self::delay).
///
/// A response goes through everything a server's would: redirects are followed, a 401
/// answered, a body decoded as its `Content-Encoding` says and held to the body limit, the
/// cache and the cookie jar fed. Each failure ends the request with the same
/// [`Error`](crate::Error) variant a real one gives, within the same bounds:
///
/// | answer | the request's error |
/// |---|---|
/// | [`connection_refused`](Self::connection_refused) | [`Error::Connect`](crate::Error::Connect) |
/// | [`server_not_found`](Self::server_not_found) | [`Error::ServerNotFound`](crate::Error::ServerNotFound) |
/// | [`timeout`](Self::timeout), or a delay past the deadline | [`Error::Timeout`](crate::Error::Timeout), [`Total`](crate::TimeoutKind::Total) (or [`Idle`](crate::TimeoutKind::Idle) with an idle timeout) |
/// | [`connect_timeout`](Self::connect_timeout) | [`Error::Timeout`](crate::Error::Timeout), [`Connect`](crate::TimeoutKind::Connect) |
/// | [`tls_failure`](Self::tls_failure) | [`Error::Tls`](crate::Error::Tls) |
/// | [`connection_closed`](Self::connection_closed) | [`Error::BodyIncomplete`](crate::Error::BodyIncomplete) after 0 bytes |
/// | [`cut_after`](Self::cut_after) | [`Error::BodyIncomplete`](crate::Error::BodyIncomplete) after that many |
///
/// A response that no server could send (a status outside 100-999, a header name or value
/// that is not one) ends its request with [`Error::Transport`](crate::Error::Transport),
/// saying why, as a malformed answer from a server does.
///
/// ```
/// use std::time::Duration;
/// use asynchttp::{Error, Http, MockResponse, MockTransport, TimeoutKind};
///
/// let mock = MockTransport::new(|req| match req.path() {
///     "/down" => MockResponse::connection_refused(),
///     "/slow" => MockResponse::ok("late").delay(Duration::from_secs(60)),
///     _ => MockResponse::ok("ok"),
/// });
/// let http = Http::builder().mock(mock).timeout(Duration::from_millis(50)).build()?;
///
/// let (down, _) = http.request("http://api.test/down");
/// let e = asynchttp::LazyResponse::wait(&down).unwrap_err();
/// assert!(matches!(e, Error::Connect { .. }));
/// assert_eq!(e.to_string(), "could not connect to api.test:80");
///
/// let (slow, _) = http.request("http://api.test/slow");
/// let e = asynchttp::LazyResponse::wait(&slow).unwrap_err();
/// assert_eq!(e.timeout_kind(), Some(TimeoutKind::Total));
/// # Ok::<(), asynchttp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MockResponse {
    pub(crate) answer: Answer,
    /// How long the answer takes to come: nothing, until it has.
    pub(crate) delay: Duration,
}

/// A response, or a failure.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        /// The body's bytes that come before the connection breaks, if it breaks.
        cut_after: Option<u64>,
    },
    Fault(Fault),
}

/// A failure of the network, as a mock answers it, or a mock that could not answer.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    Refused,
    NotFound,
    /// Nothing ever comes back: the request's first bound to run out ends it.
    Timeout,
    /// The connection is never made: the connect timeout ends it.
    ConnectTimeout,
    Tls(Option<String>),
    /// The connection closes before any byte of the answer.
    Closed,
    /// The handler panicked, saying this.
    Panicked(String),
    /// The answer is not one a server could send, for this reason.
    Malformed(String),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Refused => f.write_str("connection refused"),
            Fault::NotFound => f.write_str("server not found"),
            Fault::Timeout => f.write_str("timeout"),
            Fault::ConnectTimeout => f.write_str("connect timeout"),
            Fault::Tls(_) => f.write_str("TLS failure"),
            Fault::Closed => f.write_str("connection closed"),
            Fault::Panicked(text) => write!(f, "mock handler panicked: {text}"),
            Fault::Malformed(why) => write!(f, "malformed mock response: {why}"),
        }
    }
}

impl MockResponse {
    /// A response with this status, no header and an empty body.
    ///
    /// ```
    /// use asynchttp::{Http, MockResponse, MockTransport};
    ///
    /// let http = Http::builder().mock(MockTransport::new(|_| MockResponse::new(404))).build()?;
    /// let (response, _) = http.request("http://api.test/missing");
    /// assert_eq!((response.status, response.reason.as_str()), (404, "Not Found"));
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn new(status: u16) -> Self {
        MockResponse {
            answer: Answer::Response {
                status,
                headers: Vec::new(),
                body: Vec::new(),
                cut_after: None,
            },
            delay: Duration::ZERO,
        }
    }

    /// A 200 with this body.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        MockResponse::new(200).body(body)
    }

    /// A `status` (429 or 503, most often) asking to be sent again after `seconds`, in its
    /// `Retry-After`: what a client with [`Retry`](crate::Retry) honours.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use asynchttp::{Http, MockResponse, MockTransport, Retry, RetryBudget};
    ///
    /// let calls = AtomicUsize::new(0);
    /// let mock = MockTransport::new(move |_| match calls.fetch_add(1, Ordering::SeqCst) {
    ///     0 => MockResponse::retry_after(503, 0),
    ///     _ => MockResponse::ok("second time"),
    /// });
    /// let http = Http::builder()
    ///     .mock(mock.clone())
    ///     .retry(Retry::new(2))
    ///     .retry_budget(RetryBudget::unlimited())
    ///     .build()?;
    /// let (response, content) = http.request("http://api.test/");
    /// assert_eq!((response.status, response.attempts), (200, 2));
    /// assert_eq!(content.to_string(), "second time");
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn retry_after(status: u16, seconds: u64) -> Self {
        MockResponse::new(status).header("Retry-After", &seconds.to_string())
    }

    /// Adds a header; a name given again adds a line of its own (as `Set-Cookie` needs).
    ///
    /// Without a `Content-Length` (or `Transfer-Encoding`) of yours, the response carries
    /// the body's length, as a server does, unless its status has no body (1xx, 204,
    /// 304). A `Content-Length` of yours is what the client goes by: a body longer than it
    /// is cut to it, a shorter one ends its request with
    /// [`Error::BodyIncomplete`](crate::Error::BodyIncomplete).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match &mut self.answer {
            Answer::Response { headers, .. } => headers.push((name.to_owned(), value.to_owned())),
            Answer::Fault(fault) => self.answer = misused("header()", fault),
        }
        self
    }

    /// The body's bytes, as they come on the wire: compressed, if a `Content-Encoding`
    /// says so.
    ///
    /// ```
    /// use std::io::Write;
    /// use asynchttp::{Http, MockResponse, MockTransport};
    ///
    /// let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    /// gzip.write_all(b"unpacked by the client")?;
    /// let packed = gzip.finish()?;
    /// let mock = MockTransport::new(move |_| {
    ///     MockResponse::ok(packed.clone()).header("Content-Encoding", "gzip")
    /// });
    /// let http = Http::builder().mock(mock).build()?;
    /// assert_eq!(http.request("http://api.test/").1.to_string(), "unpacked by the client");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        match &mut self.answer {
            Answer::Response { body, .. } => *body = bytes.into(),
            Answer::Fault(fault) => self.answer = misused("body()", fault),
        }
        self
    }

    /// Makes the answer come `delay` after the exchange reached the mock. The wait is an
    /// entry on the client's timer: no thread waits, and other requests go on meanwhile.
    /// A delay past the request's deadline ends it with
    /// [`Error::Timeout`](crate::Error::Timeout) at the deadline, past its idle timeout at
    /// the idle timeout, as a server that long silent would; shutting the client down
    /// waits for it as for a server's answer, within the same bounds.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The connection breaks after `bytes` of the body: the head announces the whole
    /// body's length, and the request fails with
    /// [`Error::BodyIncomplete`](crate::Error::BodyIncomplete) after `bytes`, the partial
    /// body never handed out. `bytes` must be less than the body's length.
    ///
    /// ```
    /// use asynchttp::{Error, Http, MockResponse, MockTransport};
    ///
    /// let mock = MockTransport::new(|_| MockResponse::ok("0123456789").cut_after(4));
    /// let http = Http::builder().mock(mock).build()?;
    /// let (response, _) = http.request("http://api.test/");
    /// match asynchttp::LazyResponse::wait(&response) {
    ///     Err(Error::BodyIncomplete { received, expected, .. }) => {
    ///         assert_eq!((received, expected), (4, Some(10)))
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn cut_after(mut self, bytes: u64) -> Self {
        match &mut self.answer {
            Answer::Response { cut_after, .. } => *cut_after = Some(bytes),
            Answer::Fault(fault) => self.answer = misused("cut_after()", fault),
        }
        self
    }

    /// Nothing listens: [`Error::Connect`](crate::Error::Connect), naming the request's
    /// `host:port` (and its proxy, if the client has one for it).
    pub fn connection_refused() -> Self {
        MockResponse::fault(Fault::Refused)
    }

    /// The host name does not resolve: [`Error::ServerNotFound`](crate::Error::ServerNotFound).
    pub fn server_not_found() -> Self {
        MockResponse::fault(Fault::NotFound)
    }

    /// Connected, and nothing ever comes back: the request ends with
    /// [`Error::Timeout`](crate::Error::Timeout) when its first bound runs out: its idle
    /// timeout if it has one, else its total timeout (30 s by default).
    ///
    /// ```
    /// use std::time::Duration;
    /// use asynchttp::{Http, MockResponse, MockTransport, TimeoutKind};
    ///
    /// let http = Http::builder()
    ///     .mock(MockTransport::new(|_| MockResponse::timeout()))
    ///     .idle_timeout(Duration::from_millis(20))
    ///     .build()?;
    /// let (response, _) = http.request("http://api.test/");
    /// let e = asynchttp::LazyResponse::wait(&response).unwrap_err();
    /// assert_eq!(e.timeout_kind(), Some(TimeoutKind::Idle));
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn timeout() -> Self {
        MockResponse::fault(Fault::Timeout)
    }

    /// The connection is never made: [`Error::Timeout`](crate::Error::Timeout) with
    /// [`TimeoutKind::Connect`](crate::TimeoutKind::Connect) after the client's connect
    /// timeout, or the total one if that comes first.
    pub fn connect_timeout() -> Self {
        MockResponse::fault(Fault::ConnectTimeout)
    }

    /// The TLS handshake fails: [`Error::Tls`](crate::Error::Tls), with `reason` as the
    /// one libcurl would give (`"invalid peer certificate: UnknownIssuer"`); an empty
    /// `reason` is none.
    pub fn tls_failure(reason: &str) -> Self {
        let reason = (!reason.is_empty()).then(|| reason.to_owned());
        MockResponse::fault(Fault::Tls(reason))
    }

    /// The connection closes before any byte of the answer (an empty reply, a reset):
    /// [`Error::BodyIncomplete`](crate::Error::BodyIncomplete) after 0 bytes, with no
    /// length known.
    pub fn connection_closed() -> Self {
        MockResponse::fault(Fault::Closed)
    }

    pub(crate) fn fault(fault: Fault) -> Self {
        MockResponse {
            answer: Answer::Fault(fault),
            delay: Duration::ZERO,
        }
    }
}

/// A part of a response given to a failure: the mistake is the request's error, rather
/// than a part silently dropped.
fn misused(what: &str, fault: &Fault) -> Answer {
    match fault {
        Fault::Malformed(_) | Fault::Panicked(_) => Answer::Fault(fault.clone()),
        _ => Answer::Fault(Fault::Malformed(format!("{what} given to a {fault}"))),
    }
}
