//! A batch's requests by host: how many, how many failed or were sent again, and how long
//! they took, so that the slow hosts of a crawl stand out.

use std::collections::HashMap;
use std::time::Duration;

use url::Url;

use super::Batch;
use crate::{LazyResponse, origin};

/// One host of a [`Batch`]: its finished requests and how long they took, from
/// [`Batch::hosts`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostReport {
    /// `host:port` of the URLs the requests were made for, before any redirect; the port
    /// is the scheme's default when the URL names none. Empty for URLs that could not be
    /// parsed.
    pub host: String,
    /// Its requests that have finished, with a response or with an error.
    pub requests: usize,
    /// Those that finished with an error (an HTTP error status is a response, not one).
    pub failures: usize,
    /// How many times its requests that got a response were sent again: the sum of each
    /// [`Response::attempts`](crate::Response::attempts) less one. A failed request tells
    /// no count; [`Progress::retries`](crate::Progress::retries) has every retry, by batch.
    pub retries: u64,
    /// The median of [`Response::elapsed`](crate::Response::elapsed) over its requests that
    /// got a response (nearest rank); `None` when none did.
    pub p50: Option<Duration>,
    /// The 99th percentile of the same (nearest rank): the slowest but one in a hundred.
    pub p99: Option<Duration>,
}

impl Batch {
    /// The batch's requests by host, slowest first (by `p99`, then `p50`; hosts with no
    /// response last): requests, failures, retries and time taken (see [`HostReport`]).
    ///
    /// Never blocks: it counts the requests that have finished when it is called, and
    /// leaves out those still queued or running, so that it can be read while the batch
    /// runs. After [`join_all`](Batch::join_all) it counts every request.
    ///
    /// ```no_run
    /// let http = asynchttp::Http::new();
    /// let batch = http.batch(["http://127.0.0.1:8080/a", "http://127.0.0.1:8081/b"]);
    /// batch.join_all();
    /// for host in batch.hosts().iter().take(5) {
    ///     println!("{}: {} requests, {} failed, p99 {:?}", host.host, host.requests, host.failures, host.p99);
    /// }
    /// ```
    pub fn hosts(&self) -> Vec<HostReport> {
        let mut hosts: HashMap<String, (HostReport, Vec<Duration>)> = HashMap::new();
        for item in &self.items {
            let Some(outcome) = LazyResponse::wait_timeout(&item.response, Duration::ZERO) else {
                continue;
            };
            let host = host_of(item.request.uri());
            let (report, times) = hosts.entry(host).or_insert_with_key(|host| {
                let report = HostReport {
                    host: host.clone(),
                    requests: 0,
                    failures: 0,
                    retries: 0,
                    p50: None,
                    p99: None,
                };
                (report, Vec::new())
            });
            report.requests += 1;
            match outcome {
                Ok(response) => {
                    report.retries += u64::from(response.attempts.saturating_sub(1));
                    times.push(response.elapsed);
                }
                Err(_) => report.failures += 1,
            }
        }
        let mut reports: Vec<HostReport> = hosts
            .into_values()
            .map(|(mut report, mut times)| {
                times.sort_unstable();
                report.p50 = percentile(&times, 50);
                report.p99 = percentile(&times, 99);
                report
            })
            .collect();
        // `Some` above `None`, the slower first, and ties by name so the order is stable.
        reports.sort_by(|a, b| {
            (b.p99, b.p50)
                .cmp(&(a.p99, a.p50))
                .then_with(|| a.host.cmp(&b.host))
        });
        reports
    }
}

/// `host:port` of a URL, as [`origin::authority`] names it; empty if it is no URL.
fn host_of(uri: &str) -> String {
    Url::parse(uri).map_or_else(|_| String::new(), |url| origin::authority(&url))
}

/// The `pct`th percentile of sorted values by nearest rank: the smallest value that at
/// least `pct` percent of them do not exceed. `None` for no values.
fn percentile(sorted: &[Duration], pct: usize) -> Option<Duration> {
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let ms = |n: u64| Duration::from_millis(n);
        let hundred: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&hundred, 50), Some(ms(50)));
        assert_eq!(percentile(&hundred, 99), Some(ms(99)));
        assert_eq!(percentile(&hundred, 100), Some(ms(100)));
        // Few values: the 99th is the largest, the median the lower middle one.
        let four = [ms(1), ms(2), ms(3), ms(40)];
        assert_eq!(percentile(&four, 50), Some(ms(2)));
        assert_eq!(percentile(&four, 99), Some(ms(40)));
        assert_eq!(percentile(&[ms(7)], 50), Some(ms(7)));
        assert_eq!(percentile(&[ms(7)], 0), Some(ms(7)));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn hosts_are_named_with_their_port() {
        assert_eq!(host_of("http://127.0.0.1:8080/a"), "127.0.0.1:8080");
        assert_eq!(host_of("https://Example.COM/a?q"), "example.com:443");
        assert_eq!(host_of("http://[::1]/"), "[::1]:80");
        assert_eq!(host_of("not a url"), "");
        // URLs with no host name none.
        for hostless in ["mailto:a@b.example", "data:text/plain,x", "file:///tmp/x"] {
            assert_eq!(host_of(hostless), "", "{hostless}");
        }
    }
}
