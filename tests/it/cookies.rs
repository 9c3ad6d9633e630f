//! The cookie jar against loopback servers that check the `Cookie` headers they get: a
//! login through a redirect, then drivers and eight workers at once; off by default; the
//! rules of path, expiry, `Secure` and host; a jar saved and loaded; a caller's own
//! `Cookie` on redirects; a 401's cookie; the cache; a cookie a header cannot carry,
//! refused wherever it comes from while the others still go.

use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use asynchttp::{CookieJar, Lazy, MemoryCache};
use base64::Engine as _;

use crate::support::*;
use crate::tls::Pki;

/// The session the login server hands out.
const TOKEN: &str = "t0k3n-4f9a";

/// The cookies a request carried, as `name=value` texts, in the order sent.
fn cookies(req: &Received) -> Vec<String> {
    req.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';').map(|c| c.trim().to_owned()))
        .filter(|c| !c.is_empty())
        .collect()
}

/// A reply whose body is the `Cookie` header the request carried (`-` for none), with a
/// `Set-Cookie` line for each of `sets` whose path is the request's.
fn echo_reply(req: &Received, sets: &[(&str, &str)]) -> Reply {
    let path = req.url.split('?').next().unwrap_or_default();
    let sent = cookies(req).join("; ");
    let reply = Reply::ok(if sent.is_empty() {
        "-".to_owned()
    } else {
        sent
    });
    sets.iter()
        .filter(|(p, _)| *p == path)
        .fold(reply, |reply, (_, line)| reply.header("Set-Cookie", line))
}

fn echo(sets: &'static [(&'static str, &'static str)]) -> Server {
    Server::start(move |req| echo_reply(req, sets))
}

/// The body of a GET of `url`, as text.
#[track_caller]
fn get(http: &Http, url: &str) -> String {
    String::from_utf8(body(&http.request(url).1).to_vec()).unwrap()
}

/// A site with a login: POST /login with the right form answers 302 to /home and sets the
/// session; every other page wants the session cookie and answers 401 without it.
fn site() -> Server {
    Server::start(|req| {
        let authorised = cookies(req) == [format!("session={TOKEN}")];
        match (req.method.as_str(), req.url.as_str()) {
            ("POST", "/login") if req.body == b"user=alice&password=s3cret" => Reply::new(302, "")
                .header("Location", "/home")
                .header("Set-Cookie", &format!("session={TOKEN}; Path=/; HttpOnly")),
            ("POST", "/login") => Reply::new(403, "bad password"),
            (_, url) if authorised => Reply::ok(format!("hello alice at {url}")),
            _ => Reply::new(401, "log in first"),
        }
    })
}

fn logins(server: &Server) -> usize {
    let received = server.received();
    received.iter().filter(|r| r.url == "/login").count()
}

/// Logs in; the redirect's hop to /home must carry the session.
#[track_caller]
fn log_in(http: &Http, server: &Server) {
    let (response, content) = http.request_with(
        &server.url("/login"),
        "POST",
        "user=alice&password=s3cret",
        &[("Content-Type", "application/x-www-form-urlencoded")],
    );
    assert_eq!(body(&content), b"hello alice at /home");
    let response = wait(&response).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.previous.as_ref().map(|p| p.status), Some(302));
}

/// Holds each caller until `n` callers are held at once, then lets every caller through;
/// one held past the bound gets an error instead.
#[derive(Clone)]
struct Gate {
    arrived: Arc<(Mutex<usize>, Condvar)>,
    n: usize,
}

impl Gate {
    fn new(n: usize) -> Self {
        Gate {
            arrived: Arc::new((Mutex::new(0), Condvar::new())),
            n,
        }
    }

    fn pass(&self) -> Result<(), String> {
        let (count, arrived) = &*self.arrived;
        let mut count = count.lock().unwrap();
        *count += 1;
        arrived.notify_all();
        let (count, _) = arrived
            .wait_timeout_while(count, BOUND, |count| *count < self.n)
            .unwrap();
        match *count >= self.n {
            true => Ok(()),
            false => Err(format!("only {} of {} at once", *count, self.n)),
        }
    }
}

#[test]
fn a_login_through_a_redirect_serves_drivers_and_eight_workers_at_once() {
    let server = site();
    let http = Http::builder()
        .workers(8)
        .cookies(true)
        .follow_all_redirects(true) // a POST answered with 302, as httplib2 follows it
        .build()
        .unwrap();
    log_in(&http, &server);
    let home = server.received().into_iter().find(|r| r.url == "/home");
    assert_eq!(cookies(&home.unwrap()), [format!("session={TOKEN}")]);

    // Plain requests, on the drivers.
    let pairs: Vec<_> = (0..32)
        .map(|_| http.request(&server.url("/protected")))
        .collect();
    for (response, content) in &pairs {
        assert_eq!(wait(response).unwrap().status, 200);
        assert_eq!(body(content), b"hello alice at /protected");
    }

    // Requests with a function of the caller's, on the workers: the first eight are held
    // until all eight are, so eight workers read the page at once.
    let gate = Gate::new(8);
    let reads: Vec<Lazy<(u16, Vec<u8>, String)>> = (0..32)
        .map(|_| {
            let gate = gate.clone();
            http.send_map(Request::get(server.url("/protected")), move |r, body| {
                gate.pass()?;
                let thread = thread::current().name().unwrap_or_default().to_owned();
                Ok::<_, String>((r.status, body.to_vec(), thread))
            })
        })
        .collect();
    for read in &reads {
        let (status, body, thread) = match Lazy::wait_timeout(read, BOUND) {
            Some(Ok(read)) => read,
            Some(Err(e)) => panic!("{}", e.chain()),
            None => panic!("not done within {BOUND:?}"),
        };
        assert_eq!(
            (*status, body.as_slice()),
            (200, &b"hello alice at /protected"[..])
        );
        assert!(thread.starts_with("asynchttp-worker-"), "{thread}");
    }
    assert_eq!(http.pool().workers(), 8);

    let protected: Vec<_> = server
        .received()
        .into_iter()
        .filter(|r| r.url == "/protected")
        .collect();
    assert_eq!(protected.len(), 64);
    for req in &protected {
        assert_eq!(cookies(req), [format!("session={TOKEN}")]);
    }
    assert_eq!(logins(&server), 1);
    assert_eq!(
        http.cookie_jar().unwrap().cookies_for(&server.url("/")),
        [("session".to_owned(), TOKEN.to_owned())]
    );
}

#[test]
fn without_a_jar_no_cookie_is_sent_and_set_cookie_is_ignored() {
    let server = Server::start(|req| match req.url.as_str() {
        "/set" => Reply::new(302, "")
            .header("Location", "/check")
            .header("Set-Cookie", "a=1; Path=/"),
        _ => echo_reply(req, &[("/check", "b=2; Path=/")]),
    });
    let jar = CookieJar::new();
    let default = Http::new();
    let turned_off = Http::builder()
        .cookie_jar(jar.clone())
        .cookies(false)
        .build()
        .unwrap();
    for http in [&default, &turned_off] {
        assert!(http.cookie_jar().is_none());
        assert_eq!(get(http, &server.url("/set")), "-");
        assert_eq!(get(http, &server.url("/check")), "-");
        // On a worker too.
        let (_, content) = http
            .send(Request::get(server.url("/check")).callback(|_, _| Ok::<(), std::io::Error>(())));
        assert_eq!(body(&content), b"-");
    }
    assert!(jar.is_empty());
    assert!(server.received().iter().all(|r| cookies(r).is_empty()));
}

#[test]
fn cookies_go_by_path_and_expiry() {
    let server = echo(&[
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
    let http = Http::builder().cookies(true).build().unwrap();
    assert_eq!(get(&http, &server.url("/a/set")), "-");
    // Longer paths first.
    assert_eq!(get(&http, &server.url("/a/x")), "inner=1; outer=2");
    assert_eq!(get(&http, &server.url("/a")), "inner=1; outer=2");
    assert_eq!(get(&http, &server.url("/b")), "outer=2");
    assert_eq!(
        get(&http, &server.url("/ab")),
        "outer=2",
        "/a is not a prefix of /ab"
    );
    // Max-Age=0 deletes; the response that deletes was still sent the cookie.
    assert_eq!(get(&http, &server.url("/forget")), "outer=2");
    assert_eq!(get(&http, &server.url("/a/x")), "inner=1");
    // An Expires in the past deletes too.
    get(&http, &server.url("/expire"));
    assert_eq!(get(&http, &server.url("/a/x")), "-");
    // A Secure cookie never goes over http.
    get(&http, &server.url("/secure"));
    assert_eq!(get(&http, &server.url("/b")), "-");
    get(&http, &server.url("/later"));
    assert_eq!(get(&http, &server.url("/b")), "later=1");
}

#[test]
fn secure_cookies_go_over_https_only_and_hosts_are_kept_apart_but_ports_are_not() {
    let pki = Pki::new("cookies");
    let config = pki.config(&["127.0.0.1", "localhost"], &["http/1.1"]);
    let secure = Server::with_tls(Some(config), |req| {
        echo_reply(
            req,
            &[("/set", "s=1; Secure; Path=/"), ("/set", "plain=2; Path=/")],
        )
    });
    let other_port = echo(&[]);
    let http = Http::builder()
        .cookies(true)
        .ca_certs(pki.ca_file())
        .build()
        .unwrap();
    assert_eq!(get(&http, &secure.https_url("/set")), "-");
    assert_eq!(get(&http, &secure.https_url("/check")), "plain=2; s=1");
    // Same host, another port, over http: RFC 6265 cookies do not tell ports apart, so the
    // plain cookie goes; the Secure one does not, over http.
    assert_eq!(get(&http, &other_port.url("/check")), "plain=2");
    // Another name for the same server: the cookies were set by 127.0.0.1 without a
    // Domain, so they stay with that host.
    let by_name = other_port.url("/check").replace("127.0.0.1", "localhost");
    assert_eq!(get(&http, &by_name), "-");
    let by_name = secure.https_url("/check").replace("127.0.0.1", "localhost");
    assert_eq!(get(&http, &by_name), "-");
}

#[test]
fn a_saved_jar_keeps_the_login_across_a_restart() {
    let server = site();
    let path = std::env::temp_dir().join(format!("asynchttp-cookies-{}.json", std::process::id()));
    {
        let http = Http::builder()
            .cookies(true)
            .follow_all_redirects(true)
            .build()
            .unwrap();
        log_in(&http, &server);
        let file = std::fs::File::create(&path).unwrap();
        http.cookie_jar().unwrap().save_json(file).unwrap();
    }
    // A new program: the session cookie, set without an expiry, was saved and comes back.
    let jar = CookieJar::load_json(std::fs::File::open(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        jar.cookies_for(&server.url("/")),
        [("session".to_owned(), TOKEN.to_owned())]
    );
    let http = Http::builder().cookie_jar(jar.clone()).build().unwrap();
    assert_eq!(
        get(&http, &server.url("/protected")),
        "hello alice at /protected"
    );
    assert_eq!(logins(&server), 1, "no second login");
    // The caller's clone is the client's jar: clearing it logs the client out.
    jar.clear();
    let (response, _) = http.request(&server.url("/protected"));
    assert_eq!(wait(&response).unwrap().status, 401);
}

/// A cookie whose value would end the `Cookie` header line and start another.
const INJECTION: &str = "e=5\r\nX-Injected: add; Path=/";

#[test]
fn a_cookie_a_header_cannot_carry_is_refused_and_the_session_still_goes() {
    let server = echo(&[]);
    let jar = CookieJar::new();
    jar.add(&server.url("/"), "session=s1; Path=/").unwrap();
    for line in [INJECTION, "e=a\0b", "e=a\x7fb", "e=caf\u{e9}"] {
        let e = jar.add(&server.url("/"), line).unwrap_err();
        assert!(matches!(e, asynchttp::Error::CookieJar { .. }), "{e:?}");
        assert!(e.to_string().contains("cannot carry"), "{e}");
    }
    let http = Http::builder().cookie_jar(jar).build().unwrap();
    assert_eq!(get(&http, &server.url("/check")), "session=s1");
    let received = server.received();
    assert!(received.iter().all(|r| r.header("x-injected").is_none()));
}

#[test]
fn a_hand_edited_saved_jar_loses_the_bad_cookie_only() {
    let server = echo(&[]);
    let jar = CookieJar::new();
    jar.add(&server.url("/"), "session=s1; Path=/").unwrap();
    jar.add(&server.url("/"), "e=5; Path=/").unwrap();
    let dir = TempDir::new("edited-jar");
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("cookies.json");
    jar.save_json(std::fs::File::create(&path).unwrap())
        .unwrap();
    // The file edited by hand: the cookie's value now ends the header line.
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replace("\"e=5", "\"e=5\\r\\nX-Injected: add");
    assert_ne!(edited, text);
    std::fs::write(&path, edited).unwrap();
    let loaded = CookieJar::load_json(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(loaded.len(), 1);
    let http = Http::builder().cookie_jar(loaded).build().unwrap();
    assert_eq!(get(&http, &server.url("/check")), "session=s1");
}

#[test]
fn a_servers_cookie_a_header_cannot_carry_is_ignored_and_the_others_kept() {
    // "café" goes out as UTF-8 and comes back as two characters outside ASCII, which the
    // transport cannot send back.
    let server = echo(&[
        ("/set", "session=s1; Path=/"),
        ("/set", "name=caf\u{e9}; Path=/"),
        ("/set", "later=2; Path=/"),
    ]);
    let http = Http::builder().cookies(true).build().unwrap();
    assert_eq!(get(&http, &server.url("/set")), "-");
    assert_eq!(http.cookie_jar().unwrap().len(), 2);
    assert_eq!(get(&http, &server.url("/check")), "later=2; session=s1");
    // On a worker too.
    let (_, content) =
        http.send(Request::get(server.url("/check")).callback(|_, _| Ok::<(), std::io::Error>(())));
    assert_eq!(body(&content), b"later=2; session=s1");
}

#[test]
fn a_callers_cookie_wins_and_keeps_the_origin_policy_on_redirects() {
    let other_origin = echo(&[]);
    let (away, far) = (
        other_origin.url("/landing"),
        other_origin
            .url("/landing")
            .replace("127.0.0.1", "localhost"),
    );
    let server = Server::start(move |req| match req.url.as_str() {
        "/set" => echo_reply(req, &[("/set", "jar=1; Path=/")]),
        "/same" => Reply::new(302, "").header("Location", "/landing"),
        "/away" => Reply::new(302, "").header("Location", &away),
        "/far" => Reply::new(302, "").header("Location", &far),
        _ => echo_reply(req, &[]),
    });
    let http = Http::builder().cookies(true).build().unwrap();
    let mine = |path: &str| {
        let (_, content) = http.send(Request::get(server.url(path)).header("Cookie", "mine=1"));
        String::from_utf8(body(&content).to_vec()).unwrap()
    };
    get(&http, &server.url("/set"));
    assert_eq!(get(&http, &server.url("/landing")), "jar=1");
    assert_eq!(
        get(&http, &server.url("/same")),
        "jar=1",
        "the jar's, on every hop"
    );
    // The caller's header goes alone, on the first hop and on a hop to the same origin.
    assert_eq!(mine("/landing"), "mine=1");
    assert_eq!(mine("/same"), "mine=1");
    let first = server.received().into_iter().rfind(|r| r.url == "/same");
    assert_eq!(cookies(&first.unwrap()), ["mine=1"]);
    // Another origin (another port) drops the caller's header, as ever; the jar's cookies
    // of 127.0.0.1 go there by the jar's rules, which do not tell ports apart.
    assert_eq!(mine("/away"), "jar=1");
    // Another host: the caller's header is dropped and the jar has nothing for it.
    assert_eq!(mine("/far"), "-");
    // Forwarding kept: the caller's header goes everywhere, still alone.
    let forwarding = Http::builder()
        .cookie_jar(http.cookie_jar().unwrap().clone())
        .forward_authorization_headers(true)
        .build()
        .unwrap();
    let (_, content) = forwarding.send(Request::get(server.url("/far")).header("Cookie", "mine=1"));
    assert_eq!(body(&content), b"mine=1");
}

#[test]
fn a_cookie_set_with_a_401_goes_with_the_answer() {
    let good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    let server = Server::start(move |req| {
        let challenged = cookies(req) == ["challenge=1"];
        match req.header("authorization") {
            Some(a) if a == good && challenged => Reply::ok("in"),
            Some(_) => Reply::new(403, "no challenge cookie"),
            None => Reply::new(401, "who are you")
                .header("WWW-Authenticate", r#"Basic realm="t""#)
                .header("Set-Cookie", "challenge=1; Path=/"),
        }
    });
    let http = Http::builder().cookies(true).build().unwrap();
    http.add_credentials("alice", "s3cret", "");
    let (response, content) = http.request(&server.url("/private"));
    assert_eq!(body(&content), b"in");
    assert_eq!(wait(&response).unwrap().status, 200);
    assert_eq!(server.hits(), 2, "the challenge, then the answer");
}

#[test]
fn the_cache_answers_without_sending_or_storing_cookies_and_never_by_the_jars_cookie() {
    let server = Server::start(|req| {
        let reply = echo_reply(req, &[("/fresh", "c=1; Path=/")]);
        match req.url.as_str() {
            "/fresh" => reply.header("Cache-Control", "max-age=3600"),
            "/varies" => reply
                .header("Cache-Control", "max-age=3600")
                .header("Vary", "Cookie"),
            _ => reply,
        }
    });
    let http = Http::builder()
        .cache_store(Arc::new(MemoryCache::new()))
        .cookies(true)
        .build()
        .unwrap();
    let jar = http.cookie_jar().unwrap().clone();
    assert_eq!(get(&http, &server.url("/fresh")), "-");
    assert_eq!(jar.len(), 1);
    jar.clear();
    // A fresh hit: nothing sent, and its Set-Cookie, stored with it, is not taken again.
    let (response, content) = http.request(&server.url("/fresh"));
    assert_eq!(body(&content), b"-");
    let response = wait(&response).unwrap();
    assert!(response.from_cache);
    assert_eq!(response.get("set-cookie"), Some("c=1; Path=/"));
    assert!(jar.is_empty());
    assert_eq!(server.hits(), 1);
    // A response chosen by Cookie is never stored for the jar's cookies: after a logout,
    // the logged-in page does not come back from the cache.
    jar.add(&server.url("/"), "user=alice; Path=/").unwrap();
    assert_eq!(get(&http, &server.url("/varies")), "user=alice");
    jar.clear();
    assert_eq!(get(&http, &server.url("/varies")), "-");
    assert_eq!(server.hits(), 3);
    // With the caller's own Cookie, Vary is the cache's usual business.
    let own = || {
        let (response, content) =
            http.send(Request::get(server.url("/varies")).header("Cookie", "user=bob"));
        assert_eq!(body(&content), b"user=bob");
        wait(&response).unwrap().from_cache
    };
    assert!(!own());
    assert!(own());
    assert_eq!(server.hits(), 4);
}
