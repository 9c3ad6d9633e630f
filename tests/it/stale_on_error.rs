//! A stale stored response in place of the origin's failure: `stale-if-error` from the
//! response, from the request, or from `HttpBuilder::stale_if_error`; its mark; what never
//! allows it; and how it goes with retries, forced statuses, hooks, `only-if-cached`,
//! `stale-while-revalidate` and downloads. Each origin is a loopback server the test starts
//! and stops.

use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use asynchttp::{
    Failure, Finished, Hook, Incoming, MemoryCache, MockResponse, MockTransport, Retry,
    RetryBudget, StaleOnError,
};

use crate::support::*;

const MINUTE: Duration = Duration::from_secs(60);

/// What a response given in place of an error carries besides its mark.
const WARNINGS: [&str; 2] = [
    r#"110 - "Response is Stale""#,
    r#"111 - "Revalidation Failed""#,
];

/// An origin that answers `v1` with `cache_control` while its status is 200, and that
/// status with the body `down` and a `Retry-After` once it is set to anything else.
fn origin(cache_control: &'static str) -> (Server, Arc<AtomicU16>) {
    let status = Arc::new(AtomicU16::new(200));
    let now = status.clone();
    let server = Server::start(move |_| match now.load(SeqCst) {
        200 => Reply::ok("v1").header("Cache-Control", cache_control),
        other => Reply::new(other, "down").header("Retry-After", "7"),
    });
    (server, status)
}

/// A client with a cache in memory, serving stale on errors up to `stale_if_error`.
fn client(stale_if_error: Option<Duration>) -> Http {
    let builder = Http::builder().cache_store(Arc::new(MemoryCache::new()));
    match stale_if_error {
        Some(max) => builder.stale_if_error(max),
        None => builder,
    }
    .build()
    .unwrap()
}

fn get(http: &Http, req: Request) -> Result<(Response, Vec<u8>), Error> {
    let (response, content) = http.send(req);
    let response = wait(&response)?.clone();
    Ok((response, body(&content).to_vec()))
}

/// Fetches `url` once, so that its response is stored, and checks that it was not from
/// the cache.
fn store(http: &Http, url: &str) {
    let (response, content) = get(http, Request::get(url)).unwrap();
    assert_eq!((response.status, content.as_slice()), (200, &b"v1"[..]));
    assert!(!response.from_cache && response.stale_on_error().is_none());
}

/// An [`origin`] with `cache_control`, a [`client`] with `stale_if_error` that has
/// stored its `/doc`, and that URL.
fn stored(
    cache_control: &'static str,
    stale_if_error: Option<Duration>,
) -> (Server, Arc<AtomicU16>, Http, String) {
    let (server, status) = origin(cache_control);
    let url = server.url("/doc");
    let http = client(stale_if_error);
    store(&http, &url);
    (server, status, http, url)
}

/// The stored `v1`, given stale in place of an error: its mark, returned.
#[track_caller]
fn stale(answer: Result<(Response, Vec<u8>), Error>) -> StaleOnError {
    let (response, content) = match answer {
        Ok(answer) => answer,
        Err(e) => panic!("expected the stale answer, got {}", e.chain()),
    };
    assert_eq!((response.status, content.as_slice()), (200, &b"v1"[..]));
    assert!(response.from_cache);
    assert!(response.contains_key("age"));
    assert_eq!(response.get_all("warning").collect::<Vec<_>>(), WARNINGS);
    response
        .stale_on_error()
        .cloned()
        .unwrap_or_else(|| panic!("no mark on {response:?}"))
}

#[test]
fn an_origin_stopped_gives_the_stale_answer_with_its_mark() {
    let (server, _, http, url) = stored("max-age=0", Some(MINUTE));
    drop(server); // the port is closed now

    let mark = stale(get(&http, Request::get(&url)));
    assert!(
        matches!(mark.error(), Some(Error::Connect { .. })),
        "{mark}"
    );
    assert_eq!(mark.status(), None);
    assert!(mark.staleness() <= MINUTE);
    assert!(mark.to_string().contains("could not connect"), "{mark}");
    // Again: the entry is still there.
    stale(get(&http, Request::get(&url)));
}

#[test]
fn a_503_gives_the_stale_answer_and_is_neither_stored_nor_kept() {
    let (server, status, http, url) = stored("max-age=0", Some(MINUTE));
    for down in [503, 500, 502, 504] {
        status.store(down, SeqCst);
        let mark = stale(get(&http, Request::get(&url)));
        assert_eq!((mark.status(), mark.error().is_none()), (Some(down), true));
        let answered = mark.response().and_then(|r| r.get("retry-after"));
        assert_eq!(answered, Some("7"), "the origin's own head");
    }
    // Each asked the origin: nothing of the errors was stored in the entry's place.
    assert_eq!(server.hits(), 5);
    status.store(200, SeqCst);
    let (back, _) = get(&http, Request::get(&url)).unwrap();
    assert!(!back.from_cache && back.stale_on_error().is_none());
    assert_eq!(server.hits(), 6);
}

#[test]
fn a_timeout_gives_the_stale_answer() {
    let slow = Arc::new(AtomicUsize::new(0));
    let calls = slow.clone();
    let server = Server::start(move |_| {
        let reply = Reply::ok("v1").header("Cache-Control", "max-age=0");
        match calls.fetch_add(1, SeqCst) {
            0 => reply,
            _ => reply.delay(Duration::from_secs(5)),
        }
    });
    let url = server.url("/doc");
    let http = client(Some(MINUTE));
    store(&http, &url);
    let req = Request::get(&url).timeout(Duration::from_millis(300));
    let mark = stale(get(&http, req));
    assert!(mark.error().is_some_and(Error::is_timeout), "{mark}");
}

#[test]
fn a_connection_reset_before_the_answer_gives_the_stale_answer() {
    let connections = AtomicUsize::new(0);
    let server = RawServer::start(move |stream| match connections.fetch_add(1, SeqCst) {
        0 => send(
            stream,
            b"HTTP/1.1 200 OK\r\nCache-Control: max-age=0\r\nContent-Length: 2\r\n\
              Connection: close\r\n\r\nv1",
        ),
        _ => reset(stream.try_clone().unwrap()),
    });
    let url = server.url("/doc");
    let http = client(Some(MINUTE));
    store(&http, &url);
    let mark = stale(get(&http, Request::get(&url)));
    assert!(
        matches!(
            mark.error(),
            Some(Error::BodyIncomplete { received: 0, .. })
        ),
        "{mark}"
    );
}

#[test]
fn a_fresh_response_the_request_asks_to_revalidate_is_not_called_stale() {
    let (_server, status, http, url) = stored("max-age=600", Some(MINUTE));
    status.store(503, SeqCst);
    let req = Request::get(&url).header("Cache-Control", "max-age=0");
    let (response, content) = get(&http, req).unwrap();
    assert_eq!((response.status, content.as_slice()), (200, &b"v1"[..]));
    let mark = response.stale_on_error().expect("the stored answer");
    assert_eq!(
        (mark.status(), mark.staleness()),
        (Some(503), Duration::ZERO)
    );
    assert_eq!(
        response.get_all("warning").collect::<Vec<_>>(),
        [WARNINGS[1]]
    );
}

#[test]
fn past_the_maximum_staleness_the_error_surfaces() {
    let (server, _, http, url) = stored("max-age=0", Some(Duration::from_secs(1)));
    drop(server);
    // Past the one second allowed (its Date, to the second, may make it older still).
    thread::sleep(Duration::from_millis(2500));
    let error = get(&http, Request::get(&url)).unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{}", error.chain());
}

#[test]
fn the_responses_own_stale_if_error_allows_it_without_the_setting() {
    let (server, status) = origin("max-age=0, stale-if-error=60");
    let (plain, plain_status) = origin("max-age=0");
    let http = client(None);
    store(&http, &server.url("/doc"));
    store(&http, &plain.url("/doc"));
    status.store(503, SeqCst);
    plain_status.store(503, SeqCst);

    let mark = stale(get(&http, Request::get(server.url("/doc"))));
    assert_eq!(mark.status(), Some(503));
    // Without any stale-if-error, the 503 as it came.
    let (response, content) = get(&http, Request::get(plain.url("/doc"))).unwrap();
    assert_eq!((response.status, content.as_slice()), (503, &b"down"[..]));
    assert!(response.stale_on_error().is_none() && !response.from_cache);
}

#[test]
fn the_request_directive_allows_and_bounds_it() {
    let (_server, status, without, url) = stored("max-age=0", None);
    status.store(503, SeqCst);
    let allowed = Request::get(&url).header("Cache-Control", "stale-if-error=60");
    assert_eq!(stale(get(&without, allowed)).status(), Some(503));

    // On a client that would allow a minute, the request's own zero allows nothing stale.
    let with = client(Some(MINUTE));
    status.store(200, SeqCst);
    store(&with, &url);
    status.store(503, SeqCst);
    let bounded = Request::get(&url).header("Cache-Control", "stale-if-error=0");
    let (response, _) = get(&with, bounded).unwrap();
    assert_eq!(response.status, 503);
    assert!(response.stale_on_error().is_none());
    // And a request's no-cache asks for the origin's answer.
    let fresh_only = Request::get(&url).header("Cache-Control", "no-cache");
    assert_eq!(get(&with, fresh_only).unwrap().0.status, 503);
}

#[test]
fn must_revalidate_and_no_cache_refuse_it() {
    for cache_control in [
        "max-age=0, must-revalidate, stale-if-error=60",
        "max-age=0, no-cache, stale-if-error=60",
    ] {
        let (server, status, http, url) = stored(cache_control, Some(MINUTE));
        status.store(503, SeqCst);
        let (response, _) = get(&http, Request::get(&url)).unwrap();
        assert_eq!(response.status, 503, "{cache_control}");
        assert!(response.stale_on_error().is_none(), "{cache_control}");
        drop(server);
        let error = get(&http, Request::get(&url)).unwrap_err();
        assert!(matches!(error, Error::Connect { .. }), "{cache_control}");
    }
}

#[test]
fn with_nothing_stored_the_failure_is_unchanged() {
    let (server, status) = origin("max-age=0");
    let http = client(Some(MINUTE));
    status.store(503, SeqCst);
    let (response, content) = get(&http, Request::get(server.url("/never"))).unwrap();
    assert_eq!((response.status, content.as_slice()), (503, &b"down"[..]));
    assert!(response.stale_on_error().is_none() && !response.get_all("warning").any(|_| true));
    let url = server.url("/doc");
    drop(server);
    let error = get(&http, Request::get(&url)).unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{}", error.chain());
}

#[test]
fn a_tls_failure_is_not_answered_stale() {
    let calls = AtomicUsize::new(0);
    let mock = MockTransport::new(move |_| match calls.fetch_add(1, SeqCst) {
        0 => MockResponse::ok("v1").header("Cache-Control", "max-age=0"),
        _ => MockResponse::tls_failure("invalid peer certificate: UnknownIssuer"),
    });
    let http = Http::builder()
        .mock(mock)
        .cache_store(Arc::new(MemoryCache::new()))
        .stale_if_error(MINUTE)
        .build()
        .unwrap();
    store(&http, "https://api.test/doc");
    let error = get(&http, Request::get("https://api.test/doc")).unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{}", error.chain());
}

#[test]
fn retries_come_first_and_the_stale_answer_last() {
    let (server, status) = origin("max-age=0");
    let url = server.url("/doc");
    let http = Http::builder()
        .cache_store(Arc::new(MemoryCache::new()))
        .stale_if_error(MINUTE)
        .retry(
            Retry::new(2)
                .backoff(Duration::ZERO, Duration::ZERO)
                .respect_retry_after(false),
        )
        .retry_budget(RetryBudget::unlimited())
        .build()
        .unwrap();
    store(&http, &url);
    status.store(503, SeqCst);
    let (response, content) = get(&http, Request::get(&url)).unwrap();
    assert_eq!(content, b"v1");
    assert_eq!(
        response.stale_on_error().and_then(StaleOnError::status),
        Some(503)
    );
    // The first attempt and two retries reached the origin before the stored answer.
    assert_eq!((response.attempts, server.hits()), (3, 4));
}

#[test]
fn a_forced_status_only_when_nothing_stored_may_answer() {
    let (server, _) = origin("max-age=0");
    let (stored_url, never) = (server.url("/doc"), server.url("/never"));
    let http = Http::builder()
        .cache_store(Arc::new(MemoryCache::new()))
        .stale_if_error(MINUTE)
        .force_exception_to_status_code(true)
        .build()
        .unwrap();
    store(&http, &stored_url);
    drop(server);
    let mark = stale(get(&http, Request::get(&stored_url)));
    assert!(matches!(mark.error(), Some(Error::Connect { .. })));
    // Nothing stored: httplib2's 400 for a connection refused.
    let (response, _) = get(&http, Request::get(&never)).unwrap();
    assert_eq!(response.status, 400);
    assert!(response.stale_on_error().is_none());
}

/// What a hook heard: each head's status, each ending.
#[derive(Default)]
struct Heard {
    heads: Mutex<Vec<u16>>,
    finished: Mutex<Vec<Option<String>>>,
    failed: AtomicUsize,
}

struct Listen(Arc<Heard>);

impl Hook for Listen {
    fn on_response(&self, incoming: &Incoming<'_>) {
        self.0.heads.lock().unwrap().push(incoming.status());
    }
    fn on_finish(&self, finished: &Finished<'_>) {
        let mark = finished.response().stale_on_error().map(|m| m.to_string());
        self.0.finished.lock().unwrap().push(mark);
    }
    fn on_failure(&self, _: &Failure<'_>) {
        self.0.failed.fetch_add(1, SeqCst);
    }
}

#[test]
fn hooks_hear_the_5xx_head_and_finish_with_the_marked_answer() {
    let (server, status) = origin("max-age=0");
    let url = server.url("/doc");
    let heard = Arc::new(Heard::default());
    let http = Http::builder()
        .cache_store(Arc::new(MemoryCache::new()))
        .stale_if_error(MINUTE)
        .hook(Listen(heard.clone()))
        .build()
        .unwrap();
    store(&http, &url);
    status.store(503, SeqCst);
    stale(get(&http, Request::get(&url)));
    assert_eq!(*heard.heads.lock().unwrap(), [200, 503]);
    let finished = heard.finished.lock().unwrap().clone();
    assert_eq!(finished.len(), 2);
    assert_eq!(finished[0], None);
    let mark = finished[1].as_deref().unwrap_or_default();
    assert!(mark.starts_with("the origin answered 503;"), "{mark}");
    assert_eq!(heard.failed.load(SeqCst), 0);
}

#[test]
fn only_if_cached_answers_without_asking_and_without_a_mark() {
    let (server, _, http, url) = stored("max-age=0", Some(MINUTE));
    drop(server);
    let req = Request::get(&url).header("Cache-Control", "only-if-cached");
    let (response, content) = get(&http, req).unwrap();
    assert_eq!((response.status, content.as_slice()), (200, &b"v1"[..]));
    assert!(response.from_cache && response.stale_on_error().is_none());
}

#[test]
fn a_failed_background_refresh_keeps_the_entry_for_stale_if_error() {
    // Fresh for a second, then answered stale for 3 more while refreshed in the background.
    let (server, status, http, url) = stored(
        "max-age=1, stale-while-revalidate=3, stale-if-error=60",
        None,
    );
    status.store(503, SeqCst);
    thread::sleep(Duration::from_millis(1500));
    // Within stale-while-revalidate: answered at once, no mark; the refresh meets the 503.
    let (response, _) = get(&http, Request::get(&url)).unwrap();
    assert!(response.from_cache && response.stale_on_error().is_none());
    let until = Instant::now() + BOUND;
    while server.hits() < 2 && Instant::now() < until {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.hits(), 2, "the background refresh");
    // Past the window (its Date may add up to a second): the 503 did not take the entry.
    thread::sleep(Duration::from_millis(3600));
    let mark = stale(get(&http, Request::get(&url)));
    assert_eq!(mark.status(), Some(503));
}

#[test]
fn a_download_goes_around_the_cache_and_fails_as_it_did() {
    let (server, _, http, url) = stored("max-age=0", Some(MINUTE));
    drop(server);
    let dir = TempDir::new("stale-download");
    std::fs::create_dir_all(&dir.0).unwrap();
    let download = http.download(&url, dir.0.join("doc"));
    let error = download.wait().unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{}", error.chain());
}
