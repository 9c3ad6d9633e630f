//! asynchttp's latency at concurrency 1 against isahc called directly, in one process,
//! against one loopback hyper server started here (100-byte bodies).
//!
//! ```sh
//! cargo bench --bench latency              # about 5 s
//! cargo bench --bench latency -- --quick   # 1,000 requests per side instead of 5,000
//! ```
//!
//! The two sides alternate in blocks of 250 requests, each block with new clients after 20
//! untimed requests. It prints each side's median and the added latency: the median over
//! the rounds of each round's difference, which cancels the machine's drift between rounds.
//! The target is checked and printed at the end; missing it does not fail the run.

mod common;

use std::time::Instant;

use common::{Report, asynchttp_client, asynchttp_get, isahc_client, isahc_get, median};

const LATENCY_REQUESTS: usize = 5_000;
const QUICK_LATENCY_REQUESTS: usize = 1_000;
/// Latency samples alternate between the sides in blocks of this many requests, each
/// block after this many untimed ones (connecting, starting threads).
const LATENCY_BLOCK: usize = 250;
const LATENCY_WARMUP: usize = 20;
/// The project's target on a 2-core machine.
const TARGET_ADDED_LATENCY_US: f64 = 15.0;

fn main() {
    let server = common::Server::start();
    let mut report = Report::start();
    eprintln!("latency...");
    let requests = common::rounds_or(LATENCY_REQUESTS, QUICK_LATENCY_REQUESTS);
    let Latency {
        isahc,
        asynchttp,
        added,
    } = latency(&server.url("/"), requests);
    println!(
        "latency c=1: isahc median {isahc:.1} µs, asynchttp median {asynchttp:.1} µs, \
         added {added:.1} µs (median of the rounds' differences)"
    );
    report.target(
        format!("added latency <= {TARGET_ADDED_LATENCY_US} µs"),
        added <= TARGET_ADDED_LATENCY_US,
    );
    report.finish();
}

/// Median microseconds per request at concurrency 1 for (isahc, asynchttp), the sides
/// alternating block by block.
///
/// Each block has new clients, hence new threads: how long a wake-up takes depends on
/// whether the woken thread's CPU is idle (about 20 µs on a small VM) or busy (1 or 2 µs),
/// which depends on where the scheduler happened to put the threads. One set of threads for
/// the whole run would give one placement's figure, different from run to run.
fn latency(url: &str, requests: usize) -> Latency {
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
    for round in 0..requests / LATENCY_BLOCK {
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
