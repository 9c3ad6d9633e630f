//! Async code: awaiting pairs, downloads and [`Lazy`] values on any executor (tokio, smol,
//! `block_on`), beside asyncio and aiohttp.
//!
//! The crate runs no runtime of its own and depends on none: the slot that wakes blocked
//! threads wakes awaiting futures too. The same [`Http`] serves blocking code and async code at
//! once, and a poll never blocks its thread: a future never runs a request itself, as a
//! blocking wait on a worker thread does.
//!
//! ```python
//! async def fetch(session, url):          # asyncio with aiohttp
//!     async with session.get(url) as response:
//!         return response.status, await response.read()
//!
//! results = await asyncio.gather(*(fetch(session, url) for url in urls))
//! ```
//!
//! ```no_run
//! use asynchttp::{Error, Http};
//! use futures_util::future::join_all; // or futures::future::join_all
//!
//! async fn fetch(http: &Http, url: &str) -> Result<(u16, Vec<u8>), Error> {
//!     let (response, content) = http.request(url); // sent at once, as ever
//!     let status = response.await?.status;          // a Response by value
//!     Ok((status, content.await?))                  // the body, moved out: the last handle
//! }
//!
//! async fn fetch_all(http: &Http, urls: &[&str]) -> Vec<Result<(u16, Vec<u8>), Error>> {
//!     join_all(urls.iter().map(|url| fetch(http, url))).await
//! }
//! ```
//!
//! | asyncio | Rust |
//! |---|---|
//! | `await response.read()` | `content.await` → `Result<Vec<u8>, Error>`, as `LazyContent::into_result` |
//! | (a response object) | `response.await` → `Result<Response, Error>`; `(&response).await` → `Result<&Response, Error>`, as `LazyResponse::wait` |
//! | `await loop.run_in_executor(pool, parse, body)` | `http.send_map(request, parse).await` (`T: Clone`), or `(&lazy).await` then `Lazy::into_inner(lazy)` |
//! | `await asyncio.gather(*aws)` | `join_all(pairs).await` |
//! | `await asyncio.wait_for(aw, 5)` | `tokio::time::timeout(Duration::from_secs(5), response).await` |
//! | `except aiohttp.ClientConnectorError` | `Err(Error::Connect { .. })` out of `.await`, the same error `wait` gives |
//! | a download to a file | `http.download(url, path).await` → `Result<Downloaded, Error>`, as `Download::into_result`; `download.progress_changed(bytes).await` for its progress ([downloads](super::downloads)) |
//!
//! # By value or by reference
//!
//! Awaiting a pair by value gives its outcome by value, as
//! [`into_result`](super::port#taking-values) does, and as `for x in v` takes the items;
//! awaiting a reference borrows it, as `wait` does and `for x in &v` does (the [`Take`] and
//! [`Wait`] futures). A value is moved out when the awaited handle is the last one on its
//! request, and cloned otherwise: await (or drop) the response half before the body, and a
//! large body is never copied. A future dropped before its request is done (by a timeout or a
//! `select!`) leaves nothing behind, and the request still runs, as a dropped pair's does.
//!
//! # Size the pool for what you await
//!
//! At most 5 requests run at once by default, as in asynchttp, awaited or not: 200 requests
//! of 100 ms awaited together take 4.1 s on `Http::new()`, 0.12-0.14 s with `workers(200)`.
//!
//! ```no_run
//! let http = asynchttp::Http::builder().workers(200).build()?; // 200 in flight, not 5
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! Plain requests run on the two driver threads however large the pool, so this starts no
//! thread for them; it bounds how many are in flight.
//!
//! # What still blocks
//!
//! What blocks in blocking code blocks in async code: dereferencing a pair
//! (`response.status`), `wait`, [`Http::shutdown`], and submitting to a full bounded queue set
//! to [`WhenFull::Block`] (use [`WhenFull::Fail`] there). A blocking read holds up every task of
//! the executor's thread until its request is done; on a thread that has awaited one of the
//! crate's futures, the first one logs a DEBUG line naming where it blocked and `.await`, once
//! per thread:
//!
//! ```text
//! [tokio-runtime-worker] req=2 a wait for the request made at src/main.rs:12:34 blocks at src/main.rs:14:28 on a thread that has awaited this crate's futures (an async executor's), holding up every task it runs until it returns: `.await` it instead (said once per thread)
//! ```
//!
//! Dropping the last `Http` on such a thread does not block: see
//! [shutdown](super::port#shared-workers-and-shutdown).
//!
//! [`Http`]: crate::Http
//! [`Http::shutdown`]: crate::Http::shutdown
//! [`Lazy`]: crate::Lazy
//! [`Take`]: crate::Take
//! [`Wait`]: crate::Wait
//! [`WhenFull::Block`]: crate::WhenFull::Block
//! [`WhenFull::Fail`]: crate::WhenFull::Fail
