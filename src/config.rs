//! [`Config`]: every setting of an `Http`, as its builder checked it, fixed from then on.
//! What changes while the client runs (its connections, credentials, cache, cookie jar,
//! retry budget, host lines, shutdown gate) is live state, kept beside it in the client's `Engine`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::HostLimits;
use crate::cache::flow::Rules;
use crate::deadline::Floor;
use crate::hooks::Hooks;
use crate::netrc::Netrc;
use crate::redirect::Policy;
use crate::retry::{Retry, RetryBudget};
use crate::transport::Settings;

/// The settings of an `Http`, made once by `HttpBuilder::build` after every one of them
/// was checked, and only read after that: a request reads its client's defaults here.
///
/// Each is kept as the client follows it, which is not always as it was given: a total
/// timeout beyond a year is a year, a retry policy of no retries is none, and the connect
/// timeout is libcurl's (whole milliseconds, within the total timeout).
///
/// Its `Debug` shows every setting, and so `Debug for Http` does: a proxy's password and
/// user name never appear (see `ProxyInfo`'s `Debug`), a `.netrc` read shows as its file
/// and how many entries it has, and credentials and client certificates are not settings:
/// they are added to the running client.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// What the transport is made with (connections, connect timeout, proxies, TLS, body
    /// limit, user agent, timings); the transport shares it.
    pub(crate) transport: Arc<Settings>,
    /// A request's whole budget, unless it sets its own; see `Deadline`. `None` when the
    /// builder set none: then the default total timeout, unless an idle timeout or a
    /// minimum speed is set.
    pub(crate) timeout: Option<Duration>,
    /// How long each exchange may receive nothing, unless the request sets its own.
    pub(crate) idle_timeout: Option<Duration>,
    /// The speed each exchange's body must keep up, unless the request sets its own.
    pub(crate) min_speed: Option<Floor>,
    pub(crate) redirects: Policy,
    pub(crate) force_exception_to_status_code: bool,
    pub(crate) cache: Caching,
    /// What the cache follows: `ignore_etag`, `stale_if_error`.
    pub(crate) cache_rules: Rules,
    /// Whether the client keeps cookies; the jar itself is live state.
    pub(crate) cookies: bool,
    /// What a request without a retry policy of its own follows; `None` for no retries.
    pub(crate) retry: Option<Arc<Retry>>,
    /// How many retries the client makes at most; the balance is live state.
    pub(crate) retry_budget: RetryBudget,
    pub(crate) per_host: HostLimits,
    /// What every request runs at each step, before its own; each hook by its name.
    pub(crate) hooks: Hooks,
    /// The `.netrc` read when the client was built, when one was asked for and found.
    pub(crate) netrc: Option<Arc<Netrc>>,
}

/// Where responses are cached, as the builder was told; the store itself is live state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caching {
    Off,
    /// Files in this directory; off, with a warning in the log, if it cannot be used.
    Dir(PathBuf),
    /// A [`Cache`](crate::Cache) given to the builder.
    Store,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::{
        HostLimits, Http, IpVersion, MemoryCache, ProxyInfo, Retry, RetryBudget, TlsVersion,
    };

    #[test]
    fn debug_of_http_shows_every_setting_and_no_password() {
        let netrc = std::env::temp_dir().join(format!("asynchttp-debug-{}", std::process::id()));
        std::fs::write(&netrc, "machine api.test login dave password netrc-pw-4\n").unwrap();
        let s = Duration::from_secs;
        let proxy = ProxyInfo::from_url("http://alice:proxy-pw-1@proxy.test:3128")
            .unwrap()
            .no_proxy("direct.test");
        let limits = HostLimits::new()
            .in_flight(61)
            .host("api.test", HostLimits::new().rate(3.5, 1).adaptive(true));
        let http = Http::builder()
            .workers(3)
            .timeout(s(41))
            .idle_timeout(s(42))
            .min_speed(4343, s(44))
            .connect_timeout(s(7))
            .max_body_size(45_454)
            .user_agent("debug-probe/4.6")
            .follow_redirects(false)
            .follow_all_redirects(true)
            .redirect_codes([302, 399])
            .forward_authorization_headers(true)
            .force_exception_to_status_code(true)
            .proxy_info(proxy)
            .ca_certs(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .disable_ssl_certificate_validation(true)
            .tls_minimum_version(TlsVersion::Tls13)
            .cache_store(Arc::new(MemoryCache::new()))
            .ignore_etag(true)
            .stale_if_error(s(48))
            .cookies(true)
            .retry(Retry::new(4))
            .retry_budget(RetryBudget::new(0.5, 47))
            .per_host(limits)
            .timings(true)
            .netrc_file(&netrc)
            .resolve("pinned.test", 4949, ["127.0.0.50", "::50"])
            .connect_to("moved.test:443", "[::51]:8443")
            .dns_cache(s(52))
            .ip_version(IpVersion::V6)
            .max_download_speed(5353)
            .max_upload_speed(5454)
            .build()
            .unwrap();
        std::fs::remove_file(&netrc).unwrap();
        http.add_credentials("bob", "server-pw-2", "");
        http.add_credentials("carol", "server-pw-3", "api.test");
        http.add_certificate("/keys/client.key", "/keys/client.pem", "api.test");
        let shown = format!("{http:?}");

        for setting in [
            "connections: 3",
            "timeout: Some(41s)",
            "idle_timeout: Some(42s)",
            "bytes_per_second: 4343, over: 44s",
            "connect_timeout: 7s",
            "max_body_size: 45454",
            "\"debug-probe/4.6\"",
            "follow: false",
            "follow_all: true",
            "codes: [302, 399]",
            "forward_authorization: true",
            "force_exception_to_status_code: true",
            "http://proxy.test:3128",
            "\"direct.test\"",
            "Cargo.toml",
            "insecure: true",
            "Tls13",
            "cache: Store",
            "ignore_etag: true",
            "stale_if_error: Some(48s)",
            "cookies: true",
            "retries: 4",
            "ratio: 0.5, reserve: 47",
            "Some(61)",
            "\"api.test\"",
            "3.5",
            "timings: true",
            "asynchttp-debug-",
            "entries: 1",
            "\"pinned.test\", port: 4949",
            "127.0.0.50, ::50",
            "\"moved.test\"",
            "Ipv6(::51)",
            "Some(8443)",
            "Seconds(52)",
            "ip_version: V6",
            "download: Some(5353), upload: Some(5454)",
            // The live state beside the settings.
            "WorkerPool { size: 3",
            "CookieJar { cookies: 0 }",
            "held_by_hosts: 0",
            "shut_down: false",
        ] {
            assert!(shown.contains(setting), "{setting} not in {shown}");
        }
        for secret in [
            "proxy-pw-1",
            "alice",
            "server-pw-2",
            "server-pw-3",
            "bob",
            "carol",
            "netrc-pw-4",
            "dave",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
