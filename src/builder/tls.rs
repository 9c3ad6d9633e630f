//! The builder's settings for where and how to connect securely: proxies, the CA
//! certificates trusted, certificate validation and the oldest TLS version accepted.

use std::path::PathBuf;

use super::HttpBuilder;
use crate::transport::proxy::ProxyInfo;
use crate::transport::tls::TlsVersion;

impl HttpBuilder {
    /// The proxies requests go through (httplib2's `proxy_info`). By default
    /// [`ProxyInfo::from_environment`], read when the client is built; loopback hosts
    /// always go direct. [`ProxyInfo::none`] turns proxies off.
    ///
    /// ```
    /// use asynchttp::{Http, ProxyInfo};
    ///
    /// let direct = Http::builder().proxy_info(ProxyInfo::none()).build()?;
    /// # drop(direct);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn proxy_info(mut self, proxy: ProxyInfo) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Trust the CA certificates in this PEM file instead of the platform's roots
    /// (httplib2's `ca_certs`).
    ///
    /// ```no_run
    /// let http = asynchttp::Http::builder().ca_certs("/etc/my-ca.pem").build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn ca_certs(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca_certs = Some(path.into());
        self
    }

    /// Accept any server certificate, for any host (httplib2's
    /// `disable_ssl_certificate_validation`). Only for testing: anyone on the path can
    /// then read and change the traffic. Default false.
    ///
    /// ```
    /// let http = asynchttp::Http::builder().disable_ssl_certificate_validation(true).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn disable_ssl_certificate_validation(mut self, disable: bool) -> Self {
        self.tls.insecure = disable;
        self
    }

    /// The lowest TLS version to accept (httplib2's `tls_minimum_version`). By default the
    /// TLS library's own minimum, TLS 1.2.
    ///
    /// ```
    /// use asynchttp::{Http, TlsVersion};
    ///
    /// let http = Http::builder().tls_minimum_version(TlsVersion::Tls13).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn tls_minimum_version(mut self, version: TlsVersion) -> Self {
        self.tls.min_version = Some(version);
        self
    }
}
