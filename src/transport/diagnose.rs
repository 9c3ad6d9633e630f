//! libcurl's own account of a failed connection.
//!
//! isahc keeps only the libcurl code of a failed transfer, not the text libcurl wrote for it,
//! and one code covers failures a caller needs told apart: an unknown CA and a certificate
//! for another host are both 60, a proxy that is down and one that answered the `CONNECT`
//! with 407 are both 7. So the connection is made once more with libcurl alone, up to the
//! point where it is made (`CONNECT_ONLY`: no request is sent, nothing reaches the server),
//! to read libcurl's text and the proxy's answer to the `CONNECT`. Only failures of the
//! handshake or the tunnel are looked at again, and the result is used only if the same
//! failure comes back.
//!
//! The second look blocks for up to [`LOOK_LIMIT`], so it runs on a thread of its own,
//! `asynchttp-diagnose`, and the request awaits it: a driver running many requests must
//! not stop for one that failed. Such failures are rare, and the thread ends with the look
//! even if the request was given up meanwhile.

use std::thread;
use std::time::Duration;

use isahc::http::Uri;
use url::Url;

use super::connect::{Resolve, Route};
use super::tls::TlsSettings;
use crate::logs;

/// The longest the second look takes, whatever the request's timeout.
const LOOK_LIMIT: Duration = Duration::from_secs(5);

/// What the second connection ran into.
#[derive(Debug)]
pub(crate) struct Diagnosis {
    /// libcurl's code for it.
    pub(crate) code: u32,
    /// libcurl's text for it, such as `CONNECT tunnel failed, response 407`, without the
    /// name of a C function it may start with.
    pub(crate) detail: Option<String>,
    /// The status the proxy answered the `CONNECT` with, if it answered.
    pub(crate) proxy_status: Option<u16>,
}

/// Connects to `url` again as the failed request did (through `proxy`, verifying as `tls`
/// says, along `route` with the client's `resolve` map), within `timeout` and
/// [`LOOK_LIMIT`], on a thread of its own. `None` if the connection was made this time,
/// or the look could not be made.
pub(crate) async fn connect_again(
    url: &Url,
    proxy: Option<&Uri>,
    tls: &TlsSettings,
    (resolve, route): (&Resolve, &Route),
    timeout: Duration,
) -> Option<Diagnosis> {
    let (url, proxy, tls) = (url.clone(), proxy.cloned(), tls.clone());
    let (resolve, route) = (resolve.clone(), route.clone());
    let (seen, look) = flume::bounded(1);
    let started = thread::Builder::new()
        .name("asynchttp-diagnose".into())
        .spawn(move || {
            let way = (&resolve, &route);
            // The request may have been given up meanwhile: then no one reads this.
            let _ = seen.send(look_again(&url, proxy.as_ref(), &tls, way, timeout));
        });
    if let Err(e) = started {
        logs::debug!("no second look at a failed connection: no thread for it: {e}");
        return None;
    }
    look.recv_async().await.ok().flatten()
}

/// [`connect_again`] on the calling thread, which it blocks.
fn look_again(
    url: &Url,
    proxy: Option<&Uri>,
    tls: &TlsSettings,
    (resolve, route): (&Resolve, &Route),
    timeout: Duration,
) -> Option<Diagnosis> {
    let limit = timeout.min(LOOK_LIMIT);
    let mut easy = curl::easy::Easy::new();
    let setup = (|| {
        easy.url(url.as_str())?;
        easy.connect_only(true)?;
        easy.connect_timeout(limit)?;
        easy.timeout(limit)?;
        // As isahc: an empty proxy also keeps libcurl from reading proxy variables.
        easy.proxy(&proxy.map(Uri::to_string).unwrap_or_default())?;
        route.configure(&mut easy, resolve)?;
        tls.configure(&mut easy)
    })();
    if let Err(e) = setup {
        logs::debug!("second look at a failed connection not set up: {e}");
        return None;
    }
    let error = easy.perform().err()?;
    let proxy_status = easy
        .http_connectcode()
        .ok()
        .and_then(|code| u16::try_from(code).ok())
        .filter(|code| *code != 0);
    Some(Diagnosis {
        code: error.code(),
        detail: error.extra_description().map(without_function_name),
        proxy_status,
    })
}

/// libcurl's TLS texts can start with the function that failed
/// (`rustls_connection_process_new_packets: invalid peer certificate: UnknownIssuer`),
/// which tells a reader nothing.
fn without_function_name(text: &str) -> String {
    match text.split_once(": ") {
        Some((name, rest))
            if name.contains('_')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
        {
            rest.to_owned()
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_are_dropped_from_the_text() {
        assert_eq!(
            without_function_name(
                "rustls_connection_process_new_packets: invalid peer certificate: UnknownIssuer"
            ),
            "invalid peer certificate: UnknownIssuer"
        );
        for kept in [
            "CONNECT tunnel failed, response 407",
            "SSL certificate problem: unable to get local issuer certificate",
            "Failed to connect to 127.0.0.1 port 9 after 0 ms: Could not connect to server",
        ] {
            assert_eq!(without_function_name(kept), kept);
        }
    }

    /// A port with nothing listening: the code libcurl gives isahc, and its text.
    #[test]
    fn a_refused_connection_is_described() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("https://{}/", listener.local_addr().unwrap())).unwrap();
        drop(listener);
        let tls = TlsSettings::default();
        let way = (&Resolve::default(), &Route::default());
        let look = connect_again(&url, None, &tls, way, Duration::from_secs(10));
        let seen = futures_lite::future::block_on(look).unwrap();
        assert_eq!(seen.code, 7, "{seen:?}");
        assert!(seen.detail.is_some_and(|d| !d.is_empty()));
        assert_eq!(seen.proxy_status, None);
    }
}
