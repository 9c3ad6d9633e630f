//! What the bench targets share: the loopback hyper server, the isahc baseline configured as
//! asynchttp configures its own client, getrusage and `/proc` sampling, medians, the child
//! process runner, and the closing report of targets met.
//!
//! It lives in `benches/common/mod.rs`, which cargo does not take for a bench target of its
//! own (only `benches/*.rs` and `benches/*/main.rs` are), and each target includes it with
//! `mod common;`.

// Each bench target uses only part of this module; the rest would warn in every one of them.
#![allow(dead_code)]

use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use asynchttp::{Http, LazyContent, LazyResponse};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use isahc::HttpClient;
use isahc::config::{Configurable, ExpectContinue, RedirectPolicy};
use nix::sys::resource::{UsageWho, getrusage};

/// What the server answers by default: every timed request of the throughput and latency
/// benches gets these 100 bytes.
pub const BODY: &[u8; 100] = &[b'x'; 100];
/// What `/small` answers: a batch's memory is then the requests' and responses' own.
pub const SMALL_BODY: &[u8] = b"small";
/// What `/slow` waits before answering, so that queued requests really queue.
pub const SLOW_DELAY: Duration = Duration::from_millis(1);
/// asynchttp's defaults, copied to the baseline so both sides put the same bytes and
/// settings on the wire.
pub const USER_AGENT: &str = concat!("asynchttp/", env!("CARGO_PKG_VERSION"));
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";
pub const TIMEOUT: Duration = Duration::from_secs(30);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `cargo bench --bench NAME -- --quick` (or `ASYNCHTTP_BENCH_QUICK=1`): fewer rounds and
/// requests, to see that a bench runs rather than to measure.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick") || std::env::var_os("ASYNCHTTP_BENCH_QUICK").is_some()
}

/// `full` normally, `quick` with `--quick`.
pub fn rounds_or(full: usize, quick_value: usize) -> usize {
    if quick() { quick_value } else { full }
}

// ---- the two sides ----

/// The baseline: isahc configured as asynchttp configures its own client.
pub fn isahc_client(connections: usize) -> HttpClient {
    HttpClient::builder()
        .redirect_policy(RedirectPolicy::None)
        .automatic_decompression(false)
        .expect_continue(ExpectContinue::disabled())
        .connect_timeout(CONNECT_TIMEOUT)
        .max_connections(connections)
        .max_connections_per_host(connections)
        .build()
        .expect("isahc client")
}

pub fn isahc_get(client: &HttpClient, url: &str) {
    let request = isahc::Request::get(url)
        .header("user-agent", USER_AGENT)
        .header("accept-encoding", ACCEPT_ENCODING)
        .timeout(TIMEOUT)
        .body(())
        .expect("request");
    let mut response = client.send(request).expect("isahc request");
    let mut body = Vec::new();
    response
        .body_mut()
        .read_to_end(&mut body)
        .expect("isahc body");
    check(response.status().as_u16(), &body);
}

pub fn asynchttp_client(workers: usize) -> Http {
    Http::builder()
        .workers(workers)
        .build()
        .expect("asynchttp client")
}

pub fn asynchttp_get(http: &Http, url: &str) {
    let (response, content) = http.request(url);
    let status = LazyResponse::wait(&response)
        .expect("asynchttp request")
        .status;
    check(status, LazyContent::wait(&content).expect("asynchttp body"));
}

pub fn check(status: u16, body: &[u8]) {
    assert!(
        status == 200 && body == BODY,
        "bad response: {status}, {} bytes",
        body.len()
    );
}

// ---- the server ----

/// Bodies the server answers as they are, by path, with the `Content-Encoding` given (none
/// if empty): set by a bench before its first request.
pub static CODED: OnceLock<Vec<(String, &'static str, Bytes)>> = OnceLock::new();

/// A hyper server on 127.0.0.1:0 answering every request with `BODY`, a POST once its body
/// is read (400 if it is not the length announced); `/slow` waits
/// `SLOW_DELAY` first, `/small` answers `SMALL_BODY` instead, `/fresh` is fresh for ten
/// minutes and `/etag` is stale at once and answers `If-None-Match` with a 304. One thread,
/// multiplexing every connection: it keeps up with the clients (about 7 µs of CPU a request)
/// while leaving them the most CPU and adding no wake-ups between server threads. Not
/// tiny_http: its connection thread pool can leave a new connection unserved while others
/// stay open (a race between `TaskPool::spawn` and an idle thread waking), so at 32
/// keep-alive connections and more some requests hang until they time out.
pub struct Server {
    addr: SocketAddr,
}

impl Server {
    pub fn start() -> Server {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        // Serves until the process exits.
        thread::Builder::new()
            .name("server".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(
                            hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service_fn(respond)),
                        );
                    }
                })
            })
            .expect("server thread");
        Server { addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn respond(
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(BODY)));
    if request.method() == hyper::Method::POST {
        // A POST's body is read whole (so its connection is kept), and one shorter or
        // longer than it announced is answered 400.
        let announced = request
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let body = request.into_body().collect().await.map(|b| b.to_bytes());
        if body.map(|b| b.len()).ok() != announced {
            *response.status_mut() = hyper::StatusCode::BAD_REQUEST;
        }
        return Ok(response);
    }
    let mut coded = CODED.get().into_iter().flatten();
    if let Some((_, coding, body)) = coded.find(|(path, ..)| path == request.uri().path()) {
        *response.body_mut() = Full::new(body.clone());
        if !coding.is_empty() {
            let coding = hyper::header::HeaderValue::from_static(coding);
            response.headers_mut().insert("content-encoding", coding);
        }
        return Ok(response);
    }
    match request.uri().path() {
        "/slow" => tokio::time::sleep(SLOW_DELAY).await,
        "/small" => *response.body_mut() = Full::new(Bytes::from_static(SMALL_BODY)),
        "/fresh" => {
            let value = hyper::header::HeaderValue::from_static("max-age=600");
            response.headers_mut().insert("cache-control", value);
        }
        "/etag" => {
            let headers = response.headers_mut();
            headers.insert(
                "cache-control",
                hyper::header::HeaderValue::from_static("max-age=0"),
            );
            headers.insert("etag", hyper::header::HeaderValue::from_static("\"v1\""));
            if request.headers().get("if-none-match").is_some() {
                *response.status_mut() = hyper::StatusCode::NOT_MODIFIED;
                *response.body_mut() = Full::new(Bytes::new());
            }
        }
        _ => {}
    }
    Ok(response)
}

// ---- child processes ----

/// This bench run again as a child, with `args` (the first names its phase): what it
/// printed. A child's RSS holds nothing of what the parent did before.
pub fn run_child(args: &[&str]) -> String {
    let phase = args[0];
    let exe = std::env::current_exe().expect("current exe");
    let output = Command::new(exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {phase}: {e}"));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{phase} failed: {}\n{text}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

/// The `name=value` field of a child's report.
pub fn field(text: &str, name: &str) -> u64 {
    text.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text:?}"))
}

/// The value of the argument after `flag`, if `flag` was given.
pub fn arg_after(flag: &str) -> Option<Vec<String>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let i = args.iter().position(|a| a == flag)?;
    Some(args[i + 1..].to_vec())
}

/// A `kB` field of /proc/self/status.
pub fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Resets VmHWM to the current RSS (Linux 4.0+), so that a peak read later is the phase's.
pub fn reset_peak_rss() {
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        eprintln!("note: could not reset VmHWM; the peak may predate the phase");
    }
}

// ---- measuring ----

/// CPU time and context switches of the whole process: every thread, live or ended.
pub struct Usage {
    pub cpu: Duration,
    pub switches: u64,
}

impl Usage {
    pub fn now() -> Usage {
        Usage::of(UsageWho::RUSAGE_SELF)
    }

    /// This process and its children that have been waited for (the memory phases').
    pub fn with_children() -> Usage {
        let (own, children) = (
            Usage::of(UsageWho::RUSAGE_SELF),
            Usage::of(UsageWho::RUSAGE_CHILDREN),
        );
        Usage {
            cpu: own.cpu + children.cpu,
            switches: own.switches + children.switches,
        }
    }

    fn of(who: UsageWho) -> Usage {
        let usage = getrusage(who).expect("getrusage");
        let time = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
        };
        Usage {
            cpu: time(usage.user_time()) + time(usage.system_time()),
            switches: (usage.voluntary_context_switches() + usage.involuntary_context_switches())
                as u64,
        }
    }
}

/// Medians of a run of rounds comparing a client `a` with a client `b`: each side's CPU
/// microseconds per request and requests per second, and the medians of the rounds' own
/// ratios of `b` to `a`.
pub struct Against {
    pub cpu: (f64, f64),
    pub rate: (f64, f64),
    pub cpu_ratio: f64,
    pub rate_ratio: f64,
}

/// Runs `a` (`run(false)`) then `b` (`run(true)`) in each of `rounds` rounds, printing each
/// round's figures under the sides' `names`; `run` gives CPU microseconds per request and
/// requests per second.
pub fn against(
    rounds: usize,
    names: (&str, &str),
    mut run: impl FnMut(bool) -> (f64, f64),
) -> Against {
    let mut sides: [Vec<f64>; 6] = Default::default();
    for round in 1..=rounds {
        let (a, b) = (run(false), run(true));
        println!(
            "round {round}: {} {:.1} µs CPU/request, {:.0} req/s; {} {:.1} µs, {:.0} req/s",
            names.0, a.0, a.1, names.1, b.0, b.1
        );
        for (list, value) in sides
            .iter_mut()
            .zip([a.0, b.0, a.1, b.1, b.0 / a.0, b.1 / a.1])
        {
            list.push(value);
        }
    }
    let [cpu_a, cpu_b, rate_a, rate_b, cpu_ratio, rate_ratio] =
        sides.map(|mut list| median(&mut list));
    Against {
        cpu: (cpu_a, cpu_b),
        rate: (rate_a, rate_b),
        cpu_ratio,
        rate_ratio,
    }
}

pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// CPU time used by everything on the machine (every CPU), from /proc/stat.
pub fn machine_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
    let line = stat.lines().next().expect("cpu line");
    // user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy.
    let busy: u64 = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v.parse::<u64>().expect("jiffies"))
        .sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(busy * 10)
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

// ---- the closing report ----

/// The targets a bench checks, printed at the end with how long it took and how busy the
/// rest of the machine was meanwhile. Missing a target does not fail the run: these
/// machines are shared and noisy, and a reader judges the figures with that in mind.
pub struct Report {
    started: Instant,
    machine_before: Duration,
    ours_before: Duration,
    verdicts: Vec<(String, bool)>,
}

impl Report {
    pub fn start() -> Report {
        Report {
            started: Instant::now(),
            machine_before: machine_cpu(),
            ours_before: Usage::with_children().cpu,
            verdicts: Vec::new(),
        }
    }

    pub fn target(&mut self, name: String, met: bool) {
        self.verdicts.push((name, met));
    }

    pub fn finish(self) {
        let elapsed = self.started.elapsed();
        // Other processes on the machine disturb these figures; say how much they ran.
        let ours = Usage::with_children().cpu - self.ours_before;
        let others = (machine_cpu() - self.machine_before).saturating_sub(ours);
        let (met, missed): (Vec<_>, Vec<_>) = self.verdicts.into_iter().partition(|(_, ok)| *ok);
        let names = |v: Vec<(String, bool)>| v.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        println!("targets met: {}", names(met).join("; "));
        println!("targets missed: {}", names(missed).join("; "));
        println!(
            "(took {:.0} s; the rest of the machine used {:.0}% of one CPU meanwhile)",
            elapsed.as_secs_f64(),
            others.as_secs_f64() * 100.0 / elapsed.as_secs_f64()
        );
    }
}
