//! Many requests at once, as requests-toolbelt's threaded pool: responses and exceptions
//! collected, failures retried, results read in the order they finish.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::exchange::Exchange;
use crate::progress::Tally;
use crate::promise::Watcher;
use crate::{Error, Http, LazyContent, LazyResponse, Progress, Request, Response};

mod report;

pub use self::report::HostReport;

/// A request that got a response: the request, the response and its body.
pub type BatchResponse = (Request, Response, Vec<u8>);

/// A request that failed, with its error.
pub type BatchException = (Request, Error);

/// Requests sent together by [`Http::batch`]; each runs as any other request does.
///
/// ```no_run
/// let http = asynchttp::Http::new();
/// let batch = http.batch(["http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b"]);
/// batch.join_all();
/// for (request, response, body) in batch.responses() {
///     println!("{} {} -> {} ({} bytes)", request.method(), request.uri(), response.status, body.len());
/// }
/// let again = batch.retry_exceptions(); // toolbelt's Pool.from_exceptions
/// # drop(again);
/// ```
pub struct Batch {
    http: Http,
    items: Vec<Item>,
    tally: Arc<Tally>,
}

struct Item {
    /// What was sent, without its callback, which runs once.
    request: Request,
    response: LazyResponse,
    content: LazyContent,
}

impl Http {
    /// Sends every request and waits for all of them, as requests-toolbelt's
    /// `threaded.map`: the responses (request, response, body) and the exceptions
    /// (request, error), each in the order given.
    ///
    /// ```no_run
    /// let http = asynchttp::Http::new();
    /// let (responses, exceptions) = http.map(["http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b"]);
    /// println!("{} ok, {} failed", responses.len(), exceptions.len());
    /// ```
    #[track_caller]
    pub fn map<I, R>(&self, requests: I) -> (Vec<BatchResponse>, Vec<BatchException>)
    where
        I: IntoIterator<Item = R>,
        R: Into<Request>,
    {
        self.batch(requests).into_results()
    }

    /// Sends every request (a [`Request`] or a URL) at once and returns them as a
    /// [`Batch`]. Submitting never fails; each request's outcome is its own.
    ///
    /// With a bounded queue that blocks when full ([`WhenFull::Block`]), this returns once
    /// the last request is queued.
    ///
    /// [`WhenFull::Block`]: crate::WhenFull::Block
    #[track_caller]
    pub fn batch<I, R>(&self, requests: I) -> Batch
    where
        I: IntoIterator<Item = R>,
        R: Into<Request>,
    {
        let tally = Arc::new(Tally::new());
        let watcher: Arc<dyn Watcher<Exchange>> = tally.clone();
        let items: Vec<Item> = requests
            .into_iter()
            .map(|request| {
                let request: Request = request.into();
                let kept = request.resendable();
                // Watched from the start: a retry decided at once is counted too.
                let (response, content) = self.send_watched(request, watcher.clone());
                Item {
                    request: kept,
                    response,
                    content,
                }
            })
            .collect();
        tally.set_total(items.len());
        Batch {
            http: self.clone(),
            items,
            tally,
        }
    }
}

impl Batch {
    /// How many requests the batch has.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True for a batch of no requests.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How far the batch has got, counted as each request finishes: never blocks, and
    /// costs the same for ten requests as for a million.
    ///
    /// ```no_run
    /// let http = asynchttp::Http::new();
    /// let batch = http.batch(["http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b"]);
    /// let p = batch.progress();
    /// println!("{}/{} done, {} failed, {} bytes", p.done, p.total, p.failed, p.bytes);
    /// ```
    pub fn progress(&self) -> Progress {
        self.tally.snapshot()
    }

    /// Blocks until more than `seen.done` requests are done, or all of them, or until
    /// `timeout` passes; then returns the progress. A thread drawing a progress bar waits
    /// here instead of polling:
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let http = asynchttp::Http::new();
    /// let batch = http.batch(["http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b"]);
    /// let mut p = batch.progress();
    /// while !p.is_complete() {
    ///     p = batch.wait_progress(&p, Duration::from_millis(200));
    ///     eprint!("\r{}/{} ({} failed)", p.done, p.total, p.failed);
    /// }
    /// ```
    pub fn wait_progress(&self, seen: &Progress, timeout: Duration) -> Progress {
        self.tally.wait_past(seen.done, timeout)
    }

    /// Blocks until every request is done, ok or failed.
    pub fn join_all(&self) {
        for item in &self.items {
            let _ = LazyResponse::wait(&item.response);
        }
    }

    /// The requests that got a response, in the order they were given, with the response
    /// and its body (toolbelt's `responses()`). Blocks on each in turn.
    pub fn responses(&self) -> impl Iterator<Item = (&Request, &Response, &[u8])> {
        self.items.iter().filter_map(|item| {
            let response = LazyResponse::wait(&item.response).ok()?;
            let body = LazyContent::wait(&item.content).ok()?;
            Some((&item.request, response, body))
        })
    }

    /// The requests that failed, with their errors (toolbelt's `exceptions()`). Blocks on
    /// each in turn.
    pub fn exceptions(&self) -> impl Iterator<Item = (&Request, &Error)> {
        self.items
            .iter()
            .filter_map(|item| Some((&item.request, item.response.error()?)))
    }

    /// Cancels every request of the batch that no worker has started (see
    /// [`LazyResponse::cancel`]); those fail with [`Error::Cancelled`]. Requests already
    /// running finish. Returns how many were cancelled.
    pub fn cancel(&self) -> usize {
        self.items
            .iter()
            .filter(|item| LazyResponse::cancel(&item.response))
            .count()
    }

    /// Sends the failed requests again, as a new batch (toolbelt's `Pool.from_exceptions`).
    /// Callbacks are not sent again: they ran, or were meant to run, once.
    #[track_caller]
    pub fn retry_exceptions(&self) -> Batch {
        let failed: Vec<Request> = self
            .exceptions()
            .map(|(request, _)| request.resendable())
            .collect();
        self.http.batch(failed)
    }

    /// Waits for every request and splits the batch into responses and exceptions, each
    /// in the order given.
    pub fn into_results(self) -> (Vec<BatchResponse>, Vec<BatchException>) {
        let (mut responses, mut exceptions) = (Vec::new(), Vec::new());
        for item in self.items {
            match LazyResponse::wait(&item.response) {
                Ok(response) => {
                    let body = LazyContent::wait(&item.content)
                        .map(<[u8]>::to_vec)
                        .unwrap_or_default();
                    responses.push((item.request, response.clone(), body));
                }
                Err(error) => exceptions.push((item.request, error)),
            }
        }
        (responses, exceptions)
    }

    /// Every request as it finishes, ready, in the order they finish
    /// (`concurrent.futures.as_completed`).
    pub fn as_completed(&self) -> impl Iterator<Item = (&Request, &LazyResponse, &LazyContent)> {
        let (sender, receiver) = flume::unbounded();
        for (index, item) in self.items.iter().enumerate() {
            item.response.observe(sender.clone(), index);
        }
        drop(sender);
        receiver.into_iter().map(|index| {
            let item = &self.items[index];
            (&item.request, &item.response, &item.content)
        })
    }
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("progress", &self.progress())
            .finish()
    }
}
