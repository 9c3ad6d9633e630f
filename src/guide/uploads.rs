//! Big bodies going out: a file or a reader sent as it is read, never whole in memory,
//! sent again when a redirect, a 401 or a retry needs it, with its progress; beside
//! requests' `data=open(f, 'rb')`, requests-toolbelt's `MultipartEncoderMonitor` and
//! `curl -T`.
//!
//! A body in memory (`&str`, `String`, `&[u8]`, `Vec<u8>`) is sent as it always was. A
//! [`Body`] read as it is sent is sent from a worker thread: a pump there reads it in
//! chunks of 64 KiB into a pipe of four, which libcurl takes from, so memory stays flat
//! whatever its size (a 1 GiB file went with a peak RSS of a few MiB; see the README's
//! benchmarks).
//!
//! # A file
//!
//! ```python
//! with open("video.mp4", "rb") as f:                       # requests
//!     r = requests.put(url, data=f)
//! ```
//!
//! ```no_run
//! use asynchttp::{Body, Http};
//!
//! let http = Http::new();
//! let (response, _) = http.put("http://127.0.0.1:8080/videos/1", Body::file("video.mp4"));
//! println!("{}", response.status);
//! ```
//!
//! The file is opened when the request is sent, on the worker, and its length then is the
//! `Content-Length`. A file that cannot be opened, or that cannot be read, or that shrinks
//! or grows while it is sent, fails the request with [`Error::Body`], naming the file and
//! keeping the file system's error as its source. `fetch -T FILE URL` does this (see
//! [`batches`](super::batches) for the `fetch` command): a PUT as `curl -T` makes it, the
//! file's name added to a URL that ends in `/`, with a progress bar of its bytes.
//!
//! # A reader
//!
//! ```no_run
//! use std::io::Read;
//! use asynchttp::{Body, Http, Request};
//!
//! let http = Http::new();
//! // Of unknown length: sent chunked over HTTP/1.1.
//! let logs = std::process::Command::new("journalctl").stdout(std::process::Stdio::piped())
//!     .spawn()?.stdout.take().unwrap();
//! let (response, _) = http.post("http://127.0.0.1:8080/logs", Body::reader(logs));
//! // Of a known length: sent with Content-Length; it must give exactly that many bytes.
//! let socket = std::net::TcpStream::connect("127.0.0.1:9000")?;
//! let part = Body::sized_reader(socket.take(1 << 20), 1 << 20);
//! let (other, _) = http.send(Request::new("PUT", "http://127.0.0.1:8080/part").body(part));
//! # drop((response, other));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A reader is read on the worker only, never on a driver or on libcurl's agent thread,
//! where a read that blocks would hold up every other request of the client. Its error
//! fails the request with [`Error::Body`] ("the reader failed after 204800 bytes", its
//! error as the source). A sized reader that gives fewer bytes than announced fails the
//! same way, and so does one that has more: after the last byte announced it is read once
//! more, and must be at its end, before that byte goes (so a reader over a socket or a pipe
//! that stays open is wrapped in `Read::take`). Either way the server never gets a body
//! that looks whole and is not the one announced.
//!
//! # What can be sent again
//!
//! A body is needed again after a 307 or 308 (redirects that keep the body; 303, and 301
//! or 302 after a POST, drop it and need nothing), to answer a 401 with credentials, and on
//! a retry ([`Retry`](crate::Retry)).
//!
//! | body | sent again? |
//! |---|---|
//! | bytes in memory | yes |
//! | [`Body::file`] | yes: opened again and read from its start |
//! | [`Body::remake`] | yes: its function makes a new reader |
//! | [`Body::reader`], [`Body::sized_reader`] | only if nothing of it was read yet |
//!
//! A reader that was read (even in part) and is needed again fails the request with
//! [`Error::Body`], saying which step needed it:
//!
//! ```text
//! request body: the body was a reader, already sent once; a 307 redirect needs it again (Body::remake makes it again)
//! ```
//!
//! [`Body::remake`] is the way out, as requests rewinds a file and reqwest takes a body
//! factory:
//!
//! ```no_run
//! use asynchttp::{Body, Http};
//!
//! let http = Http::builder().follow_all_redirects(true).build()?;
//! let body = Body::remake(Some(5), || Ok(std::io::Cursor::new(b"hello".to_vec())));
//! let (response, _) = http.put("http://127.0.0.1:8080/moved", body); // made once per send
//! # drop(response);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! A body read as it is sent goes on a connection of its own, never on a kept one: libcurl
//! sends a request again by itself when a kept connection turns out closed, and it cannot
//! rewind such a body for that. Only this crate sends it again, opened from its start.
//!
//! # Progress
//!
//! ```python
//! def callback(monitor):                                   # requests-toolbelt
//!     print(monitor.bytes_read, monitor.len)
//! m = MultipartEncoderMonitor(encoder, callback)
//! requests.post(url, data=m, headers={"Content-Type": m.content_type})
//! ```
//!
//! As the toolbelt's monitor wraps the encoder, [`Body::monitor`] is asked of the body, so
//! it works whichever way the body is sent (`put`, `send`, `send_map`, a batch). The
//! [`Upload`] it gives is read, waited on or awaited as a [`Download`](crate::Download)'s
//! progress is; instead of a callback on the thread that sends, a loop on yours:
//!
//! ```no_run
//! use std::time::Duration;
//! use asynchttp::{Body, Http};
//!
//! let http = Http::new();
//! let mut body = Body::file("video.mp4");
//! let upload = body.monitor();
//! let (response, _) = http.put("http://127.0.0.1:8080/videos/1", body);
//! let mut seen = upload.progress();
//! while !seen.done {
//!     seen = upload.wait_progress_every(seen.bytes, Duration::from_millis(100));
//!     eprintln!("{} of {:?} bytes", seen.bytes, seen.total);
//! }
//! println!("{}", response.status);
//! ```
//!
//! - `bytes` counts what libcurl took from the body, for the exchange under way; a body
//!   sent again counts from 0 again. `total` is its length once known: a file's when it is
//!   opened, `None` for a reader sent chunked.
//! - `done` is set once the request has ended, before its pair is filled: after
//!   `response.wait()` returns, the progress is done.
//! - In async code, `upload.progress_changed(seen.bytes).every(interval).await`.
//!
//! # Time
//!
//! A request whose body is read as it is sent is bounded by silence, as a download is:
//! unless a timeout of either kind is set for it, it has no total timeout and a 30 s idle
//! one ([`HttpBuilder::idle_timeout`](crate::HttpBuilder::idle_timeout)), and the bytes
//! libcurl takes to send count against silence as received bytes do. A 2 GiB upload runs
//! as long as it moves.
//!
//! # Hooks and the mock
//!
//! A hook's [`Outgoing::body`](crate::Outgoing::body) is empty for a body read as it is
//! sent ([`Outgoing::body_streamed`](crate::Outgoing::body_streamed) tells it from an
//! empty one), and [`Outgoing::body_len`](crate::Outgoing::body_len) is its length when
//! known. A [`MockTransport`](crate::MockTransport) reads it whole, so a test sees every
//! byte in [`MockRequest::body`](crate::MockRequest::body).
//!
//! [`Body`]: crate::Body
//! [`Body::file`]: crate::Body::file
//! [`Body::monitor`]: crate::Body::monitor
//! [`Body::reader`]: crate::Body::reader
//! [`Body::remake`]: crate::Body::remake
//! [`Body::sized_reader`]: crate::Body::sized_reader
//! [`Error::Body`]: crate::Error::Body
//! [`Upload`]: crate::Upload
