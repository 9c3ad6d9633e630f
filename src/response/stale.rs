//! The mark of a stale stored response given in place of an error: what went wrong, and
//! how stale the answer is.

use std::fmt;
use std::time::Duration;

use crate::{Error, Response};

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
    /// The request failed with this error.
    Failed(Error),
    /// The origin answered with this server error; its body is not kept.
    Status(Response),
}

impl StaleOnError {
    pub(crate) fn new(cause: Cause, staleness: Duration) -> Self {
        StaleOnError { cause, staleness }
    }

    /// The request's error, when the origin could not be reached or broke off: what the
    /// request would have failed with.
    pub fn error(&self) -> Option<&Error> {
        match &self.cause {
            Cause::Failed(error) => Some(error),
            Cause::Status(_) => None,
        }
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

/// `the origin answered 503; a stored response 12s stale answered instead`, or with the
/// error's whole chain in place of the status.
impl fmt::Display for StaleOnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::Failed(error) => write!(f, "the request failed ({})", error.chain())?,
            Cause::Status(response) => write!(f, "the origin answered {}", response.status)?,
        }
        let secs = self.staleness.as_secs();
        write!(f, "; a stored response {secs}s stale answered instead")
    }
}

/// Two marks are equal when they say the same: equal answers of the origin, or errors
/// with the same text, and the same staleness.
impl PartialEq for StaleOnError {
    fn eq(&self, other: &Self) -> bool {
        let same_cause = match (&self.cause, &other.cause) {
            (Cause::Failed(a), Cause::Failed(b)) => a.chain() == b.chain(),
            (Cause::Status(a), Cause::Status(b)) => a == b,
            _ => false,
        };
        same_cause && self.staleness == other.staleness
    }
}

impl Eq for StaleOnError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_says_what_failed_and_how_stale() {
        let mut origin = Response::new(503);
        origin.insert("retry-after", "120");
        let status = StaleOnError::new(Cause::Status(origin), Duration::from_millis(12_400));
        assert_eq!(
            status.to_string(),
            "the origin answered 503; a stored response 12s stale answered instead"
        );
        let failed = StaleOnError::new(Cause::Failed(Error::Closed), Duration::ZERO);
        assert_eq!(
            failed.to_string(),
            "the request failed (the Http client is shut down); a stored response 0s stale \
             answered instead"
        );
        assert_eq!((failed.status(), status.error().is_none()), (None, true));
        assert_eq!(status.status(), Some(503));
        assert_eq!(
            status.response().and_then(|r| r.get("retry-after")),
            Some("120")
        );
        assert_ne!(status, failed);
        assert_eq!(failed, failed.clone());
    }
}
