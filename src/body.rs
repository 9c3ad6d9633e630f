//! [`Body`]: what a request sends. Bytes in memory, a file read as it is sent, a reader of
//! the caller's, or a chain of them (a multipart form).
//!
//! A body may have to be sent more than once: after a 307 or 308 redirect, to answer a 401,
//! on a retry, or when libcurl finds a kept connection closed. Bytes and files can be: a
//! file is opened again and read from its start. A reader can be read once; a request that
//! needs it again fails, saying which step needed it, unless the caller gave a way to make
//! the reader again ([`Body::remake`]).

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::Upload;
use crate::upload::Monitor;

mod open;

pub(crate) use self::open::{Again, Opened, Part};

/// A reader of the caller's, as a body holds it.
pub(crate) type BoxRead = Box<dyn Read + Send>;

/// Makes a body's reader again, for each time it is sent.
type Remake = dyn Fn() -> io::Result<BoxRead> + Send + Sync;

/// What a request sends: `&str`, `String`, `&[u8]` and `Vec<u8>` become one (so
/// [`Request::body`](crate::Request::body) takes any of them), and so does a file, a
/// reader, or a reader the caller can make again.
///
/// ```
/// use asynchttp::{Body, Request};
///
/// let text = Request::new("POST", "http://127.0.0.1/notes").body("hello");
/// let file = Request::new("PUT", "http://127.0.0.1/video").body(Body::file("video.mp4"));
/// # drop((text, file));
/// ```
#[derive(Clone)]
pub struct Body {
    pub(crate) kind: Kind,
    /// Where its upload progress goes, once [`Body::monitor`] asked for it; shared by its
    /// copies.
    pub(crate) monitor: Option<Arc<Monitor>>,
}

/// What a body is made of. Cloning one is cheap, except bytes, which are copied as they
/// are for a request kept to be sent again.
#[derive(Clone)]
pub(crate) enum Kind {
    /// In memory.
    Bytes(Vec<u8>),
    /// Opened each time the body is sent; its length is the file's then.
    File(Arc<Path>),
    /// Read once: whoever sends it first takes it.
    Once {
        reader: Arc<Mutex<Option<BoxRead>>>,
        len: Option<u64>,
    },
    /// Made again each time the body is sent.
    Remade { make: Arc<Remake>, len: Option<u64> },
    /// One after another: a multipart form's delimiters, headers and parts.
    Chain(Arc<[Body]>),
}

impl Body {
    fn of(kind: Kind) -> Body {
        Body {
            kind,
            monitor: None,
        }
    }

    /// No body at all.
    ///
    /// ```
    /// assert_eq!(asynchttp::Body::empty().len(), Some(0));
    /// ```
    pub fn empty() -> Body {
        Body::of(Kind::Bytes(Vec::new()))
    }

    /// The file at `path`, read as it is sent, from its start each time: memory stays flat
    /// however large it is. It is opened when the request is sent, not here; a file that
    /// cannot be opened then fails the request with [`Error::Body`](crate::Error::Body).
    ///
    /// ```
    /// let body = asynchttp::Body::file("report.pdf");
    /// assert_eq!(body.len(), None, "known once the file is opened");
    /// ```
    pub fn file(path: impl Into<PathBuf>) -> Body {
        Body::of(Kind::File(Arc::from(path.into())))
    }

    /// A reader of yours, read once as the request is sent, of a length not known before:
    /// sent chunked over HTTP/1.1, as a stream over HTTP/2. If the request must be sent
    /// again after the reader was read (a 307, a 401, a retry), it fails with
    /// [`Error::Body`](crate::Error::Body) naming that step; [`Body::remake`] can make it
    /// again instead.
    ///
    /// ```
    /// let body = asynchttp::Body::reader(std::io::stdin());
    /// # drop(body);
    /// ```
    pub fn reader(reader: impl Read + Send + 'static) -> Body {
        Body::once(Box::new(reader), None)
    }

    /// As [`Body::reader`], of a length known beforehand: sent with `Content-Length`. A
    /// reader that gives fewer bytes than that fails the request with
    /// [`Error::Body`](crate::Error::Body), and so does one that has more: it is read once
    /// more after its last byte, and must then be at its end (wrap a socket or a pipe that
    /// stays open in [`Read::take`]). The server never gets a body that looks whole and is
    /// not.
    ///
    /// ```
    /// let bytes: &'static [u8] = b"twelve bytes";
    /// let body = asynchttp::Body::sized_reader(bytes, 12);
    /// assert_eq!(body.len(), Some(12));
    /// ```
    pub fn sized_reader(reader: impl Read + Send + 'static, len: u64) -> Body {
        Body::once(Box::new(reader), Some(len))
    }

    fn once(reader: BoxRead, len: Option<u64>) -> Body {
        Body::of(Kind::Once {
            reader: Arc::new(Mutex::new(Some(reader))),
            len,
        })
    }

    /// A body that `make` makes each time it is sent (as requests' rewindable bodies and
    /// reqwest's body factories): it can be sent again after a 307, a 401 or a retry. `len`
    /// is its length if known (sent with `Content-Length`, else chunked); each reader made
    /// must give exactly that many bytes.
    ///
    /// ```
    /// use std::io::Cursor;
    ///
    /// let body = asynchttp::Body::remake(Some(5), || Ok(Cursor::new(b"hello".to_vec())));
    /// assert_eq!(body.len(), Some(5));
    /// ```
    pub fn remake<R, F>(len: Option<u64>, make: F) -> Body
    where
        R: Read + Send + 'static,
        F: Fn() -> io::Result<R> + Send + Sync + 'static,
    {
        let make: Arc<Remake> = Arc::new(move || make().map(|reader| Box::new(reader) as BoxRead));
        Body::of(Kind::Remade { make, len })
    }

    /// Its upload progress, for a progress bar: as requests-toolbelt's
    /// `MultipartEncoderMonitor`, the body is watched as it is read, whichever way it is
    /// sent. Ask before the body is sent; asking again gives a handle on the same progress.
    /// See [`Upload`] for what it counts.
    ///
    /// ```
    /// let mut body = asynchttp::Body::from("hello");
    /// let upload = body.monitor();
    /// assert_eq!(upload.progress().bytes, 0);
    /// ```
    pub fn monitor(&mut self) -> Upload {
        self.monitor
            .get_or_insert_with(|| Arc::new(Monitor::new()))
            .upload()
    }

    /// Bodies sent one after another, as one.
    pub(crate) fn chain(parts: Vec<Body>) -> Body {
        Body::of(Kind::Chain(parts.into()))
    }

    /// Its length, when it is known without opening anything: bytes, a sized reader, or a
    /// chain of those. A file's is known once it is opened.
    ///
    /// ```
    /// use asynchttp::Body;
    ///
    /// assert_eq!(Body::from("hello").len(), Some(5));
    /// assert_eq!(Body::reader(std::io::empty()).len(), None);
    /// ```
    // An unknown length is not an empty body: `is_empty` stays the crate's, for bytes.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> Option<u64> {
        match &self.kind {
            Kind::Bytes(bytes) => Some(bytes.len() as u64),
            Kind::File(_) => None,
            Kind::Once { len, .. } | Kind::Remade { len, .. } => *len,
            Kind::Chain(parts) => parts.iter().try_fold(0u64, |sum, part| {
                part.len().and_then(|len| sum.checked_add(len))
            }),
        }
    }

    /// True for a body read as it is sent (a file, a reader, a chain): it is sent from a
    /// worker, never from a driver or libcurl's agent thread, since reading it may block.
    pub(crate) fn is_streamed(&self) -> bool {
        !matches!(self.kind, Kind::Bytes(_))
    }

    /// The empty body a redirect that drops the body sends on, still counting into this
    /// one's progress (which the request ends when it ends).
    pub(crate) fn dropped(&self) -> Body {
        Body {
            kind: Kind::Bytes(Vec::new()),
            monitor: self.monitor.clone(),
        }
    }

    /// The progress this body counts into, if it is monitored.
    pub(crate) fn monitored(&self) -> Option<&Monitor> {
        self.monitor.as_deref()
    }

    /// True for a body of no bytes in memory: nothing to send. A file or a reader is not
    /// empty here, even one that turns out to have no bytes.
    ///
    /// ```
    /// use asynchttp::Body;
    ///
    /// assert!(Body::empty().is_empty() && Body::from("").is_empty());
    /// assert!(!Body::reader(std::io::empty()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(&self.kind, Kind::Bytes(bytes) if bytes.is_empty())
    }

    /// Its bytes, when it is bytes in memory.
    pub(crate) fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The file's path, when it is a file.
    pub(crate) fn path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::File(path) => Some(path),
            _ => None,
        }
    }
}

/// Opens a file body's file for reading, with its length then.
pub(crate) fn open_file(path: &Path) -> io::Result<(File, u64)> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    Ok((file, len))
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::of(Kind::Bytes(bytes))
    }
}

impl From<&[u8]> for Body {
    fn from(bytes: &[u8]) -> Self {
        Body::from(bytes.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for Body {
    fn from(bytes: &[u8; N]) -> Self {
        Body::from(bytes.to_vec())
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::from(text.into_bytes())
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Self {
        Body::from(text.as_bytes().to_vec())
    }
}

impl From<&String> for Body {
    fn from(text: &String) -> Self {
        Body::from(text.as_str())
    }
}

impl From<&Vec<u8>> for Body {
    fn from(bytes: &Vec<u8>) -> Self {
        Body::from(bytes.clone())
    }
}

impl<const N: usize> From<[u8; N]> for Body {
    fn from(bytes: [u8; N]) -> Self {
        Body::from(bytes.to_vec())
    }
}

impl From<Box<[u8]>> for Body {
    fn from(bytes: Box<[u8]>) -> Self {
        Body::from(bytes.into_vec())
    }
}

impl From<std::borrow::Cow<'_, [u8]>> for Body {
    fn from(bytes: std::borrow::Cow<'_, [u8]>) -> Self {
        Body::from(bytes.into_owned())
    }
}

impl From<std::borrow::Cow<'_, str>> for Body {
    fn from(text: std::borrow::Cow<'_, str>) -> Self {
        Body::from(text.into_owned())
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never its bytes: they may hold secrets.
        match &self.kind {
            Kind::Bytes(bytes) => f.debug_tuple("Bytes").field(&bytes.len()).finish(),
            Kind::File(path) => f.debug_tuple("File").field(path).finish(),
            Kind::Once { len, .. } => f.debug_struct("Reader").field("len", len).finish(),
            Kind::Remade { len, .. } => f.debug_struct("Remade").field("len", len).finish(),
            Kind::Chain(parts) => f.debug_list().entries(parts.iter()).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_has_a_length_only_when_every_part_has_one() {
        let sized = Body::chain(vec![Body::from("ab"), Body::sized_reader(io::empty(), 3)]);
        assert_eq!(sized.len(), Some(5));
        let unsized_ = Body::chain(vec![Body::from("ab"), Body::file("x")]);
        assert_eq!(unsized_.len(), None);
    }

    #[test]
    fn only_bytes_in_memory_are_empty_or_bytes() {
        assert!(Body::empty().is_empty());
        assert!(!Body::reader(io::empty()).is_empty());
        assert_eq!(Body::from("hi").as_bytes(), Some(&b"hi"[..]));
        assert_eq!(Body::file("f").as_bytes(), None);
        assert_eq!(Body::file("f").path(), Some(Path::new("f")));
    }
}
