//! Process-wide accounting of threads and memory, in a binary of its own so that no other
//! test's threads or allocations come and go while it counts (RELIABILITY.md P2-P4: "the
//! thread count returns to its starting value"; B7: memory bounded by the body limit).
//! The tests here take `ALONE` so they do not overlap each other either.

#[path = "it/encoders.rs"]
mod encoders;
#[path = "it/support.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asynchttp::WorkerPool;
use support::*;

static ALONE: Mutex<()> = Mutex::new(());

/// The thread count once it has not changed for 200 ms.
fn settled_thread_count() -> usize {
    let mut last = thread_count();
    let mut stable_since = std::time::Instant::now();
    while stable_since.elapsed() < Duration::from_millis(200) {
        std::thread::sleep(Duration::from_millis(20));
        let now = thread_count();
        if now != last {
            (last, stable_since) = (now, std::time::Instant::now());
        }
    }
    last
}

#[test]
fn worker_threads_are_named_and_all_gone_after_shutdown() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    init_logging();
    let server = Server::start(|_| Reply::ok("x").delay(Duration::from_millis(5)));
    // Warm the server up, then let threads of earlier clients finish ending.
    wait(&Http::new().request(&server.url("/")).0).unwrap();
    let baseline = settled_thread_count();

    // Dropping the last Http with a queue: drained, drivers and workers joined. Plain
    // pairs run on the two drivers; the requests with a callback on 4 workers.
    let http = Http::builder().workers(4).build().unwrap();
    // A callback that takes a while keeps the workers busy, so all four start.
    let slow = || {
        Request::get(server.url("/")).callback(|_, _| {
            std::thread::sleep(Duration::from_millis(20));
            Ok::<(), std::io::Error>(())
        })
    };
    let pairs: Vec<_> = (0..200)
        .map(|i| match i % 2 {
            0 => http.request(&server.url("/")),
            _ => http.send(slow()),
        })
        .collect();
    eventually("2 named drivers, 4 named workers", || {
        (
            threads_named("asynchttp-driv"),
            threads_named("asynchttp-work"),
        ) == (2, 4)
    });
    drop(http);
    assert!(pairs.iter().all(|(r, _)| LazyResponse::is_ready(r)));
    // A joined thread can linger in /proc for a moment (under a tracer, until reaped).
    eventually(
        "threads back to baseline after dropping the last Http",
        || threads_named("asynchttp-") == 0 && thread_count() <= baseline,
    );

    // The last Http dropped inside a callback: the workers finish alone.
    let http = Http::builder().workers(2).build().unwrap();
    let holder = Arc::new(Mutex::new(Some(http.clone())));
    let in_callback = holder.clone();
    let (last, _) = http.send(Request::get(server.url("/")).callback(move |_, _| {
        drop(in_callback.lock().unwrap().take());
        Ok::<(), std::io::Error>(())
    }));
    drop((http, holder));
    assert_eq!(wait(&last).unwrap().status, 200);
    eventually("threads back to baseline after a drop on a worker", || {
        threads_named("asynchttp-") == 0 && thread_count() <= baseline
    });

    // A shared pool stops with its last clone.
    let pool = WorkerPool::new(3);
    let a = Http::builder().pool(pool.clone()).build().unwrap();
    let b = Http::builder().pool(pool.clone()).build().unwrap();
    let pairs: Vec<_> = (0..30)
        .map(|i| if i % 2 == 0 { &a } else { &b }.request(&server.url("/")))
        .collect();
    for (response, _) in &pairs {
        wait(response).unwrap();
    }
    drop((a, b));
    assert_eq!(
        threads_named("asynchttp-driv"),
        2,
        "the pool outlives its clients"
    );
    drop(pool);
    // A joined thread can linger in /proc for a moment (under a tracer, until reaped).
    eventually(
        "threads back to baseline after dropping the last pool clone",
        || threads_named("asynchttp-") == 0 && thread_count() <= baseline,
    );
}

/// Peak resident memory of this process so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[test]
fn b7_gzip_bomb_memory_stays_near_the_limit() {
    // 256 MiB of zeros, compressed in chunks so the test itself never holds them.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        encoder.write_all(&zeros).unwrap();
    }
    bomb_memory_stays_near_the_limit("gzip", encoder.finish().unwrap());
}

#[cfg(feature = "brotli")]
#[test]
fn b7_brotli_bomb_memory_stays_near_the_limit() {
    bomb_memory_stays_near_the_limit("br", encoders::brotli_zeros(256 << 20));
}

#[cfg(feature = "zstd")]
#[test]
fn b7_zstd_bomb_memory_stays_near_the_limit() {
    bomb_memory_stays_near_the_limit("zstd", encoders::zstd_zeros(256 << 20));
}

/// A body of 256 MiB decoded, `bomb` compressed in `coding`, fails at a 16 MiB limit with
/// the peak memory grown by less than twice the limit: decoded to the limit, not to its end.
/// (Memory a body decoded whole would free stays with the allocator and serves the next
/// test without raising the peak: each test run alone sees such a fault, and together the
/// first of them to run does.)
fn bomb_memory_stays_near_the_limit(coding: &'static str, bomb: Vec<u8>) {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start(move |_| Reply::ok(bomb.clone()).header("Content-Encoding", coding));
    let limit: u64 = 16 << 20;
    let http = Http::builder().max_body_size(limit).build().unwrap();
    // Warm up the client and server so their own allocations are in the baseline.
    let warm = Server::start(|_| Reply::ok("warm"));
    wait(&http.request(&warm.url("/")).0).unwrap();
    let before = peak_rss();
    let (response, _) = http.request(&server.url("/"));
    assert!(
        matches!(wait(&response), Err(Error::BodyTooLarge { .. })),
        "{coding}"
    );
    let grown = peak_rss().saturating_sub(before);
    // The decoded body is cut at the limit; the rest is buffers.
    assert!(
        grown < 2 * limit,
        "{coding}: peak RSS grew by {} MiB for a {} MiB limit",
        grown >> 20,
        limit >> 20
    );
}

/// Resets the peak (VmHWM) to the current RSS, so that a peak read later is this test's.
fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM (Linux 4.0+)");
}

#[test]
fn a_large_batch_peaks_at_its_request_state() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    const REQUESTS: usize = 20_000;
    let server = Server::start(|_| Reply::ok("small"));
    let http = Http::builder().workers(8).build().unwrap();
    let url = server.url("/small");
    let urls = |n: usize| (0..n).map(|i| format!("{url}?i={i}"));
    // Warm-up: workers, connections and allocator arenas in use before the baseline.
    http.batch(urls(512)).join_all();
    reset_peak_rss();
    let before = peak_rss();
    let batch = http.batch(urls(REQUESTS));
    batch.join_all();
    let progress = batch.progress();
    assert_eq!((progress.done, progress.failed), (REQUESTS, 0));
    assert_eq!(progress.bytes, 5 * REQUESTS as u64);
    let per_request = peak_rss().saturating_sub(before) / REQUESTS as u64;
    // Every result is kept by the batch, about 1.5 KB each; a thread, a buffer or a
    // connection per request would cost many times more.
    assert!(
        per_request < 4096,
        "peak RSS grew by {per_request} bytes per request"
    );
}

#[test]
fn requests_waiting_on_a_rate_or_a_retry_hold_no_thread() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start(|req| {
        if req.url.starts_with("/retry") {
            Reply::new(503, "").header("Retry-After", "10")
        } else {
            Reply::ok("x")
        }
    });
    let http = Http::builder()
        .workers(4)
        .retry(asynchttp::Retry::new(1))
        .retry_budget(asynchttp::RetryBudget::unlimited())
        .per_host(asynchttp::HostLimits::new().rate(1.0, 1))
        .build()
        .unwrap();
    let paced = |n: usize, tag: &str| http.batch((0..n).map(|i| server.url(&format!("/{tag}{i}"))));
    // A few waiting on the rate: the client's threads, the timer's included.
    let few = paced(10, "a");
    eventually("the first request", || server.hits() >= 1);
    let with_few = settled_thread_count();
    // Ten thousand more: not one thread more.
    let many = paced(10_000, "b");
    assert!(http.held_by_hosts() >= 10_000);
    assert_eq!(settled_thread_count(), with_few);
    few.cancel();
    many.cancel();

    // Retries waiting out a Retry-After: 200 of them, on a client without host limits.
    let http = Http::builder()
        .workers(4)
        .retry(asynchttp::Retry::new(1))
        .retry_budget(asynchttp::RetryBudget::unlimited())
        .build()
        .unwrap();
    let waiting = |n: usize, tag: &str| {
        let batch = http.batch((0..n).map(|i| server.url(&format!("/retry-{tag}{i}"))));
        eventually("every first attempt", || batch.progress().retries == n);
        batch
    };
    let few = waiting(2, "a");
    let with_few = settled_thread_count();
    let many = waiting(200, "b");
    assert_eq!(settled_thread_count(), with_few);
    few.cancel();
    many.cancel();
}

/// Sockets this process has open.
fn sockets() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    dir.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

#[test]
fn a_mocked_client_makes_no_isahc_client_and_opens_no_socket() {
    use asynchttp::{MemoryCache, MockResponse, MockTransport, Retry, RetryBudget};

    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    // Hosts that resolve nowhere, and a port nothing listens on: only the mock answers.
    let closed = closed_port_url();
    eventually("no isahc agent left by an earlier test", || {
        threads_named("isahc-agent") == 0
    });
    let before = sockets();
    let retried = std::sync::atomic::AtomicBool::new(false);
    let mock = MockTransport::new(move |req| match req.path() {
        "/retry" if !retried.swap(true, std::sync::atomic::Ordering::SeqCst) => {
            MockResponse::retry_after(503, 0)
        }
        "/login" => MockResponse::new(302)
            .header("Location", "/home")
            .header("Set-Cookie", "s=1; Path=/"),
        _ => MockResponse::ok(req.url().to_owned())
            .header("Cache-Control", "max-age=60")
            .delay(Duration::from_millis(200)),
    });
    let http = Http::builder()
        .workers(128)
        .mock(mock.clone())
        .cookies(true)
        .cache_store(std::sync::Arc::new(MemoryCache::new()))
        .retry(Retry::new(1))
        .retry_budget(RetryBudget::unlimited())
        .build()
        .unwrap();
    http.add_credentials("alice", "s3cret", "");
    let urls = (0..100).map(|i| match i % 4 {
        0 => format!("http://no-such-host.invalid/{i}"),
        1 => format!("{closed}{i}"),
        2 => format!("https://secure.invalid:8443/{i}"),
        _ => "http://no-such-host.invalid/login".to_owned(),
    });
    let batch = http.batch(urls.chain(["http://no-such-host.invalid/retry".to_owned()]));
    // While the answers wait, as after: no socket, and no isahc agent thread.
    eventually("the first 75 at the mock", || mock.count() >= 75);
    assert_eq!(threads_named("isahc-agent"), 0, "{:?}", thread_names());
    assert!(
        sockets() <= before,
        "{} sockets, {before} before",
        sockets()
    );
    batch.join_all();
    assert_eq!(batch.progress().done, 101);
    assert!(batch.responses().all(|(_, r, _)| r.status == 200));
    assert_eq!(threads_named("isahc-agent"), 0, "{:?}", thread_names());
    assert!(
        sockets() <= before,
        "{} sockets, {before} before",
        sockets()
    );
}
