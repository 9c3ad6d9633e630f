//! The life of one request, in order. Everything a request goes through is called from
//! here; each step lives in the module named beside it.
//!
//! On the caller's thread, in [`submit`]:
//!
//! 1. The request is checked and made ready to send ([`Request::prepare`]: method, URL,
//!    headers), and told whether the client's cookie jar gives it cookies, and its hooks
//!    ([`hooks::attach`]: the client's, then its own). A bad one, or one made after
//!    shutdown, gives a pair already failed (its hooks hear of it), and nothing is queued.
//! 2. A plain GET whose cache entry is fresh is answered from the cache
//!    ([`flow::fresh`]); its pair is ready at once.
//! 3. Anything else is counted on the client's drain count and queued on the pool
//!    ([`WorkerPool::submit`]); its pair waits on an empty slot. With host limits, it
//!    first passes its host's ([`host_limits`]): held back, it waits in its host's line and
//!    is queued when the host lets it through.
//!
//! Then the life of the request, steps 4 to 9, one `async fn` ([`RequestJob::life`]) that
//! reads top to bottom. Which thread runs it is decided in one place
//! ([`Job::drivable`]): a driver polls it as a future among many when
//! nothing in it may block (no callback, hook or function of the caller's, no download, no
//! cache, no credentials); a worker thread blocks on the same future for any other. Its
//! panics are caught in one place too ([`RequestJob::live`]).
//!
//! 4. The deadline starts: the whole request shares it from here, every attempt of it.
//! 5. Through the cache ([`flow::fetch`]) when the client has one, else straight on: the
//!    redirect loop ([`redirect::fetch`]) sends each hop with credentials
//!    ([`Credentials::send`](crate::auth::Credentials), which answers 401s) over the
//!    transport ([`Transport`](crate::transport::Transport): send, read, decode). With a
//!    cookie jar, the transport gives each exchange the jar's cookies for its URL, and
//!    stores the cookies each response head sets. The hooks see each exchange as it goes
//!    out and each head as it comes in, and each redirect followed ([`hooks`]).
//!
//!    5b. When the request's retry policy ([`retry`](crate::retry)) sends it again (and
//!    its hooks, told, do not fail it: [`again`]), it gives back its
//!    host's place and goes back to its pool with a not-before time
//!    ([`PoolRef::submit_at`](crate::pool::PoolRef)), through its host's line again if
//!    it has one, to run from step 4 on whichever driver or worker takes it; nothing
//!    waits meanwhile.
//!
//!    5c. Not sent again, a request whose origin failed (an error, or a 5xx) may be
//!    answered by a stale stored response that `stale-if-error` allows
//!    ([`flow::fall_back`]).
//! 6. A failure becomes a status if the client forces exceptions to status codes
//!    ([`forced`]).
//! 7. The request's callback runs, its panic caught (never on a driver); then its hooks
//!    hear how it ended.
//! 8. The `finished` or `failed` line is logged (with the request's [`Timings`](crate::Timings)), the
//!    request gives back its host's place, and the slot is filled: every wait on the pair
//!    returns.
//! 9. A stale answer given within `stale-while-revalidate` is refreshed after the caller
//!    has it ([`flow::refresh`]).
//!
//! The job's `fail` is the other end: a request the pool never ran (cancelled, or the pool
//! stopped) has its slot filled with that error.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_lite::FutureExt;
use futures_lite::future::block_on;

use crate::cache::flow;
use crate::deadline::Deadline;
use crate::driver::Drive;
use crate::engine::Engine;
use crate::exchange::{Exchange, Failed};
use crate::finish::Finish;
use crate::forced;
use crate::hooks;
use crate::host_limits::{self, HostPlace};
use crate::pool::WorkerPool;
use crate::promise::{Promise, Requested, Slot, Watcher};
use crate::redirect;
use crate::request::Prepared;
use crate::task::{self, Job};
use crate::timings::Measured;
use crate::{Error, Request, logs, origin, shutdown, sync, uri};

mod again;

use self::again::{next_attempt, requeue, spare};

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// Steps 1 to 3: checks `req`, answers it from the cache or queues it. `finish` turns the
/// exchange into the slot's value; one that runs on any thread lets a fresh cache entry
/// answer right here, without a worker.
pub(crate) fn submit<T, F>(
    engine: &Arc<Engine>,
    pool: &WorkerPool,
    mut req: Request,
    location: &'static Location<'static>,
    watcher: Option<Arc<dyn Watcher<T>>>,
    finish: F,
) -> Arc<Slot<T>>
where
    T: Send + Sync + 'static,
    F: Finish<T>,
{
    let watched = |slot: Arc<Slot<T>>| {
        if let Some(watcher) = watcher.clone() {
            slot.watch(watcher);
        }
        slot
    };
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let method = shown_method(req.method.clone());
    let hooked = hooks::attach(&engine.config.hooks, std::mem::take(&mut req.hooks), id);
    let refused = |url: String, error: Error| {
        let url: Arc<str> = Arc::from(url);
        logs::debug!("req={id} refused {method} {url}: {}", error.chain());
        let requested = Requested {
            id,
            method: method.clone(),
            url,
            location,
        };
        hooks::failed(hooked.as_deref(), &requested, &error);
        watched(Slot::filled(requested, Err(error)))
    };
    if engine.drain.is_closed() {
        if let Some(monitor) = req.body.monitored() {
            monitor.end();
        }
        return refused(uri::redact(&req.uri), Error::Closed);
    }
    // 1. Checked and made ready.
    let raw_uri = req.uri.clone();
    let monitor = req.body.monitor.clone();
    let mut prepared = match req.prepare(&raw_uri) {
        Ok(prepared) => prepared,
        Err(e) => {
            // Its body's progress ends with it, whoever else holds a copy of the body.
            if let Some(monitor) = monitor {
                monitor.end();
            }
            return refused(uri::redact(&raw_uri), e);
        }
    };
    drop(monitor);
    prepared.defaults.cookies = engine.transport.cookie_jar().is_some();
    prepared.hooks = hooked;
    hooks::begin(prepared.hooks.as_deref(), &method, &prepared.url);
    // The parsed URL is most often the text given: the slot then shares it.
    let url = if prepared.url.as_str() == &*raw_uri {
        raw_uri
    } else {
        Arc::from(prepared.url.as_str())
    };
    let requested = Requested {
        id,
        method: method.clone(),
        url,
        location,
    };
    // 2. A fresh cache entry answers at once.
    if let (true, None, Some(cache)) = (F::ON_ANY_THREAD, &prepared.callback, &engine.cache) {
        let started = Instant::now();
        if let Some(mut exchange) = flow::fresh(cache.as_ref(), &prepared) {
            exchange.response.set_elapsed(started.elapsed());
            logs::debug!(
                "req={id} {method} {} answered from the cache",
                uri::without_query(&prepared.url)
            );
            let mut result = Ok(exchange);
            hooks::ended(prepared.hooks.as_deref(), &requested, &mut result);
            let result = result.and_then(|exchange| finish.finish(exchange));
            return watched(Slot::filled(requested, result));
        }
    }
    // 3. Queued.
    let slot = watched(Slot::new(requested));
    logs::debug!(
        "req={id} queued {method} {}",
        uri::without_query(&prepared.url)
    );
    let host = engine
        .limiter
        .as_ref()
        .map(|limiter| (limiter, origin::authority(&prepared.url)));
    let task = task::task(RequestJob {
        pending: Pending::start(engine),
        queued: Instant::now(),
        prepared,
        promise: Promise::new(slot.clone()),
        finish,
        retried: None,
        host: host
            .as_ref()
            .map(|(limiter, key)| HostPlace::new(limiter, key.clone(), id)),
    });
    slot.attach(&task);
    // Its host may hold it back; the pool takes it when the host lets it through.
    let task = match host {
        Some((limiter, key)) => limiter.enter(&key, id, task),
        None => Some(task),
    };
    if let Some(task) = task {
        pool.submit(task);
    }
    slot
}

/// The method as messages show it: a standard one (static, see `Request::new`) as it is,
/// any other with control characters escaped (it may be a refused injection attempt).
fn shown_method(method: Cow<'static, str>) -> Cow<'static, str> {
    match method {
        Cow::Borrowed(standard) => Cow::Borrowed(standard),
        Cow::Owned(other) => Cow::Owned(other.escape_debug().to_string()),
    }
}

/// A request counted on its client's drain count from submission until its job is gone,
/// run or not; it is also how the job reaches its client's engine.
struct Pending(Arc<Engine>);

impl Pending {
    fn start(engine: &Arc<Engine>) -> Self {
        engine.drain.enter();
        Pending(engine.clone())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.drain.leave();
    }
}

/// A request on its way through a driver or a worker.
struct RequestJob<T, F> {
    pending: Pending,
    /// When it entered the queue: the finished line tells time queued from time worked.
    queued: Instant,
    prepared: Prepared,
    promise: Promise<T>,
    finish: F,
    /// Set once the request is sent again: what its earlier attempts leave it.
    retried: Option<Box<Retried>>,
    /// Its place with its host, when the client limits hosts.
    host: Option<Box<HostPlace>>,
}

/// What a request sent again carries from its earlier attempts.
struct Retried {
    /// Retries made so far, this one included.
    done: u32,
    /// Every attempt shares the first one's deadline and start.
    deadline: Deadline,
    first: Instant,
}

impl<T, F> Job for RequestJob<T, F>
where
    T: Send + Sync + 'static,
    F: Finish<T>,
{
    /// Nothing in it may block a driver: no callback, hook or user function, no download
    /// (its destination may block), no body read as it is sent (a file's or a reader's
    /// reads may block: its pump runs on the worker, see `transport::pump`), no cache (a
    /// store may block on its disk, or be the caller's own), no credentials (a Digest
    /// answer may wait for its nonce). A cookie jar does not count: it is data behind a
    /// lock held only to read or store it, never across I/O; nor does the crate's span
    /// hook, which only records.
    fn drivable(&self) -> bool {
        let engine = &self.pending.0;
        F::ON_ANY_THREAD
            && self.prepared.callback.is_none()
            && self.prepared.hooks.as_ref().is_none_or(|h| h.quick())
            && self.prepared.sink.is_none()
            && !self.prepared.body.is_streamed()
            && engine.cache.is_none()
            && engine.credentials.is_empty()
    }

    /// The life as a future among many, on a driver.
    fn drive(self) -> Drive {
        Box::pin(self.live())
    }

    /// The life on a worker thread, which it holds until it ends.
    fn run(self) {
        block_on(self.live());
    }

    fn admitted(&mut self) {
        if let Some(host) = &mut self.host {
            host.admitted();
        }
    }

    fn fail(mut self, error: Error) {
        logs::debug!("req={} not run: {error}", self.promise.requested().id);
        drop(self.prepared.sink.take());
        if let Some(monitor) = self.prepared.body.monitored() {
            monitor.end();
        }
        let hooked = self.prepared.hooks.as_deref();
        hooks::failed(hooked, self.promise.requested(), &error);
        self.promise.fulfil(Err(error));
    }
}

impl<T, F> RequestJob<T, F>
where
    T: Send + Sync + 'static,
    F: Finish<T>,
{
    /// The life, its panics caught: this is the one place a panic in steps 4 to 9 is
    /// caught, on a driver and a worker alike. The request fails with it, and whoever holds
    /// the last reference to the client's engine lets it go off the driver.
    async fn live(self) {
        let id = self.promise.requested().id;
        let slot = self.promise.slot().clone();
        let engine = self.pending.0.clone();
        let hooked = self.prepared.hooks.clone();
        {
            let mut life = std::pin::pin!(AssertUnwindSafe(self.life()).catch_unwind());
            if life.as_mut().await.is_err() {
                logs::error!("req={id} panicked outside its callback");
                let error = Error::worker_panicked();
                hooks::failed(hooked.as_deref(), slot.requested(), &error);
                // Filled before the life is dropped: its promise then finds it filled.
                slot.fill(Err(error));
            }
        }
        release_off_driver(engine);
    }

    /// Steps 4 to 9, in order.
    async fn life(mut self) {
        // 4. The deadline: the first attempt's, for a request sent again.
        let engine = self.pending.0.clone();
        let id = self.promise.requested().id;
        let retried = self.retried.as_deref();
        let host = self.host.as_deref();
        let started = start(id, &engine, &self.prepared, self.queued, retried, host);
        let spare = spare(&engine, &self.prepared, retried);
        let net = engine.network(started.deadline);
        // 5. Through the cache, the redirect loop, credentials and the transport.
        let (mut refresh, mut fallback) = (None, None);
        let prepared = &mut self.prepared;
        let fetched = match &engine.cache {
            // A download goes around the cache: its body is not kept to store. The cache's
            // future is boxed, here and for the refresh: held inline, its states made every
            // request's future 8,320 bytes instead of 5,992, cached or not (the size of the
            // life's future, for a plain GET of `examples/demo.rs`).
            Some(cache) if prepared.sink.is_none() => {
                let through = Box::pin(flow::fetch(
                    cache.as_ref(),
                    &engine.config.cache_rules,
                    &net,
                    prepared,
                    id,
                ))
                .await;
                (refresh, fallback) = (through.refresh, through.fallback);
                through.fetched
            }
            _ if flow::only_if_cached(prepared) => Ok(flow::gateway_timeout(&prepared.url)),
            _ => redirect::fetch(&net, prepared, id).await,
        };
        // 5b. Sent again, later, if its policy says so (and its hooks, told, do not fail
        // it): nothing is held meanwhile.
        let mut fetched = fetched;
        if let Some((spare, wait)) =
            next_attempt(spare, &engine, &self.prepared, &fetched, &started, id)
        {
            match hooks::retrying(self.prepared.hooks.as_deref(), &fetched, wait) {
                Ok(()) => {
                    let outcome = host_limits::outcome(&fetched);
                    requeue(self, spare, &started, wait, outcome);
                    return;
                }
                Err(error) => fetched = Err(Box::new(Failed::at(error, &self.prepared.url))),
            }
        }
        // 5c. The origin failed for good: a stale stored response in its place, if allowed.
        let fetched = flow::fall_back(fetched, fallback, id);
        // 6. A failure as a status, if the client wants one.
        let mut result = settle(&engine, fetched, &started);
        // 7. The callback (never on a driver: see `drivable`).
        if let (Ok(exchange), Some(callback)) = (&mut result, self.prepared.callback.take()) {
            let callback = sync::into_inner(callback);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                callback(&mut exchange.response, &mut exchange.content)
            }));
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(Error::from_callback(e)),
                Err(panic) => result = Err(Error::callback_panicked(&*panic)),
            }
        }
        // 7b. The hooks hear how it ended.
        let hooked = self.prepared.hooks.as_deref();
        hooks::ended(hooked, self.promise.requested(), &mut result);
        // 8. Logged, and the slot filled.
        let RequestJob {
            pending,
            prepared,
            host,
            promise,
            finish,
            ..
        } = self;
        end(id, prepared, host, result, &started, promise, finish);
        // 9. A stale answer given within stale-while-revalidate: the caller has it; the
        // entry is now refreshed, with a deadline of its own.
        if let (Some(req), Some(cache)) = (refresh, &engine.cache) {
            let net = engine.network(engine.deadline(req.timeouts, false));
            Box::pin(flow::refresh(
                cache.as_ref(),
                &engine.config.cache_rules,
                &net,
                req,
                id,
            ))
            .await;
        }
        // Counted on the client's drain count until here, the refresh included.
        drop(pending);
    }
}

/// Drops a life's reference to its client's engine. When it is the last (every clone of the
/// `Http` was dropped meanwhile), the engine's isahc clients go too, and each joins its agent
/// thread, which may be waiting on other requests of this very driver: so the last
/// reference goes on a thread of its own.
fn release_off_driver(engine: Arc<Engine>) {
    if Arc::strong_count(&engine) > 1 {
        return;
    }
    shutdown::release(engine, drop);
}

/// When a request started, how long it had waited in the queue and for its host, and
/// its deadline.
struct Started {
    /// The first attempt's start, for a request sent again.
    at: Instant,
    waited: Duration,
    /// Retries before this attempt.
    retries: u32,
    /// Every attempt shares the first one's.
    deadline: Deadline,
    /// In its host's line, over every attempt (`HostPlace::waited`).
    host_wait: Duration,
}

/// Step 4: the `started` line, and the clock the deadline and `elapsed` are counted from:
/// the first attempt's, for a request sent again.
fn start(
    id: u64,
    engine: &Engine,
    prepared: &Prepared,
    queued: Instant,
    retried: Option<&Retried>,
    host: Option<&HostPlace>,
) -> Started {
    let now = Instant::now();
    let waited = now.saturating_duration_since(queued);
    let host_wait = host.map_or(Duration::ZERO, HostPlace::waited);
    let shown_url = uri::without_query(&prepared.url);
    match retried {
        None => {
            logs::debug!("req={id} started {} {shown_url}", prepared.method);
            Started {
                at: now,
                waited,
                retries: 0,
                deadline: engine.deadline(prepared.timeouts, streams(prepared)),
                host_wait,
            }
        }
        Some(retried) => {
            logs::debug!(
                "req={id} started {} {shown_url} (attempt {})",
                prepared.method,
                retried.done + 1
            );
            Started {
                at: retried.first,
                waited,
                retries: retried.done,
                deadline: retried.deadline,
                host_wait,
            }
        }
    }
}

/// True for a request whose body, going or coming, is streamed rather than held: a
/// download, or an upload read as it is sent. It is bounded by silence rather than by a
/// total time unless one is set (see `Engine::deadline`).
fn streams(prepared: &Prepared) -> bool {
    prepared.sink.is_some() || prepared.body.is_streamed()
}

/// Step 6: the outcome, a failure made a status if the client forces exceptions to status
/// codes, with the time the request took.
fn settle(
    engine: &Engine,
    fetched: Result<Exchange, Box<Failed>>,
    started: &Started,
) -> Result<Exchange, Error> {
    let mut result = fetched.or_else(|failed| {
        if engine.config.force_exception_to_status_code {
            forced::as_status(*failed)
        } else {
            Err(failed.error)
        }
    });
    if let Ok(exchange) = &mut result {
        let response = &mut exchange.response;
        response.set_elapsed(started.at.elapsed());
        response.attempts = started.retries + 1;
        // The exchange's own timings came with its head; these are the request's.
        response
            .timings
            .set_waits(started.waited, started.host_wait);
    }
    result
}

/// Step 8: the `finished` or `failed` line, and the slot filled with what `finish` makes.
fn end<T, F>(
    id: u64,
    mut prepared: Prepared,
    host: Option<Box<HostPlace>>,
    mut result: Result<Exchange, Error>,
    started: &Started,
    promise: Promise<T>,
    finish: F,
) where
    F: Finish<T>,
{
    // A download's destination is closed (and a partial file removed), and an upload's
    // progress ended, before anyone can see the outcome.
    drop(prepared.sink.take());
    if let Some(monitor) = prepared.body.monitored() {
        monitor.end();
    }
    let (elapsed, waited) = (started.at.elapsed(), started.waited);
    let shown_url = uri::without_query(&prepared.url);
    match &result {
        Ok(exchange) => logs::debug!(
            "req={id} finished {} {shown_url} -> {} ({} bytes) in {elapsed:.1?} \
             (queued {waited:.1?}{})",
            prepared.method,
            exchange.response.status,
            exchange.content.len(),
            Measured(&exchange.response.timings)
        ),
        Err(e) => logs::debug!(
            "req={id} failed {} {shown_url} after {elapsed:.1?} (queued {waited:.1?}): {}",
            prepared.method,
            e.chain()
        ),
    }
    // The response takes the request's URL, the same text, rather than a copy of it.
    if let Ok(exchange) = &mut result {
        if exchange.response.url == prepared.url.as_str() {
            exchange.response.url = String::from(prepared.url);
        }
    }
    // Its host's next request may go; an adaptive rate hears how this one ended.
    if let Some(mut host) = host {
        host.leave(host_limits::outcome(&result), Instant::now());
    }
    promise.fulfil(result.and_then(|exchange| finish.finish(exchange)));
}
