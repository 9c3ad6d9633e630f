//! A request's own values for where and how fast it connects, in place of its client's:
//! the address family, a Unix socket and bandwidth caps. Their rules are on the builder's
//! methods of the same names.

use crate::transport::connect::{ConnectOverrides, IpVersion};

use super::Request;

impl Request {
    /// This request's [`HttpBuilder::ip_version`](crate::HttpBuilder::ip_version), in
    /// place of the client's; the rules are there.
    ///
    /// ```
    /// use asynchttp::{IpVersion, Request};
    ///
    /// let req = Request::get("http://dual-stack.example/").ip_version(IpVersion::V6);
    /// # drop(req);
    /// ```
    pub fn ip_version(mut self, version: IpVersion) -> Self {
        self.overrides().ip_version = Some(version);
        self
    }

    /// This request's [`HttpBuilder::unix_socket`](crate::HttpBuilder::unix_socket), in
    /// place of the client's; the rules are there. Its redirects, retries and answers to
    /// a 401 go over the socket too. An empty path, or one too long for a socket, fails
    /// the request with [`Error::InvalidRequest`](crate::Error::InvalidRequest) before
    /// anything is sent.
    ///
    /// ```
    /// let req = asynchttp::Request::get("http://localhost/v1.43/containers/json")
    ///     .unix_socket("/var/run/docker.sock");
    /// # drop(req);
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn unix_socket(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.overrides().unix_socket = Some(path.into());
        self
    }

    /// This request's [`HttpBuilder::max_download_speed`](crate::HttpBuilder::max_download_speed),
    /// in place of the client's; the rules are there. 0 lifts the client's cap for it.
    ///
    /// ```
    /// // At most 512 KiB a second, as `curl --limit-rate 512k`.
    /// let req = asynchttp::Request::get("http://127.0.0.1/big.iso").max_download_speed(512 << 10);
    /// # drop(req);
    /// ```
    pub fn max_download_speed(mut self, bytes_per_second: u64) -> Self {
        self.overrides().rates.download = Some(bytes_per_second);
        self
    }

    /// This request's [`HttpBuilder::max_upload_speed`](crate::HttpBuilder::max_upload_speed),
    /// in place of the client's; the rules are there. 0 lifts the client's cap for it.
    ///
    /// ```
    /// use asynchttp::{Body, Request};
    ///
    /// let req = Request::new("PUT", "http://127.0.0.1/backups/db.tar")
    ///     .body(Body::file("db.tar"))
    ///     .max_upload_speed(1 << 20);
    /// # drop(req);
    /// ```
    pub fn max_upload_speed(mut self, bytes_per_second: u64) -> Self {
        self.overrides().rates.upload = Some(bytes_per_second);
        self
    }

    fn overrides(&mut self) -> &mut ConnectOverrides {
        self.connect.get_or_insert_with(Box::default)
    }
}
