//! The builder's settings for where connections go instead of the URL's host and port:
//! connect-to entries and a Unix socket.

use super::HttpBuilder;

impl HttpBuilder {
    /// Sends the requests for `from` (`HOST:PORT`) to `to` (`HOST:PORT`) instead, as
    /// curl's `--connect-to HOST1:PORT1:HOST2:PORT2`: the connection goes to `to`, while
    /// the URL, the `Host` header, the TLS server name and the certificate check keep the
    /// URL's. For one backend of several behind a load balancer, or a staging server
    /// answering for the production name.
    ///
    /// Either part may be empty, as curl allows: an empty host or port of `from` matches
    /// any (`":443"`, `"api.example.com:"`, `":"` for every request), and an empty one of
    /// `to` keeps the URL's (`":8443"`: the same host on another port). An IPv6 address
    /// goes in brackets (`"[::1]:8443"`). The first entry that matches a URL applies, to
    /// each redirect hop as it is made. Through an http proxy, libcurl asks the proxy for a
    /// tunnel to the target (`CONNECT`), for plain http too.
    ///
    /// A target given as a name is looked up by the crate, since isahc hands libcurl a
    /// target as an address only: in the [`resolve`](Self::resolve) map first, then among
    /// the answers it kept (for the [`dns_cache`](Self::dns_cache)'s lifetime), then by the
    /// system's resolver, on a thread of its own (`asynchttp-resolve`) that the request
    /// awaits within its connect timeout: no driver waits on DNS, and a burst of requests
    /// to one target waits on one lookup. The first address of
    /// the [`ip_version`](Self::ip_version) asked for is used; unlike a name libcurl
    /// resolves, a target's addresses are not raced, so pin the name, or give an address,
    /// to choose it.
    ///
    /// [`build`](Self::build) fails with [`Error::Init`](crate::Error::Init) for a text that
    /// is not `HOST:PORT`, port 0, a host no URL could have, a target that changes neither
    /// host nor port, or entries on a client with a [`unix_socket`](Self::unix_socket). A
    /// request fails with [`Error::ServerNotFound`](crate::Error::ServerNotFound) naming a
    /// target that does not resolve, with [`Error::Timeout`](crate::Error::Timeout) of
    /// [`TimeoutKind::Connect`](crate::TimeoutKind::Connect) when its lookup outlasts the
    /// connect timeout, and with [`Error::Connect`](crate::Error::Connect) whose `to` names
    /// the target when that cannot be reached.
    ///
    /// ```
    /// use asynchttp::Http;
    ///
    /// let http = Http::builder()
    ///     // This backend, for the production name and its certificate.
    ///     .connect_to("shop.example.com:443", "10.0.3.12:443")
    ///     // Every other request on port 80 to a local cache, by name.
    ///     .connect_to(":80", "cache.internal:3128")
    ///     .build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn connect_to(mut self, from: &str, to: &str) -> Self {
        self.connect
            .connect_to
            .push((from.to_owned(), to.to_owned()));
        self
    }

    /// Sends every request over the Unix socket at `path`, as curl's `--unix-socket`: the
    /// URL (`http://localhost/v1.43/containers/json`) says what the server is asked for,
    /// and the socket is the connection. For Docker's API and other local daemons. Unix
    /// only.
    ///
    /// A request's redirects, retries and answers to a 401 go over the socket too, and
    /// requests keep their connections on it alive and share them, as over TCP. Proxies,
    /// [`resolve`](Self::resolve) and connect-to entries do not apply to it (libcurl
    /// leaves them aside for a socket), so [`build`](Self::build) refuses a client with
    /// both this and [`connect_to`](Self::connect_to), and an empty path or one longer
    /// than a socket's address holds (107 bytes), with
    /// [`Error::Init`](crate::Error::Init). Whether the socket is there is seen when each
    /// request is sent: a request whose socket is missing fails with
    /// [`Error::Connect`](crate::Error::Connect), its `to` `unix:` and the path, and the
    /// system's reason as its source.
    ///
    /// [`Request::unix_socket`](crate::Request::unix_socket) sets it for one request, in
    /// place of the client's socket and connect-to entries.
    ///
    /// ```no_run
    /// let docker = asynchttp::Http::builder().unix_socket("/var/run/docker.sock").build()?;
    /// let (response, content) = docker.request("http://localhost/v1.43/containers/json");
    /// println!("{} {}", response.status, content);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn unix_socket(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.connect.unix_socket = Some(path.into());
        self
    }
}
