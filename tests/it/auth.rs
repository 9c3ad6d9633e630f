//! Credentials (HTTPLIB2.md §c.6, RELIABILITY.md R1, R7, R8): Basic and Digest against
//! loopback servers that check what they get, counting every request.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use md5::Md5;
use sha2::{Digest as _, Sha256};

use crate::support::*;

pub(crate) fn basic(name: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"))
    )
}

/// 200 for `alice:s3cret` in Basic, else 401 with a Basic challenge.
fn basic_server() -> Server {
    let good = basic("alice", "s3cret");
    Server::start(move |req| match req.header("authorization") {
        Some(a) if a == good => Reply::ok(format!("hello {}", req.url)),
        _ => Reply::new(401, "who are you").header("WWW-Authenticate", r#"Basic realm="test""#),
    })
}

#[test]
fn basic_is_answered_then_sent_up_front() {
    let server = basic_server();
    let http = Http::new();
    http.add_credentials("alice", "s3cret", "");
    assert_eq!(
        body(&http.request(&server.url("/docs/a")).1),
        b"hello /docs/a"
    );
    assert_eq!(server.hits(), 2, "challenge, then the answer");
    assert_eq!(
        body(&http.request(&server.url("/docs/b")).1),
        b"hello /docs/b"
    );
    assert_eq!(server.hits(), 3, "same path prefix: sent up front");
    assert_eq!(
        body(&http.request(&server.url("/other")).1),
        b"hello /other"
    );
    assert_eq!(server.hits(), 5, "outside the prefix: challenged again");
}

#[test]
fn several_credentials_are_tried_in_order_and_clear_forgets_them() {
    let server = basic_server();
    let http = Http::new();
    http.add_credentials("mallory", "guess", "");
    http.add_credentials("alice", "s3cret", "");
    assert_eq!(
        wait(&http.request(&server.url("/x")).0).unwrap().status,
        200
    );
    assert_eq!(server.hits(), 3);
    http.clear_credentials();
    assert_eq!(
        wait(&http.request(&server.url("/x")).0).unwrap().status,
        401
    );
    assert_eq!(server.hits(), 4, "no credentials: the 401 is the answer");
}

#[test]
fn wrong_credentials_end_with_the_401_after_one_try_each() {
    let server = basic_server();
    let http = Http::new();
    http.add_credentials("alice", "wrong", "");
    let (response, content) = http.request(&server.url("/"));
    assert_eq!(wait(&response).unwrap().status, 401);
    assert_eq!(body(&content), b"who are you");
    assert_eq!(server.hits(), 2);
}

#[test]
fn the_callers_own_authorization_header_wins() {
    let server = basic_server();
    let http = Http::new();
    http.add_credentials("alice", "wrong", "");
    let good = basic("alice", "s3cret");
    let (response, _) = http.request_with(&server.url("/"), "GET", "", &[("Authorization", &good)]);
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(server.hits(), 1);
}

#[test]
fn a_credential_for_a_domain_goes_only_there() {
    let server = basic_server();
    let http = Http::new();
    http.add_credentials("alice", "s3cret", "elsewhere.example");
    assert_eq!(wait(&http.request(&server.url("/")).0).unwrap().status, 401);
    let authority = server.url("").trim_start_matches("http://").to_owned();
    http.add_credentials("alice", "s3cret", &authority);
    assert_eq!(wait(&http.request(&server.url("/")).0).unwrap().status, 200);
}

#[test]
fn r1_credentials_never_follow_a_redirect_to_another_origin() {
    let b = basic_server();
    let to_b = b.url("/landing");
    let a = Server::start(move |_| Reply::new(302, "").header("Location", &to_b));
    let http = Http::new();
    http.add_credentials("alice", "s3cret", "");
    let (response, _) = http.request(&a.url("/start"));
    assert_eq!(
        wait(&response).unwrap().status,
        401,
        "B's challenge is the answer"
    );
    assert_eq!(b.hits(), 1, "no second try at B");
    assert!(
        b.received()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

/// A Digest server (RFC 7616) that checks every response it gets, accepts each
/// (nonce, nc) once, and replaces its nonce every `uses` requests, telling the client
/// with `stale=true`. A nonce replaced stays good until the next replacement, as a nonce
/// stays good for its lifetime elsewhere (Apache: five minutes): a request answers `stale`
/// once, so one delayed on a busy machine while two replacements pass would fail.
pub(crate) struct DigestServer {
    pub(crate) server: Server,
    replays: Arc<AtomicUsize>,
    pub(crate) accepted: Arc<AtomicUsize>,
    stale: Arc<AtomicUsize>,
}

pub(crate) fn digest_server(algorithm: &'static str, uses: usize) -> DigestServer {
    struct State {
        nonce: u64,
        used: usize,
        seen: HashSet<(String, String)>,
    }
    let state = Arc::new(Mutex::new(State {
        nonce: 1,
        used: 0,
        seen: HashSet::new(),
    }));
    let replays = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let stale = Arc::new(AtomicUsize::new(0));
    let (replays_in, accepted_in, stale_in) = (replays.clone(), accepted.clone(), stale.clone());
    let server = Server::start(move |req| {
        let mut st = state.lock().unwrap();
        let challenge = |nonce: u64, stale: bool| {
            let mut value = format!(
                r#"Digest realm="digest@test", qop="auth", algorithm={algorithm}, nonce="n{nonce}", opaque="op""#
            );
            if stale {
                value.push_str(", stale=true");
            }
            Reply::new(401, "digest needed").header("WWW-Authenticate", &value)
        };
        let Some(params) = req.header("authorization").and_then(digest_params) else {
            return challenge(st.nonce, false);
        };
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let hash = |s: String| -> String {
            let bytes = if algorithm == "MD5" {
                Md5::digest(s.as_bytes()).to_vec()
            } else {
                Sha256::digest(s.as_bytes()).to_vec()
            };
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        let ha1 = hash(format!("{}:digest@test:s3cret", get("username")));
        let ha2 = hash(format!("{}:{}", req.method, get("uri")));
        let expected = hash(format!(
            "{ha1}:{}:{}:{}:auth:{ha2}",
            get("nonce"),
            get("nc"),
            get("cnonce")
        ));
        let valid = get("username") == "alice"
            && get("response") == expected
            && get("uri") == req.url
            && get("opaque") == "op"
            && get("algorithm") == algorithm;
        if !valid {
            return challenge(st.nonce, false);
        }
        let good = [format!("n{}", st.nonce), format!("n{}", st.nonce - 1)];
        if !good.contains(&get("nonce")) {
            stale_in.fetch_add(1, Ordering::SeqCst);
            return challenge(st.nonce, true);
        }
        if !st.seen.insert((get("nonce"), get("nc"))) {
            replays_in.fetch_add(1, Ordering::SeqCst);
            return challenge(st.nonce, false);
        }
        st.used += 1;
        if st.used >= uses {
            st.used = 0;
            st.nonce += 1;
        }
        accepted_in.fetch_add(1, Ordering::SeqCst);
        Reply::ok("digest ok")
    });
    DigestServer {
        server,
        replays,
        accepted,
        stale,
    }
}

/// `Digest k=v, k="v"` (as this crate writes it) as pairs; the mock's tests check their
/// Digest answers with it too.
pub(crate) fn digest_params(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.strip_prefix("Digest ")?;
    Some(
        rest.split(", ")
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
            .collect(),
    )
}

#[test]
fn digest_md5_and_sha256_are_answered() {
    for algorithm in ["MD5", "SHA-256"] {
        let digest = digest_server(algorithm, 1000);
        let http = Http::new();
        http.add_credentials("alice", "s3cret", "");
        assert_eq!(
            body(&http.request(&digest.server.url("/a")).1),
            b"digest ok",
            "{algorithm}"
        );
        assert_eq!(digest.server.hits(), 2);
        assert_eq!(
            body(&http.request(&digest.server.url("/b")).1),
            b"digest ok"
        );
        assert_eq!(
            digest.server.hits(),
            3,
            "{algorithm}: up front, with the next nc"
        );
    }
}

#[test]
fn r8_digest_stays_correct_with_eight_workers_and_rotating_nonces() {
    let digest = digest_server("SHA-256", 25);
    let http = Http::builder().workers(8).build().unwrap();
    http.add_credentials("alice", "s3cret", "");
    assert_eq!(
        wait(&http.request(&digest.server.url("/warm")).0)
            .unwrap()
            .status,
        200
    );
    let pairs: Vec<_> = (0..200)
        .map(|i| http.request(&digest.server.url(&format!("/p{i}"))))
        .collect();
    for (response, _) in &pairs {
        assert_eq!(wait(response).unwrap().status, 200);
    }
    assert_eq!(digest.accepted.load(Ordering::SeqCst), 201);
    assert_eq!(
        digest.replays.load(Ordering::SeqCst),
        0,
        "no (nonce, nc) sent twice"
    );
    // Nonces were replaced under the requests (those kept went stale) ...
    assert!(digest.stale.load(Ordering::SeqCst) > 0);
    // ... and every request got through with at most a challenge and a stale retry.
    assert!(digest.server.hits() <= 201 * 3, "{}", digest.server.hits());
}

/// A server that answers every request with a fresh Digest nonce and `stale=true` (and
/// maybe Basic beside): each scheme is answered once, and the Digest answer sent again
/// once, for the request as a whole.
#[test]
fn an_endless_stale_nonce_costs_one_answer_per_scheme_and_one_sent_again() {
    for (basic_too, requests) in [(true, 4), (false, 3)] {
        let issued = AtomicUsize::new(0);
        let server = Server::start(move |_| {
            let nonce = issued.fetch_add(1, Ordering::SeqCst);
            let digest = format!(r#"Digest realm="r", qop="auth", nonce="n{nonce}", stale=true"#);
            let reply = Reply::new(401, "never").header("WWW-Authenticate", &digest);
            if basic_too {
                reply.header("WWW-Authenticate", r#"Basic realm="r""#)
            } else {
                reply
            }
        });
        let http = Http::new();
        http.add_credentials("alice", "s3cret", "");
        let (response, content) = http.request(&server.url("/"));
        assert_eq!(wait(&response).unwrap().status, 401);
        assert_eq!(body(&content), b"never");
        let sent: Vec<_> = server
            .received()
            .iter()
            .map(|r| {
                let authorization = r.header("authorization").unwrap_or("none");
                authorization.split(' ').next().unwrap_or("").to_owned()
            })
            .collect();
        let mut want = vec!["none", "Digest", "Digest"];
        if basic_too {
            want.push("Basic");
        }
        assert_eq!(sent, want, "basic too: {basic_too}");
        assert_eq!(server.hits(), requests);
    }
}

#[test]
fn r7_hostile_challenges_parse_fast_and_end_with_the_401() {
    let nbsp = "\u{a0}".repeat(50_000);
    let commas = ",".repeat(10_000);
    let many = "Basic realm=x, ".repeat(5_000);
    let nonce = "n".repeat(64 * 1024);
    let headers: Vec<String> = vec![
        format!("Digest realm=\"{nbsp}"),
        format!("Basic {commas}"),
        format!("Digest realm=\"unterminated, nonce=\"{commas}"),
        many,
        format!("Digest realm=\"r\", nonce=\"{nonce}\", qop=\"auth-int\""),
        "Digest realm=\"r\", nonce=\"n\", algorithm=UNKNOWN".to_owned(),
    ];
    for value in headers {
        let shown = value.chars().take(30).collect::<String>();
        let server =
            Server::start(move |_| Reply::new(401, "no").header("WWW-Authenticate", &value));
        let http = Http::new();
        http.add_credentials("alice", "s3cret", "");
        let started = Instant::now();
        let (response, _) = http.request(&server.url("/"));
        assert_eq!(wait(&response).unwrap().status, 401, "{shown}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{shown}: {:?}",
            started.elapsed()
        );
        assert!(server.hits() <= 3, "{shown}: {} requests", server.hits());
    }
}

#[test]
fn a_digest_answer_the_transport_cannot_send_fails_its_request_not_a_worker() {
    // Digest sends the user name as it is: outside ASCII, it cannot go (isahc panicked).
    let digest = digest_server("MD5", 1000);
    let http = Http::new();
    http.add_credentials("jos\u{e9}", "s3cret", "");
    let (response, _) = http.request(&digest.server.url("/a"));
    let e = error(&response);
    assert!(
        matches!(e, Error::InvalidRequest { .. }) && e.to_string().contains("authorization"),
        "{}",
        e.chain()
    );
    assert_eq!(digest.server.hits(), 1, "the challenge only");
    // The client is whole: the next request goes.
    http.clear_credentials();
    let (response, _) = http.request(&digest.server.url("/b"));
    assert_eq!(wait(&response).unwrap().status, 401);
}
