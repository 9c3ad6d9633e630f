//! The one call that sends an exchange: through an isahc client over the network, or to
//! a mock in its place. Everything before it (the request's headers, its route, its watch)
//! and after it (the head, cookies, the body, every failure's type) is the same for both.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use isahc::http;
use isahc::{AsyncBody, HttpClient, ResponseFuture};

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
    /// Sends `request`; the future gives its response's head. `deadline` bounds a mock's
    /// delay, as the request's own timeout bounds libcurl.
    pub(super) fn send<'s>(
        &'s self,
        request: http::Request<AsyncBody>,
        deadline: &'s Deadline,
    ) -> Sending<'s> {
        match self {
            Client::Curl(client) => Sending::Curl(client.send_async(request)),
            Client::Mock(mock) => Sending::Mock(Box::pin(mock.send(request, deadline))),
        }
    }
}

/// An exchange on its way: isahc's own future as it is, with no state around it; a
/// mock's boxed, so that a real exchange's future is no larger for the mock's sake.
pub(super) enum Sending<'s> {
    Curl(ResponseFuture<'s>),
    Mock(Pin<Box<dyn Future<Output = Answered> + Send + 's>>),
}

/// A mock's answer: a response's head, or the failure it stands for.
type Answered = Result<http::Response<AsyncBody>, Fault>;

impl Future for Sending<'_> {
    type Output = Result<http::Response<AsyncBody>, Unanswered>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Sending::Curl(sending) => Pin::new(sending).poll(cx).map_err(Unanswered::Curl),
            Sending::Mock(sending) => sending.as_mut().poll(cx).map_err(Unanswered::Mock),
        }
    }
}
