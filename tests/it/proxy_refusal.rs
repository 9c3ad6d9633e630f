//! A proxy that will not open the tunnel: the error names the proxy and its answer, not the
//! server behind it; a plain http request through it gets the proxy's answer as a response.

use asynchttp::ProxyInfo;

use crate::support::*;

/// A proxy that answers everything with `status_line` and an empty body, and the
/// `host:port` it listens on.
fn refusing_proxy(status_line: &'static str) -> (RawServer, String) {
    let proxy = RawServer::start(move |stream| {
        let reply = format!(
            "HTTP/1.1 {status_line}\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n"
        );
        send(stream, reply.as_bytes());
    });
    let authority = proxy
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    (proxy, authority)
}

fn through(authority: &str) -> Http {
    let info = ProxyInfo::from_url(&format!("http://{authority}")).unwrap();
    Http::builder().proxy_info(info).build().unwrap()
}

#[test]
fn a_407_to_the_connect_names_the_proxy_and_the_status() {
    let (proxy, authority) = refusing_proxy("407 Proxy Authentication Required");
    let http = through(&authority);
    let e = error(&http.request("https://origin.test/secret").0);
    match &e {
        Error::Proxy {
            proxy,
            target,
            status,
            ..
        } => {
            assert_eq!(
                (proxy.as_str(), target.as_str(), *status),
                (authority.as_str(), "origin.test:443", Some(407))
            );
        }
        other => panic!("not a proxy error: {}", other.chain()),
    }
    assert_eq!(
        e.to_string(),
        format!(
            "the proxy {authority} refused the tunnel to origin.test:443: 407 Proxy Authentication Required"
        )
    );
    let heads = proxy.heads();
    assert!(!heads.is_empty());
    assert!(
        heads
            .iter()
            .all(|h| h.starts_with("CONNECT origin.test:443 HTTP/1.1\r\n")),
        "only tunnels were asked for: {heads:?}"
    );
}

#[test]
fn a_502_to_the_connect_is_a_proxy_error_too() {
    let (_proxy, authority) = refusing_proxy("502 Bad Gateway");
    let e = error(&through(&authority).request("https://origin.test/").0);
    assert!(
        matches!(
            e,
            Error::Proxy {
                status: Some(502),
                ..
            }
        ),
        "{}",
        e.chain()
    );
    assert!(e.to_string().ends_with(": 502 Bad Gateway"), "{e}");
}

#[test]
fn plain_http_through_the_refusing_proxy_gets_its_407_as_a_response() {
    let (proxy, authority) = refusing_proxy("407 Proxy Authentication Required");
    let (response, content) = through(&authority).request("http://origin.test/page");
    let response = wait(&response).unwrap();
    assert_eq!(response.status, 407);
    assert_eq!(
        response.get("proxy-authenticate"),
        Some(r#"Basic realm="x""#)
    );
    assert_eq!(body(&content), b"");
    assert_eq!(proxy.heads().len(), 1);
    assert!(proxy.heads()[0].starts_with("GET http://origin.test/page HTTP/1.1\r\n"));
}

#[test]
fn a_proxy_that_cannot_be_reached_is_named_with_the_server() {
    let dead = closed_port_url();
    let authority = dead.trim_start_matches("http://").trim_end_matches('/');
    let http = through(authority);
    for url in ["https://origin.test/", "http://origin.test/"] {
        let e = error(&http.request(url).0);
        match &e {
            Error::Connect {
                authority: server,
                proxy,
                ..
            } => {
                assert_eq!(proxy.as_deref(), Some(authority), "{url}");
                assert!(server.starts_with("origin.test:"), "{url}: {server}");
            }
            other => panic!("{url}: {}", other.chain()),
        }
        assert!(
            e.to_string()
                .ends_with(&format!("through the proxy {authority}")),
            "{e}"
        );
    }
}

#[test]
fn a_socks_proxy_that_refuses_the_credentials_is_a_proxy_error() {
    let socks = Socks5::start("suser", "spass");
    let server = Server::start(|_| Reply::ok("unreached"));
    let info = ProxyInfo::from_url(&socks.url("suser", "wrong")).unwrap();
    let http = Http::builder().proxy_info(info).build().unwrap();
    let e = error(&http.request(&server.url("/")).0);
    let target = server
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    match &e {
        Error::Proxy {
            target: to,
            status: None,
            ..
        } => assert_eq!(to, &target),
        other => panic!("not a proxy error: {}", other.chain()),
    }
    assert_eq!(socks.tunnelled(), 0);
    assert_eq!(server.hits(), 0);
}
