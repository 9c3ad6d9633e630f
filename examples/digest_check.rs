//! Digest against a real server that wants every nonce count in order: 25 rounds of 8
//! concurrent GETs on one `Http` with credentials, then the final statuses and, from the
//! server's access log, how many requests reached it for each URL.
//!
//! `conformance/apache2/run.sh` starts Apache (mod_auth_digest, `AuthDigestNcCheck On`) and
//! runs this against it:
//!
//! ```sh
//! cargo run --example digest_check -- http://127.0.0.1:PORT/private/doc.txt ACCESS_LOG
//! ```
//!
//! The user is `alice`, her password `s3cret`. The access log has one line per request:
//! the status, a space, the path and query (Apache's `"%>s %U%q"`). Exits 1 unless every
//! request ends in 200 and no URL took more than two requests.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use asynchttp::{Http, LazyResponse};

const ROUNDS: usize = 25;
const CONCURRENT: usize = 8;
/// The request, and one answer to a challenge.
const MOST_PER_URL: usize = 2;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, log] = args.as_slice() else {
        eprintln!("usage: digest_check URL ACCESS_LOG");
        std::process::exit(2);
    };
    let http = Http::builder()
        .workers(CONCURRENT)
        .build()
        .expect("a client");
    http.add_credentials("alice", "s3cret", "");

    let started = Instant::now();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for round in 0..ROUNDS {
        let pairs: Vec<_> = (0..CONCURRENT)
            .map(|i| http.request(&format!("{url}?round={round}&i={i}")))
            .collect();
        for (response, _) in &pairs {
            let status = match LazyResponse::wait(response) {
                Ok(r) => r.status.to_string(),
                Err(e) => format!("error ({e})"),
            };
            *statuses.entry(status).or_default() += 1;
        }
    }
    let elapsed = started.elapsed();

    let lines = settled_log(log, ROUNDS * CONCURRENT);
    let mut per_url: BTreeMap<&str, usize> = BTreeMap::new();
    let mut served: BTreeMap<&str, usize> = BTreeMap::new();
    for line in &lines {
        let (status, target) = line.split_once(' ').unwrap_or((line, ""));
        *served.entry(status).or_default() += 1;
        *per_url.entry(target).or_default() += 1;
    }
    let mut spread: BTreeMap<usize, usize> = BTreeMap::new();
    for count in per_url.values() {
        *spread.entry(*count).or_default() += 1;
    }
    let most = per_url.values().max().copied().unwrap_or_default();
    let ok = statuses.get("200").copied().unwrap_or_default();
    let total = ROUNDS * CONCURRENT;

    println!("{ROUNDS} rounds of {CONCURRENT} concurrent GETs in {elapsed:.2?}");
    println!("final statuses: {statuses:?} ({ok} of {total} are 200)");
    println!("server: {} requests, by status {served:?}", lines.len());
    println!(
        "requests per URL: {} URLs; {{requests: URLs}} {spread:?}; most {most}",
        per_url.len()
    );
    if ok != total || most > MOST_PER_URL || per_url.len() != total {
        println!("FAIL: want {total} of {total} at 200, at most {MOST_PER_URL} requests per URL");
        std::process::exit(1);
    }
    println!("ok");
}

/// The access log's lines once it has at least `at_least` and has stopped growing: the
/// server writes a line just after it sends the response, so the last few may lag.
fn settled_log(path: &str, at_least: usize) -> Vec<String> {
    let read = || {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let give_up = Instant::now() + Duration::from_secs(10);
    let mut lines = read();
    let mut quiet = 0;
    while quiet < 3 && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(100));
        let again = read();
        quiet = if again.len() == lines.len() && again.len() >= at_least {
            quiet + 1
        } else {
            0
        };
        lines = again;
    }
    lines
}
