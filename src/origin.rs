//! Every rule that decides where something may go by the URL it goes to: two URLs share
//! an origin (credentials and origin-bound headers across redirects, the cache's
//! invalidation), a `domain` given by the caller names a URL's host (credentials,
//! client certificates), the keys and `host:port` texts made from a URL, and the host a
//! caller's text names (per-host limits).
//!
//! An origin is scheme, host and port, the default port made explicit (RFC 6454): `http://h`
//! and `http://h:80` are one origin, `https://h` another. Hosts compare as the URL parser
//! left them: lower-cased, IDNA-encoded, IPv6 in brackets.

use url::Url;

/// Same scheme, host and port.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// `scheme://host:port`, equal for two URLs exactly when [`same_origin`] holds.
pub(crate) fn key(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// `host:port` of a URL, the port always explicit.
pub(crate) fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The host a caller's text names, as [`authority`] names a request's host: `host:port`,
/// or the host alone (any port) when the text gives no port. The text is an http or https
/// URL (its port, or its scheme's default; its path is not looked at), `host:port`, or
/// `host`; hosts as the URL parser leaves them (lower-cased, IDNA-encoded, IPv6 in
/// brackets). `Err` says why the text names no host.
pub(crate) fn host_key(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.contains("://") {
        let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{text:?} is not an http or https URL"));
        }
        return Ok(authority(&url));
    }
    let not_a_host = |why: &str| format!("{text:?} is not a URL, host or host:port: {why}");
    // The parser would take "/api" for the host "api", and "h:" for "h": a host and port
    // are nothing more.
    if text.is_empty() || text.ends_with(':') || text.contains(['/', '\\', '?', '#', '@']) {
        return Err(not_a_host(
            "expected a host name or address, then :port if any",
        ));
    }
    let url = Url::parse(&format!("http://{text}/")).map_err(|e| not_a_host(&e.to_string()))?;
    let host = url.host_str().unwrap_or_default();
    // The parser drops a port that is http's default: read it back from the text.
    let port = url
        .port()
        .or_else(|| text.rsplit_once(':').and_then(|(_, p)| p.parse().ok()));
    Ok(match port {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// A `domain` as the caller gives it to `add_credentials` or `add_certificate`: `"host"`
/// names the host on any port, `"host:port"` the host on that port only; `""` names no
/// host in particular, and each user says what that means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Domain(String);

impl Domain {
    pub(crate) fn new(domain: &str) -> Self {
        Domain(domain.trim().to_ascii_lowercase())
    }

    /// True for `""`.
    pub(crate) fn is_unnamed(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether this names the host of `url` (and its port, when it gives one). An unnamed
    /// domain names nothing.
    pub(crate) fn names(&self, url: &Url) -> bool {
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return false;
        };
        match self.0.strip_prefix(host) {
            Some("") => true,
            Some(port) => {
                port.strip_prefix(':').and_then(|p| p.parse::<u16>().ok())
                    == url.port_or_known_default()
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let a = url("http://h/");
        assert!(same_origin(&a, &url("http://h:80/x")));
        assert!(same_origin(&a, &url("HTTP://H/")));
        assert!(!same_origin(&a, &url("https://h/")));
        assert!(!same_origin(&a, &url("http://h:81/")));
        assert!(!same_origin(&a, &url("http://g/")));
        assert_eq!(key(&a), "http://h:80");
        assert_eq!(authority(&url("https://h/p?q")), "h:443");
    }

    #[test]
    fn domains_name_a_host_or_a_host_and_port() {
        let host = Domain::new(" B.Example ");
        assert!(host.names(&url("http://b.example/")));
        assert!(host.names(&url("https://b.example:8443/")));
        assert!(!host.names(&url("http://a.b.example/")));
        assert!(!host.names(&url("http://b.example.evil/")));
        let port = Domain::new("b.example:8080");
        assert!(port.names(&url("http://b.example:8080/")));
        assert!(!port.names(&url("http://b.example/")));
        assert!(!port.names(&url("http://b.example:808/")));
        assert!(Domain::new("b.example:443").names(&url("https://b.example/")));
        assert!(Domain::new("[::1]:8080").names(&url("http://[::1]:8080/")));
        let unnamed = Domain::new("");
        assert!(unnamed.is_unnamed());
        assert!(!unnamed.names(&url("http://b.example/")));
    }

    #[test]
    fn a_hosts_text_is_a_url_a_host_and_port_or_a_host() {
        for (text, key) in [
            ("http://127.0.0.1:18101", "127.0.0.1:18101"),
            ("http://127.0.0.1:18101/api?q=1", "127.0.0.1:18101"),
            ("HTTPS://API.Example.com/", "api.example.com:443"),
            ("http://h", "h:80"),
            ("http://[::1]:8080/", "[::1]:8080"),
            ("127.0.0.1:18101", "127.0.0.1:18101"),
            (" Search.Example.com:443 ", "search.example.com:443"),
            ("h:80", "h:80"),
            ("h:080", "h:80"),
            ("h", "h"),
            ("[::1]", "[::1]"),
            ("[::1]:80", "[::1]:80"),
            ("b\u{fc}cher.example", "xn--bcher-kva.example"),
        ] {
            assert_eq!(host_key(text).as_deref(), Ok(key), "{text}");
        }
        for text in [
            "",
            "  ",
            "/api",
            "h/api",
            "h:",
            "h:99999",
            "h:port",
            "h:-1",
            "::1",
            "user@h",
            "h?x",
            "h#x",
            "a b",
            "ftp://h/",
            "http://",
            "http://h:99999/",
        ] {
            let e = host_key(text).unwrap_err();
            assert!(e.starts_with(&format!("{:?} is not ", text.trim())), "{e}");
        }
        // A URL names the same host as a request to it does.
        let url = url("http://Example.COM/x");
        assert_eq!(host_key(url.as_str()), Ok(authority(&url)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// same_origin is an equivalence, and the key says the same.
        #[test]
        fn same_origin_is_an_equivalence_and_key_agrees(
            a in "(http|https|HTTP)://(a|b|A)\\.example(:(80|443|8080))?/[a-z]{0,3}",
            b in "(http|https)://(a|b)\\.example(:(80|443|8080))?/[a-z]{0,3}",
            c in "(http|https)://(a|b)\\.example(:(80|443|8080))?/",
        ) {
            let (a, b, c) = (url(&a), url(&b), url(&c));
            proptest::prop_assert!(same_origin(&a, &a));
            proptest::prop_assert_eq!(same_origin(&a, &b), same_origin(&b, &a));
            if same_origin(&a, &b) && same_origin(&b, &c) {
                proptest::prop_assert!(same_origin(&a, &c));
            }
            proptest::prop_assert_eq!(same_origin(&a, &b), key(&a) == key(&b));
        }

        /// A domain names a URL only when its host is the URL's host exactly, and its port,
        /// when it gives one, the URL's port: never a longer or shorter host.
        #[test]
        fn a_domain_names_exactly_its_host(
            domain in "(a|b|ab|a\\.b)(\\.example)?(:(80|443|8080|x|))?",
            target in "(http|https)://(a|b|ab|a\\.b)(\\.example)?(:(80|443|8080))?/",
        ) {
            let url = url(&target);
            let named = Domain::new(&domain).names(&url);
            let host = url.host_str().unwrap();
            let expected = match domain.split_once(':') {
                None => domain == host,
                Some((h, p)) => h == host && p.parse::<u16>().ok() == url.port_or_known_default(),
            };
            proptest::prop_assert_eq!(named, expected, "{} for {}", domain, url);
        }
    }
}
