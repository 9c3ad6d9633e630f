//! `multipart/form-data` (RFC 7578): [`Form`] and its [`Part`]s, made into one [`Body`] that
//! streams files and readers as it is sent.

mod head;
mod part;

use std::fmt;
use std::path::Path;

pub use self::part::Part;
use crate::body::{Body, Kind};

/// A `multipart/form-data` form, as requests' `files=` and `data=`, requests-toolbelt's
/// `MultipartEncoder` and curl's `-F` send it: text fields, files and readers, each a
/// [`Part`], in the order added. [`Request::multipart`](crate::Request::multipart) sends
/// it with its `Content-Type`.
///
/// ```no_run
/// use asynchttp::{Form, Http, Request};
///
/// let form = Form::new()
///     .text("title", "Holidays")
///     .file("photo", "photos/beach.jpg"); // read as it is sent, never held in memory
/// let http = Http::new();
/// let (response, _) = http.send(Request::new("POST", "http://127.0.0.1:8080/upload").multipart(form));
/// println!("{}", response.status);
/// ```
///
/// **Length.** A form whose parts all have a known length (text, bytes, files, sized
/// readers) is sent with a `Content-Length`; one with a reader of unknown length is sent
/// chunked. [`Body::len`] of [`Form::into_body`] says which.
///
/// **Boundary.** 32 random hex digits, from the system's randomness. It is checked against
/// every part's headers and every part held in memory, and drawn again if it occurs in
/// any. A file's or a reader's contents are not read beforehand to look for it: that it
/// occurs in them is the risk every browser takes, one chance in 2¹²⁸.
///
/// **Names and file names** are escaped as the HTML standard says and browsers do (RFC
/// 7578 §2 allows it): `"` as `%22`, CR as `%0D` and LF as `%0A`, and nothing else;
/// characters outside ASCII go as their UTF-8. urllib3 (so requests) does the same since
/// 1.25, and curl since 7.81; older urllib3 sent a name outside ASCII as RFC 2231's
/// `name*=utf-8''...`, and older curl escaped `"` and `\` with a backslash. Servers read
/// them as browsers write them, with two known differences:
/// - a `%` is not escaped, so a name with `%22` in it reads the same as one with `"`;
/// - a backslash goes as it is, as from a browser, but a parser that follows the MIME
///   rules of quoted strings instead of the browsers' (Python's `email` package) reads it
///   as escaping the character after it and drops it; and a name that ends in a
///   backslash reads, to most parsers, as going on past its closing quote.
///
/// A text value's bytes are sent as they are: line ends are not made CRLF, as browsers
/// make them and requests does not.
pub struct Form {
    boundary: String,
    parts: Vec<(String, Part)>,
}

impl Form {
    /// An empty form, with a new boundary.
    ///
    /// ```
    /// let form = asynchttp::Form::new();
    /// assert_eq!(form.boundary().len(), 32);
    /// ```
    pub fn new() -> Form {
        Form {
            boundary: head::boundary(),
            parts: Vec::new(),
        }
    }

    /// Adds a text field: requests' `data={"name": "value"}` with `files=`, curl's
    /// `-F name=value`.
    ///
    /// ```
    /// let form = asynchttp::Form::new().text("title", "Holidays").text("tag", "sea");
    /// # drop(form);
    /// ```
    pub fn text(self, name: impl Into<String>, value: impl Into<String>) -> Form {
        self.part(name, Part::text(value))
    }

    /// Adds the file at `path`, with its file name and a content type guessed from its
    /// extension: curl's `-F name=@path`. See [`Part::file`] for when it is read and what
    /// makes it fail.
    ///
    /// ```
    /// let form = asynchttp::Form::new().file("report", "out/report.pdf");
    /// # drop(form);
    /// ```
    pub fn file(self, name: impl Into<String>, path: impl AsRef<Path>) -> Form {
        self.part(name, Part::file(path))
    }

    /// Adds a part made with [`Part`]: bytes, a reader, a file under another name or type.
    ///
    /// ```
    /// use asynchttp::{Form, Part};
    ///
    /// let form = Form::new().part("data", Part::bytes(vec![1, 2, 3]).file_name("data.bin"));
    /// # drop(form);
    /// ```
    pub fn part(mut self, name: impl Into<String>, part: Part) -> Form {
        let name = name.into();
        let clash = head::mentions(&name, &part, &self.boundary);
        self.parts.push((name, part));
        if clash {
            self.boundary = self.fresh_boundary();
        }
        self
    }

    /// A boundary that occurs in none of the parts.
    fn fresh_boundary(&self) -> String {
        loop {
            let boundary = head::boundary();
            let clear = self
                .parts
                .iter()
                .all(|(name, part)| !head::mentions(name, part, &boundary));
            if clear {
                return boundary;
            }
        }
    }

    /// The boundary between its parts.
    ///
    /// ```
    /// let form = asynchttp::Form::new();
    /// assert!(form.boundary().bytes().all(|b| b.is_ascii_hexdigit()));
    /// ```
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// Its `Content-Type`, with the boundary: what [`Request::multipart`] sends, and what
    /// to send with [`Form::into_body`] elsewhere (toolbelt's `encoder.content_type`).
    ///
    /// [`Request::multipart`]: crate::Request::multipart
    ///
    /// ```
    /// let form = asynchttp::Form::new();
    /// assert_eq!(
    ///     form.content_type(),
    ///     format!("multipart/form-data; boundary={}", form.boundary())
    /// );
    /// ```
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The form as the body it is sent as: its delimiters and headers in memory, and each
    /// part's own body between them, so that files and readers are read as it is sent.
    /// Its [`len`](Body::len) is known when every part's is.
    ///
    /// ```
    /// use asynchttp::{Body, Form};
    ///
    /// let form = Form::new().text("a", "1");
    /// let boundary = form.boundary().to_owned();
    /// let body = form.into_body();
    /// let expected = format!(
    ///     "--{boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--{boundary}--\r\n"
    /// );
    /// assert_eq!(body.len(), Some(expected.len() as u64));
    /// ```
    pub fn into_body(self) -> Body {
        let mut segments = Vec::new();
        // The bytes in memory since the last part that is not: delimiters, headers, and
        // parts in memory, one segment of the chain.
        let mut pending = Vec::new();
        for (name, part) in self.parts {
            pending.extend_from_slice(b"--");
            pending.extend_from_slice(self.boundary.as_bytes());
            pending.extend_from_slice(b"\r\n");
            pending.extend_from_slice(&head::head(&name, &part));
            match part.body.kind {
                Kind::Bytes(bytes) => pending.extend_from_slice(&bytes),
                _ => {
                    segments.push(Body::from(std::mem::take(&mut pending)));
                    segments.push(part.body);
                }
            }
            pending.extend_from_slice(b"\r\n");
        }
        pending.extend_from_slice(b"--");
        pending.extend_from_slice(self.boundary.as_bytes());
        pending.extend_from_slice(b"--\r\n");
        if segments.is_empty() {
            return Body::from(pending);
        }
        segments.push(Body::from(pending));
        Body::chain(segments)
    }

    /// A form with this boundary, to test what happens when a part holds it.
    #[cfg(test)]
    fn with_boundary(boundary: &str) -> Form {
        Form {
            boundary: boundary.to_owned(),
            parts: Vec::new(),
        }
    }
}

impl Default for Form {
    fn default() -> Self {
        Form::new()
    }
}

/// [`Form::into_body`].
impl From<Form> for Body {
    fn from(form: Form) -> Body {
        form.into_body()
    }
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names and how each part is held; never a part's bytes.
        f.debug_struct("Form")
            .field("boundary", &self.boundary)
            .field("parts", &self.parts)
            .finish()
    }
}

#[cfg(test)]
mod tests;
