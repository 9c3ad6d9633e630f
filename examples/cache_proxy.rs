//! A caching reverse proxy: every request it receives goes through one shared [`Http`] with
//! a cache, to one upstream server, and the answer goes back as the cache gave it. This is
//! how `conformance/cache-tests/run.sh` puts the cache in front of the HTTP cache test
//! suite's server, and a way to watch the cache from a browser or `curl`.
//!
//! ```sh
//! cargo run --example cache_proxy -- --upstream http://127.0.0.1:8000 --listen 127.0.0.1:8080
//! ```
//!
//! Options: `--upstream URL` (required), `--listen ADDR` (default `127.0.0.1:0`: a free
//! port), `--cache DIR` (a folder for the on-disk cache), `--redis URL` (a Redis server for
//! the cache, with `--features redis`); without either, entries are kept in memory.
//! `--stale-if-error SECONDS` answers with a stale stored response, that many seconds
//! past its freshness at most, when the upstream cannot be reached or answers 500, 502,
//! 503 or 504 (`HttpBuilder::stale_if_error`), as a browser does offline. The first line
//! printed is
//! `listening on http://ADDR`, for scripts. `RUST_LOG=asynchttp=debug` shows each request.
//!
//! Redirects are not followed: a 3xx goes back to the caller, as from any proxy. End-to-end
//! headers pass both ways; hop-by-hop ones (RFC 9110 §7.6.1), and those that `Connection`
//! names, are dropped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use asynchttp::{Error, Http, LazyContent, LazyResponse, MemoryCache, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), with `Host`
/// and `Content-Length`, which the sending side sets for itself.
const HOP_BY_HOP: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

struct Options {
    upstream: String,
    listen: SocketAddr,
    cache: Store,
    stale_if_error: Option<Duration>,
}

/// Where the cache keeps its entries.
enum Store {
    Memory,
    Dir(PathBuf),
    Redis(String),
}

fn main() {
    env_logger::init();
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("cache_proxy: {message}");
            eprintln!(
                "usage: cache_proxy --upstream URL [--listen ADDR] [--cache DIR | --redis URL] \
                 [--stale-if-error SECONDS]"
            );
            std::process::exit(2);
        }
    };
    let builder = Http::builder()
        .follow_redirects(false)
        .workers(32)
        .timeout(Duration::from_secs(30));
    let builder = match &options.cache {
        Store::Dir(dir) => builder.cache(dir),
        Store::Memory => builder.cache_store(Arc::new(MemoryCache::new())),
        Store::Redis(url) => builder.cache_store(redis_store(url)),
    };
    let builder = match options.stale_if_error {
        Some(max) => builder.stale_if_error(max),
        None => builder,
    };
    let http = builder.build().expect("the client starts");
    let upstream: Arc<str> = Arc::from(options.upstream.trim_end_matches('/'));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("proxy-io")
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .unwrap_or_else(|e| panic!("cannot listen on {}: {e}", options.listen));
        let addr = listener.local_addr().expect("a bound address");
        println!("listening on http://{addr}");
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    log::warn!("accept: {e}");
                    continue;
                }
            };
            let (http, upstream) = (http.clone(), upstream.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req| forward(http.clone(), upstream.clone(), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

/// Sends one incoming request through the shared client and turns its answer back into a
/// response for the caller.
async fn forward(
    http: Http,
    upstream: Arc<str>,
    incoming: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = incoming.into_parts();
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => return Ok(failure(400, &format!("reading the request body: {e}"))),
    };
    let target = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let dropped = connection_names(parts.headers.get_all("connection").iter());
    let mut request = Request::new(parts.method.as_str(), target.as_str());
    for name in parts.headers.keys() {
        if HOP_BY_HOP.contains(&name.as_str()) || dropped.contains(&name.as_str().to_owned()) {
            continue;
        }
        // Request::header keeps one value per name: repeated lines are joined as a list.
        let values: Vec<String> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        request = request.header(name.as_str(), values.join(", "));
    }
    if !body.is_empty() {
        request = request.body(body.to_vec());
    }
    let head = parts.method == hyper::Method::HEAD;
    let (response, content) = http.send(request);
    // The pair blocks on access: wait on a blocking thread, not on the runtime's.
    let answer = tokio::task::spawn_blocking(move || -> Result<(Response, Vec<u8>), Error> {
        let response = LazyResponse::wait(&response)?.clone();
        let content = LazyContent::wait(&content)?.to_vec();
        Ok((response, content))
    })
    .await;
    Ok(match answer {
        Ok(Ok((response, content))) => reply(&response, content, &target, head),
        Ok(Err(e)) => {
            log::warn!("{target}: {e}");
            failure(502, &e.to_string())
        }
        Err(e) => failure(500, &format!("the waiting task failed: {e}")),
    })
}

/// The client's response as one for the caller: the headers received (or stored), less
/// hop-by-hop ones and the keys httplib2 adds. A body the client decoded has lost its
/// `Content-Encoding` (kept as `-content-encoding`), so it goes out as it is now.
fn reply(
    response: &Response,
    content: Vec<u8>,
    target: &str,
    head: bool,
) -> hyper::Response<Full<Bytes>> {
    let dropped = connection_names(response.get_all("connection"));
    let mut out = hyper::Response::builder().status(response.status);
    for (name, _) in response.headers() {
        let added = name == "status"
            || name.starts_with('-')
            // httplib2 adds content-location (the request's URL) to a 200 without one.
            || (name == "content-location" && response.get(name) == Some(target));
        if added || HOP_BY_HOP.contains(&name) || dropped.iter().any(|d| d == name) {
            continue;
        }
        for value in response.get_all(name) {
            out = out.header(name, value);
        }
    }
    let body = if head {
        Bytes::new()
    } else {
        Bytes::from(content)
    };
    out.body(Full::new(body))
        .unwrap_or_else(|e| failure(502, &format!("the response cannot be passed on: {e}")))
}

/// The header names listed in `Connection` values, lower-cased.
fn connection_names<'a, V: AsRef<[u8]> + 'a>(values: impl Iterator<Item = V>) -> Vec<String> {
    values
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_ref())
                .split(',')
                .map(|n| n.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

fn failure(status: u16, message: &str) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    response
}

/// The cache in Redis at `url`.
#[cfg(feature = "redis")]
fn redis_store(url: &str) -> Arc<dyn asynchttp::Cache> {
    match asynchttp::RedisCache::new(url) {
        Ok(cache) => Arc::new(cache),
        Err(e) => {
            eprintln!("cache_proxy: --redis {url}: {e}");
            std::process::exit(2);
        }
    }
}

#[cfg(not(feature = "redis"))]
fn redis_store(_: &str) -> Arc<dyn asynchttp::Cache> {
    eprintln!("cache_proxy: --redis needs the redis feature (cargo run --features redis ...)");
    std::process::exit(2);
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let (mut upstream, mut listen, mut cache) = (None, "127.0.0.1:0".to_owned(), Store::Memory);
    let mut stale_if_error = None;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--upstream" => upstream = Some(value()?),
            "--listen" => listen = value()?,
            "--cache" => cache = Store::Dir(PathBuf::from(value()?)),
            "--redis" => cache = Store::Redis(value()?),
            "--stale-if-error" => {
                let seconds = value()?;
                let seconds = seconds
                    .parse()
                    .map_err(|e| format!("--stale-if-error {seconds}: {e}"))?;
                stale_if_error = Some(Duration::from_secs(seconds));
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(Options {
        upstream: upstream.ok_or("--upstream is required")?,
        listen: listen
            .parse()
            .map_err(|e| format!("--listen {listen}: {e}"))?,
        cache,
        stale_if_error,
    })
}
