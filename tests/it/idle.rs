//! The idle timeout is silence: no byte for that long, before the head and during the
//! body, however many requests run at once; a download on a default client is bounded by
//! silence, not by its length; a connection closed right after the head is a cut body.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use asynchttp::{Destination, Retry, TimeoutKind};

use crate::support::*;

/// The bound a request's timeout names; panics on any other outcome.
#[track_caller]
fn bound(response: &LazyResponse) -> TimeoutKind {
    match error(response) {
        Error::Timeout { bound, .. } => bound,
        other => panic!("expected a timeout, got {}", other.chain()),
    }
}

/// Sends four requests to `url` at once on `http`: each must end with `expected`, and all
/// of them well before two of any bound (the sum of two) could pass.
fn four_at_once_end_with(http: &Http, url: &str, expected: TimeoutKind) -> Vec<Error> {
    let started = Instant::now();
    let pairs: Vec<_> = (0..4).map(|_| http.request(url)).collect();
    let errors: Vec<Error> = pairs.iter().map(|(response, _)| error(response)).collect();
    for e in &errors {
        assert_eq!(e.timeout_kind(), Some(expected), "{}", e.chain());
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "{took:?}");
    errors
}

/// A head announcing `len` bytes, then the body a byte at a time, `every` apart.
fn heartbeat(len: usize, every: Duration) -> RawServer {
    RawServer::start(move |stream| {
        send(
            stream,
            format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n").as_bytes(),
        );
        for _ in 0..len {
            thread::sleep(every);
            send(stream, b"x");
        }
    })
}

#[test]
fn a_heartbeat_slower_than_a_byte_a_second_is_not_silence() {
    // A byte every 1.2 s under a 2 s idle timeout: never 2 s without a byte, though far
    // below a byte a second on average over any window.
    let server = heartbeat(4, Duration::from_millis(1_200));
    let http = Http::builder()
        .idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let (response, content) = http.request(&server.url("/heartbeat"));
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(body(&content), b"xxxx");
}

#[test]
fn silent_requests_at_once_each_end_at_the_idle_timeout() {
    let server = RawServer::start(hold);
    let http = Http::builder()
        .idle_timeout(Duration::from_secs(1))
        .connect_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    // Not the connect timeout plus the idle one (21 s).
    for e in four_at_once_end_with(&http, &server.url("/silent"), TimeoutKind::Idle) {
        assert_eq!(e.to_string(), "timed out after 1s (idle timeout)");
    }
}

#[test]
fn silence_between_bytes_of_a_body_ends_it_after_the_idle_timeout_not_before() {
    // Two bytes at once, then silence: the clock starts again at the last byte.
    let server = RawServer::start(|stream| {
        send(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        for _ in 0..3 {
            thread::sleep(Duration::from_millis(600));
            send(stream, b"x");
        }
        hold(stream);
    });
    let http = Http::builder()
        .idle_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = Instant::now();
    let (response, _) = http.request(&server.url("/then-silence"));
    assert_eq!(bound(&response), TimeoutKind::Idle);
    // The last byte came at 1.8 s: the end is a second later at the earliest.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(2_700), "{took:?}");
    assert!(took < Duration::from_secs(8), "{took:?}");
}

#[test]
fn a_download_on_a_default_client_outlives_the_default_total_timeout() {
    // 32 s of a body that keeps coming, on a client with no timeout set: past the 30 s a
    // request in memory gets by default.
    const BYTES: usize = 64;
    let server = heartbeat(BYTES, Duration::from_millis(500));
    let dir = TempDir::new("idle-download");
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("slow.bin");
    let http = Http::new();
    let download = http.download(&server.url("/slow"), &path);
    let done = download.wait().unwrap();
    assert_eq!(done.bytes, BYTES as u64);
    assert_eq!(std::fs::read(&path).unwrap(), [b'x'; BYTES]);
}

#[test]
fn a_download_follows_its_own_idle_timeout() {
    let server = RawServer::start(|stream| {
        send(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nxx");
        hold(stream);
    });
    let dir = TempDir::new("idle-download-silent");
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("silent.bin");
    // A request's own idle timeout is the one a download follows.
    let req = Request::get(server.url("/silent")).idle_timeout(Duration::from_secs(1));
    let download = Http::new().send_to(req, Destination::file(&path));
    match download.wait() {
        Err(Error::Timeout {
            bound: TimeoutKind::Idle,
            after,
            ..
        }) => assert_eq!(after, Duration::from_secs(1)),
        other => panic!("expected an idle timeout, got {other:?}"),
    }
}

/// A head announcing 100 bytes, then the connection closed before any of them.
fn closed_after_head() -> RawServer {
    RawServer::start(|stream| {
        send(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    })
}

#[test]
fn a_connection_closed_right_after_the_head_is_a_cut_body() {
    let server = closed_after_head();
    let (response, _) = Http::new().request(&server.url("/cut"));
    match error(&response) {
        Error::BodyIncomplete {
            received, expected, ..
        } => assert_eq!((received, expected), (0, None)),
        other => panic!("expected a cut body, got {}", other.chain()),
    }
}

#[test]
fn a_download_closed_right_after_the_head_is_a_cut_body() {
    let server = closed_after_head();
    let dir = TempDir::new("cut-download");
    std::fs::create_dir_all(&dir.0).unwrap();
    let download = Http::new().download(&server.url("/cut"), dir.0.join("cut.bin"));
    match download.wait() {
        Err(Error::BodyIncomplete {
            received, expected, ..
        }) => assert_eq!((received, expected), (0, None)),
        other => panic!("expected a cut body, got {other:?}"),
    }
}

#[test]
fn a_connection_closed_right_after_the_head_is_retried_as_a_cut_body() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let server = RawServer::start({
        let attempts = attempts.clone();
        move |stream| {
            if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                send(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
            } else {
                send(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        }
    });
    let http = Http::builder()
        .retry(Retry::new(2).backoff(Duration::from_millis(10), Duration::from_millis(10)))
        .build()
        .unwrap();
    let (response, content) = http.request(&server.url("/cut-once"));
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(body(&content), b"ok");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}

/// A head announcing `chunks × size` bytes, then `size` bytes at a time, `every` apart.
fn paced(chunks: usize, size: usize, every: Duration) -> RawServer {
    RawServer::start(move |stream| {
        let len = chunks * size;
        send(
            stream,
            format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n").as_bytes(),
        );
        for _ in 0..chunks {
            thread::sleep(every);
            send(stream, &vec![b'x'; size]);
        }
    })
}

#[test]
fn a_trickle_below_the_minimum_speed_ends_though_never_silent() {
    // 5 bytes a second, a byte every 200 ms: never silent for the 5 s idle timeout.
    let server = paced(100, 1, Duration::from_millis(200));
    let http = Http::builder()
        .idle_timeout(Duration::from_secs(5))
        .min_speed(100, Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let (response, _) = http.request(&server.url("/trickle"));
    assert_eq!(bound(&response), TimeoutKind::MinSpeed);
    assert_eq!(
        error(&response).to_string(),
        "timed out after 1s (below the minimum speed)"
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_body_above_the_minimum_speed_is_never_ended_by_it() {
    // 2,000 bytes a second for 3 s, under a floor of 500 a second over each second.
    let server = paced(30, 200, Duration::from_millis(100));
    let req = Request::get(server.url("/steady")).min_speed(500, Duration::from_secs(1));
    let (response, content) = Http::new().send(req);
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(body(&content).len(), 6_000);
}

#[test]
fn a_minimum_speed_of_nothing_is_refused() {
    for (bytes, over) in [(0, Duration::from_secs(1)), (10, Duration::ZERO)] {
        assert!(matches!(
            Http::builder().min_speed(bytes, over).build(),
            Err(Error::Init { .. })
        ));
        let (response, _) =
            Http::new().send(Request::get("http://127.0.0.1:9/").min_speed(bytes, over));
        assert!(matches!(error(&response), Error::InvalidRequest { .. }));
    }
}

#[test]
fn stalled_handshakes_at_once_each_end_at_the_connect_timeout() {
    // libcurl's own timers (connect, total) under many transfers at once.
    let server = RawServer::start(hold);
    let http = Http::builder()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let url = server.url("/").replace("http://", "https://");
    four_at_once_end_with(&http, &url, TimeoutKind::Connect);
}

#[test]
fn silent_requests_at_once_each_end_at_the_total_timeout() {
    let server = RawServer::start(hold);
    let http = Http::builder()
        .timeout(Duration::from_secs(1))
        .connect_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    four_at_once_end_with(&http, &server.url("/silent"), TimeoutKind::Total);
}
