//! A body streamed into a download's destination as it arrives, decoded on the way, in
//! chunks: however large it is, it costs one buffer.

use std::io::{self, Write};

use futures_lite::io::AsyncReadExt;

use super::decode::{self, Flushed};
use super::{Coding, Head, broken, decoded, locate};
use crate::deadline::Deadline;
use crate::download::{LimitExceeded, Sink};
use crate::exchange::Exchange;
use crate::request::Prepared;
use crate::{Error, Response};

/// What is read from the transport at once.
const CHUNK: usize = 64 * 1024;

/// Streams the body of `head` into `sink`, then renames a file into place. The exchange
/// it gives has the response and no content.
pub(super) async fn body(
    head: Head,
    req: &Prepared,
    sink: &mut Sink,
    deadline: &Deadline,
) -> Result<Exchange, Error> {
    let Head {
        response: mut out,
        mut body,
    } = head;
    let limit = sink.limit().unwrap_or(u64::MAX);
    let coding = Coding::of(&out, req, limit)?;
    sink.open(&out)?;
    let mut writer = decode::writer(coding.layers, Box::new(Flushed(&mut *sink)));
    let mut buffer = vec![0u8; CHUNK];
    let mut received = 0u64;
    loop {
        let n = match body.read(&mut buffer).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(broken(e, received, coding.expected, deadline)),
        };
        received += n as u64;
        if let Err(e) = writer.write_all(&buffer[..n]) {
            drop(writer);
            return Err(written(e, &coding, &out, sink, limit));
        }
    }
    if let Err(e) = writer.finish() {
        return Err(written(e, &coding, &out, sink, limit));
    }
    sink.commit()?;
    if coding.layers > 0 {
        decoded(&mut out, sink.counts().0);
    }
    locate(&mut out, req);
    Ok(Exchange {
        response: out,
        content: Vec::new(),
    })
}

/// The typed error for a write that failed: past the limit, in a decoder, or in the
/// destination itself.
fn written(e: io::Error, coding: &Coding, out: &Response, sink: &Sink, limit: u64) -> Error {
    let inner = e.get_ref();
    if inner.is_some_and(|inner| inner.is::<LimitExceeded>()) {
        Error::BodyTooLarge { limit }
    } else if inner.is_some_and(|inner| inner.is::<crate::download::DestinationFailed>()) {
        sink.error(e)
    } else {
        coding.undecodable(None, Some(e), out)
    }
}
