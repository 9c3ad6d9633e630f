//! What a run of fetch did, counted as its requests finish and printed at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use asynchttp::{Error, HostReport, LazyContent, LazyResponse};
use indicatif::HumanBytes;

/// Failures listed one by one in the summary; the rest are counted.
const LISTED_FAILURES: usize = 20;

/// Hosts listed in the summary, the slowest.
const LISTED_HOSTS: usize = 5;

#[derive(Default)]
pub(crate) struct Summary {
    pub(crate) total: usize,
    pub(crate) bytes: u64,
    pub(crate) wall: Duration,
    pub(crate) statuses: BTreeMap<u16, usize>,
    /// Time on the worker of each request that got a response.
    pub(crate) latencies: Vec<Duration>,
    /// The URL and the reason.
    pub(crate) failures: Vec<(String, String)>,
    /// Requests sent again.
    pub(crate) retries: usize,
    /// Each host's requests, slowest first; none for downloads, which are no batch.
    pub(crate) hosts: Vec<HostReport>,
    /// An upload's summary: bytes sent, not fetched.
    pub(crate) uploaded: bool,
}

/// Counts one finished request; its line, or why it failed.
pub(crate) fn record(
    summary: &mut Summary,
    url: &str,
    response: &LazyResponse,
    content: &LazyContent,
) -> Result<String, String> {
    let failed = |e: Error| e.chain();
    let response = LazyResponse::wait(response).map_err(failed)?;
    let body = LazyContent::wait(content).map_err(failed)?;
    *summary.statuses.entry(response.status).or_default() += 1;
    summary.latencies.push(response.elapsed);
    Ok(format!(
        "{} {url} {} {:.1} ms",
        response.status,
        HumanBytes(body.len() as u64),
        response.elapsed.as_secs_f64() * 1e3
    ))
}

impl Summary {
    pub(crate) fn print(&self) {
        let secs = self.wall.as_secs_f64();
        if self.uploaded {
            println!(
                "\nuploaded {} in {secs:.2} s: {}/s",
                HumanBytes(self.bytes),
                HumanBytes((self.bytes as f64 / secs.max(1e-9)) as u64)
            );
        } else {
            println!(
                "\nfetched {} URLs in {secs:.2} s: {:.1} requests/s, {}",
                self.total,
                self.total as f64 / secs.max(1e-9),
                HumanBytes(self.bytes)
            );
        }
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, n)| format!("{status} x {n}"))
            .collect();
        println!(
            "statuses: {}",
            if statuses.is_empty() {
                "none".to_owned()
            } else {
                statuses.join(", ")
            }
        );
        let mut latencies = self.latencies.clone();
        latencies.sort_unstable();
        if let (Some(p50), Some(p99)) = (percentile(&latencies, 50), percentile(&latencies, 99)) {
            println!(
                "latency: p50 {:.1} ms, p99 {:.1} ms",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }
        if self.retries > 0 {
            println!("retries: {}", self.retries);
        }
        if !self.hosts.is_empty() {
            println!("slowest hosts:");
        }
        let ms = |t: Option<Duration>| {
            t.map_or("-".to_owned(), |t| {
                format!("{:.1} ms", t.as_secs_f64() * 1e3)
            })
        };
        for host in self.hosts.iter().take(LISTED_HOSTS) {
            let retried = match host.retries {
                0 => String::new(),
                n => format!(", retries {n}"),
            };
            println!(
                "  {}: requests {}, failed {}{retried}, p50 {}, p99 {}",
                host.host,
                host.requests,
                host.failures,
                ms(host.p50),
                ms(host.p99)
            );
        }
        println!("failed: {}", self.failures.len());
        for (url, reason) in self.failures.iter().take(LISTED_FAILURES) {
            println!("  {url}: {reason}");
        }
        if self.failures.len() > LISTED_FAILURES {
            println!("  ... and {} more", self.failures.len() - LISTED_FAILURES);
        }
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], pct: usize) -> Option<Duration> {
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}
