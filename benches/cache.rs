//! The latency of asynchttp's cache at concurrency 1: a fresh hit in a FileCache, and a
//! stale entry revalidated with a 304, against a network round trip to one loopback hyper
//! server started here (100-byte bodies).
//!
//! ```sh
//! cargo bench --bench cache              # about 3 s
//! cargo bench --bench cache -- --quick   # 300 requests of each kind instead of 2,000
//! conformance/redis/run.sh cargo bench --features redis --bench cache   # and in RedisCache
//! ```
//!
//! With the `redis` feature and `REDIS_URL` set (conformance/redis/run.sh starts a
//! redis-server and sets it), the same is measured with the entries in that Redis, keys
//! under a prefix of this run's own.
//!
//! The three kinds alternate in blocks of 100 requests, so the machine's drift touches all
//! three alike; it prints each kind's median. The target is checked and printed at the end;
//! missing it does not fail the run.

mod common;

use std::time::Instant;

use asynchttp::{Http, LazyContent, LazyResponse};
use common::{Report, Server, asynchttp_client, check, median};

const CACHE_REQUESTS: usize = 2_000;
const QUICK_CACHE_REQUESTS: usize = 300;
const CACHE_BLOCK: usize = 100;
/// The project's target on a 2-core machine.
const TARGET_CACHE_SPEEDUP: f64 = 5.0;

fn main() {
    let server = Server::start();
    let mut report = Report::start();
    eprintln!("cache...");
    let requests = common::rounds_or(CACHE_REQUESTS, QUICK_CACHE_REQUESTS);
    let dir = std::env::temp_dir().join(format!("asynchttp-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files = Http::builder()
        .workers(1)
        .cache(&dir)
        .build()
        .expect("cached client");
    let (network, fresh, revalidated) = cache_latency(&server, &files, requests);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "cache (FileCache), median per request: network round trip {network:.1} µs, \
         fresh hit {fresh:.1} µs ({:.1}x faster), 304 revalidation {revalidated:.1} µs",
        network / fresh
    );
    #[cfg(feature = "redis")]
    if let Ok(url) = std::env::var("REDIS_URL") {
        eprintln!("cache in Redis...");
        let cache = asynchttp::RedisCache::builder(url.as_str())
            .prefix(format!("asynchttp-bench:{}:", std::process::id()))
            .build()
            .expect("REDIS_URL is a Redis URL");
        let redis = Http::builder()
            .workers(1)
            .cache_store(std::sync::Arc::new(cache))
            .build()
            .expect("cached client");
        let (network, fresh, revalidated) = cache_latency(&server, &redis, requests);
        println!(
            "cache (RedisCache at {url}), median per request: network round trip \
             {network:.1} µs, fresh hit {fresh:.1} µs ({:.1}x faster), 304 revalidation \
             {revalidated:.1} µs",
            network / fresh
        );
    }
    report.target(
        format!("fresh hit >= {TARGET_CACHE_SPEEDUP}x faster than the round trip"),
        network / fresh >= TARGET_CACHE_SPEEDUP,
    );
    report.finish();
}

/// Median microseconds at concurrency 1 of: an uncached request, a fresh hit in the cache
/// of `cached`, and a stale entry revalidated with a 304.
fn cache_latency(server: &Server, cached: &Http, requests: usize) -> (f64, f64, f64) {
    let plain = asynchttp_client(1);
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
    timed(cached, &fresh_url, false);
    timed(cached, &etag_url, false);
    // Blocks, so each client's worker is as warm as in a run of requests; the blocks of
    // the three kinds alternate, so the machine's drift touches all three alike.
    let (mut network, mut fresh, mut revalidated) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..requests / CACHE_BLOCK {
        for _ in 0..CACHE_BLOCK {
            network.push(timed(&plain, &network_url, false));
        }
        for _ in 0..CACHE_BLOCK {
            fresh.push(timed(cached, &fresh_url, true));
        }
        for _ in 0..CACHE_BLOCK {
            revalidated.push(timed(cached, &etag_url, true));
        }
    }
    (
        median(&mut network),
        median(&mut fresh),
        median(&mut revalidated),
    )
}
