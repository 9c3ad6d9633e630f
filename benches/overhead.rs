//! asynchttp's overhead against isahc called directly, in one process, against one loopback
//! server started here: throughput at several concurrencies, latency at concurrency 1, and
//! the memory of 10,000 queued requests (measured in a child process, so that nothing else
//! this bench does shows in its RSS).
//!
//! Run with `cargo bench --bench overhead`. These machines are noisy, so the two sides are
//! interleaved round by round and medians are reported.

use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use asynchttp::{Http, LazyContent, LazyResponse};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use isahc::HttpClient;
use isahc::config::{Configurable, ExpectContinue, RedirectPolicy};

const BODY: &[u8; 100] = &[b'x'; 100];
const CONCURRENCIES: [usize; 4] = [1, 8, 32, 128];
/// Requests per side per round, by concurrency (split evenly between the caller threads).
const REQUESTS: [usize; 4] = [4_000, 8_000, 8_000, 8_000];
const ROUNDS: usize = 7;
const LATENCY_REQUESTS: usize = 5_000;
/// Latency samples alternate between the sides in blocks of this many requests.
const LATENCY_BLOCK: usize = 250;
const QUEUED: usize = 10_000;
const QUEUED_WORKERS: usize = 8;
/// What `/slow` waits before answering, so that the 10,000 requests really queue.
const SLOW_DELAY: Duration = Duration::from_millis(1);
/// The server's threads: one per core of a 2-core machine; connections are multiplexed.
const SERVER_THREADS: usize = 2;
/// asynchttp's defaults, copied to the baseline so both sides put the same bytes and
/// settings on the wire.
const USER_AGENT: &str = concat!("asynchttp/", env!("CARGO_PKG_VERSION"));
const ACCEPT_ENCODING: &str = "gzip, deflate";
const TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-phase") {
        let url = args.get(i + 1).expect("--rss-phase <url>");
        rss_phase(url);
        return;
    }
    // `cargo bench --bench overhead -- latency memory` runs only those sections.
    let chosen: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |section: &str| chosen.is_empty() || chosen.contains(&section);

    let server = Server::start();
    let url = server.url("/");
    let started = Instant::now();

    if wants("throughput") {
        let rows: Vec<(usize, Row)> = CONCURRENCIES
            .iter()
            .zip(&REQUESTS)
            .map(|(&c, &requests)| (c, throughput_row(&url, c, requests)))
            .collect();
        print_throughput(&rows);
    }
    if wants("latency") {
        let (isahc, asynchttp) = latency(&url);
        println!(
            "latency c=1: isahc median {:.1} µs, asynchttp median {:.1} µs, added {:.1} µs",
            isahc,
            asynchttp,
            asynchttp - isahc
        );
    }
    if wants("memory") {
        let rss = run_rss_child(&server.url("/slow"));
        println!(
            "{QUEUED} queued ({QUEUED_WORKERS} workers): peak RSS {:.1} MiB (baseline {:.1} \
             MiB), ~{:.0} bytes per queued request",
            mib(rss.peak_kib),
            mib(rss.baseline_kib),
            (rss.submitted_kib.saturating_sub(rss.baseline_kib) * 1024) as f64 / QUEUED as f64,
        );
        println!(
            "  RSS {:.1} MiB right after submitting, when {} were still queued; peak {:.1} MiB \
             when the queue had drained; {}/{QUEUED} succeeded",
            mib(rss.submitted_kib),
            rss.queued_at_submit,
            mib(rss.drained_peak_kib),
            rss.ok
        );
        assert_eq!(rss.ok, QUEUED, "every queued request must succeed");
    }
    println!("(took {:.0} s)", started.elapsed().as_secs_f64());
}

fn print_throughput(rows: &[(usize, Row)]) {
    println!("concurrency  isahc req/s  asynchttp req/s  ratio  (per-round ratios: min..max)");
    for (c, row) in rows {
        println!(
            "{c:>11}  {:>11.0}  {:>15.0}  {:>5.3}  ({:.3}..{:.3})",
            row.isahc.rate,
            row.asynchttp.rate,
            row.asynchttp.rate / row.isahc.rate,
            row.ratio_min,
            row.ratio_max
        );
    }
    println!("  per request, whole process (server included): CPU µs, context switches");
    println!("  concurrency  isahc cpu  asynchttp cpu  added cpu  isahc cs  asynchttp cs");
    for (c, row) in rows {
        println!(
            "  {c:>11}  {:>9.1}  {:>13.1}  {:>9.1}  {:>8.2}  {:>12.2}",
            row.isahc.cpu_us,
            row.asynchttp.cpu_us,
            row.asynchttp.cpu_us - row.isahc.cpu_us,
            row.isahc.switches,
            row.asynchttp.switches
        );
    }
}

// ---- the two sides ----

/// The baseline: isahc configured as asynchttp configures its own client.
fn isahc_client(connections: usize) -> HttpClient {
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

fn isahc_get(client: &HttpClient, url: &str) {
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

fn asynchttp_client(workers: usize) -> Http {
    Http::builder()
        .workers(workers)
        .build()
        .expect("asynchttp client")
}

fn asynchttp_get(http: &Http, url: &str) {
    let (response, content) = http.request(url);
    let status = LazyResponse::wait(&response)
        .expect("asynchttp request")
        .status;
    check(status, LazyContent::wait(&content).expect("asynchttp body"));
}

fn check(status: u16, body: &[u8]) {
    assert!(
        status == 200 && body == BODY,
        "bad response: {status}, {} bytes",
        body.len()
    );
}

// ---- throughput ----

struct Row {
    isahc: Sample,
    asynchttp: Sample,
    ratio_min: f64,
    ratio_max: f64,
}

/// One side's round: requests per second, and per request the CPU time and context
/// switches of the whole process (server included: it does the same work for both sides).
#[derive(Clone, Copy)]
struct Sample {
    rate: f64,
    cpu_us: f64,
    switches: f64,
}

fn throughput_row(url: &str, c: usize, requests: usize) -> Row {
    // One client per side for the whole row, so connections stay open between rounds.
    let client = isahc_client(c);
    let http = asynchttp_client(c);
    let isahc_side = || isahc_get(&client, url);
    let asynchttp_side = || asynchttp_get(&http, url);

    // Warm-up: opens every connection and starts every worker.
    for _ in 0..2 {
        rate(c, requests / 4, &isahc_side);
        rate(c, requests / 4, &asynchttp_side);
    }
    let (mut isahc, mut asynchttp) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Alternate which side goes first, so neither always follows the other.
        if round % 2 == 0 {
            isahc.push(rate(c, requests, &isahc_side));
            asynchttp.push(rate(c, requests, &asynchttp_side));
        } else {
            asynchttp.push(rate(c, requests, &asynchttp_side));
            isahc.push(rate(c, requests, &isahc_side));
        }
    }
    let mut ratios: Vec<f64> = isahc
        .iter()
        .zip(&asynchttp)
        .map(|(a, b)| b.rate / a.rate)
        .collect();
    ratios.sort_by(f64::total_cmp);
    Row {
        isahc: Sample::median(&isahc),
        asynchttp: Sample::median(&asynchttp),
        ratio_min: ratios[0],
        ratio_max: ratios[ratios.len() - 1],
    }
}

impl Sample {
    /// The median of each field on its own.
    fn median(samples: &[Sample]) -> Sample {
        let field = |f: fn(&Sample) -> f64| median(&mut samples.iter().map(f).collect::<Vec<_>>());
        Sample {
            rate: field(|s| s.rate),
            cpu_us: field(|s| s.cpu_us),
            switches: field(|s| s.switches),
        }
    }
}

/// `c` threads each sending `requests / c` requests, one at a time.
fn rate(c: usize, requests: usize, one: &(impl Fn() + Sync)) -> Sample {
    let per_thread = requests / c;
    let barrier = Barrier::new(c + 1);
    thread::scope(|s| {
        let callers: Vec<_> = (0..c)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    for _ in 0..per_thread {
                        one();
                    }
                })
            })
            .collect();
        // Thread start-up stays out of the timing.
        barrier.wait();
        let (start, before) = (Instant::now(), Usage::now());
        for caller in callers {
            caller.join().expect("caller thread panicked");
        }
        let (elapsed, after) = (start.elapsed(), Usage::now());
        let n = (per_thread * c) as f64;
        Sample {
            rate: n / elapsed.as_secs_f64(),
            cpu_us: (after.cpu - before.cpu).as_secs_f64() * 1e6 / n,
            switches: (after.switches - before.switches) as f64 / n,
        }
    })
}

// ---- latency ----

/// Median microseconds per request at concurrency 1 for (isahc, asynchttp), the sides
/// alternating block by block.
fn latency(url: &str) -> (f64, f64) {
    let client = isahc_client(1);
    let http = asynchttp_client(1);
    let time = |samples: &mut Vec<f64>, one: &dyn Fn()| {
        for _ in 0..LATENCY_BLOCK {
            let start = Instant::now();
            one();
            samples.push(start.elapsed().as_secs_f64() * 1e6);
        }
    };
    let isahc_side = || isahc_get(&client, url);
    let asynchttp_side = || asynchttp_get(&http, url);
    let (mut warm, mut isahc, mut asynchttp) = (Vec::new(), Vec::new(), Vec::new());
    time(&mut warm, &isahc_side);
    time(&mut warm, &asynchttp_side);
    for _ in 0..LATENCY_REQUESTS / LATENCY_BLOCK {
        time(&mut isahc, &isahc_side);
        time(&mut asynchttp, &asynchttp_side);
    }
    (median(&mut isahc), median(&mut asynchttp))
}

// ---- memory ----

/// What the child reports, in KiB.
struct Rss {
    baseline_kib: u64,
    submitted_kib: u64,
    /// VmHWM when the queue had just drained.
    drained_peak_kib: u64,
    /// VmHWM once every request was done, all results still held.
    peak_kib: u64,
    queued_at_submit: usize,
    ok: usize,
}

fn run_rss_child(url: &str) -> Rss {
    let exe = std::env::current_exe().expect("current exe");
    let output = Command::new(exe)
        .args(["--rss-phase", url])
        .output()
        .expect("run the memory phase");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "memory phase failed: {}\n{text}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let field = |name: &str| -> u64 {
        text.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text:?}"))
    };
    Rss {
        baseline_kib: field("baseline"),
        submitted_kib: field("submitted"),
        drained_peak_kib: field("drained_peak"),
        peak_kib: field("peak"),
        queued_at_submit: field("queued_at_submit") as usize,
        ok: field("ok") as usize,
    }
}

/// The child: a warmed-up client, then 10,000 requests at once to a slow endpoint.
fn rss_phase(url: &str) {
    let http = asynchttp_client(QUEUED_WORKERS);
    // Warm-up: every worker started, every connection open, allocator arenas in use.
    for _ in 0..4 {
        let pairs: Vec<_> = (0..QUEUED_WORKERS * 8).map(|_| http.request(url)).collect();
        for (response, content) in &pairs {
            check(LazyResponse::wait(response).unwrap().status, content);
        }
    }
    // The caller's own storage for the pairs is not asynchttp's cost.
    let mut pairs = Vec::with_capacity(QUEUED);
    let baseline = proc_status_kib("VmRSS");
    // Resets VmHWM to the current RSS (Linux 4.0+), so that the peak is this phase's.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    if !reset {
        eprintln!("note: could not reset VmHWM; the peak may predate the phase");
    }

    for _ in 0..QUEUED {
        pairs.push(http.request(url));
    }
    let submitted = proc_status_kib("VmRSS");
    let queued_at_submit = http.pool().queued();
    while http.pool().queued() > 0 {
        thread::sleep(Duration::from_millis(1));
    }
    let drained_peak = proc_status_kib("VmHWM");
    let ok = pairs
        .iter()
        .filter(|(response, content)| {
            matches!(
                (LazyResponse::wait(response), LazyContent::wait(content)),
                (Ok(r), Ok(body)) if r.status == 200 && body == BODY
            )
        })
        .count();
    let peak = proc_status_kib("VmHWM");
    println!(
        "baseline={baseline} submitted={submitted} drained_peak={drained_peak} peak={peak} \
         queued_at_submit={queued_at_submit} ok={ok}"
    );
}

/// A `kB` field of /proc/self/status.
fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

// ---- the server ----

/// A hyper server on 127.0.0.1:0 answering every request with `BODY`; `/slow` waits
/// `SLOW_DELAY` first. Not tiny_http: its connection thread pool can leave a new connection
/// unserved while others stay open (a race between `TaskPool::spawn` and an idle thread
/// waking), so with 32 or more keep-alive connections some requests hang until they time out.
struct Server {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(SERVER_THREADS)
            .thread_name("server")
            .enable_all()
            .build()
            .expect("server runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service_fn(respond)),
                );
            }
        });
        Server {
            addr,
            _runtime: runtime,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn respond(
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    if request.uri().path() == "/slow" {
        tokio::time::sleep(SLOW_DELAY).await;
    }
    Ok(hyper::Response::new(Full::new(Bytes::from_static(BODY))))
}

// ---- helpers ----

/// CPU time and context switches of the whole process: every thread, live or ended.
struct Usage {
    cpu: Duration,
    switches: u64,
}

impl Usage {
    #[allow(unsafe_code)]
    fn now() -> Usage {
        // SAFETY: getrusage only writes the struct it is given; all-zero is a valid rusage.
        let ru = unsafe {
            let mut ru: libc::rusage = std::mem::zeroed();
            assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut ru), 0, "getrusage");
            ru
        };
        let time = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        Usage {
            cpu: time(ru.ru_utime) + time(ru.ru_stime),
            switches: (ru.ru_nvcsw + ru.ru_nivcsw) as u64,
        }
    }
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
