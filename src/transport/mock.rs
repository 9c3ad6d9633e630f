//! The mock's side of the dispatch: an exchange handed to a [`MockTransport`] as isahc
//! would have sent it, and its answer made into the response isahc would have given (its
//! body an `AsyncBody`, read by `body` as any other), or into the failure it stands for.
//!
//! A delay waits on the pool's timer, within what is left of the request's deadline: the
//! request stays a future on its driver (or its worker), and no thread sleeps for it. Making
//! mocked requests run on workers that sleep would have held a place in the pool per
//! waiting request, and let a delay hold up requests that have none.

use std::future::poll_fn;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::io::{AsyncRead, AsyncReadExt};
use isahc::AsyncBody;
use isahc::http::{self, HeaderName, HeaderValue, StatusCode, Version, header};
use url::Url;

use super::{Transport, latin1};
use crate::deadline::Deadline;
use crate::mock::{Answer, Fault, MockRequest, MockResponse, MockTransport};
use crate::pool::PoolRef;
use crate::sync;

/// A mock, with the transport it stands in for: whose timer delays its answers, and
/// whose connect timeout ends an answer that never connects.
pub(super) struct Mocked<'a> {
    mock: &'a MockTransport,
    transport: &'a Transport,
}

impl<'a> Mocked<'a> {
    pub(super) fn new(mock: &'a MockTransport, transport: &'a Transport) -> Self {
        Mocked { mock, transport }
    }

    /// The mock's answer to `request`: a response's head, its body to be read, or the
    /// failure it stands for, after its delay or at the deadline, whichever comes first.
    pub(super) async fn send(
        &self,
        request: http::Request<AsyncBody>,
        deadline: &Deadline,
    ) -> Result<http::Response<AsyncBody>, Fault> {
        let request = seen(request).await?;
        let (MockResponse { answer, delay }, _in_flight) = self.mock.answer(request);
        let wait = match &answer {
            Answer::Fault(Fault::Timeout) => None,
            Answer::Fault(Fault::ConnectTimeout) => {
                Some(delay.saturating_add(self.transport.settings.connect_timeout))
            }
            _ => Some(delay),
        };
        let left = deadline.left().map_err(|_| Fault::Timeout)?;
        match wait {
            Some(wait) if wait < left => sleep(&self.transport.pool, wait).await,
            // Silent past the deadline: the deadline ends it.
            _ => {
                sleep(&self.transport.pool, left).await;
                return Err(Fault::Timeout);
            }
        }
        match answer {
            Answer::Fault(fault) => Err(fault),
            Answer::Response {
                status,
                headers,
                body,
                cut_after,
            } => response(status, &headers, body, cut_after),
        }
    }
}

/// The request as the mock sees it: everything isahc would have sent, the body read whole.
async fn seen(request: http::Request<AsyncBody>) -> Result<MockRequest, Fault> {
    let (parts, mut body) = request.into_parts();
    let url = Url::parse(&parts.uri.to_string())
        .map_err(|e| Fault::Malformed(format!("the request's URL: {e}")))?;
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), latin1(value).into_owned()))
        .collect();
    let mut bytes = Vec::new();
    body.read_to_end(&mut bytes)
        .await
        .map_err(|e| Fault::Malformed(format!("the request's body: {e}")))?;
    Ok(MockRequest::new(
        parts.method.as_str().to_owned(),
        url,
        headers,
        bytes,
    ))
}

/// The response a server would have sent: `headers` as given, with the body's length
/// unless they frame it themselves, and as much of `body` as comes before its announced
/// length or the break (`cut_after`). A body that stops short of its length fails its read.
fn response(
    status: u16,
    headers: &[(String, String)],
    mut body: Vec<u8>,
    cut_after: Option<u64>,
) -> Result<http::Response<AsyncBody>, Fault> {
    let malformed = |why: String| Fault::Malformed(why);
    let status = StatusCode::from_u16(status)
        .map_err(|_| malformed(format!("status {status} is not one from 100 to 999")))?;
    let mut out = http::Response::builder()
        .status(status)
        .version(Version::HTTP_11)
        .body(())
        .map_err(|e| malformed(e.to_string()))?;
    let (mut declared, mut framed) = (None, false);
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| malformed(format!("{name:?} is not a header name")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| malformed(format!("the value of {name} is not a header value")))?;
        if name == header::CONTENT_LENGTH {
            declared = value.to_str().ok().and_then(|v| v.trim().parse().ok());
        }
        framed |= name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING;
        out.headers_mut().append(name, value);
    }
    // These statuses have no body, whatever was given (RFC 9110 §6.4.1).
    let bodyless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    if bodyless {
        body.clear();
    } else if !framed {
        declared = Some(body.len() as u64);
        out.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let length = body.len() as u64;
    if let Some(cut) = cut_after.filter(|&cut| cut >= length) {
        return Err(malformed(format!(
            "cut_after({cut}) is not less than the body's {length} bytes"
        )));
    }
    let comes = [Some(length), declared, cut_after]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(length);
    body.truncate(usize::try_from(comes).unwrap_or(usize::MAX));
    let whole = match declared {
        Some(declared) => comes >= declared,
        None => cut_after.is_none(),
    };
    let body = if whole {
        AsyncBody::from(body)
    } else {
        AsyncBody::from_reader_sized(Broken(io::Cursor::new(body)), declared.unwrap_or(length))
    };
    Ok(out.map(|()| body))
}

/// A body whose connection breaks after its bytes: reading past them fails, as libcurl's
/// read of a body that stopped short of its length does.
struct Broken(io::Cursor<Vec<u8>>);

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = this.0.read(buf)?;
        if n == 0 && !buf.is_empty() {
            let closed = "the mock's connection closed before the body was whole";
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::UnexpectedEof, closed)));
        }
        Poll::Ready(Ok(n))
    }
}

/// Waits `wait` on the pool's timer, holding no thread. A pool that is closing has no
/// timer left: the wait ends at once.
async fn sleep(pool: &PoolRef, wait: Duration) {
    if wait.is_zero() {
        return;
    }
    let at = Instant::now() + wait;
    let alarm = Arc::new(Mutex::new(Alarm::default()));
    poll_fn(|cx| {
        if Instant::now() >= at {
            return Poll::Ready(());
        }
        let mut state = sync::lock(&alarm);
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        if !state.armed {
            let rung = alarm.clone();
            if pool.at(at, Box::new(move || ring(&rung))).is_err() {
                return Poll::Ready(());
            }
            state.armed = true;
        }
        Poll::Pending
    })
    .await;
}

/// A sleep's entry on the timer, and who to wake when it comes due.
#[derive(Default)]
struct Alarm {
    armed: bool,
    waker: Option<Waker>,
}

/// The timer ran a sleep's entry: on time, or early because its pool is closing. The sleep
/// looks at the clock and sets another if its time has not come.
fn ring(alarm: &Mutex<Alarm>) {
    let waker = {
        let mut state = sync::lock(alarm);
        state.armed = false;
        state.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}
