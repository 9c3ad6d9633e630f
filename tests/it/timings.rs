//! Where a request's time went (`Response::timings`), and a batch's requests by host
//! (`Batch::hosts`). Only lower bounds that sleeps guarantee and relations are asserted: a
//! busy machine makes everything slower, never faster.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::Duration;

use asynchttp::{HostLimits, MemoryCache, Retry, Timings};

use crate::support::*;
use crate::tls::Pki;

const HEAD_DELAY: Duration = Duration::from_millis(200);
const CHUNK_DELAY: Duration = Duration::from_millis(60);

/// Waits `HEAD_DELAY`, sends the head, then a 10-byte body in five pieces `CHUNK_DELAY`
/// apart, and closes the connection.
fn slow_server() -> RawServer {
    RawServer::start(|stream| {
        thread::sleep(HEAD_DELAY);
        send(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        for piece in [b"ab", b"cd", b"ef", b"gh", b"ij"] {
            send(stream, piece);
            thread::sleep(CHUNK_DELAY);
        }
    })
}

#[test]
fn a_slow_head_and_a_slow_body_are_told_apart() {
    init_logging();
    let server = slow_server();
    let http = Http::builder().timings(true).build().unwrap();
    let (response, content) = http.request(&server.url("/slow"));
    assert_eq!(body(&content), b"abcdefghij");
    let r = wait(&response).unwrap();
    let t = r.timings;
    // The head waited; then four pieces of the body came after the first.
    assert!(t.first_byte() >= HEAD_DELAY * 3 / 4, "{t:?}");
    assert!(t.total() >= t.first_byte() + CHUNK_DELAY * 3, "{t:?}");
    assert_eq!(t.total(), r.elapsed);
    assert!(t.queued() < BOUND, "{t:?}");
    assert_eq!(t.host_wait(), Duration::ZERO);
    // A new plain connection: resolved (an IP literal, quickly) and connected, no TLS.
    assert!(t.resolve().is_some() && t.connect().is_some(), "{t:?}");
    assert_eq!(t.tls(), None);
    assert!(
        t.resolve().unwrap() + t.connect().unwrap() <= t.first_byte(),
        "{t:?}"
    );
}

#[test]
fn without_timings_only_the_phases_are_left_out() {
    let server = Server::start(|_| Reply::ok("x").delay(Duration::from_millis(100)));
    // Off by default.
    let http = Http::new();
    let (response, _) = http.request(&server.url("/"));
    let t = wait(&response).unwrap().timings;
    assert_eq!((t.resolve(), t.connect(), t.tls()), (None, None, None));
    assert!(t.first_byte() >= Duration::from_millis(75), "{t:?}");
    assert!(t.total() >= t.first_byte(), "{t:?}");
}

#[test]
fn over_tls_the_handshake_is_timed_once_per_connection() {
    let pki = Pki::new("timings");
    let server = pki.server(&["localhost", "127.0.0.1"], false, false, false);
    let http = Http::builder()
        .ca_certs(pki.ca_file())
        .timings(true)
        .build()
        .unwrap();
    let fetch = || {
        let (response, content) = http.request(&server.https_url("/"));
        assert_eq!(body(&content), b"secure");
        wait(&response).unwrap().timings
    };
    let first = fetch();
    assert!(
        first.resolve().is_some() && first.connect().is_some(),
        "{first:?}"
    );
    assert!(
        first.tls().is_some_and(|tls| tls > Duration::ZERO),
        "{first:?}"
    );
    assert!(first.tls().unwrap() <= first.first_byte(), "{first:?}");
    // The first request to an https origin goes alone, on a connection that HTTP/2 would
    // share; an HTTP/1.1 origin's next requests get connections of their own, kept alive.
    let second = fetch();
    assert!(second.tls().is_some(), "{second:?}");
    let again = fetch();
    assert_eq!(server.connections(), 2);
    // A kept-alive connection used again: no phase gone through.
    assert_eq!(
        (again.resolve(), again.connect(), again.tls()),
        (None, None, None)
    );
    assert!(again.first_byte() > Duration::ZERO, "{again:?}");
}

#[test]
fn a_cache_hit_has_only_its_total_and_a_new_response_nothing() {
    assert_eq!(Response::new(200).timings, Timings::default());
    let server = Server::start(|_| Reply::ok("kept").header("Cache-Control", "max-age=600"));
    let http = Http::builder()
        .cache_store(std::sync::Arc::new(MemoryCache::new()))
        .timings(true)
        .build()
        .unwrap();
    let (first, _) = http.request(&server.url("/c"));
    let first = wait(&first).unwrap();
    assert!(!first.from_cache && first.timings.first_byte() > Duration::ZERO);
    let (hit, _) = http.request(&server.url("/c"));
    let hit = wait(&hit).unwrap();
    assert!(hit.from_cache);
    let t = hit.timings;
    assert_eq!(t.total(), hit.elapsed);
    assert_eq!(
        (t.queued(), t.host_wait(), t.first_byte()),
        (Duration::ZERO, Duration::ZERO, Duration::ZERO)
    );
    assert_eq!((t.resolve(), t.connect(), t.tls()), (None, None, None));
    assert_eq!(server.hits(), 1);
}

#[test]
fn a_redirect_chain_shares_one_start() {
    let server = Server::start(|req| match req.url.as_str() {
        "/from" => Reply::new(302, "moved")
            .header("Location", "/to")
            .delay(Duration::from_millis(100)),
        _ => Reply::ok("here").delay(Duration::from_millis(100)),
    });
    let http = Http::new();
    let (response, _) = http.request(&server.url("/from"));
    let r = wait(&response).unwrap();
    let hop = r.previous.as_deref().expect("the redirect");
    // The final head came after the redirect's, both counted from the request's start.
    assert!(
        hop.timings.first_byte() >= Duration::from_millis(75),
        "{hop:?}"
    );
    assert!(
        r.timings.first_byte() >= hop.timings.first_byte() + Duration::from_millis(75),
        "{:?} after {:?}",
        r.timings,
        hop.timings
    );
    assert!(r.timings.total() >= r.timings.first_byte());
    // The request's own figures are on the final response only.
    assert_eq!(hop.timings.total(), Duration::ZERO);
}

#[test]
fn a_request_sent_again_keeps_its_first_start_and_counts_as_a_retry() {
    // A slow 503 first, then a quick 200.
    let seen = AtomicUsize::new(0);
    let server = Server::start(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::new(503, "busy").delay(Duration::from_millis(100)),
        _ => Reply::ok("ok"),
    });
    let retry = Retry::new(2).backoff(Duration::from_millis(5), Duration::from_millis(20));
    let http = Http::builder().retry(retry).build().unwrap();
    let batch = http.batch([server.url("/")]);
    batch.join_all();
    let (_, response, _) = batch.responses().next().expect("a response");
    assert_eq!((response.status, response.attempts), (200, 2));
    // The first attempt's slow answer is in the time to the head of the last one.
    let t = response.timings;
    assert!(t.first_byte() >= Duration::from_millis(75), "{t:?}");
    assert!(t.total() >= t.first_byte(), "{t:?}");
    let hosts = batch.hosts();
    assert_eq!((hosts[0].requests, hosts[0].retries), (1, 1), "{hosts:?}");
}

#[test]
fn a_request_held_back_by_its_host_tells_how_long() {
    let server = Server::start(|_| Reply::ok("x").delay(Duration::from_millis(200)));
    let http = Http::builder()
        .per_host(HostLimits::new().in_flight(1))
        .build()
        .unwrap();
    let (first, _) = http.request(&server.url("/1"));
    let (second, _) = http.request(&server.url("/2"));
    let (first, second) = (
        wait(&first).unwrap().timings,
        wait(&second).unwrap().timings,
    );
    // One at a time: the second waited in its host's line while the first ran.
    assert!(
        first.host_wait() < second.host_wait(),
        "{first:?} {second:?}"
    );
    assert!(
        second.host_wait() >= Duration::from_millis(150),
        "{second:?}"
    );
    assert!(second.queued() >= second.host_wait(), "{second:?}");
    // Without limits, no line.
    let (free, _) = Http::new().request(&server.url("/3"));
    assert_eq!(wait(&free).unwrap().timings.host_wait(), Duration::ZERO);
}

#[test]
fn a_batch_reports_each_host_slowest_first() {
    let fine = Server::start(|req| match req.url.as_str() {
        "/slow" => Reply::ok("slow").delay(Duration::from_millis(100)),
        _ => Reply::ok("fast"),
    });
    // Promises ten bytes and sends five: every request to it fails.
    let broken = RawServer::start(|stream| {
        send(
            stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        );
    });
    let http = Http::new();
    let batch = http.batch([
        fine.url("/a"),
        broken.url("/x"),
        fine.url("/slow"),
        broken.url("/y"),
        fine.url("/b"),
    ]);
    batch.join_all();
    let hosts = batch.hosts();
    assert_eq!(hosts.len(), 2, "{hosts:?}");
    let (first, second) = (&hosts[0], &hosts[1]);
    // The host with responses comes first; the one without has no times.
    assert_eq!(first.host, fine.url("").trim_start_matches("http://"));
    assert_eq!((first.requests, first.failures, first.retries), (3, 0, 0));
    let (p50, p99) = (first.p50.unwrap(), first.p99.unwrap());
    assert!(p50 <= p99, "{first:?}");
    assert!(p99 >= Duration::from_millis(75), "the slow one: {first:?}");
    assert_eq!(second.host, broken.url("").trim_start_matches("http://"));
    assert_eq!((second.requests, second.failures), (2, 2));
    assert_eq!((second.p50, second.p99), (None, None));
}

#[test]
fn a_batch_counts_only_the_requests_that_have_finished() {
    let (release, held) = mpsc::channel::<()>();
    let held = Mutex::new(held);
    let server = RawServer::start(move |stream| {
        let _ = held.lock().unwrap().recv_timeout(BOUND);
        send(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    let http = Http::new();
    let batch = http.batch([server.url("/held")]);
    assert!(batch.hosts().is_empty());
    release.send(()).unwrap();
    batch.join_all();
    let hosts = batch.hosts();
    assert_eq!((hosts.len(), hosts[0].requests), (1, 1), "{hosts:?}");
}
