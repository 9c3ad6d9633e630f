//! One request/response exchange over isahc, run on a worker: send, read the whole body,
//! decode it, and map every failure to a typed [`Error`].

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use isahc::config::{Configurable, ExpectContinue, RedirectPolicy};
use isahc::error::ErrorKind;
use isahc::http::{self, HeaderValue, Method, Uri, Version, header};
use isahc::tls::TlsConfig;
use isahc::{Body, HttpClient};

use crate::deadline::Deadline;
use crate::decode::{self, ReadError};
use crate::diagnose;
use crate::lazy::Exchange;
use crate::proxy::ProxyInfo;
use crate::request::Prepared;
use crate::tls::TlsSettings;
use crate::{Error, Response, origin};

/// Settings every exchange needs.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// A request's whole budget, unless it sets its own; see [`Deadline`].
    pub(crate) timeout: Duration,
    pub(crate) proxy: ProxyInfo,
    pub(crate) max_body_size: u64,
    /// Cloning it shares its bytes: no allocation per request.
    pub(crate) user_agent: HeaderValue,
    /// How the client verifies servers, for a failed handshake made again (see `diagnose`).
    pub(crate) tls: TlsSettings,
}

/// Idempotent methods (RFC 9110 §9.2.2): sent again without harm if a reused connection
/// turns out to be dead. Anything else only ever goes on a fresh connection.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        method.as_str(),
        "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE"
    )
}

/// httplib2's `SAFE_METHODS`.
pub(crate) fn is_safe(method: &Method) -> bool {
    matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// Builds the one isahc client an `Http` shares between its workers.
/// With `reuse` false, every connection is closed after its request: libcurl retries a
/// request that meets a dead reused connection, which must never happen to a POST.
pub(crate) fn client(
    connections: usize,
    connect_timeout: Duration,
    tls: &TlsSettings,
    reuse: bool,
) -> Result<HttpClient, Error> {
    let builder = HttpClient::builder().tls_config(tls.config(None));
    let builder = if reuse {
        builder
    } else {
        builder.connection_cache_size(0)
    };
    builder
        // Our own redirect loop decides what follows a 3xx: isahc's would leak credentials
        // and resend POST bodies across origins.
        .redirect_policy(RedirectPolicy::None)
        // Decoding is ours, so the body limit counts decoded bytes.
        .automatic_decompression(false)
        .expect_continue(ExpectContinue::disabled())
        .connect_timeout(connect_timeout)
        .max_connections(connections)
        .max_connections_per_host(connections)
        .build()
        .map_err(|e| Error::Init {
            reason: format!("HTTP client: {e}"),
        })
}

/// A response whose head has arrived; its body is still on the wire.
pub(crate) struct Head {
    pub(crate) response: Response,
    body: Body,
}

/// Sends one request and waits for the head of its response, within what is left of the
/// request's deadline (the exchange's body is read within it too).
pub(crate) fn send(
    client: &HttpClient,
    limits: &Limits,
    req: &Prepared,
    deadline: &Deadline,
) -> Result<Head, Error> {
    let timeout = deadline.left()?;
    let mut builder = http::Request::builder()
        .method(req.method.clone())
        .uri(req.url.as_str())
        .timeout(timeout);
    for (name, value) in &req.headers {
        builder = builder.header(name, value);
    }
    // Always set: no proxy also keeps libcurl from reading proxy variables on its own.
    builder = builder.proxy(limits.proxy.for_url(&req.url));
    if let Some(tls) = &req.tls {
        builder = builder.tls_config(TlsConfig::clone(tls));
    }
    if let Some(authorization) = &req.authorization {
        builder = builder.header(header::AUTHORIZATION, HeaderValue::clone(authorization));
    }
    if req.defaults.user_agent {
        builder = builder.header(header::USER_AGENT, limits.user_agent.clone());
    }
    if req.defaults.accept_encoding {
        builder = builder.header(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate"),
        );
    }
    let body = if req.body.is_empty() && !matches!(req.method.as_str(), "POST" | "PUT" | "PATCH") {
        Body::empty()
    } else {
        Body::from(req.body.clone())
    };
    let request = builder
        .body(body)
        .map_err(|e| Error::invalid(e.to_string()))?;
    let response = client
        .send(request)
        .map_err(|e| send_error(e, limits, req, deadline))?;

    let (parts, body) = response.into_parts();
    // Room for every header received and the one httplib2 adds (content-location);
    // `with_room` adds the room for "status".
    let mut out = Response::with_room(parts.status.as_u16(), parts.headers.keys_len() + 1);
    out.version = match parts.version {
        Version::HTTP_09 | Version::HTTP_10 => 10,
        Version::HTTP_2 => 20,
        Version::HTTP_3 => 30,
        _ => 11,
    };
    out.url = req.url.to_string();
    for (name, value) in &parts.headers {
        // As Python's http.client: header bytes are ISO-8859-1.
        match value.to_str() {
            Ok(ascii) => out.append(name.as_str(), ascii),
            Err(_) => {
                let latin1: String = value.as_bytes().iter().map(|&b| char::from(b)).collect();
                out.append(name.as_str(), &latin1);
            }
        }
    }
    Ok(Head {
        response: out,
        body,
    })
}

/// Reads and decodes the whole body of a response.
pub(crate) fn read(
    head: Head,
    limits: &Limits,
    req: &Prepared,
    deadline: &Deadline,
) -> Result<Exchange, Error> {
    let Head {
        response: mut out,
        body,
    } = head;
    let content = if req.method == Method::HEAD {
        Vec::new()
    } else {
        read_body(body, &mut out, req, limits, deadline)?
    };
    if matches!(out.status, 200 | 203)
        && is_safe(&req.method)
        && !out.contains_key("content-location")
    {
        out.insert("content-location", req.url.as_str());
    }
    Ok(Exchange {
        response: out,
        content,
    })
}

/// Reads up to `cap` raw bytes of a body that is not wanted (a redirect's), without
/// decoding them; a body that fails or runs over is cut short, not an error.
pub(crate) fn skim(head: Head, cap: u64) -> (Response, Vec<u8>) {
    let Head { response, body } = head;
    let mut raw = Vec::new();
    let _ = body.take(cap).read_to_end(&mut raw);
    (response, raw)
}

fn read_body(
    body: Body,
    response: &mut Response,
    req: &Prepared,
    limits: &Limits,
    deadline: &Deadline,
) -> Result<Vec<u8>, Error> {
    let limit = limits.max_body_size;
    let expected = match response.get(header::CONTENT_LENGTH.as_str()) {
        None => None,
        Some(value) => match content_length(value) {
            Length::Bytes(n) => Some(n),
            // libcurl reads such a length as none and takes whatever arrives before the
            // connection closes: a truncated body would pass for a whole one.
            Length::Overflow => return Err(Error::BodyTooLarge { limit }),
            Length::Invalid => None,
        },
    };
    let encoding = response
        .get(header::CONTENT_ENCODING.as_str())
        .map(str::to_owned);
    let undecodable = |source: io::Error, response: &Response| Error::Decompress {
        encoding: encoding.clone().unwrap_or_default(),
        source: Some(Arc::new(source)),
        response: Some(Box::new(response.clone())),
    };
    let layers = decode::layers(encoding.as_deref(), req.asked_encoding)
        .map_err(|reason| undecodable(io::Error::other(reason), response))?;
    if layers == 0 && expected.is_some_and(|n| n > limit) {
        return Err(Error::BodyTooLarge { limit });
    }
    let content = decode::read_all(body, layers, limit, expected).map_err(|e| match e {
        ReadError::TooLarge => Error::BodyTooLarge { limit },
        ReadError::Decode(e) => undecodable(e, response),
        ReadError::Transport { received, error } => {
            let error = isahc::Error::from(error);
            if error.kind() == ErrorKind::Timeout {
                deadline.expired()
            } else {
                Error::BodyIncomplete {
                    received,
                    expected,
                    source: Arc::new(error),
                }
            }
        }
    })?;
    if layers > 0 {
        // httplib2 keeps the original coding under "-content-encoding".
        if let Some(coding) = response.remove("content-encoding") {
            response.insert("-content-encoding", coding);
        }
        response.insert("content-length", content.len().to_string());
    }
    Ok(content)
}

/// What a `Content-Length` says.
#[derive(Debug, PartialEq, Eq)]
enum Length {
    Bytes(u64),
    /// Digits only, more than any body can be.
    Overflow,
    /// Not a length at all: read the body to its end, as libcurl does.
    Invalid,
}

/// Reads a `Content-Length`, repeated lines joined with ", " included: they must agree.
fn content_length(value: &str) -> Length {
    let mut seen = None;
    for part in value.split(',').map(str::trim) {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Length::Invalid;
        }
        let Ok(n) = part.parse::<u64>() else {
            return Length::Overflow;
        };
        if seen.is_some_and(|m| m != n) {
            return Length::Invalid;
        }
        seen = Some(n);
    }
    seen.map_or(Length::Invalid, Length::Bytes)
}

fn send_error(e: isahc::Error, limits: &Limits, req: &Prepared, deadline: &Deadline) -> Error {
    let code = curl_code(&e);
    let source = Arc::new(e);
    match source.kind() {
        _ if code == Some(curl_codes::TOO_LARGE) => Error::HeadersTooLarge { source },
        // isahc files a failed handshake under "connection failed".
        _ if code == Some(curl_codes::SSL_CONNECT) => Error::Tls {
            reason: tls_reason(code, limits, req, deadline),
            source,
        },
        // A SOCKS proxy refused (isahc: "unknown").
        _ if code == Some(curl_codes::PROXY) => match limits.proxy.for_url(&req.url) {
            Some(proxy) => Error::Proxy {
                proxy: proxy_authority(&proxy),
                target: origin::authority(&req.url),
                status: None,
                source,
            },
            None => Error::Transport { source },
        },
        // The connection broke after it was made, before the response was whole: a reset
        // while sending or receiving, an empty reply, or framing that broke in the head.
        _ if matches!(
            code,
            Some(curl_codes::SEND_ERROR | curl_codes::GOT_NOTHING | curl_codes::RECV_ERROR)
        ) =>
        {
            Error::BodyIncomplete {
                received: 0,
                expected: None,
                source,
            }
        }
        ErrorKind::NameResolution => Error::ServerNotFound {
            host: req.url.host_str().unwrap_or_default().to_owned(),
            source,
        },
        ErrorKind::ConnectionFailed => match refused_tunnel(code, limits, req, deadline) {
            Some((proxy, status)) => Error::Proxy {
                proxy,
                target: origin::authority(&req.url),
                status: Some(status),
                source,
            },
            None => Error::Connect {
                authority: origin::authority(&req.url),
                proxy: limits.proxy.for_url(&req.url).map(|p| proxy_authority(&p)),
                source,
            },
        },
        ErrorKind::Timeout => deadline.expired(),
        ErrorKind::BadServerCertificate
        | ErrorKind::BadClientCertificate
        | ErrorKind::TlsEngine
        | ErrorKind::InvalidTlsConfiguration => Error::Tls {
            reason: tls_reason(code, limits, req, deadline),
            source,
        },
        _ => Error::Transport { source },
    }
}

/// Why a handshake failed, in libcurl's words, for a server certificate that did not verify
/// or a handshake that broke off; `None` if the second look does not meet the same failure.
/// A request with a client certificate of its own is looked at again only for the server's
/// certificate: the second look sends none, so a broken handshake could break differently.
fn tls_reason(
    code: Option<u32>,
    limits: &Limits,
    req: &Prepared,
    deadline: &Deadline,
) -> Option<String> {
    let code = code?;
    let server_certificate = code == curl_codes::PEER_FAILED_VERIFICATION;
    if !(server_certificate || (code == curl_codes::SSL_CONNECT && req.tls.is_none())) {
        return None;
    }
    let proxy = limits.proxy.for_url(&req.url);
    // Within the request's own deadline: no time left, no second look.
    let timeout = deadline.left().ok()?;
    let seen = diagnose::connect_again(&req.url, proxy.as_ref(), &limits.tls, timeout)?;
    if seen.code != code {
        return None;
    }
    seen.detail
}

/// The proxy (`host:port`) and the status it answered an https request's `CONNECT` with,
/// when that status refused the tunnel: libcurl reports it as a failed connection, as it
/// does a proxy that is down, and isahc keeps neither its text nor the status.
fn refused_tunnel(
    code: Option<u32>,
    limits: &Limits,
    req: &Prepared,
    deadline: &Deadline,
) -> Option<(String, u16)> {
    if code != Some(curl_codes::COULDNT_CONNECT) || req.url.scheme() != "https" {
        return None;
    }
    // Only an http proxy tunnels with CONNECT; plain http goes through it as a request,
    // and a refusal of that is a response.
    let proxy = limits
        .proxy
        .for_url(&req.url)
        .filter(|p| p.scheme_str() == Some("http"))?;
    let timeout = deadline.left().ok()?;
    let seen = diagnose::connect_again(&req.url, Some(&proxy), &limits.tls, timeout)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_lengths() {
        assert_eq!(content_length("42"), Length::Bytes(42));
        assert_eq!(content_length(" 7 , 7"), Length::Bytes(7));
        assert_eq!(content_length("7, 8"), Length::Invalid);
        assert_eq!(content_length("-1"), Length::Invalid);
        assert_eq!(content_length("0x10"), Length::Invalid);
        assert_eq!(content_length(""), Length::Invalid);
        assert_eq!(content_length("99999999999999999999999"), Length::Overflow);
        assert_eq!(
            content_length("18446744073709551615"),
            Length::Bytes(u64::MAX)
        );
    }
}

/// libcurl error codes that isahc folds into broader kinds.
mod curl_codes {
    pub(super) const COULDNT_CONNECT: u32 = 7;
    pub(super) const SSL_CONNECT: u32 = 35;
    pub(super) const GOT_NOTHING: u32 = 52;
    pub(super) const SEND_ERROR: u32 = 55;
    pub(super) const RECV_ERROR: u32 = 56;
    pub(super) const PEER_FAILED_VERIFICATION: u32 = 60;
    /// A proxy handshake failed: SOCKS (or HAProxy).
    pub(super) const PROXY: u32 = 97;
    pub(super) const TOO_LARGE: u32 = 100;
}
