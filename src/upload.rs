//! A body's upload progress: counted as libcurl takes the body's bytes, read by callers, who
//! may block on it or await it, as a download's is (the same [`Transfer`] underneath).
//!
//! A body is monitored ([`Body::monitor`](crate::Body::monitor)) rather than a request,
//! as requests-toolbelt's `MultipartEncoderMonitor` wraps the encoder: the handle works
//! whichever way the body is sent (`put`, `send`, `send_map`, a batch).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::transfer::{ProgressChanged, Transfer, Transferred};

/// How far a monitored body has been sent: [`Body::monitor`](crate::Body::monitor) gives
/// one before the body is sent.
///
/// `bytes` counts the bytes libcurl has taken from the body for the exchange under way,
/// `total` is the body's length once it is known (a file's when it is opened; `None` for a
/// reader sent chunked), and `done` is set once the request has ended, with a response or
/// an error. A body sent again (after a 307 or 308, to answer a 401, on a retry) counts
/// from 0 again, under the same handle.
///
/// Blocking code waits ([`wait_progress_every`](Self::wait_progress_every)); async code
/// awaits [`progress_changed`](Self::progress_changed), on any executor, as with a
/// [`Download`](crate::Download).
///
/// ```no_run
/// use std::time::Duration;
/// use asynchttp::{Body, Http};
///
/// let http = Http::new();
/// let mut body = Body::file("video.mp4");
/// let upload = body.monitor();
/// let (response, _) = http.put("http://127.0.0.1:8080/videos/1", body);
/// let mut seen = upload.progress();
/// while !seen.done {
///     // Returns once more has gone and 100 ms have passed, or at the end.
///     seen = upload.wait_progress_every(seen.bytes, Duration::from_millis(100));
///     eprintln!("{} of {:?} bytes", seen.bytes, seen.total);
/// }
/// println!("{}", response.status);
/// ```
#[derive(Clone)]
pub struct Upload {
    transfer: Arc<Transfer>,
}

impl Upload {
    pub(crate) fn new(transfer: Arc<Transfer>) -> Self {
        Upload { transfer }
    }

    /// How far it has got, now.
    pub fn progress(&self) -> Transferred {
        self.transfer.now()
    }

    /// Blocks until more than `bytes` are sent, the request has ended, or `timeout` has
    /// passed; then how far it has got. It wakes at every chunk libcurl takes: for a loop
    /// that prints, [`wait_progress_every`](Self::wait_progress_every).
    #[track_caller]
    pub fn wait_progress(&self, bytes: u64, timeout: Duration) -> Transferred {
        self.transfer.wait(bytes, None, Some(timeout))
    }

    /// Blocks until more than `bytes` are sent and `interval` has passed since the call,
    /// or until the request has ended; then how far it has got: at most one update per
    /// `interval`, and the last one at once.
    #[track_caller]
    pub fn wait_progress_every(&self, bytes: u64, interval: Duration) -> Transferred {
        self.transfer.wait(bytes, Some(interval), None)
    }

    /// The async form of [`wait_progress`](Self::wait_progress): a future ready once more
    /// than `bytes` are sent, or the request has ended. [`ProgressChanged::every`] gives at
    /// most one update per interval.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use asynchttp::Upload;
    ///
    /// async fn report(upload: &Upload) {
    ///     let mut seen = upload.progress();
    ///     while !seen.done {
    ///         seen = upload.progress_changed(seen.bytes).every(Duration::from_secs(1)).await;
    ///         println!("{} bytes sent", seen.bytes);
    ///     }
    /// }
    /// ```
    pub fn progress_changed(&self, bytes: u64) -> ProgressChanged {
        ProgressChanged::new(self.transfer.clone(), bytes)
    }
}

/// Never blocks: the progress now.
impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("progress", &self.progress())
            .finish()
    }
}

/// What a monitored body holds, shared by its copies: the progress it counts into. The
/// request that sends it ends the progress when it ends; the last copy of the body, when
/// it goes unsent (a request refused, or never made), ends it too, so no wait hangs.
pub(crate) struct Monitor {
    transfer: Arc<Transfer>,
}

impl Monitor {
    pub(crate) fn new() -> Self {
        Monitor {
            transfer: Arc::new(Transfer::upload()),
        }
    }

    /// A handle on this progress.
    pub(crate) fn upload(&self) -> Upload {
        Upload::new(self.transfer.clone())
    }

    /// An exchange sends the body from its start, `total` bytes if known.
    pub(crate) fn restart(&self, total: Option<u64>) {
        self.transfer.restart(total);
    }

    /// libcurl took `bytes` more.
    pub(crate) fn sent(&self, bytes: u64) {
        self.transfer.add(bytes);
    }

    /// The request has ended.
    pub(crate) fn end(&self) {
        self.transfer.end();
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.end();
    }
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Monitor")
            .field(&self.transfer.now())
            .finish()
    }
}
