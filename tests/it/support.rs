//! Loopback servers for the tests: a real HTTP server (hyper) that records what it
//! receives, and a raw-socket server for deliberately broken responses.

#![allow(dead_code, unused_imports)] // each user (tests, examples) needs a different part

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub use asynchttp::{Error, Http, LazyContent, LazyResponse, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::service::service_fn;

/// Every wait in a test is bounded by this.
pub const BOUND: Duration = Duration::from_secs(20);

/// Three Set-Cookie values whose dates hold commas: joined, they cannot be split back.
pub const COOKIES: [&str; 3] = [
    "id=a3fWa; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/",
    "lang=en; Expires=Thu, 22 Oct 2026 07:28:00 GMT",
    "theme=dark; Expires=Fri, 23 Oct 2026 07:28:00 GMT; HttpOnly",
];

/// `reply` with one Set-Cookie line for each of [`COOKIES`].
pub fn with_cookies(reply: Reply) -> Reply {
    COOKIES
        .iter()
        .fold(reply, |reply, cookie| reply.header("Set-Cookie", cookie))
}

pub fn init_logging() {
    let _ = env_logger::builder().is_test(true).try_init();
}

/// Waits for a response with a bound; panics with the request's state if it runs out.
#[track_caller]
pub fn wait(r: &LazyResponse) -> Result<&Response, Error> {
    LazyResponse::wait_timeout(r, BOUND)
        .unwrap_or_else(|| panic!("not done within {BOUND:?}: {r:?}"))
}

/// Waits for a body with a bound.
#[track_caller]
pub fn body(c: &LazyContent) -> &[u8] {
    match LazyContent::wait_timeout(c, BOUND) {
        Some(Ok(body)) => body,
        Some(Err(e)) => panic!("request failed: {}", e.chain()),
        None => panic!("not done within {BOUND:?}: {c:?}"),
    }
}

/// Waits for a request that must fail, and returns its error.
#[track_caller]
pub fn error(r: &LazyResponse) -> Error {
    match wait(r) {
        Ok(resp) => panic!("expected an error, got {resp}"),
        Err(e) => e,
    }
}

/// What the server received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// As hyper names it: `HTTP/1.1`, `HTTP/2.0`.
    pub version: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The body; for a [`Server::hashing`], its SHA-256 instead.
    pub body: Vec<u8>,
    /// The body's length in bytes.
    pub length: u64,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the handler answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply::new(200, body)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&Received) -> Reply + Send + Sync;

/// A tokio runtime of `threads` named threads, and a listener on 127.0.0.1:0 for it.
fn loopback_runtime(
    name: &str,
    threads: usize,
) -> (tokio::runtime::Runtime, tokio::net::TcpListener, SocketAddr) {
    let runtime = named_runtime(name, threads);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    (runtime, listener, addr)
}

/// A tokio runtime of `threads` threads named `name`.
fn named_runtime(name: &str, threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Where a [`Server`] listens, besides 127.0.0.1.
pub enum Listen {
    /// `[::1]:0`: IPv6 loopback alone.
    Ipv6Loopback,
    /// A Unix socket at this path, made by the server (and any file there removed first).
    #[cfg(unix)]
    Unix(std::path::PathBuf),
}

/// A server's listener, as its accept loop takes connections from it.
enum Listener {
    Tcp(tokio::net::TcpListener),
    #[cfg(unix)]
    Unix(tokio::net::UnixListener),
}

/// A hyper server on 127.0.0.1:0 that records every request and counts connections.
/// Over TLS it speaks HTTP/2 on a connection whose ALPN chose `h2`, HTTP/1.1 otherwise.
pub struct Server {
    /// `host:port`, or `localhost` for a Unix socket.
    authority: String,
    received: Arc<Mutex<Vec<Received>>>,
    connections: Arc<AtomicUsize>,
    h2_connections: Arc<AtomicUsize>,
    per_connection: Arc<Mutex<Vec<usize>>>,
    refused: Arc<AtomicUsize>,
    handler_panicked: Arc<AtomicBool>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// What a server's accept loop shares with its connections.
#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    h2_connections: Arc<AtomicUsize>,
    per_connection: Arc<Mutex<Vec<usize>>>,
    refused: Arc<AtomicUsize>,
    panicked: Arc<AtomicBool>,
    handler: Arc<Handler>,
    retire: Retire,
    /// Bodies are hashed as they arrive, not kept: see [`Server::hashing`].
    hashing: bool,
}

/// When a server retires a connection.
#[derive(Clone, Copy, PartialEq)]
enum Retire {
    Never,
    /// Once it has served this many requests, it closes gracefully: HTTP/1.1 after the
    /// response, HTTP/2 with hyper's two GOAWAYs (the first with the highest stream id,
    /// the second, a round trip later, with the last stream it processed), taking the
    /// streams that arrive in between.
    Gracefully(usize),
    /// HTTP/2 only (h2 itself, not hyper): it serves this many streams, sends GOAWAY after
    /// the last of them, and resets any later stream with REFUSED_STREAM, so that no
    /// connection ever serves more (nginx's `http2_max_requests`, strictly).
    Refusing(usize),
}

/// A connection's stream: TCP, or TLS over TCP.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

impl Server {
    pub fn start(handler: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Server {
        Server::with_tls(None, handler)
    }

    /// As [`Server::start`], listening where `listen` says instead: its URLs are
    /// `http://[::1]:port/...`, or `http://localhost/...` for a Unix socket.
    pub fn listening(
        listen: Listen,
        handler: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let runtime = named_runtime("test-server", 2);
        let (listener, authority) = match listen {
            Listen::Ipv6Loopback => {
                let listener = runtime
                    .block_on(tokio::net::TcpListener::bind("[::1]:0"))
                    .expect("bind [::1]: IPv6 loopback must be usable for this test");
                let addr = listener.local_addr().unwrap();
                (Listener::Tcp(listener), addr.to_string())
            }
            #[cfg(unix)]
            Listen::Unix(path) => {
                let _ = std::fs::remove_file(&path);
                let listener = runtime
                    .block_on(async { tokio::net::UnixListener::bind(&path) })
                    .expect("bind a Unix socket");
                (Listener::Unix(listener), "localhost".to_owned())
            }
        };
        Server::serving(
            runtime,
            listener,
            authority,
            None,
            Retire::Never,
            false,
            handler,
        )
    }

    /// As [`Server::start`], for bodies too large to keep: each is hashed with SHA-256 as
    /// its frames arrive, and [`Received::body`] is the digest.
    pub fn hashing(handler: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Server {
        Server::spawn_with(None, Retire::Never, true, handler)
    }

    /// An https server when `tls` is given: its handshakes, failed ones included, count as
    /// connections. HTTP/2 when `tls` offers `h2` over ALPN and the client takes it.
    pub fn with_tls(
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
        handler: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> Server {
        Server::spawn(tls, Retire::Never, handler)
    }

    /// As [`Server::with_tls`], but each connection is closed gracefully once it has
    /// served `requests`: on HTTP/2 with GOAWAY, whose last stream id tells the client
    /// which of its later streams were never processed.
    pub fn closing_after(
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
        requests: usize,
        handler: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> Server {
        Server::spawn(tls, Retire::Gracefully(requests), handler)
    }

    /// An HTTP/2 server (h2 itself, not hyper; `tls` must offer `h2` alone) that serves
    /// `requests` streams on each connection, sends GOAWAY after the last of them, and
    /// refuses later streams with RST_STREAM(REFUSED_STREAM): they were never processed,
    /// and a client may send them again on a new connection.
    pub fn refusing_after(
        tls: Arc<tokio_rustls::rustls::ServerConfig>,
        requests: usize,
        handler: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> Server {
        Server::spawn(Some(tls), Retire::Refusing(requests), handler)
    }

    fn spawn(
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
        retire: Retire,
        handler: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> Server {
        Server::spawn_with(tls, retire, false, handler)
    }

    fn spawn_with(
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
        retire: Retire,
        hashing: bool,
        handler: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let (runtime, listener, addr) = loopback_runtime("test-server", 2);
        let listener = Listener::Tcp(listener);
        let authority = addr.to_string();
        Server::serving(runtime, listener, authority, tls, retire, hashing, handler)
    }

    fn serving(
        runtime: tokio::runtime::Runtime,
        listener: Listener,
        authority: String,
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
        retire: Retire,
        hashing: bool,
        handler: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let shared = Shared {
            received: Arc::new(Mutex::new(Vec::new())),
            h2_connections: Arc::new(AtomicUsize::new(0)),
            per_connection: Arc::new(Mutex::new(Vec::new())),
            refused: Arc::new(AtomicUsize::new(0)),
            panicked: Arc::new(AtomicBool::new(false)),
            handler: Arc::new(handler),
            retire,
            hashing,
        };
        let accepted = Arc::new(AtomicUsize::new(0));
        let mut server = Server {
            authority,
            received: shared.received.clone(),
            connections: accepted.clone(),
            h2_connections: shared.h2_connections.clone(),
            per_connection: shared.per_connection.clone(),
            refused: shared.refused.clone(),
            handler_panicked: shared.panicked.clone(),
            runtime: None,
        };
        runtime.spawn(async move {
            loop {
                let stream: Box<dyn Io> = match &listener {
                    Listener::Tcp(tcp) => match tcp.accept().await {
                        Ok((stream, _)) => Box::new(stream),
                        Err(_) => break,
                    },
                    #[cfg(unix)]
                    Listener::Unix(unix) => match unix.accept().await {
                        Ok((stream, _)) => Box::new(stream),
                        Err(_) => break,
                    },
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, acceptor.clone(), shared.clone()));
            }
        });
        server.runtime = Some(runtime);
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.authority)
    }

    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.authority)
    }

    /// As [`Server::listening`] on [::1], with its port on 127.0.0.1 bound and never
    /// listened on (by the socket returned): connections there are refused, and no other
    /// server can take it meanwhile.
    pub fn ipv6_only(
        handler: impl Fn(&Received) -> Reply + Clone + Send + Sync + 'static,
    ) -> (Server, socket2::Socket) {
        use socket2::{Domain, Socket, Type};
        for _ in 0..5 {
            let server = Server::listening(Listen::Ipv6Loopback, handler.clone());
            let v4 = SocketAddr::from(([127, 0, 0, 1], server.port()));
            let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
            match socket.bind(&v4.into()) {
                Ok(()) => return (server, socket),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
                Err(e) => panic!("{v4}: {e}"),
            }
        }
        panic!("no port free on both ::1 and 127.0.0.1");
    }

    /// The port it listens on (none for a Unix socket).
    pub fn port(&self) -> u16 {
        let port = self.authority.rsplit_once(':').map(|(_, port)| port);
        port.and_then(|p| p.parse().ok())
            .expect("a server on a TCP port")
    }

    pub fn hits(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Connections whose ALPN chose `h2`.
    pub fn h2_connections(&self) -> usize {
        self.h2_connections.load(Ordering::SeqCst)
    }

    /// Requests (HTTP/2 streams) served on each connection that got through its TLS
    /// handshake, in the order they were accepted.
    pub fn requests_per_connection(&self) -> Vec<usize> {
        self.per_connection.lock().unwrap().clone()
    }

    /// Streams reset with REFUSED_STREAM by a [`Server::refusing_after`].
    pub fn refused_streams(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

/// Serves one accepted connection until it ends, or until `shared.retire` closes it.
async fn serve(stream: Box<dyn Io>, acceptor: Option<tokio_rustls::TlsAcceptor>, shared: Shared) {
    let (io, h2): (Box<dyn Io>, bool) = match acceptor {
        None => (stream, false),
        Some(acceptor) => {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            (Box::new(tls), h2)
        }
    };
    if h2 {
        shared.h2_connections.fetch_add(1, Ordering::SeqCst);
    }
    let slot = {
        let mut counts = shared.per_connection.lock().unwrap();
        counts.push(0);
        counts.len() - 1
    };
    if let (true, Retire::Refusing(requests)) = (h2, shared.retire) {
        return serve_h2_refusing(io, shared, slot, requests).await;
    }
    let close_after = match shared.retire {
        Retire::Never => None,
        Retire::Gracefully(n) | Retire::Refusing(n) => Some(n),
    };
    let close = Arc::new(tokio::sync::Notify::new());
    let service = {
        let close = close.clone();
        service_fn(move |req| {
            let served = {
                let mut counts = shared.per_connection.lock().unwrap();
                counts[slot] += 1;
                counts[slot]
            };
            if Some(served) == close_after {
                close.notify_one();
            }
            respond(
                req,
                shared.hashing,
                shared.received.clone(),
                shared.handler.clone(),
                shared.panicked.clone(),
            )
        })
    };
    let io = hyper_util::rt::TokioIo::new(io);
    if h2 {
        let builder =
            hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new());
        let connection = builder.serve_connection(io, service);
        closing_on(connection, &close, |c| c.graceful_shutdown()).await;
    } else {
        let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
        closing_on(connection, &close, |c| c.graceful_shutdown()).await;
    }
}

/// [`Retire::Refusing`]: serves `requests` streams, then GOAWAY, and REFUSED_STREAM to any
/// stream after them.
async fn serve_h2_refusing(io: Box<dyn Io>, shared: Shared, slot: usize, requests: usize) {
    let Ok(mut connection) = h2::server::handshake(io).await else {
        return;
    };
    let mut accepted = 0;
    // Polling `accept` drives the connection, the responses of the streams included.
    while let Some(Ok((request, mut respond))) = connection.accept().await {
        accepted += 1;
        if accepted > requests {
            respond.send_reset(h2::Reason::REFUSED_STREAM);
            shared.refused.fetch_add(1, Ordering::SeqCst);
            continue;
        }
        shared.per_connection.lock().unwrap()[slot] += 1;
        if accepted == requests {
            connection.graceful_shutdown();
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            let (parts, mut body) = request.into_parts();
            let mut bytes = Vec::new();
            while let Some(chunk) = body.data().await {
                let Ok(chunk) = chunk else { return };
                let _ = body.flow_control().release_capacity(chunk.len());
                bytes.extend_from_slice(&chunk);
            }
            let length = bytes.len() as u64;
            let response = reply_to(
                parts,
                bytes,
                length,
                &shared.received,
                &*shared.handler,
                &shared.panicked,
            )
            .await;
            let (head, body) = response.into_parts();
            let head = hyper::Response::from_parts(head, ());
            let Ok(mut stream) = respond.send_response(head, body.is_empty()) else {
                return;
            };
            if !body.is_empty() {
                let _ = stream.send_data(Bytes::from(body), true);
            }
        });
    }
}

/// Drives `connection` to its end, starting its graceful shutdown when `close` is notified.
async fn closing_on<C: Future>(
    connection: C,
    close: &tokio::sync::Notify,
    shut: impl FnOnce(Pin<&mut C>),
) {
    let mut connection = std::pin::pin!(connection);
    let mut notified = std::pin::pin!(close.notified());
    let mut shut = Some(shut);
    std::future::poll_fn(|cx| {
        if shut.is_some() && notified.as_mut().poll(cx).is_ready() {
            (shut.take().unwrap())(connection.as_mut());
        }
        connection.as_mut().poll(cx)
    })
    .await;
}

async fn respond(
    req: hyper::Request<hyper::body::Incoming>,
    hashing: bool,
    received: Arc<Mutex<Vec<Received>>>,
    handler: Arc<Handler>,
    panicked: Arc<AtomicBool>,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let (parts, mut body) = req.into_parts();
    let (body, length) = if hashing {
        use sha2::Digest;
        let (mut hasher, mut length) = (sha2::Sha256::new(), 0u64);
        while let Some(frame) = body.frame().await {
            if let Some(data) = frame?.data_ref() {
                hasher.update(data);
                length += data.len() as u64;
            }
        }
        (hasher.finalize().to_vec(), length)
    } else {
        let body = body.collect().await?.to_bytes().to_vec();
        let length = body.len() as u64;
        (body, length)
    };
    let response = reply_to(parts, body, length, &received, &*handler, &panicked).await;
    Ok(response.map(|body| Full::new(Bytes::from(body))))
}

/// Records a request, runs the handler on it and waits for its reply's delay.
async fn reply_to(
    parts: hyper::http::request::Parts,
    body: Vec<u8>,
    length: u64,
    received: &Mutex<Vec<Received>>,
    handler: &Handler,
    panicked: &AtomicBool,
) -> hyper::Response<Vec<u8>> {
    let seen = Received {
        method: parts.method.to_string(),
        version: format!("{:?}", parts.version),
        url: parts.uri.to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        length,
    };
    received.lock().unwrap().push(seen.clone());
    let reply = match catch_unwind(AssertUnwindSafe(|| handler(&seen))) {
        Ok(reply) => reply,
        Err(_) => {
            panicked.store(true, Ordering::SeqCst);
            Reply::new(599, "test handler panicked")
        }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = hyper::Response::new(reply.body);
    *response.status_mut() = hyper::StatusCode::from_u16(reply.status).expect("status code");
    for (name, value) in &reply.headers {
        response.headers_mut().append(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            hyper::header::HeaderValue::from_str(value).unwrap(),
        );
    }
    response
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
        if !thread::panicking() {
            assert!(
                !self.handler_panicked.load(Ordering::SeqCst),
                "a test server handler panicked"
            );
        }
    }
}

/// Many hosts at once: a listener on its own port of 127.0.0.1 for each, all served by one
/// small runtime, each answering every request `200 ok` and noting when it arrived.
pub struct ManyHosts {
    addrs: Vec<SocketAddr>,
    arrivals: Arc<Vec<Mutex<Vec<Instant>>>>,
    _runtime: tokio::runtime::Runtime,
}

impl ManyHosts {
    pub fn start(hosts: usize) -> ManyHosts {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-hosts")
            .enable_all()
            .build()
            .expect("tokio runtime");
        let arrivals: Arc<Vec<Mutex<Vec<Instant>>>> =
            Arc::new((0..hosts).map(|_| Mutex::default()).collect());
        let mut addrs = Vec::new();
        for host in 0..hosts {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .expect("bind loopback");
            addrs.push(listener.local_addr().unwrap());
            let arrivals = arrivals.clone();
            runtime.spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let arrivals = arrivals.clone();
                    let service = service_fn(move |_req| {
                        arrivals[host].lock().unwrap().push(Instant::now());
                        async {
                            Ok::<_, hyper::Error>(hyper::Response::new(Full::new(
                                Bytes::from_static(b"ok"),
                            )))
                        }
                    });
                    tokio::spawn(async move {
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    });
                }
            });
        }
        ManyHosts {
            addrs,
            arrivals,
            _runtime: runtime,
        }
    }

    pub fn url(&self, host: usize, path: &str) -> String {
        format!("http://{}{path}", self.addrs[host])
    }

    /// `host:port`, as host limits name it.
    pub fn authority(&self, host: usize) -> String {
        self.addrs[host].to_string()
    }

    pub fn hits(&self, host: usize) -> usize {
        self.arrivals[host].lock().unwrap().len()
    }

    /// When each request to `host` arrived, in order.
    pub fn arrivals(&self, host: usize) -> Vec<Instant> {
        self.arrivals[host].lock().unwrap().clone()
    }
}

/// A raw TCP server for broken responses: each connection's request head is read, then
/// `script` writes whatever it likes. Counts connections.
pub struct RawServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl RawServer {
    pub fn start(script: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let (count, seen) = (connections.clone(), heads.clone());
        // The accept thread ends with the test process; the listener is never reused.
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let (script, seen) = (script.clone(), seen.clone());
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(BOUND));
                    let head = read_head(&mut stream);
                    seen.lock().unwrap().push(head);
                    script(&mut stream);
                });
            }
        });
        RawServer {
            addr,
            connections,
            heads,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The raw request heads received, as text.
    pub fn heads(&self) -> Vec<String> {
        self.heads
            .lock()
            .unwrap()
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect()
    }
}

/// Reads up to the blank line that ends a request head.
pub fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    head
}

/// Holds a connection open without answering: reads and drops whatever comes until the
/// peer closes, or `BOUND` passes.
pub fn hold(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(BOUND));
    let until = Instant::now() + BOUND;
    let mut sink = [0u8; 1024];
    while Instant::now() < until {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => return,
        }
    }
}

/// A tokio runtime of two worker threads, for tests that await.
pub fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("tokio runtime")
}

/// A body no two places of which look alike: a misplaced chunk shows.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i / 251) as u8)
        .collect()
}

/// Awaits `future` for [`BOUND`] at most.
pub async fn bounded<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(BOUND, future)
        .await
        .unwrap_or_else(|_| panic!("not done within {BOUND:?}"))
}

/// Writes, ignoring a peer that has gone.
pub fn send(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes);
    let _ = stream.flush();
}

/// Closes the connection with RST instead of FIN.
pub fn reset(stream: TcpStream) {
    let socket = socket2::Socket::from(stream);
    let _ = socket.set_linger(Some(Duration::ZERO));
    drop(socket);
}

/// A directory of a test's own (not created), removed at the end.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("asynchttp-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port with nothing listening on it.
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/")
}

/// Asserts that `f` holds within the bound, polling.
#[track_caller]
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let what = || format!("{what} {:?}", thread_names());
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < BOUND, "not within {BOUND:?}: {}", what());
        thread::sleep(Duration::from_millis(10));
    }
}

/// Threads of this process.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Threads whose name starts with `prefix` (Linux truncates names to 15 bytes).
pub fn threads_named(prefix: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end().starts_with(prefix))
        .count()
}

/// Names of this process's threads, for messages.
pub fn thread_names() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}

/// `data`, gzip-compressed.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A forward proxy on 127.0.0.1:0 (hyper): absolute-form requests are forwarded to their
/// server, `CONNECT` is tunnelled. Records each request's line and whether it carried
/// `Proxy-Authorization`, which it never forwards.
pub struct Proxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<(String, bool)>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Proxy {
    pub fn start() -> Proxy {
        let (runtime, listener, addr) = loopback_runtime("test-proxy", 2);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = log.clone();
                let service = service_fn(move |req| proxy_one(req, log.clone()));
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        Proxy {
            addr,
            seen,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `(request line, carried Proxy-Authorization)` for each request it got.
    pub fn seen(&self) -> Vec<(String, bool)> {
        self.seen.lock().unwrap().clone()
    }
}

async fn proxy_one(
    mut req: hyper::Request<hyper::body::Incoming>,
    log: Arc<Mutex<Vec<(String, bool)>>>,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let line = format!("{} {}", req.method(), req.uri());
    let authorized = req.headers_mut().remove("proxy-authorization").is_some();
    log.lock().unwrap().push((line, authorized));
    let Some(authority) = req.uri().authority().map(|a| a.to_string()) else {
        return Ok(plain(400, "absolute-form or CONNECT only"));
    };
    if req.method() == hyper::Method::CONNECT {
        tokio::spawn(async move {
            let Ok(upgraded) = hyper::upgrade::on(req).await else {
                return;
            };
            let Ok(mut server) = tokio::net::TcpStream::connect(&authority).await else {
                return;
            };
            let mut client = hyper_util::rt::TokioIo::new(upgraded);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
        return Ok(plain(200, ""));
    }
    let Ok(stream) = tokio::net::TcpStream::connect(&authority).await else {
        return Ok(plain(502, "server unreachable"));
    };
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| "/".into());
    *req.uri_mut() = path.parse().expect("origin-form");
    let response = sender.send_request(req).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(hyper::Response::from_parts(parts, Full::new(body)))
}

fn plain(status: u16, text: &'static str) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    response
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// A SOCKS5 proxy on 127.0.0.1:0 (fast-socks5) that wants `user`/`password` and counts
/// the connections it tunnelled.
pub struct Socks5 {
    addr: SocketAddr,
    tunnelled: Arc<AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Socks5 {
    pub fn start(user: &'static str, password: &'static str) -> Socks5 {
        use fast_socks5::server::{DnsResolveHelper as _, Socks5ServerProtocol, run_tcp_proxy};
        let (runtime, listener, addr) = loopback_runtime("test-socks5", 1);
        let tunnelled = Arc::new(AtomicUsize::new(0));
        let count = tunnelled.clone();
        runtime.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    let accepted = Socks5ServerProtocol::accept_password_auth(socket, |u, p| {
                        u == user && p == password
                    })
                    .await;
                    let Ok((proto, _)) = accepted else { return };
                    let Ok(command) = proto.read_command().await else {
                        return;
                    };
                    let Ok((proto, _, target)) = command.resolve_dns().await else {
                        return;
                    };
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ = run_tcp_proxy(proto, &target, BOUND, false).await;
                });
            }
        });
        Socks5 {
            addr,
            tunnelled,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self, user: &str, password: &str) -> String {
        format!("socks5://{user}:{password}@{}", self.addr)
    }

    pub fn tunnelled(&self) -> usize {
        self.tunnelled.load(Ordering::SeqCst)
    }
}

impl Drop for Socks5 {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// An example's binary, built for the profile of the running test: `cargo test` has built
/// it, but `cargo test --test <name>` alone does not.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    example_binary_with(name, &[])
}

/// As [`example_binary`], for an example that needs some of the crate's features.
pub fn example_binary_with(name: &str, features: &[&str]) -> std::path::PathBuf {
    use std::path::Path;
    use std::process::Command;

    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let mut build = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    build.args(["build", "--quiet", "--example", name]);
    if !features.is_empty() {
        build.args(["--features", &features.join(",")]);
    }
    // What cargo set for this test, not what the user set: inherited, it would look like a
    // changed environment to build scripts and rebuild the whole tree.
    for (var, _) in std::env::vars_os() {
        let var = var.to_string_lossy();
        let per_test = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ];
        if per_test.iter().any(|prefix| var.starts_with(prefix))
            || ["CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "OUT_DIR"].contains(&&*var)
        {
            build.env_remove(&*var);
        }
    }
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let built = build.status().expect("run cargo build");
    assert!(built.success(), "cargo build --example {name} failed");
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}
