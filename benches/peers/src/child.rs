//! The measured side: one client running one scenario, in a process of its own, so that its
//! peak RSS, CPU time and context switches are that client's alone.
//!
//! Every client first makes a few untimed requests (two per thread or slot: connections
//! opened, threads started), then the timed part runs. CPU time and context switches are
//! `RUSAGE_SELF` deltas around the timed part, so they count every thread of the process
//! (asynchttp's workers, isahc's agent, reqwest's runtime) and not the set-up. The peak RSS
//! is the process's whole `VmHWM`. It prints one line of `name=value` fields, the same as
//! `httplib2_client.py`, for the parent to read.
//!
//! Every response must be 200 with the scenario's length and come in the scenario's HTTP
//! version (1.1, or 2 for the HTTP/2 scenarios); any other counts as a failed request. The
//! line also says every version the responses came in (`http=`).

use std::collections::{HashSet, VecDeque};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use asynchttp::{Http, LazyContent, LazyResponse};
use futures::executor::block_on;
use futures::future::join_all;
use isahc::config::{Configurable, ExpectContinue, RedirectPolicy};
use isahc::tls::{TlsConfig, TrustStore};
use isahc::{AsyncReadResponseExt, HttpClient, ReadResponseExt};
use nix::sys::resource::{UsageWho, getrusage};

use crate::scenario::{Client, POST_BODY, Scenario, version};

/// Every client's per-request timeout: the timed part cannot hang. asynchttp's default.
pub const TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The request headers of asynchttp and of the isahc baseline, set on both so that they put
/// the same bytes on the wire (asynchttp's default names its version, which this crate does
/// not know); the other clients send their own defaults.
const USER_AGENT: &str = "asynchttp";
const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";
/// Untimed requests per thread (or per slot in flight) before the timed part.
const WARM_UP: usize = 2;

/// What one request needs to know.
struct Target<'a> {
    url: &'a str,
    post: bool,
    response_len: usize,
    /// The HTTP version every answer must come in, as a `version` bit.
    version: u8,
    /// Every version an answer came in, as `version` bits.
    seen: AtomicU8,
}

impl Target<'_> {
    /// A response's status, body length and HTTP version (a `version` bit).
    fn check(&self, status: u16, len: usize, version: u8) -> Result<(), String> {
        // Read first: a shared line written only the first time a version is seen.
        if self.seen.load(Ordering::Relaxed) & version == 0 {
            self.seen.fetch_or(version, Ordering::Relaxed);
        }
        if status == 200 && len == self.response_len && version == self.version {
            Ok(())
        } else {
            Err(format!(
                "{} answered {status} with {len} bytes over HTTP/{}, not 200 with {} over \
                 HTTP/{}",
                self.url,
                version::names(version),
                self.response_len,
                version::names(self.version)
            ))
        }
    }
}

/// The timed part's outcome.
#[derive(Default)]
struct Outcome {
    /// Microseconds per request, as the caller saw it.
    latencies_us: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
    wall: Duration,
    cpu: Duration,
    switches: u64,
    /// The most threads seen in the process during the run.
    threads: usize,
    /// The process's connections to the server at the end of the timed part.
    connections: usize,
}

impl Outcome {
    fn record<T>(&mut self, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
                None
            }
        }
    }

    fn note_threads(&mut self) {
        self.threads = self.threads.max(proc_status("Threads"));
    }
}

/// Runs `client` on `scenario` against `base` (`http://127.0.0.1:PORT`, or an https one
/// with `ca` the PEM file of the CA that signed its certificate) with `requests` timed
/// requests, and prints the report line (and the first error, if any). Fails when any
/// request failed.
pub fn run(
    client: Client,
    scenario: &Scenario,
    base: &str,
    requests: usize,
    ca: Option<&Path>,
) -> Result<(), String> {
    if !client.speaks(scenario.transport) {
        return Err(format!("{} does not run {}", client.id(), scenario.id));
    }
    let port = base
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok());
    if let Some(port) = port {
        let _ = SERVER_PORT.set(port);
    }
    let url = format!("{base}{}", scenario.path);
    let target = Target {
        url: &url,
        post: scenario.post,
        response_len: scenario.response_len,
        version: scenario.transport.expected_version(),
        seen: AtomicU8::new(0),
    };
    let (c, keep) = (scenario.concurrency, scenario.all_at_once);
    let outcome = match client {
        Client::Asynchttp => asynchttp(&target, c, requests, scenario.all_at_once, ca)?,
        Client::IsahcBlocking => {
            let client = isahc_client(c, ca);
            threaded(c, requests, keep, &|| isahc_blocking(&client, &target))
        }
        Client::IsahcAsync => isahc_async(&target, c, requests, scenario.all_at_once, ca),
        Client::IsahcAsync2 => isahc_async_twice(&target, c, requests, scenario.all_at_once, ca),
        Client::Ureq => {
            let agent = ureq_agent(c, ca)?;
            threaded(c, requests, keep, &|| ureq_one(&agent, &target))
        }
        Client::Reqwest => {
            let client = reqwest_client(c, ca)?;
            threaded(c, requests, keep, &|| reqwest_one(&client, &target))
        }
        Client::Httplib2 => return Err("httplib2 runs in Python: httplib2_client.py".into()),
    };
    let mut latencies = outcome.latencies_us;
    latencies.sort_by(f64::total_cmp);
    println!(
        "requests={requests} errors={} wall_us={} cpu_us={} switches={} p50_us={:.1} \
         p99_us={:.1} peak_rss_kib={} threads={} conns={} http={}",
        outcome.errors,
        outcome.wall.as_micros(),
        outcome.cpu.as_micros(),
        outcome.switches,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        proc_status("VmHWM"),
        outcome.threads,
        outcome.connections,
        version::names(target.seen.load(Ordering::Relaxed)),
    );
    match outcome.first_error {
        Some(e) => {
            // For the parent's list of failures; the figures above still count.
            println!("first_error: {e}");
            Err(format!("{} of {requests} failed", outcome.errors))
        }
        None => Ok(()),
    }
}

/// One GET of `url` by `client`, set up as in the scenarios (for one request at a time),
/// before the run: the status, the body and the HTTP version (a `version` bit).
pub fn probe(client: Client, url: &str, ca: Option<&Path>) -> Result<(u16, Vec<u8>, u8), String> {
    let failed = |e: String| format!("{}: {url}: {e}", client.id());
    match client {
        Client::Asynchttp => {
            let mut builder = Http::builder().workers(1).timeout(TIMEOUT);
            if let Some(ca) = ca {
                builder = builder.ca_certs(ca);
            }
            let http = builder.build().map_err(|e| failed(e.to_string()))?;
            let (response, content) = http.request(url);
            let response = LazyResponse::wait(&response).map_err(|e| failed(e.to_string()))?;
            let body = LazyContent::wait(&content).map_err(|e| failed(e.to_string()))?;
            Ok((
                response.status,
                body.to_vec(),
                version::from_asynchttp(response.version),
            ))
        }
        Client::IsahcBlocking | Client::IsahcAsync | Client::IsahcAsync2 => {
            let mut response = isahc_client(1, ca)
                .get(url)
                .map_err(|e| failed(e.to_string()))?;
            let body = response.bytes().map_err(|e| failed(e.to_string()))?;
            let version = version::from_http(response.version());
            Ok((response.status().as_u16(), body, version))
        }
        Client::Ureq => {
            let response = ureq_agent(1, ca)?
                .get(url)
                .call()
                .map_err(|e| failed(e.to_string()))?;
            let (head, mut body) = response.into_parts();
            let body = body.read_to_vec().map_err(|e| failed(e.to_string()))?;
            Ok((head.status.as_u16(), body, version::from_http(head.version)))
        }
        Client::Reqwest => {
            let mut response = reqwest_client(1, ca)?
                .get(url)
                .send()
                .map_err(|e| failed(e.to_string()))?;
            let mut body = Vec::new();
            response
                .read_to_end(&mut body)
                .map_err(|e| failed(e.to_string()))?;
            let version = version::from_http(response.version());
            Ok((response.status().as_u16(), body, version))
        }
        Client::Httplib2 => Err(failed("httplib2 runs in Python".to_owned())),
    }
}

/// The nearest-rank percentile of sorted values; 0 when there are none.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// ---- measuring ----

/// CPU time and context switches of the whole process so far.
struct Usage {
    cpu: Duration,
    switches: u64,
}

impl Usage {
    fn now() -> Usage {
        let usage = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
        let time = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
        };
        Usage {
            cpu: time(usage.user_time()) + time(usage.system_time()),
            switches: (usage.voluntary_context_switches() + usage.involuntary_context_switches())
                as u64,
        }
    }
}

/// Started where the timed part starts; `stop` fills in the outcome's totals.
struct Clock {
    start: Instant,
    usage: Usage,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            start: Instant::now(),
            usage: Usage::now(),
        }
    }

    fn stop(self, outcome: &mut Outcome) {
        let (wall, usage) = (self.start.elapsed(), Usage::now());
        outcome.wall = wall;
        outcome.cpu = usage.cpu - self.usage.cpu;
        outcome.switches = usage.switches - self.usage.switches;
        outcome.connections = outcome.connections.max(connections());
    }
}

/// The server's port, for [`connections`].
static SERVER_PORT: OnceLock<u16> = OnceLock::new();

/// This process's TCP connections established to the server's port now: its socket
/// descriptors found in /proc/net/tcp. How many connections a client keeps (for HTTP/2,
/// whether it multiplexes on one).
fn connections() -> usize {
    let Some(&port) = SERVER_PORT.get() else {
        return 0;
    };
    let sockets: HashSet<u64> = std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|fd| {
            let link = std::fs::read_link(fd.path()).ok()?;
            link.to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout
    // inode; addresses are hex IP:port, state 01 is ESTABLISHED.
    tcp.lines()
        .skip(1)
        .filter(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            f.len() > 9
                && f[3] == "01"
                && f[2]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
                    == Some(port)
                && f[9].parse().is_ok_and(|inode| sockets.contains(&inode))
        })
        .count()
}

/// A number field of /proc/self/status (`VmHWM` in KiB, `Threads`).
fn proc_status(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn micros(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e6
}

// ---- c threads sharing one client: isahc blocking, ureq, reqwest ----

/// `c` threads each making its share of `requests`, one at a time, with `one`. With `keep`,
/// every response is held until all are done, as asynchttp's pairs are.
fn threaded<T: Send>(
    c: usize,
    requests: usize,
    keep: bool,
    one: &(dyn Fn() -> Result<T, String> + Sync),
) -> Outcome {
    let barrier = Barrier::new(c + 1);
    let share = |i: usize| requests / c + usize::from(i < requests % c);
    thread::scope(|s| {
        let callers: Vec<_> = (0..c)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    // A failing server fails the timed part too; only that part is counted.
                    for _ in 0..WARM_UP {
                        let _ = one();
                    }
                    let mut mine = Outcome::default();
                    // Thread start-up and warm-up stay out of the timing.
                    barrier.wait();
                    let mut kept = Vec::with_capacity(if keep { share(i) } else { 0 });
                    mine.latencies_us.reserve(share(i));
                    for _ in 0..share(i) {
                        let start = Instant::now();
                        let result = one();
                        mine.latencies_us.push(micros(start));
                        if let Some(response) = mine.record(result)
                            && keep
                        {
                            kept.push(response);
                        }
                    }
                    (mine, kept)
                })
            })
            .collect();
        barrier.wait();
        let clock = Clock::start();
        let mut outcome = Outcome::default();
        outcome.note_threads();
        let results: Vec<_> = callers
            .into_iter()
            .map(|caller| caller.join().expect("caller thread panicked"))
            .collect();
        clock.stop(&mut outcome);
        outcome.note_threads();
        for (mine, _kept) in &results {
            outcome.latencies_us.extend_from_slice(&mine.latencies_us);
            outcome.errors += mine.errors;
            if outcome.first_error.is_none() {
                outcome.first_error.clone_from(&mine.first_error);
            }
        }
        // The kept responses are dropped only now, after the peak was reached.
        drop(results);
        outcome
    })
}

// ---- asynchttp ----

/// One calling thread with `workers(c)`. In the timed scenarios it keeps `c` pairs in
/// flight: it submits until `c` are outstanding, then reads the oldest before submitting
/// the next, so a request's latency is from `request()` to the moment its reader saw it
/// done. With `all_at_once` it submits every request and then reads them in order, all
/// pairs held to the end.
fn asynchttp(
    target: &Target,
    c: usize,
    requests: usize,
    all_at_once: bool,
    ca: Option<&Path>,
) -> Result<Outcome, String> {
    let mut builder = Http::builder()
        .workers(c)
        .timeout(TIMEOUT)
        .user_agent(USER_AGENT);
    if let Some(ca) = ca {
        builder = builder.ca_certs(ca);
    }
    let http = builder
        .build()
        .map_err(|e| format!("asynchttp client: {e}"))?;
    let submit = || {
        if target.post {
            http.post(target.url, POST_BODY.as_slice())
        } else {
            http.request(target.url)
        }
    };
    let read = |(response, content): &(LazyResponse, LazyContent)| {
        let response = LazyResponse::wait(response).map_err(|e| e.to_string())?;
        let body = LazyContent::wait(content).map_err(|e| e.to_string())?;
        target.check(
            response.status,
            body.len(),
            version::from_asynchttp(response.version),
        )
    };
    let window = |n: usize, outcome: &mut Outcome| {
        let mut in_flight = VecDeque::with_capacity(c);
        for i in 0..n + c {
            if in_flight.len() == c || (i >= n && !in_flight.is_empty()) {
                let (start, pair) = in_flight.pop_front().expect("a pair in flight");
                let result = read(&pair);
                outcome.latencies_us.push(micros(start));
                outcome.record(result);
            }
            if i < n {
                in_flight.push_back((Instant::now(), submit()));
            }
        }
    };

    window(WARM_UP * c, &mut Outcome::default());
    let mut outcome = Outcome::default();
    outcome.latencies_us.reserve(requests);
    let clock = Clock::start();
    if all_at_once {
        let pairs: Vec<_> = (0..requests).map(|_| (Instant::now(), submit())).collect();
        outcome.note_threads();
        for (start, pair) in &pairs {
            let result = read(pair);
            outcome.latencies_us.push(micros(*start));
            outcome.record(result);
        }
        clock.stop(&mut outcome);
        drop(pairs);
    } else {
        window(requests, &mut outcome);
        clock.stop(&mut outcome);
    }
    outcome.note_threads();
    Ok(outcome)
}

// ---- isahc ----

/// isahc configured as asynchttp configures its own client: no redirects followed, no
/// automatic decompression, no `Expect: 100-continue`, `c` connections, and with `ca` the
/// CA file to trust. Its version negotiation is isahc's default, as asynchttp's is: over
/// TLS the highest version the server's ALPN offers.
fn isahc_client(c: usize, ca: Option<&Path>) -> HttpClient {
    let mut builder = HttpClient::builder();
    if let Some(ca) = ca {
        builder = builder.tls_config(
            TlsConfig::builder()
                .trust_store(TrustStore::from_file(ca))
                .build(),
        );
    }
    builder
        .redirect_policy(RedirectPolicy::None)
        .automatic_decompression(false)
        .expect_continue(ExpectContinue::disabled())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TIMEOUT)
        .max_connections(c)
        .max_connections_per_host(c)
        .default_header("user-agent", USER_AGENT)
        .default_header("accept-encoding", ACCEPT_ENCODING)
        .build()
        .expect("isahc client")
}

fn isahc_request<B>(target: &Target, body: impl FnOnce(bool) -> B) -> isahc::Request<B> {
    let method = if target.post { "POST" } else { "GET" };
    isahc::Request::builder()
        .method(method)
        .uri(target.url)
        .body(body(target.post))
        .expect("isahc request")
}

type Kept = (isahc::Response<()>, Vec<u8>);

fn isahc_blocking(client: &HttpClient, target: &Target) -> Result<Kept, String> {
    let request = isahc_request(target, |post| {
        if post {
            isahc::Body::from_bytes_static(POST_BODY.as_slice())
        } else {
            isahc::Body::empty()
        }
    });
    let mut response = client.send(request).map_err(|e| e.to_string())?;
    // `bytes` sizes its buffer from Content-Length, as the async path's does.
    let bytes = response.bytes().map_err(|e| e.to_string())?;
    let version = version::from_http(response.version());
    target.check(response.status().as_u16(), bytes.len(), version)?;
    let (head, _) = response.into_parts();
    Ok((isahc::Response::from_parts(head, ()), bytes))
}

/// One thread and one `HttpClient`: `c` futures, each making its share in turn, or with
/// `all_at_once` one future per request, all joined at once.
fn isahc_async(
    target: &Target,
    c: usize,
    requests: usize,
    all_at_once: bool,
    ca: Option<&Path>,
) -> Outcome {
    let client = isahc_client(c, ca);
    let one = || async {
        let start = Instant::now();
        let request = isahc_request(target, |post| {
            if post {
                isahc::AsyncBody::from_bytes_static(POST_BODY.as_slice())
            } else {
                isahc::AsyncBody::empty()
            }
        });
        let result = async {
            let mut response = client
                .send_async(request)
                .await
                .map_err(|e| e.to_string())?;
            let bytes = response.bytes().await.map_err(|e| e.to_string())?;
            let version = version::from_http(response.version());
            target.check(response.status().as_u16(), bytes.len(), version)?;
            let (head, _) = response.into_parts();
            Ok::<Kept, String>((isahc::Response::from_parts(head, ()), bytes))
        }
        .await;
        (micros(start), result)
    };
    let share = |i: usize| requests / c + usize::from(i < requests % c);
    let in_turn = |n: usize| async move {
        let mut mine = Outcome::default();
        for _ in 0..n {
            let (us, result) = one().await;
            mine.latencies_us.push(us);
            mine.record(result);
        }
        mine
    };

    block_on(join_all((0..c).map(|_| in_turn(WARM_UP))));
    let mut outcome = Outcome::default();
    let clock = Clock::start();
    if all_at_once {
        let results = block_on(join_all((0..requests).map(|_| one())));
        clock.stop(&mut outcome);
        for (us, result) in results {
            outcome.latencies_us.push(us);
            outcome.record(result);
        }
    } else {
        let mine = block_on(join_all((0..c).map(|i| in_turn(share(i)))));
        clock.stop(&mut outcome);
        for m in mine {
            outcome.latencies_us.extend_from_slice(&m.latencies_us);
            outcome.errors += m.errors;
            if outcome.first_error.is_none() {
                outcome.first_error = m.first_error;
            }
        }
    }
    outcome.note_threads();
    outcome
}

/// [`isahc_async`] on two threads at once, each with a client of its own and half of the
/// concurrency and of the requests. Each thread's set-up and warm-up fall inside the timed
/// part here: a small bias against this client.
fn isahc_async_twice(
    target: &Target,
    c: usize,
    requests: usize,
    all_at_once: bool,
    ca: Option<&Path>,
) -> Outcome {
    let halves = [(c / 2).max(1), c - c / 2];
    let mut outcome = Outcome::default();
    let clock = Clock::start();
    let parts: Vec<Outcome> = std::thread::scope(|scope| {
        let runs: Vec<_> = halves
            .iter()
            .enumerate()
            .map(|(i, &half)| {
                let mine = requests / 2 + usize::from(i == 0 && requests % 2 == 1);
                scope.spawn(move || isahc_async(target, half.max(1), mine, all_at_once, ca))
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("a driver thread"))
            .collect()
    });
    clock.stop(&mut outcome);
    for part in parts {
        outcome.latencies_us.extend_from_slice(&part.latencies_us);
        outcome.errors += part.errors;
        outcome.threads = outcome.threads.max(part.threads);
        outcome.connections = outcome.connections.max(part.connections);
        if outcome.first_error.is_none() {
            outcome.first_error = part.first_error;
        }
    }
    outcome
}

// ---- ureq ----

/// One `Agent` for every thread, its pool as large as the concurrency (its default keeps 3
/// idle connections per host, which would make the others reconnect), no redirects, 4xx and
/// 5xx as responses.
///
/// Its timeouts are set phase by phase, leaving out name resolution: ureq resolves the host
/// on every request, even one that reuses a pooled connection, and a resolution with a
/// timeout (which `timeout_global` would give it) runs on a thread spawned for it. For the
/// IP address here resolving cannot block, and each phase that can is bounded.
///
/// With `ca`, it trusts that CA alone, over rustls with the aws-lc-rs provider (the one
/// reqwest's and libcurl's rustls use here).
fn ureq_agent(c: usize, ca: Option<&Path>) -> Result<ureq::Agent, String> {
    let mut builder = ureq::Agent::config_builder();
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let certs = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => Some(Ok(cert)),
                Ok(_) => None,
                Err(e) => Some(Err(format!("{}: {e}", ca.display()))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        builder = builder.tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::Rustls)
                .unversioned_rustls_crypto_provider(Arc::new(
                    rustls::crypto::aws_lc_rs::default_provider(),
                ))
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build(),
        );
    }
    Ok(builder
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_send_request(Some(TIMEOUT))
        .timeout_send_body(Some(TIMEOUT))
        .timeout_recv_response(Some(TIMEOUT))
        .timeout_recv_body(Some(TIMEOUT))
        .max_redirects(0)
        .http_status_as_error(false)
        .max_idle_connections(c)
        .max_idle_connections_per_host(c)
        .build()
        .into())
}

fn ureq_one(
    agent: &ureq::Agent,
    target: &Target,
) -> Result<(ureq::http::Response<()>, Vec<u8>), String> {
    let response = if target.post {
        agent.post(target.url).send(POST_BODY.as_slice())
    } else {
        agent.get(target.url).call()
    }
    .map_err(|e| e.to_string())?;
    let (head, mut body) = response.into_parts();
    let bytes = body.read_to_vec().map_err(|e| e.to_string())?;
    let version = version::from_http(head.version);
    target.check(head.status.as_u16(), bytes.len(), version)?;
    Ok((ureq::http::Response::from_parts(head, ()), bytes))
}

// ---- reqwest ----

/// One blocking `Client` for every thread: no redirects, no proxy, a pool as large as the
/// concurrency; with `ca`, that CA as its only root (rustls, which offers h2 and http/1.1 in
/// ALPN).
fn reqwest_client(c: usize, ca: Option<&Path>) -> Result<reqwest::blocking::Client, String> {
    let mut builder = reqwest::blocking::Client::builder();
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let cert =
            reqwest::Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", ca.display()))?;
        builder = builder.tls_certs_only([cert]);
    }
    builder
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(c)
        .build()
        .map_err(|e| format!("reqwest client: {e}"))
}

fn reqwest_one(
    client: &reqwest::blocking::Client,
    target: &Target,
) -> Result<(reqwest::blocking::Response, Vec<u8>), String> {
    let request = if target.post {
        client.post(target.url).body(POST_BODY.as_slice())
    } else {
        client.get(target.url)
    };
    let mut response = request.send().map_err(|e| e.to_string())?;
    // Sized from Content-Length, as `Response::bytes` would; reading through `Read` keeps
    // the response (and its headers) for the scenario that holds every one.
    let length = response.content_length().unwrap_or(0);
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    response
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    let version = version::from_http(response.version());
    target.check(response.status().as_u16(), bytes.len(), version)?;
    Ok((response, bytes))
}
