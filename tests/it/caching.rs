//! The HTTP cache (HTTPLIB2.md §c.4, RELIABILITY.md C4-C6), counting what the server got.

use std::sync::Arc;

use asynchttp::{Cache, MemoryCache};

use crate::support::*;

fn cached_http() -> (Http, Arc<MemoryCache>) {
    let store = Arc::new(MemoryCache::new());
    let http = Http::builder().cache_store(store.clone()).build().unwrap();
    (http, store)
}

fn get(http: &Http, url: &str) -> (Response, Vec<u8>) {
    let (response, content) = http.request(url);
    (wait(&response).unwrap().clone(), body(&content).to_vec())
}

/// GETs `url` twice through a new cache: the second answer, a 200 with the first's body.
#[track_caller]
fn twice(url: &str) -> Response {
    let (http, _) = cached_http();
    let (_, first) = get(&http, url);
    let (second, content) = get(&http, url);
    assert_eq!((second.status, content), (200, first));
    second
}

#[test]
fn a_fresh_entry_is_served_without_the_network() {
    let server = Server::start(|_| Reply::ok("cached body").header("Cache-Control", "max-age=600"));
    let (http, _) = cached_http();
    let (first, _) = get(&http, &server.url("/fresh"));
    assert!(!first.from_cache);
    let (second, content) = get(&http, &server.url("/fresh"));
    assert!(second.from_cache);
    assert_eq!(
        (second.status, content.as_slice()),
        (200, &b"cached body"[..])
    );
    assert_eq!(
        second.get("content-location"),
        Some(server.url("/fresh").as_str())
    );
    assert_eq!(server.hits(), 1);
}

#[test]
fn a_stale_entry_is_revalidated_and_a_304_served_from_the_cache() {
    let server = Server::start(|req| match req.header("if-none-match") {
        Some("\"v1\"") => Reply::new(304, "")
            .header("ETag", "\"v1\"")
            .header("X-Refreshed", "yes"),
        _ => Reply::ok("version 1")
            .header("ETag", "\"v1\"")
            .header("Cache-Control", "max-age=0"),
    });
    let second = twice(&server.url("/etag"));
    assert!(second.from_cache);
    assert_eq!(
        second.get("x-refreshed"),
        Some("yes"),
        "the 304's headers are merged"
    );
    assert_eq!(server.hits(), 2);
    assert_eq!(server.received()[1].header("if-none-match"), Some("\"v1\""));
}

#[test]
fn a_validator_the_transport_cannot_send_back_is_left_out() {
    // The ETag goes out as UTF-8 and comes back as characters outside ASCII.
    let server = Server::start(|_| {
        Reply::ok("version 1")
            .header("ETag", "\"caf\u{e9}\"")
            .header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
            .header("Cache-Control", "max-age=0")
    });
    twice(&server.url("/etag"));
    assert_eq!(server.hits(), 2);
    let revalidation = &server.received()[1];
    assert!(revalidation.header("if-none-match").is_none());
    assert_eq!(
        revalidation.header("if-modified-since"),
        Some("Wed, 21 Oct 2015 07:28:00 GMT")
    );
}

#[test]
fn a_cached_response_keeps_repeated_headers_apart() {
    let server = Server::start(|_| {
        with_cookies(Reply::ok("with cookies")).header("Cache-Control", "max-age=600")
    });
    let (http, _) = cached_http();
    let (first, _) = get(&http, &server.url("/cookies"));
    assert_eq!(first.get_all("set-cookie").collect::<Vec<_>>(), COOKIES);
    let (second, content) = get(&http, &server.url("/cookies"));
    assert!(second.from_cache);
    assert_eq!(content, b"with cookies");
    assert_eq!(second.get_all("set-cookie").collect::<Vec<_>>(), COOKIES);
    assert_eq!(second.get("set-cookie"), first.get("set-cookie"));
    assert_eq!(server.hits(), 1);
}

#[test]
fn a_304s_repeated_headers_stay_apart_in_the_merged_response() {
    let server = Server::start(|req| match req.header("if-none-match") {
        // Fresh for ten minutes from now on: the next request is answered by the merged entry.
        Some("\"v1\"") => with_cookies(Reply::new(304, ""))
            .header("ETag", "\"v1\"")
            .header("Cache-Control", "max-age=600"),
        _ => Reply::ok("version 1")
            .header("ETag", "\"v1\"")
            .header("Set-Cookie", "old=1; Expires=Mon, 19 Oct 2026 07:28:00 GMT")
            .header("Cache-Control", "max-age=0"),
    });
    let (http, _) = cached_http();
    get(&http, &server.url("/etag"));
    let (second, content) = get(&http, &server.url("/etag"));
    assert!(second.from_cache);
    assert_eq!(content, b"version 1");
    assert_eq!(second.get_all("set-cookie").collect::<Vec<_>>(), COOKIES);
    let (third, content) = get(&http, &server.url("/etag"));
    assert_eq!(server.hits(), 2, "the merged entry is fresh");
    assert_eq!(
        (third.from_cache, content.as_slice()),
        (true, &b"version 1"[..])
    );
    assert_eq!(
        third.get_all("set-cookie").collect::<Vec<_>>(),
        COOKIES,
        "as stored after the merge"
    );
}

#[test]
fn no_store_is_not_stored() {
    let server =
        Server::start(|_| Reply::ok("secret").header("Cache-Control", "no-store, max-age=600"));
    let (http, _) = cached_http();
    get(&http, &server.url("/"));
    get(&http, &server.url("/"));
    assert_eq!(server.hits(), 2);
}

#[test]
fn an_unsafe_method_invalidates_the_entry() {
    let server = Server::start(|_| Reply::ok("doc").header("Cache-Control", "max-age=600"));
    let (http, _) = cached_http();
    get(&http, &server.url("/doc"));
    get(&http, &server.url("/doc"));
    assert_eq!(server.hits(), 1);
    assert_eq!(
        wait(&http.delete(&server.url("/doc")).0).unwrap().status,
        200
    );
    get(&http, &server.url("/doc"));
    assert_eq!(server.hits(), 3, "fetched again after DELETE");
}

#[test]
fn only_if_cached_without_an_entry_is_a_504_and_no_request() {
    let server = Server::start(|_| Reply::ok("x"));
    let (http, _) = cached_http();
    let (response, content) = http.request_with(
        &server.url("/"),
        "GET",
        "",
        &[("Cache-Control", "only-if-cached")],
    );
    assert_eq!(wait(&response).unwrap().status, 504);
    assert!(body(&content).is_empty());
    assert_eq!(server.hits(), 0);
}

#[test]
fn a_range_is_answered_from_a_complete_entry() {
    let server = Server::start(|_| Reply::ok("whole").header("Cache-Control", "max-age=600"));
    let (http, _) = cached_http();
    get(&http, &server.url("/r"));
    let (response, content) =
        http.request_with(&server.url("/r"), "GET", "", &[("Range", "bytes=0-1")]);
    let response = wait(&response).unwrap();
    assert!(response.from_cache);
    assert_eq!(response.status, 206);
    assert_eq!(response.get("content-range"), Some("bytes 0-1/5"));
    assert_eq!(body(&content), b"wh");
    assert_eq!(server.hits(), 1);
}

#[test]
fn c4_a_response_to_credentials_is_not_stored_unless_public() {
    let server = Server::start(|req| {
        let cc = if req.url == "/public" {
            "public, max-age=600"
        } else {
            "max-age=600"
        };
        Reply::ok("for alice").header("Cache-Control", cc)
    });
    let (http, _) = cached_http();
    for path in ["/private", "/public"] {
        for _ in 0..2 {
            let (r, _) = http.request_with(
                &server.url(path),
                "GET",
                "",
                &[("Authorization", "Bearer alice")],
            );
            wait(&r).unwrap();
        }
    }
    let (anonymous, _) = get(&http, &server.url("/private"));
    assert!(
        !anonymous.from_cache,
        "alice's response is not served to anyone else"
    );
    assert_eq!(
        server
            .received()
            .iter()
            .filter(|r| r.url == "/private")
            .count(),
        3
    );
    assert_eq!(
        server
            .received()
            .iter()
            .filter(|r| r.url == "/public")
            .count(),
        1
    );
}

#[test]
fn vary_is_honoured() {
    let server = Server::start(|req| {
        let lang = req.header("accept-language").unwrap_or("none").to_owned();
        Reply::ok(lang)
            .header("Cache-Control", "max-age=600")
            .header("Vary", "Accept-Language")
    });
    let (http, _) = cached_http();
    let fetch = |lang: &str| {
        let (r, c) = http.request_with(&server.url("/v"), "GET", "", &[("Accept-Language", lang)]);
        wait(&r).unwrap();
        body(&c).to_vec()
    };
    assert_eq!(fetch("en"), b"en");
    assert_eq!(fetch("en"), b"en");
    assert_eq!(fetch("fr"), b"fr");
    assert_eq!(server.hits(), 2);
}

#[test]
fn c5_partial_responses_are_never_stored_and_errors_only_when_fresh() {
    let truncated = RawServer::start(|s| {
        send(
            s,
            b"HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 100\r\n\r\nshort",
        );
    });
    let server_error = Server::start(|req| match req.url.as_str() {
        "/fresh" => Reply::new(500, "broken").header("Cache-Control", "max-age=600"),
        _ => Reply::new(500, "broken").header("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
    });
    let (http, store) = cached_http();
    assert!(LazyResponse::wait(&http.request(&truncated.url("/")).0).is_err());
    assert!(store.get(&truncated.url("/")).is_none());
    // A 500 is no heuristic status: stored only when the server gives it a lifetime.
    assert_eq!(get(&http, &server_error.url("/plain")).0.status, 500);
    assert!(!get(&http, &server_error.url("/plain")).0.from_cache);
    assert_eq!(get(&http, &server_error.url("/fresh")).0.status, 500);
    let (again, content) = get(&http, &server_error.url("/fresh"));
    assert_eq!((again.status, again.from_cache), (500, true));
    assert_eq!(content, b"broken");
    assert_eq!(server_error.hits(), 3);
}

#[test]
fn c6_an_unusable_cache_directory_turns_caching_off() {
    let path = std::env::temp_dir().join(format!("asynchttp-not-a-dir-{}", std::process::id()));
    std::fs::write(&path, b"a file in the way").unwrap();
    let server = Server::start(|_| Reply::ok("x").header("Cache-Control", "max-age=600"));
    let http = Http::builder().cache(&path).build().unwrap();
    get(&http, &server.url("/"));
    get(&http, &server.url("/"));
    assert_eq!(server.hits(), 2);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_file_cache_serves_across_clients_and_survives_damage() {
    let dir = std::env::temp_dir().join(format!("asynchttp-filecache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = Server::start(|_| Reply::ok("on disk").header("Cache-Control", "max-age=600"));
    let first = Http::builder().cache(&dir).build().unwrap();
    get(&first, &server.url("/f"));
    let second = Http::builder().cache(&dir).build().unwrap();
    let (response, content) = get(&second, &server.url("/f"));
    assert!(response.from_cache);
    assert_eq!(content, b"on disk");
    assert_eq!(server.hits(), 1);
    for file in std::fs::read_dir(&dir).unwrap() {
        std::fs::write(file.unwrap().path(), b"garbage").unwrap();
    }
    let (response, _) = get(&second, &server.url("/f"));
    assert!(!response.from_cache);
    assert_eq!(server.hits(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn put_and_patch_send_the_cached_etag_unless_ignored() {
    let server = Server::start(|_| {
        Reply::ok("doc")
            .header("ETag", "\"v7\"")
            .header("Cache-Control", "max-age=600")
    });
    for (ignore, expected) in [(false, Some("\"v7\"")), (true, None)] {
        let http = Http::builder()
            .cache_store(Arc::new(MemoryCache::new()))
            .ignore_etag(ignore)
            .build()
            .unwrap();
        get(&http, &server.url("/doc"));
        for method in ["PUT", "PATCH"] {
            get(&http, &server.url("/doc")); // cached again after the last write
            let (r, _) = http.request_with(&server.url("/doc"), method, "new", &[]);
            wait(&r).unwrap();
            let last = server.received().pop().unwrap();
            assert_eq!(
                last.header("if-match"),
                expected,
                "{method} ignore_etag={ignore}"
            );
        }
    }
}

#[test]
fn pragma_no_cache_goes_to_the_server() {
    let server = Server::start(|_| Reply::ok("x").header("Cache-Control", "max-age=600"));
    let (http, _) = cached_http();
    get(&http, &server.url("/p"));
    let (r, _) = http.request_with(&server.url("/p"), "GET", "", &[("Pragma", "no-cache")]);
    assert!(!wait(&r).unwrap().from_cache);
    let (r, _) = http.request_with(
        &server.url("/p"),
        "GET",
        "",
        &[("Cache-Control", "no-cache")],
    );
    assert!(!wait(&r).unwrap().from_cache);
    assert_eq!(server.hits(), 3);
}

#[test]
fn ignore_etag_revalidates_without_if_none_match() {
    let server = Server::start(|_| {
        Reply::ok("v")
            .header("ETag", "\"v1\"")
            .header("Last-Modified", "Sat, 29 Oct 1994 19:43:31 GMT")
            .header("Cache-Control", "max-age=0")
    });
    let http = Http::builder()
        .cache_store(Arc::new(MemoryCache::new()))
        .ignore_etag(true)
        .build()
        .unwrap();
    get(&http, &server.url("/i"));
    get(&http, &server.url("/i"));
    let second = server.received().pop().unwrap();
    assert!(second.header("if-none-match").is_none());
    assert_eq!(
        second.header("if-modified-since"),
        Some("Sat, 29 Oct 1994 19:43:31 GMT")
    );
}

#[test]
fn permanent_redirects_are_remembered_and_jumped() {
    let server = Server::start(|req| match req.url.as_str() {
        "/old" => Reply::new(301, "moved").header("Location", "/new"),
        "/gone" => Reply::new(308, "moved").header("Location", "/uncached"),
        "/new" => Reply::ok("new home").header("Cache-Control", "max-age=600"),
        _ => Reply::ok("not cached"),
    });
    let (http, _) = cached_http();
    let (first, content) = get(&http, &server.url("/old"));
    assert_eq!(content, b"new home");
    assert!(!first.from_cache);
    let (second, content) = get(&http, &server.url("/old"));
    assert_eq!(content, b"new home");
    assert!(second.from_cache, "the target was fresh");
    let hop = second
        .previous
        .as_deref()
        .expect("the redirect is in the chain");
    assert_eq!((hop.status, hop.from_cache), (301, true));
    assert_eq!(server.hits(), 2, "the second request asked nothing");
    get(&http, &server.url("/gone"));
    let (third, _) = get(&http, &server.url("/gone"));
    assert!(!third.from_cache);
    assert_eq!(
        third.previous.as_deref().map(|p| (p.status, p.from_cache)),
        Some((308, true))
    );
    let asked: Vec<String> = server.received().iter().map(|r| r.url.clone()).collect();
    assert_eq!(asked, ["/old", "/new", "/gone", "/uncached", "/uncached"]);
}

#[test]
fn a_fresh_get_entry_answers_head() {
    let server = Server::start(|_| Reply::ok("body").header("Cache-Control", "max-age=600"));
    let (http, _) = cached_http();
    let (response, content) = http.head(&server.url("/h"));
    assert!(!wait(&response).unwrap().from_cache);
    assert!(body(&content).is_empty());
    get(&http, &server.url("/h"));
    let (response, content) = http.head(&server.url("/h"));
    assert!(wait(&response).unwrap().from_cache);
    assert!(body(&content).is_empty());
    assert_eq!(
        server.hits(),
        2,
        "HEAD, then GET; the second HEAD from the cache"
    );
}

#[test]
fn c1_eight_workers_storing_one_url_leave_one_whole_entry() {
    let dir = std::env::temp_dir().join(format!("asynchttp-c1-http-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server =
        Server::start(|_| Reply::ok(vec![b'z'; 200_000]).header("Cache-Control", "max-age=600"));
    let http = Http::builder().workers(8).cache(&dir).build().unwrap();
    let pairs: Vec<_> = (0..8)
        .map(|_| {
            http.request_with(
                &server.url("/same"),
                "GET",
                "",
                &[("Cache-Control", "no-cache")],
            )
        })
        .collect();
    for (response, content) in &pairs {
        wait(response).unwrap();
        assert_eq!(body(content).len(), 200_000);
    }
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "one entry, no temporary file left");
    let (response, content) = get(
        &Http::builder().cache(&dir).build().unwrap(),
        &server.url("/same"),
    );
    assert!(response.from_cache);
    assert_eq!(content.len(), 200_000);
    assert!(content.iter().all(|&b| b == b'z'));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fresh_hit_is_ready_at_once_and_callbacks_still_run_on_a_worker() {
    let server = Server::start(|_| Reply::ok("cached").header("Cache-Control", "max-age=600"));
    let (http, _) = cached_http();
    get(&http, &server.url("/now"));
    let (response, content) = http.request(&server.url("/now"));
    assert!(
        LazyResponse::is_ready(&response),
        "answered without a worker"
    );
    assert!(response.from_cache);
    assert_eq!(&*content, b"cached");
    let ran_on = Arc::new(std::sync::Mutex::new(String::new()));
    let seen = ran_on.clone();
    let (response, _) = http.send(Request::get(server.url("/now")).callback(move |r, _| {
        assert!(r.from_cache);
        *seen.lock().unwrap() = std::thread::current().name().unwrap_or_default().to_owned();
        Ok::<(), std::io::Error>(())
    }));
    wait(&response).unwrap();
    assert!(ran_on.lock().unwrap().starts_with("asynchttp-worker-"));
    assert_eq!(server.hits(), 1);
}
