//! The memory of 10,000 requests queued at once to 8 workers, and a server (a loopback
//! hyper server started here) that waits 1 ms per request, measured in a child process so
//! that nothing else this bench does shows in its RSS.
//!
//! ```sh
//! cargo bench --bench memory   # about 3 s; `-- --quick` changes nothing here
//! ```
//!
//! It prints the peak RSS, the RSS right after submitting and per queued request, and how
//! many were still queued then. The target is checked and printed at the end; missing it
//! does not fail the run (every request must succeed, though).

mod common;

use std::thread;
use std::time::Duration;

use asynchttp::{LazyContent, LazyResponse};
use common::{BODY, Report, asynchttp_client, check, field, mib, proc_status_kib, run_child};

const QUEUED: usize = 10_000;
const QUEUED_WORKERS: usize = 8;
/// The project's target on a 2-core machine. It was 20 MiB while requests and responses
/// packed their times and boxed small fields (19.5 MiB then); as plain values they take
/// about 22 MiB, and that is the price chosen for values that read as what they are.
const TARGET_PEAK_MIB: f64 = 24.0;

fn main() {
    // `memory --rss-phase URL`: the child.
    if let Some(rest) = common::arg_after("--rss-phase") {
        rss_phase(rest.first().expect("--rss-phase <url>"));
        return;
    }
    let server = common::Server::start();
    let mut report = Report::start();
    eprintln!("memory...");
    let rss = run_rss_child(&server.url("/slow"));
    println!(
        "10,000 queued ({QUEUED_WORKERS} workers): peak RSS {:.1} MiB (baseline {:.1} MiB), \
         ~{:.0} bytes per queued request",
        mib(rss.peak_kib),
        mib(rss.baseline_kib),
        (rss.submitted_kib.saturating_sub(rss.baseline_kib) * 1024) as f64 / QUEUED as f64,
    );
    println!(
        "  RSS {:.1} MiB right after submitting, when {} were still queued; peak {:.1} MiB \
         when the queue had drained; {}/{QUEUED} succeeded",
        mib(rss.submitted_kib),
        rss.queued_at_submit,
        mib(rss.drained_peak_kib),
        rss.ok
    );
    assert_eq!(rss.ok, QUEUED, "every queued request must succeed");
    report.target(
        format!("peak RSS < {TARGET_PEAK_MIB} MiB"),
        mib(rss.peak_kib) < TARGET_PEAK_MIB,
    );
    report.finish();
}

/// What the child reports, in KiB.
struct Rss {
    baseline_kib: u64,
    submitted_kib: u64,
    /// VmHWM when the queue had just drained.
    drained_peak_kib: u64,
    /// VmHWM once every request was done, all results still held.
    peak_kib: u64,
    queued_at_submit: usize,
    ok: usize,
}

fn run_rss_child(url: &str) -> Rss {
    let text = run_child(&["--rss-phase", url]);
    let field = |name: &str| field(&text, name);
    Rss {
        baseline_kib: field("baseline"),
        submitted_kib: field("submitted"),
        drained_peak_kib: field("drained_peak"),
        peak_kib: field("peak"),
        queued_at_submit: field("queued_at_submit") as usize,
        ok: field("ok") as usize,
    }
}

/// The child: a warmed-up client, then 10,000 requests at once to a slow endpoint.
fn rss_phase(url: &str) {
    let http = asynchttp_client(QUEUED_WORKERS);
    // Warm-up: every worker started, every connection open, allocator arenas in use.
    for _ in 0..4 {
        let pairs: Vec<_> = (0..QUEUED_WORKERS * 8).map(|_| http.request(url)).collect();
        for (response, content) in &pairs {
            check(LazyResponse::wait(response).unwrap().status, content);
        }
    }
    // The caller's own storage for the pairs is not asynchttp's cost.
    let mut pairs = Vec::with_capacity(QUEUED);
    let baseline = proc_status_kib("VmRSS");
    common::reset_peak_rss();

    for _ in 0..QUEUED {
        pairs.push(http.request(url));
    }
    let submitted = proc_status_kib("VmRSS");
    let queued_at_submit = http.pool().queued();
    while http.pool().queued() > 0 {
        thread::sleep(Duration::from_millis(1));
    }
    let drained_peak = proc_status_kib("VmHWM");
    let ok = pairs
        .iter()
        .filter(|(response, content)| {
            matches!(
                (LazyResponse::wait(response), LazyContent::wait(content)),
                (Ok(r), Ok(body)) if r.status == 200 && body == BODY
            )
        })
        .count();
    let peak = proc_status_kib("VmHWM");
    println!(
        "baseline={baseline} submitted={submitted} drained_peak={drained_peak} peak={peak} \
         queued_at_submit={queued_at_submit} ok={ok}"
    );
}
