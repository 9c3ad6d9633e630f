//! [`MockRequest`]: an exchange as it would have gone out, as a mock sees it.

use url::{Position, Url};

/// One exchange as the client would have sent it: its method, its URL, the headers the
/// crate hands its transport and the body's bytes. Each redirect hop, answer to a 401,
/// revalidation and retry is a request of its own.
///
/// The headers are the caller's and every one the crate adds: `User-Agent`,
/// `Accept-Encoding`, `Authorization` (Basic, or a Digest answer), the jar's `Cookie`,
/// the cache's `If-None-Match` and `If-Modified-Since`. Those libcurl would add on the
/// wire (`Host`, `Content-Length`, `Accept: */*`) are not among them. Names are lower
/// case.
///
/// ```
/// use asynchttp::{Http, MockResponse, MockTransport};
///
/// let mock = MockTransport::new(|req| {
///     assert_eq!(req.header("X-Trace"), Some("t-1")); // names in any case
///     MockResponse::new(200)
/// });
/// let http = Http::builder().mock(mock.clone()).build()?;
/// let (response, _) = http.request_with("http://api.test/a?b=c", "PUT", "body", &[("x-trace", "t-1")]);
/// assert_eq!(response.status, 200);
///
/// let sent = &mock.requests()[0];
/// assert_eq!((sent.method(), sent.path(), sent.body()), ("PUT", "/a?b=c", &b"body"[..]));
/// assert!(sent.headers().any(|(name, value)| (name, value) == ("x-trace", "t-1")));
/// # Ok::<(), asynchttp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MockRequest {
    method: String,
    url: Url,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl MockRequest {
    pub(crate) fn new(
        method: String,
        url: Url,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Self {
        MockRequest {
            method,
            url,
            headers,
            body,
        }
    }

    /// The method, as sent: `"GET"`, `"POST"`, ...
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The whole URL: `http://api.test/a?b=c`.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The path and query, as the request line would carry them: `/a?b=c`.
    pub fn path(&self) -> &str {
        &self.url[Position::BeforePath..Position::AfterQuery]
    }

    /// The host: `api.test`.
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    /// The first value of the header `name`, in any case; `None` if the request has none.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every header, in the order they would have been sent, names in lower case.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The body's bytes; empty for a request without one.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}
