//! Which bound ends a request: the idle timeout for a connection that goes silent (and
//! never for one that keeps receiving), the connect timeout for everything before the
//! first byte (a stalled TLS handshake, a proxy that never answers `CONNECT`), and the
//! total timeout; each failure names its bound.
//!
//! Resolving a name is bounded by the connect timeout too (libcurl's resolver honours
//! it), but a resolver that never answers cannot be staged on loopback, so it is not
//! tested here.

use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use asynchttp::{ProxyInfo, TimeoutKind};

use crate::support::*;

/// A listener that accepts connections and never sends a byte: each is held, its input
/// read and dropped, until the client closes it or `BOUND` passes.
fn mute_listener() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    // The accept thread ends with the test process; the listener is never reused.
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            thread::spawn(move || hold(&mut { stream }));
        }
    });
    addr.to_string()
}

/// The bound and duration a request's timeout names; panics on any other outcome.
#[track_caller]
fn timed_out(response: &LazyResponse) -> (TimeoutKind, Duration) {
    match error(response) {
        Error::Timeout { after, bound, .. } => (bound, after),
        other => panic!("expected a timeout, got {}", other.chain()),
    }
}

#[test]
fn a_stalled_tls_handshake_ends_at_the_connect_timeout() {
    let addr = mute_listener();
    let http = Http::builder()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = Instant::now();
    let (response, _) = http.request(&format!("https://{addr}/"));
    assert_eq!(
        timed_out(&response),
        (TimeoutKind::Connect, Duration::from_millis(500))
    );
    assert!(started.elapsed() < BOUND / 2, "{:?}", started.elapsed());
}

#[test]
fn an_idle_timeout_alone_leaves_the_handshake_to_the_connect_timeout() {
    let addr = mute_listener();
    let http = Http::builder()
        .connect_timeout(Duration::from_millis(500))
        .idle_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = Instant::now();
    let (response, _) = http.request(&format!("https://{addr}/"));
    assert_eq!(timed_out(&response).0, TimeoutKind::Connect);
    assert!(started.elapsed() < BOUND / 2, "{:?}", started.elapsed());
}

#[test]
fn a_proxy_that_never_answers_connect_ends_at_the_connect_timeout() {
    let proxy = mute_listener();
    let http = Http::builder()
        .proxy_info(ProxyInfo::from_url(&format!("http://{proxy}")).unwrap())
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = Instant::now();
    // The tunnel is never made, so the target is never reached.
    let (response, _) = http.request("https://127.0.0.1:9/");
    assert_eq!(
        timed_out(&response),
        (TimeoutKind::Connect, Duration::from_millis(500))
    );
    assert!(started.elapsed() < BOUND / 2, "{:?}", started.elapsed());
}

#[test]
fn a_connect_timeout_longer_than_the_total_one_is_the_total_one() {
    let addr = mute_listener();
    let http = Http::builder()
        .connect_timeout(Duration::from_secs(60))
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let (response, _) = http.request(&format!("https://{addr}/"));
    assert_eq!(
        timed_out(&response),
        (TimeoutKind::Total, Duration::from_millis(500))
    );
}

#[test]
fn a_body_that_goes_silent_ends_at_the_idle_timeout() {
    let server = RawServer::start(|stream| {
        send(
            stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
        );
        hold(stream);
    });
    let http = Http::builder()
        .idle_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = Instant::now();
    let (response, _) = http.request(&server.url("/partial"));
    assert_eq!(
        timed_out(&response),
        (TimeoutKind::Idle, Duration::from_millis(300))
    );
    // Silence from the last byte, not a speed averaged over a window of seconds, which
    // would still count the first ten bytes and end it five seconds or more after them.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn a_server_that_never_answers_ends_at_the_idle_timeout() {
    let server = RawServer::start(hold);
    let http = Http::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let req = Request::get(server.url("/silent")).idle_timeout(Duration::from_secs(1));
    let started = Instant::now();
    let (response, _) = http.send(req);
    assert_eq!(
        timed_out(&response),
        (TimeoutKind::Idle, Duration::from_secs(1))
    );
    assert_eq!(
        error(&response).to_string(),
        "timed out after 1s (idle timeout)"
    );
    assert_eq!(error(&response).timeout_kind(), Some(TimeoutKind::Idle));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_slow_but_steady_body_is_never_ended_by_the_idle_timeout() {
    const BYTES: usize = 20;
    let server = RawServer::start(|stream| {
        send(
            stream,
            format!("HTTP/1.1 200 OK\r\nContent-Length: {BYTES}\r\n\r\n").as_bytes(),
        );
        // A byte every 100 ms: 2 seconds in all, twice the idle timeout.
        for _ in 0..BYTES {
            thread::sleep(Duration::from_millis(100));
            send(stream, b"x");
        }
    });
    let http = Http::new();
    let req = Request::get(server.url("/trickle")).idle_timeout(Duration::from_secs(1));
    let (response, content) = http.send(req);
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(body(&content), [b'x'; BYTES]);
}

#[test]
fn a_total_timeout_still_ends_a_steady_body_when_both_are_set() {
    let server = RawServer::start(|stream| {
        send(stream, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        for _ in 0..100 {
            thread::sleep(Duration::from_millis(100));
            send(stream, b"x");
        }
    });
    let http = Http::builder()
        .idle_timeout(Duration::from_secs(5))
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let started = Instant::now();
    let (response, _) = http.request(&server.url("/trickle"));
    assert_eq!(
        timed_out(&response),
        (TimeoutKind::Total, Duration::from_millis(700))
    );
    assert!(started.elapsed() < BOUND / 2, "{:?}", started.elapsed());
}

#[test]
fn a_zero_idle_timeout_is_refused() {
    assert!(matches!(
        Http::builder().idle_timeout(Duration::ZERO).build(),
        Err(Error::Init { .. })
    ));
    let http = Http::new();
    let (response, _) = http.send(Request::get("http://127.0.0.1:9/").idle_timeout(Duration::ZERO));
    assert!(matches!(error(&response), Error::InvalidRequest { .. }));
}
