//! The builder's hooks: code of the caller's at each step of every request of the client.

use super::HttpBuilder;
use crate::hooks::{BeforeSend, OnResponse};
use crate::{BoxError, Hook, Incoming, Outgoing};

impl HttpBuilder {
    /// Adds a hook that every request of the client runs, before any a request adds with
    /// [`Request::hook`](crate::Request::hook); hooks run in the order added. What each
    /// method sees, where it runs and what its failure does: [`Hook`]. Recipes:
    /// [`guide::hooks`](crate::guide::hooks).
    ///
    /// Requests of a client with hooks run on worker threads, as requests with a callback
    /// do, so that a hook may block without holding up other requests' I/O.
    ///
    /// ```
    /// use asynchttp::{Http, Hook, Redirect};
    ///
    /// struct LogRedirects;
    ///
    /// impl Hook for LogRedirects {
    ///     fn on_redirect(&self, r: &Redirect<'_>) {
    ///         eprintln!("req={} {} {} -> {}", r.id(), r.status(), r.from(), r.to());
    ///     }
    /// }
    ///
    /// let http = Http::builder().hook(LogRedirects).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn hook(mut self, hook: impl Hook) -> Self {
        self.hooks.push(hook);
        self
    }

    /// Adds `f` as a hook's [`before_send`](Hook::before_send): called before each exchange
    /// of every request is sent (each attempt, redirect hop and 401 answer), with the
    /// request as it goes out. An error fails the request with
    /// [`Error::Hook`](crate::Error::Hook); it is not sent.
    ///
    /// ```
    /// use std::time::{SystemTime, UNIX_EPOCH};
    ///
    /// // A timestamp on every exchange, fresh on each retry.
    /// let http = asynchttp::Http::builder()
    ///     .before_send(|attempt| {
    ///         let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    ///         attempt.set_header("X-Timestamp", &now.to_string())?;
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn before_send<F>(self, f: F) -> Self
    where
        F: Fn(&mut Outgoing<'_>) -> Result<(), BoxError> + Send + Sync + 'static,
    {
        self.hook(BeforeSend::new(f))
    }

    /// Adds `f` as a hook's [`on_response`](Hook::on_response): called with the head of
    /// every response of every request, redirects, 401s and retried statuses included,
    /// before its body is read.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let server_errors = Arc::new(AtomicU64::new(0));
    /// let counted = server_errors.clone();
    /// let http = asynchttp::Http::builder()
    ///     .on_response(move |head| {
    ///         if head.status() >= 500 {
    ///             counted.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///     })
    ///     .build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn on_response<F>(self, f: F) -> Self
    where
        F: Fn(&Incoming<'_>) + Send + Sync + 'static,
    {
        self.hook(OnResponse::new(f))
    }
}
