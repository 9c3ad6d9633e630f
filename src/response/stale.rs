//! The mark of a stale stored response given in place of an error: what went wrong, and
//! how stale the answer is.
//!
//! The mark holds an [`Error`](crate::Error), and an `Error` may hold a `Response`: so that
//! this module does not depend on `error` while `error` depends on it, the error is kept
//! here as a `dyn Error`, and the methods that know its type (`error()`, `Display`) are in
//! `error::stale`.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use crate::Response;

/// Why a response came from the cache stale: the origin failed, and a `stale-if-error`
/// (the response's, the request's, or the client's own
/// [`HttpBuilder::stale_if_error`](crate::HttpBuilder::stale_if_error)) let the stored
/// response answer instead. [`Response::stale_on_error`](crate::Response::stale_on_error)
/// gives it; the response also carries `Warning: 110` and `111`, as RFC 7234 had a cache
/// mark it, for code that looks there.
///
/// Either the request failed ([`error`](Self::error): it could not connect, the name did
/// not resolve, a timeout ran out, the connection broke) or the origin answered 500, 502,
/// 503 or 504 ([`status`](Self::status), and its [`response`](Self::response)).
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::time::Duration;
/// use asynchttp::{Error, Http, MemoryCache, MockResponse, MockTransport};
///
/// let down = Arc::new(AtomicBool::new(false));
/// let origin = down.clone();
/// let mock = MockTransport::new(move |_| match origin.load(Ordering::SeqCst) {
///     false => MockResponse::ok("v1").header("Cache-Control", "max-age=0"), // stale at once
///     true => MockResponse::connection_refused(),
/// });
/// let http = Http::builder()
///     .mock(mock)
///     .cache_store(Arc::new(MemoryCache::new()))
///     .stale_if_error(Duration::from_secs(60))
///     .build()?;
/// assert!(http.request("http://api.test/doc").0.stale_on_error().is_none());
///
/// down.store(true, Ordering::SeqCst);
/// let (response, content) = http.request("http://api.test/doc");
/// let stale = response.stale_on_error().expect("a stale answer");
/// assert!(matches!(stale.error(), Some(Error::Connect { .. })));
/// assert_eq!((response.status, content.to_string()), (200, "v1".to_owned()));
/// assert!(stale.staleness() <= Duration::from_secs(60));
/// # Ok::<(), asynchttp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StaleOnError {
    cause: Cause,
    staleness: Duration,
}

/// What the origin did.
#[derive(Debug, Clone)]
pub(crate) enum Cause {
    /// The request failed with this error: always a `crate::Error` (see the module's docs).
    Failed(Arc<dyn StdError + Send + Sync>),
    /// The origin answered with this server error; its body is not kept.
    Status(Box<Response>),
}

impl StaleOnError {
    pub(crate) fn new(cause: Cause, staleness: Duration) -> Self {
        StaleOnError { cause, staleness }
    }

    pub(crate) fn cause(&self) -> &Cause {
        &self.cause
    }

    /// The origin's status, when it answered 500, 502, 503 or 504.
    pub fn status(&self) -> Option<u16> {
        self.response().map(|response| response.status)
    }

    /// The origin's answer, when it answered 500, 502, 503 or 504: its status and
    /// headers (a `Retry-After` among them), and the redirects that led to it; its body
    /// is not kept.
    pub fn response(&self) -> Option<&Response> {
        match &self.cause {
            Cause::Status(response) => Some(response),
            Cause::Failed(_) => None,
        }
    }

    /// How far past its freshness the stored response was when it answered: never more
    /// than the `stale-if-error` that allowed it.
    pub fn staleness(&self) -> Duration {
        self.staleness
    }
}

/// Two marks are equal when they say the same: equal answers of the origin, or errors
/// with the same text, and the same staleness.
impl PartialEq for StaleOnError {
    fn eq(&self, other: &Self) -> bool {
        let same_cause = match (&self.cause, &other.cause) {
            (Cause::Failed(_), Cause::Failed(_)) => self.to_string() == other.to_string(),
            (Cause::Status(a), Cause::Status(b)) => a == b,
            _ => false,
        };
        same_cause && self.staleness == other.staleness
    }
}

impl Eq for StaleOnError {}
