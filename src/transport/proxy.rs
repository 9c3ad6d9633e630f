//! Proxies, as httplib2's `proxy_info`: from `http_proxy`, `https_proxy` and `no_proxy` by
//! default, or given on the builder.

use std::fmt;

use isahc::http::Uri;
use url::Url;

use crate::Error;

/// Which proxy each request goes through, if any (httplib2's `ProxyInfo`).
///
/// ```
/// use asynchttp::{Http, ProxyInfo};
///
/// let proxy = ProxyInfo::from_url("http://user:pass@proxy.internal:3128")?
///     .no_proxy("localhost, .internal");
/// assert!(proxy.bypasses("db.internal"));
/// assert!(!proxy.bypasses("example.com"));
/// let http = Http::builder().proxy_info(proxy).build()?;
/// # drop(http);
/// # Ok::<(), asynchttp::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ProxyInfo {
    http: Option<Uri>,
    https: Option<Uri>,
    /// Lower-cased `no_proxy` entries; `*` bypasses every host.
    bypass: Vec<String>,
    /// Loopback hosts go direct: set for proxies taken from the environment.
    direct_loopback: bool,
}

impl ProxyInfo {
    /// No proxy: every request goes straight to its server.
    pub fn none() -> Self {
        ProxyInfo::default()
    }

    /// From the environment, as httplib2's `proxy_info_from_environment`: `http_proxy` (or
    /// `HTTP_PROXY`) for http URLs, `https_proxy` (or `HTTPS_PROXY`) for https URLs, and the
    /// hosts of `no_proxy` (or `NO_PROXY`) go direct, and so do loopback hosts (`localhost`,
    /// `127.0.0.0/8`, `::1`), which a proxy set for a whole machine is not meant for. A
    /// value that does not parse is ignored. This is the default of
    /// [`HttpBuilder`](crate::HttpBuilder).
    pub fn from_environment() -> Self {
        ProxyInfo::from_vars(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |lower: &str| {
            get(lower)
                .or_else(|| get(&lower.to_ascii_uppercase()))
                .filter(|v| !v.trim().is_empty())
        };
        let parse = |value: Option<String>| value.and_then(|v| proxy_uri(&v).ok());
        let info = ProxyInfo {
            http: parse(var("http_proxy")),
            https: parse(var("https_proxy")),
            bypass: Vec::new(),
            direct_loopback: true,
        };
        match var("no_proxy") {
            Some(list) => info.no_proxy(&list),
            None => info,
        }
    }

    /// One proxy for every request (httplib2's `proxy_info_from_url`): `http://`,
    /// `socks4://`, `socks5://` or `socks5h://`, with optional `user:password@`, which go to
    /// the proxy only, never to a server behind it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] if the URL does not parse or has another scheme.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let uri = proxy_uri(url)?;
        Ok(ProxyInfo {
            http: Some(uri.clone()),
            https: Some(uri),
            bypass: Vec::new(),
            direct_loopback: false,
        })
    }

    /// Hosts that go direct, comma-separated: a host name matches itself, `.example.com`
    /// matches it and every subdomain, `*` matches everything. `bar` does not match
    /// `foobar`. Empty entries are ignored.
    pub fn no_proxy(mut self, list: &str) -> Self {
        self.bypass = list
            .split(',')
            .map(|entry| entry.trim().to_ascii_lowercase())
            .filter(|entry| !entry.is_empty())
            .collect();
        self
    }

    /// True if requests to `host` go direct.
    pub fn bypasses(&self, host: &str) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback && self.direct_loopback {
            return true;
        }
        let dotted = format!(".{}", host.trim_start_matches('.'));
        self.bypass.iter().any(|entry| {
            entry == "*"
                || (entry.starts_with('.') && dotted.ends_with(entry.as_str()))
                || dotted[1..] == *entry
        })
    }

    /// The proxy for a request to `url`; `None` goes direct.
    pub(crate) fn for_url(&self, url: &Url) -> Option<Uri> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            _ => self.http.as_ref(),
        }?;
        if self.bypasses(url.host_str().unwrap_or_default()) {
            return None;
        }
        Some(proxy.clone())
    }
}

/// A proxy URL; one given without a scheme is http.
fn proxy_uri(text: &str) -> Result<Uri, Error> {
    let text = text.trim();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let uri: Uri = with_scheme
        .parse()
        .map_err(|e| Error::invalid(format!("bad proxy URL: {e}")))?;
    match uri.scheme_str() {
        Some("http" | "socks4" | "socks4a" | "socks5" | "socks5h") if uri.host().is_some() => {
            Ok(uri)
        }
        _ => Err(Error::invalid(
            "proxy URL must be http, socks4 or socks5 with a host",
        )),
    }
}

/// Shows where each kind of request goes, never the proxy's password.
impl fmt::Debug for ProxyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |uri: &Option<Uri>| {
            uri.as_ref().map(|u| {
                let host = u.host().unwrap_or_default();
                match u.port_u16() {
                    Some(port) => format!("{}://{host}:{port}", u.scheme_str().unwrap_or("http")),
                    None => format!("{}://{host}", u.scheme_str().unwrap_or("http")),
                }
            })
        };
        f.debug_struct("ProxyInfo")
            .field("http", &shown(&self.http))
            .field("https", &shown(&self.https))
            .field("no_proxy", &self.bypass)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> ProxyInfo {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxyInfo::from_vars(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn via(info: &ProxyInfo, url: &str) -> Option<String> {
        info.for_url(&Url::parse(url).unwrap())
            .map(|u| u.to_string())
    }

    #[test]
    fn environment_variables_by_scheme() {
        let info = env(&[
            ("http_proxy", "proxy:3128"),
            ("HTTPS_PROXY", "http://secure:8443"),
        ]);
        assert_eq!(
            via(&info, "http://example.com/").as_deref(),
            Some("http://proxy:3128/")
        );
        assert_eq!(
            via(&info, "https://example.com/").as_deref(),
            Some("http://secure:8443/")
        );
        assert_eq!(via(&env(&[]), "http://example.com/"), None);
        assert_eq!(
            via(&env(&[("http_proxy", "ftp://x")]), "http://example.com/"),
            None
        );
    }

    #[test]
    fn no_proxy_rules_as_httplib2() {
        let info = env(&[
            ("http_proxy", "proxy:3128"),
            ("no_proxy", "bar, .wild.card,"),
        ]);
        assert!(info.bypasses("bar"));
        assert!(!info.bypasses("foobar"));
        assert!(info.bypasses("foo.wild.card"));
        assert!(info.bypasses("wild.card"));
        assert!(!info.bypasses("wild.cards"));
        assert!(info.bypasses("BAR"));
        assert_eq!(via(&info, "http://bar/"), None);
        assert!(via(&info, "http://baz/").is_some());
        let all = env(&[("http_proxy", "proxy:3128"), ("NO_PROXY", "*")]);
        assert_eq!(via(&all, "http://anything.example/"), None);
    }

    #[test]
    fn loopback_goes_direct_unless_the_proxy_was_given() {
        let info = env(&[("http_proxy", "proxy:3128")]);
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"] {
            assert!(info.bypasses(host), "{host}");
        }
        assert!(!info.bypasses("10.0.0.1"));
        let given = ProxyInfo::from_url("http://proxy:3128").unwrap();
        assert!(!given.bypasses("127.0.0.1"));
    }

    #[test]
    fn bad_proxy_urls_and_debug_hides_passwords() {
        assert!(ProxyInfo::from_url("ftp://proxy").is_err());
        assert!(ProxyInfo::from_url("http://").is_err());
        let info = ProxyInfo::from_url("socks5://user:secret@proxy:1080").unwrap();
        let shown = format!("{info:?}");
        assert!(
            shown.contains("socks5://proxy:1080") && !shown.contains("secret"),
            "{shown}"
        );
    }
}
