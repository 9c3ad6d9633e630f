//! TLS settings of an `Http` (httplib2's `ca_certs`, `disable_ssl_certificate_validation`,
//! `tls_minimum_version`) and its client certificates (`add_certificate`).

use std::path::PathBuf;
use std::sync::Mutex;

use crate::sync;
use isahc::tls::{Identity, PrivateKey, ProtocolVersion, TlsConfig, TrustStore};
use url::Url;

use crate::origin::Domain;

/// The lowest TLS version a connection may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

/// How an `Http` verifies servers.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsSettings {
    pub(crate) ca_certs: Option<PathBuf>,
    pub(crate) insecure: bool,
    pub(crate) min_version: Option<TlsVersion>,
}

impl TlsSettings {
    /// The configuration for connections, with a client certificate when one applies.
    pub(crate) fn config(&self, identity: Option<&ClientCertificate>) -> TlsConfig {
        let mut builder = TlsConfig::builder();
        if let Some(path) = &self.ca_certs {
            builder = builder.trust_store(TrustStore::from_file(path.clone()));
        }
        if let Some(version) = self.min_version {
            builder = builder.min_version(match version {
                TlsVersion::Tls12 => ProtocolVersion::Tlsv12,
                TlsVersion::Tls13 => ProtocolVersion::Tlsv13,
            });
        }
        if self.insecure {
            builder = builder
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hosts(true);
        }
        if let Some(cert) = identity {
            let key = PrivateKey::from_pem_file(cert.key.clone(), None);
            builder = builder.identity(Identity::from_pem_file(cert.cert.clone(), Some(key)));
        }
        builder.build()
    }

    /// The server verification of [`TlsSettings::config`] on a bare libcurl handle, for a
    /// failed handshake made again (see `diagnose`): the CA file, or else the roots isahc
    /// uses by default in its rustls build (`SSL_CERT_FILE`, else the platform's), the
    /// minimum version and the checks. No client certificate: the server's is checked first.
    pub(crate) fn configure(&self, easy: &mut curl::easy::Easy) -> Result<(), curl::Error> {
        let mut options = curl::easy::SslOpt::new();
        let file = self.ca_certs.clone().or_else(|| {
            std::env::var_os("SSL_CERT_FILE")
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        });
        match file {
            Some(path) => easy.cainfo(path)?,
            None => {
                options.native_ca(true);
            }
        }
        easy.ssl_options(&options)?;
        easy.ssl_verify_peer(!self.insecure)?;
        easy.ssl_verify_host(!self.insecure)?;
        if let Some(version) = self.min_version {
            let min = match version {
                TlsVersion::Tls12 => curl::easy::SslVersion::Tlsv12,
                TlsVersion::Tls13 => curl::easy::SslVersion::Tlsv13,
            };
            easy.ssl_min_max_version(min, curl::easy::SslVersion::Default)?;
        }
        Ok(())
    }
}

/// A client certificate and its key (PEM files), for one host.
#[derive(Debug, Clone)]
pub(crate) struct ClientCertificate {
    key: PathBuf,
    cert: PathBuf,
    /// Unnamed for any host.
    domain: Domain,
}

/// The client certificates added to an `Http`; the first that matches a host is used.
#[derive(Debug, Default)]
pub(crate) struct Certificates {
    all: Mutex<Vec<ClientCertificate>>,
}

impl Certificates {
    pub(crate) fn add(&self, key: PathBuf, cert: PathBuf, domain: &str) {
        sync::lock(&self.all).push(ClientCertificate {
            key,
            cert,
            domain: Domain::new(domain),
        });
    }

    /// The certificate for an https URL, if one was added for its host.
    pub(crate) fn for_url(&self, url: &Url) -> Option<ClientCertificate> {
        if url.scheme() != "https" {
            return None;
        }
        sync::lock(&self.all)
            .iter()
            .find(|c| c.domain.is_unnamed() || c.domain.names(url))
            .cloned()
    }
}
