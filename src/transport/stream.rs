//! A body streamed into a download's destination as it arrives, decoded on the way, in
//! chunks: however large it is, it costs a few buffers.
//!
//! The body is written by a thread of its own, `asynchttp-writer`, while the worker goes
//! on reading: writing to a disk and receiving from the network then overlap instead of
//! taking turns, and isahc's small pipe (four chunks of 16 KiB) does not fill and pause the
//! transfer while a write is under way. The thread lives as long as the download.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::thread;

use futures_lite::future;
use futures_lite::io::AsyncReadExt;

use super::Head;
use super::body::{Coding, broken, decoded, locate};
use super::codings::Codec;
use super::decode::{self, Flushed};
use crate::deadline::Deadline;
use crate::download::{DestinationFailed, LimitExceeded, Sink};
use crate::exchange::Exchange;
use crate::request::Prepared;
use crate::{Error, Response, sync};

/// What is read from the transport at once.
const READ: usize = 64 * 1024;
/// What is handed to the writer at once.
const CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the writer at most: with the ones being filled and written, the
/// memory a download holds (about 2 MiB).
const AHEAD: usize = 4;

/// Streams the body of `head` into `sink`, then renames a file into place. The exchange
/// it gives has the response and no content.
pub(super) async fn body(
    head: Head,
    req: &Prepared,
    mut sink: Box<Sink>,
    deadline: &Deadline,
) -> (Result<Exchange, Error>, Box<Sink>) {
    let Head {
        response: mut out,
        mut body,
    } = head;
    let limit = sink.limit().unwrap_or(u64::MAX);
    let coding = match Coding::of(&out, req, limit) {
        Ok(coding) => coding,
        Err(e) => return (Err(e), sink),
    };
    // A body announced past the limit is refused before anything is written.
    if coding.layers.is_empty() && coding.expected.is_some_and(|n| n > limit) {
        return (Err(Error::BodyTooLarge { limit }), sink);
    }
    if let Err(e) = sink.open(&out) {
        return (Err(e), sink);
    }
    let writer = match Writer::spawn(sink, coding.layers.clone()) {
        Ok(writer) => writer,
        Err((e, sink)) => return (Err(e), sink),
    };
    let mut received = 0u64;
    let mut failure = None;
    // Reads come in isahc's chunks of 16 KiB; the writer gets them gathered.
    let mut read = vec![0u8; READ];
    let mut gathered = writer.buffer();
    loop {
        // What has come goes to the writer before the worker waits for more: progress
        // and a broken transfer's partial file hold every byte received.
        let ready = match future::poll_once(body.read(&mut read)).await {
            Some(ready) => ready,
            None => {
                if !gathered.is_empty() {
                    let some = std::mem::replace(&mut gathered, writer.buffer());
                    if !writer.write(some) {
                        break;
                    }
                }
                body.read(&mut read).await
            }
        };
        let n = match ready {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                failure = Some(broken(e, received, coding.expected, deadline));
                break;
            }
        };
        received += n as u64;
        gathered.extend_from_slice(&read[..n]);
        if gathered.len() >= CHUNK {
            let full = std::mem::replace(&mut gathered, writer.buffer());
            if !writer.write(full) {
                break;
            }
        }
    }
    if !gathered.is_empty() {
        writer.write(gathered);
    }
    let (written, mut sink) = writer.end();
    let result = match (failure, written) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(classify(e, &coding, &out, &sink, limit)),
        (None, Ok(())) => sink.commit().map(|_| {
            if !coding.layers.is_empty() {
                decoded(&mut out, sink.counts().0);
            }
            locate(&mut out, req);
            Exchange {
                response: out,
                content: Vec::new(),
            }
        }),
    };
    (result, sink)
}

/// The writer thread of one download, fed through a bounded channel; it gives each
/// buffer back once written, so the same few serve the whole body.
struct Writer {
    chunks: flume::Sender<Vec<u8>>,
    spare: flume::Receiver<Vec<u8>>,
    thread: thread::JoinHandle<(io::Result<()>, Box<Sink>)>,
}

impl Writer {
    /// A writer thread for `sink`, or the sink back if no thread can be started.
    fn spawn(sink: Box<Sink>, layers: Vec<Codec>) -> Result<Writer, (Error, Box<Sink>)> {
        let (chunks, incoming) = flume::bounded::<Vec<u8>>(AHEAD);
        let (back, spare) = flume::bounded::<Vec<u8>>(AHEAD + 2);
        // The sink goes to the thread through this, and comes back through the join; or
        // back from here if the thread never ran.
        let handoff = Arc::new(Mutex::new(Some(sink)));
        let theirs = handoff.clone();
        let started = thread::Builder::new()
            .name("asynchttp-writer".to_owned())
            .spawn(move || {
                let mut sink = sync::lock(&theirs).take().expect("the sink, once");
                let written = incoming.iter().map(|chunk| (chunk, &back));
                let result = write_all(&mut sink, &layers, written);
                (result, sink)
            });
        match started {
            Ok(thread) => Ok(Writer {
                chunks,
                spare,
                thread,
            }),
            Err(e) => {
                let sink = sync::lock(&handoff).take().expect("the sink, not taken");
                let reason = format!("no thread to write the body: {e}");
                Err((Error::Worker { reason }, sink))
            }
        }
    }

    /// An empty buffer for the next chunk: one the writer gave back, or a new one.
    fn buffer(&self) -> Vec<u8> {
        self.spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK + READ))
    }

    /// Hands a chunk over; false once the writer has failed (it says why as it ends).
    fn write(&self, chunk: Vec<u8>) -> bool {
        self.chunks.send(chunk).is_ok()
    }

    /// Ends the stream and waits for the writer; how the writing went, and the sink.
    fn end(self) -> (io::Result<()>, Box<Sink>) {
        drop(self.chunks);
        match self.thread.join() {
            Ok(ended) => ended,
            // Nothing on the writer thread panics but a decoder or the caller's writer.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Writes `chunks` through the decoders into `sink`, giving each buffer back once
/// written, and finishes the stream.
fn write_all<'a>(
    sink: &mut Sink,
    layers: &[Codec],
    chunks: impl IntoIterator<Item = (Vec<u8>, &'a flume::Sender<Vec<u8>>)>,
) -> io::Result<()> {
    let mut writer = decode::writer(layers, Box::new(Flushed(sink)));
    for (mut chunk, back) in chunks {
        writer.write_all(&chunk)?;
        chunk.clear();
        let _ = back.try_send(chunk); // kept if there is room, freed if not
    }
    writer.finish()
}

/// The typed error for a write that failed: past the limit, in a decoder, or in the
/// destination itself.
fn classify(e: io::Error, coding: &Coding, out: &Response, sink: &Sink, limit: u64) -> Error {
    let inner = e.get_ref();
    if inner.is_some_and(|inner| inner.is::<LimitExceeded>()) {
        Error::BodyTooLarge { limit }
    } else if inner.is_some_and(|inner| inner.is::<DestinationFailed>()) {
        sink.error(e)
    } else {
        coding.undecodable(None, Some(e), out)
    }
}
