//! Where the time went: each response's [`Timings`], and a batch's times by host.
//!
//! Each [`Response`] tells where its request's time went: in the queue, to the head of its
//! answer and in total, counted from the request's start across its redirects; with
//! [`HttpBuilder::timings`], the last exchange's name lookup, connection and TLS handshake too.
//! [`Batch::hosts`] sums a batch up by host, slowest first:
//!
//! ```no_run
//! use asynchttp::{Http, LazyResponse};
//!
//! let http = Http::builder().timings(true).build()?;
//! let (response, _) = http.request("https://127.0.0.1:8443/report");
//! let t = LazyResponse::wait(&response)?.timings;
//! println!("queued {:?}, first byte {:?}, total {:?}", t.queued(), t.first_byte(), t.total());
//! if let Some(tls) = t.tls() {
//!     println!("the TLS handshake took {tls:?}"); // on a new connection only
//! }
//!
//! let batch = http.batch(["http://127.0.0.1:8080/a", "http://127.0.0.1:8081/b"]);
//! batch.join_all();
//! for host in batch.hosts().iter().take(5) {
//!     println!("{}: {} requests, {} failed, p99 {:?}", host.host, host.requests, host.failures, host.p99);
//! }
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! The same figures end each request's `finished` line in the log ([logging](super::logging)).
//!
//! [`Batch::hosts`]: crate::Batch::hosts
//! [`HttpBuilder::timings`]: crate::HttpBuilder::timings
//! [`Response`]: crate::Response
//! [`Timings`]: crate::Timings
