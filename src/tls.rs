//! TLS settings of an `Http` (httplib2's `ca_certs`, `disable_ssl_certificate_validation`,
//! `tls_minimum_version`) and its client certificates (`add_certificate`).

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use isahc::tls::{Identity, PrivateKey, ProtocolVersion, TlsConfig, TrustStore};
use url::Url;

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
}

/// A client certificate and its key (PEM files), for one host.
#[derive(Debug, Clone)]
pub(crate) struct ClientCertificate {
    key: PathBuf,
    cert: PathBuf,
    /// Lower-cased `host` or `host:port`; empty for any host.
    domain: String,
}

/// The client certificates added to an `Http`; the first that matches a host is used.
#[derive(Debug, Default)]
pub(crate) struct Certificates {
    all: Mutex<Vec<ClientCertificate>>,
}

impl Certificates {
    pub(crate) fn add(&self, key: PathBuf, cert: PathBuf, domain: &str) {
        self.all
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ClientCertificate {
                key,
                cert,
                domain: domain.trim().to_ascii_lowercase(),
            });
    }

    /// The certificate for an https URL, if one was added for its host.
    pub(crate) fn for_url(&self, url: &Url) -> Option<ClientCertificate> {
        if url.scheme() != "https" {
            return None;
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let with_port = format!("{host}:{}", url.port_or_known_default().unwrap_or(443));
        self.all
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|c| c.domain.is_empty() || c.domain == host || c.domain == with_port)
            .cloned()
    }
}
