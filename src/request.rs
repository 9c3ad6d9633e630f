//! A request as the caller describes it, and its validation before anything is queued.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use isahc::http::{HeaderName, HeaderValue, Method};
use url::Url;

use crate::body::Again;
use crate::deadline::{self, Floor};
use crate::download::Sink;
use crate::error::BoxError;
use crate::hooks::{HookList, Hooked};
use crate::retry::Retry;
use crate::transport::connect::ConnectOverrides;
use crate::{Body, Error, Hook, Response, sendable, uri};

mod connect;

/// A callback run on the worker after the body is read; it may change both.
pub(crate) type Callback =
    Box<dyn FnOnce(&mut Response, &mut Vec<u8>) -> Result<(), BoxError> + Send + 'static>;

/// A request to send with [`Http::send`](crate::Http::send): httplib2's
/// `request(uri, method, body, headers, redirections)` as a builder.
///
/// Nothing is checked until the request is sent; a bad method, header or URL then gives an
/// already-failed pair.
///
/// ```
/// use asynchttp::Request;
///
/// let req = Request::new("PUT", "http://127.0.0.1:8080/doc")
///     .header("Content-Type", "text/plain")
///     .body("hello")
///     .redirections(2);
/// assert_eq!(req.method(), "PUT");
/// assert_eq!(req.uri(), "http://127.0.0.1:8080/doc");
/// ```
pub struct Request {
    /// A standard method is static: no allocation for it in the request or its copies.
    pub(crate) method: Cow<'static, str>,
    /// Shared with the copy of the request that a batch keeps, and with its slot.
    pub(crate) uri: Arc<str>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) redirections: u32,
    pub(crate) timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    /// Bytes a second, over a period.
    pub(crate) min_speed: Option<(u64, Duration)>,
    /// Its own retry policy, instead of the client's.
    pub(crate) retry: Option<Arc<Retry>>,
    /// Where and how fast it connects, in place of the client's settings, when it says.
    pub(crate) connect: Option<Box<ConnectOverrides>>,
    pub(crate) callback: Option<Callback>,
    /// Its own hooks, run after the client's.
    pub(crate) hooks: HookList,
    /// Where a download streams its body (`Http::send_to`).
    pub(crate) sink: Option<Box<Sink>>,
    /// Why it cannot be sent, found while it was built (a JSON body that did not
    /// serialise, a form whose file could not be read): it fails when sent, as a bad
    /// header does.
    pub(crate) refused: Option<Box<Error>>,
}

/// httplib2's `DEFAULT_MAX_REDIRECTS`.
pub(crate) const DEFAULT_REDIRECTIONS: u32 = 5;

/// A URL makes a GET request, for [`Http::batch`](crate::Http::batch).
impl From<&str> for Request {
    fn from(uri: &str) -> Self {
        Request::get(uri)
    }
}

/// A URL makes a GET request, for [`Http::batch`](crate::Http::batch).
impl From<String> for Request {
    fn from(uri: String) -> Self {
        Request::get(uri)
    }
}

/// A URL makes a GET request, for [`Http::batch`](crate::Http::batch).
impl From<&String> for Request {
    fn from(uri: &String) -> Self {
        Request::get(uri.as_str())
    }
}

impl Request {
    /// A request with any method token (`"GET"`, `"PROPFIND"`, ...).
    ///
    /// ```
    /// let req = asynchttp::Request::new("PROPFIND", "http://127.0.0.1:8080/dav/");
    /// assert_eq!(req.method(), "PROPFIND");
    /// ```
    pub fn new(method: impl Into<String>, uri: impl Into<String>) -> Self {
        Request {
            method: static_method(method.into()),
            uri: Arc::from(uri.into()),
            headers: Vec::new(),
            body: Body::empty(),
            redirections: DEFAULT_REDIRECTIONS,
            timeout: None,
            idle_timeout: None,
            min_speed: None,
            retry: None,
            connect: None,
            callback: None,
            hooks: HookList::default(),
            sink: None,
            refused: None,
        }
    }

    /// A GET request.
    ///
    /// ```
    /// assert_eq!(asynchttp::Request::get("http://127.0.0.1/").method(), "GET");
    /// ```
    pub fn get(uri: impl Into<String>) -> Self {
        Request::new("GET", uri)
    }

    /// Sets a header. As in httplib2's headers dict, a name set twice (in any case) keeps the
    /// last value.
    ///
    /// ```
    /// let req = asynchttp::Request::get("http://127.0.0.1/")
    ///     .header("Accept", "text/html")
    ///     .header("accept", "application/json"); // replaces the first
    /// # drop(req);
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
        self.headers.push((name, value));
        self
    }

    /// Sets the body: `&str`, `String`, `&[u8]` or `Vec<u8>`, or a [`Body`] read as it is
    /// sent: a file, or a reader (see [`guide::uploads`](crate::guide::uploads)).
    ///
    /// ```
    /// use asynchttp::{Body, Request};
    ///
    /// let req = Request::new("POST", "http://127.0.0.1/").body(vec![1u8, 2, 3]);
    /// let video = Request::new("PUT", "http://127.0.0.1/v/1").body(Body::file("video.mp4"));
    /// # drop((req, video));
    /// ```
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// How many redirects this request may follow (httplib2's `redirections`, default 5).
    ///
    /// ```
    /// let req = asynchttp::Request::get("http://127.0.0.1/").redirections(0);
    /// # drop(req);
    /// ```
    pub fn redirections(mut self, n: u32) -> Self {
        self.redirections = n;
        self
    }

    /// This request's [`HttpBuilder::timeout`](crate::HttpBuilder::timeout), in place of the
    /// client's; the rules are there.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let req = asynchttp::Request::get("http://127.0.0.1/").timeout(Duration::from_millis(500));
    /// # drop(req);
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// This request's [`HttpBuilder::idle_timeout`](crate::HttpBuilder::idle_timeout), in
    /// place of the client's; the rules are there.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // A large download: no limit on its length, but never silent for 20 seconds.
    /// let req = asynchttp::Request::get("http://127.0.0.1/big.iso")
    ///     .idle_timeout(Duration::from_secs(20));
    /// # drop(req);
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// This request's [`HttpBuilder::min_speed`](crate::HttpBuilder::min_speed), in place of
    /// the client's; the rules are there.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // At least 1 KiB a second over any 30 seconds, as `curl -Y 1024 -y 30`.
    /// let req = asynchttp::Request::get("http://127.0.0.1/big.iso")
    ///     .min_speed(1024, Duration::from_secs(30));
    /// # drop(req);
    /// ```
    pub fn min_speed(mut self, bytes_per_second: u64, over: Duration) -> Self {
        self.min_speed = Some((bytes_per_second, over));
        self
    }

    /// This request's [`HttpBuilder::retry`](crate::HttpBuilder::retry), in place of the
    /// client's; the rules are there.
    ///
    /// ```
    /// use asynchttp::{Request, Retry};
    ///
    /// let req = Request::get("http://127.0.0.1:8080/flaky").retry(Retry::new(5));
    /// # drop(req);
    /// ```
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = Some(Arc::new(retry));
        self
    }

    /// A callback run on the worker once the body is read, before the pair is fulfilled.
    ///
    /// It may change the response and the body. If it returns an error, or panics, the
    /// request fails with [`Error::Callback`]. It is not called when the request itself
    /// failed.
    ///
    /// ```
    /// let req = asynchttp::Request::get("http://127.0.0.1:8080/")
    ///     .callback(|response, body| {
    ///         response.insert("x-length", body.len().to_string());
    ///         Ok::<(), std::io::Error>(())
    ///     });
    /// # drop(req);
    /// ```
    pub fn callback<F, E>(mut self, callback: F) -> Self
    where
        F: FnOnce(&mut Response, &mut Vec<u8>) -> Result<(), E> + Send + 'static,
        E: Into<BoxError>,
    {
        self.callback = Some(Box::new(move |r, c| callback(r, c).map_err(Into::into)));
        self
    }

    /// A hook for this request alone, run after the client's
    /// ([`HttpBuilder::hook`](crate::HttpBuilder::hook)), in the order added; see [`Hook`].
    /// Like a callback, it makes the request run on a worker thread.
    ///
    /// ```
    /// use asynchttp::{BoxError, Hook, Outgoing, Request};
    ///
    /// struct Idempotency(String);
    ///
    /// impl Hook for Idempotency {
    ///     fn before_send(&self, attempt: &mut Outgoing<'_>) -> Result<(), BoxError> {
    ///         // The same key on every attempt: the server acts on the order once.
    ///         attempt.set_header("Idempotency-Key", &self.0)?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let req = Request::new("POST", "http://127.0.0.1:8080/orders")
    ///     .body("{}")
    ///     .hook(Idempotency("order-8731".to_owned()));
    /// # drop(req);
    /// ```
    pub fn hook(mut self, hook: impl Hook) -> Self {
        self.hooks.push(hook);
        self
    }

    /// A copy without the callback, which runs once: what a retry sends again.
    pub(crate) fn resendable(&self) -> Request {
        Request {
            method: self.method.clone(),
            uri: self.uri.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            redirections: self.redirections,
            timeout: self.timeout,
            idle_timeout: self.idle_timeout,
            min_speed: self.min_speed,
            retry: self.retry.clone(),
            connect: self.connect.clone(),
            callback: None,
            hooks: self.hooks.clone(),
            sink: None,
            refused: self.refused.clone(),
        }
    }

    /// Sets the body to `body`, as made by [`Request::multipart`] and the like.
    ///
    /// Sets the body the request sends: one the crate made (a form, a JSON value).
    pub(crate) fn with_body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Fails the request when it is sent, with `error`, unless it is failed already: a
    /// JSON value that does not serialise.
    #[cfg(feature = "json")]
    pub(crate) fn refuse(mut self, error: Error) -> Self {
        self.refused.get_or_insert_with(|| Box::new(error));
        self
    }

    /// Sets a header, unless the caller set one of that name.
    pub(crate) fn header_unless_set(self, name: &str, value: &str) -> Self {
        if self.has_header(name) {
            self
        } else {
            self.header(name, value)
        }
    }

    /// The method as given.
    ///
    /// ```
    /// assert_eq!(asynchttp::Request::new("delete", "http://h/").method(), "delete");
    /// ```
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The URI as given.
    ///
    /// ```
    /// assert_eq!(asynchttp::Request::get("http://h/a b").uri(), "http://h/a b");
    /// ```
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Whether the caller set a header named `name`, in any case.
    pub(crate) fn has_header(&self, name: &str) -> bool {
        has_header(&self.headers, name)
    }

    /// Checks every part and builds what the worker sends. `uri` is this request's, taken
    /// out of it by the caller, which still has it to show if the request is refused.
    pub(crate) fn prepare(self, uri: &str) -> Result<Prepared, Error> {
        if let Some(refused) = self.refused {
            return Err(*refused);
        }
        let method = Method::from_bytes(self.method.as_bytes())
            .map_err(|_| Error::invalid(format!("bad method {:?}", self.method)))?;
        let floor = deadline::checked(&[self.timeout, self.idle_timeout], self.min_speed)
            .map_err(Error::invalid)?;
        let url = uri::parse(uri)?;
        if let Some(reason) = self.connect.as_ref().and_then(|c| c.refused()) {
            return Err(Error::invalid(reason));
        }
        let mut headers = Vec::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            headers.push(sendable::header(name, value)?);
        }
        let asked_encoding = self.has_header("accept-encoding");
        // The defaults are added by the transport: nothing to store for each queued request.
        let defaults = Defaults {
            user_agent: !self.has_header("user-agent"),
            accept_encoding: !asked_encoding && !self.has_header("range"),
            // Set by the client that queues it, which knows whether it has a jar.
            cookies: false,
        };
        Ok(Prepared {
            method,
            url,
            headers,
            authorization: None,
            defaults,
            body: self.body,
            again: None,
            asked_encoding,
            redirections: self.redirections,
            timeouts: Timeouts::new(self.timeout, self.idle_timeout, floor),
            retry: self.retry,
            connect: self.connect,
            callback: self.callback.map(Mutex::new),
            // Attached by the client that queues it, which has its own and knows the id.
            hooks: None,
            sink: self.sink.map(Mutex::new),
        })
    }
}

/// A standard method as a static string, any other as given.
fn static_method(method: String) -> Cow<'static, str> {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
    ];
    match STANDARD.iter().find(|m| **m == method) {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Owned(method),
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values and bodies may hold secrets: names and sizes only.
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("body", &self.body)
            .field("redirections", &self.redirections)
            .field("connect", &self.connect)
            .field("callback", &self.callback.is_some())
            .field("hooks", &self.hooks)
            .field("download", &self.sink.is_some())
            .field("refused", &self.refused.is_some())
            .finish()
    }
}

/// Which default headers the transport adds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Defaults {
    pub(crate) user_agent: bool,
    pub(crate) accept_encoding: bool,
    /// The client's cookie jar gives a `Cookie` header to each hop that carries none of
    /// the caller's (see [`Prepared::jar_cookies`]).
    pub(crate) cookies: bool,
}

/// A checked request, ready for the transport.
pub(crate) struct Prepared {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Made from the client's credentials for the URL of this hop.
    pub(crate) authorization: Option<HeaderValue>,
    pub(crate) defaults: Defaults,
    pub(crate) body: Body,
    /// Why the body is being sent again, once it is (a redirect, a 401, a retry): what the
    /// error of a body that cannot be names.
    pub(crate) again: Option<Again>,
    /// The caller chose `Accept-Encoding`, so codings we cannot decode are passed through.
    pub(crate) asked_encoding: bool,
    pub(crate) redirections: u32,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: Option<Arc<Retry>>,
    /// Its own values for where and how fast it connects; every hop and attempt of it
    /// keeps them.
    pub(crate) connect: Option<Box<ConnectOverrides>>,
    /// In a mutex only so that a `&Prepared` can be shared while the request is sent; it
    /// is taken out once, by value.
    pub(crate) callback: Option<Mutex<Callback>>,
    /// The client's hooks and its own, when it has any; shared with its copies.
    pub(crate) hooks: Option<Arc<Hooked>>,
    /// Where the final response's body goes instead of memory: a download's destination.
    /// In a mutex for the same reason as `callback`.
    pub(crate) sink: Option<Mutex<Box<Sink>>>,
}

impl Prepared {
    /// A copy to send again if this attempt fails: everything but the callback and the
    /// destination, which run once and are moved to the copy that is sent again. The hooks
    /// are shared, with the counts of attempts and exchanges they show.
    pub(crate) fn copy_to_resend(&self) -> Prepared {
        Prepared {
            method: self.method.clone(),
            url: self.url.clone(),
            headers: self.headers.clone(),
            authorization: None,
            defaults: self.defaults,
            body: self.body.clone(),
            again: Some(Again::Retry),
            asked_encoding: self.asked_encoding,
            redirections: self.redirections,
            timeouts: self.timeouts,
            retry: self.retry.clone(),
            connect: self.connect.clone(),
            callback: None,
            hooks: self.hooks.clone(),
            sink: None,
        }
    }

    /// This copy, to be sent again after `used` failed: it takes `used`'s callback and
    /// destination, which have not run.
    pub(crate) fn moving_from(mut self, used: &mut Prepared) -> Prepared {
        self.callback = used.callback.take();
        self.sink = used.sink.take();
        self
    }

    /// True if the transport adds the cookie jar's `Cookie` header to this request as it
    /// stands: the client has a jar, and the caller set no `Cookie` of their own (or a
    /// redirect to another origin dropped it). A caller's `Cookie` wins: the jar adds
    /// nothing beside it.
    pub(crate) fn jar_cookies(&self) -> bool {
        self.defaults.cookies && !self.has_header("cookie")
    }

    /// Whether the request carries a header named `name`, in any case.
    pub(crate) fn has_header(&self, name: &str) -> bool {
        has_header(&self.headers, name)
    }
}

/// Whether `headers` hold one named `name`: header names compare in any case (RFC 9110
/// §5.1), whether the caller's text or a checked [`HeaderName`].
fn has_header<K: AsRef<str>, V>(headers: &[(K, V)], name: &str) -> bool {
    headers
        .iter()
        .any(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
}

/// A request's own total and idle timeouts and minimum speed, each `None` when the
/// request left it to the client. Longer than a year is a year
/// ([`LONGEST`](crate::deadline::LONGEST)), so that adding one to an instant cannot overflow.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timeouts {
    total: Option<Duration>,
    idle: Option<Duration>,
    floor: Option<Floor>,
}

impl Timeouts {
    fn new(total: Option<Duration>, idle: Option<Duration>, floor: Option<Floor>) -> Self {
        let clamped = |t: Option<Duration>| t.map(|t| t.min(crate::deadline::LONGEST));
        Timeouts {
            total: clamped(total),
            idle: clamped(idle),
            floor,
        }
    }

    /// The total timeout the request set, if any.
    pub(crate) fn total(self) -> Option<Duration> {
        self.total
    }

    /// The idle timeout the request set, if any.
    pub(crate) fn idle(self) -> Option<Duration> {
        self.idle
    }

    /// The minimum speed the request set, if any.
    pub(crate) fn floor(self) -> Option<Floor> {
        self.floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepare(req: Request) -> Result<Prepared, Error> {
        let uri = req.uri.clone();
        req.prepare(&uri)
    }

    #[test]
    fn a_header_is_present_in_any_case() {
        let req = Request::get("http://h/").header("Authorization", "Bearer t");
        assert!(req.has_header("authorization") && req.has_header("AUTHORIZATION"));
        assert!(!req.has_header("range"));
        let p = prepare(req).unwrap();
        assert!(p.has_header("Authorization") && p.has_header("authorization"));
        assert!(!p.has_header("cookie"));
    }

    #[test]
    fn defaults_are_added_unless_given() {
        let p = prepare(Request::get("http://h/")).unwrap();
        assert!(p.headers.is_empty());
        assert!(p.defaults.user_agent && p.defaults.accept_encoding);
        let p = prepare(Request::get("http://h/").header("Range", "bytes=0-1")).unwrap();
        assert!(p.defaults.user_agent && !p.defaults.accept_encoding);
        let p = prepare(Request::get("http://h/").header("User-Agent", "me")).unwrap();
        assert_eq!(p.headers[0].1, "me");
        assert!(!p.defaults.user_agent && p.defaults.accept_encoding);
    }

    #[test]
    fn injection_in_method_or_headers_is_refused() {
        let bad = [
            Request::new("GET /x HTTP/1.1\r\nX:", "http://h/"),
            Request::new("", "http://h/"),
            Request::get("http://h/").header("X-A", "a\r\nInjected: 1"),
            Request::get("http://h/").header("X-A", "a\nb"),
            Request::get("http://h/").header("X-A", "a\0b"),
            Request::get("http://h/").header("X-A", "caf\u{e9}"),
            Request::get("http://h/").header("X-A\r\nB", "1"),
            Request::get("http://h/").header("X A", "1"),
        ];
        for req in bad {
            let shown = format!("{req:?}");
            assert!(
                matches!(prepare(req), Err(Error::InvalidRequest { .. })),
                "{shown}"
            );
        }
    }

    #[test]
    fn header_set_twice_keeps_the_last() {
        let req = Request::get("http://h/")
            .header("x-a", "1")
            .header("X-A", "2");
        assert_eq!(req.headers, [("X-A".to_owned(), "2".to_owned())]);
    }

    #[test]
    fn timeouts_read_back_as_set_and_clamped() {
        let t = Timeouts::new(Some(Duration::from_millis(1500)), None, None);
        assert_eq!(t.total(), Some(Duration::from_millis(1500)));
        assert_eq!(t.idle(), None);
        let t = Timeouts::new(None, Some(Duration::MAX), None);
        assert_eq!(t.total(), None);
        assert_eq!(t.idle(), Some(crate::deadline::LONGEST));
        let p = prepare(Request::get("http://h/").idle_timeout(Duration::from_secs(3))).unwrap();
        assert_eq!(p.timeouts.idle(), Some(Duration::from_secs(3)));
        assert!(matches!(
            prepare(Request::get("http://h/").idle_timeout(Duration::ZERO)),
            Err(Error::InvalidRequest { .. })
        ));
    }

    #[test]
    fn a_queued_request_stays_small() {
        // Every queued request holds one: 10,000 queued are 3.5 MiB of the 20 MiB that
        // `cargo bench --bench memory` allows them. 368 bytes, with the authorization
        // (40) and the timeouts (56) held as plain values, and the hooks (8) and its own
        // connection settings (8) as pointers that are null without them; the body (40:
        // bytes, a file or a reader, and its monitor's pointer) and why it is sent again
        // (8) took 24 more than bytes alone.
        assert!(
            std::mem::size_of::<Prepared>() <= 368,
            "{}",
            std::mem::size_of::<Prepared>()
        );
    }

    #[test]
    fn any_method_token_is_allowed() {
        for m in ["unknown", "CHANGE", "EVEN_NEW_ONES", "PROPFIND"] {
            assert_eq!(
                prepare(Request::new(m, "http://h/"))
                    .unwrap()
                    .method
                    .as_str(),
                m
            );
        }
    }
}
