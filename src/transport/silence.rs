//! The idle timeout as silence: an exchange that receives nothing for that long ends,
//! before its head and during its body alike, as requests' read timeout and wget's
//! `--read-timeout` end one.
//!
//! libcurl's own bound (`CURLOPT_LOW_SPEED_TIME`) is a speed floor instead: under a byte
//! a second averaged over a window of seconds, so a slow heartbeat fails and a stall after
//! a burst fails seconds late; and its timers are serviced late when isahc's agent runs
//! several transfers at once (two silent requests ended at the connect timeout plus the
//! idle one). So silence is watched here, by the pool's timer thread.
//!
//! What counts as hearing: the request handed over (the clock starts), its head, and every
//! read of its body that returns bytes. isahc hands the head over with the body's first
//! bytes (or at the end of a body-less answer), so until the first body byte the clock runs
//! from the hand-over: a connection opened for the request counts as silence too, within
//! its own connect timeout.
//!
//! Each watch holds at most one entry on the timer, set for when silence would be complete.
//! When it comes due, the watched future is woken and looks at the clock itself: bytes that
//! came meanwhile moved the end, and the watch sets the entry again for the new end. A byte
//! costs one clock read; a steady transfer costs one timer entry per idle period.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::AsyncRead;
use isahc::AsyncBody;

use crate::pool::PoolRef;
use crate::sync;

/// Silence is taken as complete this close to its end: the timer thread wakes a watch on
/// time, give or take the scheduler.
const SLACK: Duration = Duration::from_millis(2);

/// The watch over one exchange.
pub(crate) struct Silence {
    shared: Arc<Shared>,
    /// Where the timer entry goes.
    pool: PoolRef,
}

struct Shared {
    idle: Duration,
    /// The clock's origin: `heard` is counted in nanoseconds from it.
    origin: Instant,
    /// When something was last heard, in nanoseconds from `origin`.
    heard: AtomicU64,
    state: Mutex<Watch>,
}

#[derive(Default)]
struct Watch {
    /// A timer entry is set for this watch.
    armed: bool,
    waker: Option<Waker>,
}

impl Silence {
    /// A watch that starts now, if the exchange has an idle bound.
    pub(crate) fn start(idle: Option<Duration>, pool: &PoolRef) -> Option<Silence> {
        Some(Silence {
            shared: Arc::new(Shared {
                idle: idle?,
                origin: Instant::now(),
                heard: AtomicU64::new(0),
                state: Mutex::new(Watch::default()),
            }),
            pool: pool.clone(),
        })
    }

    /// Something arrived: silence starts again from now.
    pub(crate) fn heard(&self) {
        let since = self.shared.origin.elapsed();
        let nanos = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX);
        self.shared.heard.fetch_max(nanos, Ordering::Relaxed);
    }

    /// When silence will be complete, unless something is heard first.
    fn end(&self) -> Instant {
        let heard = Duration::from_nanos(self.shared.heard.load(Ordering::Relaxed));
        self.shared.origin + heard + self.shared.idle
    }

    /// Ready once nothing has been heard for the idle bound; otherwise `cx` is woken when
    /// that could have become true.
    pub(crate) fn poll_silent(&self, cx: &mut Context<'_>) -> Poll<()> {
        let end = self.end();
        if Instant::now() + SLACK >= end {
            return Poll::Ready(());
        }
        let mut watch = sync::lock(&self.shared.state);
        match &watch.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => watch.waker = Some(cx.waker().clone()),
        }
        if !watch.armed {
            let shared = Arc::downgrade(&self.shared);
            // A pool that is closing has no timer left; its requests end with it.
            watch.armed = self.pool.at(end, Box::new(move || due(&shared))).is_ok();
        }
        Poll::Pending
    }

    /// `exchange`'s output, or `None` once it has been silent for the idle bound.
    pub(crate) async fn within<F: Future>(&self, exchange: F) -> Option<F::Output> {
        let mut exchange = std::pin::pin!(exchange);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = exchange.as_mut().poll(cx) {
                self.heard();
                return Poll::Ready(Some(out));
            }
            self.poll_silent(cx).map(|()| None)
        })
        .await
    }
}

/// A watch's timer entry came due: the watched future looks at the clock again, and sets
/// a new entry if something was heard meanwhile. A watch whose exchange is over is gone.
fn due(shared: &Weak<Shared>) {
    let Some(shared) = shared.upgrade() else {
        return;
    };
    let waker = {
        let mut watch = sync::lock(&shared.state);
        watch.armed = false;
        watch.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// A response body read under its exchange's watch: each read that brings bytes is
/// heard, and a read that waits past the idle bound fails with `TimedOut`.
pub(crate) struct WatchedBody {
    body: AsyncBody,
    silence: Option<Silence>,
}

impl WatchedBody {
    pub(crate) fn new(body: AsyncBody, silence: Option<Silence>) -> Self {
        WatchedBody { body, silence }
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
        let Some(silence) = &this.silence else {
            return read;
        };
        match read {
            Poll::Ready(Ok(n)) if n > 0 => {
                silence.heard();
                Poll::Ready(Ok(n))
            }
            Poll::Pending => match silence.poll_silent(cx) {
                Poll::Ready(()) => Poll::Ready(Err(silent())),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }
}

/// The error of a body read that met the idle bound; the transport reads its kind.
fn silent() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "nothing received for the idle timeout",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WorkerPool;
    use futures_lite::future::block_on;

    #[test]
    fn silence_ends_after_the_idle_bound_and_hearing_moves_the_end() {
        let pool = WorkerPool::new(1);
        let idle = Duration::from_millis(200);
        let silence = Silence::start(Some(idle), &pool.downgrade()).unwrap();
        let begun = Instant::now();
        // Heard three times, 100 ms apart: never 200 ms of silence until the last.
        let heard = block_on(silence.within(async {
            for _ in 0..3 {
                std::thread::sleep(Duration::from_millis(100));
                silence.heard();
            }
        }));
        assert!(heard.is_some());
        let never: Option<()> = block_on(silence.within(std::future::pending()));
        assert!(never.is_none());
        // The last hearing was 300 ms in at least: the end came 200 ms after it, no sooner.
        assert!(begun.elapsed() >= Duration::from_millis(500) - SLACK);
    }

    #[test]
    fn no_idle_bound_no_watch() {
        let pool = WorkerPool::new(1);
        assert!(Silence::start(None, &pool.downgrade()).is_none());
    }
}
