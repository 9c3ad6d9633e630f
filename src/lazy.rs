//! The promise: a slot filled once by a worker, read by [`LazyResponse`], [`LazyContent`]
//! and [`Lazy`].

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use once_cell::sync::OnceCell;

use crate::blocking;
use crate::exchange::Exchange;
use crate::pool::Task;
use crate::sync;
use crate::{Error, Response};
use crate::{logs, shutdown};

/// Which request a slot is for, in messages: its id, what it asked for and the line of
/// code that made it.
#[derive(Debug)]
pub(crate) struct Made {
    pub(crate) id: u64,
    pub(crate) method: Cow<'static, str>,
    /// The URL without userinfo (never accepted) and, in logs, without its query.
    /// Shared with the request's own URI when they are the same text.
    pub(crate) url: Arc<str>,
    pub(crate) location: &'static Location<'static>,
}

/// Told of a request's retries and of its outcome once set: a batch counting its progress.
/// Called under the slot's lock, so that what it counts is counted before anyone sees it.
pub(crate) trait Watcher<T>: Send + Sync {
    /// The request is to be sent again.
    fn retried(&self);
    /// The outcome, set.
    fn filled(&self, outcome: &Result<T, Error>);
}

/// What a slot's waiters share under its lock.
struct Waiting<T> {
    /// The queued job, so that a wait on a worker thread can run it there instead of
    /// waiting for a worker that may never be free. Dropped on fill, which frees the job's
    /// memory at once.
    task: Option<Weak<Task>>,
    /// Threads blocked in `ready`: a fill with none to wake makes no system call.
    waiters: usize,
    /// Shared by every slot of a batch: one pointer here, no allocation per request.
    watcher: Option<Arc<dyn Watcher<T>>>,
    /// What few slots have, behind one pointer: a slot costs 8 bytes for it until the
    /// first listener comes.
    listeners: Option<Box<Listeners>>,
}

/// Told once a slot is filled, besides the threads blocked on it.
#[derive(Default)]
struct Listeners {
    /// Told this slot's index (a batch reading in completion order).
    observers: Vec<(flume::Sender<usize>, usize)>,
    /// Futures awaiting the slot: one entry each, under the future's key, with the waker of
    /// its latest poll.
    wakers: Vec<(u64, Waker)>,
    /// The key of the next future to wait.
    next_key: u64,
}

impl Listeners {
    fn notify(self) {
        for (observer, index) in self.observers {
            let _ = observer.send(index); // a dropped iterator stops listening
        }
        for (_, waker) in self.wakers {
            waker.wake();
        }
    }
}

/// The outcome of a request, set once.
pub(crate) struct Slot<T> {
    value: OnceCell<Result<T, Error>>,
    /// The lock that `ready` waits with.
    waiting: Mutex<Waiting<T>>,
    ready: Condvar,
    /// The [`Handle`]s alive (the pair's halves, a `Lazy` and their clones): the last one
    /// may move the outcome out. The promise is not counted.
    handles: AtomicUsize,
    made: Made,
}

impl<T> Slot<T> {
    pub(crate) fn new(made: Made) -> Arc<Self> {
        Arc::new(Slot {
            value: OnceCell::new(),
            waiting: Mutex::new(Waiting {
                task: None,
                waiters: 0,
                watcher: None,
                listeners: None,
            }),
            ready: Condvar::new(),
            handles: AtomicUsize::new(0),
            made,
        })
    }

    /// A slot that is already filled; nothing will be queued for it.
    pub(crate) fn filled(made: Made, result: Result<T, Error>) -> Arc<Self> {
        let slot = Slot::new(made);
        slot.fill(result);
        slot
    }

    pub(crate) fn attach(&self, task: &Arc<Task>) {
        self.lock().task = Some(Arc::downgrade(task));
    }

    /// The request is to be sent again, as `task`: a wait on a worker may run it, and a
    /// cancel fails it; a watcher counts the retry.
    pub(crate) fn retried(&self, task: &Arc<Task>) {
        let mut waiting = self.lock();
        waiting.task = Some(Arc::downgrade(task));
        if let Some(watcher) = &waiting.watcher {
            watcher.retried();
        }
    }

    /// Sets the outcome; a second call is ignored.
    pub(crate) fn fill(&self, result: Result<T, Error>) {
        // Under the lock, so that a watcher counts the outcome before anyone can see it:
        // a batch joined is a batch fully counted.
        let mut waiting = self.lock();
        if self.is_filled() {
            return;
        }
        if let Some(watcher) = waiting.watcher.take() {
            watcher.filled(&result);
        }
        let _ = self.value.set(result); // the lock makes this the only set
        let task = waiting.task.take();
        let wake = waiting.waiters > 0;
        let listeners = waiting.listeners.take();
        drop(waiting);
        // Blocked threads and awaiting futures are woken together, once the lock is free.
        if wake {
            self.ready.notify_all();
        }
        if let Some(listeners) = listeners {
            listeners.notify();
        }
        drop(task);
    }

    /// Sends `index` to `observer` once this slot is filled (at once if it is).
    pub(crate) fn observe(&self, observer: flume::Sender<usize>, index: usize) {
        let mut waiting = self.lock();
        if self.is_filled() {
            drop(waiting);
            let _ = observer.send(index);
        } else {
            let listeners = waiting.listeners.get_or_insert_with(Box::default);
            listeners.observers.push((observer, index));
        }
    }

    /// Ready once filled. Until then it registers the waker of `cx` under `key`, in place
    /// of the one the same future registered before, so a future polled again never adds a
    /// second entry. It never blocks, and never runs the request (as a blocking wait on a
    /// worker thread does): a future's thread is its executor's.
    pub(crate) fn poll_filled(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_filled() {
            *key = None; // the fill took the listeners
            return Poll::Ready(());
        }
        let mut waiting = self.lock();
        if self.is_filled() {
            *key = None;
            return Poll::Ready(());
        }
        let listeners = waiting.listeners.get_or_insert_with(Box::default);
        let registered = key.and_then(|key| listeners.wakers.iter().position(|(k, _)| *k == key));
        match registered {
            Some(at) => {
                let waker = &mut listeners.wakers[at].1;
                if !waker.will_wake(cx.waker()) {
                    waker.clone_from(cx.waker());
                }
            }
            None => {
                let new = listeners.next_key;
                listeners.next_key += 1;
                listeners.wakers.push((new, cx.waker().clone()));
                *key = Some(new);
            }
        }
        Poll::Pending
    }

    /// Wakers registered by futures still waiting.
    #[cfg(test)]
    pub(crate) fn wakers(&self) -> usize {
        self.lock().listeners.as_ref().map_or(0, |l| l.wakers.len())
    }

    /// Drops the waker registered under `key`: its future is gone before the slot was
    /// filled (a timeout or a `select` dropped it).
    pub(crate) fn forget(&self, key: &mut Option<u64>) {
        let Some(key) = key.take() else {
            return;
        };
        if self.is_filled() {
            return;
        }
        let mut waiting = self.lock();
        if let Some(listeners) = waiting.listeners.as_mut() {
            if let Some(at) = listeners.wakers.iter().position(|(k, _)| *k == key) {
                listeners.wakers.swap_remove(at);
            }
        }
    }

    /// Calls `watcher` with the outcome once this slot is filled (at once if it is).
    pub(crate) fn watch(&self, watcher: Arc<dyn Watcher<T>>) {
        let mut waiting = self.lock();
        match self.value.get() {
            Some(outcome) => {
                drop(waiting);
                watcher.filled(outcome);
            }
            None => waiting.watcher = Some(watcher),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Waiting<T>> {
        sync::lock(&self.waiting)
    }

    pub(crate) fn is_filled(&self) -> bool {
        self.value.get().is_some()
    }

    fn get(&self) -> Option<Result<&T, Error>> {
        self.value.get().map(|r| r.as_ref().map_err(Clone::clone))
    }

    /// Blocks until filled, or until `deadline`.
    #[track_caller]
    fn wait_until(&self, deadline: Option<Instant>) -> Option<Result<&T, Error>> {
        if let Some(done) = self.get() {
            return Some(done);
        }
        if deadline.is_none_or(|deadline| deadline > Instant::now()) {
            // No URL: its query stays out of the log, and the id finds the request there.
            let o = &self.made;
            let what = format_args!("req={} a wait for the request made at {}", o.id, o.location);
            blocking::about_to_block(what, Location::caller());
        }
        // Only an untimed wait runs the request here: a timed one must return within its
        // timeout, and the request could take longer than that.
        if deadline.is_none() && shutdown::on_pool_thread() {
            let task = self.lock().task.as_ref().and_then(Weak::upgrade);
            if let Some(task) = task {
                task.run();
            }
        }
        let mut guard = self.lock();
        while !self.is_filled() {
            let left = match deadline {
                None => None,
                Some(deadline) => Some(deadline.checked_duration_since(Instant::now())?),
            };
            guard.waiters += 1;
            guard = match left {
                None => sync::wait(&self.ready, guard),
                Some(left) => sync::wait_timeout(&self.ready, guard, left).0,
            };
            guard.waiters -= 1;
        }
        drop(guard);
        self.get()
    }

    #[track_caller]
    fn wait_logged(&self) -> Result<&T, Error> {
        let result = self.wait_until(None).expect("no deadline");
        self.log_surfaced(&result, Location::caller());
        result
    }

    /// The outcome of a filled slot, read at `at`.
    pub(crate) fn outcome(&self, at: &Location<'_>) -> Result<&T, Error> {
        let result = self.get().expect("read once filled");
        self.log_surfaced(&result, at);
        result
    }

    /// Logs a stored error as the caller reads it at `at`.
    fn log_surfaced(&self, result: &Result<&T, Error>, at: &Location<'_>) {
        if let Err(e) = result {
            let o = &self.made;
            logs::debug!(
                "req={} error surfaced at {at}: {} (request made at {})",
                o.id,
                e.chain(),
                o.location
            );
        }
    }

    /// `copy` of a filled slot's value, or its error.
    pub(crate) fn copied<U>(&self, copy: impl FnOnce(&T) -> U) -> Result<U, Error> {
        match self.value.get().expect("copied once filled") {
            Ok(value) => Ok(copy(value)),
            Err(e) => Err(e.clone()),
        }
    }

    /// Moves the outcome out of a filled slot that no handle holds any more. In the moment
    /// after filling it, the promise that filled it still holds it: then the slot comes back.
    pub(crate) fn try_move(this: Arc<Self>) -> Result<Result<T, Error>, Arc<Self>> {
        Arc::try_unwrap(this).map(|slot| slot.value.into_inner().expect("moved once filled"))
    }

    /// As [`try_move`](Self::try_move), yielding the thread until the promise has let go,
    /// which it does within a few instructions of filling the slot.
    fn moved(mut this: Arc<Self>) -> Result<T, Error> {
        loop {
            match Slot::try_move(this) {
                Ok(outcome) => return outcome,
                Err(back) => {
                    this = back;
                    thread::yield_now();
                }
            }
        }
    }

    #[track_caller]
    fn force(&self) -> &T {
        match self.wait_logged() {
            Ok(value) => value,
            Err(e) => {
                let o = &self.made;
                panic!(
                    "asynchttp: {} {} failed: {} (request made at {})",
                    o.method,
                    o.url,
                    e.chain(),
                    o.location
                )
            }
        }
    }

    fn debug_state(&self) -> &'static str {
        match self.value.get() {
            None => "Pending",
            Some(Ok(_)) => "Ready",
            Some(Err(_)) => "Failed",
        }
    }
}

/// The writing end of a slot, held by the job. If it is dropped unfilled (the job was
/// dropped or panicked), the slot still gets an outcome, so no reader waits forever.
pub(crate) struct Promise<T> {
    slot: Arc<Slot<T>>,
}

impl<T> Promise<T> {
    pub(crate) fn new(slot: Arc<Slot<T>>) -> Self {
        Promise { slot }
    }

    pub(crate) fn fulfil(self, result: Result<T, Error>) {
        self.slot.fill(result);
    }

    /// Fills the slot and keeps holding it, as a promise does for a moment after filling.
    #[cfg(test)]
    pub(crate) fn fill_and_hold(&self, result: Result<T, Error>) {
        self.slot.fill(result);
    }

    pub(crate) fn made(&self) -> &Made {
        &self.slot.made
    }

    /// The slot this promise fills.
    pub(crate) fn slot(&self) -> &Arc<Slot<T>> {
        &self.slot
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if !self.slot.is_filled() {
            let error = if std::thread::panicking() {
                Error::worker_panicked()
            } else {
                Error::Closed
            };
            self.slot.fill(Err(error));
        }
    }
}

/// What a [`LazyResponse`], [`LazyContent`] or [`Lazy`] holds: its slot, counted among the
/// slot's handles, so that the last handle can move the outcome out instead of copying it.
pub(crate) struct Handle<T> {
    /// `None` only once [`release`](Handle::release) gave it up, as the handle goes.
    slot: Option<Arc<Slot<T>>>,
}

impl<T> Handle<T> {
    fn new(slot: Arc<Slot<T>>) -> Self {
        slot.handles.fetch_add(1, Ordering::Relaxed);
        Handle { slot: Some(slot) }
    }

    /// Gives this handle up: its slot, and whether it was the last handle on it. Of handles
    /// given up at once, exactly one is the last.
    pub(crate) fn release(mut self) -> (Arc<Slot<T>>, bool) {
        let slot = self.slot.take().expect("a handle is given up once");
        let last = slot.handles.fetch_sub(1, Ordering::AcqRel) == 1;
        (slot, last)
    }

    /// Blocks until the slot is filled, then gives this handle up for the outcome: moved out
    /// with `take` if it was the last handle, else copied with `copy`.
    #[track_caller]
    fn into_outcome<U>(
        self,
        take: impl FnOnce(T) -> U,
        copy: impl FnOnce(&T) -> U,
    ) -> Result<U, Error> {
        let _ = self.wait_logged();
        match self.release() {
            (slot, false) => slot.copied(copy),
            (slot, true) => Slot::moved(slot).map(take),
        }
    }

    /// The outcome, moved out with `take`, if this is the last handle: it then blocks until
    /// the slot is filled. `None` at once otherwise.
    #[track_caller]
    fn into_last<U>(self, take: impl FnOnce(T) -> U) -> Option<Result<U, Error>> {
        let (slot, last) = self.release();
        if !last {
            return None;
        }
        let _ = slot.wait_logged();
        Some(Slot::moved(slot).map(take))
    }
}

impl<T> Deref for Handle<T> {
    type Target = Slot<T>;

    fn deref(&self) -> &Slot<T> {
        self.slot
            .as_deref()
            .expect("a handle is emptied only as it goes")
    }
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        let slot = self
            .slot
            .clone()
            .expect("a handle is emptied only as it goes");
        Handle::new(slot)
    }
}

impl<T> Drop for Handle<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.handles.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

macro_rules! lazy_accessors {
    ($target:ty, $project:expr, $name:literal, $setup:literal) => {
        /// Blocks until the request is done; the fallible way to get the value.
        ///
        /// A failed request gives its [`Error`] here on every call, never a retry.
        ///
        /// # Errors
        ///
        /// The request's [`Error`]: it could not be sent, the transport failed, or a
        /// callback failed.
        ///
        /// # Examples
        ///
        /// ```
        /// use asynchttp::{Error, Http, Lazy, LazyContent, LazyResponse, Request};
        ///
        /// let http = Http::new();
        #[doc = $setup]
        #[doc = concat!("match ", $name, "::wait(&x) {")]
        ///     Ok(_) => unreachable!("nothing listens there"),
        ///     Err(e) => assert!(matches!(e, Error::InvalidRequest { .. })),
        /// }
        /// ```
        #[track_caller]
        pub fn wait(this: &Self) -> Result<&$target, Error> {
            this.slot.wait_logged().map($project)
        }

        /// The request's id, as log lines show it (`req=<id>`): find a request in the log.
        /// Ids are unique in a process and grow in the order requests were made.
        ///
        /// # Examples
        ///
        /// ```
        /// use asynchttp::{Error, Http, Lazy, LazyContent, LazyResponse, Request};
        ///
        /// let http = Http::new();
        #[doc = $setup]
        #[doc = concat!("assert!(", $name, "::id(&x) > 0);")]
        /// ```
        pub fn id(this: &Self) -> u64 {
            this.slot.made.id
        }

        /// True once the request is done (ok or failed). Never blocks.
        ///
        /// # Examples
        ///
        /// ```
        /// use asynchttp::{Error, Http, Lazy, LazyContent, LazyResponse, Request};
        ///
        /// let http = Http::new();
        #[doc = $setup]
        /// // Refused before it was queued, so it is ready at once.
        #[doc = concat!("assert!(", $name, "::is_ready(&x));")]
        /// ```
        pub fn is_ready(this: &Self) -> bool {
            this.slot.is_filled()
        }

        /// Like [`wait`](Self::wait), but gives up after `timeout` and returns `None`.
        /// `Duration::ZERO` polls. It returns within its timeout on every thread: on a
        /// worker (in a callback) it never runs the awaited request itself, as an untimed
        /// `wait` there does.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// use asynchttp::{Error, Http, Lazy, LazyContent, LazyResponse, Request};
        ///
        /// let http = Http::new();
        #[doc = $setup]
        #[doc = concat!("match ", $name, "::wait_timeout(&x, Duration::from_secs(5)) {")]
        ///     None => println!("still running"),
        ///     Some(Ok(_)) => println!("done"),
        ///     Some(Err(e)) => println!("failed: {e}"),
        /// }
        /// ```
        #[track_caller]
        pub fn wait_timeout(this: &Self, timeout: Duration) -> Option<Result<&$target, Error>> {
            let deadline = Instant::now().checked_add(timeout);
            this.slot.wait_until(deadline).map(|r| r.map($project))
        }
    };
}

/// The response half of a request's pair. Derefs to [`Response`], blocking until the
/// request is done.
///
/// # Panics
///
/// Dereferencing (`response.status`) or formatting with `Display` panics if the request
/// failed, with a message naming the method, the URL, the error and where the request was
/// made; the panic points at the access (`#[track_caller]`). Every later access panics the
/// same way. Use [`LazyResponse::wait`] to handle the error instead.
///
/// # Examples
///
/// ```no_run
/// let http = asynchttp::Http::new();
/// let (response, _content) = http.request("http://127.0.0.1:8080/");
/// if response.status == 200 {
///     println!("{}", response.get("content-type").unwrap_or("?"));
/// }
/// ```
#[derive(Clone)]
pub struct LazyResponse {
    pub(crate) slot: Handle<Exchange>,
}

impl LazyResponse {
    lazy_accessors!(
        Response,
        |e: &Exchange| &e.response,
        "LazyResponse",
        "let (x, _) = http.request(\"ftp://127.0.0.1/\");"
    );

    /// Blocks until the request is done and gives the response by value: moved out if this
    /// is the last handle on the request (the body half and every clone are gone), cloned
    /// otherwise. `response.await` does the same without blocking.
    ///
    /// # Errors
    ///
    /// The request's [`Error`], as [`wait`](Self::wait) gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// use asynchttp::{Error, Http, LazyResponse};
    ///
    /// let http = Http::new();
    /// let (response, _content) = http.request("ftp://127.0.0.1/"); // refused at once
    /// let error = LazyResponse::into_result(response).unwrap_err();
    /// assert!(matches!(error, Error::InvalidRequest { .. }));
    /// ```
    #[track_caller]
    pub fn into_result(this: Self) -> Result<Response, Error> {
        this.slot
            .into_outcome(|e| e.response, |e| e.response.clone())
    }

    /// The response by value if this is the last handle on the request, blocking until it
    /// is done; `None` at once otherwise (the body half or a clone is still alive), as
    /// [`Arc::into_inner`]: of handles given up at once, exactly one gets the outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// use asynchttp::{Error, Http, LazyResponse};
    ///
    /// let http = Http::new();
    /// let (response, content) = http.request("ftp://127.0.0.1/");
    /// assert!(LazyResponse::into_inner(response.clone()).is_none()); // two more alive
    /// drop(content);
    /// let last = LazyResponse::into_inner(response).expect("the last handle");
    /// assert!(matches!(last, Err(Error::InvalidRequest { .. })));
    /// ```
    #[track_caller]
    pub fn into_inner(this: Self) -> Option<Result<Response, Error>> {
        this.slot.into_last(|e| e.response)
    }
}

/// The body half of a request's pair. Derefs to `[u8]`; `Display` gives the body as text
/// (invalid UTF-8 replaced).
///
/// # Panics
///
/// As [`LazyResponse`]: access to a failed request's body panics, every time.
///
/// # Examples
///
/// ```no_run
/// let http = asynchttp::Http::new();
/// let (_response, content) = http.request("http://127.0.0.1:8080/");
/// let bytes: &[u8] = &content;
/// println!("{} bytes: {content}", bytes.len());
/// ```
#[derive(Clone)]
pub struct LazyContent {
    pub(crate) slot: Handle<Exchange>,
}

impl LazyContent {
    lazy_accessors!(
        [u8],
        |e: &Exchange| e.content.as_slice(),
        "LazyContent",
        "let (_, x) = http.request(\"ftp://127.0.0.1/\");"
    );

    /// Blocks until the request is done and gives the body by value: moved out, without a
    /// copy, if this is the last handle on the request (the response half and every clone
    /// are gone), copied otherwise. `content.await` does the same without blocking.
    ///
    /// # Errors
    ///
    /// The request's [`Error`], as [`wait`](Self::wait) gives it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use asynchttp::{Http, LazyContent, LazyResponse};
    ///
    /// let http = Http::new();
    /// let (response, content) = http.request("http://127.0.0.1:8080/report.csv");
    /// let status = LazyResponse::into_result(response)?.status; // the response's last handle
    /// let body: Vec<u8> = LazyContent::into_result(content)?; // moved: nothing else holds it
    /// println!("{status}: {} bytes", body.len());
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    #[track_caller]
    pub fn into_result(this: Self) -> Result<Vec<u8>, Error> {
        this.slot.into_outcome(|e| e.content, |e| e.content.clone())
    }

    /// The body by value if this is the last handle on the request, blocking until it is
    /// done; `None` at once otherwise, as [`Arc::into_inner`].
    ///
    /// # Examples
    ///
    /// ```
    /// use asynchttp::{Http, LazyContent};
    ///
    /// let http = Http::new();
    /// let (response, content) = http.request("ftp://127.0.0.1/");
    /// drop(response);
    /// assert!(LazyContent::into_inner(content).expect("the last handle").is_err());
    /// ```
    #[track_caller]
    pub fn into_inner(this: Self) -> Option<Result<Vec<u8>, Error>> {
        this.slot.into_last(|e| e.content)
    }

    /// Blocks until done and decodes the body as JSON (with the `json` feature).
    ///
    /// # Errors
    ///
    /// The request's own error, or [`Error::Json`] if the body does not decode as `T`.
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")] {
    /// use asynchttp::LazyContent;
    ///
    /// let (_, content) = asynchttp::Http::new().request("http://127.0.0.1:8080/items");
    /// let items: Vec<String> = LazyContent::json(&content)?;
    /// # }
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[track_caller]
    pub fn json<T: serde::de::DeserializeOwned>(this: &Self) -> Result<T, Error> {
        let exchange = this.slot.wait_logged()?;
        serde_json::from_slice(&exchange.content)
            .map_err(|e| Error::json(exchange.response.status, e))
    }
}

/// The outcome of [`Http::send_map`](crate::Http::send_map): the value the function made on
/// the worker. Derefs to `T`, blocking until done.
///
/// # Panics
///
/// As [`LazyResponse`]: access to a failed request's value panics, every time.
///
/// # Examples
///
/// ```no_run
/// use asynchttp::{Http, Request};
///
/// let http = Http::new();
/// let words = http.send_map(Request::get("http://127.0.0.1:8080/"), |_, body| {
///     Ok::<usize, std::str::Utf8Error>(std::str::from_utf8(body)?.split_whitespace().count())
/// });
/// println!("{} words", *words);
/// ```
pub struct Lazy<T> {
    pub(crate) slot: Handle<T>,
}

impl<T> Lazy<T> {
    lazy_accessors!(
        T,
        |t: &T| t,
        "Lazy",
        "let x = http.send_map(Request::get(\"ftp://127.0.0.1/\"), |_, body| Ok::<_, Error>(body.len()));"
    );

    /// Blocks until the request is done and gives the value by value: moved out if this is
    /// the last handle on it, cloned otherwise. For a `T` that is not `Clone`, see
    /// [`into_inner`](Self::into_inner). `lazy.await` does the same without blocking.
    ///
    /// # Errors
    ///
    /// The request's [`Error`], as [`wait`](Self::wait) gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// use asynchttp::{Error, Http, Lazy, Request};
    ///
    /// let http = Http::new();
    /// let lengths: Vec<Lazy<usize>> = ["ftp://127.0.0.1/a", "ftp://127.0.0.1/b"]
    ///     .into_iter()
    ///     .map(|url| http.send_map(Request::get(url), |_, body| Ok::<_, Error>(body.len())))
    ///     .collect();
    /// let taken: Result<Vec<usize>, Error> = lengths.into_iter().map(Lazy::into_result).collect();
    /// assert!(matches!(taken, Err(Error::InvalidRequest { .. })));
    /// ```
    #[track_caller]
    pub fn into_result(this: Self) -> Result<T, Error>
    where
        T: Clone,
    {
        this.slot.into_outcome(|t| t, T::clone)
    }

    /// The value, moved out, if this is the last handle on it, blocking until the request
    /// is done; `None` at once if another handle (a clone) is still alive, as
    /// [`Arc::into_inner`]: of handles given up at once, exactly one gets the outcome.
    /// `T` need not be `Clone`: a value built on the worker is collected without a copy.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use asynchttp::{Error, Http, Lazy, Request};
    ///
    /// struct Page {
    ///     words: Vec<String>,
    /// }
    ///
    /// let http = Http::new();
    /// let pages: Vec<Lazy<Page>> = (1..=3)
    ///     .map(|n| {
    ///         let req = Request::get(format!("http://127.0.0.1:8080/page/{n}"));
    ///         http.send_map(req, |_, body| {
    ///             let text = String::from_utf8_lossy(body);
    ///             let words = text.split_whitespace().map(String::from).collect();
    ///             Ok::<_, Error>(Page { words })
    ///         })
    ///     })
    ///     .collect();
    /// let pages: Vec<Page> = pages
    ///     .into_iter()
    ///     .map(|page| Lazy::into_inner(page).expect("one handle each"))
    ///     .collect::<Result<_, _>>()?;
    /// println!("{} words", pages.iter().map(|p| p.words.len()).sum::<usize>());
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    #[track_caller]
    pub fn into_inner(this: Self) -> Option<Result<T, Error>> {
        this.slot.into_last(|t| t)
    }

    pub(crate) fn new(slot: Arc<Slot<T>>) -> Self {
        Lazy {
            slot: Handle::new(slot),
        }
    }
}

impl<T> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        Lazy {
            slot: self.slot.clone(),
        }
    }
}

pub(crate) fn pair(slot: Arc<Slot<Exchange>>) -> (LazyResponse, LazyContent) {
    let response = LazyResponse {
        slot: Handle::new(slot.clone()),
    };
    (
        response,
        LazyContent {
            slot: Handle::new(slot),
        },
    )
}

mod sealed {
    // Public in a private module: nameable by no other crate, so none can implement it.
    #[allow(unreachable_pub)]
    /// Implemented by the lazy types alone, so that [`LazyExt`](super::LazyExt) can grow.
    pub trait Sealed {}

    impl Sealed for super::LazyResponse {}
    impl Sealed for super::LazyContent {}
    impl<T> Sealed for super::Lazy<T> {}
}

/// The lazy types' own operations as methods: `response.wait()`,
/// `content.into_result()`, `lazy.is_ready()`, for code that would rather not name the
/// types. Bring it in with `use asynchttp::prelude::*`.
///
/// Each method is the associated function of the same name ([`LazyResponse::wait`],
/// [`LazyContent::into_result`], [`Lazy::into_inner`], ...). Those stay the way that
/// always works: with this trait in scope, a method of the same name on the value behind
/// the handle (a `wait` of your own `T` in a [`Lazy<T>`]) is shadowed by the handle's, and
/// is reached as `(*lazy).wait()`.
///
/// # Examples
///
/// ```
/// use asynchttp::Http;
/// use asynchttp::prelude::*;
///
/// let http = Http::new();
/// let (response, content) = http.request("ftp://127.0.0.1/"); // refused at once
/// assert!(response.is_ready());
/// assert!(response.wait().is_err());
/// drop(response);
/// assert!(content.into_result().is_err());
/// ```
pub trait LazyExt: sealed::Sealed + Sized {
    /// What the handle derefs to: [`Response`], `[u8]`, or a [`Lazy`]'s `T`.
    type Target: ?Sized;
    /// What taking the outcome gives: [`Response`], `Vec<u8>`, or `T`.
    type Owned;

    /// Blocks until the request is done; see [`LazyResponse::wait`].
    ///
    /// # Errors
    ///
    /// The request's [`Error`].
    fn wait(&self) -> Result<&Self::Target, Error>;

    /// As [`wait`](Self::wait), giving up after `timeout`; see
    /// [`LazyResponse::wait_timeout`].
    fn wait_timeout(&self, timeout: Duration) -> Option<Result<&Self::Target, Error>>;

    /// True once the request is done; never blocks. See [`LazyResponse::is_ready`].
    fn is_ready(&self) -> bool;

    /// Blocks until done and gives the outcome by value: moved out from the last handle,
    /// cloned otherwise. See [`LazyResponse::into_result`].
    ///
    /// # Errors
    ///
    /// The request's [`Error`].
    fn into_result(self) -> Result<Self::Owned, Error>
    where
        Self::Owned: Clone;

    /// The outcome, moved out, if this is the last handle (blocking until done); `None` at
    /// once otherwise. See [`Lazy::into_inner`].
    fn into_inner(self) -> Option<Result<Self::Owned, Error>>;
}

macro_rules! lazy_ext {
    ([$($generics:tt)*] $lazy:ty, $target:ty, $owned:ty) => {
        impl<$($generics)*> LazyExt for $lazy {
            type Target = $target;
            type Owned = $owned;

            #[track_caller]
            fn wait(&self) -> Result<&$target, Error> {
                <$lazy>::wait(self)
            }

            fn wait_timeout(&self, timeout: Duration) -> Option<Result<&$target, Error>> {
                <$lazy>::wait_timeout(self, timeout)
            }

            fn is_ready(&self) -> bool {
                <$lazy>::is_ready(self)
            }

            #[track_caller]
            fn into_result(self) -> Result<$owned, Error>
            where
                $owned: Clone,
            {
                <$lazy>::into_result(self)
            }

            #[track_caller]
            fn into_inner(self) -> Option<Result<$owned, Error>> {
                <$lazy>::into_inner(self)
            }
        }
    };
}

lazy_ext!([] LazyResponse, Response, Response);
lazy_ext!([] LazyContent, [u8], Vec<u8>);
lazy_ext!([T] Lazy<T>, T, T);

impl LazyResponse {
    /// Cancels the request if no worker has started it: it then fails with
    /// [`Error::Cancelled`] and is never sent. A request already running finishes. True
    /// if it was cancelled.
    ///
    /// ```
    /// use asynchttp::{Error, Http, LazyResponse};
    ///
    /// let http = Http::new();
    /// let (response, _) = http.request("ftp://127.0.0.1/"); // refused before it was queued
    /// assert!(!LazyResponse::cancel(&response));
    /// assert!(matches!(LazyResponse::wait(&response), Err(Error::InvalidRequest { .. })));
    /// ```
    pub fn cancel(this: &Self) -> bool {
        let task = this.slot.lock().task.as_ref().and_then(Weak::upgrade);
        match task {
            Some(task) => task.fail(Error::Cancelled),
            None => false,
        }
    }

    pub(crate) fn observe(&self, observer: flume::Sender<usize>, index: usize) {
        self.slot.observe(observer, index);
    }

    /// Blocks until done; the stored error itself, if the request failed.
    #[track_caller]
    pub(crate) fn error(&self) -> Option<&Error> {
        let _ = self.slot.wait_until(None);
        self.slot.value.get()?.as_ref().err()
    }
}

impl Deref for LazyResponse {
    type Target = Response;

    #[track_caller]
    fn deref(&self) -> &Response {
        &self.slot.force().response
    }
}

impl Deref for LazyContent {
    type Target = [u8];

    #[track_caller]
    fn deref(&self) -> &[u8] {
        &self.slot.force().content
    }
}

impl<T> Deref for Lazy<T> {
    type Target = T;

    #[track_caller]
    fn deref(&self) -> &T {
        self.slot.force()
    }
}

impl fmt::Display for LazyResponse {
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl fmt::Display for LazyContent {
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self))
    }
}

impl<T: fmt::Display> fmt::Display for Lazy<T> {
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

pub(crate) fn debug_slot<T>(name: &str, slot: &Slot<T>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let o = &slot.made;
    write!(
        f,
        "{name}(req={} {} {}: {})",
        o.id,
        o.method,
        o.url,
        slot.debug_state()
    )
}

/// Never blocks: shows the request and whether it is pending, ready or failed.
impl fmt::Debug for LazyResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_slot("LazyResponse", &self.slot, f)
    }
}

/// Never blocks: shows the request and whether it is pending, ready or failed.
impl fmt::Debug for LazyContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_slot("LazyContent", &self.slot, f)
    }
}

/// Never blocks: shows the request and whether it is pending, ready or failed.
impl<T> fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_slot("Lazy", &self.slot, f)
    }
}

/// Blocks, and compares the response; panics if the request failed.
impl PartialEq<Response> for LazyResponse {
    #[track_caller]
    fn eq(&self, other: &Response) -> bool {
        **self == *other
    }
}

/// Blocks, and compares the body; panics if the request failed.
impl PartialEq<[u8]> for LazyContent {
    #[track_caller]
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

/// Blocks, and compares the body with text; panics if the request failed.
impl PartialEq<&str> for LazyContent {
    #[track_caller]
    fn eq(&self, other: &&str) -> bool {
        **self == *other.as_bytes()
    }
}
