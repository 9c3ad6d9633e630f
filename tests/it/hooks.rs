//! Hooks: a signature the server checks on every exchange (first, redirected, retried,
//! answered 401), the order client and request hooks run in, failing and panicking hooks,
//! every event counted against what the server saw, a slow hook that holds up no one else,
//! and the `tracing` feature's spans.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asynchttp::{
    BoxError, Failure, Finished, Hook, Incoming, Outgoing, Redirect, Retry, RetryReason, Retrying,
};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::support::*;

const SECRET: &str = "hook-secret-7";

/// A retry policy whose waits are short: the tests count attempts, not time.
fn quick(retries: u32) -> Retry {
    Retry::new(retries).backoff(Duration::from_millis(5), Duration::from_millis(20))
}

fn basic(name: &str, password: &str) -> String {
    let pair = format!("{name}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// What is signed: the method, the path, the exchange and attempt counters, the body's
/// length and the `Authorization` going out, so a signature made before the client's own
/// headers were in place would not match.
fn signature(
    method: &str,
    path: &str,
    exchange: &str,
    attempt: &str,
    body_len: usize,
    authorization: &str,
) -> String {
    let text =
        format!("{SECRET}\n{method}\n{path}\n{exchange}\n{attempt}\n{body_len}\n{authorization}");
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Signs every exchange, and counts the calls.
#[derive(Default)]
struct Signer {
    calls: AtomicUsize,
}

impl Hook for Signer {
    fn before_send(&self, out: &mut Outgoing<'_>) -> Result<(), BoxError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let (exchange, attempt) = (out.exchange().to_string(), out.attempt().to_string());
        let sig = signature(
            out.method(),
            out.path(),
            &exchange,
            &attempt,
            out.body().len(),
            out.header("authorization").unwrap_or(""),
        );
        out.set_header("X-Exchange", &exchange)?;
        out.set_header("X-Attempt", &attempt)?;
        out.set_header("X-Signature", &sig)?;
        Ok(())
    }
}

/// The server's check of a request's signature.
fn signed(req: &Received) -> bool {
    let header = |name| req.header(name).unwrap_or("");
    let path = req.url.split('?').next().unwrap_or_default();
    let expected = signature(
        &req.method,
        path,
        header("x-exchange"),
        header("x-attempt"),
        req.body.len(),
        header("authorization"),
    );
    header("x-signature") == expected
}

#[test]
fn every_exchange_is_signed_first_redirected_retried_and_answered_401() {
    let flaky = AtomicUsize::new(0);
    let good = basic("alice", "s3cret");
    let server = Server::start(move |req| {
        if !signed(req) {
            return Reply::new(403, "bad signature");
        }
        match req.url.as_str() {
            "/302" | "/307" => Reply::new(if req.url == "/302" { 302 } else { 307 }, "")
                .header("Location", "/plain"),
            "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) == 0 => Reply::new(503, "busy"),
            "/auth" if req.header("authorization") != Some(good.as_str()) => {
                Reply::new(401, "who").header("WWW-Authenticate", r#"Basic realm="r""#)
            }
            _ => Reply::ok("signed"),
        }
    });
    let signer = Arc::new(Signer::default());
    let http = Http::builder()
        .hook(SharedHook(signer.clone()))
        .retry(quick(2))
        .follow_all_redirects(true)
        .build()
        .unwrap();
    http.add_credentials("alice", "s3cret", "");
    let requests = [
        Request::get(server.url("/plain")),
        Request::get(server.url("/302")),
        Request::new("POST", server.url("/307")).body("order=1"),
        Request::get(server.url("/flaky")),
        Request::get(server.url("/auth")),
    ];
    let pairs: Vec<_> = requests.into_iter().map(|r| http.send(r)).collect();
    for (response, content) in &pairs {
        let response = wait(response).unwrap();
        assert_eq!((response.status, body(content)), (200, &b"signed"[..]));
    }
    let received = server.received();
    assert!(received.iter().all(signed), "{received:?}");
    assert_eq!(received.len(), 1 + 2 + 2 + 2 + 2);
    assert_eq!(signer.calls.load(Ordering::SeqCst), received.len());
    // The 307 kept its POST and body, and was signed with them.
    let hop = received
        .iter()
        .find(|r| r.method == "POST" && r.url == "/plain")
        .expect("the 307's hop");
    assert_eq!(
        (hop.body.as_slice(), hop.header("x-exchange")),
        (&b"order=1"[..], Some("2"))
    );
    // The retry is attempt 2, exchange 2; the 401's answer carries the credentials.
    let attempts: Vec<_> = received
        .iter()
        .filter(|r| r.url == "/flaky")
        .map(|r| {
            (
                r.header("x-attempt").unwrap(),
                r.header("x-exchange").unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts, [("1", "1"), ("2", "2")]);
    let auth: Vec<_> = received
        .iter()
        .filter(|r| r.url == "/auth")
        .map(|r| {
            (
                r.header("x-exchange").unwrap(),
                r.header("authorization").is_some(),
            )
        })
        .collect();
    assert_eq!(auth, [("1", false), ("2", true)]);
}

/// A hook shared with the test, which reads what it counted.
struct SharedHook<H>(Arc<H>);

impl<H: Hook> Hook for SharedHook<H> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn before_send(&self, out: &mut Outgoing<'_>) -> Result<(), BoxError> {
        self.0.before_send(out)
    }
    fn on_response(&self, head: &Incoming<'_>) {
        self.0.on_response(head)
    }
    fn on_redirect(&self, redirect: &Redirect<'_>) {
        self.0.on_redirect(redirect)
    }
    fn on_retry(&self, retrying: &Retrying<'_>) {
        self.0.on_retry(retrying)
    }
    fn on_finish(&self, finished: &Finished<'_>) {
        self.0.on_finish(finished)
    }
    fn on_failure(&self, failure: &Failure<'_>) {
        self.0.on_failure(failure)
    }
}

/// Appends its letter to `X-Order` before sending, and to a shared log when done.
struct Letter(&'static str, Arc<Mutex<Vec<&'static str>>>);

impl Hook for Letter {
    fn before_send(&self, out: &mut Outgoing<'_>) -> Result<(), BoxError> {
        let order = match out.header("x-order") {
            Some(before) => format!("{before},{}", self.0),
            None => self.0.to_owned(),
        };
        out.set_header("X-Order", &order)?;
        Ok(())
    }
    fn on_finish(&self, _: &Finished<'_>) {
        self.1.lock().unwrap().push(self.0);
    }
}

#[test]
fn client_hooks_run_first_then_the_requests_each_in_the_order_added() {
    let server = Server::start(|req| Reply::ok(req.header("x-order").unwrap_or("")));
    let log = Arc::new(Mutex::new(Vec::new()));
    let http = Http::builder()
        .hook(Letter("a", log.clone()))
        .before_send(|out| {
            let before = out.header("x-order").unwrap_or("").to_owned();
            out.set_header("X-Order", &format!("{before},b"))?;
            Ok(())
        })
        .hook(Letter("c", log.clone()))
        .build()
        .unwrap();
    let req = Request::get(server.url("/"))
        .hook(Letter("d", log.clone()))
        .hook(Letter("e", log.clone()));
    let (_, content) = http.send(req);
    assert_eq!(body(&content), b"a,b,c,d,e");
    assert_eq!(*log.lock().unwrap(), ["a", "c", "d", "e"]);
    // Another request of the client has the client's alone.
    log.lock().unwrap().clear();
    assert_eq!(body(&http.request(&server.url("/")).1), b"a,b,c");
    assert_eq!(*log.lock().unwrap(), ["a", "c"]);
}

#[derive(Debug)]
struct Denied;

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no key for this path")
    }
}

impl std::error::Error for Denied {}

/// Refuses `/deny`, sets a header that cannot be sent on `/bad-header` (and ignores the
/// error), and panics on the way in or out of `/panic-*`.
#[derive(Default)]
struct Picky {
    refused_header: AtomicBool,
    failures: Mutex<Vec<String>>,
}

impl Hook for Picky {
    fn name(&self) -> &str {
        "picky"
    }
    fn before_send(&self, out: &mut Outgoing<'_>) -> Result<(), BoxError> {
        match out.path() {
            "/deny" => return Err(Box::new(Denied)),
            "/bad-header" => {
                let set = out.set_header("X-Bad", "a\r\nInjected: 1");
                self.refused_header.store(set.is_err(), Ordering::SeqCst);
            }
            "/panic-before" => panic!("before_send blew up"),
            _ => {}
        }
        Ok(())
    }
    fn on_response(&self, head: &Incoming<'_>) {
        if head.url().ends_with("/panic-head") {
            panic!("on_response blew up");
        }
    }
    fn on_finish(&self, finished: &Finished<'_>) {
        if finished.url().ends_with("/panic-finish") {
            panic!("on_finish blew up");
        }
    }
    fn on_failure(&self, failure: &Failure<'_>) {
        let path = failure.url().rsplit('/').next().unwrap_or_default();
        self.failures.lock().unwrap().push(path.to_owned());
    }
}

#[test]
fn a_failing_or_panicking_hook_fails_its_own_request_only() {
    let server = Server::start(|_| Reply::ok("fine"));
    let picky = Arc::new(Picky::default());
    let http = Http::builder()
        .hook(SharedHook(picky.clone()))
        .retry(quick(3))
        .workers(3)
        .build()
        .unwrap();
    let paths = [
        "deny",
        "bad-header",
        "panic-before",
        "panic-head",
        "panic-finish",
    ];
    let failing: Vec<_> = paths
        .iter()
        .map(|path| http.request(&server.url(&format!("/{path}"))).0)
        .collect();
    let fine: Vec<_> = (0..20)
        .map(|i| http.request(&server.url(&format!("/ok/{i}"))).1)
        .collect();
    let reasons: Vec<_> = failing
        .iter()
        .map(|response| match error(response) {
            Error::Hook {
                hook,
                reason,
                source,
                ..
            } => {
                assert_eq!(hook, "picky");
                (reason, source)
            }
            other => panic!("expected a hook error, got {other:?}"),
        })
        .collect();
    assert_eq!(reasons[0].0, "before_send returned an error");
    assert!(
        reasons[0]
            .1
            .as_ref()
            .unwrap()
            .downcast_ref::<Denied>()
            .is_some()
    );
    assert_eq!(reasons[1].0, "before_send set a header that cannot be sent");
    assert!(matches!(
        reasons[1].1.as_ref().unwrap().downcast_ref::<Error>(),
        Some(Error::InvalidRequest { .. })
    ));
    assert!(picky.refused_header.load(Ordering::SeqCst));
    assert_eq!(reasons[2].0, "before_send panicked: before_send blew up");
    assert_eq!(reasons[3].0, "on_response panicked: on_response blew up");
    assert_eq!(reasons[4].0, "on_finish panicked: on_finish blew up");
    assert!(reasons[2..].iter().all(|(_, source)| source.is_none()));
    for content in &fine {
        assert_eq!(body(content), b"fine");
    }
    // Nothing was sent for a refused exchange, and no hook error was retried: the
    // server saw the two whose failure came after their answer, once each.
    let seen: Vec<_> = server.received().into_iter().map(|r| r.url).collect();
    assert_eq!(
        seen.iter().filter(|u| !u.starts_with("/ok/")).count(),
        2,
        "{seen:?}"
    );
    assert!(seen.contains(&"/panic-head".to_owned()) && seen.contains(&"/panic-finish".to_owned()));
    // on_failure heard each failure but the one whose on_finish it was.
    let mut failures = picky.failures.lock().unwrap().clone();
    failures.sort();
    assert_eq!(
        failures,
        ["bad-header", "deny", "panic-before", "panic-head"]
    );
    // The pool goes on.
    let again: Vec<_> = (0..10)
        .map(|i| http.request(&server.url(&format!("/again/{i}"))).1)
        .collect();
    assert!(again.iter().all(|content| body(content) == b"fine"));
}

/// Every event of every request, by request id, in order.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(u64, &'static str)>>,
    retry_reasons: Mutex<Vec<String>>,
}

impl Recorder {
    fn push(&self, id: u64, event: &'static str) {
        self.events.lock().unwrap().push((id, event));
    }

    fn count(&self, event: &str) -> usize {
        let events = self.events.lock().unwrap();
        events.iter().filter(|(_, e)| *e == event).count()
    }
}

impl Hook for Recorder {
    fn before_send(&self, out: &mut Outgoing<'_>) -> Result<(), BoxError> {
        self.push(out.id(), "send");
        Ok(())
    }
    fn on_response(&self, head: &Incoming<'_>) {
        self.push(head.id(), "response");
    }
    fn on_redirect(&self, redirect: &Redirect<'_>) {
        assert!(redirect.to().ends_with("/plain") || redirect.to().ends_with("/loop"));
        self.push(redirect.id(), "redirect");
    }
    fn on_retry(&self, retrying: &Retrying<'_>) {
        let reason = match retrying.reason() {
            RetryReason::Status(status) => status.to_string(),
            RetryReason::Error(error) => format!("{error:?}").split(' ').next().unwrap().to_owned(),
            _ => "other".to_owned(),
        };
        self.retry_reasons.lock().unwrap().push(reason);
        self.push(retrying.id(), "retry");
    }
    fn on_finish(&self, finished: &Finished<'_>) {
        self.push(finished.id(), "finish");
    }
    fn on_failure(&self, failure: &Failure<'_>) {
        self.push(failure.id(), "failure");
    }
}

#[test]
fn every_event_is_seen_once_per_step_as_the_server_saw_it() {
    let flaky = Mutex::new(HashMap::<String, usize>::new());
    let good = basic("alice", "s3cret");
    let server = Server::start(move |req| match req.url.as_str() {
        "/302" => Reply::new(302, "").header("Location", "/plain"),
        "/loop" => Reply::new(302, "").header("Location", "/loop"),
        "/auth" if req.header("authorization") != Some(good.as_str()) => {
            Reply::new(401, "who").header("WWW-Authenticate", r#"Basic realm="r""#)
        }
        url if url.starts_with("/flaky") => {
            let mut seen = flaky.lock().unwrap();
            let n = seen.entry(url.to_owned()).or_default();
            *n += 1;
            Reply::new(if *n == 1 { 503 } else { 200 }, "")
        }
        _ => Reply::ok("ok"),
    });
    let recorder = Arc::new(Recorder::default());
    let http = Http::builder()
        .hook(SharedHook(recorder.clone()))
        .retry(quick(2))
        .build()
        .unwrap();
    http.add_credentials("alice", "s3cret", "");
    let mut requests: Vec<Request> = Vec::new();
    requests.extend((0..10).map(|i| Request::get(server.url(&format!("/plain?{i}")))));
    requests.extend((0..5).map(|_| Request::get(server.url("/302"))));
    requests.extend((0..3).map(|i| Request::get(server.url(&format!("/flaky{i}")))));
    requests.extend((0..2).map(|_| Request::get(server.url("/auth"))));
    requests.push(Request::get(server.url("/loop")).redirections(2));
    requests.push(Request::get("ftp://127.0.0.1/refused"));
    requests.push(Request::get(closed_port_url()));
    let total = requests.len();
    let pairs: Vec<_> = requests.into_iter().map(|r| http.send(r)).collect();
    let outcomes: Vec<_> = pairs
        .iter()
        .map(|(response, _)| (LazyResponse::id(response), wait(response).is_ok()))
        .collect();
    let succeeded = outcomes.iter().filter(|(_, ok)| *ok).count();
    assert_eq!((succeeded, total - succeeded), (20, 3));

    let received = server.received();
    let hits = received.len();
    let redirects_sent = received
        .iter()
        .filter(|r| r.url == "/302" || r.url == "/loop")
        .count();
    // The closed port took three attempts, none of which reached a server.
    assert_eq!(recorder.count("send"), hits + 3);
    assert_eq!(recorder.count("response"), hits);
    // Each 302 was followed but the loop's last, past its limit of 2.
    assert_eq!(recorder.count("redirect"), redirects_sent - 1);
    assert_eq!(recorder.count("retry"), 3 + 2);
    let mut reasons = recorder.retry_reasons.lock().unwrap().clone();
    reasons.sort();
    assert_eq!(reasons, ["503", "503", "503", "Connect", "Connect"]);
    assert_eq!(recorder.count("finish"), succeeded);
    assert_eq!(recorder.count("failure"), total - succeeded);
    // Each request ends once, with the outcome its pair holds, as its last event.
    let events = recorder.events.lock().unwrap().clone();
    for (id, ok) in outcomes {
        let own: Vec<_> = events
            .iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, e)| *e)
            .collect();
        let ends = own
            .iter()
            .filter(|e| matches!(**e, "finish" | "failure"))
            .count();
        assert_eq!(ends, 1, "req={id}: {own:?}");
        assert_eq!(
            own.last(),
            Some(&if ok { "finish" } else { "failure" }),
            "req={id}"
        );
    }
}

#[test]
fn a_slow_hook_holds_up_no_other_request_of_its_client() {
    let server = Server::start(|_| Reply::ok("ok"));
    let inside = Arc::new(AtomicBool::new(false));
    let (release, released) = flume::bounded::<()>(1);
    let thread = Arc::new(Mutex::new(String::new()));
    let (flag, name) = (inside.clone(), thread.clone());
    let http = Http::builder()
        .before_send(move |out| {
            if out.path() == "/slow" {
                *name.lock().unwrap() = std::thread::current().name().unwrap_or("").to_owned();
                flag.store(true, Ordering::SeqCst);
                // Held until every other request is done, or the bound runs out.
                released.recv_timeout(BOUND)?;
                flag.store(false, Ordering::SeqCst);
            }
            Ok(())
        })
        .build()
        .unwrap();
    let (slow, slow_content) = http.request(&server.url("/slow"));
    eventually("the slow hook runs", || inside.load(Ordering::SeqCst));
    let others: Vec<_> = (0..100)
        .map(|i| http.request(&server.url(&format!("/fast/{i}"))).1)
        .collect();
    for content in &others {
        assert_eq!(body(content), b"ok");
    }
    // All 100 finished while the slow one was still inside its hook, unsent.
    assert!(inside.load(Ordering::SeqCst));
    assert!(!LazyResponse::is_ready(&slow));
    assert_eq!(server.hits(), 100);
    release.send(()).unwrap();
    assert_eq!(body(&slow_content), b"ok");
    assert!(thread.lock().unwrap().starts_with("asynchttp-worker"));
}

#[cfg(feature = "tracing")]
mod spans;
