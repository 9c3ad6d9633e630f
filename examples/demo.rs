//! The main job, with no outside server: start a loopback HTTP server, fire a few hundred
//! requests through `Http` at once, then read each status as a Python asynchttp user would.
//!
//! ```sh
//! cargo run --example demo
//! ```

#[path = "../tests/it/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use asynchttp::Http;
use support::{Reply, Server};

const REQUESTS: usize = 300;

fn main() {
    let server = Server::start(|req| {
        // A little latency, as a real server has; /missing gives a 404.
        let status = if req.url.starts_with("/missing") {
            404
        } else {
            200
        };
        Reply::new(status, format!("hello from {}", req.url)).delay(Duration::from_millis(2))
    });
    let http = Http::new();

    let started = Instant::now();
    let pairs: Vec<_> = (0..REQUESTS)
        .map(|i| {
            let path = if i % 50 == 49 { "missing" } else { "page" };
            http.request(&server.url(&format!("/{path}/{i}")))
        })
        .collect();
    let submitted = started.elapsed();

    // Each access blocks until that request is done.
    let mut statuses = BTreeMap::new();
    for (response, _) in &pairs {
        *statuses.entry(response.status).or_insert(0) += 1;
    }
    let (first, content) = &pairs[0];
    println!(
        "first: {} {} -> {content:?} = {content}",
        first.status, first.reason
    );
    println!("statuses: {statuses:?}");
    println!(
        "{REQUESTS} requests on {} workers: submitted in {submitted:.2?}, all done in {:.2?}",
        http.pool().size(),
        started.elapsed()
    );
}
