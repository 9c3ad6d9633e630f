//! A body read as it is sent: a pump on the request's worker reads it (a file, a reader of
//! the caller's) into a bounded pipe, and libcurl's agent thread takes it from the pipe.
//!
//! isahc polls a request body on its agent thread, the one thread that moves every
//! transfer's bytes: a read that blocks there (a file on a slow disk, a reader waiting on a
//! socket) would stall every other request of the client. So the agent only ever reads the
//! pipe ([`Outflow`]), which never blocks, and the reads that may block happen in the pump
//! ([`Pump`]), which the worker polls beside the exchange ([`alongside`], then
//! [`Pumped`] once the head is in). The pipe holds four chunks of 64 KiB at most: memory
//! stays flat whatever the body's size.
//!
//! The pump reads nothing until libcurl first asks for the body: an exchange that ends
//! before that (a connection refused) leaves a reader read once as it was, for the next
//! one. A pump that fails (a read error, a reader shorter or longer than announced) keeps
//! its error for the request, and the agent's side answers libcurl with an error in place
//! of the end of the body, so that libcurl aborts the transfer rather than send a body that
//! looks whole.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io;
use std::ops::Range;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_lite::{AsyncRead, AsyncWrite};
use sluice::pipe::{PipeReader, PipeWriter};

use super::pace::Pace;
use super::watch::Ear;
use crate::body::{Opened, Part};
use crate::upload::Monitor;
use crate::{Error, sync};

/// Bytes read from the body at once: a chunk of the pipe.
const CHUNK: usize = 64 * 1024;

/// What the two ends share.
#[derive(Default)]
struct Shared {
    /// libcurl has asked for the body.
    asked: AtomicBool,
    /// The pump, waiting to be asked.
    waiting: Mutex<Option<Waker>>,
    /// The pump has put the whole body in the pipe: the pipe's end is the body's.
    finished: AtomicBool,
    /// Why the pump stopped short.
    failed: Mutex<Option<Error>>,
}

/// A pipe for `opened`: the pump that fills it, and what libcurl reads, counted into
/// `monitor` and heard by the exchange's watch.
pub(super) fn pipe(
    opened: Opened,
    monitor: Option<Arc<Monitor>>,
    ear: Option<Ear>,
) -> (Box<Pump>, Outflow) {
    let (reader, writer) = sluice::pipe::pipe();
    let shared = Arc::new(Shared::default());
    // Boxed: it lives in the future of every exchange, most of which have none.
    let pump = Box::new(Pump {
        parts: opened.parts,
        writer: Some(writer),
        buf: vec![0; CHUNK].into_boxed_slice(),
        pending: 0..0,
        shared: shared.clone(),
    });
    let outflow = Outflow {
        source: Source::Pipe { reader, shared },
        monitor,
        ear,
        pace: None,
    };
    (pump, outflow)
}

/// The worker's end: reads the body's parts and writes them into the pipe.
pub(super) struct Pump {
    parts: VecDeque<Part>,
    /// `None` once the pump has stopped: the pipe is closed.
    writer: Option<PipeWriter>,
    buf: Box<[u8]>,
    /// The bytes of `buf` read and not yet in the pipe.
    pending: Range<usize>,
    shared: Arc<Shared>,
}

impl Pump {
    /// Moves the body into the pipe until the pipe is full (pending, woken when it has
    /// room) or the pump has stopped: the body is all in, the pump failed, or libcurl
    /// let go of the pipe (the exchange is over).
    fn poll_pump(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(writer) = self.writer.as_mut() else {
            return Poll::Ready(());
        };
        if !self.shared.asked.load(Ordering::Acquire) {
            *sync::lock(&self.shared.waiting) = Some(cx.waker().clone());
            // Asked meanwhile: the waker may have been looked for before it was there.
            if !self.shared.asked.load(Ordering::Acquire) {
                return Poll::Pending;
            }
        }
        loop {
            if !self.pending.is_empty() {
                match Pin::new(&mut *writer).poll_write(cx, &self.buf[self.pending.clone()]) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(n)) => self.pending.start += n,
                    // The agent's end is gone: nobody reads the rest.
                    Poll::Ready(Err(_)) => return self.stop(),
                }
                continue;
            }
            let Some(part) = self.parts.front_mut() else {
                self.shared.finished.store(true, Ordering::Release);
                return self.stop();
            };
            // A blocking read, on the worker: the point of the pump.
            match part.read(&mut self.buf) {
                Ok(0) => drop(self.parts.pop_front()),
                Ok(n) => self.pending = 0..n,
                Err(error) => {
                    *sync::lock(&self.shared.failed) = Some(error);
                    return self.stop();
                }
            }
        }
    }

    /// Closes the pipe: its reader sees the end, which is the body's only if it finished.
    fn stop(&mut self) -> Poll<()> {
        self.writer = None;
        self.parts.clear();
        Poll::Ready(())
    }

    /// Why it stopped short, if it failed.
    pub(super) fn failure(&self) -> Option<Error> {
        sync::lock(&self.shared.failed).clone()
    }
}

/// `exchange`, with the pump (if any) moving the body meanwhile.
pub(super) async fn alongside<F: Future>(exchange: F, pump: &mut Option<Box<Pump>>) -> F::Output {
    let mut exchange = pin!(exchange);
    poll_fn(|cx| {
        if let Some(pump) = pump.as_mut() {
            let _ = pump.poll_pump(cx);
        }
        exchange.as_mut().poll(cx)
    })
    .await
}

/// A response's body read with the pump still moving the request's: a server may answer
/// before it has read all of it, and libcurl goes on sending while the answer comes in.
pub(crate) struct Pumped<R> {
    inner: R,
    pump: Option<Box<Pump>>,
}

impl<R> Pumped<R> {
    pub(super) fn new(inner: R, pump: Option<Box<Pump>>) -> Self {
        Pumped { inner, pump }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Pumped<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(pump) = this.pump.as_mut() {
            if pump.poll_pump(cx).is_ready() {
                this.pump = None;
            }
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

/// Where libcurl's bytes come from.
enum Source {
    Pipe {
        reader: PipeReader,
        shared: Arc<Shared>,
    },
    /// A body in memory that is monitored: reading it never blocks, so the agent reads it
    /// itself, counting.
    Memory(io::Cursor<Vec<u8>>),
}

/// The agent's end, as isahc polls it: never blocks, counts what libcurl takes, and
/// hands it over no faster than the body's cap, if it has one.
pub(super) struct Outflow {
    source: Source,
    monitor: Option<Arc<Monitor>>,
    ear: Option<Ear>,
    pace: Option<Box<Pace>>,
}

impl Outflow {
    /// `bytes` in memory, counted into `monitor`.
    pub(super) fn memory(bytes: Vec<u8>, monitor: Option<Arc<Monitor>>) -> Self {
        Outflow {
            source: Source::Memory(io::Cursor::new(bytes)),
            monitor,
            ear: None,
            pace: None,
        }
    }

    /// This, handed over no faster than `pace` lets it.
    pub(super) fn paced(self, pace: Option<Box<Pace>>) -> Self {
        Outflow { pace, ..self }
    }
}

impl AsyncRead for Outflow {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let buf = match this.pace.as_mut().map(|pace| pace.poll_room(cx, buf.len())) {
            None => buf,
            Some(Poll::Ready(room)) => &mut buf[..room],
            Some(Poll::Pending) => return Poll::Pending,
        };
        let n = match &mut this.source {
            Source::Memory(cursor) => io::Read::read(cursor, buf)?,
            Source::Pipe { reader, shared } => {
                if !shared.asked.swap(true, Ordering::AcqRel) {
                    if let Some(pump) = sync::lock(&shared.waiting).take() {
                        pump.wake();
                    }
                }
                match Pin::new(reader).poll_read(cx, buf) {
                    Poll::Ready(Ok(0)) if !buf.is_empty() => {
                        if shared.finished.load(Ordering::Acquire) {
                            return Poll::Ready(Ok(0));
                        }
                        // Not the body's end: libcurl must not take it for one.
                        let stopped = "the request body stopped before its end";
                        return Poll::Ready(Err(io::Error::other(stopped)));
                    }
                    Poll::Ready(Ok(n)) => n,
                    other => return other,
                }
            }
        };
        if n > 0 {
            if let Some(pace) = this.pace.as_mut() {
                pace.passed(n);
            }
            if let Some(monitor) = &this.monitor {
                monitor.sent(n as u64);
            }
            if let Some(ear) = &this.ear {
                ear.heard(n);
            }
        }
        Poll::Ready(Ok(n))
    }
}
