//! A TLS failure says which it is: libcurl's reason for a certificate from an unknown CA,
//! for one of another host and for an expired one, in the error's message.

use crate::support::*;
use crate::tls::Pki;

/// The message of the error a request to `server` fails with, which must be a TLS failure
/// with a reason; no request may get through.
fn tls_message(http: &Http, server: &Server) -> String {
    let e = error(&http.request(&server.https_url("/")).0);
    assert!(
        matches!(
            e,
            Error::Tls {
                reason: Some(_),
                ..
            }
        ),
        "{}",
        e.chain()
    );
    assert_eq!(server.hits(), 0);
    e.to_string()
}

#[test]
fn an_unknown_ca_a_wrong_host_and_an_expired_certificate_read_differently() {
    let pki = Pki::new("reasons");
    let unknown = Pki::new("reasons-other").server(&["127.0.0.1"], false, false, false);
    let wrong_host = pki.server(&["elsewhere.example"], false, false, false);
    let expired = pki.server(&["127.0.0.1"], true, false, false);
    let http = Http::builder().ca_certs(pki.ca_file()).build().unwrap();

    let unknown = tls_message(&http, &unknown);
    let wrong_host = tls_message(&http, &wrong_host);
    let expired = tls_message(&http, &expired);
    // rustls says UnknownIssuer / NotValidForName / Expired; OpenSSL "unable to get local
    // issuer certificate" / "no alternative certificate subject name matches" / "certificate
    // has expired".
    let lower = |s: &str| s.to_ascii_lowercase();
    assert!(lower(&unknown).contains("issuer"), "{unknown}");
    assert!(
        lower(&wrong_host).contains("name") && !lower(&wrong_host).contains("issuer"),
        "{wrong_host}"
    );
    assert!(lower(&expired).contains("expired"), "{expired}");
    assert!(unknown.starts_with("TLS failure: "), "{unknown}");
    assert_ne!(unknown, wrong_host);
    assert_ne!(wrong_host, expired);
}

#[test]
fn a_server_below_the_minimum_version_says_so() {
    let pki = Pki::new("reasons-version");
    let tls12 = pki.server(&["127.0.0.1"], false, false, false);
    let http = Http::builder()
        .ca_certs(pki.ca_file())
        .tls_minimum_version(asynchttp::TlsVersion::Tls13)
        .build()
        .unwrap();
    let message = tls_message(&http, &tls12);
    assert!(lower_contains(&message, "version"), "{message}");
}

fn lower_contains(text: &str, part: &str) -> bool {
    text.to_ascii_lowercase().contains(part)
}
