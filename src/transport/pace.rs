//! Bandwidth caps, kept here rather than by libcurl: a body going out is handed to libcurl
//! no faster than its cap ([`Outflow`](super::pump) reads through a [`Pace`]), and a body
//! coming in is read no faster than its cap ([`Paced`]): isahc's buffer then fills, it
//! pauses the transfer, and the server meets TCP's back-pressure.
//!
//! libcurl has caps of its own (`CURLOPT_MAX_RECV_SPEED_LARGE`, `..._SEND_...`, which
//! isahc sets as `max_download_speed` and `max_upload_speed`), but libcurl 8.22 starts a
//! transfer's allowance afresh, a whole second of it, each time the transfer is paused and
//! resumed (`Curl_rlimit_block`, lib/ratelimit.c), and isahc pauses a transfer whenever its
//! buffer to the reader is full or a body's pipe is empty: a 2 MiB body capped at 1 MiB/s
//! arrived in 19 ms, and went out in 1.05 s when read as it was sent.
//!
//! A pace lets through a tenth of a second's worth at once (between 1 byte and 64 KiB),
//! then as much as the time since the first byte allows; when that is spent, the read is
//! pending until the pool's timer wakes it, holding no thread.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::AsyncRead;

use crate::pool::PoolRef;
use crate::sync;

/// The most let through at once: a chunk of a body read as it is sent.
const LARGEST_STEP: u64 = 64 * 1024;

/// One body's cap, in one direction.
pub(crate) struct Pace {
    bytes_per_second: u64,
    /// What may pass at once, ahead of the schedule.
    step: u64,
    /// When the first byte passed.
    began: Option<Instant>,
    passed: u64,
    /// The read waiting for the timer, woken by it.
    waiting: Arc<Mutex<Option<Waker>>>,
    /// When the timer entry set for this pace comes due, if one is set.
    armed: Option<Instant>,
    pool: PoolRef,
}

impl Pace {
    /// A cap of `bytes_per_second`, timed on `pool`'s timer; `None` for no cap (0).
    pub(crate) fn new(bytes_per_second: Option<u64>, pool: &PoolRef) -> Option<Box<Pace>> {
        let bytes_per_second = bytes_per_second.filter(|rate| *rate > 0)?;
        Some(Box::new(Pace {
            bytes_per_second,
            step: (bytes_per_second / 10).clamp(1, LARGEST_STEP),
            began: None,
            passed: 0,
            waiting: Arc::default(),
            armed: None,
            pool: pool.clone(),
        }))
    }

    /// How many bytes may pass now, at most `wanted`; pending (woken by the timer) when
    /// none may.
    pub(crate) fn poll_room(&mut self, cx: &mut Context<'_>, wanted: usize) -> Poll<usize> {
        let now = Instant::now();
        let began = *self.began.get_or_insert(now);
        let earned = u128::from(self.bytes_per_second) * now.duration_since(began).as_nanos()
            / 1_000_000_000;
        let allowed = earned.saturating_add(u128::from(self.step));
        let room = allowed.saturating_sub(u128::from(self.passed));
        if room > 0 {
            return Poll::Ready(usize::try_from(room).unwrap_or(usize::MAX).min(wanted));
        }
        // A step's worth is earned back when what passed is: then a step may pass again.
        let nanos = u128::from(self.passed) * 1_000_000_000 / u128::from(self.bytes_per_second);
        let at = began + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        *sync::lock(&self.waiting) = Some(cx.waker().clone());
        if self.armed != Some(at) {
            let waiting = self.waiting.clone();
            let wake = Box::new(move || {
                if let Some(waker) = sync::lock(&waiting).take() {
                    waker.wake();
                }
            });
            if self.pool.at(at, wake).is_err() {
                // No timer (the pool is gone): the body goes on uncapped, never stuck.
                return Poll::Ready(wanted);
            }
            self.armed = Some(at);
        }
        Poll::Pending
    }

    /// `bytes` passed.
    pub(crate) fn passed(&mut self, bytes: usize) {
        self.passed += bytes as u64;
    }
}

/// A response's body read no faster than its cap, when it has one.
pub(crate) struct Paced<R> {
    inner: R,
    pace: Option<Box<Pace>>,
}

impl<R> Paced<R> {
    pub(crate) fn new(inner: R, pace: Option<Box<Pace>>) -> Self {
        Paced { inner, pace }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Paced<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let Some(pace) = this.pace.as_mut() else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        let room = match pace.poll_room(cx, buf.len()) {
            Poll::Ready(room) => room,
            Poll::Pending => return Poll::Pending,
        };
        let read = Pin::new(&mut this.inner).poll_read(cx, &mut buf[..room]);
        if let Poll::Ready(Ok(n)) = read {
            pace.passed(n);
        }
        read
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WorkerPool;

    #[test]
    fn a_step_passes_at_once_then_the_rest_as_time_earns_it() {
        let pool = WorkerPool::new(1);
        let mut pace = Pace::new(Some(1000), &pool.downgrade()).unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        // A tenth of a second's worth, however much is asked for.
        assert_eq!(pace.poll_room(&mut cx, 5000), Poll::Ready(100));
        pace.passed(100);
        assert_eq!(pace.poll_room(&mut cx, 5000), Poll::Pending);
        // Woken by the pool's timer, 100 ms after the first byte.
        std::thread::sleep(Duration::from_millis(150));
        assert!(matches!(pace.poll_room(&mut cx, 5000), Poll::Ready(n) if n >= 100));
        assert!(Pace::new(Some(0), &pool.downgrade()).is_none());
        assert!(Pace::new(None, &pool.downgrade()).is_none());
    }
}
