//! What a [`Hook`](crate::Hook) is shown at each step of a request: one type per step, each
//! borrowed for the call only.

use std::fmt;
use std::time::Duration;

use isahc::http::{HeaderMap, Method};
use url::Url;

use crate::promise::Requested;
use crate::sendable;
use crate::{Error, Response};

/// A request about to go out, as [`Hook::before_send`](crate::Hook::before_send) sees it:
/// the exchange exactly as it will be sent, its `Authorization`, cookies and cache
/// validators in place, and the headers it may still change.
///
/// ```
/// use asynchttp::{BoxError, Hook, Outgoing};
///
/// struct TraceHeader;
///
/// impl Hook for TraceHeader {
///     fn before_send(&self, attempt: &mut Outgoing<'_>) -> Result<(), BoxError> {
///         let id = format!("req-{}-{}", attempt.id(), attempt.exchange());
///         attempt.set_header("X-Request-Id", &id)?;
///         Ok(())
///     }
/// }
/// # drop(TraceHeader);
/// ```
pub struct Outgoing<'a> {
    pub(crate) id: u64,
    pub(crate) attempt: u32,
    pub(crate) exchange: u32,
    pub(crate) method: &'a Method,
    pub(crate) url: &'a Url,
    pub(crate) headers: &'a mut HeaderMap,
    /// Its bytes, for a body in memory; empty for one read as it is sent.
    pub(crate) body: &'a [u8],
    /// The length of what goes out, when known.
    pub(crate) body_len: Option<u64>,
    /// Read as it is sent: a file or a reader.
    pub(crate) streamed: bool,
    /// The first header set that cannot be sent: the request fails with it, whatever the
    /// hook returns.
    pub(crate) refused: Option<Error>,
}

impl Outgoing<'_> {
    /// The request's id, the `req=<id>` of the log lines and
    /// [`LazyResponse::id`](crate::LazyResponse::id).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Which attempt of the request this is: 1, then 2 and on for each time its
    /// [`Retry`](crate::Retry) policy sends it again.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Which exchange of the request this is, counted from 1 over every attempt, redirect
    /// followed and 401 answered: no two sends of one request share it, so it can serve
    /// as a nonce.
    pub fn exchange(&self) -> u32 {
        self.exchange
    }

    /// The method, as sent: a redirect may have made it GET.
    pub fn method(&self) -> &str {
        self.method.as_str()
    }

    /// The URL this exchange goes to: the redirect's target on a hop.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The URL's path, as on the request line without its query.
    pub fn path(&self) -> &str {
        self.url.path()
    }

    /// The URL's query, without its `?`.
    pub fn query(&self) -> Option<&str> {
        self.url.query()
    }

    /// A header's value, by case-insensitive name: the caller's, or one the client adds
    /// (`User-Agent`, `Accept-Encoding`, `Authorization`, `Cookie`, cache validators).
    /// `Host` and `Content-Length` are added by libcurl after this, and are not here.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every header, names lower-cased, in the order they will be sent.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
    }

    /// The body about to be sent: empty for a GET, and on a redirect that dropped it. A
    /// body read as it is sent (a [`Body::file`](crate::Body::file) or a reader) is not in
    /// memory, and shows as empty here: [`body_streamed`](Self::body_streamed) tells it
    /// from an empty one, and a signature over it takes the payload as unsigned (as
    /// `UNSIGNED-PAYLOAD` does for S3).
    pub fn body(&self) -> &[u8] {
        self.body
    }

    /// The body's length in bytes: a file's as it was opened for this exchange, a sized
    /// reader's as given; 0 for a reader of unknown length, which goes chunked (see
    /// [`body_streamed`](Self::body_streamed)).
    pub fn body_len(&self) -> u64 {
        self.body_len.unwrap_or(0)
    }

    /// True for a body read as it is sent (a file, a reader): [`body`](Self::body) is then
    /// empty, and [`body_len`](Self::body_len) its length if known.
    pub fn body_streamed(&self) -> bool {
        self.streamed
    }

    /// Sets a header, replacing any value it had: what a signature or a trace header needs.
    /// The name and value are checked as [`Request::header`](crate::Request::header)'s are
    /// (a value is trimmed, and one with a control character or a byte outside ASCII
    /// refused).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] for a name or value that cannot be sent; nothing is set,
    /// and the request then fails with [`Error::Hook`] whether the hook returns the error
    /// or not.
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<(), Error> {
        match sendable::header(name, value) {
            Ok((name, value)) => {
                self.headers.insert(name, value);
                Ok(())
            }
            Err(error) => {
                self.refused.get_or_insert_with(|| error.clone());
                Err(error)
            }
        }
    }

    /// Removes a header, by case-insensitive name; true if it was there.
    pub fn remove_header(&mut self, name: &str) -> bool {
        self.headers.remove(name).is_some()
    }
}

impl fmt::Debug for Outgoing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values and bodies may hold secrets: names and sizes only.
        f.debug_struct("Outgoing")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("exchange", &self.exchange)
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body_len)
            .field("streamed", &self.streamed)
            .finish()
    }
}

/// The head of a response that arrived, as [`Hook::on_response`](crate::Hook::on_response)
/// sees it: every exchange's, a redirect's, a 401's, a 304's and a retried status's too.
/// Its body has not been read yet.
///
/// ```
/// use asynchttp::{Hook, Incoming};
///
/// struct Deprecations;
///
/// impl Hook for Deprecations {
///     fn on_response(&self, head: &Incoming<'_>) {
///         if let Some(sunset) = head.header("sunset") {
///             eprintln!("{} goes away on {sunset}", head.url());
///         }
///     }
/// }
/// # drop(Deprecations);
/// ```
#[derive(Debug)]
pub struct Incoming<'a> {
    pub(crate) id: u64,
    pub(crate) attempt: u32,
    pub(crate) exchange: u32,
    pub(crate) response: &'a Response,
}

impl Incoming<'_> {
    /// The request's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The attempt this exchange belongs to (see [`Outgoing::attempt`]).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The exchange this head answers (see [`Outgoing::exchange`]).
    pub fn exchange(&self) -> u32 {
        self.exchange
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// The URL that answered.
    pub fn url(&self) -> &str {
        &self.response.url
    }

    /// A header's value, by case-insensitive name, as [`Response::get`] gives it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.get(name)
    }

    /// The head as a [`Response`]: every header, the version, and
    /// [`timings`](Response::timings) up to this head.
    pub fn response(&self) -> &Response {
        self.response
    }
}

/// A redirect about to be followed, as [`Hook::on_redirect`](crate::Hook::on_redirect)
/// sees it.
#[derive(Debug)]
pub struct Redirect<'a> {
    pub(crate) id: u64,
    pub(crate) status: u16,
    pub(crate) from: &'a str,
    pub(crate) to: &'a str,
}

impl Redirect<'_> {
    /// The request's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The redirect's status: 301, 302, 303, 307, 308 or another of
    /// [`redirect_codes`](crate::HttpBuilder::redirect_codes).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The URL that answered with the redirect.
    pub fn from(&self) -> &str {
        self.from
    }

    /// Where it leads: the `Location`, resolved, and without userinfo or fragment.
    pub fn to(&self) -> &str {
        self.to
    }
}

/// A request its [`Retry`](crate::Retry) policy sends again, as
/// [`Hook::on_retry`](crate::Hook::on_retry) sees it.
///
/// ```
/// use asynchttp::{Hook, RetryReason, Retrying};
///
/// struct LogRetries;
///
/// impl Hook for LogRetries {
///     fn on_retry(&self, retry: &Retrying<'_>) {
///         let why = match retry.reason() {
///             RetryReason::Status(status) => status.to_string(),
///             RetryReason::Error(error) => error.chain(),
///             _ => "other".to_owned(),
///         };
///         let (id, n) = (retry.id(), retry.attempt());
///         eprintln!("req={id} attempt {n} in {:?}: {why}", retry.delay());
///     }
/// }
/// # drop(LogRetries);
/// ```
#[derive(Debug)]
pub struct Retrying<'a> {
    pub(crate) id: u64,
    pub(crate) attempt: u32,
    pub(crate) reason: RetryReason<'a>,
    pub(crate) delay: Duration,
}

impl<'a> Retrying<'a> {
    /// The request's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The attempt about to be made: 2 for the first retry.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// What the attempt that ended gave.
    pub fn reason(&self) -> RetryReason<'a> {
        self.reason
    }

    /// How long the request waits before it is sent again (holding no thread).
    pub fn delay(&self) -> Duration {
        self.delay
    }
}

/// Why a request is sent again: the status it got, or the error it met.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum RetryReason<'a> {
    /// A status of [`Retry::statuses`](crate::Retry::statuses), such as 503.
    Status(u16),
    /// A failure the policy retries, such as [`Error::Connect`].
    Error(&'a Error),
}

/// A request that ended with a response, as [`Hook::on_finish`](crate::Hook::on_finish)
/// sees it.
///
/// ```
/// use asynchttp::{Finished, Hook};
///
/// struct Slow;
///
/// impl Hook for Slow {
///     fn on_finish(&self, done: &Finished<'_>) {
///         let t = done.response().timings;
///         if t.total().as_secs() >= 1 {
///             let (id, url) = (done.id(), done.url());
///             eprintln!("req={id} {} {url} took {:?}", done.method(), t.total());
///         }
///     }
/// }
/// # drop(Slow);
/// ```
#[derive(Debug)]
pub struct Finished<'a> {
    pub(crate) requested: &'a Requested,
    pub(crate) response: &'a Response,
}

impl Finished<'_> {
    /// The request's id.
    pub fn id(&self) -> u64 {
        self.requested.id
    }

    /// The method the caller asked for.
    pub fn method(&self) -> &str {
        &self.requested.method
    }

    /// The URL the caller asked for; the response's [`url`](Response::url) is the final
    /// one.
    pub fn url(&self) -> &str {
        &self.requested.url
    }

    /// The response, its body read: its [`timings`](Response::timings), its
    /// [`attempts`](Response::attempts), the redirects in
    /// [`previous`](Response::previous).
    pub fn response(&self) -> &Response {
        self.response
    }
}

/// A request that failed, as [`Hook::on_failure`](crate::Hook::on_failure) sees it.
///
/// ```
/// use asynchttp::{Failure, Hook};
///
/// struct LogFailures;
///
/// impl Hook for LogFailures {
///     fn on_failure(&self, failed: &Failure<'_>) {
///         let (id, url) = (failed.id(), failed.url());
///         eprintln!("req={id} {} {url}: {}", failed.method(), failed.error().chain());
///     }
/// }
/// # drop(LogFailures);
/// ```
#[derive(Debug)]
pub struct Failure<'a> {
    pub(crate) requested: &'a Requested,
    pub(crate) error: &'a Error,
}

impl Failure<'_> {
    /// The request's id.
    pub fn id(&self) -> u64 {
        self.requested.id
    }

    /// The method the caller asked for.
    pub fn method(&self) -> &str {
        &self.requested.method
    }

    /// The URL the caller asked for.
    pub fn url(&self) -> &str {
        &self.requested.url
    }

    /// The error the request's pair holds.
    pub fn error(&self) -> &Error {
        self.error
    }
}
