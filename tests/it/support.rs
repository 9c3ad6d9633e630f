//! Loopback servers for the tests: a real HTTP server (tiny_http) that records what it
//! receives, and a raw-socket server for deliberately broken responses.

#![allow(dead_code)] // each test module uses a different part

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use asynchttp::{Error, Http, LazyContent, LazyResponse, Request, Response};

/// Every wait in a test is bounded by this.
pub const BOUND: Duration = Duration::from_secs(20);

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
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
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

/// A tiny_http server on 127.0.0.1:0 that records every request.
pub struct Server {
    addr: SocketAddr,
    inner: Arc<tiny_http::Server>,
    received: Arc<Mutex<Vec<Received>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    /// A server with 8 handler threads.
    pub fn start(handler: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Server {
        Server::with_threads(8, handler)
    }

    pub fn with_threads(
        threads: usize,
        handler: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let inner = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind loopback"));
        let addr = inner.server_addr().to_ip().expect("ip listener");
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let threads = (0..threads)
            .map(|_| {
                let (inner, received, handler) = (inner.clone(), received.clone(), handler.clone());
                thread::spawn(move || serve(&inner, &received, &*handler))
            })
            .collect();
        Server {
            addr,
            inner,
            received,
            threads,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn serve(server: &tiny_http::Server, received: &Mutex<Vec<Received>>, handler: &Handler) {
    while let Ok(mut request) = server.recv() {
        let mut body = Vec::new();
        let _ = request.as_reader().read_to_end(&mut body);
        let seen = Received {
            method: request.method().to_string(),
            url: request.url().to_owned(),
            headers: request
                .headers()
                .iter()
                .map(|h| (h.field.to_string(), h.value.to_string()))
                .collect(),
            body,
        };
        received.lock().unwrap().push(seen.clone());
        let reply = handler(&seen);
        if !reply.delay.is_zero() {
            thread::sleep(reply.delay);
        }
        let mut response =
            tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
        for (name, value) in &reply.headers {
            response.add_header(
                tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap(),
            );
        }
        let _ = request.respond(response);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for _ in &self.threads {
            self.inner.unblock();
        }
        for t in self.threads.drain(..) {
            let joined = t.join();
            if !thread::panicking() {
                joined.expect("server thread panicked");
            }
        }
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
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < BOUND, "not within {BOUND:?}: {what}");
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
