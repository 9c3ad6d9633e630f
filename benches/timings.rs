//! The cost of detailed timings (`HttpBuilder::timings(true)`: libcurl's metrics, read with
//! each response's head) against none, in one process, against one loopback hyper server
//! started here (100-byte bodies), 16 requests at once.
//!
//! ```sh
//! cargo bench --bench timings              # about 30 s
//! cargo bench --bench timings -- --quick   # 1 round
//! perf stat -e instructions:u target/release/deps/timings-* --only on   # one side alone
//! ```
//!
//! The two clients take turns, a new client each round; each round sends 5,000 requests
//! through a batch after 100 untimed ones. It prints, as medians of the rounds, the
//! process's CPU time per request (the server's included, the same on both sides) and the
//! requests per second, and the ratios of on to off.

mod common;

use std::time::{Duration, Instant};

use asynchttp::Http;
use common::{Usage, against, rounds_or};

const REQUESTS: usize = 20_000;
const WARMUP: usize = 100;
const WORKERS: usize = 16;

fn main() {
    let server = common::Server::start();
    let url = server.url("/");
    // `-- --only on|off`: one side, one round, for an instruction count (`perf stat`).
    if let Some(only) = common::arg_after("--only") {
        let (cpu, rate) = run(&url, only.first().is_some_and(|side| side == "on"));
        println!("{cpu:.1} µs CPU/request, {rate:.0} req/s");
        return;
    }
    let rounds = rounds_or(5, 1);
    let seen = against(rounds, ("off", "on"), |timings| run(&url, timings));
    println!(
        "timings(true): CPU per request {:.1} µs against {:.1} µs ({:.3}x), \
         requests per second {:.3}x (medians of {rounds} rounds)",
        seen.cpu.1, seen.cpu.0, seen.cpu_ratio, seen.rate_ratio
    );
}

/// CPU microseconds per request and requests per second, for a new client.
fn run(url: &str, timings: bool) -> (f64, f64) {
    let http = Http::builder()
        .workers(WORKERS)
        .timings(timings)
        .build()
        .expect("client");
    let urls = |n: usize| (0..n).map(|i| format!("{url}?{i}")).collect::<Vec<_>>();
    http.batch(urls(WARMUP)).join_all();
    let batch_urls = urls(REQUESTS);
    let (cpu, wall) = (Usage::now().cpu, Instant::now());
    let batch = http.batch(batch_urls);
    batch.join_all();
    let (cpu, wall): (Duration, Duration) = (Usage::now().cpu - cpu, wall.elapsed());
    let progress = batch.progress();
    assert_eq!(progress.succeeded(), REQUESTS, "every request must succeed");
    if timings {
        let (_, response, _) = batch.responses().next().expect("a response");
        assert!(response.timings.first_byte() > Duration::ZERO);
    }
    (
        cpu.as_secs_f64() * 1e6 / REQUESTS as f64,
        REQUESTS as f64 / wall.as_secs_f64(),
    )
}
