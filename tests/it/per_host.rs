//! Per-host limits: a cap on requests in flight per host, a rate per host, one host's own
//! limits, an adaptive rate that a 429 slows; a request held back by its host holds no
//! thread and never holds up other hosts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asynchttp::{HostLimits, Retry};

use crate::support::*;

/// A server that notes when each request arrives.
fn timed_server(
    reply: impl Fn() -> Reply + Send + Sync + 'static,
) -> (Server, Arc<Mutex<Vec<Instant>>>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let server = Server::start(move |_| {
        seen.lock().unwrap().push(Instant::now());
        reply()
    });
    (server, arrivals)
}

#[test]
fn a_host_runs_no_more_than_its_cap_at_once() {
    let slow = Server::start(|_| Reply::ok("x").delay(Duration::from_millis(200)));
    let http = Http::builder()
        .workers(16)
        .per_host(HostLimits::new().in_flight(2))
        .build()
        .unwrap();
    let batch = http.batch((0..12).map(|i| slow.url(&format!("/{i}"))));
    batch.join_all();
    assert_eq!(batch.progress().succeeded(), 12);
    // Two at a time: libcurl never needs more than two connections.
    assert!(slow.connections() <= 2, "{}", slow.connections());

    // Without the cap, the same batch opens many.
    let free = Server::start(|_| Reply::ok("x").delay(Duration::from_millis(200)));
    let http = Http::builder().workers(16).build().unwrap();
    let batch = http.batch((0..12).map(|i| free.url(&format!("/{i}"))));
    batch.join_all();
    assert!(free.connections() > 2, "{}", free.connections());
}

#[test]
fn a_rate_spaces_a_hosts_requests() {
    let (server, arrivals) = timed_server(|| Reply::ok("x"));
    let http = Http::builder()
        .per_host(HostLimits::new().rate(5.0, 1))
        .build()
        .unwrap();
    let batch = http.batch((0..6).map(|i| server.url(&format!("/{i}"))));
    batch.join_all();
    assert_eq!(batch.progress().succeeded(), 6);
    let arrivals = arrivals.lock().unwrap();
    // Five gaps of at least 200 ms (less a little for the clocks).
    let spread = *arrivals.last().unwrap() - arrivals[0];
    assert!(spread >= Duration::from_millis(950), "{spread:?}");
}

#[test]
fn a_limited_host_holds_up_no_other_host() {
    // One host is allowed 2 requests a second; eight others have no limit of their own.
    let (slow, slow_arrivals) = timed_server(|| Reply::ok("slow"));
    let fast: Vec<Server> = (0..8)
        .map(|_| Server::start(|_| Reply::ok("fast")))
        .collect();
    let slow_host = slow
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let http = Http::builder()
        .workers(8)
        .per_host(HostLimits::new().host(&slow_host, HostLimits::new().rate(2.0, 1)))
        .build()
        .unwrap();
    let threads_before = thread_count();
    // The slow host's requests go first: a queue in submission order would stall on them.
    let mut urls: Vec<String> = (0..12).map(|i| slow.url(&format!("/s{i}"))).collect();
    for (h, server) in fast.iter().enumerate() {
        urls.extend((0..100).map(|i| server.url(&format!("/f{h}-{i}"))));
    }
    let started = Instant::now();
    let batch = http.batch(urls);
    // Every fast request finishes while the slow host is still being paced.
    let fast_total: usize = 8 * 100;
    eventually("the other hosts done", || {
        fast.iter().map(Server::hits).sum::<usize>() == fast_total
            && batch.progress().done >= fast_total
    });
    let slow_done_then = slow.hits();
    assert!(
        slow_done_then < 12,
        "the slow host was not paced: {slow_done_then}"
    );
    assert!(thread_count() <= threads_before + 8, "threads grew");
    batch.join_all();
    assert_eq!(batch.progress().succeeded(), 12 + fast_total);
    // Twelve requests at 2 a second, one at once: at least 5.5 s from the first.
    let arrivals = slow_arrivals.lock().unwrap();
    let spread = *arrivals.last().unwrap() - arrivals[0];
    assert!(spread >= Duration::from_millis(5_400), "{spread:?}");
    assert!(started.elapsed() >= spread);
}

#[test]
fn requests_waiting_for_their_host_hold_no_thread_and_can_be_cancelled() {
    let (server, _) = timed_server(|| Reply::ok("x"));
    let http = Http::builder()
        .workers(4)
        .per_host(HostLimits::new().rate(1.0, 1))
        .build()
        .unwrap();
    let threads_before = thread_count();
    let batch = http.batch((0..10_000).map(|i| server.url(&format!("/{i}"))));
    eventually("the first request", || server.hits() >= 1);
    // 10,000 requests wait on the rate: no thread each, and none in the pool's queue.
    let threads = thread_count();
    assert!(
        threads <= threads_before + 6,
        "{threads_before} -> {threads}"
    );
    assert!(http.pool().queued() <= 1, "{}", http.pool().queued());
    assert!(http.held_by_hosts() >= 9_990, "{}", http.held_by_hosts());
    assert!(batch.progress().done <= 3);
    let cancelled = batch.cancel();
    assert!(cancelled >= 9_990, "{cancelled}");
    batch.join_all();
    let progress = batch.progress();
    assert_eq!(progress.done, 10_000);
    assert!(server.hits() <= 12, "{}", server.hits());
}

#[test]
fn an_adaptive_rate_backs_off_after_a_429_for_its_retry_after() {
    let seen = AtomicUsize::new(0);
    let (server, arrivals) = timed_server(move || {
        if seen.fetch_add(1, Ordering::SeqCst) == 2 {
            Reply::new(429, "").header("Retry-After", "2")
        } else {
            Reply::ok("x")
        }
    });
    let http = Http::builder()
        .workers(1)
        .per_host(HostLimits::new().rate(50.0, 1).adaptive(true))
        .build()
        .unwrap();
    let batch = http.batch((0..6).map(|i| server.url(&format!("/{i}"))));
    batch.join_all();
    let statuses: Vec<u16> = batch.responses().map(|(_, r, _)| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1);
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 6);
    // The host asked for two seconds: nothing more was sent to it before they passed.
    let pause = arrivals[3] - arrivals[2];
    assert!(pause >= Duration::from_millis(1_900), "{pause:?}");
}

#[test]
fn a_retry_waits_in_its_hosts_line_again() {
    let seen = AtomicUsize::new(0);
    let server = Server::start(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) % 2 == 0 {
            Reply::new(503, "")
        } else {
            Reply::ok("ok").delay(Duration::from_millis(50))
        }
    });
    let http = Http::builder()
        .workers(8)
        .retry(Retry::new(2).backoff(Duration::from_millis(5), Duration::from_millis(10)))
        .per_host(HostLimits::new().in_flight(1))
        .build()
        .unwrap();
    let batch = http.batch((0..6).map(|i| server.url(&format!("/{i}"))));
    batch.join_all();
    let progress = batch.progress();
    assert_eq!(progress.succeeded(), 6);
    assert_eq!(server.hits(), 6 + progress.retries);
    assert!(server.connections() <= 1, "{}", server.connections());
}
