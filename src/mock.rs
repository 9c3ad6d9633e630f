//! [`MockTransport`]: a function of the caller's that answers a client's exchanges in place
//! of the network, for testing code that uses [`Http`](crate::Http) without a server.
//!
//! The mock sits where isahc sits, below everything else the crate does: redirects,
//! credentials, the cache, cookies, retries, per-host limits, timeouts, the body limit and
//! decoding all run as they do against a server, on what the mock answers. It sees each
//! exchange as it would go out ([`MockRequest`]) and answers with a response, a failure
//! of the network, or either after a delay ([`MockResponse`]); it keeps every request it
//! was sent, for the test to look at. A mocked client makes no isahc client at all: no
//! libcurl agent thread, no socket.
//!
//! The recipe is in [`guide::testing`](crate::guide::testing).

mod request;
mod response;

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

pub use self::request::MockRequest;
pub use self::response::MockResponse;
pub(crate) use self::response::{Answer, Fault};

use crate::{error, sync};

/// What a mock answers with: any function from the request to its answer.
type Handler = dyn Fn(&MockRequest) -> MockResponse + Send + Sync;

/// Answers a client's exchanges with a function of yours instead of the network, and keeps
/// what it was sent. Give it to [`HttpBuilder::mock`](crate::HttpBuilder::mock); clones
/// share the function and the record, so keep one to look at what went out.
///
/// The function runs on the thread that runs the request (a driver, most often), once per
/// exchange: each redirect hop, each answer to a 401, each revalidation and each retry is
/// an exchange of its own. It must not block: to make an answer wait, give it a
/// [`delay`](MockResponse::delay), which waits on the client's timer and holds no thread.
/// A panic in it fails that request with [`Error::Callback`](crate::Error::Callback),
/// `"mock handler panicked: ..."`, so a failed assertion inside it reaches the test.
///
/// ```
/// use asynchttp::{Http, MockResponse, MockTransport};
///
/// let mock = MockTransport::new(|req| match req.path() {
///     "/hello" => MockResponse::ok("hi").header("Content-Type", "text/plain"),
///     _ => MockResponse::new(404),
/// });
/// let http = Http::builder().mock(mock.clone()).build()?;
///
/// let (response, content) = http.request("http://api.test/hello");
/// assert_eq!((response.status, &*content), (200, &b"hi"[..]));
/// assert_eq!(response.get("content-type"), Some("text/plain"));
/// assert_eq!(http.request("http://api.test/other").0.status, 404);
///
/// // What went out, in the order it reached the mock.
/// let sent = mock.requests();
/// assert_eq!(sent.len(), 2);
/// assert_eq!((sent[0].method(), sent[0].url()), ("GET", "http://api.test/hello"));
/// assert!(sent[0].header("user-agent").is_some_and(|ua| ua.starts_with("asynchttp/")));
/// # Ok::<(), asynchttp::Error>(())
/// ```
#[derive(Clone)]
pub struct MockTransport {
    shared: Arc<Shared>,
}

struct Shared {
    handler: Box<Handler>,
    record: Mutex<Record>,
}

/// What the mock was sent, and how many exchanges it held at once.
#[derive(Default)]
struct Record {
    requests: Vec<MockRequest>,
    in_flight: usize,
    most_in_flight: usize,
}

impl MockTransport {
    /// A mock that answers each exchange with `handler`'s answer.
    ///
    /// ```
    /// use asynchttp::{Http, MockResponse, MockTransport};
    ///
    /// let http = Http::builder()
    ///     .mock(MockTransport::new(|_| MockResponse::ok("the same for all")))
    ///     .build()?;
    /// assert_eq!(http.request("http://any.test/").1.to_string(), "the same for all");
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn new<F>(handler: F) -> Self
    where
        F: Fn(&MockRequest) -> MockResponse + Send + Sync + 'static,
    {
        MockTransport {
            shared: Arc::new(Shared {
                handler: Box::new(handler),
                record: Mutex::new(Record::default()),
            }),
        }
    }

    /// Every request the mock was sent so far, in the order they reached it: a copy, so
    /// the mock goes on recording. Each is the exchange as it would have gone out, with
    /// every header the crate added (see [`MockRequest`]).
    ///
    /// ```
    /// use asynchttp::{Http, MockResponse, MockTransport};
    ///
    /// let mock = MockTransport::new(|_| MockResponse::new(204));
    /// let http = Http::builder().mock(mock.clone()).build()?;
    /// assert_eq!(http.post("http://api.test/items", r#"{"name":"pen"}"#).0.status, 204);
    ///
    /// let sent = &mock.requests()[0];
    /// assert_eq!(sent.method(), "POST");
    /// assert_eq!(sent.body(), br#"{"name":"pen"}"#);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn requests(&self) -> Vec<MockRequest> {
        sync::lock(&self.shared.record).requests.clone()
    }

    /// How many requests the mock was sent so far.
    ///
    /// ```
    /// use asynchttp::{Http, MockResponse, MockTransport};
    ///
    /// let mock = MockTransport::new(|_| MockResponse::new(200));
    /// let http = Http::builder().mock(mock.clone()).build()?;
    /// assert_eq!(mock.count(), 0);
    /// assert_eq!(http.request("http://api.test/").0.status, 200);
    /// assert_eq!(mock.count(), 1);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn count(&self) -> usize {
        sync::lock(&self.shared.record).requests.len()
    }

    /// The most exchanges the mock held at once so far: each counts from the moment it
    /// reached the mock until its answer was handed back, its [`delay`](MockResponse::delay)
    /// included. It shows how many requests your code, or a client's
    /// [`per_host`](crate::HttpBuilder::per_host) limit, lets run at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use asynchttp::{HostLimits, Http, MockResponse, MockTransport};
    ///
    /// let mock = MockTransport::new(|_| MockResponse::ok("").delay(Duration::from_millis(20)));
    /// let http = Http::builder()
    ///     .mock(mock.clone())
    ///     .per_host(HostLimits::new().in_flight(1))
    ///     .build()?;
    /// let batch = http.batch((0..4).map(|i| format!("http://api.test/{i}")));
    /// batch.join_all();
    /// assert_eq!((mock.count(), mock.most_in_flight()), (4, 1));
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn most_in_flight(&self) -> usize {
        sync::lock(&self.shared.record).most_in_flight
    }

    /// Records `request`, and `handler`'s answer to it: a panic in the handler is the
    /// request's failure. The exchange is in flight until the returned guard goes.
    pub(crate) fn answer(&self, request: MockRequest) -> (MockResponse, InFlight) {
        let answered = catch_unwind(AssertUnwindSafe(|| (self.shared.handler)(&request)));
        let answer = answered.unwrap_or_else(|panic| {
            MockResponse::fault(Fault::Panicked(error::panic_text(&*panic).to_owned()))
        });
        let mut record = sync::lock(&self.shared.record);
        record.requests.push(request);
        record.in_flight += 1;
        record.most_in_flight = record.most_in_flight.max(record.in_flight);
        (answer, InFlight(self.shared.clone()))
    }
}

/// An exchange the mock holds: it counts as in flight until this is dropped.
pub(crate) struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        sync::lock(&self.0.record).in_flight -= 1;
    }
}

/// How many requests it was sent, and holds now; never the requests themselves.
impl fmt::Debug for MockTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let record = sync::lock(&self.shared.record);
        f.debug_struct("MockTransport")
            .field("requests", &record.requests.len())
            .field("in_flight", &record.in_flight)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Http, MockResponse, MockTransport};

    #[test]
    fn debug_counts_requests_and_a_mocked_client_shows_its_mock() {
        let mock = MockTransport::new(|_| MockResponse::new(204));
        let http = Http::builder().mock(mock.clone()).build().unwrap();
        assert_eq!(http.request("http://debug.test/").0.status, 204);
        let shown = format!("{http:?}");
        assert!(
            shown.contains("mock: Some(MockTransport { requests: 1, in_flight: 0 })"),
            "{shown}"
        );
        assert!(format!("{:?}", Http::new()).contains("mock: None"));
    }
}
