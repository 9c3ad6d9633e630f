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

/// The second look at a failed handshake blocks for as long as the server lets it, up to
/// a few seconds: it must not hold up the requests running beside it. Sixteen slow
/// requests are in flight on the drivers when a handshake fails and its second look
/// hangs; each of them is answered, and read, while that look still hangs.
#[test]
fn a_second_look_at_a_failed_handshake_holds_up_no_other_request() {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    let slow = Server::start(|_| Reply::ok("slow").delay(Duration::from_millis(500)));
    let http = Http::builder()
        .workers(32)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let in_flight: Vec<_> = (0..16).map(|_| http.request(&slow.url("/"))).collect();
    eventually("every slow request received", || slow.hits() == 16);

    // Not TLS: the first handshake fails at once; the second look's connection is held
    // open, silent, until the test ends.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (looking, look_started) = mpsc::channel();
    thread::spawn(move || {
        let mut held = Vec::new();
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            if n == 0 {
                let mut hello = [0u8; 512];
                let _ = stream.read(&mut hello);
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            } else {
                let _ = looking.send(());
                held.push(stream);
            }
        }
    });
    let broken = http.request(&format!("https://{addr}/"));
    look_started
        .recv_timeout(BOUND)
        .expect("a second look at the failed handshake");

    for (response, content) in &in_flight {
        assert_eq!(wait(response).unwrap().status, 200);
        assert_eq!(body(content), b"slow");
    }
    assert!(
        !LazyResponse::is_ready(&broken.0),
        "the slow requests waited for the second look to end"
    );
    assert!(matches!(error(&broken.0), Error::Tls { .. }));
}
