//! A [`Body`] read from start to end as one stream: each file opened, each reader taken or
//! made, only when the read reaches it, so a chain of large files holds one at a time.
//!
//! It keeps [`Body`]'s promises: a sized reader that ends early fails, and the bytes past
//! its length are not read; a reader read once cannot be read again.

use std::io::{self, Read};
use std::sync::Arc;

use crate::body::{Body, BoxRead, Kind, open_file};
use crate::sync;

/// Reads a body, in order.
pub(crate) struct BodyReader {
    /// The chains entered and not finished, innermost last, each with the index of the
    /// next body in it.
    chains: Vec<(Arc<[Body]>, usize)>,
    /// What is being read now.
    now: Option<Segment>,
}

/// One body of a chain, opened.
enum Segment {
    /// Bytes in memory, read from where `at` says; the body stays where it is, uncopied.
    Bytes {
        chain: Arc<[Body]>,
        index: usize,
        at: usize,
    },
    /// A file or a reader; `left` counts down the length it promised, if it did.
    Stream { reader: BoxRead, left: Option<u64> },
}

impl BodyReader {
    pub(crate) fn new(body: Body) -> BodyReader {
        BodyReader {
            chains: vec![(Arc::from(vec![body]), 0)],
            now: None,
        }
    }

    /// Opens the next body that is not a chain; `None` at the end.
    fn open_next(&mut self) -> io::Result<Option<Segment>> {
        loop {
            let Some((chain, index)) = self.chains.last_mut() else {
                return Ok(None);
            };
            if *index == chain.len() {
                self.chains.pop();
                continue;
            }
            let (chain, at) = (chain.clone(), *index);
            *index += 1;
            let body = &chain[at];
            if body.is_empty() {
                // Nothing to read: on to the next.
                continue;
            }
            let segment = match &body.kind {
                Kind::Bytes(_) => Segment::Bytes {
                    chain: chain.clone(),
                    index: at,
                    at: 0,
                },
                Kind::File(path) => {
                    let (file, len) = open_file(path).map_err(|e| {
                        io::Error::new(e.kind(), format!("{}: {e}", path.display()))
                    })?;
                    Segment::Stream {
                        reader: Box::new(file),
                        left: Some(len),
                    }
                }
                Kind::Once { reader, len } => match sync::lock(reader).take() {
                    Some(reader) => Segment::Stream { reader, left: *len },
                    None => return Err(read_before()),
                },
                Kind::Remade { make, len } => Segment::Stream {
                    reader: make()?,
                    left: *len,
                },
                Kind::Chain(parts) => {
                    self.chains.push((parts.clone(), 0));
                    continue;
                }
            };
            return Ok(Some(segment));
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let segment = match &mut self.now {
                Some(segment) => segment,
                None => match self.open_next()? {
                    Some(segment) => self.now.insert(segment),
                    None => return Ok(0),
                },
            };
            let n = segment.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            self.now = None;
        }
    }
}

impl Segment {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Segment::Bytes { chain, index, at } => {
                let bytes = chain[*index].as_bytes().unwrap_or_default();
                let n = (&bytes[*at..]).read(buf)?;
                *at += n;
                Ok(n)
            }
            Segment::Stream { reader, left } => {
                let room = match *left {
                    Some(0) => return Ok(0),
                    Some(left) => buf.len().min(usize::try_from(left).unwrap_or(usize::MAX)),
                    None => buf.len(),
                };
                let n = reader.read(&mut buf[..room])?;
                if let Some(left) = left {
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("the body ended {left} bytes short of its length"),
                        ));
                    }
                    *left -= n as u64;
                }
                Ok(n)
            }
        }
    }
}

/// The error for a reader read once already, by an earlier send.
fn read_before() -> io::Error {
    io::Error::other("the body's reader was read already, and cannot be read again")
}

/// The whole of `body`, read into memory.
pub(crate) fn read_all(body: Body) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(body.len().map_or(0, |len| len.min(1 << 20) as usize));
    BodyReader::new(body).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn a_chain_reads_in_order_through_chains_within_it() {
        let inner = Body::chain(vec![
            Body::from("b"),
            Body::reader(Cursor::new(b"cd".to_vec())),
        ]);
        let body = Body::chain(vec![
            Body::from("a"),
            inner,
            Body::empty(),
            Body::remake(Some(1), || Ok(Cursor::new(b"e".to_vec()))),
        ]);
        assert_eq!(read_all(body).unwrap(), b"abcde");
    }

    #[test]
    fn a_sized_reader_short_of_its_length_fails_and_past_it_is_cut() {
        let short = Body::sized_reader(Cursor::new(b"ab".to_vec()), 3);
        let e = read_all(short).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let long = Body::sized_reader(Cursor::new(b"abcd".to_vec()), 3);
        assert_eq!(read_all(long).unwrap(), b"abc");
    }

    #[test]
    fn a_reader_reads_once_and_a_remade_one_again() {
        let once = Body::reader(Cursor::new(b"x".to_vec()));
        assert_eq!(read_all(once.clone()).unwrap(), b"x");
        assert!(
            read_all(once)
                .unwrap_err()
                .to_string()
                .contains("read already")
        );
        let remade = Body::remake(None, || Ok(Cursor::new(b"y".to_vec())));
        assert_eq!(read_all(remade.clone()).unwrap(), b"y");
        assert_eq!(read_all(remade).unwrap(), b"y");
    }

    #[test]
    fn a_missing_file_fails_naming_it() {
        let e = read_all(Body::file("/nonexistent/asynchttp-body")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("/nonexistent/asynchttp-body"), "{e}");
    }
}
