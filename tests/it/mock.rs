//! The mock transport: every rule above the transport runs on a mock's answers as on a
//! server's (redirects, Basic and Digest credentials, the cache, cookies, retries, per-host
//! limits), each failure a mock stands for is the error the network gives, side by side
//! with a loopback server's, and the mock records what went out. The hosts are `.invalid`
//! names (RFC 6761), which resolve nowhere: only a mock can answer them.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asynchttp::{
    HostLimits, HttpBuilder, MemoryCache, MockRequest, MockResponse, MockTransport, Retry,
    TimeoutKind,
};
use base64::Engine as _;
use md5::Md5;
use sha2::{Digest as _, Sha256};

use crate::auth::digest_params;
use crate::support::*;

/// A builder whose client the mock answers.
fn mocked(mock: &MockTransport) -> HttpBuilder {
    Http::builder().mock(mock.clone())
}

/// The paths the mock was sent, in order.
fn paths(mock: &MockTransport) -> Vec<String> {
    mock.requests()
        .iter()
        .map(|r| r.path().to_owned())
        .collect()
}

#[test]
fn redirects_are_followed_on_the_mocks_answers_with_their_rules() {
    let mock = MockTransport::new(|req| match (req.host(), req.path()) {
        ("site.invalid", "/a") => MockResponse::new(302).header("Location", "/b"),
        ("site.invalid", "/b") => {
            MockResponse::new(301).header("Location", "http://other.invalid/c")
        }
        ("site.invalid", "/form") => MockResponse::new(303).header("Location", "/c"),
        ("site.invalid", "/loop") => MockResponse::new(302).header("Location", "/loop"),
        (_, "/c") => MockResponse::ok(format!(
            "{} {}",
            req.method(),
            String::from_utf8_lossy(req.body())
        )),
        _ => MockResponse::new(404),
    });
    let http = mocked(&mock).build().unwrap();
    let (response, content) = http
        .send(Request::get("http://site.invalid/a").header("Authorization", "Bearer secret-token"));
    assert_eq!(body(&content), b"GET ");
    let r = wait(&response).unwrap();
    assert_eq!((r.status, r.url.as_str()), (200, "http://other.invalid/c"));
    let hops: Vec<u16> = std::iter::successors(r.previous.as_deref(), |p| p.previous.as_deref())
        .map(|p| p.status)
        .collect();
    assert_eq!(hops, [301, 302]);
    let sent = mock.requests();
    assert_eq!(paths(&mock), ["/a", "/b", "/c"]);
    // The caller's Authorization stays with its origin.
    let authorization: Vec<_> = sent.iter().map(|r| r.header("authorization")).collect();
    assert_eq!(
        authorization,
        [
            Some("Bearer secret-token"),
            Some("Bearer secret-token"),
            None
        ]
    );

    // A POST answered with 303 goes on as a GET, without its body or its content headers.
    let (response, content) = http.request_with(
        "http://site.invalid/form",
        "POST",
        "password=hunter2",
        &[("Content-Type", "application/x-www-form-urlencoded")],
    );
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(body(&content), b"GET ");
    let last = mock.requests().pop().unwrap();
    assert!(last.body().is_empty() && last.header("content-type").is_none());

    // A loop stops at the limit: the first request and 5 redirects followed.
    let before = mock.count();
    let (response, _) = http.request("http://site.invalid/loop");
    assert!(matches!(
        error(&response),
        Error::RedirectLimit { limit: 5, .. }
    ));
    assert_eq!(mock.count() - before, 6);
}

/// Digest's response (RFC 7616 §3.4.1, qop=auth) for these parameters, in `algorithm`,
/// computed here apart from the crate's own.
fn digest_response(algorithm: &str, req: &MockRequest, get: &dyn Fn(&str) -> String) -> String {
    let hash = |text: String| -> String {
        let bytes = match algorithm {
            "MD5" => Md5::digest(text.as_bytes()).to_vec(),
            _ => Sha256::digest(text.as_bytes()).to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    let ha1 = hash(format!("{}:vault@mock:s3cret", get("username")));
    let ha2 = hash(format!("{}:{}", req.method(), get("uri")));
    hash(format!(
        "{ha1}:{}:{}:{}:auth:{ha2}",
        get("nonce"),
        get("nc"),
        get("cnonce")
    ))
}

/// A mock that asks for Digest in `algorithm`, checks every answer with its own
/// computation, and accepts each nonce count once; `accepted` counts the answers it took.
fn digest_mock(algorithm: &'static str, accepted: Arc<AtomicUsize>) -> MockTransport {
    let seen = Mutex::new(HashSet::new());
    MockTransport::new(move |req| {
        let challenge = MockResponse::new(401).body("who are you").header(
            "WWW-Authenticate",
            &format!(
                r#"Digest realm="vault@mock", qop="auth", algorithm={algorithm}, nonce="n-1", opaque="op""#
            ),
        );
        let Some(params) = req.header("authorization").and_then(digest_params) else {
            return challenge;
        };
        let get = |k: &str| {
            let found = params.iter().find(|(n, _)| n == k);
            found.map(|(_, v)| v.clone()).unwrap_or_default()
        };
        let valid = get("username") == "alice"
            && get("uri") == req.path()
            && get("opaque") == "op"
            && get("algorithm") == algorithm
            && get("response") == digest_response(algorithm, req, &get);
        if !valid || !seen.lock().unwrap().insert(get("nc")) {
            return MockResponse::new(403).body("wrong answer");
        }
        accepted.fetch_add(1, Ordering::SeqCst);
        MockResponse::ok("the vault")
    })
}

#[test]
fn a_digest_challenge_is_answered_and_the_mock_checks_the_answer() {
    for algorithm in ["MD5", "SHA-256"] {
        let accepted = Arc::new(AtomicUsize::new(0));
        let mock = digest_mock(algorithm, accepted.clone());
        let http = mocked(&mock).build().unwrap();
        http.add_credentials("alice", "s3cret", "");
        let (response, content) = http.request("http://vault.invalid/a?x=1");
        assert_eq!(body(&content), b"the vault", "{algorithm}");
        assert_eq!(wait(&response).unwrap().status, 200);
        assert_eq!(
            mock.count(),
            2,
            "{algorithm}: the challenge, then the answer"
        );
        // The next request answers up front, with the next nonce count.
        assert_eq!(
            body(&http.request("http://vault.invalid/b").1),
            b"the vault"
        );
        assert_eq!(mock.count(), 3, "{algorithm}: no second challenge");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }
}

#[test]
fn a_basic_challenge_is_answered_with_the_credentials_for_the_host() {
    let good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    let mock = MockTransport::new(move |req| match req.header("authorization") {
        Some(a) if a == good => MockResponse::ok("in"),
        Some(_) => MockResponse::new(403),
        None => MockResponse::new(401).header("WWW-Authenticate", r#"Basic realm="r""#),
    });
    let http = mocked(&mock).build().unwrap();
    http.add_credentials("alice", "s3cret", "basic.invalid");
    assert_eq!(body(&http.request("http://basic.invalid/").1), b"in");
    assert_eq!(mock.count(), 2);
    // Another host gets none: its 401 is the response.
    assert_eq!(
        wait(&http.request("http://else.invalid/").0)
            .unwrap()
            .status,
        401
    );
}

#[test]
fn the_cache_answers_fresh_entries_and_revalidates_with_a_304() {
    let mock = MockTransport::new(|req| match (req.path(), req.header("if-none-match")) {
        ("/fresh", _) => MockResponse::ok("fresh body").header("Cache-Control", "max-age=600"),
        ("/etag", Some("\"v1\"")) => MockResponse::new(304)
            .header("ETag", "\"v1\"")
            .header("X-Refreshed", "yes"),
        ("/etag", _) => MockResponse::ok("version 1")
            .header("ETag", "\"v1\"")
            .header("Cache-Control", "max-age=0"),
        _ => MockResponse::new(404),
    });
    let http = mocked(&mock)
        .cache_store(Arc::new(MemoryCache::new()))
        .build()
        .unwrap();
    let get = |url: &str| {
        let (response, content) = http.request(url);
        (wait(&response).unwrap().clone(), body(&content).to_vec())
    };
    let (first, _) = get("http://cache.invalid/fresh");
    let (second, content) = get("http://cache.invalid/fresh");
    assert!(!first.from_cache && second.from_cache);
    assert_eq!(content, b"fresh body");
    assert_eq!(
        mock.count(),
        1,
        "a fresh entry is answered without the mock"
    );

    get("http://cache.invalid/etag");
    let (revalidated, content) = get("http://cache.invalid/etag");
    assert!(revalidated.from_cache);
    assert_eq!(
        (revalidated.status, content.as_slice()),
        (200, &b"version 1"[..])
    );
    assert_eq!(
        revalidated.get("x-refreshed"),
        Some("yes"),
        "the 304's headers merged"
    );
    let sent = mock.requests();
    assert_eq!(paths(&mock), ["/fresh", "/etag", "/etag"]);
    assert_eq!(sent[1].header("if-none-match"), None);
    assert_eq!(sent[2].header("if-none-match"), Some("\"v1\""));
}

#[test]
fn cookies_the_mock_sets_are_stored_and_sent_back_by_their_rules() {
    let mock = MockTransport::new(|req| match req.path() {
        "/login" => MockResponse::new(302)
            .header("Location", "/home")
            .header("Set-Cookie", "session=abc; Path=/; HttpOnly")
            .header("Set-Cookie", "area=1; Path=/admin"),
        _ => MockResponse::ok(req.header("cookie").unwrap_or("-").to_owned()),
    });
    let http = mocked(&mock).cookies(true).build().unwrap();
    let get = |url: &str| String::from_utf8(body(&http.request(url).1).to_vec()).unwrap();
    // The redirect's own hop carries what its 302 set.
    assert_eq!(get("http://shop.invalid/login"), "session=abc");
    assert_eq!(get("http://shop.invalid/admin/x"), "area=1; session=abc");
    assert_eq!(get("http://other.invalid/"), "-", "hosts are kept apart");
    assert_eq!(http.cookie_jar().map(|jar| jar.len()), Some(2));
    let cookie_headers: Vec<_> = mock
        .requests()
        .iter()
        .map(|r| r.header("cookie").map(str::to_owned))
        .collect();
    assert_eq!(
        cookie_headers,
        [
            None,
            Some("session=abc".to_owned()),
            Some("area=1; session=abc".to_owned()),
            None
        ]
    );
}

#[test]
fn a_503_with_retry_after_is_sent_again_after_its_wait() {
    for status in [503, 429] {
        let calls = AtomicUsize::new(0);
        let mock = MockTransport::new(move |_| match calls.fetch_add(1, Ordering::SeqCst) {
            0 => MockResponse::retry_after(status, 1),
            _ => MockResponse::ok("back"),
        });
        let http = mocked(&mock)
            .retry(Retry::new(2).backoff(Duration::from_millis(5), Duration::from_millis(20)))
            .build()
            .unwrap();
        let started = Instant::now();
        let (response, content) = http.request("http://busy.invalid/");
        assert_eq!(body(&content), b"back");
        let response = wait(&response).unwrap();
        assert_eq!(
            (response.status, response.attempts, mock.count()),
            (200, 2, 2)
        );
        // The backoff alone would have sent it again within 20 ms.
        assert!(started.elapsed() >= Duration::from_millis(990), "{status}");
    }
}

#[test]
fn a_per_host_limit_of_one_is_all_the_mock_ever_holds() {
    let slow = || MockTransport::new(|_| MockResponse::ok("").delay(Duration::from_millis(30)));
    let (limited, free) = (slow(), slow());
    for (mock, limits) in [
        (&limited, HostLimits::new().in_flight(1)),
        (&free, HostLimits::new()),
    ] {
        let http = mocked(mock).workers(8).per_host(limits).build().unwrap();
        let batch = http.batch((0..8).map(|i| format!("http://one.invalid/{i}")));
        batch.join_all();
        assert_eq!(batch.progress().done, 8);
    }
    assert_eq!((limited.count(), limited.most_in_flight()), (8, 1));
    // Without the limit, the delays overlap: the drivers wait on all at once.
    assert!(free.most_in_flight() > 1, "{}", free.most_in_flight());
}

#[test]
fn a_delayed_answer_holds_up_no_other_request_and_ends_at_the_deadline() {
    // Two drivers at most: if a delay held one, twenty waiting answers would hold up the
    // quick ones behind them.
    let mock = MockTransport::new(|req| match req.path() {
        "/slow" => MockResponse::ok("slow").delay(Duration::from_secs(600)),
        _ => MockResponse::ok("quick"),
    });
    let timeout = Duration::from_secs(3);
    let http = mocked(&mock).workers(32).timeout(timeout).build().unwrap();
    let slow: Vec<_> = (0..20)
        .map(|_| http.request("http://api.invalid/slow"))
        .collect();
    eventually("the slow ones at the mock", || mock.count() == 20);
    let quick = http.batch((0..20).map(|i| format!("http://api.invalid/quick{i}")));
    quick.join_all();
    assert_eq!(quick.progress().done, 20);
    assert!(slow.iter().all(|(r, _)| !LazyResponse::is_ready(r)));
    assert!(mock.most_in_flight() >= 20, "{}", mock.most_in_flight());
    // The deadline ends each, as it ends a server's silence.
    for (response, _) in &slow {
        assert!(
            matches!(error(response), Error::Timeout { after, bound: TimeoutKind::Total, .. } if after == timeout)
        );
    }
}

/// The request's error, from a client the mock answers with `answer`.
fn mocked_error(answer: fn() -> MockResponse, url: &str, timeout: Duration) -> Error {
    let mock = MockTransport::new(move |_| answer());
    let http = mocked(&mock).timeout(timeout).build().unwrap();
    error(&http.request(url).0)
}

#[test]
fn each_failure_is_the_error_a_loopback_server_gives() {
    let second = Duration::from_secs(1);
    // Nothing listens.
    let closed = closed_port_url();
    let real = error(&Http::new().request(&closed).0);
    let mock = mocked_error(MockResponse::connection_refused, &closed, second);
    assert!(
        matches!(real, Error::Connect { proxy: None, .. }),
        "{}",
        real.chain()
    );
    assert!(
        matches!(mock, Error::Connect { proxy: None, .. }),
        "{}",
        mock.chain()
    );
    assert_eq!(mock.to_string(), real.to_string());

    // A body cut short after 5 of its 10 bytes.
    let cut = RawServer::start(|s| send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"));
    let real = error(&Http::new().request(&cut.url("/")).0);
    let mock = mocked_error(
        || MockResponse::ok("0123456789").cut_after(5),
        &cut.url("/"),
        second,
    );
    for e in [&real, &mock] {
        assert!(
            matches!(
                e,
                Error::BodyIncomplete {
                    received: 5,
                    expected: Some(10),
                    ..
                }
            ),
            "{}",
            e.chain()
        );
    }
    assert_eq!(mock.to_string(), real.to_string());

    // Silent past the deadline.
    let quiet = Server::start(|_| Reply::ok("late").delay(Duration::from_secs(10)));
    let timeout = Duration::from_millis(200);
    let real = error(
        &Http::builder()
            .timeout(timeout)
            .build()
            .unwrap()
            .request(&quiet.url("/"))
            .0,
    );
    let slow = || MockResponse::ok("late").delay(Duration::from_secs(10));
    for mock in [
        mocked_error(slow, &quiet.url("/"), timeout),
        mocked_error(MockResponse::timeout, &quiet.url("/"), timeout),
    ] {
        assert_eq!(mock.timeout_kind(), Some(TimeoutKind::Total));
        assert_eq!(mock.to_string(), real.to_string());
    }
}

#[test]
fn failures_with_no_server_to_compare_have_the_networks_shape() {
    let second = Duration::from_secs(1);
    match mocked_error(
        MockResponse::server_not_found,
        "http://gone.invalid/",
        second,
    ) {
        Error::ServerNotFound { host, .. } => assert_eq!(host, "gone.invalid"),
        other => panic!("{}", other.chain()),
    }
    let tls = || MockResponse::tls_failure("invalid peer certificate: UnknownIssuer");
    let e = mocked_error(tls, "https://tls.invalid/", second);
    assert!(matches!(e, Error::Tls { .. }), "{}", e.chain());
    assert_eq!(
        e.to_string(),
        "TLS failure: invalid peer certificate: UnknownIssuer"
    );
    let e = mocked_error(MockResponse::connection_closed, "http://c.invalid/", second);
    assert!(
        matches!(
            e,
            Error::BodyIncomplete {
                received: 0,
                expected: None,
                ..
            }
        ),
        "{}",
        e.chain()
    );
    // A connect timeout shorter than the total one is the connect bound.
    let mock = MockTransport::new(|_| MockResponse::connect_timeout());
    let http = mocked(&mock)
        .connect_timeout(Duration::from_millis(50))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let e = error(&http.request("http://never.invalid/").0);
    assert!(
        matches!(e, Error::Timeout { bound: TimeoutKind::Connect, after, .. } if after == Duration::from_millis(50)),
        "{}",
        e.chain()
    );
    // An idle timeout ends a silent answer before the total one.
    let mock = MockTransport::new(|_| MockResponse::timeout());
    let http = mocked(&mock)
        .idle_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let e = error(&http.request("http://idle.invalid/").0);
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Idle), "{}", e.chain());
}

#[test]
fn a_content_length_of_the_mocks_is_what_the_client_goes_by() {
    let mock = MockTransport::new(|req| match req.path() {
        "/short" => MockResponse::ok("abc").header("Content-Length", "10"),
        "/long" => MockResponse::ok("abcdef").header("Content-Length", "2"),
        "/304" => MockResponse::new(304).body("no body on a 304"),
        _ => MockResponse::ok(vec![b'x'; 4096]),
    });
    let http = mocked(&mock).max_body_size(1024).build().unwrap();
    assert!(matches!(
        error(&http.request("http://len.invalid/short").0),
        Error::BodyIncomplete {
            received: 3,
            expected: Some(10),
            ..
        }
    ));
    assert_eq!(body(&http.request("http://len.invalid/long").1), b"ab");
    assert_eq!(body(&http.request("http://len.invalid/304").1), b"");
    assert!(matches!(
        error(&http.request("http://len.invalid/big").0),
        Error::BodyTooLarge { limit: 1024, .. }
    ));
}

#[test]
fn a_gzip_body_is_decoded_and_held_to_the_limit_after_decoding() {
    let packed = gzip(&vec![b'z'; 64 * 1024]);
    let mock = MockTransport::new(move |_| {
        MockResponse::ok(packed.clone()).header("Content-Encoding", "gzip")
    });
    let (response, content) = mocked(&mock).build().unwrap().request("http://z.invalid/");
    assert_eq!(body(&content).len(), 64 * 1024);
    assert_eq!(
        wait(&response).unwrap().get("-content-encoding"),
        Some("gzip")
    );
    let limited = mocked(&mock).max_body_size(1024).build().unwrap();
    assert!(matches!(
        error(&limited.request("http://z.invalid/").0),
        Error::BodyTooLarge { limit: 1024, .. }
    ));
    assert_eq!(
        mock.requests()[0].header("accept-encoding"),
        Some(crate::codings::built_in().as_str())
    );
}

#[test]
fn an_answer_no_server_could_send_or_a_panic_fails_its_request_with_why() {
    let mock = MockTransport::new(|req| match req.path() {
        "/status" => MockResponse::new(42),
        "/name" => MockResponse::ok("").header("bad name", "x"),
        "/value" => MockResponse::ok("").header("X-Bad", "line\r\nbreak"),
        "/cut" => MockResponse::ok("abc").cut_after(3),
        "/fault" => MockResponse::connection_refused().body("lost"),
        _ => panic!("no answer for {}", req.path()),
    });
    let http = mocked(&mock).build().unwrap();
    for (path, why) in [
        ("/status", "status 42"),
        ("/name", "\"bad name\" is not a header name"),
        ("/value", "the value of x-bad"),
        ("/cut", "cut_after(3)"),
        ("/fault", "body() given to a connection refused"),
    ] {
        let e = error(&http.request(&format!("http://bad.invalid{path}")).0);
        assert!(
            matches!(e, Error::Transport { .. }),
            "{path}: {}",
            e.chain()
        );
        assert!(e.chain().contains(why), "{path}: {}", e.chain());
    }
    let e = error(&http.request("http://bad.invalid/other").0);
    match &e {
        Error::Callback { message, .. } => {
            assert_eq!(message, "mock handler panicked: no answer for /other")
        }
        other => panic!("{}", other.chain()),
    }
    // The client goes on: the panic failed one request.
    assert!(wait(&http.request("http://bad.invalid/status").0).is_err());
    assert_eq!(mock.count(), 7);
}

#[test]
fn the_mock_records_every_header_the_crate_adds() {
    let mock = MockTransport::new(|_| MockResponse::new(204));
    let http = mocked(&mock)
        .user_agent("mock-probe/1.0")
        .cookies(true)
        .build()
        .unwrap();
    http.cookie_jar()
        .unwrap()
        .add("http://rec.invalid/", "k=v; Path=/")
        .unwrap();
    let (response, _) = http.send(
        Request::new("PUT", "http://rec.invalid/doc?rev=2")
            .header("X-Trace", "t-9")
            .body(vec![0u8, 1, 2]),
    );
    assert_eq!(wait(&response).unwrap().status, 204);
    let sent = &mock.requests()[0];
    assert_eq!(
        (sent.method(), sent.url(), sent.path(), sent.host()),
        (
            "PUT",
            "http://rec.invalid/doc?rev=2",
            "/doc?rev=2",
            "rec.invalid"
        )
    );
    assert_eq!(sent.body(), [0, 1, 2]);
    let offered = crate::codings::built_in();
    for (name, value) in [
        ("x-trace", "t-9"),
        ("user-agent", "mock-probe/1.0"),
        ("accept-encoding", offered.as_str()),
        ("cookie", "k=v"),
    ] {
        assert_eq!(sent.header(name), Some(value), "{name}");
        assert!(sent.headers().any(|h| h == (name, value)), "{name}");
    }
}

/// A writer whose bytes the test keeps.
#[derive(Clone, Default)]
struct Kept(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Kept {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A download's outcome, waited for within the bound.
#[track_caller]
fn finished(download: &asynchttp::Download) -> Result<&asynchttp::Downloaded, Error> {
    asynchttp::Lazy::wait_timeout(download.outcome(), BOUND).expect("done within the bound")
}

#[test]
fn a_download_streams_the_mocks_body_and_a_cut_fails_it() {
    let data = pattern(1 << 20);
    let packed = gzip(&data);
    let mock = MockTransport::new(move |req| match req.path() {
        "/cut" => MockResponse::ok(vec![7u8; 1000]).cut_after(600),
        _ => MockResponse::ok(packed.clone()).header("Content-Encoding", "gzip"),
    });
    let http = mocked(&mock).build().unwrap();
    let kept = Kept::default();
    let to = asynchttp::Destination::writer(kept.clone());
    let download = http.send_to(Request::get("http://files.invalid/big"), to);
    let done = finished(&download).unwrap();
    assert_eq!(done.bytes, data.len() as u64);
    assert!(*kept.0.lock().unwrap() == data, "the body, decoded");

    let to = asynchttp::Destination::writer(Kept::default());
    let download = http.send_to(Request::get("http://files.invalid/cut"), to);
    assert!(matches!(
        finished(&download),
        Err(Error::BodyIncomplete {
            received: 600,
            expected: Some(1000),
            ..
        })
    ));
}
