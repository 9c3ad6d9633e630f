//! Faults of the network and of servers, and bad input from the caller
//! (RELIABILITY.md rows T1-T3, B1-B8, R6).

use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

fn http_with_timeout(timeout: Duration) -> Http {
    Http::builder().timeout(timeout).build().unwrap()
}

#[test]
fn t1_refused_connection_fails_fast() {
    let http = Http::new();
    let started = Instant::now();
    let (response, _) = http.request(&closed_port_url());
    match error(&response) {
        Error::Connect { authority, .. } => assert!(authority.starts_with("127.0.0.1:")),
        other => panic!("expected Connect, got {}", other.chain()),
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn t2_server_that_never_answers_times_out() {
    let server = RawServer::start(|_| thread::sleep(Duration::from_secs(5)));
    let http = http_with_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let (response, _) = http.request(&server.url("/"));
    assert!(
        matches!(error(&response), Error::Timeout { after , .. } if after == Duration::from_millis(500))
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[test]
fn t3_trickling_body_times_out() {
    let server = RawServer::start(|s| {
        send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        for _ in 0..100 {
            send(s, b"x");
            thread::sleep(Duration::from_millis(100));
        }
    });
    let http = http_with_timeout(Duration::from_millis(700));
    let (response, content) = http.request(&server.url("/"));
    assert!(error(&response).is_timeout());
    assert!(LazyContent::wait(&content).is_err());
}

#[test]
fn per_request_timeout_overrides_the_client_default() {
    let server = RawServer::start(|_| thread::sleep(Duration::from_secs(5)));
    let http = Http::new(); // 30 s default
    let (response, _) =
        http.send(Request::get(server.url("/")).timeout(Duration::from_millis(300)));
    assert!(error(&response).is_timeout());
}

#[test]
fn b1_truncated_body_is_incomplete_not_short() {
    let server = RawServer::start(|s| {
        send(
            s,
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
        )
    });
    let http = Http::new();
    let (response, content) = http.request(&server.url("/"));
    match error(&response) {
        Error::BodyIncomplete {
            received, expected, ..
        } => {
            assert_eq!(received, 10);
            assert_eq!(expected, Some(100));
        }
        other => panic!("expected BodyIncomplete, got {}", other.chain()),
    }
    assert!(matches!(
        LazyContent::wait(&content),
        Err(Error::BodyIncomplete { .. })
    ));
    // The client goes on working.
    let ok = Server::start(|_| Reply::ok("fine"));
    assert_eq!(body(&http.request(&ok.url("/")).1), b"fine");
}

#[test]
fn b2_reset_mid_body_is_incomplete() {
    let server = RawServer::start(|s| {
        send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
        send(s, &vec![b'x'; 50_000]);
        thread::sleep(Duration::from_millis(50));
        reset(s.try_clone().unwrap());
    });
    let http = Http::new();
    let (response, _) = http.request(&server.url("/"));
    match error(&response) {
        Error::BodyIncomplete {
            received, expected, ..
        } => {
            assert!(received <= 50_000, "{received}");
            assert_eq!(expected, Some(1_000_000));
        }
        other => panic!("expected BodyIncomplete, got {}", other.chain()),
    }
}

#[test]
fn b3_broken_chunked_framing_is_incomplete() {
    let bodies: [&[u8]; 3] = [
        b"5\r\nhello\r\nZZZ\r\nmore\r\n0\r\n\r\n",
        b"5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n",
        b"FFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n",
    ];
    for framing in bodies {
        let server = RawServer::start(move |s| {
            send(s, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            send(s, framing);
        });
        let (response, _) = Http::new().request(&server.url("/"));
        let e = error(&response);
        assert!(
            matches!(e, Error::BodyIncomplete { .. }),
            "{:?}: {} {:?}",
            String::from_utf8_lossy(framing),
            e.chain(),
            e
        );
    }
}

#[test]
fn b5_huge_headers_are_refused() {
    let server = RawServer::start(|s| {
        send(s, b"HTTP/1.1 200 OK\r\nX-Big: ");
        send(s, &vec![b'a'; 2 << 20]);
        send(s, b"\r\nContent-Length: 0\r\n\r\n");
    });
    let (response, _) = Http::new().request(&server.url("/"));
    let e = error(&response);
    assert!(
        matches!(e, Error::HeadersTooLarge { .. }),
        "{} {:?}",
        e.chain(),
        e
    );
}

#[test]
fn b6_body_over_the_limit() {
    // With a Content-Length: refused before reading.
    let announced = RawServer::start(|s| {
        send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n");
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            send(s, &chunk);
        }
    });
    // Close-delimited and endless: stops at the limit.
    let endless = RawServer::start(|s| {
        send(s, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..1024 {
            send(s, &chunk);
        }
    });
    let http = Http::builder().max_body_size(1 << 20).build().unwrap();
    for url in [announced.url("/"), endless.url("/")] {
        let (response, _) = http.request(&url);
        assert!(
            matches!(error(&response), Error::BodyTooLarge { limit: 1048576, .. }),
            "{url}"
        );
    }
    // Exactly the limit is fine.
    let exact = Server::start(|_| Reply::ok(vec![b'y'; 1 << 20]));
    assert_eq!(body(&http.request(&exact.url("/")).1).len(), 1 << 20);
}

#[test]
fn b7_gzip_bomb_stops_at_the_decoded_limit() {
    let bomb = gzip(&vec![0u8; 256 << 20]); // 256 MiB of zeros, about 256 KiB compressed
    assert!(bomb.len() < 1 << 20);
    let server = Server::start(move |_| Reply::ok(bomb.clone()).header("Content-Encoding", "gzip"));
    let http = Http::builder().max_body_size(4 << 20).build().unwrap();
    let started = Instant::now();
    let (response, _) = http.request(&server.url("/"));
    assert!(matches!(error(&response), Error::BodyTooLarge { limit , .. } if limit == 4 << 20));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn b8_corrupt_or_unknown_encodings_fail_to_decompress() {
    let mut corrupt = gzip(b"a body long enough to have a real deflate stream inside it");
    let n = corrupt.len();
    corrupt[n - 6] ^= 0xff; // breaks the CRC
    let truncated = gzip(b"a body cut short")[..12].to_vec();
    let cases: Vec<(&'static str, Vec<u8>)> = vec![
        ("gzip", corrupt),
        ("gzip", truncated),
        ("zz", b"plain".to_vec()),
        ("gzip, gzip, gzip, gzip, gzip, gzip", gzip(b"x")),
    ];
    for (coding, data) in cases {
        let server =
            Server::start(move |_| Reply::ok(data.clone()).header("Content-Encoding", coding));
        let (response, content) = Http::new().request(&server.url("/"));
        match error(&response) {
            Error::Decompress { encoding, .. } => assert_eq!(encoding, coding),
            other => panic!("{coding}: expected Decompress, got {}", other.chain()),
        }
        assert!(LazyContent::wait(&content).is_err());
    }
}

#[test]
fn r6_injection_in_method_or_headers_fails_before_anything_is_sent() {
    let server = Server::start(|_| Reply::ok("should not be reached"));
    let http = Http::new();
    let url = server.url("/");
    let pairs = [
        http.request_with(&url, "GET / HTTP/1.1\r\nX-Injected: 1\r\n", "", &[]),
        http.request_with(&url, "GET", "", &[("X-A", "v\r\nX-Injected: 1")]),
        http.request_with(&url, "GET", "", &[("X-A", "v\nX-Injected: 1")]),
        http.request_with(&url, "GET", "", &[("X-A", "nul\0")]),
        // Outside ASCII: the transport cannot send it (isahc panicked on it).
        http.request_with(&url, "GET", "", &[("X-A", "caf\u{e9}")]),
        http.request_with(&url, "GET", "", &[("X-A\r\nX-Injected", "1")]),
        http.request("file:///etc/passwd"),
        http.request("ftp://127.0.0.1/"),
        http.request(&url.replace("http://", "http://user:secret@")),
    ];
    for (response, _) in &pairs {
        // Already failed: ready without any worker.
        assert!(LazyResponse::is_ready(response), "{response:?}");
        assert!(
            matches!(error(response), Error::InvalidRequest { .. }),
            "{response:?}"
        );
        let shown = format!("{response:?}");
        assert!(
            !shown.contains("secret") && !shown.contains('\n'),
            "{shown}"
        );
    }
    for uri in ["/relative", "example.com/x", "http:///nohost"] {
        let (response, _) = http.request(uri);
        assert!(
            matches!(error(&response), Error::RelativeUri { .. }),
            "{uri}"
        );
    }
    thread::sleep(Duration::from_millis(100));
    assert_eq!(server.hits(), 0);
}

#[test]
fn b4_conflicting_framing_never_desyncs_the_next_request() {
    // The first request gets the broken framing under test, every later one "second"; a
    // desync would hand the second request a stale tail instead.
    let heads: [&'static [u8]; 3] = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhelloXX",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    ];
    for framing in heads {
        let broken_sent = std::sync::atomic::AtomicBool::new(false);
        let server = RawServer::start(move |s| {
            if !broken_sent.swap(true, std::sync::atomic::Ordering::SeqCst) {
                send(s, framing);
                if read_head(s).is_empty() {
                    return;
                }
            }
            loop {
                send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
                if read_head(s).is_empty() {
                    return;
                }
            }
        });
        let http = Http::builder().workers(1).build().unwrap();
        let (first, content) = http.request(&server.url("/1"));
        match wait(&first) {
            // RFC 9112: Transfer-Encoding wins over Content-Length.
            Ok(_) => assert_eq!(
                body(&content),
                b"hello",
                "{}",
                String::from_utf8_lossy(framing)
            ),
            Err(e) => assert!(!matches!(e, Error::Timeout { .. }), "{}", e.chain()),
        }
        let (_, second) = http.request(&server.url("/2"));
        assert_eq!(
            body(&second),
            b"second",
            "{}",
            String::from_utf8_lossy(framing)
        );
    }
}

#[test]
fn a_user_agent_with_control_characters_is_refused_at_build() {
    for agent in ["agent\r\nX-Injected: 1", "agent-caf\u{e9}/1.0"] {
        let built = Http::builder().user_agent(agent).build();
        assert!(matches!(built, Err(Error::Init { .. })), "{agent}");
    }
}

#[test]
fn t5_a_large_body_is_sent_without_waiting_for_100_continue() {
    // The server never sends 100 Continue: it reads the head, then the whole body.
    let server = RawServer::start(|s| {
        let mut body = vec![0u8; 2 << 20];
        let read = std::io::Read::read_exact(s, &mut body);
        let reply: &[u8] = if read.is_ok() {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        } else {
            b"HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n"
        };
        send(s, reply);
    });
    let http = Http::new();
    let started = Instant::now();
    let (response, _) = http.post(&server.url("/upload"), vec![7u8; 2 << 20]);
    assert_eq!(wait(&response).unwrap().status, 200);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        !server.heads()[0].to_ascii_lowercase().contains("expect:"),
        "{}",
        server.heads()[0]
    );
    // Asked for by the caller, it still cannot stall for more than libcurl's 1 s wait.
    let started = Instant::now();
    let (response, _) = http.send(
        Request::new("POST", server.url("/upload"))
            .header("Expect", "100-continue")
            .body(vec![7u8; 2 << 20]),
    );
    assert_eq!(wait(&response).unwrap().status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
