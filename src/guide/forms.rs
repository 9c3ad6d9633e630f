//! Forms, query strings and JSON: what requests sends for `files=`, `data=`, `params=` and
//! `json=`, requests-toolbelt's `MultipartEncoder`, and curl's `-F`.
//!
//! ```python
//! requests.post(url, data={"title": "Holidays"},         # a multipart form,
//!               files={"photo": open("beach.jpg", "rb")})  # since files= is given
//! requests.post(url, data={"user": "alice", "tag": ["a", "b"]})  # urlencoded
//! requests.get(url, params={"q": "rust http", "page": 2})
//! requests.post(url, json={"item": "tea", "count": 2})
//! ```
//!
//! ```no_run
//! use asynchttp::{Form, Http, Request};
//!
//! let http = Http::new();
//! let url = "http://127.0.0.1:8080/upload";
//! let form = Form::new().text("title", "Holidays").file("photo", "beach.jpg");
//! let (a, _) = http.send(Request::new("POST", url).multipart(form));
//! let (b, _) = http.send(Request::new("POST", url).form([("user", "alice"), ("tag", "a"), ("tag", "b")]));
//! let (c, _) = http.send(Request::get(url).query([("q", "rust http"), ("page", "2")]));
//! # #[cfg(feature = "json")]
//! let (d, _) = http.send(Request::new("POST", url).json(&serde_json::json!({"item": "tea", "count": 2})));
//! println!("{} {} {}", a.status, b.status, c.status);
//! ```
//!
//! | Python | asynchttp |
//! |---|---|
//! | requests `files={"f": open(path, "rb")}` | `.multipart(Form::new().file("f", path))` |
//! | requests `files={"f": ("name.csv", data, "text/csv")}` | `.multipart(Form::new().part("f", Part::bytes(data).file_name("name.csv").mime("text/csv")))` |
//! | requests `data={"k": "v"}` beside `files=` | `Form::new().text("k", "v")` |
//! | requests `data={"k": "v"}` alone | `.form([("k", "v")])` |
//! | requests `data={"k": ["a", "b"]}` | `.form([("k", "a"), ("k", "b")])` |
//! | requests `params={"q": "x"}` | `.query([("q", "x")])` |
//! | requests `json=value` | `.json(&value)` (the `json` feature) |
//! | toolbelt `MultipartEncoder(fields={...})` | [`Form`]: files stream as it is sent, never read into memory |
//! | toolbelt `encoder.content_type`, `encoder.len` | [`Form::content_type`], `form.into_body().len()` |
//! | curl `-F name=value` | `Form::new().text("name", "value")` |
//! | curl `-F name=@path` | `Form::new().file("name", path)` |
//! | curl `-F "name=@path;type=text/csv;filename=x.csv"` | `.part("name", Part::file(path).mime("text/csv").file_name("x.csv"))` |
//! | curl `-F name=@-` (standard input) | `.part("name", Part::reader(std::io::stdin()))` |
//!
//! [`Form`]: crate::Form
//! [`Form::content_type`]: crate::Form::content_type
//!
//! # Multipart forms
//!
//! A [`Form`](crate::Form) holds its parts in the order added; [`Request::multipart`] sends
//! it with its `Content-Type` and boundary. A file is read as the form is sent, a reader
//! too: memory holds the parts' headers and the bytes you gave, not the files.
//!
//! ```
//! use asynchttp::{Form, Part};
//!
//! let form = Form::new()
//!     .text("title", "Holidays")
//!     .part("notes", Part::text("sunny\n").file_name("notes.txt").mime("text/plain"));
//! let content_type = form.content_type(); // "multipart/form-data; boundary=..."
//! let body = form.into_body();
//! assert!(content_type.starts_with("multipart/form-data; boundary="));
//! assert_eq!(body.len(), Some(272), "every part's length is known: a Content-Length");
//! ```
//!
//! - **The length.** A form of text, bytes, files and sized readers goes with a
//!   `Content-Length`, as browsers, requests and curl send one; a file's size is read when it
//!   is added, and a file whose size changed by the time it is sent fails the request,
//!   naming it. A [`Part::reader`] of unknown length makes the form go chunked; a server
//!   that wants a length answers 411 to that, and [`Part::sized_reader`] gives it one.
//! - **Content types.** [`Form::file`] and [`Part::file`] guess a file's from its extension
//!   (`application/octet-stream` when there is none to go by), as browsers and curl do;
//!   requests sends none for a file unless told. Text and bytes go without one.
//! - **Errors.** Building a form never fails. A file that cannot be read, or a content type
//!   that cannot go in a header, fails the request when it is sent, with an error that
//!   names the file or the type; nothing is sent.
//! - **Names** are written as browsers write them: see [`Form`](crate::Form) for the
//!   escaping, and the two cases where servers that read MIME's rules (Python's `email`
//!   package) read a name otherwise.
//!
//! [`Part::reader`]: crate::Part::reader
//! [`Part::sized_reader`]: crate::Part::sized_reader
//! [`Part::file`]: crate::Part::file
//! [`Form::file`]: crate::Form::file
//!
//! # Sending a form again
//!
//! A POST is not idempotent: one whose connection breaks while the form is going out fails
//! with [`Error::BodyIncomplete`](crate::Error::BodyIncomplete) and is not sent again, even
//! under a [`Retry`](crate::Retry), since the server may have acted on the part it read.
//! [`Retry::any_method`](crate::Retry::any_method) opts a request in for a server that
//! de-duplicates; the form then goes again whole, from its first byte, files read again from
//! their start. A form with a [`Part::reader`] cannot be read twice, and fails instead of
//! sending half of it; [`Part::body`](crate::Part::body) with
//! [`Body::remake`](crate::Body::remake) gives a reader that can be made again.
//!
//! ```
//! use std::time::Duration;
//! use asynchttp::{Form, Request, Retry};
//!
//! let req = Request::new("POST", "http://127.0.0.1:8080/orders")
//!     .header("Idempotency-Key", "order-8731") // the server acts on it once
//!     .multipart(Form::new().text("item", "tea"))
//!     .retry(Retry::new(2).any_method(true).backoff(Duration::from_millis(200), Duration::from_secs(2)));
//! # drop(req);
//! ```
//!
//! # Form fields and query strings
//!
//! [`Request::form`] and [`Request::query`] take pairs: an array of tuples, a `Vec`, or a
//! map's `iter()`. They keep the order and repeated keys, and encode as Python's
//! `urlencode` does, so the bytes on the wire are requests': a space is `+`, letters,
//! digits and `_.-~` stay, anything else is `%XX` of its UTF-8 (`*` too, where the WHATWG
//! URL standard keeps it). A query goes after the one the URL has, before its fragment.
//!
//! ```
//! use asynchttp::Request;
//!
//! let req = Request::get("http://127.0.0.1:8080/search?lang=en#top")
//!     .query([("q", "naïve café"), ("page", "2")]);
//! assert_eq!(req.uri(), "http://127.0.0.1:8080/search?lang=en&q=na%C3%AFve+caf%C3%A9&page=2#top");
//! ```
//!
//! `Request::form` sets `Content-Type: application/x-www-form-urlencoded` unless the request
//! has one.
//!
//! # JSON
//!
//! With the `json` feature, `Request::json` serialises any `serde::Serialize` and sets
//! `Content-Type: application/json` unless the request has a type of its own (an
//! `application/vnd.api+json`, say). A value that does not serialise (a map whose keys are
//! not strings, a `Serialize` of yours that fails) fails the request with
//! [`Error::InvalidRequest`](crate::Error::InvalidRequest), serde's reason in it, and
//! nothing is sent. Decoding the answer is `LazyContent::json` or `Http::send_json`
//! ([port](super::port#callbacks)).
//!
//! [`Request::multipart`]: crate::Request::multipart
//! [`Request::form`]: crate::Request::form
//! [`Request::query`]: crate::Request::query
