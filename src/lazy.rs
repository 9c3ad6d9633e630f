//! The promise: a slot filled once by a worker, read by [`LazyResponse`], [`LazyContent`]
//! and [`Lazy`].

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::panic::Location;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use once_cell::sync::OnceCell;

use crate::exchange::Exchange;
use crate::logs;
use crate::pool::{self, Task};
use crate::sync;
use crate::{Error, Response};

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

/// Called with a slot's outcome once it is set (a batch counting its progress).
pub(crate) type Watcher<T> = dyn Fn(&Result<T, Error>) + Send + Sync;

/// What a slot's waiters share under its lock.
struct Waiting<T> {
    /// The queued job, so that a wait on a worker thread can run it there instead of
    /// waiting for a worker that may never be free. Dropped on fill, which frees the job's
    /// memory at once.
    task: Option<Weak<Task>>,
    /// Threads blocked in `ready`: a fill with none to wake makes no system call.
    waiters: usize,
    /// Told this slot's index once it is filled (a batch reading in completion order).
    observers: Vec<(flume::Sender<usize>, usize)>,
    /// Shared by every slot of a batch: one pointer here, no allocation per request.
    watcher: Option<Arc<Watcher<T>>>,
}

/// The outcome of a request, set once.
pub(crate) struct Slot<T> {
    value: OnceCell<Result<T, Error>>,
    /// The lock that `ready` waits with.
    waiting: Mutex<Waiting<T>>,
    ready: Condvar,
    made: Made,
}

impl<T> Slot<T> {
    pub(crate) fn new(made: Made) -> Arc<Self> {
        Arc::new(Slot {
            value: OnceCell::new(),
            waiting: Mutex::new(Waiting {
                task: None,
                waiters: 0,
                observers: Vec::new(),
                watcher: None,
            }),
            ready: Condvar::new(),
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

    /// Sets the outcome; a second call is ignored.
    pub(crate) fn fill(&self, result: Result<T, Error>) {
        // Under the lock, so that a watcher counts the outcome before anyone can see it:
        // a batch joined is a batch fully counted.
        let mut waiting = self.lock();
        if self.is_filled() {
            return;
        }
        if let Some(watcher) = waiting.watcher.take() {
            watcher(&result);
        }
        let _ = self.value.set(result); // the lock makes this the only set
        let task = waiting.task.take();
        let wake = waiting.waiters > 0;
        let observers = std::mem::take(&mut waiting.observers);
        drop(waiting);
        if wake {
            self.ready.notify_all();
        }
        for (observer, index) in observers {
            let _ = observer.send(index); // a dropped iterator stops listening
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
            waiting.observers.push((observer, index));
        }
    }

    /// Calls `watcher` with the outcome once this slot is filled (at once if it is).
    pub(crate) fn watch(&self, watcher: Arc<Watcher<T>>) {
        let mut waiting = self.lock();
        match self.value.get() {
            Some(outcome) => {
                drop(waiting);
                watcher(outcome);
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
    fn wait_until(&self, deadline: Option<Instant>) -> Option<Result<&T, Error>> {
        if let Some(done) = self.get() {
            return Some(done);
        }
        // Only an untimed wait runs the request here: a timed one must return within its
        // timeout, and the request could take longer than that.
        if deadline.is_none() && pool::on_worker_thread() {
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
        if let Err(e) = &result {
            let o = &self.made;
            logs::debug!(
                "req={} error surfaced at {}: {} (request made at {})",
                o.id,
                Location::caller(),
                e.chain(),
                o.location
            );
        }
        result
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

    pub(crate) fn made(&self) -> &Made {
        &self.slot.made
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if !self.slot.is_filled() {
            let error = if std::thread::panicking() {
                Error::Worker {
                    reason: "it panicked while running this request".to_owned(),
                }
            } else {
                Error::Closed
            };
            self.slot.fill(Err(error));
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
    slot: Arc<Slot<Exchange>>,
}

impl LazyResponse {
    lazy_accessors!(
        Response,
        |e: &Exchange| &e.response,
        "LazyResponse",
        "let (x, _) = http.request(\"ftp://127.0.0.1/\");"
    );
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
    slot: Arc<Slot<Exchange>>,
}

impl LazyContent {
    lazy_accessors!(
        [u8],
        |e: &Exchange| e.content.as_slice(),
        "LazyContent",
        "let (_, x) = http.request(\"ftp://127.0.0.1/\");"
    );

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
    slot: Arc<Slot<T>>,
}

impl<T> Lazy<T> {
    lazy_accessors!(
        T,
        |t: &T| t,
        "Lazy",
        "let x = http.send_map(Request::get(\"ftp://127.0.0.1/\"), |_, body| Ok::<_, Error>(body.len()));"
    );

    pub(crate) fn new(slot: Arc<Slot<T>>) -> Self {
        Lazy { slot }
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
    (LazyResponse { slot: slot.clone() }, LazyContent { slot })
}

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

    pub(crate) fn watch(&self, watcher: Arc<Watcher<Exchange>>) {
        self.slot.watch(watcher);
    }

    /// Blocks until done; the stored error itself, if the request failed.
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

fn debug_slot<T>(name: &str, slot: &Slot<T>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
