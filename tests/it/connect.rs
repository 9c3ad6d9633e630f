//! Where connections go: names pinned to addresses (`resolve`), connect-to entries, the
//! address family and libcurl's happy eyeballs, and the DNS cache's lifetime, against
//! loopback servers on 127.0.0.1 and ::1. Unix sockets are in `unix_socket`.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use asynchttp::{IpVersion, ProxyInfo, TimeoutKind};
use socket2::{Domain, Socket, Type};

use crate::support::*;
use crate::tls::Pki;

/// A client builder that never goes through a proxy: the names here are not loopback
/// ones, so a proxy from the environment would otherwise take them.
fn direct() -> asynchttp::HttpBuilder {
    Http::builder().proxy_info(ProxyInfo::none())
}

fn host_header(server: &Server) -> Vec<String> {
    let received = server.received();
    received
        .iter()
        .map(|r| r.header("host").unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_pinned_name_reaches_its_address_and_tls_still_checks_the_name() {
    let pki = Pki::new("connect-resolve");
    let server = pki.server(&["pinned.test"], false, false, false);
    let port = server.port();
    let http = direct()
        .ca_certs(pki.ca_file())
        .resolve("pinned.test", port, ["127.0.0.1"])
        .resolve("other.test", port, ["127.0.0.1"])
        .build()
        .unwrap();
    let url = format!("https://pinned.test:{port}/");
    let (response, content) = http.request(&url);
    assert_eq!(body(&content), b"secure");
    assert_eq!(wait(&response).unwrap().url, url);
    assert_eq!(host_header(&server), [format!("pinned.test:{port}")]);

    // The same server, reached by another pinned name: its certificate is not for it.
    let e = error(&http.request(&format!("https://other.test:{port}/")).0);
    match &e {
        // The reason comes from a second handshake made along the same route: without
        // the pinned name it could not be made, and no reason would be given.
        Error::Tls {
            reason: Some(reason),
            ..
        } => assert!(reason.contains("NotValidForName"), "{}", e.chain()),
        _ => panic!("{}", e.chain()),
    }
    assert_eq!(server.hits(), 1);
}

#[test]
fn the_wildcard_pins_every_name_on_its_port() {
    let server = Server::start(|_| Reply::ok("any name"));
    let port = server.port();
    let http = direct().resolve("*", port, ["127.0.0.1"]).build().unwrap();
    for name in ["first.test", "second.example"] {
        let (_, content) = http.request(&format!("http://{name}:{port}/"));
        assert_eq!(body(&content), b"any name");
    }
    assert_eq!(
        host_header(&server),
        [
            format!("first.test:{port}"),
            format!("second.example:{port}")
        ]
    );
}

#[test]
fn bad_entries_fail_the_build() {
    for (builder, says) in [
        (direct().resolve("", 80, ["127.0.0.1"]), "not a host name"),
        (
            direct().resolve("a.test", 0, ["127.0.0.1"]),
            "port must be above 0",
        ),
        (
            direct().resolve("a.test", 80, ["127.0.0.256"]),
            "is not an IP address",
        ),
        (
            direct().connect_to("a.test:0", "127.0.0.1:80"),
            "not a port above 0",
        ),
        (
            direct().connect_to("a.test", "127.0.0.1:80"),
            "is not HOST:PORT",
        ),
        (direct().connect_to("a.test:80", ":"), "changes neither"),
    ] {
        match builder.build() {
            Err(Error::Init { reason, .. }) => assert!(reason.contains(says), "{reason}"),
            other => panic!("{says}: {other:?}"),
        }
    }
}

#[test]
fn connect_to_sends_a_request_elsewhere_and_keeps_its_name() {
    let pki = Pki::new("connect-to");
    let secure = pki.server(&["shop.test"], false, false, false);
    let plain = Server::start(|req| match req.url.as_str() {
        "/hop" => Reply::new(302, "").header("Location", "http://next.test/end"),
        url => Reply::ok(format!("plain {url}")),
    });
    let (tls_port, port) = (secure.port(), plain.port());
    let http = direct()
        .ca_certs(pki.ca_file())
        // To an address, on https: the certificate is checked for shop.test.
        .connect_to("shop.test:443", &format!("127.0.0.1:{tls_port}"))
        // To a name, pinned: looked up in the resolve map.
        .connect_to("api.test:80", &format!("backend.test:{port}"))
        .resolve("backend.test", port, ["127.0.0.1"])
        // To a name, by the system's resolver; -4 picks its IPv4 address.
        .connect_to("system.test:", &format!("localhost:{port}"))
        .ip_version(IpVersion::V4)
        // Any host on port 80 (the redirect's target).
        .connect_to(":80", &format!("127.0.0.1:{port}"))
        .build()
        .unwrap();
    assert_eq!(body(&http.request("https://shop.test/").1), b"secure");
    assert_eq!(host_header(&secure), ["shop.test"]);

    assert_eq!(body(&http.request("http://api.test/a").1), b"plain /a");
    assert_eq!(body(&http.request("http://system.test:9/b").1), b"plain /b");
    // Each hop of a redirect is matched again: the second by the last entry.
    let (response, content) = http.request("http://api.test/hop");
    assert_eq!(body(&content), b"plain /end");
    assert_eq!(wait(&response).unwrap().url, "http://next.test/end");
    assert_eq!(
        host_header(&plain),
        ["api.test", "system.test:9", "api.test", "next.test"]
    );
}

#[test]
fn connect_to_failures_say_where_the_request_went() {
    let closed: SocketAddr = closed_port_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let http = direct()
        .connect_to("down.test:80", &closed.to_string())
        .connect_to("nowhere.test:80", "v6-only.test:80")
        .resolve("v6-only.test", 80, ["::1"])
        .ip_version(IpVersion::V4)
        .build()
        .unwrap();
    match error(&http.request("http://down.test/").0) {
        Error::Connect { authority, to, .. } => {
            assert_eq!(authority, "down.test:80");
            assert_eq!(to, Some(closed.to_string()));
        }
        e => panic!("{}", e.chain()),
    }
    // The target has no IPv4 address: the target is what was not found.
    match error(&http.request("http://nowhere.test/").0) {
        e @ Error::ServerNotFound { .. } => {
            let chain = e.chain();
            assert!(chain.contains("v6-only.test"), "{chain}");
            assert!(chain.contains("no IPv4 address"), "{chain}");
        }
        e => panic!("{}", e.chain()),
    }
}

#[test]
fn the_ip_version_chooses_the_family_for_a_client_and_a_request() {
    let (server, _v4_refuses) = Server::ipv6_only(|_| Reply::ok("over IPv6"));
    let port = server.port();
    let url = format!("http://dual.test:{port}/");
    let client = |version| {
        direct()
            .resolve("dual.test", port, ["127.0.0.1", "::1"])
            .ip_version(version)
            .build()
            .unwrap()
    };
    let (v6, v4, any) = (
        client(IpVersion::V6),
        client(IpVersion::V4),
        client(IpVersion::Any),
    );
    assert_eq!(body(&v6.request(&url).1), b"over IPv6");
    assert_eq!(body(&any.request(&url).1), b"over IPv6");
    let e = error(&v4.request(&url).0);
    assert!(matches!(e, Error::Connect { .. }), "{}", e.chain());

    // A request's own choice, in place of its client's.
    let own = |version| Request::get(url.as_str()).ip_version(version);
    assert_eq!(body(&v4.send(own(IpVersion::V6)).1), b"over IPv6");
    let e = error(&v6.send(own(IpVersion::V4)).0);
    assert!(matches!(e, Error::Connect { .. }), "{}", e.chain());
    assert_eq!(server.hits(), 3);
}

/// A listener on `addr` that never answers: its accept queue (of one: `listen(0)`) is full
/// of connections it never accepts, so Linux drops every SYN that comes after. Connects
/// to it until one times out, which proves it full.
struct Unanswering {
    _listener: Socket,
    _queued: Vec<TcpStream>,
}

fn unanswering(addr: SocketAddr) -> io::Result<Unanswering> {
    let listener = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        listener.set_only_v6(true)?;
    }
    listener.bind(&addr.into())?;
    listener.listen(0)?;
    let mut queued = Vec::new();
    for _ in 0..8 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(stream) => queued.push(stream),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                return Ok(Unanswering {
                    _listener: listener,
                    _queued: queued,
                });
            }
            Err(e) => return Err(e),
        }
    }
    panic!("the accept queue of {addr} never filled");
}

/// A server on 127.0.0.1, and a listener that never answers on `silent` on its port.
fn server_beside_silence(silent: IpAddr) -> (Server, Unanswering) {
    for _ in 0..5 {
        let server = Server::start(|_| Reply::ok("answered"));
        match unanswering(SocketAddr::new(silent, server.port())) {
            Ok(hole) => return (server, hole),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
            Err(e) => panic!("{silent} must be usable for this test: {e}"),
        }
    }
    panic!("no port free on both {silent} and 127.0.0.1");
}

/// How long `http` takes to get `url`'s body, which must be `answered`.
fn answered_in(http: &Http, url: &str) -> Duration {
    let started = Instant::now();
    assert_eq!(body(&http.request(url).1), b"answered");
    started.elapsed()
}

#[test]
fn happy_eyeballs_reach_the_address_that_answers_within_the_connect_timeout() {
    let ipv6: IpAddr = "::1".parse().unwrap();
    let (server, _silent) = server_beside_silence(ipv6);
    let port = server.port();
    let url = format!("http://race.test:{port}/");
    let connect = Duration::from_secs(5);
    // Alone, the silent address costs the whole connect timeout.
    let alone = direct()
        .connect_timeout(connect)
        .resolve("race.test", port, ["::1"])
        .build()
        .unwrap();
    let started = Instant::now();
    let e = error(&alone.request(&url).0);
    assert_eq!(
        e.timeout_kind(),
        Some(TimeoutKind::Connect),
        "{}",
        e.chain()
    );
    assert!(started.elapsed() >= connect, "{:?}", started.elapsed());
    // Beside an IPv4 address that answers, libcurl starts that one 200 ms after the
    // silent IPv6 one (which it tries first), and it wins the race.
    let raced = direct()
        .connect_timeout(connect)
        .resolve("race.test", port, ["::1", "127.0.0.1"])
        .build()
        .unwrap();
    let took = answered_in(&raced, &url);
    assert!(took < connect, "{took:?}");
    eprintln!("happy eyeballs across families: answered in {took:?}");

    // Within a family: the second address starts 200 ms after the first.
    let v4_silent: IpAddr = "127.0.0.2".parse().unwrap();
    let (server, _silent) = server_beside_silence(v4_silent);
    let port = server.port();
    let raced = direct()
        .connect_timeout(connect)
        .resolve("race4.test", port, ["127.0.0.2", "127.0.0.1"])
        .build()
        .unwrap();
    let took = answered_in(&raced, &format!("http://race4.test:{port}/"));
    assert!(took < connect, "{took:?}");
    eprintln!("happy eyeballs within IPv4: answered in {took:?}");
}

#[test]
fn every_dns_cache_lifetime_reaches_libcurl() {
    let server = Server::start(|_| Reply::ok("cached or not"));
    let port = server.port();
    for lifetime in [
        Duration::ZERO,
        Duration::from_millis(1),
        Duration::from_secs(5),
        Duration::MAX,
    ] {
        let http = direct()
            .dns_cache(lifetime)
            .resolve("cache.test", port, ["127.0.0.1"])
            // A name looked up by the crate, kept for as long as libcurl keeps its own.
            .connect_to("target.test:80", &format!("localhost:{port}"))
            .ip_version(IpVersion::V4)
            .build()
            .unwrap();
        for url in [
            format!("http://cache.test:{port}/"),
            format!("http://cache.test:{port}/again"),
            "http://target.test/".to_owned(),
            "http://target.test/again".to_owned(),
        ] {
            assert_eq!(
                body(&http.request(&url).1),
                b"cached or not",
                "{lifetime:?}"
            );
        }
    }
    assert_eq!(server.hits(), 16);
}

#[cfg(unix)]
#[test]
fn a_mock_answers_whatever_the_connection_settings_say() {
    use asynchttp::{MockResponse, MockTransport};
    let mock = MockTransport::new(|_| MockResponse::ok(vec![b'x'; 100]));
    let http = Http::builder()
        .mock(mock.clone())
        .unix_socket("/nonexistent/asynchttp.sock")
        .ip_version(IpVersion::V6)
        .max_download_speed(1) // 100 bytes would take 99 s, paced
        .build()
        .unwrap();
    assert_eq!(body(&http.request("http://localhost/").1).len(), 100);
    // What can be checked is checked all the same.
    let empty = Request::get("http://localhost/").unix_socket("");
    let e = error(&http.send(empty).0);
    assert!(matches!(e, Error::InvalidRequest { .. }), "{}", e.chain());
    assert_eq!(mock.requests().len(), 1);
}
