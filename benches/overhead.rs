//! asynchttp's overhead against isahc called directly, in one process, against one loopback
//! server started here: throughput at several concurrencies, latency at concurrency 1, the
//! memory of 10,000 queued requests, and the time and memory of a batch of 100,000 (both
//! measured in a child process, so that nothing else this bench does shows in its RSS).
//!
//! `cargo bench --bench overhead` runs them all; `cargo bench --bench overhead -- latency`
//! (or `throughput`, `cache`, `memory`, `batch`) runs some. The cache section compares a
//! fresh hit in a FileCache, and a 304 revalidation, with a network round trip. These
//! machines are noisy, so the two sides are interleaved round by round, and the throughput
//! ratio is the median of the rounds' ratios.
//! The CPU time and context switches per request are printed too: they say where the time
//! goes. The targets are checked and printed at the end; missing one does not fail the run.

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
use nix::sys::resource::{UsageWho, getrusage};

const BODY: &[u8; 100] = &[b'x'; 100];
const CONCURRENCIES: [usize; 4] = [1, 8, 32, 128];
/// Requests per side per round, by concurrency (split evenly between the caller threads).
const REQUESTS: [usize; 4] = [3_000, 6_000, 6_000, 6_000];
/// Many short rounds: the two sides of a round run back to back, so their ratio is less
/// disturbed by other load than the two sides' medians over the whole run.
const ROUNDS: usize = 15;
const LATENCY_REQUESTS: usize = 5_000;
/// Latency samples alternate between the sides in blocks of this many requests, each
/// block after this many untimed ones (connecting, starting threads).
const LATENCY_BLOCK: usize = 250;
const LATENCY_WARMUP: usize = 20;
const QUEUED: usize = 10_000;
const QUEUED_WORKERS: usize = 8;
/// What `/slow` waits before answering, so that the 10,000 requests really queue.
const SLOW_DELAY: Duration = Duration::from_millis(1);
/// One `Http::batch` of this many distinct URLs, to `/small`.
const BATCH: usize = 100_000;
const BATCH_WORKERS: usize = 8;
/// The queue's bound in the second batch run.
const BATCH_QUEUE: usize = 1_000;
/// A batch keeps every result; this is what its peak may add per request.
const TARGET_BATCH_BYTES: f64 = 2048.0;
/// What `/small` answers: the batch's memory is then the requests' and responses' own.
const SMALL_BODY: &[u8] = b"small";
/// asynchttp's defaults, copied to the baseline so both sides put the same bytes and
/// settings on the wire.
const USER_AGENT: &str = concat!("asynchttp/", env!("CARGO_PKG_VERSION"));
const ACCEPT_ENCODING: &str = "gzip, deflate";
const TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The project's targets on a 2-core machine.
const TARGET_RATIO: f64 = 0.95;
const TARGET_ADDED_LATENCY_US: f64 = 15.0;
const TARGET_PEAK_MIB: f64 = 20.0;
const TARGET_CACHE_SPEEDUP: f64 = 5.0;
const CACHE_REQUESTS: usize = 2_000;
const CACHE_BLOCK: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-phase") {
        let url = args.get(i + 1).expect("--rss-phase <url>");
        rss_phase(url);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--batch-phase") {
        let url = args.get(i + 1).expect("--batch-phase <url> [bounded]");
        let bounded = args.get(i + 2).is_some_and(|a| a == "bounded");
        batch_phase(url, bounded);
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
    let (started, machine_before, us_before) =
        (Instant::now(), machine_cpu(), Usage::with_children());
    let mut verdicts = Vec::new();

    // Latency first: it is the most sensitive to what earlier sections leave behind.
    if wants("latency") {
        eprintln!("latency...");
        let Latency {
            isahc,
            asynchttp,
            added,
        } = latency(&url);
        println!(
            "latency c=1: isahc median {isahc:.1} µs, asynchttp median {asynchttp:.1} µs, \
             added {added:.1} µs (median of the rounds' differences)"
        );
        verdicts.push((
            format!("added latency <= {TARGET_ADDED_LATENCY_US} µs"),
            added <= TARGET_ADDED_LATENCY_US,
        ));
    }
    if wants("throughput") {
        let rows: Vec<(usize, Row)> = CONCURRENCIES
            .iter()
            .zip(&REQUESTS)
            .map(|(&c, &requests)| {
                eprintln!("throughput at concurrency {c}...");
                (c, throughput_row(&url, c, requests))
            })
            .collect();
        print_throughput(&rows);
        for (c, row) in &rows {
            verdicts.push((
                format!("ratio >= {TARGET_RATIO} at c={c}"),
                row.ratio >= TARGET_RATIO,
            ));
        }
    }
    if wants("cache") {
        eprintln!("cache...");
        let (network, fresh, revalidated) = cache_latency(&server);
        println!(
            "cache (FileCache), median per request: network round trip {network:.1} µs, \
             fresh hit {fresh:.1} µs ({:.1}x faster), 304 revalidation {revalidated:.1} µs",
            network / fresh
        );
        verdicts.push((
            format!("fresh hit >= {TARGET_CACHE_SPEEDUP}x faster than the round trip"),
            network / fresh >= TARGET_CACHE_SPEEDUP,
        ));
    }
    if wants("memory") {
        eprintln!("memory...");
        let rss = run_rss_child(&server.url("/slow"));
        println!(
            "10,000 queued ({QUEUED_WORKERS} workers): peak RSS {:.1} MiB (baseline {:.1} MiB), \
             ~{:.0} bytes per queued request",
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
        verdicts.push((
            format!("peak RSS < {TARGET_PEAK_MIB} MiB"),
            mib(rss.peak_kib) < TARGET_PEAK_MIB,
        ));
    }
    if wants("batch") {
        eprintln!("batch...");
        let b = run_batch_child(&server.url("/small"), false);
        let secs = b.wall_us as f64 / 1e6;
        let per_request =
            |b: &BatchRss| (b.peak_kib.saturating_sub(b.baseline_kib) * 1024) as f64 / BATCH as f64;
        println!(
            "batch of 100,000 ({BATCH_WORKERS} workers): {secs:.2} s, {:.0} req/s \
             (http.batch returned after {:.2} s, with {} still queued)",
            BATCH as f64 / secs,
            b.submit_us as f64 / 1e6,
            b.queued_at_submit
        );
        println!(
            "  RSS baseline {:.1} MiB, peak {:.1} MiB: ~{:.0} bytes per request \
             ((peak - baseline) / {BATCH})",
            mib(b.baseline_kib),
            mib(b.peak_kib),
            per_request(&b),
        );
        println!(
            "  RSS {:.1} MiB right after submitting; peak {:.1} MiB when the queue had \
             drained; RSS {:.1} MiB when all were done, {:.1} MiB once the batch was dropped; \
             {}/{BATCH} succeeded, {} failed",
            mib(b.submitted_kib),
            mib(b.drained_peak_kib),
            mib(b.done_kib),
            mib(b.dropped_kib),
            b.ok,
            b.failed
        );
        assert!(
            b.ok == BATCH && b.failed == 0,
            "every request of the batch must succeed"
        );
        verdicts.push((
            format!("batch peak < {TARGET_BATCH_BYTES} bytes per request"),
            per_request(&b) < TARGET_BATCH_BYTES,
        ));
        let q = run_batch_child(&server.url("/small"), true);
        println!(
            "  with queue_limit({BATCH_QUEUE}, Block): {:.2} s, peak {:.1} MiB, ~{:.0} bytes \
             per request; {}/{BATCH} succeeded, {} failed",
            q.wall_us as f64 / 1e6,
            mib(q.peak_kib),
            per_request(&q),
            q.ok,
            q.failed
        );
        assert!(q.ok == BATCH && q.failed == 0, "every request must succeed");
    }
    let elapsed = started.elapsed();
    // Other processes on the machine disturb these figures; say how much they ran.
    let ours = Usage::with_children().cpu - us_before.cpu;
    let others = (machine_cpu() - machine_before).saturating_sub(ours);
    let (met, missed): (Vec<_>, Vec<_>) = verdicts.into_iter().partition(|(_, ok)| *ok);
    let names = |v: Vec<(String, bool)>| v.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    println!("targets met: {}", names(met).join("; "));
    println!("targets missed: {}", names(missed).join("; "));
    println!(
        "(took {:.0} s; the rest of the machine used {:.0}% of one CPU meanwhile)",
        elapsed.as_secs_f64(),
        others.as_secs_f64() * 100.0 / elapsed.as_secs_f64()
    );
}

fn print_throughput(rows: &[(usize, Row)]) {
    println!(
        "concurrency  isahc req/s  asynchttp req/s  ratio  (rounds: min..max)  \
         closed-loop req/s  ratio"
    );
    for (c, row) in rows {
        println!(
            "{c:>11}  {:>11.0}  {:>15.0}  {:>5.3}  ({:.3}..{:.3})        {:>17.0}  {:>5.3}",
            row.isahc.rate,
            row.asynchttp.rate,
            row.ratio,
            row.ratio_min,
            row.ratio_max,
            row.asynchttp_closed.rate,
            row.ratio_closed
        );
    }
    println!("  per request, whole process (server included): CPU µs, context switches");
    println!(
        "  concurrency  isahc cpu  asynchttp cpu  closed-loop cpu  isahc cs  asynchttp cs  closed-loop cs"
    );
    for (c, row) in rows {
        println!(
            "  {c:>11}  {:>9.1}  {:>13.1}  {:>15.1}  {:>8.2}  {:>12.2}  {:>14.2}",
            row.isahc.cpu_us,
            row.asynchttp.cpu_us,
            row.asynchttp_closed.cpu_us,
            row.isahc.switches,
            row.asynchttp.switches,
            row.asynchttp_closed.switches
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
    /// One thread submits the round's requests at once and then reads them: how asynchttp
    /// is meant to be used, with `c` workers keeping `c` requests in flight.
    asynchttp: Sample,
    /// `c` caller threads each making a request and waiting for it before the next: every
    /// request then pays a hand-off to a worker and back.
    asynchttp_closed: Sample,
    /// asynchttp/isahc: the median of the rounds' ratios, and their range.
    ratio: f64,
    ratio_min: f64,
    ratio_max: f64,
    ratio_closed: f64,
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
    let isahc_side = || rate(c, requests, &|| isahc_get(&client, url));
    let batch_side = || batch_rate(&http, url, requests);
    let closed_side = || rate(c, requests, &|| asynchttp_get(&http, url));

    // Warm-up: opens every connection and starts every worker.
    for _ in 0..2 {
        isahc_side();
        batch_side();
        closed_side();
    }
    let (mut isahc, mut asynchttp, mut closed) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Alternate which side goes first, so neither always follows the other.
        if round % 2 == 0 {
            isahc.push(isahc_side());
            asynchttp.push(batch_side());
        } else {
            asynchttp.push(batch_side());
            isahc.push(isahc_side());
        }
        if round % 3 == 0 {
            closed.push(closed_side());
        }
    }
    let mut ratios: Vec<f64> = isahc
        .iter()
        .zip(&asynchttp)
        .map(|(a, b)| b.rate / a.rate)
        .collect();
    let ratio = median(&mut ratios); // sorts them too
    let isahc = Sample::median(&isahc);
    let asynchttp_closed = Sample::median(&closed);
    Row {
        isahc,
        asynchttp: Sample::median(&asynchttp),
        asynchttp_closed,
        ratio,
        ratio_min: ratios[0],
        ratio_max: ratios[ratios.len() - 1],
        ratio_closed: asynchttp_closed.rate / isahc.rate,
    }
}

/// One thread submits `requests` at once, then reads every pair.
fn batch_rate(http: &Http, url: &str, requests: usize) -> Sample {
    let (start, before) = (Instant::now(), Usage::now());
    let pairs: Vec<_> = (0..requests).map(|_| http.request(url)).collect();
    for (response, content) in &pairs {
        let status = LazyResponse::wait(response)
            .expect("asynchttp request")
            .status;
        check(status, LazyContent::wait(content).expect("asynchttp body"));
    }
    sample(start, &before, requests)
}

fn sample(start: Instant, before: &Usage, n: usize) -> Sample {
    let (elapsed, after) = (start.elapsed(), Usage::now());
    let n = n as f64;
    Sample {
        rate: n / elapsed.as_secs_f64(),
        cpu_us: (after.cpu - before.cpu).as_secs_f64() * 1e6 / n,
        switches: (after.switches - before.switches) as f64 / n,
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
        sample(start, &before, per_thread * c)
    })
}

// ---- latency ----

/// Median microseconds per request at concurrency 1 for (isahc, asynchttp), the sides
/// alternating block by block.
///
/// Each block has new clients, hence new threads: how long a wake-up takes depends on
/// whether the woken thread's CPU is idle (about 20 µs on a small VM) or busy (1 or 2 µs),
/// which depends on where the scheduler happened to put the threads. One set of threads for
/// the whole run would give one placement's figure, different from run to run.
fn latency(url: &str) -> Latency {
    let block = |one: &dyn Fn()| {
        let mut samples = Vec::with_capacity(LATENCY_BLOCK);
        for i in 0..LATENCY_WARMUP + LATENCY_BLOCK {
            let start = Instant::now();
            one();
            if i >= LATENCY_WARMUP {
                samples.push(start.elapsed().as_secs_f64() * 1e6);
            }
        }
        samples
    };
    let isahc_block = || {
        let client = isahc_client(1);
        block(&|| isahc_get(&client, url))
    };
    let asynchttp_block = || {
        let http = asynchttp_client(1);
        block(&|| asynchttp_get(&http, url))
    };
    let (mut isahc, mut asynchttp, mut added) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..LATENCY_REQUESTS / LATENCY_BLOCK {
        let (mut a, mut b) = if round % 2 == 0 {
            let a = isahc_block();
            (a, asynchttp_block())
        } else {
            let b = asynchttp_block();
            (isahc_block(), b)
        };
        isahc.extend_from_slice(&a);
        asynchttp.extend_from_slice(&b);
        // Paired by round, so that the machine's drift between rounds cancels out.
        added.push(median(&mut b) - median(&mut a));
    }
    Latency {
        isahc: median(&mut isahc),
        asynchttp: median(&mut asynchttp),
        added: median(&mut added),
    }
}

/// Medians in microseconds; `added` is the median over rounds of each round's difference.
struct Latency {
    isahc: f64,
    asynchttp: f64,
    added: f64,
}

// ---- cache ----

/// Median microseconds at concurrency 1 of: an uncached request, a fresh hit in a
/// FileCache, and a stale entry revalidated with a 304.
fn cache_latency(server: &Server) -> (f64, f64, f64) {
    let dir = std::env::temp_dir().join(format!("asynchttp-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plain = asynchttp_client(1);
    let cached = Http::builder()
        .workers(1)
        .cache(&dir)
        .build()
        .expect("cached client");
    let (network_url, fresh_url, etag_url) =
        (server.url("/"), server.url("/fresh"), server.url("/etag"));
    let timed = |http: &Http, url: &str, from_cache: bool| {
        let start = Instant::now();
        let (response, content) = http.request(url);
        let r = LazyResponse::wait(&response).expect("cache bench request");
        assert_eq!((r.status, r.from_cache), (200, from_cache), "{url}");
        check(r.status, LazyContent::wait(&content).expect("body"));
        start.elapsed().as_secs_f64() * 1e6
    };
    // Warm up, and put both entries in the cache.
    for _ in 0..50 {
        timed(&plain, &network_url, false);
    }
    timed(&cached, &fresh_url, false);
    timed(&cached, &etag_url, false);
    // Blocks, so each client's worker is as warm as in a run of requests; the blocks of
    // the three kinds alternate, so the machine's drift touches all three alike.
    let (mut network, mut fresh, mut revalidated) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..CACHE_REQUESTS / CACHE_BLOCK {
        for _ in 0..CACHE_BLOCK {
            network.push(timed(&plain, &network_url, false));
        }
        for _ in 0..CACHE_BLOCK {
            fresh.push(timed(&cached, &fresh_url, true));
        }
        for _ in 0..CACHE_BLOCK {
            revalidated.push(timed(&cached, &etag_url, true));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    (
        median(&mut network),
        median(&mut fresh),
        median(&mut revalidated),
    )
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
    let text = run_child(&["--rss-phase", url]);
    let field = |name: &str| field(&text, name);
    Rss {
        baseline_kib: field("baseline"),
        submitted_kib: field("submitted"),
        drained_peak_kib: field("drained_peak"),
        peak_kib: field("peak"),
        queued_at_submit: field("queued_at_submit") as usize,
        ok: field("ok") as usize,
    }
}

/// This bench run again as a child, in `phase`: what it printed.
fn run_child(args: &[&str]) -> String {
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
fn field(text: &str, name: &str) -> u64 {
    text.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text:?}"))
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

/// What the batch child reports: RSS in KiB, times in µs.
struct BatchRss {
    baseline_kib: u64,
    submitted_kib: u64,
    /// VmHWM when the queue had just drained.
    drained_peak_kib: u64,
    /// VmHWM once every request was done and counted, the batch still held.
    peak_kib: u64,
    done_kib: u64,
    dropped_kib: u64,
    submit_us: u64,
    wall_us: u64,
    queued_at_submit: usize,
    ok: usize,
    failed: usize,
}

fn run_batch_child(url: &str, bounded: bool) -> BatchRss {
    let queue = if bounded { "bounded" } else { "unbounded" };
    let text = run_child(&["--batch-phase", url, queue]);
    let field = |name: &str| field(&text, name);
    BatchRss {
        baseline_kib: field("baseline"),
        submitted_kib: field("submitted"),
        drained_peak_kib: field("drained_peak"),
        peak_kib: field("peak"),
        done_kib: field("done"),
        dropped_kib: field("dropped"),
        submit_us: field("submit_us"),
        wall_us: field("wall_us"),
        queued_at_submit: field("queued_at_submit") as usize,
        ok: field("ok") as usize,
        failed: field("failed") as usize,
    }
}

/// The child: a warmed-up client, then one batch of `BATCH` distinct URLs, joined.
/// With `bounded`, the queue holds `BATCH_QUEUE` requests and `batch()` waits for room.
fn batch_phase(url: &str, bounded: bool) {
    let http = if bounded {
        let when_full = asynchttp::WhenFull::Block(TIMEOUT);
        Http::builder()
            .workers(BATCH_WORKERS)
            .queue_limit(BATCH_QUEUE, when_full)
            .build()
            .expect("asynchttp client")
    } else {
        asynchttp_client(BATCH_WORKERS)
    };
    // Made as the batch takes them, so the caller holds no URLs of its own.
    let urls = |n: usize| (0..n).map(move |i| format!("{url}?i={i}"));
    let outcomes = |batch: &asynchttp::Batch| {
        let ok = batch
            .responses()
            .filter(|(_, response, body)| response.status == 200 && *body == SMALL_BODY)
            .count();
        (ok, batch.exceptions().count())
    };
    // Warm-up: every worker started, every connection open, allocator arenas in use.
    for _ in 0..4 {
        let batch = http.batch(urls(BATCH_WORKERS * 8));
        batch.join_all();
        assert_eq!(outcomes(&batch), (BATCH_WORKERS * 8, 0), "warm-up batch");
    }
    let baseline = proc_status_kib("VmRSS");
    // Resets VmHWM to the current RSS (Linux 4.0+), so that the peak is this phase's.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    if !reset {
        eprintln!("note: could not reset VmHWM; the peak may predate the phase");
    }

    let start = Instant::now();
    let batch = http.batch(urls(BATCH));
    let submit_us = start.elapsed().as_micros();
    let submitted = proc_status_kib("VmRSS");
    let queued_at_submit = http.pool().queued();
    while http.pool().queued() > 0 {
        thread::sleep(Duration::from_millis(1));
    }
    let drained_peak = proc_status_kib("VmHWM");
    batch.join_all();
    let wall_us = start.elapsed().as_micros();
    let (ok, failed) = outcomes(&batch);
    let peak = proc_status_kib("VmHWM");
    let done = proc_status_kib("VmRSS");
    let first_error = batch
        .exceptions()
        .next()
        .map(|(r, e)| format!("{}: {e}", r.uri()));
    drop(batch);
    let dropped = proc_status_kib("VmRSS");
    println!(
        "baseline={baseline} submitted={submitted} drained_peak={drained_peak} peak={peak} \
         done={done} dropped={dropped} submit_us={submit_us} wall_us={wall_us} \
         queued_at_submit={queued_at_submit} ok={ok} failed={failed}"
    );
    assert!(
        ok == BATCH && failed == 0,
        "{ok}/{BATCH} succeeded, {failed} failed; first error: {first_error:?}"
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
/// `SLOW_DELAY` first, `/small` answers `SMALL_BODY` instead. One thread, multiplexing every
/// connection: it keeps up with the clients (about 7 µs of CPU a request) while leaving them
/// the most CPU and adding no wake-ups between server threads. Not tiny_http: its connection
/// thread pool can leave a new connection unserved while others stay open (a race between
/// `TaskPool::spawn` and an idle thread waking), so at 32 keep-alive connections and more
/// some requests hang until they time out.
struct Server {
    addr: SocketAddr,
}

impl Server {
    fn start() -> Server {
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

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn respond(
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(BODY)));
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

// ---- helpers ----

/// CPU time and context switches of the whole process: every thread, live or ended.
struct Usage {
    cpu: Duration,
    switches: u64,
}

impl Usage {
    fn now() -> Usage {
        Usage::of(UsageWho::RUSAGE_SELF)
    }

    /// This process and its children that have been waited for (the memory phase's).
    fn with_children() -> Usage {
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

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// CPU time used by everything on the machine (every CPU), from /proc/stat.
fn machine_cpu() -> Duration {
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

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
