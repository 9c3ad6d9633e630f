//! Proxies (HTTPLIB2.md §b.5): through a forward proxy on loopback, for http and https, with
//! proxy credentials that never reach the server behind it, and no_proxy.

use asynchttp::ProxyInfo;

use crate::support::*;
use crate::tls::Pki;

#[test]
fn plain_http_goes_through_the_proxy_in_absolute_form() {
    let proxy = Proxy::start();
    let server = Server::start(|req| Reply::ok(format!("origin saw {}", req.url)));
    let http = Http::builder()
        .proxy_info(ProxyInfo::from_url(&proxy.url()).unwrap())
        .build()
        .unwrap();
    assert_eq!(
        body(&http.request(&server.url("/via?x=1")).1),
        b"origin saw /via?x=1"
    );
    assert_eq!(
        proxy.seen(),
        [(format!("GET {}", server.url("/via?x=1")), false)]
    );
}

#[test]
fn https_is_tunnelled_and_proxy_credentials_stay_with_the_proxy() {
    let pki = Pki::new("proxied");
    let server = pki.server(&["127.0.0.1"], false, false, false);
    let proxy = Proxy::start();
    let with_user = proxy.url().replace("http://", "http://puser:ppass@");
    let http = Http::builder()
        .proxy_info(ProxyInfo::from_url(&with_user).unwrap())
        .ca_certs(pki.ca_file())
        .build()
        .unwrap();
    assert_eq!(
        body(&http.request(&server.https_url("/secret")).1),
        b"secure"
    );
    let seen = proxy.seen();
    let authority = server
        .https_url("")
        .trim_start_matches("https://")
        .to_owned();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].0.starts_with(&format!("CONNECT {authority}")),
        "{seen:?}"
    );
    assert!(seen[0].1, "the proxy got its credentials");
    let at_origin = server.received();
    assert_eq!(at_origin.len(), 1);
    assert!(at_origin[0].header("proxy-authorization").is_none());
    assert!(at_origin[0].header("authorization").is_none());
}

#[test]
fn no_proxy_hosts_go_direct() {
    let proxy = Proxy::start();
    let server = Server::start(|_| Reply::ok("direct"));
    let info = ProxyInfo::from_url(&proxy.url())
        .unwrap()
        .no_proxy("example.com, 127.0.0.1,");
    let http = Http::builder().proxy_info(info).build().unwrap();
    assert_eq!(body(&http.request(&server.url("/")).1), b"direct");
    assert!(proxy.seen().is_empty());
}

#[test]
fn a_dead_proxy_is_a_connect_error() {
    let http = Http::builder()
        .proxy_info(ProxyInfo::from_url(&closed_port_url()).unwrap())
        .build()
        .unwrap();
    let server = Server::start(|_| Reply::ok("unreached"));
    assert!(matches!(
        error(&http.request(&server.url("/")).0),
        Error::Connect { .. }
    ));
    assert_eq!(server.hits(), 0);
}

#[test]
fn socks5_with_credentials_reaches_the_server() {
    let socks = Socks5::start("suser", "spass");
    let server = Server::start(|req| Reply::ok(format!("via socks {}", req.url)));
    let http = Http::builder()
        .proxy_info(ProxyInfo::from_url(&socks.url("suser", "spass")).unwrap())
        .build()
        .unwrap();
    assert_eq!(body(&http.request(&server.url("/s")).1), b"via socks /s");
    assert_eq!(socks.tunnelled(), 1);
    let seen = &server.received()[0];
    assert!(seen.header("proxy-authorization").is_none() && seen.header("authorization").is_none());

    let refused = Http::builder()
        .proxy_info(ProxyInfo::from_url(&socks.url("suser", "wrong")).unwrap())
        .build()
        .unwrap();
    assert!(LazyResponse::wait(&refused.request(&server.url("/s")).0).is_err());
    assert_eq!(
        server.hits(),
        1,
        "nothing got through with the wrong password"
    );
}
