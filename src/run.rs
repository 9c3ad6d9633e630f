//! The life of one request, in order. Everything a request goes through is called from
//! here; each step lives in the module named beside it.
//!
//! On the caller's thread, in [`submit`]:
//!
//! 1. The request is checked and made ready to send ([`Request::prepare`]: method, URL,
//!    headers), and told whether the client's cookie jar gives it cookies. A bad one, or
//!    one made after shutdown, gives a pair already failed, and nothing is queued.
//! 2. A plain GET whose cache entry is fresh is answered from the cache
//!    ([`flow::fresh`]); its pair is ready at once.
//! 3. Anything else is counted on the client's shutdown gate and queued on the pool
//!    ([`WorkerPool::submit`]); its pair waits on an empty slot.
//!
//! On a driver, in [`RequestJob::drive`], as a future among many, for a request with
//! nothing in it that may block (no callback or function of the caller's, no cache, no
//! credentials); on a worker thread, in [`RequestJob::run`], for any other:
//!
//! 4. The deadline starts: the whole request shares it from here.
//! 5. Through the cache ([`flow::fetch`]) when the client has one, else straight on: the
//!    redirect loop ([`redirect::fetch`]) sends each hop with credentials
//!    ([`Credentials::send`](crate::auth::Credentials), which answers 401s) over the
//!    transport ([`Transport`](crate::transport::Transport): send, read, decode). With a
//!    cookie jar, the transport gives each exchange the jar's cookies for its URL, and
//!    stores the cookies each response head sets.
//! 6. A failure becomes a status if the client forces exceptions to status codes
//!    ([`forced`]).
//! 7. The request's callback runs, its panic caught (on a worker only).
//! 8. The `finished` or `failed` line is logged, and the slot is filled: every wait on
//!    the pair returns.
//! 9. A stale answer given within `stale-while-revalidate` is refreshed, on the worker,
//!    after the caller has it ([`flow::refresh`]).
//!
//! The job's `fail` is the other end: a request the pool never ran (cancelled, or the pool
//! stopped) has its slot filled with that error.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use futures_lite::FutureExt;
use futures_lite::future::block_on;

use crate::cache::flow;
use crate::client::Client;
use crate::driver::Drive;
use crate::exchange::{Exchange, Failed};
use crate::forced;
use crate::lazy::{Made, Promise, Slot};
use crate::pool::{self, Job, WorkerPool};
use crate::redirect;
use crate::request::Prepared;
use crate::{Error, Request, logs, sync, uri};

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// Steps 1 to 3: checks `req`, answers it from the cache or queues it. `plain` is true
/// for the pair, whose outcome needs no user code: a fresh cache entry then answers it
/// right here, without a worker. `finish` turns the exchange into the slot's value.
pub(crate) fn submit<T, F>(
    client: &Arc<Client>,
    pool: &WorkerPool,
    req: Request,
    location: &'static Location<'static>,
    plain: bool,
    finish: F,
) -> Arc<Slot<T>>
where
    T: Send + Sync + 'static,
    F: FnOnce(Exchange) -> Result<T, Error> + Send + 'static,
{
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let method = shown_method(req.method.clone());
    let refused = |url: String, error: Error| {
        let url: Arc<str> = Arc::from(url);
        logs::debug!("req={id} refused {method} {url}: {}", error.chain());
        let made = Made {
            id,
            method: method.clone(),
            url,
            location,
        };
        Slot::filled(made, Err(error))
    };
    if client.gate.is_closed() {
        return refused(uri::redact(&req.uri), Error::Closed);
    }
    // 1. Checked and made ready.
    let raw_uri = req.uri.clone();
    let mut prepared = match req.prepare(&raw_uri) {
        Ok(prepared) => prepared,
        Err(e) => return refused(uri::redact(&raw_uri), e),
    };
    prepared.defaults.cookies = client.transport.cookie_jar().is_some();
    // The parsed URL is most often the text given: the slot then shares it.
    let url = if prepared.url.as_str() == &*raw_uri {
        raw_uri
    } else {
        Arc::from(prepared.url.as_str())
    };
    let made = Made {
        id,
        method: method.clone(),
        url,
        location,
    };
    // 2. A fresh cache entry answers at once.
    if let (true, None, Some(cache)) = (plain, &prepared.callback, &client.cache) {
        let started = Instant::now();
        if let Some(mut exchange) = flow::fresh(cache.as_ref(), &prepared) {
            exchange.response.elapsed = started.elapsed();
            logs::debug!(
                "req={id} {method} {} answered from the cache",
                uri::without_query(&prepared.url)
            );
            return Slot::filled(made, finish(exchange));
        }
    }
    // 3. Queued.
    let slot = Slot::new(made);
    logs::debug!(
        "req={id} queued {method} {}",
        uri::without_query(&prepared.url)
    );
    let task = pool::task(RequestJob {
        pending: Pending::start(client),
        queued: Instant::now(),
        prepared,
        promise: Promise::new(slot.clone()),
        finish,
        plain,
    });
    slot.attach(&task);
    pool.submit(task);
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

/// A request counted on its client's shutdown gate from submission until its job is gone,
/// run or not; it is also how the job reaches its client.
struct Pending(Arc<Client>);

impl Pending {
    fn start(client: &Arc<Client>) -> Self {
        client.gate.enter();
        Pending(client.clone())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.gate.leave();
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
    /// A pair's job: `finish` runs no user code.
    plain: bool,
}

impl<T, F> Job for RequestJob<T, F>
where
    T: Send + Sync + 'static,
    F: FnOnce(Exchange) -> Result<T, Error> + Send + 'static,
{
    /// Nothing in it may block a driver: no callback or user function, no download (its
    /// destination may block), no cache (a store may block on its disk, or be the caller's
    /// own), no credentials (a Digest answer may wait for its nonce). A cookie jar does not
    /// count: it is data behind a lock held only to read or store it, never across I/O.
    fn drivable(&self) -> bool {
        let client = &self.pending.0;
        self.plain
            && self.prepared.callback.is_none()
            && self.prepared.sink.is_none()
            && client.cache.is_none()
            && client.credentials.is_empty()
    }

    /// Steps 4 to 8 as a future, on a driver.
    fn drive(self) -> Drive {
        Box::pin(async move {
            let RequestJob {
                pending,
                queued,
                mut prepared,
                promise,
                finish,
                ..
            } = self;
            let client = &pending.0;
            let id = promise.made().id;
            let started = start(id, &prepared, queued);
            let net = client.network(client.deadline(prepared.timeouts));
            let fetched = if flow::only_if_cached(&prepared) {
                Some(Ok(flow::gateway_timeout(&prepared.url)))
            } else {
                let fetching = AssertUnwindSafe(redirect::fetch(&net, &mut prepared, id));
                fetching.catch_unwind().await.ok()
            };
            match fetched {
                Some(fetched) => {
                    let result = settle(client, fetched, &started);
                    end(id, prepared, result, &started, promise, finish);
                }
                None => {
                    logs::error!("req={id} panicked on its driver");
                    let reason = "it panicked while running this request".to_owned();
                    promise.fulfil(Err(Error::Worker { reason }));
                }
            }
            // Every way out releases the client here, never on the driver itself.
            let client = pending.0.clone();
            drop(pending);
            release_off_driver(client);
        })
    }

    /// Steps 4 to 9 on a worker thread.
    fn run(self) {
        let RequestJob {
            pending,
            queued,
            mut prepared,
            promise,
            finish,
            ..
        } = self;
        let client = &pending.0;
        let id = promise.made().id;
        // 4. The deadline.
        let started = start(id, &prepared, queued);
        let net = client.network(client.deadline(prepared.timeouts));
        // 5. Through the cache, the redirect loop, credentials and the transport.
        let mut refresh = None;
        let fetched = match &client.cache {
            // A download goes around the cache: its body is not kept to store.
            Some(cache) if prepared.sink.is_none() => {
                flow::fetch(cache.as_ref(), client.ignore_etag, &net, &mut prepared, id).map(
                    |through| {
                        refresh = through.refresh;
                        through.exchange
                    },
                )
            }
            _ if flow::only_if_cached(&prepared) => Ok(flow::gateway_timeout(&prepared.url)),
            _ => block_on(redirect::fetch(&net, &mut prepared, id)),
        };
        // 6. A failure as a status, if the client wants one.
        let mut result = settle(client, fetched, &started);
        // 7. The callback.
        if let (Ok(exchange), Some(callback)) = (&mut result, prepared.callback.take()) {
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
        // 8. Logged, and the slot filled.
        end(id, prepared, result, &started, promise, finish);
        // 9. A stale answer given within stale-while-revalidate: the caller has it; this
        // worker now refreshes the entry, with a deadline of its own.
        if let (Some(req), Some(cache)) = (refresh, &client.cache) {
            let net = client.network(client.deadline(req.timeouts));
            flow::refresh(cache.as_ref(), client.ignore_etag, &net, req, id);
        }
    }

    fn fail(mut self, error: Error) {
        logs::debug!("req={} not run: {error}", self.promise.made().id);
        drop(self.prepared.sink.take());
        self.promise.fulfil(Err(error));
    }
}

/// Drops a driver's reference to a client. When it is the last (every clone of the `Http`
/// was dropped meanwhile), the client's isahc clients go too, and each joins its agent
/// thread, which may be waiting on other requests of this very driver: so the last
/// reference goes on a thread of its own.
fn release_off_driver(client: Arc<Client>) {
    if Arc::strong_count(&client) > 1 {
        return;
    }
    let spawned = thread::Builder::new()
        .name("asynchttp-release".to_owned())
        .spawn(move || drop(client));
    if let Err(e) = spawned {
        logs::error!("could not start a thread to release a client: {e}");
    }
}

/// When a request started, and how long it had waited in the queue.
struct Started {
    at: Instant,
    waited: Duration,
}

/// Step 4: the `started` line, and the clock the deadline and `elapsed` are counted from.
fn start(id: u64, prepared: &Prepared, queued: Instant) -> Started {
    logs::debug!(
        "req={id} started {} {}",
        prepared.method,
        uri::without_query(&prepared.url)
    );
    let at = Instant::now();
    Started {
        at,
        waited: at.duration_since(queued),
    }
}

/// Step 6: the outcome, a failure made a status if the client forces exceptions to status
/// codes, with the time the request took.
fn settle(
    client: &Client,
    fetched: Result<Exchange, Box<Failed>>,
    started: &Started,
) -> Result<Exchange, Error> {
    let mut result = fetched.or_else(|failed| {
        if client.force_exception_to_status_code {
            forced::as_status(*failed)
        } else {
            Err(failed.error)
        }
    });
    if let Ok(exchange) = &mut result {
        exchange.response.elapsed = started.at.elapsed();
    }
    result
}

/// Step 8: the `finished` or `failed` line, and the slot filled with what `finish` makes.
fn end<T, F>(
    id: u64,
    mut prepared: Prepared,
    mut result: Result<Exchange, Error>,
    started: &Started,
    promise: Promise<T>,
    finish: F,
) where
    F: FnOnce(Exchange) -> Result<T, Error>,
{
    // A download's destination is closed (and a partial file removed) before anyone can
    // see the outcome.
    drop(prepared.sink.take());
    let (elapsed, waited) = (started.at.elapsed(), started.waited);
    let shown_url = uri::without_query(&prepared.url);
    match &result {
        Ok(exchange) => logs::debug!(
            "req={id} finished {} {shown_url} -> {} ({} bytes) in {elapsed:?} \
             (queued {waited:?})",
            prepared.method,
            exchange.response.status,
            exchange.content.len()
        ),
        Err(e) => logs::debug!(
            "req={id} failed {} {shown_url} after {elapsed:?} (queued {waited:?}): {}",
            prepared.method,
            e.chain()
        ),
    }
    // The response keeps the URL's own text, made when the request was queued, instead
    // of a copy made here: the copy would leave that text's memory a hole in the
    // submitting thread's heap, which the worker's heap cannot reuse.
    if let Ok(exchange) = &mut result {
        if exchange.response.url == prepared.url.as_str() {
            exchange.response.url = String::from(prepared.url);
        }
    }
    promise.fulfil(result.and_then(finish));
}
