//! TLS (HTTPLIB2.md §c.7, RELIABILITY.md R9) against a loopback rustls server whose CA and
//! certificates are made at test time.

use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};

use asynchttp::TlsVersion;

use crate::support::*;

/// A CA, and files in a directory of this test's own.
pub struct Pki {
    ca: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    dir: PathBuf,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own: a CA named as the trusted one would fail on its signature, not
        // as an unknown issuer.
        params
            .distinguished_name
            .push(DnType::CommonName, format!("asynchttp test CA {name}"));
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let dir = std::env::temp_dir().join(format!("asynchttp-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), cert.pem()).unwrap();
        Pki {
            ca: Issuer::new(params, key),
            ca_der: cert.der().clone(),
            dir,
        }
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A certificate for `names`, signed by the CA; `expired` puts its validity in the past.
    fn leaf(&self, names: &[&str], expired: bool) -> (CertificateDer<'static>, KeyPair) {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        (cert.der().clone(), key)
    }

    /// A server for `names`; with `client_auth`, it requires a certificate from this CA.
    pub fn server(
        &self,
        names: &[&str],
        expired: bool,
        client_auth: bool,
        tls13_only: bool,
    ) -> Server {
        let (cert, key) = self.leaf(names, expired);
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let versions: &[&rustls::SupportedProtocolVersion] = if tls13_only {
            &[&rustls::version::TLS13]
        } else {
            &[&rustls::version::TLS12]
        };
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .unwrap();
        let builder = if client_auth {
            let mut roots = RootCertStore::empty();
            roots.add(self.ca_der.clone()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let config = builder.with_single_cert(vec![cert], key).unwrap();
        Server::with_tls(Some(Arc::new(config)), |_| Reply::ok("secure"))
    }

    /// A server configuration for `names` (TLS 1.2 and 1.3) that offers `alpn` in its order
    /// of preference: `["h2", "http/1.1"]` for a server that speaks HTTP/2.
    pub fn config(&self, names: &[&str], alpn: &[&str]) -> Arc<ServerConfig> {
        let (cert, key) = self.leaf(names, false);
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Arc::new(config)
    }

    /// PEM files of a client certificate from this CA: (key, cert).
    fn client_files(&self) -> (PathBuf, PathBuf) {
        let (cert, key) = self.leaf(&["client"], false);
        let (key_path, cert_path) = (self.dir.join("client.key"), self.dir.join("client.pem"));
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64_lines(&cert)
        );
        std::fs::write(&cert_path, pem).unwrap();
        (key_path, cert_path)
    }
}

fn base64_lines(der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    text.as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_tls(e: &Error) -> bool {
    matches!(e, Error::Tls { .. })
}

#[test]
fn a_server_from_a_trusted_ca_is_reached_over_https() {
    let pki = Pki::new("ok");
    let server = pki.server(&["localhost", "127.0.0.1"], false, false, false);
    let http = Http::builder().ca_certs(pki.ca_file()).build().unwrap();
    let (response, content) = http.request(&server.https_url("/"));
    assert_eq!(body(&content), b"secure");
    assert_eq!(wait(&response).unwrap().url, server.https_url("/"));
}

#[test]
fn r9_unknown_ca_wrong_host_and_expired_fail_with_tls_every_time() {
    let pki = Pki::new("bad");
    let unknown = Pki::new("unknown").server(&["127.0.0.1"], false, false, false);
    let wrong_host = pki.server(&["elsewhere.example"], false, false, false);
    let expired = pki.server(&["127.0.0.1"], true, false, false);
    let http = Http::builder().ca_certs(pki.ca_file()).build().unwrap();
    for (what, server) in [
        ("unknown CA", &unknown),
        ("wrong host", &wrong_host),
        ("expired", &expired),
    ] {
        // Twice: a connection whose verification failed is never pooled and reused.
        for attempt in 0..2 {
            let (response, content) = http.request(&server.https_url("/"));
            let e = error(&response);
            assert!(is_tls(&e), "{what} #{attempt}: {}", e.chain());
            assert!(LazyContent::wait(&content).is_err());
        }
        assert_eq!(server.hits(), 0, "{what}: no request got through");
    }
}

#[test]
fn disabling_validation_is_opt_in_and_stays_with_its_client() {
    let pki = Pki::new("insecure");
    let server = pki.server(&["elsewhere.example"], false, false, false);
    let insecure = Http::builder()
        .disable_ssl_certificate_validation(true)
        .build()
        .unwrap();
    assert_eq!(body(&insecure.request(&server.https_url("/")).1), b"secure");
    let verifying = Http::builder().ca_certs(pki.ca_file()).build().unwrap();
    assert!(is_tls(&error(&verifying.request(&server.https_url("/")).0)));
}

#[test]
fn client_certificates_are_sent_to_their_domain() {
    let pki = Pki::new("mtls");
    let server = pki.server(&["127.0.0.1"], false, true, false);
    let http = Http::builder().ca_certs(pki.ca_file()).build().unwrap();
    let e = error(&http.request(&server.https_url("/")).0);
    assert!(
        matches!(e, Error::Tls { .. } | Error::BodyIncomplete { .. }),
        "{}",
        e.chain()
    );
    let (key, cert) = pki.client_files();
    http.add_certificate(&key, &cert, "elsewhere.example");
    assert!(LazyResponse::wait(&http.request(&server.https_url("/")).0).is_err());
    http.add_certificate(&key, &cert, "127.0.0.1");
    assert_eq!(body(&http.request(&server.https_url("/")).1), b"secure");
}

#[test]
fn a_minimum_version_refuses_older_servers() {
    let pki = Pki::new("version");
    let tls12 = pki.server(&["127.0.0.1"], false, false, false);
    let http = Http::builder()
        .ca_certs(pki.ca_file())
        .tls_minimum_version(TlsVersion::Tls13)
        .build()
        .unwrap();
    assert!(is_tls(&error(&http.request(&tls12.https_url("/")).0)));
    let tls13 = pki.server(&["127.0.0.1"], false, false, true);
    assert_eq!(body(&http.request(&tls13.https_url("/")).1), b"secure");
}

#[test]
fn a_missing_ca_file_fails_the_build() {
    let built = Http::builder().ca_certs("/nonexistent/ca.pem").build();
    assert!(matches!(built, Err(Error::Init { .. })));
}
