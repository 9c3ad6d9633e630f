//! Bodies that do not fit in memory: streamed on a worker into a file or a writer, decoded
//! as usual, with progress a caller can read, wait on or await, and resuming of a partial
//! file.
//!
//! A download to a file writes `NAME.part` beside it and renames it to `NAME` once the
//! whole body is in; on failure the partial file is removed, unless the download may
//! resume, in which case it is kept with the validator (`ETag` or `Last-Modified`) it was
//! fetched under in `NAME.part.validator`. The next download of the same file with
//! [`Destination::resume`] then asks for the rest only (`Range` with `If-Range`): a 206
//! appends to what is there, a 200 (the file changed on the server, or the server does not
//! do ranges) starts over, and a 416 saying the file has just the partial file's length
//! (a download stopped between its last byte and the rename) completes it as it is.
//!
//! A download is bounded by silence, not by its length: unless a total or idle timeout is
//! set for it (on the client or the request), it has no total timeout and fails only when
//! nothing arrives for 30 seconds ([`TimeoutKind::Idle`](crate::TimeoutKind::Idle)). A
//! total timeout set anywhere bounds it as it bounds any request.
//!
//! Only a 2xx body goes to the destination. Any other status leaves it untouched: its
//! body is read into memory as a pair's is (within `max_body_size`), and handed out in
//! [`Downloaded::content`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::lazy::Lazy;
use crate::transfer::{ProgressChanged, Transfer, Transferred};
use crate::{Error, Response};

/// Bytes written to a file at once.
const FILE_BUFFER: usize = 256 * 1024;

/// Where a streamed body goes, and how: given to [`Http::send_to`](crate::Http::send_to).
///
/// ```no_run
/// use asynchttp::{Destination, Http, Request};
///
/// let http = Http::new();
/// let to = Destination::file("ubuntu.iso").resume(true).limit(8 << 30);
/// let download = http.send_to(Request::get("http://127.0.0.1:8080/ubuntu.iso"), to);
/// let done = download.wait().unwrap();
/// println!("{} {} bytes", done.response.status, done.bytes);
/// ```
pub struct Destination {
    target: Target,
    resume: bool,
    limit: Option<u64>,
}

enum Target {
    File(PathBuf),
    Writer(Box<dyn Write + Send>),
}

impl Destination {
    /// The file at `path`, written as `path.part` and renamed once complete.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Destination {
            target: Target::File(path.into()),
            resume: false,
            limit: None,
        }
    }

    /// Any writer, written from a worker thread. Nothing is flushed to it that was not
    /// received; a failed download leaves in it what had arrived.
    pub fn writer(writer: impl Write + Send + 'static) -> Self {
        Destination {
            target: Target::Writer(Box::new(writer)),
            resume: false,
            limit: None,
        }
    }

    /// For a file: keep a partial download on failure, and continue one left before
    /// (`Range` with `If-Range`) instead of starting over. Off by default. A writer
    /// cannot resume.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// The most bytes the body may have, counted after decoding; more fails the download
    /// with [`Error::BodyTooLarge`]. None by default: `max_body_size` bounds what is kept
    /// in memory, not what is streamed.
    pub fn limit(mut self, bytes: u64) -> Self {
        self.limit = Some(bytes);
        self
    }
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = match &self.target {
            Target::File(path) => format!("file {}", path.display()),
            Target::Writer(_) => "a writer".to_owned(),
        };
        f.debug_struct("Destination")
            .field("target", &target)
            .field("resume", &self.resume)
            .field("limit", &self.limit)
            .finish()
    }
}

/// A finished download: the response, and what went to the destination.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Downloaded {
    /// The final response, after redirects.
    pub response: Response,
    /// Bytes in the destination at the end, counted after decoding (for a resumed file,
    /// the whole file).
    pub bytes: u64,
    /// Bytes already in a file that this download continued (0 if it started over).
    pub resumed_from: u64,
    /// The file written, for a download to a file whose status was 2xx.
    pub path: Option<PathBuf>,
    /// The body of a response that was not 2xx, which never goes to the destination;
    /// empty otherwise.
    pub content: Vec<u8>,
}

/// A download under way: its outcome, as a [`Lazy`], and its progress.
///
/// Blocking code waits ([`wait`](Self::wait), [`wait_progress_every`](Self::wait_progress_every));
/// async code awaits, on any executor: `download.await` gives the outcome by value, as
/// [`into_result`](Self::into_result) does, `(&download).await` borrows it, as
/// [`wait`](Self::wait) does, and [`progress_changed`](Self::progress_changed) is the
/// progress to await.
///
/// A progress loop that prints at every change prints a line per chunk the transport hands
/// over (16 to 256 KiB: thousands for a big file); ask for one update per interval instead:
///
/// ```no_run
/// use std::time::Duration;
/// use asynchttp::Http;
///
/// let http = Http::new();
/// let download = http.download("http://127.0.0.1:8080/big.bin", "big.bin");
/// let mut seen = download.progress();
/// while !seen.done {
///     // Blocks until more has arrived and 100 ms have passed, or the download has ended.
///     seen = download.wait_progress_every(seen.bytes, Duration::from_millis(100));
///     println!("{} of {:?} bytes", seen.bytes, seen.total);
/// }
/// println!("{} bytes", download.wait().unwrap().bytes);
/// ```
///
/// The same in async code, without holding the thread:
///
/// ```no_run
/// use std::time::Duration;
/// use asynchttp::{Error, Http};
///
/// async fn fetch(http: &Http) -> Result<u64, Error> {
///     let download = http.download("http://127.0.0.1:8080/big.bin", "big.bin");
///     let mut seen = download.progress();
///     while !seen.done {
///         seen = download.progress_changed(seen.bytes).every(Duration::from_millis(100)).await;
///         println!("{} of {:?} bytes", seen.bytes, seen.total);
///     }
///     Ok(download.await?.bytes) // the outcome by value, as `into_result` gives it
/// }
/// ```
pub struct Download {
    outcome: Lazy<Downloaded>,
    transfer: Arc<Transfer>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl Download {
    pub(crate) fn new(outcome: Lazy<Downloaded>, transfer: Arc<Transfer>) -> Self {
        Download { outcome, transfer }
    }

    /// Blocks until the download has ended; its outcome.
    ///
    /// # Errors
    ///
    /// Why the download failed: the request's own errors, [`Error::BodyTooLarge`] past the
    /// destination's limit, [`Error::Write`] when the destination refused the bytes.
    #[track_caller]
    pub fn wait(&self) -> Result<&Downloaded, Error> {
        Lazy::wait(&self.outcome)
    }

    /// The outcome by value, blocking until the download has ended.
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait).
    #[track_caller]
    pub fn into_result(self) -> Result<Downloaded, Error> {
        Lazy::into_result(self.outcome)
    }

    /// The outcome as a [`Lazy`], to keep it with other lazy values.
    pub fn outcome(&self) -> &Lazy<Downloaded> {
        &self.outcome
    }

    /// The outcome's [`Lazy`], the progress let go.
    pub(crate) fn into_outcome(self) -> Lazy<Downloaded> {
        self.outcome
    }

    /// How far it has got, now.
    pub fn progress(&self) -> Transferred {
        self.transfer.now()
    }

    /// Blocks until more than `bytes` are in the destination, the download has ended, or
    /// `timeout` has passed; then how far it has got. It wakes at every chunk: for a loop
    /// that prints, [`wait_progress_every`](Self::wait_progress_every).
    #[track_caller]
    pub fn wait_progress(&self, bytes: u64, timeout: Duration) -> Transferred {
        self.transfer.wait(bytes, None, Some(timeout))
    }

    /// Blocks until more than `bytes` are in the destination and `interval` has passed
    /// since the call, or until the download has ended; then how far it has got. A loop of
    /// these gives at most one update per `interval`, however small the chunks, and the
    /// last one at once when the download ends. While nothing arrives, it keeps waiting.
    #[track_caller]
    pub fn wait_progress_every(&self, bytes: u64, interval: Duration) -> Transferred {
        self.transfer.wait(bytes, Some(interval), None)
    }

    /// The async form of [`wait_progress`](Self::wait_progress): a future ready once more
    /// than `bytes` are in the destination, or the download has ended, with how far it has
    /// got. [`ProgressChanged::every`] gives at most one update per interval. It holds no
    /// thread, and is woken only once what it waits for has come.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use asynchttp::Download;
    ///
    /// async fn report(download: &Download) {
    ///     let mut seen = download.progress();
    ///     while !seen.done {
    ///         seen = download.progress_changed(seen.bytes).every(Duration::from_secs(1)).await;
    ///         if let Some(total) = seen.total {
    ///             println!("{:.0}%", 100.0 * seen.bytes as f64 / total.max(1) as f64);
    ///         }
    ///     }
    /// }
    /// ```
    pub fn progress_changed(&self, bytes: u64) -> ProgressChanged {
        ProgressChanged::new(self.transfer.clone(), bytes)
    }
}

/// A destination being written by one request: what the transport streams into.
pub(crate) struct Sink {
    target: Target,
    resume: bool,
    limit: Option<u64>,
    transfer: Arc<Transfer>,
    /// Bytes already in the partial file when the request was made.
    partial: u64,
    /// The validator the partial file was fetched under.
    validator: Option<String>,
    /// The open `.part` file while a body is being written: buffered, since the transport
    /// hands the body over in chunks of 16 KiB.
    file: Option<BufWriter<File>>,
    /// Bytes in the destination, counted after decoding.
    written: u64,
    resumed_from: u64,
    committed: bool,
}

impl Sink {
    /// The sink for `to`, and the progress its download reports to.
    pub(crate) fn new(to: Destination) -> (Sink, Arc<Transfer>) {
        let transfer = Arc::new(Transfer::default());
        let mut sink = Sink {
            target: to.target,
            resume: to.resume,
            limit: to.limit,
            transfer: transfer.clone(),
            partial: 0,
            validator: None,
            file: None,
            written: 0,
            resumed_from: 0,
            committed: false,
        };
        if let (true, Target::File(path)) = (sink.resume, &sink.target) {
            // A partial file continues only with the validator it was fetched under.
            let validator = fs::read_to_string(validator_path(path)).ok();
            let partial = fs::metadata(part_path(path)).map_or(0, |m| m.len());
            if let (Some(validator), true) = (validator, partial > 0) {
                sink.partial = partial;
                sink.validator = Some(validator.trim().to_owned());
            }
        }
        (sink, transfer)
    }

    /// The `Range` and `If-Range` headers that continue a partial file, if there is one.
    pub(crate) fn resume_headers(&self) -> Option<[(&'static str, String); 2]> {
        let validator = self.validator.as_ref()?;
        Some([
            ("range", format!("bytes={}-", self.partial)),
            ("if-range", validator.clone()),
        ])
    }

    /// Leaves a partial file alone: the request asks for a range of its own, so what it
    /// gets does not continue the file, and is written as a file of its own.
    pub(crate) fn start_over(&mut self) {
        self.partial = 0;
        self.validator = None;
    }

    pub(crate) fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Opens the destination for the body of `response`: where it continues a partial
    /// file, the bytes already there. `Err` if the destination cannot be written, or the
    /// answer to a range request does not continue the file.
    pub(crate) fn open(&mut self, response: &Response) -> Result<(), Error> {
        let continues = response.status == 206 && self.validator.is_some();
        if continues && content_range_start(response) != Some(self.partial) {
            let answer = format!(
                "asked for the bytes from {} on, the server sent {:?}",
                self.partial,
                response.get("content-range").unwrap_or_default()
            );
            return Err(self.error(io::Error::new(io::ErrorKind::InvalidData, answer)));
        }
        let total = if response.contains_key("content-encoding") {
            None
        } else {
            response
                .get("content-length")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|n| n + if continues { self.partial } else { 0 })
        };
        self.transfer.set_total(total);
        let Target::File(path) = &self.target else {
            return Ok(());
        };
        let part = part_path(path);
        let opened = if continues {
            OpenOptions::new().append(true).open(&part)
        } else {
            File::create(&part)
        };
        let file = opened.map_err(|e| write_error(&part, e))?;
        if continues {
            self.written = self.partial;
            self.resumed_from = self.partial;
            self.transfer.set_bytes(self.written);
        }
        // The validator goes beside the partial file, for a later resume.
        if self.resume {
            let validator = response
                .get("etag")
                .filter(|etag| !etag.starts_with("W/"))
                .or_else(|| response.get("last-modified"));
            let path = validator_path(path);
            match validator {
                Some(v) => fs::write(&path, v).map_err(|e| write_error(&path, e))?,
                None => drop(fs::remove_file(&path)),
            }
        }
        self.file = Some(BufWriter::with_capacity(FILE_BUFFER, file));
        Ok(())
    }

    /// True if `response` says the partial file is already whole: a 416 to the range
    /// asked for, whose `Content-Range: bytes */LENGTH` is the partial file's length (a
    /// download stopped between its last byte and the rename).
    pub(crate) fn is_whole(&self, response: &Response) -> bool {
        let length = response
            .get("content-range")
            .and_then(|range| range.trim().strip_prefix("bytes */"))
            .and_then(|length| length.trim().parse::<u64>().ok());
        response.status == 416 && self.validator.is_some() && length == Some(self.partial)
    }

    /// Renames a partial file that [`is_whole`](Self::is_whole) into place.
    pub(crate) fn complete(&mut self) -> Result<Option<PathBuf>, Error> {
        self.written = self.partial;
        self.resumed_from = self.partial;
        self.transfer.set_bytes(self.written);
        self.commit()
    }

    /// The file's final name once the whole body is in, after renaming.
    pub(crate) fn commit(&mut self) -> Result<Option<PathBuf>, Error> {
        self.flush().map_err(|e| self.error(e))?;
        let Target::File(path) = &self.target else {
            self.transfer.end();
            return Ok(None);
        };
        drop(self.file.take());
        let part = part_path(path);
        fs::rename(&part, path).map_err(|e| write_error(path, e))?;
        let _ = fs::remove_file(validator_path(path));
        self.committed = true;
        self.transfer.land(self.resumed_from, Some(path.clone()));
        self.transfer.end();
        Ok(Some(path.clone()))
    }

    /// Bytes in the destination, and those it continued from.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.written, self.resumed_from)
    }

    /// The typed error for a failed write to this destination.
    pub(crate) fn error(&self, e: io::Error) -> Error {
        // The destination's own error, out of the marker its writes wrap it in.
        let e = match e
            .get_ref()
            .is_some_and(|inner| inner.is::<DestinationFailed>())
        {
            true => match e
                .into_inner()
                .map(|inner| inner.downcast::<DestinationFailed>())
            {
                Some(Ok(failed)) => failed.0,
                _ => io::Error::other("the destination failed"),
            },
            false => e,
        };
        match &self.target {
            Target::File(path) => write_error(&part_path(path), e),
            Target::Writer(_) => Error::Write {
                path: None,
                source: Arc::new(e),
            },
        }
    }
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if let Some(limit) = self.limit {
            if self.written + bytes.len() as u64 > limit {
                return Err(io::Error::other(LimitExceeded));
            }
        }
        let n = match (&mut self.file, &mut self.target) {
            (Some(file), _) => file.write(bytes),
            (None, Target::Writer(writer)) => writer.write(bytes),
            (None, Target::File(_)) => Err(io::Error::other("the file is not open")),
        }
        .map_err(|e| io::Error::other(DestinationFailed(e)))?;
        self.written += n as u64;
        self.transfer.set_bytes(self.written);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match (&mut self.file, &mut self.target) {
            (Some(file), _) => file.flush(),
            (None, Target::Writer(writer)) => writer.flush(),
            (None, Target::File(_)) => Ok(()),
        }
    }
}

impl Drop for Sink {
    /// A download that did not complete leaves no `.part` file, unless it may resume.
    fn drop(&mut self) {
        self.transfer.end();
        if let (false, Target::File(path)) = (self.committed, &self.target) {
            if self.file.take().is_some() && !self.resume {
                let _ = fs::remove_file(part_path(path));
            }
        }
    }
}

/// The destination refused a write: told apart from a decoder's failure on the way.
#[derive(Debug)]
pub(crate) struct DestinationFailed(io::Error);

impl std::fmt::Display for DestinationFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DestinationFailed {}

/// The body ran past the destination's limit.
#[derive(Debug)]
pub(crate) struct LimitExceeded;

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the download's limit was reached")
    }
}

impl std::error::Error for LimitExceeded {}

fn write_error(path: &Path, e: io::Error) -> Error {
    Error::Write {
        path: Some(path.to_owned()),
        source: Arc::new(e),
    }
}

/// `NAME.part`: where a file is written until it is whole.
fn part_path(path: &Path) -> PathBuf {
    suffixed(path, ".part")
}

/// `NAME.part.validator`: what a partial file was fetched under.
fn validator_path(path: &Path) -> PathBuf {
    suffixed(path, ".part.validator")
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The first byte a `Content-Range: bytes FIRST-LAST/LENGTH` gives.
fn content_range_start(response: &Response) -> Option<u64> {
    let range = response.get("content-range")?.trim();
    let spec = range.strip_prefix("bytes")?.trim_start();
    spec.split('-').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_give_their_first_byte() {
        let mut r = Response::new(206);
        r.insert("Content-Range", "bytes 100-199/200");
        assert_eq!(content_range_start(&r), Some(100));
        r.insert("Content-Range", "bytes */200");
        assert_eq!(content_range_start(&r), None);
    }

    #[test]
    fn a_writer_counts_and_stops_at_its_limit() {
        let (mut sink, transfer) = Sink::new(Destination::writer(Vec::new()).limit(5));
        sink.open(&Response::new(200)).unwrap();
        sink.write_all(b"abc").unwrap();
        assert_eq!(transfer.now().bytes, 3);
        let e = sink.write_all(b"def").unwrap_err();
        assert!(e.get_ref().is_some_and(|e| e.is::<LimitExceeded>()));
    }
}
