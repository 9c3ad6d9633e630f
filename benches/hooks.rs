//! The cost of hooks: a client with three hooks that do nothing against one with none, in
//! one process, against one loopback hyper server started here (100-byte bodies), 16
//! requests at once.
//!
//! ```sh
//! cargo bench --bench hooks              # about 30 s
//! cargo bench --bench hooks -- --quick   # 1 round
//! ```
//!
//! A request with hooks runs on a worker thread, as one with a callback does, where a plain
//! one runs on a driver among many: this measures that move and the calls together. The two
//! clients take turns, a new client each round; each round sends 10,000 requests through a
//! batch after 100 untimed ones. It prints, as medians of the rounds, the process's CPU time
//! per request (the server's included, the same on both sides) and the requests per second,
//! and the ratios of hooked to plain.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use asynchttp::{Finished, Hook, Http};
use common::{Usage, against, rounds_or};

const REQUESTS: usize = 10_000;
const WARMUP: usize = 100;
const WORKERS: usize = 16;

/// Does nothing at every step; the last of the three counts the requests it saw end, so
/// the bench can check that the hooks ran.
struct Nothing(Option<Arc<AtomicUsize>>);

impl Hook for Nothing {
    fn on_finish(&self, _: &Finished<'_>) {
        if let Some(seen) = &self.0 {
            seen.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn main() {
    let server = common::Server::start();
    let url = server.url("/");
    let rounds = rounds_or(5, 1);
    let seen = against(rounds, ("none", "three hooks"), |hooked| run(&url, hooked));
    println!(
        "three no-op hooks: CPU per request {:.1} µs against {:.1} µs ({:.3}x), \
         requests per second {:.0} against {:.0} ({:.3}x) (medians of {rounds} rounds)",
        seen.cpu.1, seen.cpu.0, seen.cpu_ratio, seen.rate.1, seen.rate.0, seen.rate_ratio
    );
}

/// CPU microseconds per request and requests per second, for a new client.
fn run(url: &str, hooked: bool) -> (f64, f64) {
    let seen = Arc::new(AtomicUsize::new(0));
    let mut builder = Http::builder().workers(WORKERS);
    if hooked {
        builder = builder
            .hook(Nothing(None))
            .hook(Nothing(None))
            .hook(Nothing(Some(seen.clone())));
    }
    let http = builder.build().expect("client");
    let urls = |n: usize| (0..n).map(|i| format!("{url}?{i}")).collect::<Vec<_>>();
    http.batch(urls(WARMUP)).join_all();
    let batch_urls = urls(REQUESTS);
    let (cpu, wall) = (Usage::now().cpu, Instant::now());
    let batch = http.batch(batch_urls);
    batch.join_all();
    let (cpu, wall): (Duration, Duration) = (Usage::now().cpu - cpu, wall.elapsed());
    assert_eq!(
        batch.progress().succeeded(),
        REQUESTS,
        "every request must succeed"
    );
    let expected = if hooked { WARMUP + REQUESTS } else { 0 };
    assert_eq!(seen.load(Ordering::Relaxed), expected, "the hooks ran");
    (
        cpu.as_secs_f64() * 1e6 / REQUESTS as f64,
        REQUESTS as f64 / wall.as_secs_f64(),
    )
}
