//! The cost of a multipart form: 10,000 small multipart POSTs, each form built with
//! `Form` and sent with `Request::multipart`, against the same POSTs with the same bytes
//! already encoded, sent with `Request::body`, in one process, against one loopback hyper
//! server started here, 16 requests at once.
//!
//! ```sh
//! cargo bench --bench multipart              # about 30 s
//! cargo bench --bench multipart -- --quick   # 1 round
//! ```
//!
//! Each form has two text fields and a 256-byte file part held in memory (about 560 bytes
//! in all): what is measured is building and encoding the form (a boundary drawn from the
//! system's randomness, each part's headers written and checked for the boundary) on top
//! of the request itself. The server reads each body whole and answers 400 to one of
//! another length than announced; every answer must be a 200. The two sides take turns,
//! a new client each round; each round sends 10,000 requests through a batch after 100
//! untimed ones. It prints, as medians of the rounds, the process's CPU time per request
//! (building the requests included, and the server's, the same on both sides) and the
//! requests per second, and the ratios of multipart to plain bytes.

mod common;

use std::time::{Duration, Instant};

use asynchttp::{Form, Http, Part, Request};
use common::{Usage, against, rounds_or};

const REQUESTS: usize = 10_000;
const WARMUP: usize = 100;
const WORKERS: usize = 16;
/// The boundary of the plain side's bytes: as long as a form's own.
const BOUNDARY: &str = "0123456789abcdef0123456789abcdef";

fn main() {
    let server = common::Server::start();
    let url = server.url("/upload");
    check_same_length();
    let rounds = rounds_or(5, 1);
    let seen = against(rounds, ("plain bytes", "multipart"), |form| run(&url, form));
    println!(
        "multipart against plain bytes: CPU per request {:.1} µs against {:.1} µs ({:.3}x), \
         requests per second {:.0} against {:.0} ({:.3}x) (medians of {rounds} rounds)",
        seen.cpu.1, seen.cpu.0, seen.cpu_ratio, seen.rate.1, seen.rate.0, seen.rate_ratio
    );
}

/// The file part's bytes.
fn file_bytes() -> Vec<u8> {
    (0..=255u8).collect()
}

/// Request `i` as a form.
fn form(i: usize) -> Form {
    Form::new()
        .text("title", "Holidays")
        .text("id", i.to_string())
        .part("data", Part::bytes(file_bytes()).file_name("data.bin"))
}

/// Request `i`'s form as bytes, written out by hand with [`BOUNDARY`].
fn encoded(i: usize) -> Vec<u8> {
    let b = BOUNDARY;
    let mut bytes = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHolidays\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n{i}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"data\"; filename=\"data.bin\"\r\n\r\n"
    )
    .into_bytes();
    bytes.extend_from_slice(&file_bytes());
    bytes.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    bytes
}

/// Both sides send the same number of bytes.
fn check_same_length() {
    for i in [0, 7, 12_345] {
        assert_eq!(
            form(i).into_body().len(),
            Some(encoded(i).len() as u64),
            "the plain side's bytes are the form's"
        );
    }
}

/// Requests `range`, as forms or as bytes.
fn requests(url: &str, range: std::ops::Range<usize>, as_form: bool) -> Vec<Request> {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    range
        .map(|i| {
            let req = Request::new("POST", url);
            if as_form {
                req.multipart(form(i))
            } else {
                req.header("Content-Type", &content_type).body(encoded(i))
            }
        })
        .collect()
}

/// CPU microseconds per request and requests per second, for a new client.
fn run(url: &str, as_form: bool) -> (f64, f64) {
    let http = Http::builder().workers(WORKERS).build().expect("client");
    http.batch(requests(url, 0..WARMUP, as_form)).join_all();
    let (cpu, wall) = (Usage::now().cpu, Instant::now());
    let batch = http.batch(requests(url, 0..REQUESTS, as_form));
    batch.join_all();
    let (cpu, wall): (Duration, Duration) = (Usage::now().cpu - cpu, wall.elapsed());
    let ok = batch
        .responses()
        .filter(|(_, r, _)| r.status == 200)
        .count();
    assert_eq!(ok, REQUESTS, "every request must be answered 200");
    (
        cpu.as_secs_f64() * 1e6 / REQUESTS as f64,
        REQUESTS as f64 / wall.as_secs_f64(),
    )
}
