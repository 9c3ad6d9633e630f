//! Every failure of an exchange, mapped to a typed [`Error`]. isahc folds libcurl's codes
//! into broad kinds and keeps neither a failed handshake's reason nor the status a proxy
//! refused a tunnel with, so those are learnt here, by the code and a second look
//! ([`diagnose`]). A mock's failures map to the same variants, with the same fields.

use std::io;
use std::sync::Arc;

use isahc::error::ErrorKind;
use isahc::http::Uri;
use url::Url;

use super::Settings;
use super::connect::{Resolve, Route};
use super::diagnose;
use crate::deadline::{Deadline, Phase};
use crate::mock::Fault;
use crate::{Error, origin};

/// What was being sent when it failed.
#[derive(Clone, Copy)]
pub(super) struct Sent<'a> {
    pub(super) settings: &'a Settings,
    pub(super) url: &'a Url,
    /// Where it went.
    pub(super) route: &'a Route,
    /// The request had a client certificate of its own.
    pub(super) own_certificate: bool,
    pub(super) deadline: &'a Deadline,
}

impl Sent<'_> {
    /// The proxy the exchange went through, if any.
    fn proxy(&self) -> Option<Uri> {
        if self.route.bypasses_proxies() {
            return None;
        }
        self.settings.proxy.for_url(self.url)
    }

    /// The client's resolve map and the exchange's route, for a second look.
    fn way(&self) -> (&Resolve, &Route) {
        (&self.settings.connect.resolve, self.route)
    }
}

/// The typed error for a request that failed before its response's head was whole.
pub(super) async fn classify(e: isahc::Error, sent: &Sent<'_>) -> Error {
    let url = sent.url;
    let code = curl_code(&e);
    let source = Arc::new(e);
    match source.kind() {
        _ if code == Some(curl_codes::TOO_LARGE) => Error::HeadersTooLarge { source },
        // isahc files a failed handshake under "connection failed".
        _ if code == Some(curl_codes::SSL_CONNECT) => Error::Tls {
            reason: tls_reason(code, sent).await,
            source,
        },
        // A SOCKS proxy refused (isahc: "unknown").
        _ if code == Some(curl_codes::PROXY) => match sent.proxy() {
            Some(proxy) => Error::Proxy {
                proxy: proxy_authority(&proxy),
                target: origin::authority(url),
                status: None,
                source,
            },
            None => Error::Transport { source },
        },
        // The connection broke after it was made, before the response was whole: a reset
        // while sending or receiving, an empty reply, framing that broke in the head, or a
        // close right after the head, before any of the body (isahc then reports the
        // failure in place of the head, so the announced length is not known).
        _ if matches!(
            code,
            Some(
                curl_codes::PARTIAL_FILE
                    | curl_codes::SEND_ERROR
                    | curl_codes::GOT_NOTHING
                    | curl_codes::RECV_ERROR
                    | curl_codes::SEND_FAIL_REWIND
            )
        ) =>
        {
            broke_before_head(source)
        }
        ErrorKind::NameResolution => not_found(sent, source),
        ErrorKind::ConnectionFailed => match refused_tunnel(code, sent).await {
            Some((proxy, status)) => Error::Proxy {
                proxy,
                target: origin::authority(url),
                status: Some(status),
                source,
            },
            None => unreachable(sent, source),
        },
        ErrorKind::Timeout => sent.deadline.timed_out(phase(&source, sent)),
        ErrorKind::BadServerCertificate
        | ErrorKind::BadClientCertificate
        | ErrorKind::TlsEngine
        | ErrorKind::InvalidTlsConfiguration => Error::Tls {
            reason: tls_reason(code, sent).await,
            source,
        },
        _ => Error::Transport { source },
    }
}

/// The typed error for a mock's failure: the variant, and the fields, that the failure it
/// stands for gets from libcurl; the source is isahc's error of that kind.
pub(super) fn mocked(fault: Fault, sent: &Sent<'_>) -> Error {
    let source = |kind: ErrorKind| Arc::new(isahc::Error::from(kind));
    match fault {
        Fault::Refused => unreachable(sent, source(ErrorKind::ConnectionFailed)),
        Fault::NotFound => not_found(sent, source(ErrorKind::NameResolution)),
        Fault::Timeout => sent.deadline.timed_out(Phase::Connected),
        Fault::ConnectTimeout => sent.deadline.timed_out(Phase::Connecting {
            connect: sent.settings.connect_timeout,
        }),
        Fault::Tls(reason) => Error::Tls {
            reason,
            source: source(ErrorKind::TlsEngine),
        },
        // libcurl's "empty reply from server", which isahc calls a protocol violation.
        Fault::Closed => broke_before_head(source(ErrorKind::ProtocolViolation)),
        Fault::Panicked(_) => Error::Callback {
            message: fault.to_string(),
            source: None,
        },
        // As a server's answer libcurl cannot read: isahc's unknown error.
        Fault::Malformed(_) => Error::Transport {
            source: Arc::new(isahc::Error::from(io::Error::new(
                io::ErrorKind::InvalidData,
                fault.to_string(),
            ))),
        },
    }
}

/// The connection broke before the head was whole: no byte of the body, no known length.
fn broke_before_head(source: Arc<isahc::Error>) -> Error {
    Error::BodyIncomplete {
        received: 0,
        expected: None,
        source,
    }
}

/// The request's host did not resolve.
fn not_found(sent: &Sent<'_>, source: Arc<isahc::Error>) -> Error {
    Error::ServerNotFound {
        host: sent.url.host_str().unwrap_or_default().to_owned(),
        source,
    }
}

/// No connection could be made to the request's server, or to its proxy.
fn unreachable(sent: &Sent<'_>, source: Arc<isahc::Error>) -> Error {
    let source = match sent.route.socket_missing() {
        Some(missing) => Arc::new(isahc::Error::from(missing)),
        None => source,
    };
    Error::Connect {
        authority: origin::authority(sent.url),
        proxy: sent.proxy().map(|p| proxy_authority(&p)),
        to: sent.route.shown(),
        source,
    }
}

/// Why a handshake failed, in libcurl's words, for a server certificate that did not verify
/// or a handshake that broke off; `None` if the second look does not meet the same failure.
/// A request with a client certificate of its own is looked at again only for the server's
/// certificate: the second look sends none, so a broken handshake could break differently.
async fn tls_reason(code: Option<u32>, sent: &Sent<'_>) -> Option<String> {
    let Sent {
        settings,
        url,
        own_certificate,
        deadline,
        ..
    } = *sent;
    let code = code?;
    let server_certificate = code == curl_codes::PEER_FAILED_VERIFICATION;
    if !(server_certificate || (code == curl_codes::SSL_CONNECT && !own_certificate)) {
        return None;
    }
    let proxy = sent.proxy();
    // Within the request's own deadline: no time left, no second look.
    let timeout = deadline.left().ok()?;
    let tls = &settings.tls;
    let seen = diagnose::connect_again(url, proxy.as_ref(), tls, sent.way(), timeout).await?;
    if seen.code != code {
        return None;
    }
    seen.detail
}

/// The proxy (`host:port`) and the status it answered an https request's `CONNECT` with,
/// when that status refused the tunnel: libcurl reports it as a failed connection, as it
/// does a proxy that is down, and isahc keeps neither its text nor the status.
async fn refused_tunnel(code: Option<u32>, sent: &Sent<'_>) -> Option<(String, u16)> {
    let Sent {
        settings,
        url,
        deadline,
        ..
    } = *sent;
    if code != Some(curl_codes::COULDNT_CONNECT) || url.scheme() != "https" {
        return None;
    }
    // Only an http proxy tunnels with CONNECT; plain http goes through it as a request,
    // and a refusal of that is a response.
    let proxy = sent.proxy().filter(|p| p.scheme_str() == Some("http"))?;
    let timeout = deadline.left().ok()?;
    let tls = &settings.tls;
    let seen = diagnose::connect_again(url, Some(&proxy), tls, sent.way(), timeout).await?;
    let status = seen.proxy_status.filter(|s| !(200..300).contains(s))?;
    (seen.code == curl_codes::COULDNT_CONNECT).then(|| (proxy_authority(&proxy), status))
}

/// `host:port` of a proxy, with libcurl's default port when the URL has none.
fn proxy_authority(proxy: &Uri) -> String {
    let host = proxy.host().unwrap_or_default();
    format!("{host}:{}", proxy.port_u16().unwrap_or(1080))
}

/// The libcurl error code behind an isahc error, where isahc kept it as the source.
fn curl_code(e: &isahc::Error) -> Option<u32> {
    let source = std::error::Error::source(e)?;
    source.downcast_ref::<curl::Error>().map(curl::Error::code)
}

/// How far an exchange that timed out had got: not connected at all (isahc knows no
/// peer address), connected with a TLS or proxy handshake that may not be over, or
/// connected over plain TCP with nothing more to set up.
fn phase(e: &isahc::Error, sent: &Sent<'_>) -> Phase {
    let connect = sent.settings.connect_timeout;
    let handshakes = sent.url.scheme() == "https" || sent.proxy().is_some();
    if e.remote_addr().is_none() || handshakes {
        Phase::Connecting { connect }
    } else {
        Phase::Connected
    }
}

/// libcurl error codes that isahc folds into broader kinds.
pub(super) mod curl_codes {
    pub(super) const COULDNT_CONNECT: u32 = 7;
    /// The connection closed before the announced body was whole.
    pub(super) const PARTIAL_FILE: u32 = 18;
    pub(super) const SSL_CONNECT: u32 = 35;
    pub(super) const GOT_NOTHING: u32 = 52;
    pub(super) const SEND_ERROR: u32 = 55;
    pub(super) const RECV_ERROR: u32 = 56;
    /// A request met a kept-alive connection that closed before any answer, and libcurl
    /// could not send it again because its body cannot be rewound: see
    /// [`Transport::send`](super::super::Transport::send).
    pub(super) const SEND_FAIL_REWIND: u32 = 65;
    pub(super) const PEER_FAILED_VERIFICATION: u32 = 60;
    /// A proxy handshake failed: SOCKS (or HAProxy).
    pub(super) const PROXY: u32 = 97;
    pub(super) const TOO_LARGE: u32 = 100;
}
