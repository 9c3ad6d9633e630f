//! The `tracing` feature: a span for each request and one for each of its attempts, made by
//! a hook of the crate's own, through the same [`Hook`] methods a caller's hook has.
//!
//! - `request` (target `asynchttp`, level INFO): `id`, `method`, `host` (`host:port`), and
//!   when it ends `status` and `attempts`, and its timings in microseconds (`queued_us`,
//!   `first_byte_us`, `total_us`; `resolve_us`, `connect_us` and `tls_us` when measured),
//!   or `error`. Opened where the request is made, on the caller's thread, as a child of
//!   the span current there (a root if none is), so a request made inside a handler's span
//!   shows under it; closed when it ends.
//! - `attempt`, its child: `attempt` (1, then 2 and on for each retry), `status` (its last
//!   response head's), and, when the request is sent again, `retry` (why) and `delay_us`;
//!   closed then, or when the request ends.
//!
//! Spans are recorded, never entered: a request's life moves between threads. The hook
//! is attached to requests made while a global subscriber is set; it only records, as a
//! log line does, so a request with it alone still runs on a driver.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;
use std::time::Duration;

use tracing::Span;
use tracing::field::Empty;
use url::Url;

use super::{Failure, Finished, Hook, Incoming, Outgoing, RetryReason, Retrying};
use crate::{BoxError, origin, sync};

/// Whether a subscriber may want spans: one was set as the global default. A thread's own
/// default does not reach the client's threads.
pub(super) fn wanted() -> bool {
    tracing::dispatcher::has_been_set()
}

/// The spans of a client's requests that are under way, by request id: the span hook, one
/// per client.
#[derive(Default)]
pub(super) struct Spans {
    open: Mutex<HashMap<u64, Open>>,
}

/// A request's span, and its attempt's with the attempt's number.
struct Open {
    /// First, so that it closes before its parent.
    attempt: Option<(u32, Span)>,
    request: Span,
}

impl Open {
    /// A request's span, under the span current on this thread: the caller's, when the
    /// request is opened where it is made.
    fn new(id: u64, method: &str, host: &str) -> Self {
        let request = tracing::info_span!(
            target: "asynchttp",
            parent: tracing::Span::current().id(),
            "request",
            id,
            method,
            host,
            status = Empty,
            attempts = Empty,
            error = Empty,
            queued_us = Empty,
            first_byte_us = Empty,
            total_us = Empty,
            resolve_us = Empty,
            connect_us = Empty,
            tls_us = Empty,
        );
        Open {
            request,
            attempt: None,
        }
    }

    /// The span of a request that ends without one: refused, or answered from the cache.
    fn late(id: u64, method: &str, url: &str) -> Self {
        let host = Url::parse(url)
            .map(|url| origin::authority(&url))
            .unwrap_or_default();
        Open::new(id, method, &host)
    }
}

impl Spans {
    /// Opens request `id`'s span as it is made, on the caller's thread.
    pub(super) fn begin(&self, id: u64, method: &str, url: &Url) {
        let open = Open::new(id, method, &origin::authority(url));
        sync::lock(&self.open).insert(id, open);
    }

    /// The request's open spans, taken out: it has ended.
    fn close(&self, id: u64) -> Option<Open> {
        sync::lock(&self.open).remove(&id)
    }
}

impl Hook for Spans {
    fn name(&self) -> &str {
        "asynchttp::tracing"
    }

    fn before_send(&self, outgoing: &mut Outgoing<'_>) -> Result<(), BoxError> {
        let mut open = sync::lock(&self.open);
        let spans = match open.entry(outgoing.id()) {
            Entry::Occupied(spans) => spans.into_mut(),
            Entry::Vacant(new) if outgoing.exchange() == 1 => new.insert(Open::new(
                outgoing.id(),
                outgoing.method(),
                &origin::authority(outgoing.url),
            )),
            // A stale cache entry refreshed after its request ended: no span of its own,
            // which nothing would close.
            Entry::Vacant(_) => return Ok(()),
        };
        let number = outgoing.attempt();
        if spans.attempt.as_ref().is_none_or(|(n, _)| *n != number) {
            let span = tracing::info_span!(
                target: "asynchttp",
                parent: &spans.request,
                "attempt",
                attempt = number,
                status = Empty,
                retry = Empty,
                delay_us = Empty,
            );
            spans.attempt = Some((number, span));
        }
        Ok(())
    }

    fn on_response(&self, incoming: &Incoming<'_>) {
        let open = sync::lock(&self.open);
        if let Some((_, attempt)) = open.get(&incoming.id()).and_then(|s| s.attempt.as_ref()) {
            attempt.record("status", incoming.status());
        }
    }

    fn on_retry(&self, retrying: &Retrying<'_>) {
        let ended = sync::lock(&self.open)
            .get_mut(&retrying.id())
            .and_then(|spans| spans.attempt.take());
        if let Some((_, attempt)) = ended {
            match retrying.reason() {
                RetryReason::Status(status) => attempt.record("retry", status),
                RetryReason::Error(error) => attempt.record("retry", error.to_string()),
            };
            attempt.record("delay_us", micros(retrying.delay()));
        }
    }

    fn on_finish(&self, finished: &Finished<'_>) {
        let spans = self
            .close(finished.id())
            .unwrap_or_else(|| Open::late(finished.id(), finished.method(), finished.url()));
        let response = finished.response();
        let (span, t) = (&spans.request, &response.timings);
        span.record("status", response.status);
        span.record("attempts", response.attempts);
        span.record("queued_us", micros(t.queued()));
        span.record("first_byte_us", micros(t.first_byte()));
        span.record("total_us", micros(t.total()));
        for (field, phase) in [
            ("resolve_us", t.resolve()),
            ("connect_us", t.connect()),
            ("tls_us", t.tls()),
        ] {
            if let Some(phase) = phase {
                span.record(field, micros(phase));
            }
        }
    }

    fn on_failure(&self, failure: &Failure<'_>) {
        let spans = self
            .close(failure.id())
            .unwrap_or_else(|| Open::late(failure.id(), failure.method(), failure.url()));
        spans.request.record("error", failure.error().chain());
    }
}

fn micros(time: Duration) -> u64 {
    u64::try_from(time.as_micros()).unwrap_or(u64::MAX)
}
