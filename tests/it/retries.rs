//! Retries: which failures and statuses are sent again, how often, after what wait, for
//! which methods; `Retry-After` honoured within its cap and the deadline; the client's
//! budget against a host that fails everything; and waiting retries holding no thread.

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use asynchttp::{Retry, RetryBudget};

use crate::support::*;

/// A retry policy whose waits are short: the tests count attempts, not time.
fn quick(retries: u32) -> Retry {
    Retry::new(retries).backoff(Duration::from_millis(5), Duration::from_millis(20))
}

/// A server answering `status` to the first `failures` requests, then 200 `ok`.
fn failing_first(failures: usize, status: u16) -> Server {
    let seen = AtomicUsize::new(0);
    Server::start(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) < failures {
            Reply::new(status, "busy")
        } else {
            Reply::ok("ok")
        }
    })
}

#[test]
fn retryable_statuses_are_sent_again_until_they_succeed() {
    for status in [429, 502, 503, 504] {
        let server = failing_first(2, status);
        let http = Http::builder().retry(quick(3)).build().unwrap();
        let (response, content) = http.request(&server.url("/"));
        let response = wait(&response).unwrap();
        assert_eq!((response.status, body(&content)), (200, &b"ok"[..]));
        assert_eq!(response.attempts, 3, "{status}");
        assert_eq!(server.hits(), 3, "{status}");
    }
}

#[test]
fn the_last_response_is_returned_when_the_retries_run_out() {
    let server = failing_first(usize::MAX, 503);
    let http = Http::builder().retry(quick(2)).build().unwrap();
    let (response, content) = http.request(&server.url("/"));
    let response = wait(&response).unwrap();
    assert_eq!((response.status, body(&content)), (503, &b"busy"[..]));
    assert_eq!(response.attempts, 3);
    assert_eq!(server.hits(), 3);
}

#[test]
fn other_statuses_and_clients_without_a_policy_are_not_retried() {
    let server = failing_first(usize::MAX, 500);
    let http = Http::builder().retry(quick(3)).build().unwrap();
    let (response, _) = http.request(&server.url("/"));
    assert_eq!(wait(&response).unwrap().status, 500);
    assert_eq!(server.hits(), 1, "500 is not in the list");

    let server = failing_first(usize::MAX, 503);
    let (response, _) = Http::new().request(&server.url("/"));
    assert_eq!(wait(&response).unwrap().attempts, 1, "off by default");
    assert_eq!(server.hits(), 1);

    let (response, _) = http.send(Request::get(server.url("/")).retry(Retry::none()));
    wait(&response).unwrap();
    assert_eq!(
        server.hits(),
        2,
        "a request opts out of its client's policy"
    );

    let own = Request::get(server.url("/")).retry(quick(1).statuses([503]));
    let (response, _) = Http::new().send(own);
    assert_eq!(
        wait(&response).unwrap().attempts,
        2,
        "a request's own policy"
    );
    assert_eq!(server.hits(), 4);
}

#[test]
fn a_post_is_sent_again_only_when_opted_in_and_with_its_body() {
    let server = failing_first(usize::MAX, 503);
    let http = Http::builder().retry(quick(2)).build().unwrap();
    let post = || Request::new("POST", server.url("/orders")).body("order=1");
    let (response, _) = http.send(post());
    assert_eq!(wait(&response).unwrap().attempts, 1);
    assert_eq!(server.hits(), 1, "not idempotent");

    let (response, _) = http.send(post().retry(quick(2).any_method(true)));
    assert_eq!(wait(&response).unwrap().attempts, 3);
    let received = server.received();
    assert_eq!(received.len(), 4);
    assert!(
        received
            .iter()
            .all(|r| r.method == "POST" && r.body == b"order=1")
    );

    // PUT and DELETE are idempotent: retried without opting in.
    let (response, _) = http.send(Request::new("PUT", server.url("/doc")).body("v"));
    assert_eq!(wait(&response).unwrap().attempts, 3);
}

#[test]
fn a_refused_connection_is_retried_for_any_method_since_nothing_was_sent() {
    let url = closed_port_url();
    let http = Http::builder().retry(quick(2)).build().unwrap();
    let batch = http.batch([Request::new("POST", url.as_str()).body("x")]);
    batch.join_all();
    let progress = batch.progress();
    assert_eq!((progress.failed, progress.retries), (1, 2));
    assert!(matches!(
        batch.exceptions().next(),
        Some((_, Error::Connect { .. }))
    ));

    let http = Http::builder()
        .retry(quick(2).on_connect(false))
        .build()
        .unwrap();
    let batch = http.batch([url.as_str()]);
    batch.join_all();
    assert_eq!(batch.progress().retries, 0);
}

#[test]
fn a_body_cut_short_is_fetched_again_whole() {
    let connections = AtomicUsize::new(0);
    let server = RawServer::start(move |stream| {
        if connections.fetch_add(1, Ordering::SeqCst) == 0 {
            send(
                stream,
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234",
            );
        } else {
            send(
                stream,
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789",
            );
        }
    });
    let http = Http::builder().retry(quick(1)).build().unwrap();
    let (response, content) = http.request(&server.url("/"));
    assert_eq!(wait(&response).unwrap().attempts, 2);
    assert_eq!(body(&content), b"0123456789");

    let cutting = RawServer::start(|stream| {
        send(
            stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234",
        );
    });
    let http = Http::builder()
        .retry(quick(1).on_incomplete(false))
        .build()
        .unwrap();
    let (response, _) = http.request(&cutting.url("/"));
    assert!(matches!(error(&response), Error::BodyIncomplete { .. }));
    assert_eq!(cutting.connections(), 1);
}

#[test]
fn retry_after_in_seconds_is_waited_out() {
    let seen = AtomicUsize::new(0);
    let server = Server::start(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::new(503, "").header("Retry-After", "1")
        } else {
            Reply::ok("ok")
        }
    });
    // The backoff alone would retry within 5 ms.
    let http = Http::builder().retry(quick(1)).build().unwrap();
    let started = Instant::now();
    let (response, _) = http.request(&server.url("/"));
    assert_eq!(wait(&response).unwrap().status, 200);
    assert!(started.elapsed() >= Duration::from_millis(990));
    assert_eq!(server.hits(), 2);
}

#[test]
fn retry_after_past_its_cap_or_the_deadline_returns_the_response_at_once() {
    let server = Server::start(|_| Reply::new(503, "later").header("Retry-After", "3600"));
    let http = Http::builder().retry(quick(3)).build().unwrap();
    let started = Instant::now();
    let (response, content) = http.request(&server.url("/"));
    assert_eq!(wait(&response).unwrap().status, 503);
    assert_eq!(body(&content), b"later");
    assert_eq!(server.hits(), 1, "an hour is past the 60 s cap");
    assert!(started.elapsed() < BOUND);

    // Within the cap, but past the request's deadline: not waited either.
    let server = Server::start(|_| Reply::new(429, "").header("Retry-After", "30"));
    let http = Http::builder()
        .retry(quick(3))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let (response, _) = http.request(&server.url("/"));
    assert_eq!(wait(&response).unwrap().status, 429);
    assert_eq!(server.hits(), 1);

    // An HTTP date in the past is no wait at all.
    let seen = AtomicUsize::new(0);
    let server = Server::start(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::new(503, "").header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")
        } else {
            Reply::ok("ok")
        }
    });
    let (response, _) = http.request(&server.url("/"));
    assert_eq!(wait(&response).unwrap().attempts, 2);
}

#[test]
fn the_budget_bounds_what_a_dying_host_receives() {
    let server = failing_first(usize::MAX, 503);
    let http = Http::builder()
        .retry(Retry::new(2).backoff(Duration::ZERO, Duration::ZERO))
        .build()
        .unwrap();
    let n = 1_000;
    let urls: Vec<String> = (0..n).map(|i| server.url(&format!("/{i}"))).collect();
    let batch = http.batch(urls);
    batch.join_all();
    let progress = batch.progress();
    assert_eq!(progress.done, n);
    let sent = server.hits();
    // Never more than attempts × requests; with the default budget (a reserve of 10,
    // a fifth of a retry per request) far fewer.
    assert!(sent <= 3 * n, "{sent}");
    assert!(sent <= n + 10 + n / 5, "{sent}");
    assert!(sent >= n + 10, "the reserve is spent first: {sent}");
    assert_eq!(progress.retries, sent - n);

    let http = Http::builder()
        .retry(Retry::new(2).backoff(Duration::ZERO, Duration::ZERO))
        .retry_budget(RetryBudget::unlimited())
        .build()
        .unwrap();
    let before = server.hits();
    let batch = http.batch((0..100).map(|i| server.url(&format!("/u{i}"))));
    batch.join_all();
    assert_eq!(
        server.hits() - before,
        300,
        "no budget: every attempt is made"
    );
}

#[test]
fn requests_waiting_to_be_sent_again_hold_no_worker() {
    // Each request has a callback, so it runs on a worker; the pool has two.
    let seen = AtomicUsize::new(0);
    let firsts = Arc::new(std::sync::Mutex::new(Vec::new()));
    let order = firsts.clone();
    let server = Server::start(move |req| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        order.lock().unwrap().push((req.url.clone(), n));
        Reply::new(503, "").header("Retry-After", "2")
    });
    let http = Http::builder()
        .workers(2)
        .retry(Retry::new(1))
        .retry_budget(RetryBudget::unlimited())
        .build()
        .unwrap();
    let n = 20;
    let pairs: Vec<_> = (0..n)
        .map(|i| {
            let req =
                Request::get(server.url(&format!("/{i}"))).callback(|_, _| Ok::<_, Error>(()));
            http.send(req)
        })
        .collect();
    // Every first attempt arrives while the earlier ones wait out their two seconds: a
    // request waiting for its retry does not hold one of the two workers.
    eventually("all first attempts", || server.hits() >= n);
    let during = http.pool().workers();
    for (response, _) in &pairs {
        let response = wait(response).unwrap();
        assert_eq!((response.status, response.attempts), (503, 2));
    }
    assert_eq!(server.hits(), 2 * n);
    // Each URL's first attempt came before any second attempt.
    let log = firsts.lock().unwrap().clone();
    let mut per_url = std::collections::HashMap::new();
    for (url, n) in log {
        per_url.entry(url).or_insert_with(Vec::new).push(n);
    }
    assert_eq!(per_url.len(), n);
    assert!(
        per_url
            .values()
            .all(|hits| hits.len() == 2 && hits[0] < n && hits[1] >= n),
        "{per_url:?}"
    );
    // Never more than the pool's two workers (tests/process.rs counts the process's
    // threads while retries wait).
    assert!(during <= 2, "{during}");
    assert!(http.pool().workers() <= 2);
}

#[test]
fn a_waiting_retry_can_be_cancelled_and_shutdown_waits_for_it() {
    let server = Server::start(|_| Reply::new(503, "").header("Retry-After", "2"));
    let http = Http::builder().retry(Retry::new(1)).build().unwrap();
    let batch = http.batch([server.url("/a")]);
    eventually("a retry decided", || batch.progress().retries == 1);
    assert_eq!(batch.cancel(), 1);
    assert!(matches!(
        batch.exceptions().next(),
        Some((_, Error::Cancelled))
    ));
    assert_eq!(server.hits(), 1, "never sent again");

    let (response, _) = http.request(&server.url("/b"));
    eventually("the first attempt", || server.hits() == 2);
    http.shutdown();
    // The retry was still made: shutdown lets queued requests finish.
    assert_eq!(wait(&response).unwrap().attempts, 2);
    assert_eq!(server.hits(), 3);
}

#[test]
fn a_host_that_comes_back_is_reached_by_the_retry() {
    // Nothing listens on the port at first; a server takes it before the retry.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let http = Http::builder()
        .retry(Retry::new(5).backoff(Duration::from_millis(300), Duration::from_millis(600)))
        .build()
        .unwrap();
    let (response, content) = http.request(&format!("http://{addr}/"));
    let server = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        let listener = TcpListener::bind(addr).unwrap();
        let (mut stream, _) = listener.accept().unwrap();
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nback");
    });
    let response = wait(&response).unwrap();
    assert!(response.attempts >= 2, "{}", response.attempts);
    assert_eq!(body(&content), b"back");
    server.join().unwrap();
}
