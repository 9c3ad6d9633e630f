//! A fleet of processes sharing one host's limits through Redis: N processes (4 by
//! default) fetch URLs from loopback servers started here, one host limited to 2 requests
//! in flight and 10 a second across all of them, and the limited host's server counts what
//! it saw. A redis-server is started here too (installed from Debian if missing), unless
//! `--redis URL` names one.
//!
//! ```sh
//! cargo run --release --features redis --example fleet                  # the demonstration
//! cargo run --release --features redis --example fleet -- --processes 8
//! cargo run --release --features redis --example fleet -- --bench       # shared against local
//! ```
//!
//! `--bench` (what `benches/fleet.sh` runs) measures, in the same run, rounds of the fleet
//! with its limits shared and with each process's own: what the limited host saw, the
//! other hosts' throughput (which Redis must not slow), and, one process fetching one
//! after the other from a host whose limits never bind, the time each request took, so
//! that the difference is what asking Redis adds. The exit status is 1 when the limited
//! host saw more than its limits allow.
//!
//! Each process of the fleet is this program again, as `fleet member ...` (member.rs).

#[path = "../../tests/it/gauge.rs"]
mod gauge;
mod member;
#[path = "../../tests/it/redis_server.rs"]
mod redis_server;

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use gauge::{Answer, Gauge};
use member::Orders;
use redis_server::RedisServer;

/// The limited host's limits, across the fleet.
const IN_FLIGHT: usize = 2;
const RATE: f64 = 10.0;
/// Requests of each process to the limited host, and to the others.
const LIMITED: usize = 20;
const OTHERS: usize = 300;
const OTHER_HOSTS: usize = 3;
/// With `--bench`: enough for the other hosts' work to take seconds.
const BENCH_OTHERS: usize = 10_000;
/// The longest the fleet may take.
const BOUND: Duration = Duration::from_secs(120);

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("member") {
        args.next();
        let orders = match Orders::parse(args) {
            Ok(orders) => orders,
            Err(e) => {
                eprintln!("fleet member: {e}");
                return ExitCode::from(2);
            }
        };
        if std::env::var_os("RUST_LOG").is_some() {
            env_logger::init();
        }
        return match member::run(&orders) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fleet member: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let (mut processes, mut redis, mut bench, mut rounds) = (4, None, false, 3);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--processes" => processes = args.next().and_then(|n| n.parse().ok()).unwrap_or(4),
            "--redis" => redis = args.next(),
            "--bench" => bench = true,
            "--rounds" => rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(3),
            _ => {
                eprintln!("usage: fleet [--processes N] [--redis URL] [--bench [--rounds N]]");
                return ExitCode::from(2);
            }
        }
    }
    // A Redis of our own, unless one is given.
    let own = redis.is_none().then(|| RedisServer::start("fleet"));
    let redis = redis.unwrap_or_else(|| own.as_ref().expect("started").url());
    let kept = if bench {
        bench_rounds(&redis, processes, rounds)
    } else {
        let round = fleet_round(&redis, processes, "demo", true, OTHERS);
        round.print("shared");
        round.kept()
    };
    if kept {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// What one run of the fleet measured.
struct Round {
    most_at_once: usize,
    most_in_a_second: usize,
    limited_hits: usize,
    others: usize,
    others_secs: f64,
    failed: u64,
}

impl Round {
    fn kept(&self) -> bool {
        // A token is spent as a request starts, and a request that also opens a connection
        // reaches the server a little later after its start than the one after it: now and
        // then the server counts one more within a second.
        self.most_at_once <= IN_FLIGHT
            && self.most_in_a_second <= RATE as usize + 1
            && self.failed == 0
    }

    fn print(&self, mode: &str) {
        println!(
            "{mode:>6}: limited host: {} requests, at most {} at once (limit {IN_FLIGHT}), at most {} \
             within a second (limit {RATE}); other hosts: {} requests in {:.2} s, {:.0}/s; {} failed",
            self.limited_hits,
            self.most_at_once,
            self.most_in_a_second,
            self.others,
            self.others_secs,
            self.others as f64 / self.others_secs,
            self.failed,
        );
    }
}

/// `processes` members at once, each fetching `LIMITED` URLs of the limited host and
/// `others` of the other hosts, their limits shared through `redis` or not.
fn fleet_round(redis: &str, processes: usize, prefix: &str, shared: bool, others: usize) -> Round {
    // Slow enough that, at 10 a second, three would run at once: the cap binds too.
    let limited = Gauge::start(|_| Answer::ok(Duration::from_millis(250)));
    let hosts: Vec<Gauge> = (0..OTHER_HOSTS)
        .map(|_| Gauge::start(|_| Answer::ok(Duration::from_millis(1))))
        .collect();
    let orders: Vec<Orders> = (0..processes)
        .map(|p| {
            let mut urls: Vec<String> = (0..LIMITED)
                .map(|i| limited.url(&format!("/{p}/{i}")))
                .collect();
            urls.extend((0..others).map(|i| hosts[i % OTHER_HOSTS].url(&format!("/{p}/{i}"))));
            Orders {
                redis: shared.then(|| redis.to_owned()),
                cluster: false,
                prefix: prefix.to_owned(),
                lease: None,
                limited: limited.authority(),
                in_flight: IN_FLIGHT,
                rate: RATE,
                adaptive: true,
                sequential: false,
                urls,
            }
        })
        .collect();
    let lines = run_members(&orders);
    Round {
        most_at_once: limited.most(),
        most_in_a_second: limited.most_within(Duration::from_secs(1)),
        limited_hits: limited.hits(),
        others: others * processes,
        others_secs: lines
            .iter()
            .map(|l| field(l, "others_us"))
            .max()
            .unwrap_or(0) as f64
            / 1e6,
        failed: lines.iter().map(|l| field(l, "failed")).sum(),
    }
}

/// One member fetching `count` URLs one after the other from a host whose limits never
/// bind: each request's p50 and p99, in microseconds.
fn latency_round(redis: &str, prefix: &str, shared: bool, count: usize) -> (u64, u64) {
    let host = Gauge::start(|_| Answer::ok(Duration::ZERO));
    let orders = Orders {
        redis: shared.then(|| redis.to_owned()),
        cluster: false,
        prefix: prefix.to_owned(),
        lease: None,
        limited: host.authority(),
        in_flight: 64,
        rate: 1e6,
        adaptive: true,
        sequential: true,
        urls: (0..count).map(|i| host.url(&format!("/{i}"))).collect(),
    };
    let line = &run_members(&[orders])[0];
    (field(line, "p50_us"), field(line, "p99_us"))
}

/// Rounds of the fleet shared and not, taking turns; then the latency rounds.
fn bench_rounds(redis: &str, processes: usize, rounds: usize) -> bool {
    let mut kept = true;
    let mut ratios = Vec::new();
    for round in 0..rounds {
        let shared = fleet_round(
            redis,
            processes,
            &format!("bench-{round}"),
            true,
            BENCH_OTHERS,
        );
        let local = fleet_round(
            redis,
            processes,
            &format!("bench-{round}"),
            false,
            BENCH_OTHERS,
        );
        shared.print("shared");
        local.print("local");
        kept &= shared.kept();
        let rate = |r: &Round| r.others as f64 / r.others_secs;
        ratios.push(rate(&local) / rate(&shared));
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "other hosts' throughput, local / shared: median {:.2} of {rounds} rounds ({:.2?})",
        ratios[ratios.len() / 2],
        ratios
    );
    let (mut shared, mut local) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        shared.push(latency_round(
            redis,
            &format!("latency-{round}"),
            true,
            2000,
        ));
        local.push(latency_round(
            redis,
            &format!("latency-{round}"),
            false,
            2000,
        ));
    }
    let median = |v: &mut Vec<u64>| {
        v.sort();
        v[v.len() / 2]
    };
    let (mut s50, mut s99): (Vec<u64>, Vec<u64>) = shared.into_iter().unzip();
    let (mut l50, mut l99): (Vec<u64>, Vec<u64>) = local.into_iter().unzip();
    let (s50, s99, l50, l99) = (
        median(&mut s50),
        median(&mut s99),
        median(&mut l50),
        median(&mut l99),
    );
    println!(
        "one request at a time, limits that never bind: p50 {s50} µs shared, {l50} µs local \
         (+{} µs); p99 {s99} µs shared, {l99} µs local (+{} µs); medians of {rounds} rounds",
        s50.saturating_sub(l50),
        s99.saturating_sub(l99)
    );
    kept
}

/// Runs the members at once, each this program as `fleet member`, and gives their lines.
fn run_members(orders: &[Orders]) -> Vec<String> {
    let exe = std::env::current_exe().expect("this program");
    let mut children: Vec<_> = orders
        .iter()
        .map(|o| {
            Command::new(&exe)
                .args(o.to_args())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start a member")
        })
        .collect();
    let started = Instant::now();
    let mut lines = Vec::new();
    for child in &mut children {
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("piped")
            .read_to_string(&mut out)
            .expect("read a member");
        loop {
            match child.try_wait().expect("wait for a member") {
                Some(status) => {
                    assert!(status.success(), "a member failed: {status}\n{out}");
                    break;
                }
                None if started.elapsed() > BOUND => {
                    let _ = child.kill();
                    panic!("a member took longer than {BOUND:?}");
                }
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        lines.push(out.trim().to_owned());
    }
    lines
}

/// The `name=value` field of a member's line.
fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
}
