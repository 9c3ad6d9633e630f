//! Requests over a Unix socket (curl's `--unix-socket`), to a hyper server on a tokio
//! `UnixListener`: redirects and retries stay on the socket, and keep-alive reuses its
//! connection, counted where the server accepts them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use asynchttp::Retry;

use crate::support::*;

/// A socket's path in a directory of the test's own, and the server on it.
fn socket_server(
    name: &str,
    handler: impl Fn(&Received) -> Reply + Send + Sync + 'static,
) -> (TempDir, std::path::PathBuf, Server) {
    let dir = TempDir::new(name);
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("app.sock");
    let server = Server::listening(Listen::Unix(path.clone()), handler);
    (dir, path, server)
}

#[test]
fn a_client_socket_carries_redirects_and_keeps_its_connection() {
    let (_dir, path, server) = socket_server("socket-client", |req| match req.url.as_str() {
        "/start" => Reply::new(302, "").header("Location", "/end"),
        url => Reply::ok(format!("over the socket: {url}")),
    });
    let http = Http::builder().unix_socket(&path).build().unwrap();
    let (response, content) = http.request("http://localhost/start");
    assert_eq!(body(&content), b"over the socket: /end");
    let response = wait(&response).unwrap();
    assert_eq!(response.url, "http://localhost/end");
    assert_eq!(response.previous.as_ref().map(|p| p.status), Some(302));
    let (_, again) = http.request("http://localhost/again");
    assert_eq!(body(&again), b"over the socket: /again");
    assert_eq!(server.hits(), 3);
    assert_eq!(
        server.connections(),
        1,
        "one kept-alive connection for all three"
    );
    for seen in server.received() {
        assert_eq!(seen.header("host"), Some("localhost"));
    }
}

#[test]
fn a_request_socket_carries_its_retries() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let (_dir, path, server) = socket_server("socket-request", move |_| {
        match counted.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::new(503, "busy").header("Retry-After", "0"),
            _ => Reply::ok("second time"),
        }
    });
    // A client without a socket of its own: the request's is used for each attempt.
    let http = Http::builder()
        .retry(Retry::new(2).backoff(Duration::from_millis(10), Duration::from_millis(10)))
        .build()
        .unwrap();
    let req = Request::get("http://localhost/job").unix_socket(&path);
    let (response, content) = http.send(req);
    assert_eq!(body(&content), b"second time");
    assert_eq!(wait(&response).unwrap().attempts, 2);
    assert_eq!(server.hits(), 2);
}

#[test]
fn a_missing_socket_is_a_connect_error_of_its_request() {
    let dir = TempDir::new("socket-missing");
    let missing = dir.0.join("not-there.sock");
    let http = Http::builder().unix_socket(&missing).build().unwrap();
    match error(&http.request("http://localhost/").0) {
        e @ Error::Connect { .. } => {
            let chain = e.chain();
            let shown = format!("at unix:{}", missing.display());
            assert!(chain.contains(&shown), "{chain}");
            assert!(chain.contains("No such file"), "{chain}");
        }
        e => panic!("{}", e.chain()),
    }
    // Refused before anything is sent: a path that cannot name a socket.
    let e = error(
        &http
            .send(Request::get("http://localhost/").unix_socket(""))
            .0,
    );
    assert!(matches!(e, Error::InvalidRequest { .. }), "{}", e.chain());
    // And by the builder: a socket and connect-to entries both say where to go.
    let both = Http::builder()
        .unix_socket(&missing)
        .connect_to("a.test:80", "127.0.0.1:80")
        .build();
    assert!(matches!(both, Err(Error::Init { .. })), "{both:?}");
}
