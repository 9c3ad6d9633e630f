//! The time and memory of one `Http::batch` of 100,000 distinct URLs (8 workers, 5-byte
//! bodies from a loopback hyper server started here, every result kept by the batch),
//! measured in a child process so that nothing else this bench does shows in its RSS; then
//! the same batch on a queue bounded at 1,000 (`WhenFull::Block`).
//!
//! ```sh
//! cargo bench --bench batch              # about 15 s
//! cargo bench --bench batch -- --quick   # the unbounded batch only
//! ```
//!
//! It prints the wall time and rate, the peak RSS over the baseline per request, and the
//! RSS at each stage (submitted, drained, done, dropped). The target is checked and printed
//! at the end; missing it does not fail the run (every request must succeed, though).

mod common;

use std::thread;
use std::time::{Duration, Instant};

use asynchttp::Http;
use common::{
    Report, SMALL_BODY, TIMEOUT, asynchttp_client, field, mib, proc_status_kib, run_child,
};

/// One `Http::batch` of this many distinct URLs, to `/small`.
const BATCH: usize = 100_000;
const BATCH_WORKERS: usize = 8;
/// The queue's bound in the second batch run.
const BATCH_QUEUE: usize = 1_000;
/// A batch keeps every result; this is what its peak may add per request.
const TARGET_BATCH_BYTES: f64 = 2048.0;

fn main() {
    // `batch --batch-phase URL bounded|unbounded`: the child.
    if let Some(rest) = common::arg_after("--batch-phase") {
        let url = rest.first().expect("--batch-phase <url> [bounded]");
        batch_phase(url, rest.get(1).is_some_and(|a| a == "bounded"));
        return;
    }
    let server = common::Server::start();
    let mut report = Report::start();
    eprintln!("batch...");
    let b = run_batch_child(&server.url("/small"), false);
    let secs = b.wall_us as f64 / 1e6;
    let per_request =
        |b: &BatchRss| (b.peak_kib.saturating_sub(b.baseline_kib) * 1024) as f64 / BATCH as f64;
    println!(
        "batch of 100,000 ({BATCH_WORKERS} workers): {secs:.2} s, {:.0} req/s \
         (http.batch returned after {:.2} s, with {} still queued)",
        BATCH as f64 / secs,
        b.submit_us as f64 / 1e6,
        b.queued_at_submit
    );
    println!(
        "  RSS baseline {:.1} MiB, peak {:.1} MiB: ~{:.0} bytes per request \
         ((peak - baseline) / {BATCH})",
        mib(b.baseline_kib),
        mib(b.peak_kib),
        per_request(&b),
    );
    println!(
        "  RSS {:.1} MiB right after submitting; peak {:.1} MiB when the queue had \
         drained; RSS {:.1} MiB when all were done, {:.1} MiB once the batch was dropped; \
         {}/{BATCH} succeeded, {} failed",
        mib(b.submitted_kib),
        mib(b.drained_peak_kib),
        mib(b.done_kib),
        mib(b.dropped_kib),
        b.ok,
        b.failed
    );
    assert!(
        b.ok == BATCH && b.failed == 0,
        "every request of the batch must succeed"
    );
    report.target(
        format!("batch peak < {TARGET_BATCH_BYTES} bytes per request"),
        per_request(&b) < TARGET_BATCH_BYTES,
    );
    if !common::quick() {
        let q = run_batch_child(&server.url("/small"), true);
        println!(
            "  with queue_limit({BATCH_QUEUE}, Block): {:.2} s, peak {:.1} MiB, ~{:.0} bytes \
             per request; {}/{BATCH} succeeded, {} failed",
            q.wall_us as f64 / 1e6,
            mib(q.peak_kib),
            per_request(&q),
            q.ok,
            q.failed
        );
        assert!(q.ok == BATCH && q.failed == 0, "every request must succeed");
    }
    report.finish();
}

/// What the batch child reports: RSS in KiB, times in µs.
struct BatchRss {
    baseline_kib: u64,
    submitted_kib: u64,
    /// VmHWM when the queue had just drained.
    drained_peak_kib: u64,
    /// VmHWM once every request was done and counted, the batch still held.
    peak_kib: u64,
    done_kib: u64,
    dropped_kib: u64,
    submit_us: u64,
    wall_us: u64,
    queued_at_submit: usize,
    ok: usize,
    failed: usize,
}

fn run_batch_child(url: &str, bounded: bool) -> BatchRss {
    let queue = if bounded { "bounded" } else { "unbounded" };
    let text = run_child(&["--batch-phase", url, queue]);
    let field = |name: &str| field(&text, name);
    BatchRss {
        baseline_kib: field("baseline"),
        submitted_kib: field("submitted"),
        drained_peak_kib: field("drained_peak"),
        peak_kib: field("peak"),
        done_kib: field("done"),
        dropped_kib: field("dropped"),
        submit_us: field("submit_us"),
        wall_us: field("wall_us"),
        queued_at_submit: field("queued_at_submit") as usize,
        ok: field("ok") as usize,
        failed: field("failed") as usize,
    }
}

/// The child: a warmed-up client, then one batch of `BATCH` distinct URLs, joined.
/// With `bounded`, the queue holds `BATCH_QUEUE` requests and `batch()` waits for room.
fn batch_phase(url: &str, bounded: bool) {
    let http = if bounded {
        let when_full = asynchttp::WhenFull::Block(TIMEOUT);
        Http::builder()
            .workers(BATCH_WORKERS)
            .queue_limit(BATCH_QUEUE, when_full)
            .build()
            .expect("asynchttp client")
    } else {
        asynchttp_client(BATCH_WORKERS)
    };
    // Made as the batch takes them, so the caller holds no URLs of its own.
    let urls = |n: usize| (0..n).map(move |i| format!("{url}?i={i}"));
    let outcomes = |batch: &asynchttp::Batch| {
        let ok = batch
            .responses()
            .filter(|(_, response, body)| response.status == 200 && *body == SMALL_BODY)
            .count();
        (ok, batch.exceptions().count())
    };
    // Warm-up: every worker started, every connection open, allocator arenas in use.
    for _ in 0..4 {
        let batch = http.batch(urls(BATCH_WORKERS * 8));
        batch.join_all();
        assert_eq!(outcomes(&batch), (BATCH_WORKERS * 8, 0), "warm-up batch");
    }
    let baseline = proc_status_kib("VmRSS");
    common::reset_peak_rss();

    let start = Instant::now();
    let batch = http.batch(urls(BATCH));
    let submit_us = start.elapsed().as_micros();
    let submitted = proc_status_kib("VmRSS");
    let queued_at_submit = http.pool().queued();
    while http.pool().queued() > 0 {
        thread::sleep(Duration::from_millis(1));
    }
    let drained_peak = proc_status_kib("VmHWM");
    batch.join_all();
    let wall_us = start.elapsed().as_micros();
    let (ok, failed) = outcomes(&batch);
    let peak = proc_status_kib("VmHWM");
    let done = proc_status_kib("VmRSS");
    let first_error = batch
        .exceptions()
        .next()
        .map(|(r, e)| format!("{}: {e}", r.uri()));
    drop(batch);
    let dropped = proc_status_kib("VmRSS");
    println!(
        "baseline={baseline} submitted={submitted} drained_peak={drained_peak} peak={peak} \
         done={done} dropped={dropped} submit_us={submit_us} wall_us={wall_us} \
         queued_at_submit={queued_at_submit} ok={ok} failed={failed}"
    );
    assert!(
        ok == BATCH && failed == 0,
        "{ok}/{BATCH} succeeded, {failed} failed; first error: {first_error:?}"
    );
}
