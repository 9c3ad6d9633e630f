//! What a request's body goes out as, for one exchange.
//!
//! - Bytes in memory go as they always did: for an idempotent method, a body libcurl may
//!   rewind and send again on a new connection when a kept one turns out closed; for any
//!   other, a stream it cannot rewind, so that it fails instead (see the module's docs).
//! - Bytes in memory that are monitored ([`Body::monitor`](crate::Body::monitor)), or
//!   capped ([`HttpBuilder::max_upload_speed`](crate::HttpBuilder::max_upload_speed)), go
//!   as a stream that counts what libcurl takes and paces it (see `pace`); reading memory
//!   never blocks, so libcurl's agent reads it itself.
//! - A body read as it is sent (a file, a reader, a chain) is opened here, on the worker,
//!   and goes through a pump and a pipe (`pump`): sized when its length is known
//!   (`Content-Length`), chunked over HTTP/1.1 when it is not.
//!
//! The last two go on connections of their own ([`on_own_connection`]).

use futures_lite::io::Cursor;
use isahc::AsyncBody;
use isahc::http::Method;

use super::pace::Pace;
use super::pump::{self, Outflow, Pump};
use super::watch::Ear;
use crate::Error;
use crate::method::is_idempotent;
use crate::request::Prepared;

/// `req`'s body for one exchange, and the pump that feeds it if it is read as it is sent;
/// `ear` hears what libcurl takes, and `pace` caps it.
pub(super) fn body(
    req: &Prepared,
    ear: Option<Ear>,
    pace: Option<Box<Pace>>,
) -> Result<(AsyncBody, Option<Box<Pump>>), Error> {
    let monitor = req.body.monitor.clone();
    if !req.body.is_streamed() {
        let bytes = req.body.as_bytes().unwrap_or_default();
        if bytes.is_empty() || (monitor.is_none() && pace.is_none()) {
            return Ok((in_memory(&req.method, bytes), None));
        }
        let length = bytes.len() as u64;
        if let Some(monitor) = &monitor {
            monitor.restart(Some(length));
        }
        let counted = Outflow::memory(bytes.to_vec(), monitor).paced(pace);
        return Ok((AsyncBody::from_reader_sized(counted, length), None));
    }
    let opened = req.body.open(req.again)?;
    let length = opened.len;
    if let Some(monitor) = &monitor {
        monitor.restart(length);
    }
    let (pump, outflow) = pump::pipe(opened, monitor, ear);
    let outflow = outflow.paced(pace);
    let body = match length {
        Some(length) => AsyncBody::from_reader_sized(outflow, length),
        None => AsyncBody::from_reader(outflow),
    };
    Ok((body, Some(pump)))
}

/// True for a request that goes on a connection of its own, never a kept one: libcurl
/// sends a request again on a new connection when a kept one turns out closed, and a body
/// read as it is sent (or counted as it goes) cannot be rewound for that. libcurl does not
/// give up then: it reads on where the stream stands, finds its end, and fails the new
/// exchange after its answer came. On a connection of its own there is nothing to send
/// again: a body read as it is sent is sent again only by this crate (a 307, a 401, a
/// retry), opened from its start. A body in memory that is counted or `capped` goes as
/// such a stream. A POST without a body has nothing to refuse a rewind with, so it goes on
/// one too (see the module's docs).
pub(super) fn on_own_connection(req: &Prepared, capped: bool) -> bool {
    let counted = (req.body.monitor.is_some() || capped) && !req.body.is_empty();
    req.body.is_streamed() || counted || (!is_idempotent(&req.method) && req.body.is_empty())
}

/// Bytes in memory: one libcurl may send again, for an idempotent method; for any other, a
/// stream it cannot rewind (see the module's docs).
fn in_memory(method: &Method, bytes: &[u8]) -> AsyncBody {
    if is_idempotent(method) {
        if bytes.is_empty() && !has_body_by_method(method) {
            AsyncBody::empty()
        } else {
            AsyncBody::from(bytes.to_vec())
        }
    } else if !bytes.is_empty() {
        let length = bytes.len() as u64;
        AsyncBody::from_reader_sized(Cursor::new(bytes.to_vec()), length)
    } else {
        AsyncBody::from(Vec::new())
    }
}

/// Methods whose requests carry a body even when it is empty (`Content-Length: 0`).
fn has_body_by_method(method: &Method) -> bool {
    matches!(method.as_str(), "POST" | "PUT" | "PATCH")
}
