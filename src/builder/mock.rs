//! The builder's mock: a function of the caller's that answers in place of the network.

use super::HttpBuilder;
use crate::MockTransport;

impl HttpBuilder {
    /// Answers every exchange with `mock` instead of sending it: no isahc client is made,
    /// no socket opened, no host resolved. Everything else the client does runs as it
    /// would against a server, on the mock's answers: redirects, credentials, the cache,
    /// cookies, retries, per-host limits, timeouts, the body limit and decoding. For
    /// testing code that uses an [`Http`](crate::Http); the recipe is in
    /// [`guide::testing`](crate::guide::testing).
    ///
    /// Settings of the network itself (TLS, client certificates, proxies but for the
    /// name an [`Error::Connect`](crate::Error::Connect) gives) have nothing to act on.
    ///
    /// ```
    /// use asynchttp::{Http, MockResponse, MockTransport};
    ///
    /// let mock = MockTransport::new(|req| match req.path() {
    ///     "/old" => MockResponse::new(301).header("Location", "/new"),
    ///     _ => MockResponse::ok("moved here"),
    /// });
    /// let http = Http::builder().mock(mock.clone()).build()?;
    /// let (response, content) = http.request("http://site.test/old");
    /// assert_eq!((response.status, response.url.as_str()), (200, "http://site.test/new"));
    /// assert_eq!(content.to_string(), "moved here");
    /// assert_eq!(mock.count(), 2);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn mock(mut self, mock: MockTransport) -> Self {
        self.mock = Some(mock);
        self
    }
}
