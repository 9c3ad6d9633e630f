//! The promise under every lazy handle: a slot that a request's job fills once, the
//! threads and futures waiting on it, and the count of handles that lets the last one move
//! the outcome out.
//!
//! It is apart from [`lazy`](crate::lazy) because it is the mechanism, not the face: the
//! public handles there decide what a caller sees (a response, a body, a value; a panic on
//! a failed access), this decides when an outcome is there, who is woken, and who may take
//! it. The job in the pool holds the writing end, [`Promise`]; each handle holds a reading
//! end, [`Reader`]. Nothing here depends on those public types.
//!
//! An untimed wait on a worker thread runs the queued request itself (see
//! [`Slot::wait_until`]), so a callback that waits on another request of its own pool cannot
//! deadlock it.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Instant;

use once_cell::sync::OnceCell;

use crate::Error;
use crate::blocking;
use crate::logs;
use crate::shutdown;
use crate::sync;
use crate::task::Task;

/// Which request a slot is for, in messages: its id, what it asked for and the line of
/// code that made it.
#[derive(Debug)]
pub(crate) struct Requested {
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
    listeners: Listeners,
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
    /// The [`Reader`]s alive (the pair's halves, a `Lazy` and their clones): the last one
    /// may move the outcome out. The promise is not counted.
    handles: AtomicUsize,
    requested: Requested,
}

impl<T> Slot<T> {
    pub(crate) fn new(requested: Requested) -> Arc<Self> {
        Arc::new(Slot {
            value: OnceCell::new(),
            waiting: Mutex::new(Waiting {
                task: None,
                waiters: 0,
                watcher: None,
                listeners: Listeners::default(),
            }),
            ready: Condvar::new(),
            handles: AtomicUsize::new(0),
            requested,
        })
    }

    /// A slot that is already filled; nothing will be queued for it.
    pub(crate) fn filled(requested: Requested, result: Result<T, Error>) -> Arc<Self> {
        let slot = Slot::new(requested);
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
        let listeners = std::mem::take(&mut waiting.listeners);
        drop(waiting);
        // Blocked threads and awaiting futures are woken together, once the lock is free.
        if wake {
            self.ready.notify_all();
        }
        listeners.notify();
        drop(task);
    }

    /// Sends `index` to `observer` once this slot is filled (at once if it is).
    pub(crate) fn observe(&self, observer: flume::Sender<usize>, index: usize) {
        let mut waiting = self.lock();
        if self.is_filled() {
            drop(waiting);
            let _ = observer.send(index);
        } else {
            waiting.listeners.observers.push((observer, index));
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
        let listeners = &mut waiting.listeners;
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
        self.lock().listeners.wakers.len()
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
        let wakers = &mut waiting.listeners.wakers;
        if let Some(at) = wakers.iter().position(|(k, _)| *k == key) {
            wakers.swap_remove(at);
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

    /// The queued job, unless it has run or gone.
    fn task(&self) -> Option<Arc<Task>> {
        self.lock().task.as_ref().and_then(Weak::upgrade)
    }

    /// Fails the request with [`Error::Cancelled`] if no one has started it; true if so.
    pub(crate) fn cancel(&self) -> bool {
        match self.task() {
            Some(task) => task.fail(Error::Cancelled),
            None => false,
        }
    }

    /// The request this slot is for.
    pub(crate) fn requested(&self) -> &Requested {
        &self.requested
    }

    /// The stored error of a failed request; `None` while pending or once it succeeded.
    pub(crate) fn error(&self) -> Option<&Error> {
        self.value.get()?.as_ref().err()
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
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Option<Result<&T, Error>> {
        if let Some(done) = self.get() {
            return Some(done);
        }
        if deadline.is_none_or(|deadline| deadline > Instant::now()) {
            // No URL: its query stays out of the log, and the id finds the request there.
            let o = &self.requested;
            let what = format_args!("req={} a wait for the request made at {}", o.id, o.location);
            blocking::about_to_block(what, Location::caller());
        }
        // Only an untimed wait runs the request here: a timed one must return within its
        // timeout, and the request could take longer than that.
        if deadline.is_none() && shutdown::on_pool_thread() {
            if let Some(task) = self.task() {
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
    pub(crate) fn wait_logged(&self) -> Result<&T, Error> {
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
            let o = &self.requested;
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
    pub(crate) fn force(&self) -> &T {
        match self.wait_logged() {
            Ok(value) => value,
            Err(e) => {
                let o = &self.requested;
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

    /// The request this promise was made for.
    pub(crate) fn requested(&self) -> &Requested {
        &self.slot.requested
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

/// The reading end of a slot, one in each [`LazyResponse`](crate::LazyResponse),
/// [`LazyContent`](crate::LazyContent) and [`Lazy`](crate::Lazy): counted among the slot's
/// handles, so that the last handle can move the outcome out instead of copying it.
pub(crate) struct Reader<T> {
    /// `None` only once [`release`](Reader::release) gave it up, as the handle goes.
    slot: Option<Arc<Slot<T>>>,
}

impl<T> Reader<T> {
    pub(crate) fn new(slot: Arc<Slot<T>>) -> Self {
        slot.handles.fetch_add(1, Ordering::Relaxed);
        Reader { slot: Some(slot) }
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
    pub(crate) fn into_outcome<U>(
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
    pub(crate) fn into_last<U>(self, take: impl FnOnce(T) -> U) -> Option<Result<U, Error>> {
        let (slot, last) = self.release();
        if !last {
            return None;
        }
        let _ = slot.wait_logged();
        Some(Slot::moved(slot).map(take))
    }
}

impl<T> Deref for Reader<T> {
    type Target = Slot<T>;

    fn deref(&self) -> &Slot<T> {
        self.slot
            .as_deref()
            .expect("a handle is emptied only as it goes")
    }
}

impl<T> Clone for Reader<T> {
    fn clone(&self) -> Self {
        let slot = self
            .slot
            .clone()
            .expect("a handle is emptied only as it goes");
        Reader::new(slot)
    }
}

impl<T> Drop for Reader<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.handles.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

pub(crate) fn debug_slot<T>(name: &str, slot: &Slot<T>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let o = &slot.requested;
    write!(
        f,
        "{name}(req={} {} {}: {})",
        o.id,
        o.method,
        o.url,
        slot.debug_state()
    )
}
