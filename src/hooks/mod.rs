//! Hooks: the caller's code at each step of every request of a client ([`Hook`]), and the
//! one place each step calls them from, its panics caught.
//!
//! A client's hooks come first, then the request's own, each list in the order added. A
//! request that has any runs on a worker thread, never on a driver, as one with a callback
//! does (`Job::drivable` in `run.rs`): a hook may block or panic without holding up other
//! requests' I/O. The crate's own span hook (the `tracing` feature) is the exception: it
//! only records, as a log line does, so a request with it alone may run on a driver.
//!
//! A client and request without hooks carry `None`: nothing is allocated or called for them.

mod closures;
mod events;
#[cfg(feature = "tracing")]
mod spans;

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use isahc::{AsyncBody, http};
use url::Url;

pub(crate) use self::closures::{BeforeSend, OnResponse};
pub use self::events::{Failure, Finished, Incoming, Outgoing, Redirect, RetryReason, Retrying};
use crate::error::panic_text;
use crate::exchange::{Exchange, Failed};
use crate::promise::Requested;
use crate::{Body, BoxError, Error, logs};

/// Code of yours that runs at each step of every request of a client: before each exchange
/// is sent (to sign it, or add a trace header), at each response head, redirect and retry,
/// and once when the request ends. Requests' `hooks={'response': f}`, httpx's
/// `event_hooks` and requests-futures' `background_callback`, in one trait.
///
/// Every method has a default that does nothing: implement the ones you need. Register a
/// hook on the builder with [`HttpBuilder::hook`](crate::HttpBuilder::hook) (every request
/// of the client runs it) or on one request with [`Request::hook`](crate::Request::hook);
/// the client's run first, then the request's, each in the order added. For one method,
/// [`HttpBuilder::before_send`](crate::HttpBuilder::before_send) and
/// [`HttpBuilder::on_response`](crate::HttpBuilder::on_response) take a closure.
///
/// **Where it runs.** On the worker thread that runs the request, never on a thread that
/// drives other requests' I/O: a request with hooks is run as one with a callback is. A
/// hook may block (it holds up its own request only) and is shared by every thread of the
/// client, hence `Send + Sync`: count with atomics, keep state behind a lock.
///
/// **What a failure does.** An error from `before_send`, or a panic in any method, fails
/// that request alone with [`Error::Hook`] (whose `source()` is your error), and it is not
/// retried; the pool and the other requests go on. A panic in `on_failure` leaves the
/// request's own error in place, and is logged. Every hook is still called for the step
/// at which another panicked, except in `before_send`, where the first error stops the
/// request before it is sent.
///
/// **How often.** `before_send` and `on_response` once per exchange: the first, each
/// redirect hop, each answer to a 401, each revalidation, each retry, and the background
/// refresh of a stale cache entry (`stale-while-revalidate`), which comes after
/// `on_finish`. `on_redirect` once
/// per redirect followed, `on_retry` once per retry, and exactly one of `on_finish` and
/// `on_failure` for every request the client is given, refused and cancelled ones
/// included. A response a fresh cache entry answers calls `on_finish` only, on the thread
/// that made the request. A stale stored response given in place of the origin's failure
/// ([`HttpBuilder::stale_if_error`](crate::HttpBuilder::stale_if_error)) ends the request
/// with `on_finish`, not `on_failure`: its
/// [`stale_on_error`](crate::Response::stale_on_error) holds the error or the status.
/// `on_finish` sees the response before a
/// [`send_map`](crate::Http::send_map) function, JSON decoding or a download's landing
/// makes the value the request's [`Lazy`](crate::Lazy) holds: a failure there is that
/// function's, and no hook hears of it.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use asynchttp::{Finished, Failure, Hook, Http, Retrying};
///
/// #[derive(Default)]
/// struct Metrics {
///     ok: AtomicU64,
///     failed: AtomicU64,
///     retries: AtomicU64,
/// }
///
/// struct Count(Arc<Metrics>);
///
/// impl Hook for Count {
///     fn on_retry(&self, _: &Retrying<'_>) {
///         self.0.retries.fetch_add(1, Ordering::Relaxed);
///     }
///     fn on_finish(&self, _: &Finished<'_>) {
///         self.0.ok.fetch_add(1, Ordering::Relaxed);
///     }
///     fn on_failure(&self, _: &Failure<'_>) {
///         self.0.failed.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// let metrics = Arc::new(Metrics::default());
/// let http = Http::builder().hook(Count(metrics.clone())).build()?;
/// let (response, _) = http.request("ftp://127.0.0.1/"); // refused: not http
/// assert!(asynchttp::LazyResponse::wait(&response).is_err());
/// assert_eq!(metrics.failed.load(Ordering::Relaxed), 1);
/// # Ok::<(), asynchttp::Error>(())
/// ```
pub trait Hook: Send + Sync + 'static {
    /// How [`Error::Hook`] names this hook: its type's name unless you say otherwise.
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }

    /// Called before each exchange is sent, with the request exactly as it goes out. It may
    /// read everything and set or remove headers ([`Outgoing::set_header`]); an error fails
    /// the request with [`Error::Hook`], and it is not sent.
    ///
    /// # Errors
    ///
    /// Whatever you return: it becomes the `source()` of the request's [`Error::Hook`].
    fn before_send(&self, outgoing: &mut Outgoing<'_>) -> Result<(), BoxError> {
        let _ = outgoing;
        Ok(())
    }

    /// Called when each response head arrives, before its body is read: every redirect,
    /// 401, 304 and retried status too.
    fn on_response(&self, incoming: &Incoming<'_>) {
        let _ = incoming;
    }

    /// Called for each redirect followed, before the next hop is sent.
    fn on_redirect(&self, redirect: &Redirect<'_>) {
        let _ = redirect;
    }

    /// Called when the request's [`Retry`](crate::Retry) policy sends it again, before its
    /// wait.
    fn on_retry(&self, retrying: &Retrying<'_>) {
        let _ = retrying;
    }

    /// Called once when the request ends with a response, after its callback, before its
    /// pair is filled.
    fn on_finish(&self, finished: &Finished<'_>) {
        let _ = finished;
    }

    /// Called once when the request fails, before its pair is filled.
    fn on_failure(&self, failure: &Failure<'_>) {
        let _ = failure;
    }
}

/// Hooks, shared.
type List = Arc<[Arc<dyn Hook>]>;

/// Hooks as a builder or a request collects them, in the order added. Empty, it holds no
/// allocation.
#[derive(Clone, Default)]
pub(crate) struct HookList(Vec<Arc<dyn Hook>>);

impl HookList {
    pub(crate) fn push(&mut self, hook: impl Hook) {
        self.0.push(Arc::new(hook));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for HookList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|hook| hook.name()))
            .finish()
    }
}

/// A client's hooks, fixed when it is built.
#[derive(Clone)]
pub(crate) struct Hooks {
    /// The caller's, in the order added.
    client: List,
    /// The crate's span hook, then the caller's: for requests made while a `tracing`
    /// subscriber is set.
    #[cfg(feature = "tracing")]
    traced: List,
    /// The span hook in `traced`, for opening a request's span where it is made.
    #[cfg(feature = "tracing")]
    spans: Arc<spans::Spans>,
}

impl Hooks {
    pub(crate) fn new(list: &HookList) -> Self {
        let client: List = list.0.iter().cloned().collect();
        #[cfg(feature = "tracing")]
        let spans = Arc::new(spans::Spans::default());
        Hooks {
            #[cfg(feature = "tracing")]
            traced: std::iter::once(spans.clone() as Arc<dyn Hook>)
                .chain(client.iter().cloned())
                .collect(),
            #[cfg(feature = "tracing")]
            spans,
            client,
        }
    }

    /// The client's hooks for a request made now: with the span hook when a subscriber
    /// may want its spans.
    fn for_request(&self) -> (&List, bool) {
        #[cfg(feature = "tracing")]
        if spans::wanted() {
            return (&self.traced, true);
        }
        (&self.client, false)
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.client.iter().map(|hook| hook.name()))
            .finish()
    }
}

/// One request's hooks, and the counts its steps show them; shared by the copies of the
/// request that its retries send.
pub(crate) struct Hooked {
    list: List,
    id: u64,
    /// Only the crate's span hook: it may run on a driver.
    quick: bool,
    /// The attempt being made, from 1.
    attempt: AtomicU32,
    /// Exchanges sent so far, over every attempt.
    exchanges: AtomicU32,
    /// The span hook, when the request has it.
    #[cfg(feature = "tracing")]
    spans: Option<Arc<spans::Spans>>,
}

impl Hooked {
    /// Whether the request may run on a driver for all its hooks.
    pub(crate) fn quick(&self) -> bool {
        self.quick
    }
}

/// The hooks of request `id`: the client's, then its `own`; `None` when there are none.
pub(crate) fn attach(hooks: &Hooks, own: HookList, id: u64) -> Option<Arc<Hooked>> {
    let (client, traced) = hooks.for_request();
    if client.is_empty() && own.is_empty() {
        return None;
    }
    let quick = own.is_empty() && client.len() == usize::from(traced);
    let list = if own.is_empty() {
        client.clone()
    } else {
        client.iter().cloned().chain(own.0).collect()
    };
    Some(Arc::new(Hooked {
        list,
        id,
        quick,
        attempt: AtomicU32::new(1),
        exchanges: AtomicU32::new(0),
        #[cfg(feature = "tracing")]
        spans: traced.then(|| hooks.spans.clone()),
    }))
}

/// The request is made, on the caller's thread: its span, with the `tracing` feature,
/// opens now, under the caller's current span.
pub(crate) fn begin(hooked: Option<&Hooked>, method: &str, url: &Url) {
    #[cfg(feature = "tracing")]
    if let Some(spans) = hooked.and_then(|hooked| hooked.spans.as_ref()) {
        spans.begin(hooked.map_or(0, |h| h.id), method, url);
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (hooked, method, url);
}

/// What an exchange goes out as, for the hooks: `request` as the transport is about to
/// send it, for `url` (parsed, as the request holds it), with `body`.
pub(crate) struct Sending<'a> {
    pub(crate) request: &'a mut http::Request<AsyncBody>,
    pub(crate) url: &'a Url,
    pub(crate) body: &'a Body,
}

/// Calls `before_send` of each hook, in order, on the exchange about to go out; the first
/// error or panic stops there and fails the request.
pub(crate) fn before_send(hooked: Option<&Hooked>, sending: Sending<'_>) -> Result<(), Error> {
    let Some(hooked) = hooked else {
        return Ok(());
    };
    // The method is read beside the headers the hooks may change.
    let method = sending.request.method().clone();
    let mut outgoing = Outgoing {
        id: hooked.id,
        attempt: hooked.attempt.load(Ordering::Relaxed),
        exchange: hooked.exchanges.fetch_add(1, Ordering::Relaxed) + 1,
        method: &method,
        url: sending.url,
        body_len: sending.request.body().len(),
        headers: sending.request.headers_mut(),
        body: sending.body.as_bytes().unwrap_or_default(),
        streamed: sending.body.is_streamed(),
        refused: None,
    };
    for hook in hooked.list.iter() {
        let failure = match catch_unwind(AssertUnwindSafe(|| hook.before_send(&mut outgoing))) {
            Ok(Ok(())) => outgoing.refused.take().map(|refused| {
                let reason = "before_send set a header that cannot be sent";
                hook_error(hook.as_ref(), reason.to_owned(), Some(Box::new(refused)))
            }),
            Ok(Err(e)) => Some(hook_error(
                hook.as_ref(),
                "before_send returned an error".to_owned(),
                Some(e),
            )),
            Err(panic) => Some(panicked(hook.as_ref(), "before_send", &*panic)),
        };
        if let Some(error) = failure {
            return Err(error);
        }
    }
    Ok(())
}

/// Calls `on_response` of each hook with the head that answered the request.
pub(crate) fn responded(hooked: Option<&Hooked>, response: &crate::Response) -> Result<(), Error> {
    let Some(hooked) = hooked else {
        return Ok(());
    };
    let incoming = Incoming {
        id: hooked.id,
        attempt: hooked.attempt.load(Ordering::Relaxed),
        exchange: hooked.exchanges.load(Ordering::Relaxed),
        response,
    };
    each(hooked, "on_response", |hook| hook.on_response(&incoming))
}

/// Calls `on_redirect` of each hook for the `status` redirect from `from` to `to`.
pub(crate) fn redirected(
    hooked: Option<&Hooked>,
    status: u16,
    from: &Url,
    to: &Url,
) -> Result<(), Error> {
    let Some(hooked) = hooked else {
        return Ok(());
    };
    let redirect = Redirect {
        id: hooked.id,
        status,
        from: from.as_str(),
        to: to.as_str(),
    };
    each(hooked, "on_redirect", |hook| hook.on_redirect(&redirect))
}

/// Calls `on_retry` of each hook for a request its policy sends again after `delay` for
/// what `fetched` says; the attempt count moves on to the next attempt.
pub(crate) fn retrying(
    hooked: Option<&Hooked>,
    fetched: &Result<Exchange, Box<Failed>>,
    delay: Duration,
) -> Result<(), Error> {
    let Some(hooked) = hooked else {
        return Ok(());
    };
    let retrying = Retrying {
        id: hooked.id,
        attempt: hooked.attempt.fetch_add(1, Ordering::Relaxed) + 1,
        reason: match fetched {
            Ok(exchange) => RetryReason::Status(exchange.response.status),
            Err(failed) => RetryReason::Error(&failed.error),
        },
        delay,
    };
    each(hooked, "on_retry", |hook| hook.on_retry(&retrying))
}

/// Calls `on_finish` or `on_failure` of each hook for the outcome of `requested`. A
/// panic in `on_finish` fails the request; one in `on_failure` is logged.
pub(crate) fn ended(
    hooked: Option<&Hooked>,
    requested: &Requested,
    result: &mut Result<Exchange, Error>,
) {
    let Some(hooked) = hooked else {
        return;
    };
    match result {
        Ok(exchange) => {
            let finished = Finished {
                requested,
                response: &exchange.response,
            };
            if let Err(error) = each(hooked, "on_finish", |hook| hook.on_finish(&finished)) {
                *result = Err(error);
            }
        }
        Err(error) => failed(Some(hooked), requested, error),
    }
}

/// Calls `on_failure` of each hook for `requested`, which failed with `error`. A panic
/// is logged: the request keeps its own error.
pub(crate) fn failed(hooked: Option<&Hooked>, requested: &Requested, error: &Error) {
    let Some(hooked) = hooked else {
        return;
    };
    let failure = Failure { requested, error };
    if let Err(panic) = each(hooked, "on_failure", |hook| hook.on_failure(&failure)) {
        logs::error!("req={} {}", requested.id, panic.chain());
    }
}

/// Calls `step` of every hook, in order, each call's panic caught; the first panic is the
/// error, once all have been called.
fn each(hooked: &Hooked, step: &str, call: impl Fn(&dyn Hook)) -> Result<(), Error> {
    let mut first = None;
    for hook in hooked.list.iter() {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| call(hook.as_ref()))) {
            first.get_or_insert_with(|| panicked(hook.as_ref(), step, &*panic));
        }
    }
    first.map_or(Ok(()), Err)
}

fn panicked(hook: &dyn Hook, step: &str, payload: &(dyn std::any::Any + Send)) -> Error {
    let reason = format!("{step} panicked: {}", panic_text(payload));
    hook_error(hook, reason, None)
}

fn hook_error(hook: &dyn Hook, reason: String, source: Option<BoxError>) -> Error {
    Error::Hook {
        hook: hook.name().to_owned(),
        reason,
        source: source.map(Arc::from),
    }
}
