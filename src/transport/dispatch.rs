//! The one call that sends an exchange: through an isahc client over the network, or to
//! a mock in its place. Everything before it (the request's headers, its route, its watch)
//! and after it (the head, cookies, the body, every failure's type) is the same for both.

use isahc::http;
use isahc::{AsyncBody, HttpClient};

use super::mock::Mocked;
use crate::deadline::Deadline;
use crate::mock::Fault;

/// What an exchange is sent through.
pub(super) enum Client<'a> {
    Curl(HttpClient),
    Mock(Mocked<'a>),
}

/// Why an exchange has no head: libcurl's error, or the failure a mock answered with.
pub(super) enum Unanswered {
    Curl(isahc::Error),
    Mock(Fault),
}

impl Client<'_> {
    /// Sends `request` and waits for its response's head; `deadline` bounds a mock's
    /// delay, as the request's own timeout bounds libcurl.
    pub(super) async fn send(
        &self,
        request: http::Request<AsyncBody>,
        deadline: &Deadline,
    ) -> Result<http::Response<AsyncBody>, Unanswered> {
        match self {
            Client::Curl(client) => client.send_async(request).await.map_err(Unanswered::Curl),
            // Boxed: a mock's states stay out of every real exchange's future.
            Client::Mock(mock) => Box::pin(mock.send(request, deadline))
                .await
                .map_err(Unanswered::Mock),
        }
    }
}
