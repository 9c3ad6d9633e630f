//! The builder's settings for names and addresses: names pinned to addresses, how long
//! libcurl keeps what a name resolved to, and which address family connections use.

use std::time::Duration;

use super::HttpBuilder;
use crate::transport::connect::IpVersion;

impl HttpBuilder {
    /// Pins `host` on `port` to `addresses`, as curl's `--resolve host:port:addr[,addr]`:
    /// connections to that name and port go to those addresses without asking DNS, while
    /// the URL, the `Host` header, the TLS server name and the certificate check keep the
    /// name. For a test against a local server that has a real name and certificate, or a
    /// migration tried on the new machine before DNS moves
    /// ([`guide::connect`](crate::guide::connect)).
    ///
    /// An address is IPv4 or IPv6, the latter with or without brackets (`"::1"`,
    /// `"[::1]"`). Several are raced as libcurl races a name's DNS answers, one that does
    /// not answer costing 200 ms rather than the connect timeout (happy eyeballs, in
    /// [`guide::connect`](crate::guide::connect)). `host` `"*"` pins every name on `port` (curl's wildcard); a name's own entry comes
    /// first. A host and port given again replace the addresses they were given before,
    /// as a second `--resolve` of them does in curl. The names a client pins hold for
    /// every request of it, whatever [`dns_cache`](Self::dns_cache) says; a
    /// [`connect_to`](Self::connect_to) target given as a name is looked up here first.
    ///
    /// [`build`](Self::build) fails with [`Error::Init`](crate::Error::Init) for a host
    /// that is not a name (empty, an address, or with characters no host has), port 0, no
    /// address, or a text that is not an IP address.
    ///
    /// ```
    /// use asynchttp::{Http, ProxyInfo};
    ///
    /// // https://staging.example.com/ reaches 127.0.0.1:8443, and its certificate is
    /// // still checked for staging.example.com.
    /// let http = Http::builder()
    ///     .resolve("staging.example.com", 8443, ["127.0.0.1"])
    ///     .resolve("api.example.com", 443, ["10.0.0.7", "fd00::7"])
    ///     .proxy_info(ProxyInfo::none()) // a proxy would resolve the name itself
    ///     .build()?;
    /// # drop(http);
    /// let refused = Http::builder().resolve("api.example.com", 443, ["10.0.0.300"]).build();
    /// assert!(matches!(refused, Err(asynchttp::Error::Init { .. })));
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn resolve<A: AsRef<str>>(
        mut self,
        host: &str,
        port: u16,
        addresses: impl IntoIterator<Item = A>,
    ) -> Self {
        let addresses = addresses
            .into_iter()
            .map(|a| a.as_ref().to_owned())
            .collect();
        self.connect
            .resolve
            .push((host.to_owned(), port, addresses));
        self
    }

    /// How long libcurl keeps what a name resolved to, so that new connections to it
    /// skip DNS (libcurl's `CURLOPT_DNS_CACHE_TIMEOUT`). Default 60 seconds, libcurl's.
    ///
    /// Zero keeps nothing: every new connection resolves its name again (kept-alive
    /// connections are reused as ever), for a name whose addresses change under a
    /// failover. `Duration::MAX` (or anything from a year up) keeps names for as long as
    /// the client lives; any other lifetime is rounded up to whole seconds, as libcurl
    /// counts. Names pinned with [`resolve`](Self::resolve) are kept whatever this says;
    /// [`connect_to`](Self::connect_to) targets given as names, which the crate looks up
    /// itself, are kept as long as this says.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // Follow a failover within seconds.
    /// let http = asynchttp::Http::builder().dns_cache(Duration::from_secs(5)).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn dns_cache(mut self, lifetime: Duration) -> Self {
        self.connect.dns_cache = Some(lifetime);
        self
    }

    /// Which addresses connections use: [`IpVersion::V4`] only (curl's `-4`),
    /// [`IpVersion::V6`] only (`-6`), or [`IpVersion::Any`], the default, where libcurl
    /// races the two families (happy eyeballs: see
    /// [`guide::connect`](crate::guide::connect)). A name with no address of the family
    /// asked for fails with [`Error::ServerNotFound`](crate::Error::ServerNotFound).
    ///
    /// [`Request::ip_version`](crate::Request::ip_version) sets it for one request, in
    /// place of the client's.
    ///
    /// ```
    /// use asynchttp::{Http, IpVersion};
    ///
    /// // A network whose IPv6 routes are broken: IPv4 alone.
    /// let http = Http::builder().ip_version(IpVersion::V4).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn ip_version(mut self, version: IpVersion) -> Self {
        self.connect.ip_version = version;
        self
    }
}
