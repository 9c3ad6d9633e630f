//! The transport: one request/response exchange over isahc (libcurl) at a time, its body
//! read whole and decoded, every failure mapped to a typed [`Error`].
//!
//! A [`Transport`] owns the isahc clients of an `Http` and the settings they were made
//! with: connection limits, TLS, proxies, client certificates, the body limit, the user
//! agent and the cookie jar. Everything above it (credentials, redirects, the cache) only
//! says what to send.
//!
//! With a cookie jar, every exchange, whoever asks for it (the first request, each
//! redirect hop, each answer to a 401, a cache revalidation), carries the jar's `Cookie`
//! for its URL unless the request has the caller's own, and the `Set-Cookie` lines of
//! every response head are stored for that URL as soon as the head arrives.
//!
//! Connections are kept alive for every method. libcurl sends a request again, on a fresh
//! connection, when a kept connection turns out to be closed before any byte of the
//! answer came back; that is harmless for an idempotent method but could repeat an order.
//! So the body of any other request is handed to libcurl as a stream it cannot rewind: it
//! cannot send the request again, and the request fails instead
//! ([`Error::BodyIncomplete`] after 0 bytes), for the caller to decide. Such a request
//! without a body has nothing to rewind, so it goes on a connection of its own, and so
//! does a body read as it is sent, a file or a reader (see `outgoing`): libcurl cannot
//! rewind it either, and this crate opens it again itself when a redirect, a 401 or a
//! retry needs it.
//!
//! An https origin that answers over HTTP/2 gets one multiplexed connection for all its
//! requests at once, not one per worker: see `protocols`.
//!
//! A client built with a [`MockTransport`] has no isahc client at all: the one call that
//! sends an exchange (`dispatch`) hands it to the mock instead, and everything else here
//! and above runs as it does over the network.

mod body;
mod clients;
mod codings;
pub(crate) mod connect;
mod decode;
mod diagnose;
mod dispatch;
mod failure;
mod mock;
mod outgoing;
mod pace;
mod protocols;
pub(crate) mod proxy;
mod pump;
mod stream;
mod timed;
pub(crate) mod tls;
mod watch;

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::io::AsyncReadExt;
use isahc::config::Configurable;
use isahc::http::{self, HeaderValue, Method, Version, header};
use isahc::{AsyncBody, ResponseExt};

use self::clients::Clients;
use self::connect::{ConnectSettings, Lookups, Route, Routing};
use self::dispatch::{Client, Unanswered};
use self::failure::Sent;
use self::mock::Mocked;
use self::pace::{Pace, Paced};
use self::protocols::Protocols;
use self::proxy::ProxyInfo;
use self::pump::{Pump, Pumped};
use self::tls::{Certificates, TlsSettings};
use self::watch::{Watch, WatchedBody};
use crate::cookies::CookieJar;
use crate::deadline::Deadline;
use crate::download::Sink;
use crate::exchange::Exchange;
use crate::hooks;
use crate::pool::PoolRef;
use crate::request::Prepared;
use crate::response::SEPARATOR;
use crate::{Error, MockTransport, Response, sendable};

/// What the transport is set up with, from the builder: part of the client's `Config`.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Connections at most, in total and per host.
    pub(crate) connections: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) proxy: ProxyInfo,
    pub(crate) max_body_size: u64,
    /// Cloning it shares its bytes: no allocation per request.
    pub(crate) user_agent: HeaderValue,
    /// How servers are verified; also for a failed handshake made again (see `diagnose`).
    pub(crate) tls: TlsSettings,
    /// libcurl's metrics of each exchange, for its phases in the response's timings.
    pub(crate) timings: bool,
    /// Where connections go and how fast: pinned names, connect-to entries, a Unix
    /// socket, the address family, the DNS cache and bandwidth caps.
    pub(crate) connect: ConnectSettings,
}

/// The transport of one `Http`, shared by its drivers and workers: its isahc clients (or a
/// mock in their place) and their settings.
pub(crate) struct Transport {
    settings: Arc<Settings>,
    /// Cookies sent and stored on every exchange, when the client keeps them.
    cookies: Option<CookieJar>,
    certificates: Certificates,
    /// Where exchanges go.
    wire: Wire,
    /// Which https origins speak HTTP/2: see `protocols`.
    protocols: Protocols,
    /// Whose timer watches exchanges for silence (see `watch`), delays a mock's answers
    /// and bounds a connect-to target's lookup.
    pool: PoolRef,
    /// The system resolver's answers for connect-to targets given as names.
    lookups: Lookups,
}

/// Where a transport's exchanges go.
enum Wire {
    /// Over the network, through isahc's clients.
    Curl(Clients),
    /// To a mock, in place of the network: no isahc client is made.
    Mock(MockTransport),
}

impl Transport {
    /// A transport over the network, or to `mock` in its place.
    pub(crate) fn new(
        settings: Arc<Settings>,
        cookies: Option<CookieJar>,
        pool: PoolRef,
        mock: Option<MockTransport>,
    ) -> Result<Self, Error> {
        let wire = match mock {
            Some(mock) => Wire::Mock(mock),
            None => Wire::Curl(Clients::new(&settings)?),
        };
        Ok(Transport {
            pool,
            wire,
            settings,
            cookies,
            certificates: Certificates::default(),
            protocols: Protocols::default(),
            lookups: Lookups::default(),
        })
    }

    /// Closes idle kept-alive connections: later requests open new ones, requests in
    /// flight finish on theirs (the old client goes when its last request finishes). A
    /// mock has none.
    pub(crate) fn close(&self) {
        if let Wire::Curl(clients) = &self.wire {
            clients.close(&self.settings);
        }
    }

    /// The mock that answers in place of the network, if the client has one.
    pub(crate) fn mock(&self) -> Option<&MockTransport> {
        match &self.wire {
            Wire::Mock(mock) => Some(mock),
            Wire::Curl(_) => None,
        }
    }

    /// The cookie jar of the client, if it keeps cookies.
    pub(crate) fn cookie_jar(&self) -> Option<&CookieJar> {
        self.cookies.as_ref()
    }

    /// A client certificate for https requests to `domain`.
    pub(crate) fn add_certificate(&self, key: PathBuf, cert: PathBuf, domain: &str) {
        self.certificates.add(key, cert, domain);
    }

    /// Sends one request and waits for the head of its response, within what is left of
    /// the request's deadline (the exchange's body is read within it too), under the watch
    /// of its idle timeout and minimum speed, if it has them (see `watch`).
    pub(crate) async fn send(&self, req: &Prepared, deadline: &Deadline) -> Result<Head, Error> {
        let way = self.way(req, deadline).await?;
        let (client, probe) = self.route(req, &way).await;
        let watch = Watch::start(deadline, &self.pool);
        let ear = watch.as_ref().map(Watch::ear);
        let upload = Pace::new(way.upload_cap(), &self.pool);
        let (body, mut pump) = outgoing::body(req, ear, upload)?;
        let (request, own_certificate) = self.request(req, body, deadline, &way)?;
        let sending = pump::alongside(client.send(request, deadline), &mut pump);
        let sent = match &watch {
            None => sending.await,
            Some(watch) => match watch.within(sending).await {
                Ok(sent) => sent,
                Err(bound) => return Err(deadline.met(bound)),
            },
        };
        let arrived = Instant::now();
        if let Ok(response) = &sent {
            self.protocols.learn(&req.url, version(response.version()));
        }
        // Learnt first: the requests that waited for this probe go where it says.
        drop(probe);
        // The body's own failure (a file that could not be read, a reader shorter than
        // announced) is why libcurl gave up.
        if let (Err(_), Some(error)) = (&sent, pump.as_ref().and_then(|p| p.failure())) {
            return Err(error);
        }
        match sent {
            Ok(response) => {
                let timings = timed::of_head(deadline.began(), arrived, response.metrics());
                let download = Pace::new(way.download_cap(), &self.pool);
                let mut head = head(response, req, watch, pump, download);
                head.response.timings = timings;
                // Whatever follows (a redirect, a 401 answered, an error status), the
                // cookies the server set are kept.
                if let Some(jar) = &self.cookies {
                    jar.store(head.response.get_all("set-cookie"), &req.url);
                }
                hooks::responded(req.hooks.as_deref(), &head.response)?;
                Ok(head)
            }
            Err(e) => {
                let sent = Sent {
                    settings: &self.settings,
                    url: &req.url,
                    route: &way,
                    own_certificate,
                    deadline,
                };
                // Matched here: an async function around `classify` would add its state
                // to every request's future.
                Err(match e {
                    Unanswered::Curl(e) => failure::classify(e, &sent).await,
                    Unanswered::Mock(fault) => failure::mocked(fault, &sent),
                })
            }
        }
    }

    /// Where the exchange of `req` connects and how fast it may go (see `connect`): its
    /// URL's plain route for a request and client without such settings, and for a mock,
    /// which answers in place of any connection.
    async fn way(&self, req: &Prepared, deadline: &Deadline) -> Result<Route, Error> {
        let settings = &self.settings;
        if matches!(self.wire, Wire::Mock(_))
            || (req.connect.is_none() && !settings.connect.routes())
        {
            return Ok(Route::default());
        }
        let routing = Routing {
            settings: &settings.connect,
            lookups: &self.lookups,
            connect: settings.connect_timeout,
            deadline,
            pool: &self.pool,
        };
        // Boxed: a request without such settings does not carry its state.
        Box::pin(Route::of(&req.url, req.connect.as_deref(), routing)).await
    }

    /// The request isahc sends for `req` with `body` along `way`, its hooks heard, and
    /// whether it has a client certificate of its own.
    fn request(
        &self,
        req: &Prepared,
        body: AsyncBody,
        deadline: &Deadline,
        way: &Route,
    ) -> Result<(http::Request<AsyncBody>, bool), Error> {
        let settings = &self.settings;
        let timeout = deadline.left()?;
        let mut builder = way.apply(
            http::Request::builder()
                .method(req.method.clone())
                .uri(req.url.as_str())
                .timeout(timeout),
        );
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        // Always set: no proxy also keeps libcurl from reading proxy variables on its own.
        builder = builder.proxy(settings.proxy.for_url(&req.url));
        let certificate = self.certificates.for_url(&req.url);
        if let Some(certificate) = &certificate {
            builder = builder.tls_config(settings.tls.config(Some(certificate)));
        }
        if let Some(authorization) = &req.authorization {
            builder = builder.header(header::AUTHORIZATION, authorization.clone());
        }
        if req.defaults.user_agent {
            builder = builder.header(header::USER_AGENT, settings.user_agent.clone());
        }
        if req.defaults.accept_encoding {
            builder = builder.header(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static(codings::accept_encoding()),
            );
        }
        let jar = self.cookies.as_ref().filter(|_| req.jar_cookies());
        if let Some(cookie) = jar.and_then(|jar| jar.header_for(&req.url)) {
            builder = builder.header(header::COOKIE, cookie);
        }
        let mut request = builder
            .body(body)
            .map_err(|e| Error::invalid(e.to_string()))?;
        // The hooks see the request exactly as it goes out, and may sign it.
        let sending = hooks::Sending {
            request: &mut request,
            url: &req.url,
            body: &req.body,
        };
        hooks::before_send(req.hooks.as_deref(), sending)?;
        // Every value was checked where it was made (`sendable::text`); isahc panics on
        // one that is not ASCII text, so one that got past fails its request, not a worker.
        if let Some(name) = request
            .headers()
            .iter()
            .find_map(|(name, value)| value.to_str().is_err().then_some(name))
        {
            return Err(sendable::refused(name));
        }
        Ok((request, certificate.is_some()))
    }

    /// The client a request going `way` goes through, and the probe of its origin's
    /// protocol it is, if it is one: see the module's docs and `protocols`. A request to an
    /// origin being probed waits for the probe's answer.
    async fn route<'a>(
        &'a self,
        req: &Prepared,
        way: &Route,
    ) -> (Client<'a>, Option<protocols::Probe<'a>>) {
        let clients = match &self.wire {
            Wire::Curl(clients) => clients,
            // No connection to choose: the mock answers every one.
            Wire::Mock(mock) => return (Client::Mock(Mocked::new(mock, self)), None),
        };
        if outgoing::on_own_connection(req, way.upload_cap().is_some()) {
            let unpooled = clients.unpooled(&self.settings);
            return (Client::Curl(unpooled), None);
        }
        let (route, probe) = self.protocols.route(&req.url).await;
        let client = clients.routed(route, &self.settings);
        (Client::Curl(client), probe)
    }

    /// Reads and decodes the whole body of a response.
    pub(crate) async fn read(
        &self,
        head: Head,
        req: &Prepared,
        deadline: &Deadline,
    ) -> Result<Exchange, Error> {
        body::read(head, self.settings.max_body_size, req, deadline).await
    }

    /// Streams a 2xx body into `sink` (see `stream`); any other is read as `read` reads
    /// it, and the destination is left alone.
    pub(crate) async fn stream(
        &self,
        head: Head,
        req: &Prepared,
        sink: Box<Sink>,
        deadline: &Deadline,
    ) -> (Result<Exchange, Error>, Box<Sink>) {
        let status = head.response.status;
        if (200..300).contains(&status) && req.method != Method::HEAD {
            return stream::body(head, req, sink, deadline).await;
        }
        let mut sink = sink;
        let read = self.read(head, req, deadline).await;
        // A partial file that was whole already: the server has nothing more to send.
        let read = match read {
            Ok(mut exchange) if sink.is_whole(&exchange.response) => {
                exchange.content.clear(); // the 416's page, not the file
                sink.complete().map(|_| exchange)
            }
            other => other,
        };
        (read, sink)
    }
}

/// A response whose head has arrived; its body is still on the wire, read under the
/// exchange's watch.
pub(crate) struct Head {
    pub(crate) response: Response,
    body: ResponseBody,
}

/// A response's body as it is read: under the exchange's watch, no faster than its cap,
/// with the pump of the request's body still moving it, if it has one that was not all
/// sent.
type ResponseBody = Pumped<Paced<WatchedBody>>;

impl Head {
    /// Reads up to `cap` raw bytes of a body that is not wanted (a redirect's, a 401's),
    /// without decoding them; a body that fails or runs over is cut short, not an error.
    pub(crate) async fn skim(self, cap: u64) -> (Response, Vec<u8>) {
        let Head { response, body } = self;
        let mut raw = Vec::new();
        let _ = body.take(cap).read_to_end(&mut raw).await;
        (response, raw)
    }
}

/// An HTTP version as `Response::version` gives it.
fn version(version: Version) -> u8 {
    match version {
        Version::HTTP_09 | Version::HTTP_10 => 10,
        Version::HTTP_2 => 20,
        Version::HTTP_3 => 30,
        _ => 11,
    }
}

/// The head of isahc's response as httplib2 shows one.
fn head(
    response: http::Response<AsyncBody>,
    req: &Prepared,
    watch: Option<Watch>,
    pump: Option<Box<Pump>>,
    pace: Option<Box<Pace>>,
) -> Head {
    let (parts, body) = response.into_parts();
    let headers = &parts.headers;
    // Room for every header received, and for the content-location httplib2 adds.
    let added = "content-location".len() + req.url.as_str().len();
    let text = headers
        .keys()
        .map(|name| name.as_str().len())
        .sum::<usize>()
        + headers
            .values()
            .map(|value| value.len() + SEPARATOR.len())
            .sum::<usize>()
        + added;
    let mut out = Response::with_room(parts.status.as_u16(), headers.keys_len() + 1, text);
    out.version = version(parts.version);
    out.url = req.url.to_string();
    // Each name once, with all its values: no lookups, whatever the server sent.
    for name in headers.keys() {
        out.push_new(name.as_str(), headers.get_all(name).iter().map(latin1));
    }
    Head {
        response: out,
        body: Pumped::new(Paced::new(WatchedBody::new(body, watch), pace), pump),
    }
}

/// A header value as text. As Python's http.client: header bytes are ISO-8859-1.
fn latin1(value: &HeaderValue) -> Cow<'_, str> {
    match value.to_str() {
        Ok(ascii) => Cow::Borrowed(ascii),
        Err(_) => Cow::Owned(value.as_bytes().iter().map(|&b| char::from(b)).collect()),
    }
}
