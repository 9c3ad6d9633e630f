//! HTTP/2 over TLS against a loopback hyper server that offers `h2` over ALPN: the version a
//! response reports, how many connections a burst of concurrent requests opens to one
//! origin, a server that retires its connections with GOAWAY or refuses streams, and a
//! POST's body.

use std::time::{Duration, Instant};

use asynchttp::Batch;

use crate::support::*;
use crate::tls::Pki;

/// ALPN of a server that speaks HTTP/2 and HTTP/1.1, preferring HTTP/2.
const H2: &[&str] = &["h2", "http/1.1"];

/// Replies with the request's path, or echoes a POST's body.
fn echo(req: &Received) -> Reply {
    if req.method == "POST" {
        Reply::ok(req.body.clone())
    } else {
        Reply::ok(path_of(&req.url))
    }
}

/// HTTP/2 requests arrive in absolute form (`:scheme` and `:authority`), HTTP/1.1 ones as
/// a path.
fn path_of(url: &str) -> String {
    let uri: hyper::Uri = url.parse().expect("request target");
    uri.path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default()
}

fn client(pki: &Pki, workers: usize) -> Http {
    Http::builder()
        .workers(workers)
        .ca_certs(pki.ca_file())
        .build()
        .unwrap()
}

/// Waits for every request of `batch`, within the bound.
#[track_caller]
fn finish(batch: &Batch) {
    let start = Instant::now();
    let mut progress = batch.progress();
    while !progress.is_complete() {
        assert!(
            start.elapsed() < BOUND,
            "batch not done within {BOUND:?}: {progress:?}"
        );
        progress = batch.wait_progress(&progress, Duration::from_millis(200));
    }
}

#[test]
fn a_response_over_h2_reports_version_20_and_over_http1_version_11() {
    let pki = Pki::new("h2-version");
    let h2 = Server::with_tls(Some(pki.config(&["127.0.0.1"], H2)), echo);
    let http1_only = Server::with_tls(Some(pki.config(&["127.0.0.1"], &["http/1.1"])), echo);
    let no_alpn = Server::with_tls(Some(pki.config(&["127.0.0.1"], &[])), echo);
    let http = client(&pki, 5);

    let (response, content) = http.request(&h2.https_url("/v"));
    assert_eq!(body(&content), b"/v");
    assert_eq!(wait(&response).unwrap().version, 20);
    assert_eq!(h2.h2_connections(), 1);
    assert_eq!(h2.received()[0].version, "HTTP/2.0");

    for (what, server) in [("http/1.1 only", &http1_only), ("no ALPN", &no_alpn)] {
        let (response, content) = http.request(&server.https_url("/v"));
        assert_eq!(body(&content), b"/v", "{what}");
        assert_eq!(wait(&response).unwrap().version, 11, "{what}");
        assert_eq!(server.h2_connections(), 0, "{what}");
        assert_eq!(server.received()[0].version, "HTTP/1.1", "{what}");
    }
}

/// How a server retires its HTTP/2 connections after 50 streams.
#[derive(Debug, Clone, Copy)]
enum Retiring {
    /// hyper's graceful shutdown: GOAWAY with the highest stream id, a PING, then GOAWAY
    /// with the last stream processed; streams sent meanwhile are still served.
    Goaway,
    /// Exactly 50 streams served, GOAWAY after the 50th, REFUSED_STREAM for later ones.
    Refusing,
}

/// 100 GETs submitted at once to one h2 origin, each answered after 50 ms so that they
/// overlap: all succeed over HTTP/2, on at most two TCP connections. Without the probe
/// (see `transport/protocols.rs`) every request started before the first connection's
/// ALPN settled on h2 would open a connection of its own: isahc never sets PIPEWAIT.
fn hundred_at_once(workers: usize) {
    let pki = Pki::new(&format!("h2-burst-{workers}"));
    let server = Server::with_tls(Some(pki.config(&["127.0.0.1"], H2)), |req| {
        echo(req).delay(Duration::from_millis(50))
    });
    let http = client(&pki, workers);
    let started = Instant::now();
    let pairs: Vec<_> = (0..100)
        .map(|i| {
            let path = format!("/burst/{i}");
            (http.request(&server.https_url(&path)), path)
        })
        .collect();
    for ((response, content), path) in &pairs {
        assert_eq!(body(content), path.as_bytes());
        assert_eq!(wait(response).unwrap().version, 20, "{path}");
    }
    let elapsed = started.elapsed();
    let (connections, per_connection) = (server.connections(), server.requests_per_connection());
    eprintln!(
        "{workers} workers: 100 requests in {elapsed:?} over {connections} connections, \
         requests per connection {per_connection:?}"
    );
    assert_eq!(server.hits(), 100);
    assert!(
        connections <= 2,
        "{workers} workers opened {connections} connections to one h2 origin for 100 \
         concurrent requests; requests per connection {per_connection:?}"
    );
}

#[test]
fn a_hundred_concurrent_requests_to_one_h2_origin_use_at_most_two_connections_on_100_workers() {
    hundred_at_once(100);
}

#[test]
fn a_hundred_concurrent_requests_to_one_h2_origin_use_at_most_two_connections_on_5_workers() {
    hundred_at_once(5);
}

/// 300 GETs to a server that retires each connection after 50 streams (nginx's
/// `http2_max_requests`): none fails. Streams the server never processed (above GOAWAY's
/// last stream id, or refused) are safe to send again on a new connection.
fn through_retirements(workers: usize, retiring: Retiring) {
    let pki = Pki::new(&format!("h2-retire-{retiring:?}-{workers}"));
    let server = match retiring {
        Retiring::Goaway => Server::closing_after(Some(pki.config(&["127.0.0.1"], H2)), 50, echo),
        Retiring::Refusing => Server::refusing_after(pki.config(&["127.0.0.1"], &["h2"]), 50, echo),
    };
    let http = client(&pki, workers);
    let paths: Vec<String> = (0..300).map(|i| format!("/retire/{i}")).collect();
    let batch = http.batch(paths.iter().map(|p| server.https_url(p)));
    finish(&batch);
    let per_connection = server.requests_per_connection();
    let failed: Vec<String> = batch
        .exceptions()
        .map(|(req, e)| format!("{} {}: {} / {e:?}", req.method(), req.uri(), e.chain()))
        .collect();
    let summary = format!(
        "{retiring:?}, {workers} workers: {} of 300 failed; {} connections, {} streams \
         refused, requests per connection {per_connection:?}",
        failed.len(),
        server.connections(),
        server.refused_streams()
    );
    eprintln!("{summary}");
    assert!(failed.is_empty(), "{summary}:\n{}", failed.join("\n"));
    for ((req, response, content), path) in batch.responses().zip(&paths) {
        assert_eq!(req.uri(), server.https_url(path));
        assert_eq!((response.status, response.version), (200, 20), "{path}");
        assert_eq!(content, path.as_bytes());
    }
    assert!(
        per_connection.len() >= 2,
        "the server retired no connection: {summary}"
    );
    if let Retiring::Refusing = retiring {
        assert!(per_connection.iter().all(|&n| n <= 50), "{summary}");
        assert_eq!(server.hits(), 300, "{summary}");
    }
}

#[test]
fn requests_survive_a_server_that_sends_goaway_after_50_streams_on_5_workers() {
    through_retirements(5, Retiring::Goaway);
}

#[test]
fn requests_survive_a_server_that_sends_goaway_after_50_streams_on_100_workers() {
    through_retirements(100, Retiring::Goaway);
}

#[test]
fn requests_survive_a_server_that_refuses_streams_after_50_on_5_workers() {
    through_retirements(5, Retiring::Refusing);
}

#[test]
fn requests_survive_a_server_that_refuses_streams_after_50_on_100_workers() {
    through_retirements(100, Retiring::Refusing);
}

#[test]
fn a_post_over_h2_sends_its_body_and_gets_it_back() {
    let pki = Pki::new("h2-post");
    let server = Server::with_tls(Some(pki.config(&["127.0.0.1"], H2)), echo);
    let http = client(&pki, 5);
    // Larger than HTTP/2's initial flow-control window (64 KiB), both ways.
    let large: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for payload in [b"a small body".to_vec(), large] {
        let (response, content) = http.post(&server.https_url("/echo"), payload.clone());
        assert_eq!(body(&content).len(), payload.len());
        assert!(body(&content) == payload, "body echoed unchanged");
        let response = wait(&response).unwrap();
        assert_eq!((response.status, response.version), (200, 20));
    }
    let received = server.received();
    assert_eq!(received.len(), 2);
    for r in &received {
        assert_eq!(
            (r.method.as_str(), r.version.as_str()),
            ("POST", "HTTP/2.0")
        );
    }
    assert_eq!(received[1].body.len(), 300_000);
}
