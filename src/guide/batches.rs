//! Many requests at once: batches, their progress, cancelling, bounded queues and the `fetch`
//! command, beside requests-toolbelt's threaded pool.
//!
//! [`Http::batch`] sends a list of requests and keeps them together: [`Batch::responses`],
//! [`Batch::exceptions`], [`Batch::retry_exceptions`], [`Batch::as_completed`] (results in the
//! order they finish), [`Batch::progress`] and [`Batch::hosts`] (requests, failures and times by
//! host, slowest first: see [timings](super::timings)). [`Http::map`] is toolbelt's
//! `threaded.map`.
//!
//! ```python
//! from requests_toolbelt import threaded
//! responses, exceptions = threaded.map([{"method": "GET", "url": u} for u in urls])
//! ```
//!
//! ```no_run
//! let http = asynchttp::Http::new();
//! let urls = ["http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b"];
//! let batch = http.batch(urls);
//! for (request, response, body) in batch.responses() {
//!     println!("{} -> {} ({} bytes)", request.uri(), response.status, body.len());
//! }
//! for (request, error) in batch.exceptions() {
//!     println!("{} failed: {error}", request.uri());
//! }
//! let retried = batch.retry_exceptions(); // Pool.from_exceptions
//! for (request, response, _content) in retried.as_completed() {
//!     // in the order they finish, each one ready
//!     println!("{} {:?}", request.uri(), asynchttp::LazyResponse::wait(response).map(|r| r.status));
//! }
//! ```
//!
//! # Progress and cancelling
//!
//! Progress (done, failed, total, bytes, retries) is counted as each request finishes, so a
//! thread that draws a bar reads a few numbers instead of polling 100,000 pairs. A request
//! still queued can be cancelled ([`Batch::cancel`], [`LazyResponse::cancel`]); one that a
//! worker started runs to its end.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! let http = asynchttp::Http::builder().workers(16).build()?;
//! let batch = http.batch((0..1000).map(|i| format!("http://127.0.0.1:8080/item/{i}")));
//! let mut p = batch.progress();
//! while !p.is_complete() {
//!     p = batch.wait_progress(&p, Duration::from_millis(200)); // wakes as requests finish
//!     eprint!("\r{}/{} done, {} failed, {} bytes", p.done, p.total, p.failed, p.bytes);
//! }
//! let (responses, exceptions) = batch.into_results(); // or http.map(urls), threaded.map's shape
//! # let _ = (responses, exceptions);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # Bounded queues
//!
//! The queue in front of the workers is unbounded by default. Bound it when a producer can outrun
//! the network; a request that finds it full waits for room up to a timeout, or fails at once, with
//! [`Error::QueueFull`] (nothing is sent, and `retry_exceptions` can send it later):
//!
//! ```no_run
//! use std::time::Duration;
//! use asynchttp::{Http, WhenFull, WorkerPool};
//!
//! let http = Http::builder()
//!     .workers(8)
//!     .queue_limit(1_000, WhenFull::Block(Duration::from_secs(30)))
//!     .build()?;
//! // or, for several clients: WorkerPool::bounded(8, 1_000, WhenFull::Fail)
//! # drop(http);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! A worker never waits on its own full queue (a callback that submits more requests would be
//! waiting on itself); for it, a full queue fails the request at once.
//!
//! # The fetch command
//!
//! `examples/fetch.rs` is a small command-line fetcher built on a batch: URLs from arguments, a
//! file (`-i`) or stdin, `-w` workers, bodies written into a directory with `-o`. On a terminal it
//! draws a progress bar (indicatif); piped, it prints a line per request. It ends with a summary:
//!
//! ```text
//! $ cargo run -q --example fetch -- -w 4 -r 2 --per-host 4 -i urls.txt   # 200 URLs to python3 -m http.server, and one closed port
//! 200 http://127.0.0.1:8000/?i=1 195 B 6.1 ms
//! 200 http://127.0.0.1:8000/?i=4 195 B 9.4 ms
//! ...
//! ERR http://127.0.0.1:1/: could not connect to 127.0.0.1:1: failed to connect to the server: [7] Could not connect to server
//! ...
//! 200 http://127.0.0.1:8000/?i=200 199 B 11.1 ms
//!
//! fetched 201 URLs in 0.37 s: 536.6 requests/s, 38.66 KiB
//! statuses: 200 x 200
//! latency: p50 6.5 ms, p99 19.3 ms
//! retries: 2
//! slowest hosts:
//!   127.0.0.1:8000: requests 200, failed 0, p50 6.5 ms, p99 19.3 ms
//!   127.0.0.1:1: requests 1, failed 1, p50 -, p99 -
//! failed: 1
//!   http://127.0.0.1:1/: could not connect to 127.0.0.1:1: failed to connect to the server: [7] Could not connect to server
//! ```
//!
//! Latency is each request's own time, from its start to its end, not its time in the queue.
//! `-r` sends a request again after a failure or a 429/502/503/504 (here the closed port, twice,
//! before it is given up); `--per-host` and `--rate` limit each host (see
//! [retries](super::retries)). `-t` bounds each request's whole time (30 s by default, none with
//! `-o`) and `--idle-timeout` its silence (none by default, 30 s with `-o`), as downloads are
//! bounded. The slowest hosts (`Batch::hosts`, five at most, by p99) are listed when the bodies
//! are kept in memory, not with `-o`. curl's `--resolve`, `--connect-to`, `--unix-socket`,
//! `--limit-rate`, `-4` and `-6` say where and how fast to connect (see
//! [connect](super::connect)). The exit status is 0 when every request got a response of any
//! status, 1 when some failed, 2 for bad arguments.
//!
//! [`Batch::as_completed`]: crate::Batch::as_completed
//! [`Batch::cancel`]: crate::Batch::cancel
//! [`Batch::exceptions`]: crate::Batch::exceptions
//! [`Batch::hosts`]: crate::Batch::hosts
//! [`Batch::progress`]: crate::Batch::progress
//! [`Batch::responses`]: crate::Batch::responses
//! [`Batch::retry_exceptions`]: crate::Batch::retry_exceptions
//! [`Error::QueueFull`]: crate::Error::QueueFull
//! [`Http::batch`]: crate::Http::batch
//! [`Http::map`]: crate::Http::map
//! [`LazyResponse::cancel`]: crate::LazyResponse::cancel
