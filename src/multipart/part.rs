//! [`Part`]: one part of a multipart form, its body and the headers it is sent with.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::body::{Body, open_file};
use crate::sendable;

/// One part of a [`Form`](crate::Form): bytes, a file or a reader, with the file name and
/// content type it is sent with. A text field is [`Form::text`](crate::Form::text); a file
/// as `curl -F name=@path` sends it is [`Form::file`](crate::Form::file); anything else is
/// made here and added with [`Form::part`](crate::Form::part).
///
/// ```
/// use asynchttp::{Form, Part};
///
/// let form = Form::new()
///     .part("avatar", Part::bytes(vec![0x89, b'P', b'N', b'G']).file_name("me.png").mime("image/png"))
///     .part("log", Part::reader(std::io::empty()).file_name("run.log"));
/// # drop(form);
/// ```
///
/// Nothing here fails: a file that cannot be read, or a content type that cannot be sent,
/// makes a part that fails its request when the form is sent, with an error that names it.
pub struct Part {
    pub(super) body: Body,
    pub(super) file_name: Option<String>,
    pub(super) mime: Option<String>,
}

impl Part {
    /// Bytes in memory, sent as they are, with no `Content-Type` (RFC 7578 then reads
    /// them as `text/plain`).
    ///
    /// ```
    /// let part = asynchttp::Part::bytes(&b"\x00\x01\x02"[..]);
    /// # drop(part);
    /// ```
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Part {
        Part::body(Body::from(bytes.into()))
    }

    /// Text, sent as its UTF-8; what [`Form::text`](crate::Form::text) adds.
    ///
    /// ```
    /// let part = asynchttp::Part::text("naïve café");
    /// # drop(part);
    /// ```
    pub fn text(text: impl Into<String>) -> Part {
        Part::bytes(text.into().into_bytes())
    }

    /// The file at `path`, read as the form is sent, never held in memory, and read again
    /// from its start if the form is sent again (after a 307 or a 401, or on a retry).
    /// Its file name is the path's last component, and its content type is guessed from
    /// its extension, `application/octet-stream` when there is none to go by, as curl's
    /// `-F name=@path` does; both can be set after.
    ///
    /// Its size is read here, so that the form is sent with a `Content-Length`, as
    /// browsers, requests and curl send one (servers that refuse a chunked upload answer
    /// 411). The file must keep that size until it is sent: one whose size changed
    /// fails the request, naming the file, and so does one that cannot be opened here or
    /// then. A file that is not a regular file (a pipe, a device) has no size to read: it
    /// is read as a stream, and the form is sent chunked.
    ///
    /// ```
    /// let part = asynchttp::Part::file("photos/cat.jpg"); // image/jpeg, "cat.jpg"
    /// # drop(part);
    /// ```
    pub fn file(path: impl AsRef<Path>) -> Part {
        let path = path.as_ref();
        let body = match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => sized_file(path.to_owned(), meta.len()),
            Ok(_) => stream_file(path.to_owned()),
            Err(e) => failing(named(path, &e)),
        };
        Part {
            body,
            file_name: None,
            mime: None,
        }
        .named_after(path)
    }

    /// With the file name and the content type of the file at `path`.
    fn named_after(mut self, path: &Path) -> Part {
        self.file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned());
        let mime = mime_guess::from_path(path).first_raw();
        self.mime = Some(mime.unwrap_or("application/octet-stream").to_owned());
        self
    }

    /// A reader of yours, read once as the form is sent, of a length not known before: the
    /// form is sent chunked. A form with one cannot be sent twice; see
    /// [`Body::reader`](crate::Body::reader), and [`Part::body`] with
    /// [`Body::remake`](crate::Body::remake) for one that can.
    ///
    /// ```
    /// let part = asynchttp::Part::reader(std::io::stdin()).file_name("stdin.txt");
    /// # drop(part);
    /// ```
    pub fn reader(reader: impl Read + Send + 'static) -> Part {
        Part::body(Body::reader(reader))
    }

    /// As [`Part::reader`], of a length known beforehand: if every part's length is known,
    /// the form is sent with a `Content-Length`. A reader that gives fewer bytes fails the
    /// request; the bytes past `len` are not sent.
    ///
    /// ```
    /// let bytes: &'static [u8] = b"twelve bytes";
    /// let part = asynchttp::Part::sized_reader(bytes, 12);
    /// # drop(part);
    /// ```
    pub fn sized_reader(reader: impl Read + Send + 'static, len: u64) -> Part {
        Part::body(Body::sized_reader(reader, len))
    }

    /// Any [`Body`] as a part: bytes, a reader, one made again each time it is sent, or a
    /// [`Body::file`](crate::Body::file), which is named and typed as [`Part::file`] names
    /// it, but whose size is not read until it is sent (the form is then sent chunked).
    ///
    /// ```
    /// use std::io::Cursor;
    /// use asynchttp::{Body, Part};
    ///
    /// let part = Part::body(Body::remake(Some(5), || Ok(Cursor::new(b"hello".to_vec()))));
    /// # drop(part);
    /// ```
    pub fn body(body: impl Into<Body>) -> Part {
        let body = body.into();
        let path = body.path().map(Path::to_owned);
        let part = Part {
            body,
            file_name: None,
            mime: None,
        };
        match path {
            Some(path) => part.named_after(&path),
            None => part,
        }
    }

    /// The file name the part is sent with (`filename=` of its `Content-Disposition`),
    /// escaped as browsers escape it (see [`Form`](crate::Form)).
    ///
    /// ```
    /// let part = asynchttp::Part::bytes("a,b\n1,2\n").file_name("table.csv");
    /// # drop(part);
    /// ```
    pub fn file_name(mut self, name: impl Into<String>) -> Part {
        self.file_name = Some(name.into());
        self
    }

    /// The content type the part is sent with (its `Content-Type`), in place of the one
    /// guessed or none. A type that cannot go in a header (a control character, a
    /// character outside ASCII) makes the part fail its request when the form is sent.
    ///
    /// ```
    /// let part = asynchttp::Part::text("{\"a\": 1}").mime("application/json");
    /// # drop(part);
    /// ```
    pub fn mime(mut self, mime: impl Into<String>) -> Part {
        let mime = mime.into();
        if sendable::text(&mime) {
            self.mime = Some(mime);
        } else {
            self.mime = None;
            self.body = failing(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the content type {mime:?} cannot be sent in a header: \
                     a control character or one outside ASCII"
                ),
            ));
        }
        self
    }
}

/// A regular file of `len` bytes, opened each time it is sent; one whose size changed
/// since fails rather than send a part its `Content-Length` does not describe.
fn sized_file(path: PathBuf, len: u64) -> Body {
    Body::remake(Some(len), move || {
        let (file, now) = open_file(&path).map_err(|e| named(&path, &e))?;
        if now != len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: the file is {now} bytes, and was {len} when it was added to the form",
                    path.display()
                ),
            ));
        }
        Ok(file)
    })
}

/// A file with no size to read beforehand, opened each time it is sent.
fn stream_file(path: PathBuf) -> Body {
    Body::remake(None, move || {
        std::fs::File::open(&path).map_err(|e| named(&path, &e))
    })
}

/// `e`, saying which file it is about.
fn named(path: &Path, e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// A body that fails with `e` (its kind and text) each time it is sent.
fn failing(e: io::Error) -> Body {
    let (kind, message): (io::ErrorKind, Arc<str>) = (e.kind(), e.to_string().into());
    Body::remake::<io::Empty, _>(None, move || Err(io::Error::new(kind, message.to_string())))
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("body", &self.body)
            .field("file_name", &self.file_name)
            .field("mime", &self.mime)
            .finish()
    }
}
