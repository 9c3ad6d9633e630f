//! asynchttp against its peers, each client in a process of its own, against nginx on
//! 127.0.0.1.
//!
//! ```sh
//! benches/peers/run.sh            # installs nginx and python3-httplib2 if missing, builds, runs
//!                                 # 3 rounds (15 to 25 minutes on 2 cores), writes results.md
//! benches/peers/run.sh --quick    # 1 round of a tenth of the requests: a minute or two
//! benches/peers/run.sh --rounds 5 --scenarios seq,get-c8 --clients asynchttp,ureq
//! ```
//!
//! run.sh starts nginx and calls `asynchttp-peers run --base http://127.0.0.1:PORT ...`,
//! which runs every (scenario, round, client) as `asynchttp-peers child ...` (or
//! `httplib2_client.py`) in a fresh process, reads the one line it prints, and writes the
//! medians as markdown to stdout and `results.md`.
//!
//! # Scenarios
//!
//! Sequential GET of 100 bytes (c=1); 20,000 GETs of 100 bytes at concurrency 8, 32 and 128;
//! 10,000 POSTs of 100 bytes answered with 100 bytes at 8 and 32; 5,000 GETs of 64 KiB and
//! 500 of 1 MiB at 8; and 100,000 GETs of 5 bytes made at once with 8 workers, every result
//! kept (peak RSS and threads are its figures). `src/scenario.rs` lists them.
//!
//! # Clients, and how each is driven
//!
//! - **asynchttp**: `Http::builder().workers(c)`, cache off (the default). One calling
//!   thread keeps `c` pairs in flight: it submits with `request()` or `post()` until `c` are
//!   outstanding, then reads the oldest pair before submitting the next. This is how
//!   asynchttp is used: a program makes its requests and reads the pairs later, from one
//!   thread, with the workers doing the I/O; the window of `c` keeps the latency figures
//!   meaningful (submitting all 20,000 at once gives the same rate, but then a request's
//!   latency is mostly time in the queue). The 100,000 scenario submits everything at once.
//! - **isahc (blocking)**: `c` threads sharing one `HttpClient` configured as asynchttp
//!   configures its own: no redirects, no automatic decompression, no `Expect`, `c`
//!   connections, the same request headers.
//! - **isahc (async)**: the same client, one thread, `c` futures of `send_async` joined.
//! - **ureq 3**: `c` threads sharing one `Agent`, its idle pool raised to `c`.
//! - **reqwest blocking**: `c` threads sharing one `Client`.
//! - **Python httplib2**: `c` threads, each with its own `httplib2.Http()`, GET only
//!   (`httplib2_client.py`).
//!
//! Every client has a 30-second timeout per request, and the parent kills a child that runs
//! for more than five minutes, so no wait is unbounded.

#![forbid(unsafe_code)]

mod child;
mod report;
mod scenario;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use scenario::{Client, SCENARIOS};

const USAGE: &str = "\
usage: asynchttp-peers run --base http://127.0.0.1:PORT [--rounds N] [--quick]
                           [--python PATH] [--out FILE] [--note TEXT]...
                           [--clients a,b] [--scenarios x,y] [--server-pid PID]
       asynchttp-peers child --client ID --scenario ID --base URL --requests N
       asynchttp-peers free-port";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("child") => child(&args[1..]),
        Some("free-port") => free_port(),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("asynchttp-peers: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs and `--flag`s.
struct Args<'a>(&'a [String]);

impl Args<'_> {
    fn value(&self, name: &str) -> Option<&str> {
        let i = self.0.iter().position(|a| a == name)?;
        self.0.get(i + 1).map(String::as_str)
    }

    fn values(&self, name: &str) -> Vec<String> {
        self.0
            .windows(2)
            .filter(|w| w[0] == name)
            .map(|w| w[1].clone())
            .collect()
    }

    fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|a| a == name)
    }

    fn required(&self, name: &str) -> Result<&str, String> {
        self.value(name)
            .ok_or_else(|| format!("{name} is required\n{USAGE}"))
    }

    fn number(&self, name: &str) -> Result<Option<usize>, String> {
        self.value(name)
            .map(|v| v.parse().map_err(|_| format!("{name}: not a number: {v}")))
            .transpose()
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let args = Args(args);
    let quick = args.flag("--quick");
    let base = args.required("--base")?.trim_end_matches('/').to_owned();
    let clients = match args.value("--clients") {
        None => Client::ALL.to_vec(),
        Some(ids) => ids
            .split(',')
            .map(|id| Client::by_id(id).ok_or(format!("no client {id}")))
            .collect::<Result<_, _>>()?,
    };
    let plan = report::Plan {
        rounds: args
            .number("--rounds")?
            .unwrap_or(if quick { 1 } else { 3 })
            .max(1),
        quick,
        python: args.value("--python").map(str::to_owned),
        out: args.value("--out").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results.md"),
            PathBuf::from,
        ),
        notes: args.values("--note"),
        clients,
        scenarios: report::pick_scenarios(args.value("--scenarios"))?,
        server_pid: args
            .value("--server-pid")
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("--server-pid: not a pid: {v}"))
            })
            .transpose()?,
        base,
    };
    preflight(&plan.base)?;
    report::run(&plan)
}

/// Each path answers as the scenarios expect, before minutes are spent on them.
fn preflight(base: &str) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut seen = Vec::new();
    for s in &SCENARIOS {
        if seen.contains(&s.path) {
            continue;
        }
        seen.push(s.path);
        let url = format!("{base}{}", s.path);
        let response = if s.post {
            agent.post(&url).send(scenario::POST_BODY.as_slice())
        } else {
            agent.get(&url).call()
        };
        let mut response = response.map_err(|e| format!("{url}: {e}"))?;
        let len = response
            .body_mut()
            .with_config()
            .limit(2 << 20)
            .read_to_vec()
            .map_err(|e| format!("{url}: {e}"))?
            .len();
        if response.status() != 200 || len != s.response_len {
            return Err(format!(
                "{url} answered {} with {len} bytes, not 200 with {}",
                response.status(),
                s.response_len
            ));
        }
    }
    Ok(())
}

fn child(args: &[String]) -> Result<(), String> {
    let args = Args(args);
    let id = args.required("--client")?;
    let client = Client::by_id(id).ok_or(format!("no client {id}"))?;
    let id = args.required("--scenario")?;
    let scenario = scenario::scenario_by_id(id).ok_or(format!("no scenario {id}"))?;
    let requests = args.number("--requests")?.unwrap_or(scenario.requests);
    child::run(client, scenario, args.required("--base")?, requests)
}

/// A port free on 127.0.0.1 now, for nginx to listen on.
fn free_port() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("local addr: {e}"))?;
    println!("{}", addr.port());
    Ok(())
}
