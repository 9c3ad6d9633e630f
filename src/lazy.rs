//! The handles a request gives back: [`LazyResponse`] and [`LazyContent`] (the pair),
//! [`Lazy`] (a value made on the worker), and [`LazyExt`], their operations as methods.
//!
//! Each reads its request's outcome from a [`Slot`] of [`promise`](crate::promise) and adds
//! what a caller sees: `Deref` that blocks and panics on a failed request, `Display`,
//! `Debug` that never blocks, and taking the outcome by value.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::exchange::Exchange;
use crate::promise::{Reader, Slot, debug_slot};
use crate::{Error, Response};

mod ext;

pub use self::ext::LazyExt;

macro_rules! lazy_accessors {
    ($target:ty, $project:expr, $name:literal, $setup:literal) => {
        /// Blocks until the request is done; the fallible way to get the value.
        ///
        /// A failed request gives its [`Error`] here on every call, never a retry.
        ///
        /// # Errors
        ///
        /// The request's [`Error`]: it could not be sent, the transport failed, or a
        /// callback failed.
        ///
        /// # Examples
        ///
        /// ```
        /// use asynchttp::{Error, Http, Lazy, LazyContent, LazyResponse, Request};
        ///
        /// let http = Http::new();
        #[doc = $setup]
        #[doc = concat!("match ", $name, "::wait(&x) {")]
        ///     Ok(_) => unreachable!("nothing listens there"),
        ///     Err(e) => assert!(matches!(e, Error::InvalidRequest { .. })),
        /// }
        /// ```
        #[track_caller]
        pub fn wait(this: &Self) -> Result<&$target, Error> {
            this.slot.wait_logged().map($project)
        }

        /// The request's id, as log lines show it (`req=<id>`): find a request in the log.
        /// Ids are unique in a process and grow in the order requests were made.
        ///
        /// # Examples
        ///
        /// ```
        /// use asynchttp::{Error, Http, Lazy, LazyContent, LazyResponse, Request};
        ///
        /// let http = Http::new();
        #[doc = $setup]
        #[doc = concat!("assert!(", $name, "::id(&x) > 0);")]
        /// ```
        pub fn id(this: &Self) -> u64 {
            this.slot.requested().id
        }

        /// True once the request is done (ok or failed). Never blocks.
        ///
        /// # Examples
        ///
        /// ```
        /// use asynchttp::{Error, Http, Lazy, LazyContent, LazyResponse, Request};
        ///
        /// let http = Http::new();
        #[doc = $setup]
        /// // Refused before it was queued, so it is ready at once.
        #[doc = concat!("assert!(", $name, "::is_ready(&x));")]
        /// ```
        pub fn is_ready(this: &Self) -> bool {
            this.slot.is_filled()
        }

        /// Like [`wait`](Self::wait), but gives up after `timeout` and returns `None`.
        /// `Duration::ZERO` polls. It returns within its timeout on every thread: on a
        /// worker (in a callback) it never runs the awaited request itself, as an untimed
        /// `wait` there does.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// use asynchttp::{Error, Http, Lazy, LazyContent, LazyResponse, Request};
        ///
        /// let http = Http::new();
        #[doc = $setup]
        #[doc = concat!("match ", $name, "::wait_timeout(&x, Duration::from_secs(5)) {")]
        ///     None => println!("still running"),
        ///     Some(Ok(_)) => println!("done"),
        ///     Some(Err(e)) => println!("failed: {e}"),
        /// }
        /// ```
        #[track_caller]
        pub fn wait_timeout(this: &Self, timeout: Duration) -> Option<Result<&$target, Error>> {
            let deadline = Instant::now().checked_add(timeout);
            this.slot.wait_until(deadline).map(|r| r.map($project))
        }
    };
}

/// The response half of a request's pair. Derefs to [`Response`], blocking until the
/// request is done.
///
/// # Panics
///
/// Dereferencing (`response.status`) or formatting with `Display` panics if the request
/// failed, with a message naming the method, the URL, the error and where the request was
/// made; the panic points at the access (`#[track_caller]`). Every later access panics the
/// same way. Use [`LazyResponse::wait`] to handle the error instead.
///
/// # Examples
///
/// ```no_run
/// let http = asynchttp::Http::new();
/// let (response, _content) = http.request("http://127.0.0.1:8080/");
/// if response.status == 200 {
///     println!("{}", response.get("content-type").unwrap_or("?"));
/// }
/// ```
#[derive(Clone)]
pub struct LazyResponse {
    pub(crate) slot: Reader<Exchange>,
}

impl LazyResponse {
    lazy_accessors!(
        Response,
        |e: &Exchange| &e.response,
        "LazyResponse",
        "let (x, _) = http.request(\"ftp://127.0.0.1/\");"
    );

    /// Blocks until the request is done and gives the response by value: moved out if this
    /// is the last handle on the request (the body half and every clone are gone), cloned
    /// otherwise. `response.await` does the same without blocking.
    ///
    /// # Errors
    ///
    /// The request's [`Error`], as [`wait`](Self::wait) gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// use asynchttp::{Error, Http, LazyResponse};
    ///
    /// let http = Http::new();
    /// let (response, _content) = http.request("ftp://127.0.0.1/"); // refused at once
    /// let error = LazyResponse::into_result(response).unwrap_err();
    /// assert!(matches!(error, Error::InvalidRequest { .. }));
    /// ```
    #[track_caller]
    pub fn into_result(this: Self) -> Result<Response, Error> {
        this.slot
            .into_outcome(|e| e.response, |e| e.response.clone())
    }

    /// The response by value if this is the last handle on the request, blocking until it
    /// is done; `None` at once otherwise (the body half or a clone is still alive), as
    /// [`Arc::into_inner`]: of handles given up at once, exactly one gets the outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// use asynchttp::{Error, Http, LazyResponse};
    ///
    /// let http = Http::new();
    /// let (response, content) = http.request("ftp://127.0.0.1/");
    /// assert!(LazyResponse::into_inner(response.clone()).is_none()); // two more alive
    /// drop(content);
    /// let last = LazyResponse::into_inner(response).expect("the last handle");
    /// assert!(matches!(last, Err(Error::InvalidRequest { .. })));
    /// ```
    #[track_caller]
    pub fn into_inner(this: Self) -> Option<Result<Response, Error>> {
        this.slot.into_last(|e| e.response)
    }
}

/// The body half of a request's pair. Derefs to `[u8]`; `Display` gives the body as text
/// (invalid UTF-8 replaced).
///
/// # Panics
///
/// As [`LazyResponse`]: access to a failed request's body panics, every time.
///
/// # Examples
///
/// ```no_run
/// let http = asynchttp::Http::new();
/// let (_response, content) = http.request("http://127.0.0.1:8080/");
/// let bytes: &[u8] = &content;
/// println!("{} bytes: {content}", bytes.len());
/// ```
#[derive(Clone)]
pub struct LazyContent {
    pub(crate) slot: Reader<Exchange>,
}

impl LazyContent {
    lazy_accessors!(
        [u8],
        |e: &Exchange| e.content.as_slice(),
        "LazyContent",
        "let (_, x) = http.request(\"ftp://127.0.0.1/\");"
    );

    /// Blocks until the request is done and gives the body by value: moved out, without a
    /// copy, if this is the last handle on the request (the response half and every clone
    /// are gone), copied otherwise. `content.await` does the same without blocking.
    ///
    /// # Errors
    ///
    /// The request's [`Error`], as [`wait`](Self::wait) gives it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use asynchttp::{Http, LazyContent, LazyResponse};
    ///
    /// let http = Http::new();
    /// let (response, content) = http.request("http://127.0.0.1:8080/report.csv");
    /// let status = LazyResponse::into_result(response)?.status; // the response's last handle
    /// let body: Vec<u8> = LazyContent::into_result(content)?; // moved: nothing else holds it
    /// println!("{status}: {} bytes", body.len());
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    #[track_caller]
    pub fn into_result(this: Self) -> Result<Vec<u8>, Error> {
        this.slot.into_outcome(|e| e.content, |e| e.content.clone())
    }

    /// The body by value if this is the last handle on the request, blocking until it is
    /// done; `None` at once otherwise, as [`Arc::into_inner`].
    ///
    /// # Examples
    ///
    /// ```
    /// use asynchttp::{Http, LazyContent};
    ///
    /// let http = Http::new();
    /// let (response, content) = http.request("ftp://127.0.0.1/");
    /// drop(response);
    /// assert!(LazyContent::into_inner(content).expect("the last handle").is_err());
    /// ```
    #[track_caller]
    pub fn into_inner(this: Self) -> Option<Result<Vec<u8>, Error>> {
        this.slot.into_last(|e| e.content)
    }

    /// Blocks until done and decodes the body as JSON (with the `json` feature).
    ///
    /// # Errors
    ///
    /// The request's own error, or [`Error::Json`] if the body does not decode as `T`.
    ///
    /// ```no_run
    /// # #[cfg(feature = "json")] {
    /// use asynchttp::LazyContent;
    ///
    /// let (_, content) = asynchttp::Http::new().request("http://127.0.0.1:8080/items");
    /// let items: Vec<String> = LazyContent::json(&content)?;
    /// # }
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[track_caller]
    pub fn json<T: serde::de::DeserializeOwned>(this: &Self) -> Result<T, Error> {
        let exchange = this.slot.wait_logged()?;
        serde_json::from_slice(&exchange.content)
            .map_err(|e| Error::json(exchange.response.status, e))
    }
}

/// The outcome of [`Http::send_map`](crate::Http::send_map): the value the function made on
/// the worker. Derefs to `T`, blocking until done.
///
/// # Panics
///
/// As [`LazyResponse`]: access to a failed request's value panics, every time.
///
/// # Examples
///
/// ```no_run
/// use asynchttp::{Http, Request};
///
/// let http = Http::new();
/// let words = http.send_map(Request::get("http://127.0.0.1:8080/"), |_, body| {
///     Ok::<usize, std::str::Utf8Error>(std::str::from_utf8(body)?.split_whitespace().count())
/// });
/// println!("{} words", *words);
/// ```
pub struct Lazy<T> {
    pub(crate) slot: Reader<T>,
}

impl<T> Lazy<T> {
    lazy_accessors!(
        T,
        |t: &T| t,
        "Lazy",
        "let x = http.send_map(Request::get(\"ftp://127.0.0.1/\"), |_, body| Ok::<_, Error>(body.len()));"
    );

    /// Blocks until the request is done and gives the value by value: moved out if this is
    /// the last handle on it, cloned otherwise. For a `T` that is not `Clone`, see
    /// [`into_inner`](Self::into_inner). `lazy.await` does the same without blocking.
    ///
    /// # Errors
    ///
    /// The request's [`Error`], as [`wait`](Self::wait) gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// use asynchttp::{Error, Http, Lazy, Request};
    ///
    /// let http = Http::new();
    /// let lengths: Vec<Lazy<usize>> = ["ftp://127.0.0.1/a", "ftp://127.0.0.1/b"]
    ///     .into_iter()
    ///     .map(|url| http.send_map(Request::get(url), |_, body| Ok::<_, Error>(body.len())))
    ///     .collect();
    /// let taken: Result<Vec<usize>, Error> = lengths.into_iter().map(Lazy::into_result).collect();
    /// assert!(matches!(taken, Err(Error::InvalidRequest { .. })));
    /// ```
    #[track_caller]
    pub fn into_result(this: Self) -> Result<T, Error>
    where
        T: Clone,
    {
        this.slot.into_outcome(|t| t, T::clone)
    }

    /// The value, moved out, if this is the last handle on it, blocking until the request
    /// is done; `None` at once if another handle (a clone) is still alive, as
    /// [`Arc::into_inner`]: of handles given up at once, exactly one gets the outcome.
    /// `T` need not be `Clone`: a value built on the worker is collected without a copy.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use asynchttp::{Error, Http, Lazy, Request};
    ///
    /// struct Page {
    ///     words: Vec<String>,
    /// }
    ///
    /// let http = Http::new();
    /// let pages: Vec<Lazy<Page>> = (1..=3)
    ///     .map(|n| {
    ///         let req = Request::get(format!("http://127.0.0.1:8080/page/{n}"));
    ///         http.send_map(req, |_, body| {
    ///             let text = String::from_utf8_lossy(body);
    ///             let words = text.split_whitespace().map(String::from).collect();
    ///             Ok::<_, Error>(Page { words })
    ///         })
    ///     })
    ///     .collect();
    /// let pages: Vec<Page> = pages
    ///     .into_iter()
    ///     .map(|page| Lazy::into_inner(page).expect("one handle each"))
    ///     .collect::<Result<_, _>>()?;
    /// println!("{} words", pages.iter().map(|p| p.words.len()).sum::<usize>());
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    #[track_caller]
    pub fn into_inner(this: Self) -> Option<Result<T, Error>> {
        this.slot.into_last(|t| t)
    }

    pub(crate) fn new(slot: Arc<Slot<T>>) -> Self {
        Lazy {
            slot: Reader::new(slot),
        }
    }
}

impl<T> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        Lazy {
            slot: self.slot.clone(),
        }
    }
}

pub(crate) fn pair(slot: Arc<Slot<Exchange>>) -> (LazyResponse, LazyContent) {
    let response = LazyResponse {
        slot: Reader::new(slot.clone()),
    };
    (
        response,
        LazyContent {
            slot: Reader::new(slot),
        },
    )
}

impl LazyResponse {
    /// Cancels the request if no worker has started it: it then fails with
    /// [`Error::Cancelled`] and is never sent. A request already running finishes. True
    /// if it was cancelled.
    ///
    /// ```
    /// use asynchttp::{Error, Http, LazyResponse};
    ///
    /// let http = Http::new();
    /// let (response, _) = http.request("ftp://127.0.0.1/"); // refused before it was queued
    /// assert!(!LazyResponse::cancel(&response));
    /// assert!(matches!(LazyResponse::wait(&response), Err(Error::InvalidRequest { .. })));
    /// ```
    pub fn cancel(this: &Self) -> bool {
        this.slot.cancel()
    }

    pub(crate) fn observe(&self, observer: flume::Sender<usize>, index: usize) {
        self.slot.observe(observer, index);
    }

    /// Blocks until done; the stored error itself, if the request failed.
    #[track_caller]
    pub(crate) fn error(&self) -> Option<&Error> {
        let _ = self.slot.wait_until(None);
        self.slot.error()
    }
}

impl Deref for LazyResponse {
    type Target = Response;

    #[track_caller]
    fn deref(&self) -> &Response {
        &self.slot.force().response
    }
}

impl Deref for LazyContent {
    type Target = [u8];

    #[track_caller]
    fn deref(&self) -> &[u8] {
        &self.slot.force().content
    }
}

impl<T> Deref for Lazy<T> {
    type Target = T;

    #[track_caller]
    fn deref(&self) -> &T {
        self.slot.force()
    }
}

impl fmt::Display for LazyResponse {
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl fmt::Display for LazyContent {
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self))
    }
}

impl<T: fmt::Display> fmt::Display for Lazy<T> {
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Never blocks: shows the request and whether it is pending, ready or failed.
impl fmt::Debug for LazyResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_slot("LazyResponse", &self.slot, f)
    }
}

/// Never blocks: shows the request and whether it is pending, ready or failed.
impl fmt::Debug for LazyContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_slot("LazyContent", &self.slot, f)
    }
}

/// Never blocks: shows the request and whether it is pending, ready or failed.
impl<T> fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_slot("Lazy", &self.slot, f)
    }
}

/// Blocks, and compares the response; panics if the request failed.
impl PartialEq<Response> for LazyResponse {
    #[track_caller]
    fn eq(&self, other: &Response) -> bool {
        **self == *other
    }
}

/// Blocks, and compares the body; panics if the request failed.
impl PartialEq<[u8]> for LazyContent {
    #[track_caller]
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

/// Blocks, and compares the body with text; panics if the request failed.
impl PartialEq<&str> for LazyContent {
    #[track_caller]
    fn eq(&self, other: &&str) -> bool {
        **self == *other.as_bytes()
    }
}
