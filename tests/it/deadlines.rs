//! One deadline per request, timeouts that always fire, and waits that never outlast
//! their own timeout.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::support::*;

/// `/hop/<n>` answers after `delay`, redirecting to the next hop until the last.
fn slow_hops(hops: usize, delay: Duration) -> Server {
    Server::start(move |req| {
        let n: usize = req
            .url
            .rsplit('/')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let reply = if n + 1 < hops {
            Reply::new(302, "").header("Location", &format!("/hop/{}", n + 1))
        } else {
            Reply::ok("arrived")
        };
        reply.delay(delay)
    })
}

#[test]
fn redirect_hops_share_one_deadline() {
    let server = slow_hops(6, Duration::from_millis(700));
    let http = Http::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let (response, _) = http.request(&server.url("/hop/0"));
    match error(&response) {
        Error::Timeout { after, .. } => assert_eq!(after, Duration::from_secs(1)),
        other => panic!(
            "expected the deadline to end the chain, got {}",
            other.chain()
        ),
    }
    // 0.7 s a hop in 1 s: the second hop is cut short and no third is sent.
    assert!(server.hits() <= 2, "{} hops sent", server.hits());
}

#[test]
fn a_request_timeout_is_one_deadline_too() {
    let server = slow_hops(6, Duration::from_millis(700));
    let http = Http::new();
    let req = Request::get(server.url("/hop/0")).timeout(Duration::from_secs(1));
    let (response, _) = http.send(req);
    assert!(error(&response).is_timeout());
    assert!(server.hits() <= 2, "{} hops sent", server.hits());
}

#[test]
fn a_401_and_its_answer_share_one_deadline() {
    let server = Server::start(|req| {
        let reply = match req.header("authorization") {
            Some(_) => Reply::ok("welcome"),
            None => Reply::new(401, "").header("WWW-Authenticate", "Basic realm=\"r\""),
        };
        reply.delay(Duration::from_millis(700))
    });
    let http = Http::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    http.add_credentials("alice", "s3cret", "");
    let (response, _) = http.request(&server.url("/private"));
    assert!(error(&response).is_timeout());
    assert!(server.hits() <= 2, "{} requests sent", server.hits());
}

/// A server that accepts and never answers, holding the connection past every bound.
fn silent_server() -> RawServer {
    RawServer::start(|_| thread::sleep(BOUND * 2))
}

#[test]
fn sub_millisecond_timeouts_still_fire() {
    let server = silent_server();
    let tiny = Duration::from_micros(500);
    let http = Http::builder().timeout(tiny).build().unwrap();
    let (by_client, _) = http.request(&server.url("/client"));
    let (by_request, _) = Http::new().send(Request::get(server.url("/request")).timeout(tiny));
    for response in [&by_client, &by_request] {
        match error(response) {
            Error::Timeout { after, .. } => assert_eq!(after, tiny),
            other => panic!("expected a timeout, got {}", other.chain()),
        }
    }
}

#[test]
fn zero_timeouts_are_refused_before_anything_is_sent() {
    let server = Server::start(|_| Reply::ok("sent"));
    let refused = Http::builder().timeout(Duration::ZERO).build();
    assert!(matches!(refused, Err(Error::Init { .. })), "{refused:?}");
    let refused = Http::builder().connect_timeout(Duration::ZERO).build();
    assert!(matches!(refused, Err(Error::Init { .. })), "{refused:?}");
    let http = Http::new();
    let (response, _) = http.send(Request::get(server.url("/")).timeout(Duration::ZERO));
    assert!(
        LazyResponse::is_ready(&response),
        "refused when it was made"
    );
    match error(&response) {
        Error::InvalidRequest { reason, .. } => assert!(reason.contains("timeout"), "{reason}"),
        other => panic!("expected InvalidRequest, got {}", other.chain()),
    }
    assert_eq!(server.hits(), 0);
}

#[test]
fn duration_max_means_no_practical_limit() {
    let server = Server::start(|_| Reply::ok("patient"));
    let http = Http::builder()
        .timeout(Duration::MAX)
        .connect_timeout(Duration::MAX)
        .build()
        .unwrap();
    let (response, content) = http.request(&server.url("/client"));
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(body(&content), b"patient");
    let (response, _) =
        Http::new().send(Request::get(server.url("/request")).timeout(Duration::MAX));
    assert_eq!(wait(&response).unwrap().status, 200);
}

#[test]
fn a_timed_wait_in_a_callback_never_runs_the_request_inline() {
    let server = Server::start(|req| {
        let delay = if req.url.ends_with("/slow") { 1500 } else { 0 };
        Reply::ok("done").delay(Duration::from_millis(delay))
    });
    // One worker: the request made in the callback can only wait in the queue.
    let http = Http::builder().workers(1).build().unwrap();
    let (told, seen) = mpsc::channel();
    let (inner_told, inner) = mpsc::channel();
    let client = http.clone();
    let slow = server.url("/slow");
    let req = Request::get(server.url("/first")).callback(move |_, _| {
        let (queued, _) = client.request(&slow);
        let polled = LazyResponse::wait_timeout(&queued, Duration::ZERO).is_some();
        let short = LazyResponse::wait_timeout(&queued, Duration::from_millis(50)).is_some();
        told.send((polled, short)).unwrap();
        inner_told.send(queued).unwrap();
        Ok::<(), std::io::Error>(())
    });
    let (first, _) = http.send(req);
    assert_eq!(wait(&first).unwrap().status, 200);
    let (polled, short) = seen.recv_timeout(BOUND).expect("the callback ran");
    assert!(
        !polled,
        "a zero wait ran the queued request on the callback's worker"
    );
    assert!(
        !short,
        "a short wait ran the queued request on the callback's worker"
    );
    // Once the worker is free, the queued request runs as usual.
    let queued = inner.recv_timeout(BOUND).unwrap();
    assert_eq!(wait(&queued).unwrap().status, 200);
}
