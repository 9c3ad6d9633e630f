//! An exchange's watch: the idle timeout as silence, and the minimum speed, both measured
//! here on the pool's timer thread rather than by libcurl.
//!
//! Silence is what requests' read timeout and wget's `--read-timeout` bound: an exchange
//! that receives nothing for that long ends, before its head and during its body alike.
//! libcurl's own bound (`CURLOPT_LOW_SPEED_TIME`) is a speed floor instead, averaged over a
//! window of seconds, so a slow heartbeat failed and a stall after a burst failed seconds
//! late; and its timers were serviced late when isahc's agent ran several transfers at once
//! (two silent requests ended at the connect timeout plus the idle one). A speed floor is
//! offered on its own (curl's `--speed-limit`), measured here for the same reason.
//!
//! What counts as receiving: the request handed over (the clocks start), its head, every
//! read of its body that returns bytes, and every chunk of a streamed request body that
//! libcurl takes to send (`Ear`). isahc hands the head over with the body's first
//! bytes (or at the end of a body-less answer), so until the first body byte the clocks run
//! from the hand-over: a connection opened for the request counts as silence too, within
//! its own connect timeout.
//!
//! Each watch holds one entry on the timer at a time, set for the earliest moment a bound
//! could be met. When it comes due, the watched future is woken and looks at the clocks
//! itself: bytes that came meanwhile moved the end, and the watch sets an entry for the new
//! one. A byte costs a clock read; a steady transfer costs one timer entry per period.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::AsyncRead;
use isahc::AsyncBody;

use crate::TimeoutKind;
use crate::deadline::{Deadline, Floor};
use crate::pool::PoolRef;
use crate::sync;

/// A bound is taken as met this close to its end: the timer thread wakes a watch on time,
/// give or take the scheduler.
const SLACK: Duration = Duration::from_millis(2);

/// The watch over one exchange.
pub(crate) struct Watch {
    shared: Arc<Shared>,
    /// Where the timer entries go.
    pool: PoolRef,
}

struct Shared {
    idle: Option<Duration>,
    floor: Option<Floor>,
    /// The clocks' origin: `heard` counts nanoseconds from it.
    origin: Instant,
    /// When something was last received, in nanoseconds from `origin`.
    heard: AtomicU64,
    /// Body bytes received.
    received: AtomicU64,
    state: Mutex<State>,
}

struct State {
    /// When the timer entry set for this watch comes due, if one is set.
    armed: Option<Instant>,
    waker: Option<Waker>,
    /// Where the speed floor's current period began, and the bytes received by then.
    period: (Instant, u64),
}

impl Shared {
    fn heard(&self, bytes: usize) {
        let since = self.origin.elapsed();
        let nanos = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX);
        self.heard.fetch_max(nanos, Ordering::Relaxed);
        self.received.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// The watch as the body going out sees it, on libcurl's agent thread: bytes libcurl took
/// to send count as bytes received do, for the idle bound and the minimum speed alike
/// (curl's `--speed-limit` counts both ways too). A 2 GiB upload to a server that answers
/// once it has it all is not silent for the minutes it takes.
#[derive(Clone)]
pub(crate) struct Ear(Arc<Shared>);

impl Ear {
    /// `bytes` went out.
    pub(crate) fn heard(&self, bytes: usize) {
        self.0.heard(bytes);
    }
}

impl Watch {
    /// A watch that starts now, if the deadline has an idle bound or a speed floor.
    pub(crate) fn start(deadline: &Deadline, pool: &PoolRef) -> Option<Watch> {
        let (idle, floor) = (deadline.idle(), deadline.floor());
        if idle.is_none() && floor.is_none() {
            return None;
        }
        let origin = Instant::now();
        Some(Watch {
            shared: Arc::new(Shared {
                idle,
                floor,
                origin,
                heard: AtomicU64::new(0),
                received: AtomicU64::new(0),
                state: Mutex::new(State {
                    armed: None,
                    waker: None,
                    period: (origin, 0),
                }),
            }),
            pool: pool.clone(),
        })
    }

    /// `bytes` arrived (none for the head): silence starts again from now.
    pub(crate) fn heard(&self, bytes: usize) {
        self.shared.heard(bytes);
    }

    /// What the request's body going out tells the watch: an upload is not silence.
    pub(crate) fn ear(&self) -> Ear {
        Ear(self.shared.clone())
    }

    /// When silence will be complete, unless something is received first.
    fn silent_at(&self, idle: Duration) -> Instant {
        let heard = Duration::from_nanos(self.shared.heard.load(Ordering::Relaxed));
        self.shared.origin + heard + idle
    }

    /// The bound met, once one is; otherwise `cx` is woken when one could be.
    pub(crate) fn poll_met(&self, cx: &mut Context<'_>) -> Poll<TimeoutKind> {
        let now = Instant::now();
        let silent_at = self.shared.idle.map(|idle| self.silent_at(idle));
        if silent_at.is_some_and(|at| now + SLACK >= at) {
            return Poll::Ready(TimeoutKind::Idle);
        }
        let mut state = sync::lock(&self.shared.state);
        let period_ends = match self.shared.floor {
            None => None,
            Some(floor) => {
                let (began, before) = state.period;
                if now + SLACK >= began + floor.over {
                    // A whole period (or more, if nobody looked on time): its average.
                    let received = self.shared.received.load(Ordering::Relaxed);
                    if floor.too_slow(received - before, now - began) {
                        return Poll::Ready(TimeoutKind::MinSpeed);
                    }
                    state.period = (now, received);
                }
                Some(state.period.0 + floor.over)
            }
        };
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        let next = match (silent_at, period_ends) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(now),
        };
        // An entry due later than the next bound is left to find nothing; an earlier one
        // wakes this future to look again.
        if state.armed.is_none_or(|armed| armed > next) {
            let shared = Arc::downgrade(&self.shared);
            // A pool that is closing has no timer left; its requests end with it.
            if self
                .pool
                .at(next, Box::new(move || due(&shared, next)))
                .is_ok()
            {
                state.armed = Some(next);
            }
        }
        Poll::Pending
    }

    /// `exchange`'s output, or the bound it met first.
    pub(crate) async fn within<F: Future>(&self, exchange: F) -> Result<F::Output, TimeoutKind> {
        let mut exchange = std::pin::pin!(exchange);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = exchange.as_mut().poll(cx) {
                self.heard(0);
                return Poll::Ready(Ok(out));
            }
            self.poll_met(cx).map(Err)
        })
        .await
    }
}

/// A watch's timer entry, set for `at`, came due: the watched future looks at the clocks
/// again. A watch whose exchange is over is gone; an entry that a nearer one replaced
/// leaves that one in place.
fn due(shared: &Weak<Shared>, at: Instant) {
    let Some(shared) = shared.upgrade() else {
        return;
    };
    let waker = {
        let mut state = sync::lock(&shared.state);
        if state.armed.is_some_and(|armed| armed >= at) {
            state.armed = None;
        }
        state.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// A response body read under its exchange's watch: each read that brings bytes counts,
/// and a read that waits past a bound fails with `TimedOut`, naming it.
pub(crate) struct WatchedBody {
    body: AsyncBody,
    watch: Option<Watch>,
}

impl WatchedBody {
    pub(crate) fn new(body: AsyncBody, watch: Option<Watch>) -> Self {
        WatchedBody { body, watch }
    }
}

impl AsyncRead for WatchedBody {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let read = Pin::new(&mut this.body).poll_read(cx, buf);
        let Some(watch) = &this.watch else {
            return read;
        };
        match read {
            Poll::Ready(Ok(n)) if n > 0 => {
                watch.heard(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending => watch.poll_met(cx).map(|bound| Err(met(bound))),
            other => other,
        }
    }
}

/// The error of a body read that met a bound of the watch: the transport reads it back
/// with [`bound_met`].
fn met(bound: TimeoutKind) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, Met(bound))
}

/// Which bound of the watch a body read met.
#[derive(Debug)]
struct Met(TimeoutKind);

impl std::fmt::Display for Met {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for Met {}

/// The bound of the watch a failed body read met, if it was the watch that ended it.
pub(crate) fn bound_met(error: &io::Error) -> Option<TimeoutKind> {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Met>())
        .map(|met| met.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WorkerPool;
    use futures_lite::future::block_on;

    fn deadline(idle: Option<Duration>, floor: Option<Floor>) -> Deadline {
        Deadline::start(Duration::from_secs(60), idle).with_floor(floor)
    }

    #[test]
    fn silence_ends_after_the_idle_bound_and_receiving_moves_the_end() {
        let pool = WorkerPool::new(1);
        let idle = Duration::from_millis(200);
        let watch = Watch::start(&deadline(Some(idle), None), &pool.downgrade()).unwrap();
        let begun = Instant::now();
        // Bytes three times, 100 ms apart: never 200 ms of silence until the last.
        let heard = block_on(watch.within(async {
            for _ in 0..3 {
                std::thread::sleep(Duration::from_millis(100));
                watch.heard(1);
            }
        }));
        assert!(heard.is_ok());
        let never = block_on(watch.within(std::future::pending::<()>()));
        assert_eq!(never, Err(TimeoutKind::Idle));
        // The last bytes came 300 ms in at least: the end came 200 ms after them.
        assert!(begun.elapsed() >= Duration::from_millis(500) - SLACK);
    }

    #[test]
    fn a_period_below_the_floor_ends_the_exchange_and_one_above_does_not() {
        let pool = WorkerPool::new(1);
        let over = Duration::from_millis(200);
        let floor = Floor::new(1_000, over);
        let watch = Watch::start(&deadline(None, Some(floor)), &pool.downgrade()).unwrap();
        // 100 bytes every 50 ms: 2,000 a second, twice the floor, for three periods.
        let fast = block_on(watch.within(async {
            for _ in 0..12 {
                std::thread::sleep(Duration::from_millis(50));
                watch.heard(100);
            }
        }));
        assert!(fast.is_ok());
        // Then nothing: the next whole period is below it.
        let slow = block_on(watch.within(std::future::pending::<()>()));
        assert_eq!(slow, Err(TimeoutKind::MinSpeed));
    }

    #[test]
    fn no_bound_no_watch() {
        let pool = WorkerPool::new(1);
        assert!(Watch::start(&deadline(None, None), &pool.downgrade()).is_none());
    }

    #[test]
    fn a_read_error_names_the_bound_it_met() {
        assert_eq!(bound_met(&met(TimeoutKind::Idle)), Some(TimeoutKind::Idle));
        assert_eq!(bound_met(&io::Error::from(io::ErrorKind::TimedOut)), None);
    }
}
