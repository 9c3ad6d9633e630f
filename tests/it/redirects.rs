//! Redirects as httplib2 follows them (HTTPLIB2.md §c.3), the origin policy for credentials
//! (RELIABILITY.md R1-R5, B9) and errors as statuses (§c.8). Every assertion counts what the
//! servers received.

use std::time::Duration;

use crate::support::*;

/// `/r/<status>/<target path>` answers `status` with `Location: <target path>`;
/// `/loop` redirects to itself; `/final` answers 200 with the method and body it got.
fn redirector() -> Server {
    Server::start(|req| {
        let path = req.url.split('?').next().unwrap();
        if let Some(rest) = path.strip_prefix("/r/") {
            let (status, target) = rest.split_once('/').unwrap();
            return Reply::new(status.parse().unwrap(), format!("moved to /{target}"))
                .header("Location", &format!("/{target}"));
        }
        match path {
            "/loop" => Reply::new(302, "again").header("Location", "/loop"),
            "/final" => Reply::ok(format!(
                "{} {}",
                req.method,
                String::from_utf8_lossy(&req.body)
            )),
            _ => Reply::new(404, "no"),
        }
    })
}

#[test]
fn every_redirect_code_is_followed_for_get_with_the_chain_kept() {
    for status in [301, 302, 303, 307, 308] {
        let server = redirector();
        let http = Http::new();
        let first = server.url(&format!("/r/{status}/r/{status}/final"));
        let (response, content) = http.request(&first);
        assert_eq!(body(&content), b"GET ", "{status}");
        let r = wait(&response).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.url, server.url("/final"));
        assert_eq!(
            r.get("content-location"),
            Some(server.url("/final").as_str())
        );
        let hop2 = r.previous.as_deref().expect("second redirect");
        assert_eq!(hop2.status, status);
        assert_eq!(
            hop2.get("content-location"),
            Some(server.url(&format!("/r/{status}/final")).as_str())
        );
        assert_eq!(
            hop2.get("location"),
            Some(server.url("/final").as_str()),
            "rewritten absolute"
        );
        let hop1 = hop2.previous.as_deref().expect("first redirect");
        assert_eq!(hop1.get("content-location"), Some(first.as_str()));
        assert!(hop1.previous.is_none());
        assert_eq!(server.hits(), 3);
    }
}

#[test]
fn post_after_303_302_and_301_becomes_get_without_body_or_content_headers() {
    let cases = [(303, false), (302, true), (301, true)];
    for (status, needs_follow_all) in cases {
        let server = redirector();
        let http = Http::builder()
            .follow_all_redirects(needs_follow_all)
            .build()
            .unwrap();
        let (response, content) = http.request_with(
            &server.url(&format!("/r/{status}/final")),
            "POST",
            "password=hunter2",
            &[("Content-Type", "application/x-www-form-urlencoded")],
        );
        assert_eq!(wait(&response).unwrap().status, 200, "{status}");
        assert_eq!(body(&content), b"GET ", "{status}");
        let last = server.received().pop().unwrap();
        assert_eq!(last.method, "GET");
        assert!(last.body.is_empty());
        assert!(
            last.header("content-type").is_none(),
            "{status}: {:?}",
            last.headers
        );
        assert!(
            last.header("content-length").is_none_or(|v| v == "0"),
            "{status}"
        );
    }
}

#[test]
fn post_after_307_and_308_keeps_method_and_body() {
    for (status, needs_follow_all) in [(307, true), (308, false)] {
        let server = redirector();
        let http = Http::builder()
            .follow_all_redirects(needs_follow_all)
            .build()
            .unwrap();
        let (_, content) = http.request_with(
            &server.url(&format!("/r/{status}/final")),
            "POST",
            "a=1",
            &[("Content-Type", "text/plain")],
        );
        assert_eq!(body(&content), b"POST a=1", "{status}");
        let last = server.received().pop().unwrap();
        assert_eq!(last.header("content-type"), Some("text/plain"));
    }
}

#[test]
fn unsafe_methods_are_not_followed_without_follow_all() {
    let server = redirector();
    let http = Http::new();
    for status in [301, 302, 307] {
        let (response, _) =
            http.request_with(&server.url(&format!("/r/{status}/final")), "POST", "x", &[]);
        assert_eq!(wait(&response).unwrap().status, status);
    }
    assert_eq!(server.hits(), 3, "nothing followed");
}

/// A login form's POST answered with 302 and a session cookie: the 302 is the response
/// unless `follow_all_redirects(true)`, and its cookie is kept either way.
#[test]
fn a_login_answered_with_302_stays_a_302_without_follow_all_and_keeps_its_cookie() {
    let server = Server::start(|req| match (req.method.as_str(), req.url.as_str()) {
        ("POST", "/login") => Reply::new(302, "")
            .header("Location", "/home")
            .header("Set-Cookie", "session=s1; Path=/"),
        _ => Reply::ok(format!(
            "{} {}",
            req.method,
            req.header("cookie").unwrap_or("-")
        )),
    });
    for follow_all in [false, true] {
        let http = Http::builder()
            .cookies(true)
            .follow_all_redirects(follow_all)
            .build()
            .unwrap();
        let (login, content) = http.request_with(&server.url("/login"), "POST", "user=a", &[]);
        match follow_all {
            false => assert_eq!(wait(&login).unwrap().status, 302),
            true => {
                assert_eq!(wait(&login).unwrap().status, 200);
                assert_eq!(body(&content), b"GET session=s1", "followed as GET");
            }
        }
        let jar = http.cookie_jar().expect("cookies(true)");
        let kept = jar.cookies_for(&server.url("/home"));
        let session = ("session".to_owned(), "s1".to_owned());
        assert_eq!(kept, [session], "{follow_all}");
    }
    let homes = server
        .received()
        .iter()
        .filter(|r| r.url == "/home")
        .count();
    assert_eq!(homes, 1, "followed only with follow_all_redirects(true)");
}

#[test]
fn follow_redirects_false_and_redirect_codes_turn_following_off() {
    let server = redirector();
    let off = Http::builder().follow_redirects(false).build().unwrap();
    let (response, content) = off.request(&server.url("/r/303/final"));
    assert_eq!(wait(&response).unwrap().status, 303);
    assert_eq!(body(&content), b"moved to /final");
    let no_301 = Http::builder()
        .redirect_codes([300, 302, 303, 307, 308])
        .build()
        .unwrap();
    assert_eq!(
        wait(&no_301.request(&server.url("/r/301/final")).0)
            .unwrap()
            .status,
        301
    );
    assert_eq!(
        wait(&no_301.request(&server.url("/r/302/final")).0)
            .unwrap()
            .status,
        200
    );
    assert_eq!(server.hits(), 4);
}

#[test]
fn a_300_is_followed_with_a_location_and_returned_without() {
    let server = Server::start(|req| match req.url.as_str() {
        "/with" => Reply::new(300, "choices").header("Location", "/final"),
        "/without" => Reply::new(300, "pick one"),
        _ => Reply::ok("chosen"),
    });
    let http = Http::new();
    assert_eq!(body(&http.request(&server.url("/with")).1), b"chosen");
    let (response, content) = http.request(&server.url("/without"));
    assert_eq!(wait(&response).unwrap().status, 300);
    assert_eq!(body(&content), b"pick one");
}

#[test]
fn r4_a_loop_stops_at_the_limit_with_the_last_redirect() {
    let server = redirector();
    let http = Http::new();
    let (response, _) = http.request(&server.url("/loop"));
    match error(&response) {
        Error::RedirectLimit {
            limit,
            response,
            content,
            ..
        } => {
            assert_eq!(limit, 5);
            assert_eq!(response.status, 302);
            assert_eq!(&content[..], b"again");
            let mut depth = 0;
            let mut hop = response.previous.as_deref();
            while let Some(r) = hop {
                depth += 1;
                hop = r.previous.as_deref();
            }
            assert_eq!(depth, 5, "the followed redirects are its previous chain");
        }
        other => panic!("expected RedirectLimit, got {}", other.chain()),
    }
    assert_eq!(server.hits(), 6, "at most limit + 1 requests");
    for n in [0, 2] {
        let before = server.hits();
        let (response, _) = http.send(Request::get(server.url("/loop")).redirections(n));
        assert!(matches!(error(&response), Error::RedirectLimit { limit, .. } if limit == n));
        assert_eq!(server.hits() - before, n as usize + 1);
    }
}

#[test]
fn a_redirect_without_location_is_an_error_carrying_its_body() {
    let server = Server::start(|req| match req.url.as_str() {
        "/empty" => Reply::new(302, "nowhere to go").header("Location", "  "),
        _ => Reply::new(302, "nowhere to go"),
    });
    let (empty, _) = Http::new().request(&server.url("/empty"));
    assert!(matches!(
        error(&empty),
        Error::RedirectMissingLocation { .. }
    ));
    let (response, _) = Http::new().request(&server.url("/"));
    match error(&response) {
        Error::RedirectMissingLocation {
            response, content, ..
        } => {
            assert_eq!(response.status, 302);
            assert_eq!(&content[..], b"nowhere to go");
        }
        other => panic!("expected RedirectMissingLocation, got {}", other.chain()),
    }
}

#[test]
fn r5_forbidden_locations_are_refused_and_userinfo_is_dropped() {
    let target = Server::start(|_| Reply::ok("target"));
    let target_url = target.url("/landing");
    let server = Server::start(move |req| {
        let location = match req.url.as_str() {
            "/file" => "file:///etc/passwd".to_owned(),
            "/ftp" => "ftp://127.0.0.1/x".to_owned(),
            "/data" => "data:text/plain,hello".to_owned(),
            _ => target_url.replace("http://", "http://user:secret@"),
        };
        Reply::new(302, "").header("Location", &location)
    });
    let http = Http::new();
    for path in ["/file", "/ftp", "/data"] {
        let (response, content) = http.request(&server.url(path));
        match error(&response) {
            Error::RedirectRefused {
                reason, response, ..
            } => {
                assert!(reason.contains("only http and https"), "{reason}");
                assert_eq!(response.status, 302);
            }
            other => panic!("{path}: expected RedirectRefused, got {}", other.chain()),
        }
        assert!(LazyContent::wait(&content).is_err());
    }
    let (response, content) = http.request(&server.url("/userinfo"));
    assert_eq!(body(&content), b"target");
    assert_eq!(wait(&response).unwrap().url, target.url("/landing"));
    let seen = target.received();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].header("authorization").is_none(),
        "userinfo never becomes credentials"
    );
}

/// Two origins: A redirects to B (another port), B's `/back` redirects to A's `/home`.
struct TwoOrigins {
    a: Server,
    b: Server,
}

fn two_origins() -> TwoOrigins {
    let b_to_a = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let back = b_to_a.clone();
    let b = Server::start(move |req| match req.url.as_str() {
        "/back" => Reply::new(302, "").header("Location", &back.lock().unwrap()),
        "/self" => Reply::new(302, "").header("Location", "/landing"),
        _ => Reply::ok("b"),
    });
    let (to_b, to_b_self, to_b_back) = (b.url("/landing"), b.url("/self"), b.url("/back"));
    let a = Server::start(move |req| match req.url.as_str() {
        "/to-b" => Reply::new(302, "").header("Location", &to_b),
        "/to-b-self" => Reply::new(302, "").header("Location", &to_b_self),
        "/to-b-back" => Reply::new(302, "").header("Location", &to_b_back),
        "/same" => Reply::new(302, "").header("Location", "/home"),
        _ => Reply::ok("a"),
    });
    *b_to_a.lock().unwrap() = a.url("/home");
    TwoOrigins { a, b }
}

const SECRETS: [(&str, &str); 3] = [
    ("Authorization", "Bearer secret-token"),
    ("Cookie", "session=secret-cookie"),
    ("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"),
];

fn carries_secrets(r: &Received) -> Vec<&'static str> {
    SECRETS
        .iter()
        .filter(|(k, _)| r.header(k).is_some())
        .map(|(k, _)| *k)
        .collect()
}

#[test]
fn r2_secrets_stay_with_the_origin_they_were_sent_to() {
    let servers = two_origins();
    let http = Http::new();
    for path in ["/to-b", "/to-b-self", "/to-b-back", "/same"] {
        let (response, _) = http.request_with(&servers.a.url(path), "GET", "", &SECRETS);
        assert_eq!(wait(&response).unwrap().status, 200, "{path}");
    }
    for r in servers.b.received() {
        assert!(
            carries_secrets(&r).is_empty(),
            "B got {:?} on {}",
            carries_secrets(&r),
            r.url
        );
    }
    // Back on A (A→A, and A→B→A): the origin the request was made for gets them again.
    let a_seen = servers.a.received();
    let homes: Vec<_> = a_seen.iter().filter(|r| r.url == "/home").collect();
    assert_eq!(homes.len(), 2);
    for r in homes {
        assert_eq!(carries_secrets(r).len(), 3, "{:?}", r.headers);
    }
    assert_eq!(servers.b.hits(), 4, "landing, self, landing, back");
}

#[test]
fn forward_authorization_headers_opts_in() {
    let servers = two_origins();
    let http = Http::builder()
        .forward_authorization_headers(true)
        .build()
        .unwrap();
    let (response, _) = http.request_with(&servers.a.url("/to-b"), "GET", "", &SECRETS);
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(carries_secrets(&servers.b.received()[0]).len(), 3);
}

#[test]
fn validators_are_dropped_on_every_redirect() {
    let server = redirector();
    let http = Http::new();
    let (response, _) = http.request_with(
        &server.url("/r/302/final"),
        "GET",
        "",
        &[
            ("If-None-Match", "\"v1\""),
            ("If-Modified-Since", "Sat, 29 Oct 1994 19:43:31 GMT"),
        ],
    );
    assert_eq!(wait(&response).unwrap().status, 200);
    let seen = server.received();
    assert!(seen[0].header("if-none-match").is_some());
    assert!(
        seen[1].header("if-none-match").is_none() && seen[1].header("if-modified-since").is_none()
    );
}

#[test]
fn b9_a_bomb_in_a_redirect_body_is_not_decoded() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, &vec![0u8; 64 << 20]).unwrap();
    let bomb = encoder.finish().unwrap();
    let server = Server::start(move |req| match req.url.as_str() {
        "/bomb" => Reply::new(302, bomb.clone())
            .header("Content-Encoding", "gzip")
            .header("Location", "/final"),
        _ => Reply::ok("landed"),
    });
    let http = Http::builder().max_body_size(1 << 20).build().unwrap();
    let started = std::time::Instant::now();
    assert_eq!(body(&http.request(&server.url("/bomb")).1), b"landed");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn forced_errors_become_statuses_and_keep_the_chain() {
    let server = redirector();
    let http = Http::builder()
        .force_exception_to_status_code(true)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();

    let (response, content) = http.request(&server.url("/loop"));
    let r = wait(&response).unwrap();
    assert_eq!(r.status, 500);
    assert!(r.reason.starts_with("redirected more"), "{}", r.reason);
    assert_eq!(
        &r["status"], "302",
        "the status key keeps the redirect's code"
    );
    assert_eq!(body(&content), b"again");
    assert!(r.previous.is_some());

    let missing = Server::start(|_| Reply::new(302, "no location"));
    let (response, content) = http.request(&missing.url("/"));
    let r = wait(&response).unwrap();
    assert_eq!(
        (r.status, r.reason.as_str()),
        (
            500,
            "redirected but the response is missing a Location: header"
        )
    );
    assert_eq!(body(&content), b"no location");

    let silent = RawServer::start(|_| std::thread::sleep(Duration::from_secs(3)));
    let (response, content) = http.request(&silent.url("/"));
    let r = wait(&response).unwrap();
    assert_eq!((r.status, r.reason.as_str()), (408, "Request Timeout"));
    assert_eq!(r.get("content-type"), Some("text/plain"));
    assert_eq!(body(&content), b"Request Timeout");

    let (response, content) = http.request(&closed_port_url());
    let r = wait(&response).unwrap();
    assert_eq!((r.status, r.reason.as_str()), (400, "Bad Request"));
    assert!(String::from_utf8_lossy(body(&content)).starts_with("could not connect to"));

    // A timeout after a redirect keeps the redirect in previous.
    let slow_after = Server::start(|req| match req.url.as_str() {
        "/start" => Reply::new(302, "").header("Location", "/slow"),
        _ => Reply::ok("late").delay(Duration::from_secs(2)),
    });
    let (response, _) = http.request(&slow_after.url("/start"));
    let r = wait(&response).unwrap();
    assert_eq!(r.status, 408);
    assert_eq!(r.previous.as_deref().map(|p| p.status), Some(302));
}
