//! A response's body read whole into memory: its announced length checked, its raw bytes
//! read within the body limit (and the exchange's watch), then decoded.

use std::io;
use std::sync::Arc;

use futures_lite::io::AsyncReadExt;
use isahc::error::ErrorKind;
use isahc::http::{Method, header};

use super::Head;
use super::ResponseBody;
use super::codings::{self, Codec};
use super::decode::{self, ReadError};
use super::watch;
use crate::deadline::{Deadline, Phase};
use crate::exchange::Exchange;
use crate::method::is_safe;
use crate::request::Prepared;
use crate::{Error, Response};

/// Reads and decodes the whole body of a response.
pub(super) async fn read(
    head: Head,
    limit: u64,
    req: &Prepared,
    deadline: &Deadline,
) -> Result<Exchange, Error> {
    let Head {
        response: mut out,
        body,
    } = head;
    let content = if req.method == Method::HEAD {
        Vec::new()
    } else {
        read_body(body, &mut out, req, limit, deadline).await?
    };
    locate(&mut out, req);
    Ok(Exchange {
        response: out,
        content,
    })
}

/// httplib2 adds the URL a safe request's 200 or 203 came from, unless the server said.
pub(super) fn locate(out: &mut Response, req: &Prepared) {
    if matches!(out.status, 200 | 203)
        && is_safe(&req.method)
        && !out.contains_key("content-location")
    {
        out.insert("content-location", req.url.as_str());
    }
}

/// How a body arrives: its announced length and the layers of compression to undo, in the
/// order they were applied.
pub(super) struct Coding {
    pub(super) expected: Option<u64>,
    pub(super) layers: Vec<Codec>,
    encoding: Option<String>,
}

impl Coding {
    /// What `response` says of its body; `limit` refuses a length no body can have.
    pub(super) fn of(response: &Response, req: &Prepared, limit: u64) -> Result<Coding, Error> {
        let expected = match response.get(header::CONTENT_LENGTH.as_str()) {
            None => None,
            Some(value) => match content_length(value) {
                Length::Bytes(n) => Some(n),
                // libcurl reads such a length as none and takes whatever arrives before
                // the connection closes: a truncated body would pass for a whole one.
                Length::Overflow => return Err(Error::BodyTooLarge { limit }),
                Length::Invalid => None,
            },
        };
        let encoding = response
            .get(header::CONTENT_ENCODING.as_str())
            .map(str::to_owned);
        let mut coding = Coding {
            expected,
            layers: Vec::new(),
            encoding,
        };
        coding.layers = codings::layers(coding.encoding.as_deref(), req.asked_encoding)
            .map_err(|reason| coding.undecodable(Some(reason), None, response))?;
        Ok(coding)
    }

    /// Either no decoder could run (`reason`), or one ran and failed (`source`).
    pub(super) fn undecodable(
        &self,
        reason: Option<String>,
        source: Option<io::Error>,
        response: &Response,
    ) -> Error {
        Error::Decompress {
            encoding: self.encoding.clone().unwrap_or_default(),
            reason,
            source: source.map(Arc::new),
            response: Some(Arc::new(response.clone())),
        }
    }
}

/// The head of a body that was decoded to `length` bytes: httplib2 keeps the original
/// coding under "-content-encoding".
pub(super) fn decoded(response: &mut Response, length: u64) {
    if let Some(coding) = response.remove("content-encoding") {
        response.insert("-content-encoding", coding);
    }
    response.insert("content-length", length.to_string());
}

async fn read_body(
    body: ResponseBody,
    response: &mut Response,
    req: &Prepared,
    limit: u64,
    deadline: &Deadline,
) -> Result<Vec<u8>, Error> {
    let coding = Coding::of(response, req, limit)?;
    let Coding {
        expected,
        ref layers,
        ..
    } = coding;
    if layers.is_empty() && expected.is_some_and(|n| n > limit) {
        return Err(Error::BodyTooLarge { limit });
    }
    // The raw bytes whole, then decoded: a compressed body is at most a little larger
    // than what it decodes to (stored blocks), and one larger still is refused.
    let raw_limit = match layers.is_empty() {
        true => limit,
        false => limit.saturating_add(limit / 64).saturating_add(64 << 10),
    };
    let raw = read_to_limit(body, raw_limit, expected)
        .await
        .map_err(|e| match e {
            ReadError::Transport { received, error } => broken(error, received, expected, deadline),
            ReadError::TooLarge | ReadError::Decode(_) => Error::BodyTooLarge { limit },
        })?;
    if layers.is_empty() {
        return Ok(raw);
    }
    let content = decode::decode(&raw[..], layers, limit).map_err(|e| match e {
        ReadError::Decode(e) => coding.undecodable(None, Some(e), response),
        ReadError::TooLarge | ReadError::Transport { .. } => Error::BodyTooLarge { limit },
    })?;
    decoded(response, content.len() as u64);
    Ok(content)
}

/// Reads `body` to its end into one buffer, sized once by the announced length, failing
/// once more than `limit` bytes arrive. A transport failure tells how many had arrived.
async fn read_to_limit(
    mut body: ResponseBody,
    limit: u64,
    expected: Option<u64>,
) -> Result<Vec<u8>, ReadError> {
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(size(expected.unwrap_or(0).min(limit)));
    let mut filled = 0;
    loop {
        if filled == out.capacity() {
            // Full as announced: look for more in a small buffer before growing one that
            // may be complete.
            let mut probe = [0u8; 64];
            let n = read_some(&mut body, &mut probe, filled).await?;
            if n == 0 {
                break;
            }
            out.truncate(filled);
            out.extend_from_slice(&probe[..n]);
            filled += n;
        } else {
            out.resize(out.capacity(), 0);
            let n = read_some(&mut body, &mut out[filled..], filled).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled as u64 > limit {
            return Err(ReadError::TooLarge);
        }
    }
    out.truncate(filled);
    Ok(out)
}

/// One read of the body; a failure other than an interruption is the transport's.
/// The typed error for a body whose connection failed after `received` bytes.
pub(super) fn broken(
    error: io::Error,
    received: u64,
    expected: Option<u64>,
    deadline: &Deadline,
) -> Error {
    if let Some(bound) = watch::bound_met(&error) {
        return deadline.met(bound);
    }
    let error = isahc::Error::from(error);
    if error.kind() == ErrorKind::Timeout {
        // Connected already: libcurl's total bound.
        deadline.timed_out(Phase::Connected)
    } else {
        Error::BodyIncomplete {
            received,
            expected,
            source: Arc::new(error),
        }
    }
}

async fn read_some(
    body: &mut ResponseBody,
    buf: &mut [u8],
    received: usize,
) -> Result<usize, ReadError> {
    loop {
        match body.read(buf).await {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(ReadError::Transport {
                    received: received as u64,
                    error,
                });
            }
        }
    }
}

/// What a `Content-Length` says.
#[derive(Debug, PartialEq, Eq)]
enum Length {
    Bytes(u64),
    /// Digits only, more than any body can be.
    Overflow,
    /// Not a length at all: read the body to its end, as libcurl does.
    Invalid,
}

/// Reads a `Content-Length`, repeated lines joined with ", " included: they must agree.
fn content_length(value: &str) -> Length {
    let mut seen = None;
    for part in value.split(',').map(str::trim) {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Length::Invalid;
        }
        let Ok(n) = part.parse::<u64>() else {
            return Length::Overflow;
        };
        if seen.is_some_and(|m| m != n) {
            return Length::Invalid;
        }
        seen = Some(n);
    }
    seen.map_or(Length::Invalid, Length::Bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_lengths() {
        assert_eq!(content_length("42"), Length::Bytes(42));
        assert_eq!(content_length(" 7 , 7"), Length::Bytes(7));
        assert_eq!(content_length("7, 8"), Length::Invalid);
        assert_eq!(content_length("-1"), Length::Invalid);
        assert_eq!(content_length("0x10"), Length::Invalid);
        assert_eq!(content_length(""), Length::Invalid);
        assert_eq!(content_length("99999999999999999999999"), Length::Overflow);
        assert_eq!(
            content_length("18446744073709551615"),
            Length::Bytes(u64::MAX)
        );
    }
}
