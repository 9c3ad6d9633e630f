//! Plain HTTP through the pair: methods, bodies, headers, decoding, httplib2's keys.

use std::io::Write;

use flate2::Compression;
use flate2::write::{DeflateEncoder, ZlibEncoder};

use crate::support::*;

fn echo_server() -> Server {
    Server::start(|req| {
        let text = format!(
            "{} {} {}",
            req.method,
            req.url,
            String::from_utf8_lossy(&req.body)
        );
        Reply::ok(text).header("Content-Type", "text/plain")
    })
}

#[test]
fn get_returns_status_body_and_httplib2_keys() {
    init_logging();
    let server = echo_server();
    let http = Http::new();
    let url = server.url("/get?x=1");
    let (response, content) = http.request(&url);
    assert_eq!(body(&content), b"GET /get?x=1 ");
    assert_eq!(response.status, 200);
    assert_eq!(response.reason, "OK");
    assert_eq!(&response["status"], "200");
    assert_eq!(response.get("Content-Type"), Some("text/plain"));
    assert_eq!(&response["content-location"], url);
    assert_eq!(response.url, url);
    assert!(!response.from_cache);
    assert!(response.previous.is_none());
    assert_eq!(content.to_string(), "GET /get?x=1 ");
    assert!(content == "GET /get?x=1 ");
    assert_eq!(server.hits(), 1);
}

#[test]
fn default_headers_are_sent_and_caller_headers_win() {
    let server = echo_server();
    let http = Http::new();
    let (r, _) = http.request(&server.url("/"));
    wait(&r).unwrap();
    let (r, _) = http.request_with(
        &server.url("/"),
        "GET",
        "",
        &[("User-Agent", "mine/2"), ("X-Token", "t")],
    );
    wait(&r).unwrap();
    let seen = server.received();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        seen[0].header("user-agent"),
        Some(format!("asynchttp/{version}").as_str())
    );
    // Every coding built in: tests/it/codings.rs.
    assert!(
        seen[0]
            .header("accept-encoding")
            .unwrap()
            .starts_with("gzip, deflate")
    );
    assert_eq!(seen[1].header("user-agent"), Some("mine/2"));
    assert_eq!(seen[1].header("x-token"), Some("t"));
}

#[test]
fn any_method_and_body_reach_the_server() {
    let server = echo_server();
    let http = Http::new();
    let cases: Vec<(LazyResponse, LazyContent, &str)> = vec![
        {
            let (r, c) = http.post(&server.url("/p"), "a=1");
            (r, c, "POST /p a=1")
        },
        {
            let (r, c) = http.put(&server.url("/p"), b"bytes".to_vec());
            (r, c, "PUT /p bytes")
        },
        {
            let (r, c) = http.patch(&server.url("/p"), String::from("s"));
            (r, c, "PATCH /p s")
        },
        {
            let (r, c) = http.delete(&server.url("/d"));
            (r, c, "DELETE /d ")
        },
        {
            let (r, c) = http.options(&server.url("/o"));
            (r, c, "OPTIONS /o ")
        },
        {
            let (r, c) = http.request_with(&server.url("/x"), "EVEN_NEW_ONES", &b"raw"[..], &[]);
            (r, c, "EVEN_NEW_ONES /x raw")
        },
        {
            let (r, c) = http.send(Request::new("unknown", server.url("/u")).body("b"));
            (r, c, "unknown /u b")
        },
    ];
    for (response, content, expected) in &cases {
        assert_eq!(wait(response).unwrap().status, 200);
        assert_eq!(String::from_utf8_lossy(body(content)), *expected);
    }
    let post = server
        .received()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(post.header("content-length"), Some("3"));
    // A POST response is not for a safe method: no content-location is made up.
    assert!(!wait(&cases[0].0).unwrap().contains_key("content-location"));
}

#[test]
fn head_gives_empty_content_and_untouched_headers() {
    let server = Server::start(|_| {
        Reply::ok(gzip(b"a body that HEAD must not return")).header("Content-Encoding", "gzip")
    });
    let http = Http::new();
    let (response, content) = http.head(&server.url("/"));
    assert_eq!(wait(&response).unwrap().status, 200);
    assert!(body(&content).is_empty());
    assert_eq!(response.get("content-encoding"), Some("gzip"));
    assert_eq!(server.received()[0].method, "HEAD");
}

#[test]
fn repeated_headers_are_joined() {
    let server = Server::start(|_| {
        Reply::ok("x")
            .header("Set-Cookie", "a=1")
            .header("Set-Cookie", "b=2")
    });
    let http = Http::new();
    let (response, _) = http.request(&server.url("/"));
    assert_eq!(wait(&response).unwrap().get("set-cookie"), Some("a=1, b=2"));
}

#[test]
fn repeated_headers_stay_apart_in_get_all() {
    let server = Server::start(|_| with_cookies(Reply::ok("x")).header("X-Once", "a, b"));
    let http = Http::new();
    let (response, _) = http.request(&server.url("/"));
    let response = wait(&response).unwrap();
    assert_eq!(response.get_all("Set-Cookie").collect::<Vec<_>>(), COOKIES);
    assert_eq!(
        response.get("set-cookie"),
        Some(COOKIES.join(", ").as_str())
    );
    assert_eq!(response.get_all("x-once").collect::<Vec<_>>(), ["a, b"]);
    assert_eq!(response.get_all("x-absent").count(), 0);
}

#[test]
fn error_statuses_are_responses() {
    let server =
        Server::start(|req| Reply::new(if req.url == "/missing" { 404 } else { 500 }, "no"));
    let http = Http::new();
    let (missing, content) = http.request(&server.url("/missing"));
    let (broken, _) = http.request(&server.url("/broken"));
    assert_eq!(wait(&missing).unwrap().status, 404);
    assert_eq!(missing.reason, "Not Found");
    assert_eq!(body(&content), b"no");
    assert_eq!(wait(&broken).unwrap().status, 500);
    // httplib2 sets content-location only for 200 and 203.
    assert!(!missing.contains_key("content-location"));
}

#[test]
fn gzip_and_deflate_are_decoded_transparently() {
    let text = b"the same text, compressed three ways, the same text".to_vec();
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
    zlib.write_all(&text).unwrap();
    let mut raw = DeflateEncoder::new(Vec::new(), Compression::default());
    raw.write_all(&text).unwrap();
    let bodies = [
        ("gzip", gzip(&text)),
        ("deflate", zlib.finish().unwrap()),
        ("deflate", raw.finish().unwrap()),
    ];
    let server = Server::start(move |req| {
        let (coding, data) = &bodies[req.url[1..].parse::<usize>().unwrap()];
        Reply::ok(data.clone()).header("Content-Encoding", coding)
    });
    let http = Http::new();
    for (i, coding) in ["gzip", "deflate", "deflate"].iter().enumerate() {
        let (response, content) = http.request(&server.url(&format!("/{i}")));
        assert_eq!(body(&content), text, "{coding}");
        let r = wait(&response).unwrap();
        assert_eq!(r.get("-content-encoding"), Some(*coding));
        assert!(!r.contains_key("content-encoding"));
        assert_eq!(
            r.get("content-length"),
            Some(text.len().to_string().as_str())
        );
    }
}

#[test]
fn a_coding_the_caller_negotiated_is_passed_through() {
    let server =
        Server::start(|_| Reply::ok("opaque-lzw-bytes").header("Content-Encoding", "compress"));
    let http = Http::new();
    let (response, content) = http.request_with(
        &server.url("/"),
        "GET",
        "",
        &[("Accept-Encoding", "compress")],
    );
    assert_eq!(body(&content), b"opaque-lzw-bytes");
    assert_eq!(
        wait(&response).unwrap().get("content-encoding"),
        Some("compress")
    );
    assert_eq!(
        server.received()[0].header("accept-encoding"),
        Some("compress")
    );
}

#[test]
fn iris_and_unsafe_characters_are_encoded_on_the_wire() {
    let server = echo_server();
    let http = Http::new();
    let base = server.url("");
    let (r1, _) = http.request(&format!("{base}/caf\u{e9}?q=\u{fc}ber"));
    let (r2, _) = http.request(&format!("{base}/?q=x HTTP/1.1\r\ninjected: attack"));
    wait(&r1).unwrap();
    wait(&r2).unwrap();
    let urls: Vec<String> = server.received().into_iter().map(|r| r.url).collect();
    assert!(
        urls.contains(&"/caf%C3%A9?q=%C3%BCber".to_owned()),
        "{urls:?}"
    );
    assert!(
        urls.contains(&"/?q=x%20HTTP/1.1%0D%0Ainjected:%20attack".to_owned()),
        "{urls:?}"
    );
    assert!(
        server
            .received()
            .iter()
            .all(|r| r.header("injected").is_none())
    );
}

#[test]
fn send_map_runs_on_the_worker_and_keeps_the_value() {
    let server = echo_server();
    let http = Http::new();
    let lazy = http.send_map(Request::get(server.url("/len")), |response, body| {
        let worker = std::thread::current().name().unwrap_or_default().to_owned();
        Ok::<_, std::io::Error>((response.status, body.len(), worker))
    });
    let (status, len, worker) = asynchttp::Lazy::wait_timeout(&lazy, BOUND)
        .unwrap()
        .unwrap()
        .clone();
    assert_eq!((status, len), (200, "GET /len ".len()));
    assert!(worker.starts_with("asynchttp-worker-"), "{worker}");
    assert_eq!(lazy.0, 200); // Deref
}

#[test]
fn callback_may_change_response_and_body() {
    let server = echo_server();
    let http = Http::new();
    let (response, content) =
        http.send(Request::get(server.url("/cb")).callback(|response, body| {
            response.insert("x-seen-length", body.len().to_string());
            *body = b"hello world".to_vec();
            Ok::<(), std::io::Error>(())
        }));
    assert_eq!(body(&content), b"hello world");
    assert_eq!(wait(&response).unwrap().get("x-seen-length"), Some("8"));
}

#[test]
fn pair_is_clone_and_readable_from_many_threads() {
    let server = echo_server();
    let http = Http::new();
    let (response, content) = http.request(&server.url("/shared"));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (r, c) = (response.clone(), content.clone());
            std::thread::spawn(move || (wait(&r).unwrap().status, body(&c).to_vec()))
        })
        .collect();
    for reader in readers {
        assert_eq!(reader.join().unwrap(), (200, b"GET /shared ".to_vec()));
    }
    assert_eq!(server.hits(), 1);
}

#[test]
fn debug_never_blocks_and_shows_state() {
    let server = Server::start(|_| Reply::ok("slow").delay(std::time::Duration::from_millis(300)));
    let http = Http::new();
    let (response, content) = http.request(&server.url("/slow?token=secret"));
    let shown = format!("{response:?}");
    assert!(shown.contains("Pending"), "{shown}");
    assert!(!LazyResponse::is_ready(&response));
    assert!(LazyContent::wait_timeout(&content, std::time::Duration::from_millis(10)).is_none());
    body(&content);
    assert!(LazyResponse::is_ready(&response));
    assert!(format!("{content:?}").contains("Ready"));
}
