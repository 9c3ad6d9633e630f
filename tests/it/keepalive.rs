//! Connections: kept alive and reused, closed when the server says so, a stale one retried
//! for idempotent requests only (HTTPLIB2.md §c.2, RELIABILITY.md T4).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::support::*;

#[test]
fn one_http_reuses_its_connections() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::builder().workers(1).build().unwrap();
    for _ in 0..10 {
        assert_eq!(body(&http.request(&server.url("/")).1), b"x");
    }
    assert_eq!(server.connections(), 1);
    let http = Http::builder().workers(4).build().unwrap();
    let pairs: Vec<_> = (0..40).map(|_| http.request(&server.url("/"))).collect();
    for (response, _) in &pairs {
        wait(response).unwrap();
    }
    assert!(server.connections() <= 1 + 4, "{}", server.connections());
}

#[test]
fn connection_close_is_honoured() {
    let server = Server::start(|_| Reply::ok("x").header("Connection", "close"));
    let http = Http::builder().workers(1).build().unwrap();
    for _ in 0..3 {
        assert_eq!(body(&http.request(&server.url("/")).1), b"x");
    }
    assert_eq!(server.connections(), 3);
}

/// Answers the first request of the first connection, then drops that connection as the
/// next request arrives on it, without a response (a keep-alive timeout racing a reuse).
/// Every later connection answers "fresh".
/// Returns the server and every request line it read.
fn stale_server() -> (RawServer, Arc<Mutex<Vec<String>>>) {
    let connections = Arc::new(AtomicUsize::new(0));
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = lines.clone();
    let server = RawServer::start(move |s| {
        if connections.fetch_add(1, Ordering::SeqCst) > 0 {
            send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh");
            return;
        }
        send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
        // The next request arrives on this connection; the server goes away unanswered.
        let next = String::from_utf8_lossy(&read_head(s)).into_owned();
        seen.lock()
            .unwrap()
            .push(next.lines().next().unwrap_or("").to_owned());
    });
    (server, lines)
}

/// Request lines: those that opened a connection, and those read on a stale one.
fn request_lines(server: &RawServer, stale: &Mutex<Vec<String>>) -> Vec<String> {
    let mut lines: Vec<String> = server
        .heads()
        .iter()
        .map(|h| h.lines().next().unwrap_or("").to_owned())
        .collect();
    lines.extend(stale.lock().unwrap().iter().cloned());
    lines
}

#[test]
fn t4_an_idempotent_request_on_a_stale_connection_is_retried_once() {
    for method in ["GET", "PUT", "DELETE"] {
        let (server, stale) = stale_server();
        let http = Http::builder().workers(1).build().unwrap();
        assert_eq!(body(&http.request(&server.url("/1")).1), b"first");
        let (response, content) = http.request_with(&server.url("/2"), method, "", &[]);
        assert_eq!(
            wait(&response).map(|r| r.status).ok(),
            Some(200),
            "{method}"
        );
        assert_eq!(body(&content), b"fresh");
        let lines = request_lines(&server, &stale);
        let tries = lines
            .iter()
            .filter(|l| l.starts_with(&format!("{method} /2")))
            .count();
        assert_eq!(
            tries, 2,
            "{method}: once on the stale connection, once on a fresh one"
        );
    }
}

#[test]
fn t4_a_post_is_never_replayed() {
    for method in ["POST", "PATCH"] {
        let (server, stale) = stale_server();
        let http = Http::builder().workers(1).build().unwrap();
        assert_eq!(body(&http.request(&server.url("/1")).1), b"first");
        let (response, _) = http.request_with(&server.url("/order"), method, "buy=1", &[]);
        let outcome = wait(&response).map(|r| r.status).map_err(|e| e.chain());
        let lines = request_lines(&server, &stale);
        let sent = lines.iter().filter(|l| l.starts_with(method)).count();
        assert_eq!(
            sent, 1,
            "{method} sent {sent} times: {lines:?} ({outcome:?})"
        );
        // It went on the kept connection, and fails as an empty reply does, for the
        // caller to decide.
        assert!(
            matches!(
                wait(&response),
                Err(Error::BodyIncomplete { received: 0, .. })
            ),
            "{method}: {outcome:?}"
        );
    }
}

/// Every method keeps its connection alive: a body that libcurl cannot rewind is what
/// keeps a non-idempotent request from being sent twice, not a fresh connection.
#[test]
fn requests_of_every_method_with_a_body_share_one_kept_connection() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::builder().workers(1).build().unwrap();
    for method in ["POST", "PATCH", "PUT", "PROPPATCH", "GET"] {
        for _ in 0..5 {
            let (response, content) = http.request_with(&server.url("/"), method, "a=1", &[]);
            assert_eq!(wait(&response).unwrap().status, 200, "{method}");
            assert_eq!(body(&content), b"x");
        }
    }
    assert_eq!(server.connections(), 1);
    assert_eq!(server.hits(), 25);
}

/// With no body there is nothing for libcurl to fail to rewind: such a request goes on a
/// connection of its own, closed after it.
#[test]
fn a_post_without_a_body_goes_on_a_fresh_connection() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::builder().workers(1).build().unwrap();
    for _ in 0..3 {
        assert_eq!(body(&http.post(&server.url("/"), "").1), b"x");
    }
    assert_eq!(server.connections(), 3);
}

#[test]
fn p7_two_thousand_requests_to_one_host_use_at_most_one_connection_per_worker() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::builder().workers(8).build().unwrap();
    let pairs: Vec<_> = (0..2000).map(|_| http.request(&server.url("/"))).collect();
    for (response, _) in &pairs {
        assert_eq!(wait(response).unwrap().status, 200);
    }
    assert!(
        server.connections() <= 8,
        "{} connections",
        server.connections()
    );
    assert_eq!(server.hits(), 2000);
}

/// Answers each connection's first request with "first", writes a response nobody asked
/// for 300 ms later, then answers the next request on the connection with "second".
fn unsolicited_server() -> RawServer {
    RawServer::start(|s| {
        send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
        std::thread::sleep(std::time::Duration::from_millis(300));
        send(
            s,
            b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nunsolicited",
        );
        if !read_head(s).is_empty() {
            send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
        }
    })
}

/// libcurl checks an idle connection before reuse once it has been idle a second: the
/// response nobody asked for is found then, the connection dropped, and the next request
/// gets its own answer on a new one. (Within that first second libcurl does not look: see
/// `asynchttp::guide::limits`.)
#[test]
fn a_response_nobody_asked_for_on_an_idle_connection_is_never_the_answer_after_a_second() {
    let server = unsolicited_server();
    let http = Http::builder().workers(1).build().unwrap();
    assert_eq!(body(&http.request(&server.url("/a")).1), b"first");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let (response, content) = http.request(&server.url("/b"));
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(
        body(&content),
        b"first",
        "the second request on a fresh connection"
    );
    assert_eq!(server.connections(), 2);
}

/// Answers each request as soon as its head is read, then reads and drops its 100-byte
/// body and waits for the next one on the connection, as nginx does for a POST it answers
/// itself. (`RawServer` reads each connection's first head.)
fn answers_before_the_body() -> RawServer {
    RawServer::start(|s| {
        loop {
            send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            let mut body = [0u8; 100];
            if std::io::Read::read_exact(s, &mut body).is_err() || read_head(s).is_empty() {
                return;
            }
        }
    })
}

/// A kept-alive POST whose answer comes before the server read its body still succeeds:
/// the body is a stream libcurl cannot rewind, but nothing here asks it to.
#[test]
fn kept_alive_posts_answered_before_their_body_is_read_succeed() {
    let server = answers_before_the_body();
    let http = Http::builder().workers(8).build().unwrap();
    let pairs: Vec<_> = (0..400)
        .map(|_| http.post(&server.url("/order"), vec![b'x'; 100]))
        .collect();
    for (response, content) in &pairs {
        assert_eq!(
            wait(response).map(|r| r.status).map_err(|e| e.chain()),
            Ok(200)
        );
        assert_eq!(body(content), b"ok");
    }
    assert!(server.connections() <= 8, "{}", server.connections());
}
