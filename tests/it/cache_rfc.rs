//! The HTTP cache as RFC 9111 has it, beyond httplib2: 304s without validators, storable
//! statuses, directive and date parsing, stale-while-revalidate, invalidation, ranges from
//! stored entries, `Age`, connection-specific headers and redirects hop by hop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use asynchttp::{Cache, MemoryCache};

use crate::support::*;

/// A long max-age: "still fresh" checks never depend on the machine's speed.
const LONG: &str = "max-age=3600";

fn cached_http() -> Http {
    Http::builder()
        .cache_store(Arc::new(MemoryCache::new()))
        .build()
        .unwrap()
}

/// Sends `req` and waits for the response and its body, as text.
#[track_caller]
fn fetch(http: &Http, req: Request) -> (Response, String) {
    let (response, content) = http.send(req);
    let text = String::from_utf8_lossy(body(&content)).into_owned();
    (wait(&response).unwrap().clone(), text)
}

#[track_caller]
fn get(http: &Http, url: &str) -> (Response, String) {
    fetch(http, Request::get(url))
}

#[track_caller]
fn get_with(http: &Http, url: &str, name: &str, value: &str) -> (Response, String) {
    fetch(http, Request::get(url).header(name, value))
}

/// Requests the server got for `path`.
fn hits_to(server: &Server, path: &str) -> usize {
    server.received().iter().filter(|r| r.url == path).count()
}

/// Polls `f` every 10 ms for at most `limit`; true as soon as it holds.
fn within(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// `t` as `(weekday, year, month, day, "hh:mm:ss")`, weekday 0 for Sunday, month from 1.
fn civil(t: SystemTime) -> (usize, i64, usize, i64, String) {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let clock = format!("{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60);
    // Days since 1970-01-01 (a Thursday) to the proleptic Gregorian calendar.
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as usize;
    let year = yoe + era * 400 + i64::from(month <= 2);
    ((days + 4).rem_euclid(7) as usize, year, month, day, clock)
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn imf_date(t: SystemTime) -> String {
    let (wd, y, m, d, clock) = civil(t);
    format!(
        "{}, {d:02} {} {y} {clock} GMT",
        &DAYS[wd][..3],
        MONTHS[m - 1]
    )
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`
fn rfc850_date(t: SystemTime) -> String {
    let (wd, y, m, d, clock) = civil(t);
    let yy = y % 100;
    format!("{}, {d:02}-{}-{yy:02} {clock} GMT", DAYS[wd], MONTHS[m - 1])
}

/// `Sun Nov  6 08:49:37 1994`
fn asctime_date(t: SystemTime) -> String {
    let (wd, y, m, d, clock) = civil(t);
    format!("{} {} {d:>2} {clock} {y}", &DAYS[wd][..3], MONTHS[m - 1])
}

#[test]
fn expires_test_dates_are_written_in_the_three_forms() {
    let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(imf_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(rfc850_date(t), "Sunday, 06-Nov-94 08:49:37 GMT");
    assert_eq!(asctime_date(t), "Sun Nov  6 08:49:37 1994");
}

#[test]
fn revalidation_304_without_validators_answers_200() {
    let server = Server::start(|req| {
        let conditional =
            req.header("if-none-match").is_some() || req.header("if-modified-since").is_some();
        match (conditional, req.url.as_str()) {
            // No ETag, no Last-Modified: only new freshness.
            (true, _) => Reply::new(304, "").header("Cache-Control", LONG),
            (false, "/etag") => Reply::ok("hello")
                .header("ETag", "\"v1\"")
                .header("Cache-Control", "max-age=1"),
            (false, _) => Reply::ok("hello")
                .header("Last-Modified", "Sat, 29 Oct 1994 19:43:31 GMT")
                .header("Cache-Control", "max-age=1"),
        }
    });
    let http = cached_http();
    for (path, validator, value) in [
        ("/etag", "if-none-match", "\"v1\""),
        (
            "/modified",
            "if-modified-since",
            "Sat, 29 Oct 1994 19:43:31 GMT",
        ),
    ] {
        get(&http, &server.url(path));
        thread::sleep(Duration::from_millis(1500));
        let (second, content) = get(&http, &server.url(path));
        assert_eq!(hits_to(&server, path), 2, "{path}: revalidated");
        let revalidation = server.received().pop().unwrap();
        assert_eq!(revalidation.header(validator), Some(value), "{path}");
        assert_eq!(
            (second.status, content.as_str()),
            (200, "hello"),
            "{path}: the caller sent no condition, so never sees the 304"
        );
        let (third, content) = get(&http, &server.url(path));
        assert_eq!(
            hits_to(&server, path),
            2,
            "{path}: the entry took the 304's freshness"
        );
        assert_eq!(
            (third.from_cache, third.status, content.as_str()),
            (true, 200, "hello"),
            "{path}"
        );
    }
}

#[test]
fn caller_conditional_gets_the_304() {
    let server = Server::start(|req| match req.header("if-none-match") {
        Some("\"v1\"") => Reply::new(304, "").header("ETag", "\"v1\""),
        _ => Reply::ok("hello")
            .header("ETag", "\"v1\"")
            .header("Cache-Control", "max-age=0"),
    });
    let http = cached_http();
    let (uncached, _) = get_with(&http, &server.url("/none"), "If-None-Match", "\"v1\"");
    assert_eq!(uncached.status, 304, "no entry");
    get(&http, &server.url("/stale"));
    let (response, content) = get_with(&http, &server.url("/stale"), "If-None-Match", "\"v1\"");
    assert_eq!(hits_to(&server, "/stale"), 2);
    assert_eq!(
        response.status, 304,
        "a stale entry: the caller's own condition gets the server's 304"
    );
    assert!(content.is_empty());
}

#[test]
fn store_any_status_with_explicit_freshness() {
    let server = Server::start(|req| {
        let status = match req.url.as_str() {
            "/404" => 404,
            "/500" => 500,
            _ => 204,
        };
        let text = if status == 204 { "" } else { "explained" };
        Reply::new(status, text).header("Cache-Control", LONG)
    });
    let http = cached_http();
    for (path, status, text) in [
        ("/404", 404, "explained"),
        ("/500", 500, "explained"),
        ("/204", 204, ""),
    ] {
        let (first, _) = get(&http, &server.url(path));
        assert_eq!(first.status, status);
        let (second, content) = get(&http, &server.url(path));
        assert_eq!(hits_to(&server, path), 1, "{path} is stored");
        assert_eq!(
            (second.from_cache, second.status, content.as_str()),
            (true, status, text),
            "{path}"
        );
    }
}

#[test]
fn store_heuristic_statuses_with_last_modified() {
    let server = Server::start(|req| {
        let status = req.url[1..].parse().unwrap();
        let now = SystemTime::now();
        Reply::new(status, format!("status {status}"))
            .header("Date", &imf_date(now))
            .header(
                "Last-Modified",
                &imf_date(now - Duration::from_secs(86_400)),
            )
    });
    let http = cached_http();
    for (path, cacheable) in [("/404", true), ("/410", true), ("/500", false)] {
        get(&http, &server.url(path));
        let (second, content) = get(&http, &server.url(path));
        assert_eq!(content, format!("status {}", &path[1..]));
        let expected = if cacheable { 1 } else { 2 };
        assert_eq!(
            (hits_to(&server, path), second.from_cache),
            (expected, cacheable),
            "{path}: heuristically cacheable is {cacheable}"
        );
    }
}

#[test]
fn cache_control_names_are_case_insensitive() {
    let server = Server::start(
        |req| match (req.url.as_str(), req.header("if-none-match")) {
            ("/mixed", _) => Reply::ok("mixed").header("Cache-Control", "MaX-aGe=3600"),
            (_, Some("\"v1\"")) => Reply::new(304, "").header("ETag", "\"v1\""),
            _ => Reply::ok("no-cache")
                .header("ETag", "\"v1\"")
                .header("Cache-Control", "max-age=3600, NO-CACHE"),
        },
    );
    let http = cached_http();
    get(&http, &server.url("/mixed"));
    let (second, _) = get(&http, &server.url("/mixed"));
    assert_eq!(hits_to(&server, "/mixed"), 1, "MaX-aGe is max-age");
    assert!(second.from_cache);
    get(&http, &server.url("/upper"));
    get(&http, &server.url("/upper"));
    assert_eq!(hits_to(&server, "/upper"), 2, "NO-CACHE is no-cache");
    let revalidation = server.received().pop().unwrap();
    assert_eq!(revalidation.header("if-none-match"), Some("\"v1\""));
}

#[test]
fn age_takes_the_first_valid_value() {
    let server = Server::start(|req| {
        let reply = Reply::ok("aged").header("Cache-Control", LONG);
        match req.url.as_str() {
            "/one-line" => reply.header("Age", "7200, 0"),
            _ => reply.header("Age", "7200").header("Age", "0"),
        }
    });
    let http = cached_http();
    for path in ["/one-line", "/two-lines"] {
        get(&http, &server.url(path));
        let (second, _) = get(&http, &server.url(path));
        assert_eq!(
            (hits_to(&server, path), second.from_cache),
            (2, false),
            "{path}: an Age of 7200 is past max-age=3600"
        );
    }
}

#[test]
fn expires_accepts_rfc850_and_asctime() {
    let server = Server::start(|req| {
        let now = SystemTime::now();
        let later = now + Duration::from_secs(3600);
        let expires = match req.url.as_str() {
            "/rfc850" => rfc850_date(later),
            "/asctime" => asctime_date(later),
            _ => "Sun,  06 Nov 2099 08:49:37 GMT".to_owned(),
        };
        Reply::ok("expiring")
            .header("Date", &imf_date(now))
            .header("Expires", &expires)
    });
    let http = cached_http();
    for (path, valid) in [("/rfc850", true), ("/asctime", true), ("/invalid", false)] {
        get(&http, &server.url(path));
        let (second, _) = get(&http, &server.url(path));
        let expected = if valid { 1 } else { 2 };
        assert_eq!(
            (hits_to(&server, path), second.from_cache),
            (expected, valid),
            "{path}: an Expires an hour ahead is fresh, an invalid one already expired"
        );
    }
}

/// A [`MemoryCache`] that remembers every value stored in it.
#[derive(Default)]
struct Recording {
    store: MemoryCache,
    sets: Mutex<Vec<Vec<u8>>>,
}

impl Recording {
    fn stored_one_containing(&self, needle: &[u8]) -> bool {
        let sets = self.sets.lock().unwrap();
        sets.iter()
            .any(|v| v.windows(needle.len()).any(|w| w == needle))
    }
}

impl Cache for Recording {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.store.get(key)
    }

    fn set(&self, key: &str, value: &[u8]) -> std::io::Result<()> {
        self.sets.lock().unwrap().push(value.to_vec());
        self.store.set(key, value)
    }

    fn delete(&self, key: &str) {
        self.store.delete(key)
    }
}

/// A server whose first answer is "stale body" with `first_cc`, every later one a fresh
/// "fresh body" for an hour.
fn refreshing_server(first_cc: &'static str) -> Server {
    let count = AtomicUsize::new(0);
    Server::start(move |_| match count.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::ok("stale body")
            .header("ETag", "\"v1\"")
            .header("Cache-Control", first_cc),
        _ => Reply::ok("fresh body")
            .header("ETag", "\"v2\"")
            .header("Cache-Control", LONG),
    })
}

#[test]
fn stale_while_revalidate_serves_stale_and_refreshes() {
    let server = refreshing_server("max-age=1, stale-while-revalidate=60");
    let store = Arc::new(Recording::default());
    let http = Http::builder().cache_store(store.clone()).build().unwrap();
    let url = server.url("/swr");
    get(&http, &url);
    thread::sleep(Duration::from_millis(1500));
    let (second, content) = get(&http, &url);
    assert_eq!(
        (second.from_cache, content.as_str()),
        (true, "stale body"),
        "stale within the window: served from the cache at once"
    );
    assert!(
        within(Duration::from_secs(10), || server.hits() == 2),
        "revalidated in the background: {} hits",
        server.hits()
    );
    assert!(
        within(Duration::from_secs(10), || store
            .stored_one_containing(b"fresh body")),
        "the refreshed response is stored"
    );
    let (third, content) = get(&http, &url);
    assert_eq!((third.from_cache, content.as_str()), (true, "fresh body"));
    assert_eq!(server.hits(), 2, "the refreshed entry is fresh");

    let beyond = refreshing_server("max-age=1, stale-while-revalidate=1");
    get(&http, &beyond.url("/late"));
    thread::sleep(Duration::from_millis(2500));
    let (late, content) = get(&http, &beyond.url("/late"));
    assert_eq!(
        beyond.hits(),
        2,
        "past the window the GET waits for the server"
    );
    assert_eq!((late.from_cache, content.as_str()), (false, "fresh body"));
}

#[test]
fn unsafe_method_invalidates_after_success_only() {
    let other = Server::start(|_| Reply::ok("elsewhere").header("Cache-Control", LONG));
    let elsewhere = other.url("/o");
    let server = Server::start(move |req| match (req.method.as_str(), req.url.as_str()) {
        ("GET", _) => Reply::ok(format!("doc {}", req.url)).header("Cache-Control", LONG),
        (_, "/form") => Reply::new(201, "made")
            .header("Location", "/r2")
            .header("Content-Location", "/r3"),
        (_, "/away") => Reply::new(201, "made").header("Location", &elsewhere),
        _ => {
            let status = req.header("x-answer").unwrap_or("200").parse().unwrap();
            Reply::new(status, "posted")
        }
    });
    let http = cached_http();
    let post = |path: &str, answer: &str| {
        let req = Request::new("POST", server.url(path))
            .header("X-Answer", answer)
            .body("data");
        fetch(&http, req).0.status
    };
    for path in ["/r", "/r2", "/r3"] {
        get(&http, &server.url(path));
    }
    get(&http, &other.url("/o"));

    assert_eq!(post("/r", "500"), 500);
    let (after_failure, _) = get(&http, &server.url("/r"));
    assert!(
        after_failure.from_cache,
        "a failed POST leaves the entry alone"
    );
    assert_eq!(hits_to(&server, "/r"), 2, "GET, POST");
    assert_eq!(post("/r", "200"), 200);
    let (after_success, _) = get(&http, &server.url("/r"));
    assert!(!after_success.from_cache);
    assert_eq!(hits_to(&server, "/r"), 4, "a successful POST invalidates");

    assert_eq!(post("/form", "201"), 201);
    for path in ["/r2", "/r3"] {
        let (response, _) = get(&http, &server.url(path));
        assert!(
            !response.from_cache,
            "{path} named by the 201 is invalidated"
        );
        assert_eq!(hits_to(&server, path), 2, "{path}");
    }
    assert_eq!(post("/away", "201"), 201);
    let (response, _) = get(&http, &other.url("/o"));
    assert!(
        response.from_cache,
        "a Location on another origin is not invalidated"
    );
    assert_eq!(other.hits(), 1);
}

#[test]
fn range_served_from_a_complete_entry() {
    let server = Server::start(|_| Reply::ok("0123456789").header("Cache-Control", LONG));
    let http = cached_http();
    get(&http, &server.url("/big"));
    for (range, part, content_range) in [
        ("bytes=2-5", "2345", "bytes 2-5/10"),
        ("bytes=-3", "789", "bytes 7-9/10"),
        ("bytes=7-", "789", "bytes 7-9/10"),
    ] {
        let (response, content) = get_with(&http, &server.url("/big"), "Range", range);
        assert_eq!(
            (response.status, response.from_cache, content.as_str()),
            (206, true, part),
            "{range}"
        );
        assert_eq!(
            response.get("content-range"),
            Some(content_range),
            "{range}"
        );
    }
    assert_eq!(hits_to(&server, "/big"), 1, "every range from the entry");

    let (whole, content) = get_with(&http, &server.url("/other"), "Range", "bytes=0-1");
    assert_eq!(hits_to(&server, "/other"), 1, "not in the cache: asked");
    assert_eq!((whole.status, content.as_str()), (200, "0123456789"));
    let (plain, content) = get(&http, &server.url("/other"));
    assert_eq!(
        hits_to(&server, "/other"),
        1,
        "the whole 200 answer to a range request is stored"
    );
    assert_eq!((plain.from_cache, content.as_str()), (true, "0123456789"));
}

#[test]
fn age_header_generated() {
    let server = Server::start(|req| {
        let reply = Reply::ok("aging").header("Cache-Control", LONG);
        match req.url.as_str() {
            "/aged" => reply.header("Age", "30"),
            _ => reply,
        }
    });
    let http = cached_http();
    get(&http, &server.url("/new"));
    let (cached, _) = get(&http, &server.url("/new"));
    assert!(cached.from_cache);
    let age = cached.get("age").expect("a cached response has an Age");
    assert!(age.parse::<u64>().is_ok(), "Age {age:?} is whole seconds");

    get(&http, &server.url("/aged"));
    thread::sleep(Duration::from_millis(1100));
    let (cached, _) = get(&http, &server.url("/aged"));
    assert!(cached.from_cache);
    let age = cached.get("age").and_then(|a| a.parse::<u64>().ok());
    assert!(
        age.is_some_and(|a| a >= 31),
        "30 at the origin and over a second in the cache: {age:?}"
    );
}

#[test]
fn connection_named_headers_are_not_stored() {
    let server = Server::start(|req| {
        let connection = match req.url.as_str() {
            "/one" => "x-private",
            _ => "close, x-private",
        };
        Reply::ok("public part")
            .header("Cache-Control", LONG)
            .header("Connection", connection)
            .header("X-Private", "secret")
    });
    let http = cached_http();
    for path in ["/one", "/two"] {
        get(&http, &server.url(path));
        let (cached, content) = get(&http, &server.url(path));
        assert_eq!(
            (cached.from_cache, content.as_str()),
            (true, "public part"),
            "{path}"
        );
        assert_eq!(cached.get("x-private"), None, "{path}");
    }
}

/// /old → /new for each permanent status, /tmp → /target with no cache headers.
fn redirecting_server() -> Server {
    Server::start(|req| match req.url.as_str() {
        "/old301" => Reply::new(301, "moved")
            .header("Location", "/new301")
            .header("Cache-Control", LONG),
        "/old308" => Reply::new(308, "moved")
            .header("Location", "/new308")
            .header("Cache-Control", LONG),
        "/tmp" => Reply::new(307, "over there").header("Location", "/target"),
        path => Reply::ok(format!("at {path}")).header("Cache-Control", LONG),
    })
}

#[test]
fn cached_permanent_redirect_is_followed_without_asking() {
    let server = redirecting_server();
    let http = cached_http();
    for status in [301, 308] {
        let (old, new) = (format!("/old{status}"), format!("/new{status}"));
        get(&http, &server.url(&old));
        let (second, content) = get(&http, &server.url(&old));
        assert_eq!(
            content,
            format!("at {new}"),
            "{status}: the redirect is followed"
        );
        assert!(second.from_cache, "{status}: the target was fresh");
        let hop = second.previous.as_deref().expect("the redirect");
        assert_eq!((hop.status, hop.from_cache), (status, true));
        assert_eq!(
            (hits_to(&server, &old), hits_to(&server, &new)),
            (1, 1),
            "{status}: nothing asked the second time"
        );
    }
}

#[test]
fn each_hop_is_looked_up_in_the_cache() {
    let server = redirecting_server();
    let http = cached_http();
    get(&http, &server.url("/tmp"));
    let (second, content) = get(&http, &server.url("/tmp"));
    assert_eq!(content, "at /target");
    assert_eq!(hits_to(&server, "/tmp"), 2, "the 307 is not stored");
    assert_eq!(
        hits_to(&server, "/target"),
        1,
        "its fresh target is taken from the cache"
    );
    assert!(second.from_cache);
}

#[test]
fn only_if_cached_without_a_cache_is_504() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::builder().build().unwrap();
    let (response, content) = get_with(&http, &server.url("/"), "Cache-Control", "only-if-cached");
    assert_eq!(response.status, 504, "no cache, so nothing to answer from");
    assert!(content.is_empty());
    assert_eq!(server.hits(), 0);
}

#[test]
fn post_naming_itself_in_content_location_answers_later_gets() {
    let server = Server::start(|req| match req.method.as_str() {
        "POST" => Reply::ok("made")
            .header("Cache-Control", LONG)
            .header("Content-Location", "/thing"),
        _ => Reply::ok("fetched"),
    });
    let http = cached_http();
    let url = server.url("/thing");
    let (posted, _) = fetch(&http, Request::new("POST", url.as_str()).body("x"));
    assert_eq!(posted.status, 200);
    let (response, text) = get(&http, &url);
    assert_eq!((response.from_cache, text.as_str()), (true, "made"));
    assert_eq!(server.hits(), 1, "the GET asked nothing");
}

#[test]
fn a_head_response_about_the_stored_one_updates_its_headers() {
    let server = Server::start(|req| {
        let version = if req.method == "HEAD" { "2" } else { "1" };
        Reply::ok("body")
            .header("Cache-Control", "max-age=1")
            .header("ETag", "\"same\"")
            .header("X-Version", version)
    });
    let http = cached_http();
    let url = server.url("/h");
    get(&http, &url);
    thread::sleep(Duration::from_millis(1100)); // stale: the HEAD goes to the server
    let (head, _) = http.head(&url);
    assert_eq!(wait(&head).unwrap().get("x-version"), Some("2"));
    let (response, text) = get_with(&http, &url, "Cache-Control", "max-stale");
    assert!(response.from_cache);
    assert_eq!(
        (response.get("x-version"), text.as_str()),
        (Some("2"), "body")
    );
    assert_eq!(server.hits(), 2, "GET, HEAD; the last GET from the cache");
}
