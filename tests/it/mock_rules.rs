//! Rules of redirects, retries, the cache and cookies, tested on a mock: each test here is
//! one of `redirects`, `retries`, `caching` and `cookies` (named alike) with the loopback
//! server replaced by a [`MockTransport`], counting what the mock was sent where those
//! count what the server received. The loopback versions stay: they test the same rules
//! over a real connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use asynchttp::{MemoryCache, MockResponse, MockTransport, Retry};

use crate::support::*;

/// `/r/<status>/<target path>` answers `status` with `Location: /<target path>`;
/// `/final` answers 200 with the method and body it got.
fn redirector() -> MockTransport {
    MockTransport::new(|req| {
        if let Some(rest) = req.path().strip_prefix("/r/") {
            let (status, target) = rest.split_once('/').unwrap();
            return MockResponse::new(status.parse().unwrap())
                .body(format!("moved to /{target}"))
                .header("Location", &format!("/{target}"));
        }
        match req.path() {
            "/final" => MockResponse::ok(format!(
                "{} {}",
                req.method(),
                String::from_utf8_lossy(req.body())
            )),
            _ => MockResponse::new(404),
        }
    })
}

#[test]
fn every_redirect_code_is_followed_for_get_with_the_chain_kept() {
    for status in [301, 302, 303, 307, 308] {
        let mock = redirector();
        let http = Http::builder().mock(mock.clone()).build().unwrap();
        let first = format!("http://redirect.invalid/r/{status}/r/{status}/final");
        let (response, content) = http.request(&first);
        assert_eq!(body(&content), b"GET ", "{status}");
        let r = wait(&response).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.url, "http://redirect.invalid/final");
        assert_eq!(
            r.get("content-location"),
            Some("http://redirect.invalid/final")
        );
        let hop2 = r.previous.as_deref().expect("second redirect");
        assert_eq!(hop2.status, status);
        assert_eq!(
            hop2.get("location"),
            Some("http://redirect.invalid/final"),
            "rewritten absolute"
        );
        let hop1 = hop2.previous.as_deref().expect("first redirect");
        assert_eq!(hop1.get("content-location"), Some(first.as_str()));
        assert!(hop1.previous.is_none());
        assert_eq!(mock.count(), 3);
    }
}

#[test]
fn post_after_307_and_308_keeps_method_and_body() {
    for (status, needs_follow_all) in [(307, true), (308, false)] {
        let mock = redirector();
        let http = Http::builder()
            .mock(mock.clone())
            .follow_all_redirects(needs_follow_all)
            .build()
            .unwrap();
        let (_, content) = http.request_with(
            &format!("http://redirect.invalid/r/{status}/final"),
            "POST",
            "a=1",
            &[("Content-Type", "text/plain")],
        );
        assert_eq!(body(&content), b"POST a=1", "{status}");
        let last = mock.requests().pop().unwrap();
        assert_eq!(last.header("content-type"), Some("text/plain"));
    }
}

#[test]
fn unsafe_methods_are_not_followed_without_follow_all() {
    let mock = redirector();
    let http = Http::builder().mock(mock.clone()).build().unwrap();
    for status in [301, 302, 307] {
        let url = format!("http://redirect.invalid/r/{status}/final");
        let (response, _) = http.request_with(&url, "POST", "x", &[]);
        assert_eq!(wait(&response).unwrap().status, status);
    }
    assert_eq!(mock.count(), 3, "nothing followed");
}

#[test]
fn a_redirect_without_location_is_an_error_carrying_its_body() {
    let mock = MockTransport::new(|_| MockResponse::new(302).body("nowhere to go"));
    let http = Http::builder().mock(mock).build().unwrap();
    match error(&http.request("http://redirect.invalid/").0) {
        Error::RedirectMissingLocation {
            response, content, ..
        } => {
            assert_eq!(response.status, 302);
            assert_eq!(&content[..], b"nowhere to go");
        }
        other => panic!("expected RedirectMissingLocation, got {}", other.chain()),
    }
}

/// A retry policy whose waits are short: the tests count attempts, not time.
fn quick(retries: u32) -> Retry {
    Retry::new(retries).backoff(Duration::from_millis(5), Duration::from_millis(20))
}

/// A mock answering `status` to the first `failures` requests, then 200 `ok`.
fn failing_first(failures: usize, status: u16) -> MockTransport {
    let seen = AtomicUsize::new(0);
    MockTransport::new(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) < failures {
            MockResponse::new(status).body("busy")
        } else {
            MockResponse::ok("ok")
        }
    })
}

#[test]
fn retryable_statuses_are_sent_again_until_they_succeed() {
    for status in [429, 502, 503, 504] {
        let mock = failing_first(2, status);
        let http = Http::builder()
            .mock(mock.clone())
            .retry(quick(3))
            .build()
            .unwrap();
        let (response, content) = http.request("http://retry.invalid/");
        let response = wait(&response).unwrap();
        assert_eq!((response.status, body(&content)), (200, &b"ok"[..]));
        assert_eq!(response.attempts, 3, "{status}");
        assert_eq!(mock.count(), 3, "{status}");
    }
}

#[test]
fn the_last_response_is_returned_when_the_retries_run_out() {
    let mock = failing_first(usize::MAX, 503);
    let http = Http::builder()
        .mock(mock.clone())
        .retry(quick(2))
        .build()
        .unwrap();
    let (response, content) = http.request("http://retry.invalid/");
    let response = wait(&response).unwrap();
    assert_eq!((response.status, body(&content)), (503, &b"busy"[..]));
    assert_eq!((response.attempts, mock.count()), (3, 3));
}

#[test]
fn a_post_is_sent_again_only_when_opted_in_and_with_its_body() {
    let mock = failing_first(usize::MAX, 503);
    let http = Http::builder()
        .mock(mock.clone())
        .retry(quick(2))
        .build()
        .unwrap();
    let post = || Request::new("POST", "http://retry.invalid/orders").body("order=1");
    let (response, _) = http.send(post());
    assert_eq!(wait(&response).unwrap().attempts, 1);
    assert_eq!(mock.count(), 1, "not idempotent");

    let (response, _) = http.send(post().retry(quick(2).any_method(true)));
    assert_eq!(wait(&response).unwrap().attempts, 3);
    let sent = mock.requests();
    assert_eq!(sent.len(), 4);
    assert!(
        sent.iter()
            .all(|r| r.method() == "POST" && r.body() == b"order=1")
    );
}

#[test]
fn a_refused_connection_is_retried_for_any_method_since_nothing_was_sent() {
    let mock = MockTransport::new(|_| MockResponse::connection_refused());
    let http = Http::builder()
        .mock(mock.clone())
        .retry(quick(2))
        .build()
        .unwrap();
    let batch = http.batch([Request::new("POST", "http://down.invalid/").body("x")]);
    batch.join_all();
    let progress = batch.progress();
    assert_eq!((progress.failed, progress.retries), (1, 2));
    assert!(matches!(
        batch.exceptions().next(),
        Some((_, Error::Connect { .. }))
    ));
    assert_eq!(mock.count(), 3);

    let http = Http::builder()
        .mock(mock.clone())
        .retry(quick(2).on_connect(false))
        .build()
        .unwrap();
    let batch = http.batch(["http://down.invalid/"]);
    batch.join_all();
    assert_eq!(batch.progress().retries, 0);
}

#[test]
fn a_body_cut_short_is_fetched_again_whole() {
    let calls = AtomicUsize::new(0);
    let mock = MockTransport::new(move |_| {
        let whole = MockResponse::ok("0123456789");
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 => whole.cut_after(5),
            _ => whole,
        }
    });
    let http = Http::builder()
        .mock(mock.clone())
        .retry(quick(1))
        .build()
        .unwrap();
    let (response, content) = http.request("http://cut.invalid/");
    assert_eq!(wait(&response).unwrap().attempts, 2);
    assert_eq!(body(&content), b"0123456789");

    let cutting = MockTransport::new(|_| MockResponse::ok("0123456789").cut_after(5));
    let http = Http::builder()
        .mock(cutting.clone())
        .retry(quick(1).on_incomplete(false))
        .build()
        .unwrap();
    let (response, _) = http.request("http://cut.invalid/");
    assert!(matches!(error(&response), Error::BodyIncomplete { .. }));
    assert_eq!(cutting.count(), 1);
}

/// A client with a fresh memory cache, answered by `mock`.
fn cached(mock: &MockTransport) -> Http {
    let store = Arc::new(MemoryCache::new());
    Http::builder()
        .mock(mock.clone())
        .cache_store(store)
        .build()
        .unwrap()
}

/// The body of a GET of `url`, waited for.
#[track_caller]
fn get(http: &Http, url: &str) -> Vec<u8> {
    let (response, content) = http.request(url);
    wait(&response).unwrap();
    body(&content).to_vec()
}

#[test]
fn no_store_is_not_stored() {
    let mock = MockTransport::new(|_| {
        MockResponse::ok("secret").header("Cache-Control", "no-store, max-age=600")
    });
    let http = cached(&mock);
    get(&http, "http://cache.invalid/");
    get(&http, "http://cache.invalid/");
    assert_eq!(mock.count(), 2);
}

#[test]
fn an_unsafe_method_invalidates_the_entry() {
    let mock =
        MockTransport::new(|_| MockResponse::ok("doc").header("Cache-Control", "max-age=600"));
    let http = cached(&mock);
    get(&http, "http://cache.invalid/doc");
    get(&http, "http://cache.invalid/doc");
    assert_eq!(mock.count(), 1);
    assert_eq!(
        wait(&http.delete("http://cache.invalid/doc").0)
            .unwrap()
            .status,
        200
    );
    get(&http, "http://cache.invalid/doc");
    assert_eq!(mock.count(), 3, "fetched again after DELETE");
}

#[test]
fn vary_is_honoured() {
    let mock = MockTransport::new(|req| {
        let lang = req.header("accept-language").unwrap_or("none").to_owned();
        MockResponse::ok(lang)
            .header("Cache-Control", "max-age=600")
            .header("Vary", "Accept-Language")
    });
    let http = cached(&mock);
    let fetch = |lang: &str| {
        let url = "http://cache.invalid/v";
        let (r, c) = http.request_with(url, "GET", "", &[("Accept-Language", lang)]);
        wait(&r).unwrap();
        body(&c).to_vec()
    };
    assert_eq!(fetch("en"), b"en");
    assert_eq!(fetch("en"), b"en");
    assert_eq!(fetch("fr"), b"fr");
    assert_eq!(mock.count(), 2);
}

/// A mock whose body is the `Cookie` header the request carried (`-` for none), with a
/// `Set-Cookie` line for each of `sets` whose path is the request's.
fn echo(sets: &'static [(&'static str, &'static str)]) -> MockTransport {
    MockTransport::new(move |req| {
        let reply = MockResponse::ok(req.header("cookie").unwrap_or("-").to_owned());
        sets.iter()
            .filter(|(path, _)| *path == req.path())
            .fold(reply, |reply, (_, line)| reply.header("Set-Cookie", line))
    })
}

/// The body of a GET of `url`, as text.
#[track_caller]
fn text(http: &Http, url: &str) -> String {
    String::from_utf8(get(http, url)).unwrap()
}

#[test]
fn cookies_go_by_path_and_expiry() {
    let mock = echo(&[
        ("/a/set", "inner=1; Path=/a"),
        ("/a/set", "outer=2; Path=/"),
        ("/forget", "outer=; Path=/; Max-Age=0"),
        (
            "/expire",
            "inner=; Path=/a; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        ),
        ("/secure", "s=1; Secure; Path=/"),
        ("/later", "later=1; Path=/; Max-Age=3600"),
    ]);
    let http = Http::builder().mock(mock).cookies(true).build().unwrap();
    let url = |path: &str| format!("http://jar.invalid{path}");
    assert_eq!(text(&http, &url("/a/set")), "-");
    // Longer paths first.
    assert_eq!(text(&http, &url("/a/x")), "inner=1; outer=2");
    assert_eq!(text(&http, &url("/a")), "inner=1; outer=2");
    assert_eq!(text(&http, &url("/b")), "outer=2");
    assert_eq!(
        text(&http, &url("/ab")),
        "outer=2",
        "/a is not a prefix of /ab"
    );
    // Max-Age=0 deletes; the response that deletes was still sent the cookie.
    assert_eq!(text(&http, &url("/forget")), "outer=2");
    assert_eq!(text(&http, &url("/a/x")), "inner=1");
    // An Expires in the past deletes too.
    text(&http, &url("/expire"));
    assert_eq!(text(&http, &url("/a/x")), "-");
    // A Secure cookie never goes over http, and goes over https.
    text(&http, &url("/secure"));
    assert_eq!(text(&http, &url("/b")), "-");
    assert_eq!(text(&http, "https://jar.invalid/b"), "s=1");
    text(&http, &url("/later"));
    assert_eq!(text(&http, &url("/b")), "later=1");
    // Another host has none of them.
    assert_eq!(text(&http, "http://other.invalid/b"), "-");
}

#[test]
fn a_cookie_set_with_a_401_goes_with_the_answer() {
    let mock = MockTransport::new(|req| {
        let challenged = req.header("cookie") == Some("challenge=1");
        match req.header("authorization") {
            Some(_) if challenged => MockResponse::ok("in"),
            Some(_) => MockResponse::new(403).body("no challenge cookie"),
            None => MockResponse::new(401)
                .header("WWW-Authenticate", r#"Basic realm="t""#)
                .header("Set-Cookie", "challenge=1; Path=/"),
        }
    });
    let http = Http::builder()
        .mock(mock.clone())
        .cookies(true)
        .build()
        .unwrap();
    http.add_credentials("alice", "s3cret", "");
    let (response, content) = http.request("http://private.invalid/private");
    assert_eq!(body(&content), b"in");
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(mock.count(), 2, "the challenge, then the answer");
}
