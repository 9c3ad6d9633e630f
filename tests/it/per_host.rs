//! Per-host limits: a cap on requests in flight per host, a rate per host, one host's own
//! limits (named by host and port or by URL; garbage refused), an adaptive rate that a 429
//! slows; a request held back by its host holds no thread and never holds up other hosts.

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
fn a_hosts_own_limit_given_as_a_url_is_applied() {
    const DELAY: Duration = Duration::from_millis(200);
    let (server, arrivals) = timed_server(|| Reply::ok("x").delay(DELAY));
    // The server's URL, where a host and port were expected: its host and port are meant.
    let http = Http::builder()
        .workers(8)
        .per_host(HostLimits::new().host(&server.url("/"), HostLimits::new().in_flight(1)))
        .build()
        .unwrap();
    let batch = http.batch((0..6).map(|i| server.url(&format!("/{i}"))));
    // One runs, the others wait in the host's line: six answers take 1.2 s at least.
    let held = http.held_by_hosts();
    assert!(held >= 1, "{held} held");
    batch.join_all();
    assert_eq!(batch.progress().succeeded(), 6);
    // Never two at once: each arrived after the one before was answered, and libcurl
    // never needed a second connection.
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 6);
    for pair in arrivals.windows(2) {
        assert!(pair[1] - pair[0] >= DELAY, "{arrivals:?}");
    }
    assert!(server.connections() <= 1, "{}", server.connections());
}

#[test]
fn a_host_limit_that_names_no_host_is_refused_at_build() {
    for garbage in [
        "",
        "/api",
        "127.0.0.1:99999",
        "127.0.0.1:port",
        "ftp://127.0.0.1/",
    ] {
        let limits = HostLimits::new()
            .in_flight(8)
            .host(garbage, HostLimits::new().in_flight(1));
        match Http::builder().per_host(limits).build() {
            Err(Error::Init { reason, .. }) => {
                assert!(reason.contains(&format!("{garbage:?} is not ")), "{reason}");
            }
            Err(e) => panic!("{garbage:?}: {e:?}"),
            Ok(_) => panic!("{garbage:?} was taken"),
        }
    }
    // The forms it takes, all at once.
    let limits = [
        "127.0.0.1:8080",
        "localhost",
        "http://127.0.0.1:8080/api",
        "[::1]:443",
    ]
    .iter()
    .fold(HostLimits::new(), |limits, host| {
        limits.host(host, HostLimits::new().in_flight(1))
    });
    assert!(Http::builder().per_host(limits).build().is_ok());
}

#[test]
fn a_burst_of_one_keeps_to_n_a_second_where_a_full_burst_goes_over() {
    // The same 5 a second, with a burst of 1 and of 5, eight requests each, side by side:
    // how many the server sees in the first second after the first.
    let first_second = |burst: u32| {
        let (server, arrivals) = timed_server(|| Reply::ok("x"));
        let http = Http::builder()
            .workers(8)
            .per_host(HostLimits::new().rate(5.0, burst))
            .build()
            .unwrap();
        let batch = http.batch((0..8).map(|i| server.url(&format!("/{i}"))));
        std::thread::spawn(move || {
            batch.join_all();
            drop(http);
            assert_eq!(batch.progress().succeeded(), 8);
            let arrivals = arrivals.lock().unwrap();
            let start = arrivals[0];
            let counted = arrivals
                .iter()
                .filter(|&&t| t - start < Duration::from_secs(1));
            (counted.count(), server)
        })
    };
    let (one, five) = (first_second(1), first_second(5));
    let (one, _) = one.join().unwrap();
    let (five, _) = five.join().unwrap();
    // A burst of 1: one every 200 ms, five in a second (six, if the first was slow to
    // arrive). A burst of 5: five at once, then one every 200 ms, all eight well within it.
    assert!(one <= 6, "burst 1: {one} in the first second");
    assert!(five >= 7, "burst 5: {five} in the first second");
}

#[test]
fn ten_thousand_urls_over_fifty_hosts_one_limited_to_two_a_second() {
    let hosts = ManyHosts::start(50);
    let limited = 49;
    let http = Http::builder()
        .workers(16)
        .per_host(HostLimits::new().host(&hosts.authority(limited), HostLimits::new().rate(2.0, 1)))
        .build()
        .unwrap();
    // 9,800 URLs over 49 hosts, and every 50th URL (200 in all) to the limited host.
    let urls: Vec<String> = (0..10_000)
        .map(|i| match i % 50 {
            0 => hosts.url(limited, &format!("/l{i}")),
            n => hosts.url(n - 1, &format!("/u{i}")),
        })
        .collect();
    let started = Instant::now();
    let batch = http.batch(urls);
    let mut unlimited_done = 0;
    for (request, response, _) in batch.as_completed() {
        if !request.uri().contains("/l") {
            assert_eq!(wait(response).unwrap().status, 200);
            unlimited_done += 1;
            if unlimited_done == 9_800 {
                break;
            }
        }
    }
    let took = started.elapsed();
    let limited_served = hosts.hits(limited);
    // The other hosts' work is done while the limited one has served what its rate
    // allows in that time (one at once, then two a second), not its 200.
    let allowed = 2 + (took.as_secs_f64() * 2.0).ceil() as usize;
    assert!(limited_served <= allowed, "{limited_served} in {took:?}");
    assert!(limited_served < 200);
    assert!((0..49).map(|h| hosts.hits(h)).sum::<usize>() == 9_800);
    // Plain requests: they ran on the drivers, and no worker was started for the ones
    // that wait (tests/process.rs counts the process's threads).
    assert_eq!(http.pool().workers(), 0);
    // The rest wait in its line: the rate let through a few more than it served, at most.
    let held = http.held_by_hosts();
    let let_through = 2 + (started.elapsed().as_secs_f64() * 2.0).ceil() as usize;
    assert!(held + let_through >= 200, "{held} held");
    // And they reached it paced, although 9,800 requests were queued ahead of them: a
    // request its host lets through goes ahead of the queue's backlog.
    let arrivals = hosts.arrivals(limited);
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(250), "{gap:?} in {arrivals:?}");
    }
    batch.cancel();
    batch.join_all();
    assert_eq!(batch.progress().done, 10_000);
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
    assert!(batch.progress().done <= 10);
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
