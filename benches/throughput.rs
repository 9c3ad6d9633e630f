//! asynchttp's throughput against isahc called directly, in one process, against one
//! loopback hyper server started here, at concurrency 1, 8, 32 and 128 (100-byte bodies).
//!
//! ```sh
//! cargo bench --bench throughput              # about 35 s on a 2-core machine
//! cargo bench --bench throughput -- --quick   # 3 rounds instead of 15, to see that it runs
//! ```
//!
//! At concurrency *c*, isahc is called from *c* threads, each sending its share one request
//! at a time. asynchttp is used as it is meant to be: one thread submits the round's
//! requests at once and then reads each pair in order, with *c* workers. The closed-loop
//! column drives asynchttp like the baseline instead: *c* threads, each waiting for its
//! request before sending the next, so every request pays a hand-off to a worker and back.
//!
//! These machines are noisy, so the two sides are interleaved round by round, and the ratio
//! is the median of the rounds' ratios. The CPU time and context switches per request (of
//! the whole process, server included) are printed too: they say where the time goes. The
//! target is checked and printed at the end; missing it does not fail the run.
//!
//! `benches/peers/` compares asynchttp with other clients (ureq, reqwest, isahc's async API,
//! Python's httplib2) against nginx, each in a process of its own.

mod common;

use std::sync::Barrier;
use std::thread;
use std::time::Instant;

use asynchttp::{Http, LazyContent, LazyResponse};
use common::{Report, Usage, asynchttp_client, asynchttp_get, check, isahc_client, isahc_get};

const CONCURRENCIES: [usize; 4] = [1, 8, 32, 128];
/// Requests per side per round, by concurrency (split evenly between the caller threads).
const REQUESTS: [usize; 4] = [3_000, 6_000, 6_000, 6_000];
/// Many short rounds: the two sides of a round run back to back, so their ratio is less
/// disturbed by other load than the two sides' medians over the whole run.
const ROUNDS: usize = 15;
const QUICK_ROUNDS: usize = 3;
/// The project's target on a 2-core machine.
const TARGET_RATIO: f64 = 0.95;

fn main() {
    let server = common::Server::start();
    let url = server.url("/");
    let mut report = Report::start();
    let rounds = common::rounds_or(ROUNDS, QUICK_ROUNDS);
    let rows: Vec<(usize, Row)> = CONCURRENCIES
        .iter()
        .zip(&REQUESTS)
        .map(|(&c, &requests)| {
            eprintln!("throughput at concurrency {c}...");
            (c, throughput_row(&url, c, requests, rounds))
        })
        .collect();
    print_throughput(&rows);
    for (c, row) in &rows {
        report.target(
            format!("ratio >= {TARGET_RATIO} at c={c}"),
            row.ratio >= TARGET_RATIO,
        );
    }
    report.finish();
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

fn throughput_row(url: &str, c: usize, requests: usize, rounds: usize) -> Row {
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
    for round in 0..rounds {
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
    let ratio = common::median(&mut ratios); // sorts them too
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
        let field =
            |f: fn(&Sample) -> f64| common::median(&mut samples.iter().map(f).collect::<Vec<_>>());
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
