//! Downloads in async code and progress loops: a download awaited gives what a wait gives,
//! its progress can be awaited by many tasks at once without a lost wake-up, and updates
//! asked for once per interval come far fewer than the chunks.

use std::future::IntoFuture;
use std::io::{self, Write};
use std::mem::discriminant;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use asynchttp::{Destination, Download, Downloaded, Transferred};
use futures_util::future::join_all;

use crate::support::*;

/// Serves `len` bytes of [`pattern`] with their length.
fn serving(len: usize) -> Server {
    let body = pattern(len);
    Server::start(move |_| Reply::ok(body.clone()))
}

/// A writer that keeps nothing, counts its writes (the chunks the download hands over) and
/// takes `pause` over each, so that a download over loopback lasts long enough to watch.
struct Counting {
    writes: Arc<AtomicUsize>,
    pause: Duration,
}

impl Write for Counting {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        thread::sleep(self.pause);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn counting(pause: Duration) -> (Destination, Arc<AtomicUsize>) {
    let writes = Arc::new(AtomicUsize::new(0));
    let to = Destination::writer(Counting {
        writes: writes.clone(),
        pause,
    });
    (to, writes)
}

/// What two outcomes of the same download must share: all but the file's name.
fn figures(done: &Downloaded) -> (u16, u64, u64, Vec<u8>) {
    let status = done.response.status;
    (status, done.bytes, done.resumed_from, done.content.clone())
}

#[test]
fn awaiting_a_download_gives_what_waiting_gives() {
    let server = serving(300_000);
    let dir = TempDir::new("download-await");
    std::fs::create_dir_all(&dir.0).unwrap();
    let http = Http::new();
    let waited = http.download(&server.url("/a"), dir.0.join("waited.bin"));
    let waited = figures(waited.wait().unwrap());
    assert_eq!(waited, (200, 300_000, 0, Vec::new()));
    let missing = Server::start(|_| Reply::new(404, "no such file"));
    multi_thread().block_on(async {
        let path = dir.0.join("awaited.bin");
        let download = http.download(&server.url("/a"), &path);
        let borrowed = bounded((&download).into_future()).await.unwrap();
        assert_eq!(figures(borrowed), waited);
        assert_eq!(borrowed.path.as_deref(), Some(path.as_path()));
        let taken = bounded(download.into_future()).await.unwrap();
        assert_eq!(figures(&taken), waited);
        assert_eq!(taken.path.as_deref(), Some(path.as_path()));
        assert_eq!(std::fs::read(&path).unwrap(), pattern(300_000));

        // An error status: its body in memory and the destination untouched, either way.
        let download = http.download(&missing.url("/"), dir.0.join("missing"));
        let awaited = bounded(download.into_future()).await.unwrap();
        let download = http.download(&missing.url("/"), dir.0.join("missing"));
        assert_eq!(figures(&awaited), figures(download.wait().unwrap()));
        assert_eq!(awaited.content, b"no such file");
        assert_eq!(awaited.path, None);
    });
}

#[test]
fn a_failed_download_comes_out_of_await_as_the_error_wait_gives() {
    let server = serving(1 << 20);
    let closed = closed_port_url();
    let http = Http::new();
    let capped = || Destination::writer(io::sink()).limit(100_000);
    let failures: [Box<dyn Fn() -> Download>; 2] = [
        Box::new(|| http.send_to(Request::get(server.url("/")), capped())),
        Box::new(|| http.send_to(Request::get(&closed), Destination::writer(io::sink()))),
    ];
    let runtime = multi_thread();
    for (make, expected) in failures.iter().zip(["BodyTooLarge", "Connect"]) {
        let waited = make().wait().unwrap_err();
        assert!(format!("{waited:?}").starts_with(expected), "{waited:?}");
        runtime.block_on(async {
            let download = make();
            let borrowed = bounded((&download).into_future()).await.unwrap_err();
            assert_eq!(
                discriminant(&borrowed),
                discriminant(&waited),
                "{borrowed:?}"
            );
            assert!(download.progress().done);
            let taken = bounded(download.into_future()).await.unwrap_err();
            assert_eq!(discriminant(&taken), discriminant(&waited), "{taken:?}");
        });
        // The same on an executor of another make: the futures need no runtime.
        let taken = futures_lite::future::block_on(make().into_future()).unwrap_err();
        assert_eq!(discriminant(&taken), discriminant(&waited), "{taken:?}");
    }
}

/// Follows a download's progress to its end, as a progress loop does; every update seen.
async fn follow(download: &Download, every: Option<Duration>) -> Vec<Transferred> {
    let mut seen = vec![download.progress()];
    while !seen.last().unwrap().done {
        let changed = download.progress_changed(seen.last().unwrap().bytes);
        let changed = match every {
            Some(every) => changed.every(every),
            None => changed,
        };
        seen.push(changed.await);
    }
    seen
}

/// Each update has more bytes than the one before, or is the end, and the end has them all.
#[track_caller]
fn assert_rises_to(updates: &[Transferred], total: u64) {
    for pair in updates.windows(2) {
        assert!(
            pair[1].bytes > pair[0].bytes || (pair[1].done && pair[1].bytes >= pair[0].bytes),
            "{pair:?}"
        );
    }
    let last = updates.last().unwrap();
    assert_eq!(
        (last.bytes, last.total, last.done),
        (total, Some(total), true)
    );
}

#[test]
fn progress_awaited_by_many_tasks_at_once_rises_to_the_total() {
    const LEN: usize = 4 << 20;
    let server = serving(LEN);
    let http = Http::new();
    let (to, writes) = counting(Duration::from_millis(1));
    let download = Arc::new(http.send_to(Request::get(server.url("/")), to));
    // Tasks on a runtime of two threads, and threads on an executor of another make, all
    // awaiting the same download from its start: a lost wake-up leaves one waiting for ever.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let download = download.clone();
            thread::spawn(move || futures_lite::future::block_on(follow(&download, None)))
        })
        .collect();
    let runtime = multi_thread();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let download = download.clone();
            runtime.spawn(async move { follow(&download, None).await })
        })
        .collect();
    let by_tasks = runtime.block_on(async { bounded(join_all(tasks)).await });
    let mut followed: Vec<_> = by_tasks.into_iter().map(Result::unwrap).collect();
    followed.extend(threads.into_iter().map(|thread| thread.join().unwrap()));
    for updates in &followed {
        assert_rises_to(updates, LEN as u64);
    }
    // They saw the body arrive, not only its end.
    let writes = writes.load(Ordering::SeqCst);
    let watched = followed
        .iter()
        .filter(|u| u.iter().any(|u| u.bytes > 0 && !u.done));
    assert!(
        writes > 10 && watched.count() * 2 >= followed.len(),
        "{writes} chunks; {followed:?}"
    );
    // Awaited once the download is over: ready at once, with the end.
    let after = futures_lite::future::block_on(download.progress_changed(LEN as u64));
    assert_eq!((after.bytes, after.done), (LEN as u64, true));
}

/// 20 MiB over loopback, written in hundreds of chunks: a loop asking for one update per
/// 100 ms gets no more updates than the intervals the download lasted, blocking or awaiting,
/// while a loop that takes every change sees many times more.
#[test]
fn updates_once_per_interval_are_far_fewer_than_chunks() {
    const LEN: usize = 20 << 20;
    const EVERY: Duration = Duration::from_millis(100);
    let server = serving(LEN);
    let http = Http::new();
    let (to, writes) = counting(Duration::from_millis(2));
    let started = Instant::now();
    let download = Arc::new(http.send_to(Request::get(server.url("/")), to));
    let blocking = thread::spawn({
        let download = download.clone();
        move || {
            let mut seen = vec![download.progress()];
            while !seen.last().unwrap().done {
                let last = seen.last().unwrap().bytes;
                seen.push(download.wait_progress_every(last, EVERY));
            }
            seen
        }
    });
    let runtime = multi_thread();
    let (paced, every_change) = runtime.block_on(async {
        let paced = runtime.spawn({
            let download = download.clone();
            async move { follow(&download, Some(EVERY)).await }
        });
        let every_change = runtime.spawn({
            let download = download.clone();
            async move { follow(&download, None).await }
        });
        bounded(async { (paced.await.unwrap(), every_change.await.unwrap()) }).await
    });
    let blocking = blocking.join().unwrap();
    let elapsed = started.elapsed();
    let writes = writes.load(Ordering::SeqCst);
    let intervals = (elapsed.as_millis() / EVERY.as_millis()) as usize;
    println!(
        "{writes} chunks in {elapsed:?}: {} updates blocking and {} awaited at most every \
         {EVERY:?}, {} awaited at every change",
        blocking.len() - 1,
        paced.len() - 1,
        every_change.len() - 1
    );
    for updates in [&blocking, &paced, &every_change] {
        assert_rises_to(updates, LEN as u64);
    }
    assert!(writes >= 50, "{writes} chunks");
    for limited in [&blocking, &paced] {
        // One update per interval at most, and the end.
        let updates = limited.len() - 1;
        assert!(updates <= intervals + 2, "{updates} updates in {elapsed:?}");
        assert!(
            updates * 4 <= writes,
            "{updates} updates for {writes} chunks"
        );
    }
    assert!(
        every_change.len() > 2 * paced.len(),
        "{} changes seen against {} paced updates",
        every_change.len(),
        paced.len()
    );
}
