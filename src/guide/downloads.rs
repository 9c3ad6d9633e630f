//! Big bodies: a download streams its body into a file or any writer instead of memory,
//! beside requests' `stream=True`. Bodies going the other way, files and readers sent as
//! they are read, are in [uploads](super::uploads).
//!
//! Everything else is held in memory, within [`max_body_size`](crate::HttpBuilder::max_body_size)
//! (100 MiB by default). [`Http::download`] and [`Http::send_to`] stream a body on a worker
//! into a [`Destination`] instead, decoded as usual, in a few buffers whatever its size, with
//! resuming of a partial file. A [`Download`] is waited on or awaited as a pair is, and so is
//! its progress.
//!
//! ```python
//! with requests.get(url, stream=True) as r:        # requests
//!     with open("big.iso.part", "wb") as f:
//!         for chunk in r.iter_content(1 << 16):
//!             f.write(chunk)
//! os.rename("big.iso.part", "big.iso")
//! ```
//!
//! ```no_run
//! use std::time::Duration;
//! use asynchttp::{Destination, Http, Request};
//!
//! let http = Http::new();
//! let to = Destination::file("big.iso").resume(true).limit(8 << 30);
//! let download = http.send_to(Request::get("http://127.0.0.1:8080/big.iso"), to);
//! let mut seen = download.progress();
//! while !seen.done {
//!     // Returns once more has arrived and 100 ms have passed, or at the end: no polling.
//!     seen = download.wait_progress_every(seen.bytes, Duration::from_millis(100));
//!     eprintln!("{} of {:?} bytes", seen.bytes, seen.total);
//! }
//! let done = download.into_result()?; // the response, the bytes written, the file
//! println!("{} {} bytes in {:?}", done.response.status, done.bytes, done.path);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! The same in async code, holding no thread:
//!
//! ```no_run
//! use std::time::Duration;
//! use asynchttp::{Downloaded, Error, Http};
//!
//! async fn fetch(http: &Http) -> Result<Downloaded, Error> {
//!     let download = http.download("http://127.0.0.1:8080/big.iso", "big.iso");
//!     let mut seen = download.progress();
//!     while !seen.done {
//!         seen = download.progress_changed(seen.bytes).every(Duration::from_millis(100)).await;
//!         eprintln!("{} of {:?} bytes", seen.bytes, seen.total);
//!     }
//!     download.await // as `into_result`; `(&download).await` borrows it, as `wait`
//! }
//! ```
//!
//! - **Progress** comes a chunk at a time, 16 to 256 KiB: a loop that prints at every change
//!   ([`Download::wait_progress`], [`Download::progress_changed`] alone) prints thousands of
//!   lines for a big file. [`Download::wait_progress_every`] and `.every(interval)` give at
//!   most one update per interval, and the last at once when the download ends. Awaited, an
//!   update due while nothing arrives comes with the next chunk or the end: the crate holds no
//!   timer in your executor.
//! - `http.download(url, path)` is the short form; [`Destination::writer`] takes any
//!   `Write + Send`.
//! - **Time:** a download runs as long as bytes keep coming. Unless a timeout of either kind
//!   is set for it, it has no total timeout and a 30 s idle one, as
//!   [`HttpBuilder::idle_timeout`] describes.
//! - **The file** is written as `NAME.part` and renamed once whole. A failed download removes
//!   it, or with `resume(true)` keeps it beside the `ETag` or `Last-Modified` it came under;
//!   the next download of the same file asks for the rest only (`Range` with `If-Range`),
//!   appends a 206, and starts over on a 200 (the file changed on the server).
//! - **Only a 2xx body** goes to the destination; another status leaves it untouched and its
//!   body is in `Downloaded::content`. `max_body_size` does not bound a download;
//!   [`Destination::limit`] does, failing with `Error::BodyTooLarge`. A destination that
//!   refuses the bytes fails with `Error::Write`.
//! - **Threads:** the body is written by a thread of its own (`asynchttp-writer`) while the
//!   worker goes on receiving. A download goes around the cache, and is never retried.
//!   `fetch -o DIR` streams this way.
//!
//! [`Destination`]: crate::Destination
//! [`Destination::limit`]: crate::Destination::limit
//! [`Destination::writer`]: crate::Destination::writer
//! [`Download`]: crate::Download
//! [`Download::progress_changed`]: crate::Download::progress_changed
//! [`Download::wait_progress`]: crate::Download::wait_progress
//! [`Download::wait_progress_every`]: crate::Download::wait_progress_every
//! [`Http::download`]: crate::Http::download
//! [`Http::send_to`]: crate::Http::send_to
//! [`HttpBuilder::idle_timeout`]: crate::HttpBuilder::idle_timeout
