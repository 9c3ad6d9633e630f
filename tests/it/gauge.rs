//! A loopback server that counts what it serves: how many requests it is answering at once
//! (and the most ever), and when each arrived. A request counts from its arrival until its
//! answer is handed to hyper, so the server's count is never above what the clients had in
//! flight: a cap seen kept here was kept.

#![allow(dead_code)] // the tests and examples/fleet.rs each use a part

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;

/// What the server answers to a path.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// How long it takes to answer.
    pub delay: Duration,
}

impl Answer {
    pub fn ok(delay: Duration) -> Answer {
        Answer {
            status: 200,
            headers: Vec::new(),
            delay,
        }
    }
}

#[derive(Default)]
struct Counts {
    now: AtomicUsize,
    most: AtomicUsize,
    arrivals: Mutex<Vec<(Instant, String)>>,
}

/// A counting server on 127.0.0.1; see the module docs.
pub struct Gauge {
    addr: SocketAddr,
    counts: Arc<Counts>,
    _runtime: tokio::runtime::Runtime,
}

impl Gauge {
    pub fn start(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Gauge {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gauge")
            .enable_all()
            .build()
            .expect("tokio runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let counts = Arc::new(Counts::default());
        let answer = Arc::new(answer);
        let shared = counts.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (counts, answer) = (shared.clone(), answer.clone());
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (counts, answer) = (counts.clone(), answer.clone());
                    async move {
                        let path = req.uri().path().to_owned();
                        counts
                            .arrivals
                            .lock()
                            .unwrap()
                            .push((Instant::now(), path.clone()));
                        let now = counts.now.fetch_add(1, Ordering::SeqCst) + 1;
                        counts.most.fetch_max(now, Ordering::SeqCst);
                        let answer = answer(&path);
                        tokio::time::sleep(answer.delay).await;
                        let mut response =
                            hyper::Response::new(Full::new(Bytes::from_static(b"ok")));
                        *response.status_mut() =
                            hyper::StatusCode::from_u16(answer.status).unwrap();
                        for (name, value) in answer.headers {
                            response.headers_mut().insert(name, value.parse().unwrap());
                        }
                        counts.now.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, hyper::Error>(response)
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
        Gauge {
            addr,
            counts,
            _runtime: runtime,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `host:port`, as host limits name it.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// Requests being answered now.
    pub fn now(&self) -> usize {
        self.counts.now.load(Ordering::SeqCst)
    }

    /// The most requests it was ever answering at once.
    pub fn most(&self) -> usize {
        self.counts.most.load(Ordering::SeqCst)
    }

    /// When each request arrived, and its path, in order.
    pub fn arrivals(&self) -> Vec<(Instant, String)> {
        self.counts.arrivals.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.counts.arrivals.lock().unwrap().len()
    }

    /// The most requests that arrived within any span of `window`.
    pub fn most_within(&self, window: Duration) -> usize {
        let times: Vec<Instant> = self.arrivals().into_iter().map(|(at, _)| at).collect();
        let mut most = 0;
        let mut first = 0;
        for (last, &at) in times.iter().enumerate() {
            while at.duration_since(times[first]) >= window {
                first += 1;
            }
            most = most.max(last - first + 1);
        }
        most
    }
}
