//! Per-host limits under load: 50 loopback hosts, 9,800 URLs over 49 of them with no
//! limit of their own, and the same batch with 200 more URLs to a 50th host limited to 2
//! requests a second. The unlimited hosts' work must finish within 1.2× of the time it
//! takes with no limited host present: a request held back by its host holds no thread,
//! no place in the pool, and no other host's request.
//!
//! ```sh
//! cargo bench --bench per_host              # 9 rounds, about 30 s
//! cargo bench --bench per_host -- --quick   # 1 round
//! ```
//!
//! The two runs take turns within each round; the figure is the median of the rounds'
//! ratios. It also prints the threads alive while the limited host's requests wait.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use asynchttp::{HostLimits, Http};
use common::{Server, median, rounds_or};

const HOSTS: usize = 50;
const PER_UNLIMITED_HOST: usize = 200;
const LIMITED_URLS: usize = 200;
const LIMITED_RATE: f64 = 2.0;
const WORKERS: usize = 32;
const TARGET: f64 = 1.2;

fn main() {
    let servers: Vec<Server> = (0..HOSTS).map(|_| Server::start()).collect();
    let (limited, unlimited) = servers.split_last().expect("hosts");
    let authority = |server: &Server| {
        let url = server.url("/");
        url.trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned()
    };
    let limits =
        HostLimits::new().host(&authority(limited), HostLimits::new().rate(LIMITED_RATE, 1));
    let unlimited_urls: Vec<String> = (0..PER_UNLIMITED_HOST)
        .flat_map(|i| unlimited.iter().map(move |s| s.url(&format!("/small?{i}"))))
        .collect();
    let limited_urls: Vec<String> = (0..LIMITED_URLS)
        .map(|i| limited.url(&format!("/small?limited-{i}")))
        .collect();
    // Every 50th URL goes to the limited host, so that they are spread through the batch.
    let mut mixed = Vec::with_capacity(unlimited_urls.len() + limited_urls.len());
    let mut limited_iter = limited_urls.iter();
    for (i, url) in unlimited_urls.iter().enumerate() {
        if i % (unlimited_urls.len() / LIMITED_URLS) == 0 {
            mixed.extend(limited_iter.next().cloned());
        }
        mixed.push(url.clone());
    }
    mixed.extend(limited_iter.cloned());
    let unlimited_set: HashSet<&str> = unlimited_urls.iter().map(String::as_str).collect();

    let rounds = rounds_or(9, 1);
    let mut ratios = Vec::new();
    println!(
        "{} URLs over {} hosts, {WORKERS} workers; with {LIMITED_URLS} more to a host \
         limited to {LIMITED_RATE} requests/s",
        unlimited_urls.len(),
        unlimited.len()
    );
    for round in 1..=rounds {
        let (alone, threads_alone) = run(&unlimited_urls, &unlimited_set, limits.clone());
        let (beside, threads) = run(&mixed, &unlimited_set, limits.clone());
        let ratio = beside.as_secs_f64() / alone.as_secs_f64();
        println!(
            "round {round}: alone {:.3} s, beside the limited host {:.3} s: {ratio:.2}x \
             (threads {threads_alone} alone, {threads} while its requests waited)",
            alone.as_secs_f64(),
            beside.as_secs_f64()
        );
        ratios.push(ratio);
    }
    let ratio = median(&mut ratios);
    let met = if ratio <= TARGET { "met" } else { "NOT met" };
    println!("median ratio {ratio:.2}x (target <= {TARGET}x: {met})");
}

/// Sends `urls` as one batch; the time until every URL of `unlimited` among them is done,
/// and the process's threads then. What is left (the limited host's line) is cancelled.
fn run(urls: &[String], unlimited: &HashSet<&str>, limits: HostLimits) -> (Duration, usize) {
    let http = Http::builder()
        .workers(WORKERS)
        .per_host(limits)
        .build()
        .expect("client");
    let want = urls
        .iter()
        .filter(|u| unlimited.contains(u.as_str()))
        .count();
    let started = Instant::now();
    let batch = http.batch(urls.iter().map(String::as_str));
    let mut done = 0;
    for (request, response, content) in batch.as_completed() {
        if unlimited.contains(request.uri()) {
            let response = asynchttp::LazyResponse::wait(response).expect("a response");
            assert_eq!(response.status, 200);
            assert_eq!(
                asynchttp::LazyContent::wait(content).unwrap(),
                common::SMALL_BODY
            );
            done += 1;
            if done == want {
                break;
            }
        }
    }
    let took = started.elapsed();
    let threads = std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count());
    batch.cancel();
    (took, threads)
}
