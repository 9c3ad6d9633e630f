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
//! run.sh also makes a throwaway CA and a certificate for 127.0.0.1 signed by it, and nginx
//! serves the same files over TLS on two more ports: one whose ALPN offers only `http/1.1`
//! (`--tls-base`), one that offers `h2` (`--h2-base`). `--ca` is the CA's PEM file, which
//! every client in the TLS scenarios is told to trust.
//!
//! # Scenarios
//!
//! Sequential GET of 100 bytes (c=1); 20,000 GETs of 100 bytes at concurrency 8, 32 and 128;
//! 10,000 POSTs of 100 bytes answered with 100 bytes at 8 and 32; 5,000 GETs of 64 KiB and
//! 500 of 1 MiB at 8; and 100,000 GETs of 5 bytes made at once with 8 workers, every result
//! kept (peak RSS and threads are its figures). Over TLS, HTTP/1.1 against HTTP/2: 20,000
//! GETs of 100 bytes at 32 and 5,000 of 64 KiB at 8, each over both; a response in any other
//! HTTP version than the scenario's counts as failed. `src/scenario.rs` lists them.
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
//!   (`httplib2_client.py`), plain http only.
//!
//! Over TLS, asynchttp and isahc use libcurl's rustls (rustls-ffi), reqwest hyper-rustls
//! and ureq rustls, all with aws-lc-rs; ureq has no HTTP/2 and sits out those scenarios.
//!
//! Every client has a 30-second timeout per request, and the parent kills a child that runs
//! for more than five minutes, so no wait is unbounded.

#![forbid(unsafe_code)]

mod child;
mod report;
mod scenario;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use scenario::{Client, SCENARIOS, Transport};

const USAGE: &str = "\
usage: asynchttp-peers run --base http://127.0.0.1:PORT [--rounds N] [--quick]
                           [--tls-base https://127.0.0.1:PORT --h2-base https://127.0.0.1:PORT
                            --ca FILE]
                           [--python PATH] [--out FILE] [--note TEXT]...
                           [--clients a,b] [--scenarios x,y] [--server-pid PID]
       asynchttp-peers child --client ID --scenario ID --base URL --requests N [--ca FILE]
       asynchttp-peers free-port [COUNT]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("child") => child(&args[1..]),
        Some("free-port") => free_port(&args[1..]),
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
    let https = |name: &str| args.value(name).map(|b| b.trim_end_matches('/').to_owned());
    let tls = match (https("--tls-base"), https("--h2-base"), args.value("--ca")) {
        (Some(h1), Some(h2), Some(ca)) => Some(report::Tls {
            h1_base: h1,
            h2_base: h2,
            ca: PathBuf::from(ca),
        }),
        (None, None, None) => None,
        _ => {
            return Err(format!(
                "--tls-base, --h2-base and --ca go together\n{USAGE}"
            ));
        }
    };
    let clients = match args.value("--clients") {
        None => Client::ALL.to_vec(),
        Some(ids) => ids
            .split(',')
            .map(|id| Client::by_id(id).ok_or(format!("no client {id}")))
            .collect::<Result<_, _>>()?,
    };
    let mut plan = report::Plan {
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
        scenarios: report::pick_scenarios(args.value("--scenarios"), tls.is_some())?,
        server_pid: args
            .value("--server-pid")
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("--server-pid: not a pid: {v}"))
            })
            .transpose()?,
        base,
        tls,
        tls_note: None,
    };
    preflight(&plan.base)?;
    if let Some(tls) = &plan.tls
        && plan.scenarios.iter().any(|s| s.transport.is_tls())
    {
        plan.tls_note = Some(preflight_tls(tls, &plan.clients)?);
    }
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
    for s in SCENARIOS.iter().filter(|s| !s.transport.is_tls()) {
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

/// Over TLS, each path of the TLS scenarios answers as expected in the HTTP version of
/// each port (asked with isahc's client, given the CA); and every client taking part says
/// which TLS version and cipher it got, which nginx answers at `/tls`. Returns that, as a
/// note for the report.
fn preflight_tls(tls: &report::Tls, clients: &[Client]) -> Result<String, String> {
    let ca = Some(tls.ca.as_path());
    let mut seen = Vec::new();
    for s in SCENARIOS.iter().filter(|s| s.transport.is_tls()) {
        let base = tls.base(s.transport);
        if seen.contains(&(base, s.path)) {
            continue;
        }
        seen.push((base, s.path));
        let url = format!("{base}{}", s.path);
        let (status, body, version) = child::probe(Client::IsahcBlocking, &url, ca)?;
        let expected = s.transport.expected_version();
        if status != 200 || body.len() != s.response_len || version != expected {
            return Err(format!(
                "{url} answered {status} with {} bytes over HTTP/{}, not 200 with {} over \
                 HTTP/{}",
                body.len(),
                scenario::version::names(version),
                s.response_len,
                scenario::version::names(expected)
            ));
        }
    }
    // isahc's async clients are the blocking one's settings on the same stack.
    let mut answers: Vec<(Client, String)> = Vec::new();
    for &client in clients {
        if matches!(client, Client::IsahcAsync | Client::IsahcAsync2) {
            continue;
        }
        for transport in [Transport::TlsH1, Transport::TlsH2] {
            if !client.speaks(transport) {
                continue;
            }
            let url = format!("{}/tls", tls.base(transport));
            let (status, body, version) = child::probe(client, &url, ca)?;
            let answer = String::from_utf8_lossy(&body).trim().to_owned();
            if status != 200 || version != transport.expected_version() {
                return Err(format!(
                    "{}: {url} answered {status} ({answer}) over HTTP/{}",
                    client.id(),
                    scenario::version::names(version)
                ));
            }
            if !answers.iter().any(|(c, a)| *c == client && *a == answer) {
                answers.push((client, answer));
            }
        }
    }
    let Some(first) = answers.first().map(|(_, a)| a.clone()) else {
        return Ok("no client runs over TLS".to_owned());
    };
    Ok(if answers.iter().all(|(_, a)| *a == first) {
        format!("every client negotiated {first} on both ports (asked of nginx before the run)")
    } else {
        let each: Vec<String> = answers.iter().map(|(c, a)| format!("{c}: {a}")).collect();
        format!(
            "TLS negotiated, asked of nginx before the run: {}",
            each.join("; ")
        )
    })
}

fn child(args: &[String]) -> Result<(), String> {
    let args = Args(args);
    let id = args.required("--client")?;
    let client = Client::by_id(id).ok_or(format!("no client {id}"))?;
    let id = args.required("--scenario")?;
    let scenario = scenario::scenario_by_id(id).ok_or(format!("no scenario {id}"))?;
    let requests = args.number("--requests")?.unwrap_or(scenario.requests);
    let ca = args.value("--ca").map(Path::new);
    child::run(client, scenario, args.required("--base")?, requests, ca)
}

/// `count` ports (1 if not given) free on 127.0.0.1 now, all different, for nginx to
/// listen on; one line.
fn free_port(args: &[String]) -> Result<(), String> {
    let count = match args.first() {
        None => 1,
        Some(n) => n
            .parse()
            .map_err(|_| format!("free-port: not a number: {n}"))?,
    };
    // Held together, so that no two are the same.
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let ports = listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.port().to_string())
                .map_err(|e| format!("local addr: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    println!("{}", ports.join(" "));
    Ok(())
}
