//! A transfer's progress, a download's or an upload's: counted by the thread that moves the
//! body (a download's worker, or libcurl's agent taking an upload's bytes), read by
//! callers, who may block on it or await it.
//!
//! A wait asks for more bytes than it has seen, or the end, and may add "not before this
//! instant", so that a progress loop gives a line per interval instead of one per chunk
//! (a chunk is 16 to 256 KiB: thousands for a big file). Blocked threads and awaiting
//! futures are told under the same lock that counts, so no change is missed; a future is
//! woken only once what it waits for has come, not at every chunk.

use std::cell::OnceCell;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::{Downloaded, Response, blocking, shutdown, sync};

/// How far a download ([`Download::progress`](crate::Download::progress)) or an upload
/// ([`Upload::progress`](crate::Upload::progress)) has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transferred {
    /// Bytes of the body in the destination, counted after decoding; for a resumed
    /// download, what was there before counts too.
    pub bytes: u64,
    /// The whole body's length, when the server said it (a `Content-Length` of a body
    /// that is not compressed); for a resumed download, what was there before included. For
    /// an upload, the body's length, once known (a file's, once it is opened).
    pub total: Option<u64>,
    /// True once the download, or the request that sent the upload, has ended, complete or
    /// not.
    pub done: bool,
}

/// What a wait for progress waits for: more than `bytes`, and not before `not_before`; or
/// the end, whenever it comes.
#[derive(Debug, Clone, Copy)]
struct Wanted {
    bytes: u64,
    not_before: Option<Instant>,
}

impl Wanted {
    /// More than `bytes`, no sooner than `every` from now if given.
    fn new(bytes: u64, every: Option<Duration>) -> Self {
        match every.map(|every| Instant::now().checked_add(every)) {
            None => Wanted {
                bytes,
                not_before: None,
            },
            Some(Some(at)) => Wanted {
                bytes,
                not_before: Some(at),
            },
            // An interval past any instant: nothing but the end is due.
            Some(None) => Wanted {
                bytes: u64::MAX,
                not_before: None,
            },
        }
    }

    /// True if `now` is what this wait waits for, at the instant `at` gives.
    fn met(&self, now: &Transferred, at: impl FnOnce() -> Instant) -> bool {
        now.done || (now.bytes > self.bytes && self.not_before.is_none_or(|t| at() >= t))
    }
}

/// A future waiting for progress, with the waker of its latest poll.
struct Awaiting {
    key: u64,
    wanted: Wanted,
    waker: Waker,
}

#[derive(Default)]
struct State {
    now: Transferred,
    /// Threads blocked in [`Transfer::wait`]: a chunk with none to wake makes no system
    /// call.
    blocked: usize,
    awaiting: Vec<Awaiting>,
    /// The key of the next future to wait.
    next_key: u64,
}

/// A transfer's progress, shared by the thread moving it and the callers reading it.
#[derive(Default)]
pub(crate) struct Transfer {
    state: Mutex<State>,
    changed: Condvar,
    /// Set once the body is whole: the bytes it continued from, and the file written.
    landed: Mutex<(u64, Option<PathBuf>)>,
    /// An upload's, not a download's: what a wait that blocks an async thread names.
    upload: bool,
}

impl Transfer {
    /// An upload's progress.
    pub(crate) fn upload() -> Self {
        Transfer {
            upload: true,
            ..Transfer::default()
        }
    }

    /// What the finished download gives for `response`.
    pub(crate) fn downloaded(&self, response: Response, content: Vec<u8>) -> Downloaded {
        let (resumed_from, path) = sync::lock(&self.landed).clone();
        // A body kept in memory (not 2xx) went nowhere else.
        let bytes = if content.is_empty() {
            self.now().bytes
        } else {
            0
        };
        Downloaded {
            response,
            bytes,
            resumed_from,
            path,
            content,
        }
    }

    /// The body is whole, in `path` if it went to a file, continuing `resumed_from` bytes.
    pub(crate) fn land(&self, resumed_from: u64, path: Option<PathBuf>) {
        *sync::lock(&self.landed) = (resumed_from, path);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        sync::lock(&self.state)
    }

    pub(crate) fn now(&self) -> Transferred {
        self.lock().now
    }

    /// Makes a change, then wakes the threads blocked on it and the futures whose wait it
    /// ends, once the lock is free.
    fn update(&self, change: impl FnOnce(&mut Transferred)) {
        let mut state = self.lock();
        change(&mut state.now);
        let wake_threads = state.blocked > 0;
        let mut woken = Vec::new();
        if !state.awaiting.is_empty() {
            let (now, clock) = (state.now, OnceCell::new());
            let at = || *clock.get_or_init(Instant::now);
            let mut i = 0;
            while i < state.awaiting.len() {
                if state.awaiting[i].wanted.met(&now, at) {
                    // Taken out: its future registers again if it is polled again.
                    woken.push(state.awaiting.swap_remove(i).waker);
                } else {
                    i += 1;
                }
            }
        }
        drop(state);
        if wake_threads {
            self.changed.notify_all();
        }
        for waker in woken {
            waker.wake();
        }
    }

    pub(crate) fn set_total(&self, total: Option<u64>) {
        self.update(|t| t.total = total);
    }

    pub(crate) fn set_bytes(&self, bytes: u64) {
        self.update(|t| t.bytes = bytes);
    }

    pub(crate) fn end(&self) {
        self.update(|t| t.done = true);
    }

    /// An upload sends its body from the start again: 0 of `total` bytes.
    pub(crate) fn restart(&self, total: Option<u64>) {
        self.update(|t| {
            t.bytes = 0;
            t.total = total;
        });
    }

    /// `bytes` more went.
    pub(crate) fn add(&self, bytes: u64) {
        self.update(|t| t.bytes = t.bytes.saturating_add(bytes));
    }

    /// Blocks until more than `bytes` are in and `every` (if given) has passed, or the
    /// download has ended, or `timeout` (if given) has passed; then how far it has got.
    #[track_caller]
    pub(crate) fn wait(
        &self,
        bytes: u64,
        every: Option<Duration>,
        timeout: Option<Duration>,
    ) -> Transferred {
        let wanted = Wanted::new(bytes, every);
        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        let now = self.now();
        if wanted.met(&now, Instant::now) {
            return now;
        }
        if timeout.is_none_or(|timeout| !timeout.is_zero()) {
            let what = if self.upload {
                "an upload's"
            } else {
                "a download's"
            };
            let what = format_args!("a wait for {what} progress");
            blocking::about_to_block(what, Location::caller());
        }
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            if wanted.met(&state.now, || now) || deadline.is_some_and(|d| d <= now) {
                return state.now;
            }
            // Bytes already in wait for their instant only; none yet, for a change.
            let due = wanted.not_before.filter(|_| state.now.bytes > wanted.bytes);
            let until = match (due, deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            state.blocked += 1;
            state = match until {
                Some(until) => {
                    let left = until.saturating_duration_since(now);
                    sync::wait_timeout(&self.changed, state, left).0
                }
                None => sync::wait(&self.changed, state),
            };
            state.blocked -= 1;
        }
    }

    /// Ready with the progress once `wanted` is met. Until then it registers the waker of
    /// `cx` under `key`, in place of the one the same future registered before.
    fn poll_wanted(
        &self,
        wanted: Wanted,
        key: &mut Option<u64>,
        cx: &mut Context<'_>,
    ) -> Poll<Transferred> {
        let mut state = self.lock();
        let registered = key.and_then(|key| state.awaiting.iter().position(|a| a.key == key));
        if wanted.met(&state.now, Instant::now) {
            if let Some(at) = registered {
                state.awaiting.swap_remove(at);
            }
            *key = None;
            return Poll::Ready(state.now);
        }
        match registered {
            Some(at) => {
                let waker = &mut state.awaiting[at].waker;
                if !waker.will_wake(cx.waker()) {
                    waker.clone_from(cx.waker());
                }
            }
            None => {
                let new = state.next_key;
                state.next_key += 1;
                state.awaiting.push(Awaiting {
                    key: new,
                    wanted,
                    waker: cx.waker().clone(),
                });
                *key = Some(new);
            }
        }
        Poll::Pending
    }

    /// Drops the waker registered under `key`: its future is gone.
    fn forget(&self, key: &mut Option<u64>) {
        if let Some(key) = key.take() {
            let mut state = self.lock();
            if let Some(at) = state.awaiting.iter().position(|a| a.key == key) {
                state.awaiting.swap_remove(at);
            }
        }
    }

    /// Futures waiting.
    #[cfg(test)]
    fn awaiting(&self) -> usize {
        self.lock().awaiting.len()
    }
}

/// The future of [`Download::progress_changed`](crate::Download::progress_changed): ready
/// with the download's [`Transferred`] once more bytes than it was given are in, or the
/// download has ended. The async form of
/// [`Download::wait_progress`](crate::Download::wait_progress); bound it with your
/// executor's timeout if you want one.
///
/// It is woken only when what it waits for has come, not at every chunk, and holds no
/// thread; any executor polls it. Dropped before it is ready (by a timeout or a
/// `select`), it leaves nothing behind. It owns what it reads, so it can be spawned.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use asynchttp::{Download, Error};
///
/// async fn show(download: &Download) -> Result<u64, Error> {
///     let mut seen = download.progress();
///     while !seen.done {
///         // At most one line per 100 ms, however small the chunks.
///         seen = download.progress_changed(seen.bytes).every(Duration::from_millis(100)).await;
///         println!("{} of {:?} bytes", seen.bytes, seen.total);
///     }
///     Ok(download.await?.bytes)
/// }
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct ProgressChanged {
    transfer: Arc<Transfer>,
    wanted: Wanted,
    /// This future's entry among the waiting futures, once it has one.
    key: Option<u64>,
}

impl ProgressChanged {
    pub(crate) fn new(transfer: Arc<Transfer>, bytes: u64) -> Self {
        ProgressChanged {
            transfer,
            wanted: Wanted::new(bytes, None),
            key: None,
        }
    }

    /// Not ready before `interval` has passed, counted from now, unless the download ends
    /// first: a loop that awaits this gives at most one update per `interval`, however
    /// small the chunks. More bytes that come sooner are given with the first chunk after
    /// the interval, or with the end: the crate holds no timer in your executor, so a
    /// download that stalls just then shows its last bytes when it moves again.
    pub fn every(mut self, interval: Duration) -> Self {
        self.transfer.forget(&mut self.key);
        self.wanted = Wanted::new(self.wanted.bytes, Some(interval));
        self
    }
}

impl Future for ProgressChanged {
    type Output = Transferred;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Transferred> {
        // Every poll: a task may move to another of its executor's threads between two.
        shutdown::note_async_thread();
        let this = self.get_mut();
        this.transfer.poll_wanted(this.wanted, &mut this.key, cx)
    }
}

impl Drop for ProgressChanged {
    fn drop(&mut self) {
        self.transfer.forget(&mut self.key);
    }
}

/// Never blocks: the bytes waited past and the progress now.
impl fmt::Debug for ProgressChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressChanged")
            .field("past", &self.wanted.bytes)
            .field("not_before", &self.wanted.not_before)
            .field("now", &self.transfer.now())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::thread;

    use crate::future::tests::counter;

    fn poll(future: &mut ProgressChanged, waker: &Waker) -> Poll<Transferred> {
        Pin::new(future).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_future_is_woken_once_its_bytes_come_and_not_before() {
        let transfer = Arc::new(Transfer::default());
        let (counter, waker) = counter();
        let mut future = ProgressChanged::new(transfer.clone(), 100);
        assert!(poll(&mut future, &waker).is_pending());
        assert!(poll(&mut future, &waker).is_pending());
        assert_eq!(transfer.awaiting(), 1, "one entry, however often polled");
        transfer.set_total(Some(1000));
        transfer.set_bytes(100);
        assert_eq!(counter.woken(), 0, "not past 100 yet");
        transfer.set_bytes(101);
        assert_eq!(counter.woken(), 1);
        let Poll::Ready(seen) = poll(&mut future, &waker) else {
            panic!("ready once past")
        };
        assert_eq!(
            (seen.bytes, seen.total, seen.done),
            (101, Some(1000), false)
        );
        assert_eq!(transfer.awaiting(), 0);
    }

    #[test]
    fn an_interval_holds_a_change_back_until_the_first_chunk_after_it_or_the_end() {
        let transfer = Arc::new(Transfer::default());
        let (counter, waker) = counter();
        let mut future = ProgressChanged::new(transfer.clone(), 0).every(Duration::from_secs(60));
        assert!(poll(&mut future, &waker).is_pending());
        for bytes in 1..=100 {
            transfer.set_bytes(bytes);
        }
        assert_eq!(counter.woken(), 0, "no wake within the minute");
        assert!(poll(&mut future, &waker).is_pending());
        transfer.end();
        assert_eq!(counter.woken(), 1, "the end is due at once");
        let Poll::Ready(seen) = poll(&mut future, &waker) else {
            panic!("ready at the end")
        };
        assert_eq!((seen.bytes, seen.done), (100, true));

        let mut past_due = ProgressChanged::new(transfer.clone(), 0).every(Duration::ZERO);
        assert!(poll(&mut past_due, &waker).is_ready());
        let mut never = ProgressChanged::new(Arc::default(), 0).every(Duration::MAX);
        assert!(poll(&mut never, &waker).is_pending(), "only the end is due");
    }

    #[test]
    fn a_future_dropped_before_it_is_ready_leaves_no_waker() {
        let transfer = Arc::new(Transfer::default());
        let (_, waker) = counter();
        let mut futures: Vec<_> = (0..3)
            .map(|_| ProgressChanged::new(transfer.clone(), 0))
            .collect();
        for future in &mut futures {
            assert!(poll(future, &waker).is_pending());
        }
        assert_eq!(transfer.awaiting(), 3);
        drop(futures);
        assert_eq!(transfer.awaiting(), 0);
    }

    #[test]
    fn a_blocking_wait_with_an_interval_returns_no_sooner_and_at_the_end() {
        let transfer = Arc::new(Transfer::default());
        transfer.set_bytes(10);
        let started = Instant::now();
        let seen = transfer.wait(0, Some(Duration::from_millis(50)), None);
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(seen.bytes, 10);
        // Nothing more comes: the timeout ends a wait for bytes.
        let seen = transfer.wait(10, None, Some(Duration::from_millis(10)));
        assert_eq!((seen.bytes, seen.done), (10, false));
        let ender = thread::spawn({
            let transfer = transfer.clone();
            move || {
                thread::sleep(Duration::from_millis(20));
                transfer.end();
            }
        });
        let seen = transfer.wait(10, Some(Duration::MAX), None);
        assert!(seen.done);
        ender.join().unwrap();
    }

    static_assertions::assert_impl_all!(ProgressChanged: Send, Sync, Unpin);
}
