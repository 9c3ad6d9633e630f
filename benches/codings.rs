//! How fast the client decodes: a 10 MiB text body fetched over loopback as it is and in
//! each content coding built in (gzip, br, zstd), one request at a time, with br and zstd
//! given as ratios to gzip measured in the same rounds.
//!
//! ```sh
//! cargo bench --bench codings              # about 5 s
//! cargo bench --bench codings -- --quick   # 1 round
//! ```
//!
//! The bodies are made once by the reference encoders at the levels servers use on the fly:
//! gzip 6 (flate2, zlib's format), brotli 6 (ngx_brotli's default, Google's encoder) and
//! zstd 3 (libzstd's default, with a checksum as the `zstd` command adds). Each round
//! fetches every coding in turn, 8 requests each on one client, after one untimed. It
//! prints, as medians of the rounds, the decoded MiB per second (wall time, the transfer
//! included) and the process's CPU milliseconds per request (the server's included, the same
//! for every coding), and for br and zstd the medians of each round's ratio to gzip.

mod common;
#[path = "../tests/it/encoders.rs"]
mod encoders;

use std::io::Write;
use std::time::Instant;

use asynchttp::{Http, LazyContent, LazyResponse};
use common::{Usage, median, rounds_or};
use hyper::body::Bytes;

const LENGTH: usize = 10 << 20;
const REQUESTS: usize = 8;

fn main() {
    let text = encoders::text(LENGTH);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gzip.write_all(&text).expect("gzip");
    let mut bodies: Vec<(&'static str, Vec<u8>)> =
        vec![("", text.clone()), ("gzip", gzip.finish().expect("gzip"))];
    if cfg!(feature = "brotli") {
        bodies.push(("br", encoders::brotli(&text, 6)));
    }
    if cfg!(feature = "zstd") {
        bodies.push(("zstd", encoders::zstd(&text, 3)));
    }
    let coded = bodies
        .iter()
        .map(|(coding, body)| (format!("/{coding}"), *coding, Bytes::from(body.clone())));
    common::CODED
        .set(coded.collect())
        .expect("the bodies, once");
    let server = common::Server::start();
    let http = Http::builder()
        .max_body_size(2 * LENGTH as u64)
        .build()
        .expect("client");
    let rounds = rounds_or(9, 1);
    // Per coding, in the order of `bodies`: MiB/s and CPU ms per request, round by round.
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); bodies.len()];
    let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); bodies.len()];
    for round in 1..=rounds {
        for (i, (coding, _)) in bodies.iter().enumerate() {
            let url = server.url(&format!("/{coding}"));
            let (rate, cpu) = fetch(&http, &url, &text);
            println!(
                "round {round}: {:>8} {rate:>7.0} MiB/s, {cpu:>6.1} ms CPU/request",
                name(coding)
            );
            rates[i].push(rate);
            cpus[i].push(cpu);
        }
    }
    const GZIP: usize = 1;
    println!("{LENGTH} bytes of text, medians of {rounds} rounds:");
    println!("coding    compressed  MiB/s  CPU ms/request  MiB/s vs gzip  CPU vs gzip");
    for (i, (coding, body)) in bodies.iter().enumerate() {
        println!(
            "{:<8}  {:>10}  {:>5.0}  {:>14.1}  {:>13.3}  {:>11.3}",
            name(coding),
            body.len(),
            median(&mut rates[i].clone()),
            median(&mut cpus[i].clone()),
            ratio(&rates[i], &rates[GZIP]),
            ratio(&cpus[i], &cpus[GZIP])
        );
    }
}

/// The median of each round's ratio of `xs` to `gzip`.
fn ratio(xs: &[f64], gzip: &[f64]) -> f64 {
    let mut per_round: Vec<f64> = xs.iter().zip(gzip).map(|(x, g)| x / g).collect();
    median(&mut per_round)
}

fn name(coding: &str) -> &str {
    if coding.is_empty() {
        "identity"
    } else {
        coding
    }
}

/// Decoded MiB per second and CPU milliseconds per request, fetching `url` `REQUESTS`
/// times after one untimed fetch; every body must be `text`.
fn fetch(http: &Http, url: &str, text: &[u8]) -> (f64, f64) {
    let get = || {
        let (response, content) = http.request(url);
        let status = LazyResponse::wait(&response).expect("response").status;
        let body = LazyContent::wait(&content).expect("body");
        assert!(
            status == 200 && body == text,
            "{url}: {status}, {} bytes",
            body.len()
        );
    };
    get();
    let (cpu, wall) = (Usage::now().cpu, Instant::now());
    for _ in 0..REQUESTS {
        get();
    }
    let (cpu, wall) = (Usage::now().cpu - cpu, wall.elapsed());
    let mib = (REQUESTS * text.len()) as f64 / f64::from(1 << 20);
    (
        mib / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e3 / REQUESTS as f64,
    )
}
