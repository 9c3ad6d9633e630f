//! A body opened for one exchange: its parts in order, each a reader with the length it
//! must give when that is known. Opening is where a file is opened, a reader taken and a
//! reader made again, so it runs on a worker, as the reads do (see `transport::pump`).
//!
//! Each part is read only as far as its length: a reader that gives fewer bytes fails the
//! request, and so does one that has more (one read past the length, that must find the
//! end, before the last bytes go). Either way the server never gets a whole body that is
//! not the one announced. A sized reader over a socket or a pipe that stays open must
//! therefore end at its length (`Read::take` makes one that does).

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Cursor, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{Body, BoxRead, Kind, open_file};
use crate::{Error, sync};

/// Why a body is sent again: the step that the error of a body that cannot be names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Again {
    /// A 307 or 308, which keeps the body.
    Redirect(u16),
    /// Credentials answering a 401.
    Unauthorized,
    /// The request's retry policy.
    Retry,
}

impl fmt::Display for Again {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Again::Redirect(status) => write!(f, "a {status} redirect"),
            Again::Unauthorized => f.write_str("the answer to a 401"),
            Again::Retry => f.write_str("a retry"),
        }
    }
}

/// A body opened for one exchange.
pub(crate) struct Opened {
    pub(crate) parts: VecDeque<Part>,
    /// The whole length, when every part's is known.
    pub(crate) len: Option<u64>,
}

impl Body {
    /// Opens the body to send it, `again` for a reason other than the first time. A file
    /// that cannot be opened, a reader already read and a reader that cannot be made again
    /// fail with [`Error::Body`].
    pub(crate) fn open(&self, again: Option<Again>) -> Result<Opened, Error> {
        let mut parts = VecDeque::new();
        open_into(self, again, &mut parts)?;
        let len = parts.iter().try_fold(0u64, |sum, part| {
            part.len.and_then(|len| sum.checked_add(len))
        });
        Ok(Opened { parts, len })
    }
}

fn open_into(body: &Body, again: Option<Again>, parts: &mut VecDeque<Part>) -> Result<(), Error> {
    let part = match &body.kind {
        Kind::Bytes(bytes) => Part::new(
            Box::new(Cursor::new(bytes.clone())),
            Some(bytes.len() as u64),
            Origin::Memory,
        ),
        Kind::File(path) => {
            let (file, len) = open_file(path).map_err(|e| {
                Error::body(
                    format!("could not open {}", path.display()),
                    Some(path),
                    Some(e),
                )
            })?;
            Part::new(Box::new(file), Some(len), Origin::File(path.clone()))
        }
        Kind::Once { reader, len } => {
            let Some(taken) = sync::lock(reader).take() else {
                return Err(already_read(again));
            };
            Part::new(taken, *len, Origin::Once(reader.clone()))
        }
        Kind::Remade { make, len } => {
            let made = make()
                .map_err(|e| Error::body("could not make the body's reader", None, Some(e)))?;
            Part::new(made, *len, Origin::Remade)
        }
        Kind::Chain(chained) => {
            for part in chained.iter() {
                open_into(part, again, parts)?;
            }
            return Ok(());
        }
    };
    parts.push_back(part);
    Ok(())
}

/// The error of a reader wanted again after it was read.
fn already_read(again: Option<Again>) -> Error {
    let reason = match again {
        Some(step) => format!(
            "the body was a reader, already sent once; {step} needs it again \
             (Body::remake makes it again)"
        ),
        None => "the body was a reader, already sent by another request \
                 (Body::remake makes it again)"
            .to_owned(),
    };
    Error::body(reason, None, None)
}

/// Where a part's reader came from: what its errors name, and where an unread reader goes
/// back to.
enum Origin {
    Memory,
    File(Arc<Path>),
    /// A reader read once, and the slot it was taken from.
    Once(Arc<Mutex<Option<BoxRead>>>),
    Remade,
}

/// One part of an opened body.
pub(crate) struct Part {
    reader: Option<BoxRead>,
    /// The bytes it must give, when known.
    len: Option<u64>,
    origin: Origin,
    /// Bytes read so far.
    read: u64,
    /// Read at all: an exchange that ended before asking for the body leaves a reader
    /// read once as it was, for the next exchange.
    touched: bool,
}

impl Part {
    fn new(reader: BoxRead, len: Option<u64>, origin: Origin) -> Part {
        Part {
            reader: Some(reader),
            len,
            origin,
            read: 0,
            touched: false,
        }
    }

    /// Reads into `buf`: 0 once the part is over, as long as announced. The read that
    /// completes a known length also makes sure that nothing follows, so that a body
    /// longer than announced fails before its last bytes go.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.touched = true;
        let Some(reader) = self.reader.as_mut() else {
            return Ok(0);
        };
        let left = self.len.map(|len| len - self.read);
        let room = match left {
            Some(0) => return Ok(0),
            Some(left) => buf.len().min(usize::try_from(left).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        let n = match read_some(reader, &mut buf[..room]) {
            Ok(n) => n,
            Err(e) => return Err(self.failed(e)),
        };
        self.read += n as u64;
        match (n, self.len) {
            (0, Some(len)) => Err(self.short(len)),
            (_, Some(len)) if self.read == len => {
                let mut probe = [0u8; 1];
                let after = self
                    .reader
                    .as_mut()
                    .map_or(Ok(0), |r| read_some(r, &mut probe));
                match after {
                    Ok(0) => Ok(n),
                    Ok(_) => Err(self.long(len)),
                    Err(e) => Err(self.failed(e)),
                }
            }
            _ => Ok(n),
        }
    }

    fn path(&self) -> Option<&Path> {
        match &self.origin {
            Origin::File(path) => Some(path),
            _ => None,
        }
    }

    fn failed(&self, e: io::Error) -> Error {
        let reason = match self.path() {
            Some(path) => format!(
                "could not read {} after {} bytes",
                path.display(),
                self.read
            ),
            None => format!("the reader failed after {} bytes", self.read),
        };
        Error::body(reason, self.path(), Some(e))
    }

    fn short(&self, len: u64) -> Error {
        let reason = match self.path() {
            Some(path) => format!(
                "{} ended after {} of its {len} bytes (it shrank while it was sent)",
                path.display(),
                self.read
            ),
            None => format!("the reader gave {} of the {len} bytes announced", self.read),
        };
        Error::body(reason, self.path(), None)
    }

    fn long(&self, len: u64) -> Error {
        let reason = match self.path() {
            Some(path) => format!(
                "{} grew past its {len} bytes while it was sent",
                path.display()
            ),
            None => format!("the reader gave more than the {len} bytes announced"),
        };
        Error::body(reason, self.path(), None)
    }
}

/// One read, taken again when a signal interrupts it.
fn read_some(reader: &mut BoxRead, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

impl Drop for Part {
    /// A reader read once that nothing asked for goes back where it was taken from.
    fn drop(&mut self) {
        if let (Origin::Once(slot), false) = (&self.origin, self.touched) {
            if let Some(reader) = self.reader.take() {
                sync::lock(slot).get_or_insert(reader);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(opened: &mut Opened) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        while let Some(part) = opened.parts.front_mut() {
            match part.read(&mut buf)? {
                0 => drop(opened.parts.pop_front()),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
        Ok(out)
    }

    #[test]
    fn a_chain_reads_its_parts_in_order_with_its_whole_length() {
        let body = Body::chain(vec![
            Body::from("head-"),
            Body::sized_reader(&b"middle"[..], 6),
            Body::remake(None, || Ok(Cursor::new(b"-tail".to_vec()))),
        ]);
        let mut opened = body.open(None).unwrap();
        assert_eq!(opened.len, None, "the remade part has no length");
        assert_eq!(drain(&mut opened).unwrap(), b"head-middle-tail");
    }

    #[test]
    fn a_sized_reader_short_or_long_fails_and_says_so() {
        let short = Body::sized_reader(&b"abc"[..], 5).open(None);
        let error = drain(&mut short.unwrap()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "request body: the reader gave 3 of the 5 bytes announced"
        );
        let long = Body::sized_reader(&b"abcdef"[..], 5).open(None);
        let error = drain(&mut long.unwrap()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "request body: the reader gave more than the 5 bytes announced"
        );
    }

    #[test]
    fn a_reader_goes_back_unless_it_was_read() {
        let body = Body::reader(&b"once"[..]);
        drop(body.open(None).unwrap());
        let mut opened = body.open(Some(Again::Retry)).unwrap();
        assert_eq!(drain(&mut opened).unwrap(), b"once");
        drop(opened);
        let again = body.open(Some(Again::Redirect(307))).err().unwrap();
        assert_eq!(
            again.to_string(),
            "request body: the body was a reader, already sent once; a 307 redirect needs \
             it again (Body::remake makes it again)"
        );
    }
}
