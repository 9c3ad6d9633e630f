//! The parent: runs every (scenario, round, client) in a fresh child process, takes medians
//! over the rounds, and writes the markdown tables.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::scenario::{Client, SCENARIOS, Scenario, Transport, version};

/// What the parent was asked to do.
pub struct Plan {
    /// Plain http: `http://127.0.0.1:PORT`.
    pub base: String,
    /// nginx's TLS ports and the CA, if run.sh made them; without them no TLS scenario runs.
    pub tls: Option<Tls>,
    /// Which TLS version and cipher the clients negotiated, found before the run.
    pub tls_note: Option<String>,
    pub rounds: usize,
    pub quick: bool,
    /// The Python with httplib2, or `None` for a column of "-".
    pub python: Option<String>,
    pub out: PathBuf,
    /// Lines about the server and the day, from run.sh.
    pub notes: Vec<String>,
    pub clients: Vec<Client>,
    pub scenarios: Vec<&'static Scenario>,
    /// nginx's master process, whose CPU time (its workers') is told apart from the rest of
    /// the machine's.
    pub server_pid: Option<u32>,
}

/// nginx's two https ports, the same files behind each, and the CA that signed their
/// certificate.
pub struct Tls {
    /// ALPN offers only `http/1.1`.
    pub h1_base: String,
    /// ALPN offers `h2`.
    pub h2_base: String,
    /// The CA's PEM file.
    pub ca: PathBuf,
}

impl Tls {
    /// The base of a TLS transport; the HTTP/1.1 one for plain http, which has none here.
    pub fn base(&self, transport: Transport) -> &str {
        match transport {
            Transport::TlsH2 => &self.h2_base,
            Transport::TlsH1 | Transport::Plain => &self.h1_base,
        }
    }
}

impl Plan {
    /// Where a scenario's requests go, and the CA file to trust there.
    fn target(&self, scenario: &Scenario) -> (&str, Option<&PathBuf>) {
        match (&self.tls, scenario.transport.is_tls()) {
            (Some(tls), true) => (tls.base(scenario.transport), Some(&tls.ca)),
            _ => (&self.base, None),
        }
    }
}

/// No child may run longer than this: a stuck client costs a cell, not the run.
const CHILD_DEADLINE: Duration = Duration::from_secs(300);
const PYTHON_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/httplib2_client.py");

/// One child's report.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    requests: f64,
    /// Requests that failed (their time still counts in the figures).
    errors: f64,
    wall_us: f64,
    cpu_us: f64,
    switches: f64,
    p50_us: f64,
    p99_us: f64,
    peak_rss_kib: f64,
    threads: f64,
    /// Connections to the server open at the end of the timed part (0: not reported, as
    /// httplib2 does not).
    connections: f64,
    /// The HTTP versions the responses came in, as `version` bits (0: not reported).
    versions: u8,
}

impl Sample {
    fn parse(line: &str) -> Option<Sample> {
        let field = |name: &str| -> Option<f64> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
        };
        Some(Sample {
            requests: field("requests")?,
            errors: field("errors")?,
            wall_us: field("wall_us")?,
            cpu_us: field("cpu_us")?,
            switches: field("switches")?,
            p50_us: field("p50_us")?,
            p99_us: field("p99_us")?,
            peak_rss_kib: field("peak_rss_kib")?,
            threads: field("threads")?,
            connections: field("conns").unwrap_or(0.0),
            versions: line
                .split_whitespace()
                .find_map(|kv| version::parse(kv.strip_prefix("http=")?))
                .unwrap_or(0),
        })
    }

    fn rate(&self) -> f64 {
        self.requests * 1e6 / self.wall_us.max(1.0)
    }
}

/// Every round's sample of each (scenario, client); `None` where the child failed.
type Runs = HashMap<(&'static str, Client), Vec<Option<Sample>>>;

pub fn run(plan: &Plan) -> Result<(), String> {
    let started = Instant::now();
    let load_before = Load::now(plan.server_pid);
    let mut runs: Runs = HashMap::new();
    let mut failures = Vec::new();
    // How busy the machine was during each scenario: others' load moves these figures.
    let mut loads = HashMap::new();
    for scenario in &plan.scenarios {
        let (scenario_started, scenario_load) = (Instant::now(), Load::now(plan.server_pid));
        let clients: Vec<Client> = plan
            .clients
            .iter()
            .copied()
            .filter(|&client| takes_part(plan, client, scenario))
            .collect();
        let requests = if plan.quick {
            scenario.quick_requests
        } else {
            scenario.requests
        };
        for round in 0..plan.rounds {
            // Rotated each round, so no client always follows the same one.
            let mut order = clients.clone();
            let shift = round % order.len().max(1);
            order.rotate_left(shift);
            for client in order {
                let (sample, failure) = run_child(plan, client, scenario, requests);
                if let Some(sample) = &sample {
                    eprintln!(
                        "{:>11} round {} {:<12} {:>9.0} req/s  p50 {:>7.0} µs  {:>6.1} MiB",
                        scenario.id,
                        round + 1,
                        client.id(),
                        sample.rate(),
                        sample.p50_us,
                        sample.peak_rss_kib / 1024.0
                    );
                }
                if let Some(e) = failure {
                    let what =
                        format!("{}, round {}, {}: {e}", scenario.id, round + 1, client.id());
                    eprintln!("{what}");
                    failures.push(what);
                }
                runs.entry((scenario.id, client)).or_default().push(sample);
            }
        }
        let load = Load::now(plan.server_pid).since(&scenario_load, scenario_started.elapsed());
        loads.insert(scenario.id, load);
    }
    let took = started.elapsed();
    let load = Load::now(plan.server_pid).since(&load_before, took);
    let markdown = render(plan, &runs, &loads, &failures, took, &load);
    print!("{markdown}");
    std::fs::write(&plan.out, &markdown)
        .map_err(|e| format!("write {}: {e}", plan.out.display()))?;
    eprintln!("wrote {} ({:.0} s)", plan.out.display(), took.as_secs_f64());
    Ok(())
}

/// httplib2 only runs GET scenarios over plain http, and only where Python has it; over
/// TLS, the clients that can be given the CA and speak the scenario's HTTP version.
fn takes_part(plan: &Plan, client: Client, scenario: &Scenario) -> bool {
    client.speaks(scenario.transport)
        && (client != Client::Httplib2 || (plan.python.is_some() && !scenario.post))
}

/// One measurement in a fresh process: this binary's `child` command, or the Python script.
/// Its report, if it printed one (a run with failed requests prints one too), and what
/// went wrong, if anything did.
fn run_child(
    plan: &Plan,
    client: Client,
    scenario: &Scenario,
    requests: usize,
) -> (Option<Sample>, Option<String>) {
    let (base, ca) = plan.target(scenario);
    let mut command = match (client, &plan.python) {
        (Client::Httplib2, Some(python)) => {
            let mut command = Command::new(python);
            command.arg(PYTHON_SCRIPT).args([
                "--url",
                &format!("{base}{}", scenario.path),
                "--requests",
                &requests.to_string(),
                "--concurrency",
                &scenario.concurrency.to_string(),
                "--expect",
                &scenario.response_len.to_string(),
            ]);
            if scenario.all_at_once {
                command.arg("--keep");
            }
            command
        }
        _ => {
            let exe = std::env::current_exe().expect("the path of this program");
            let mut command = Command::new(exe);
            command.args([
                "child",
                "--client",
                client.id(),
                "--scenario",
                scenario.id,
                "--base",
                base,
                "--requests",
                &requests.to_string(),
            ]);
            if let Some(ca) = ca {
                command.arg("--ca").arg(ca);
            }
            command
        }
    };
    let child = output_within(&mut command, CHILD_DEADLINE);
    let sample = child.output.lines().find_map(Sample::parse);
    let first_error = child
        .output
        .lines()
        .find_map(|l| l.strip_prefix("first_error: "));
    let failure = match (&child.failure, first_error, &sample) {
        (None, None, Some(_)) => None,
        (why, first, sample) => Some(format!(
            "{}{}{}",
            why.as_deref().unwrap_or("exit status 0"),
            sample.map_or(String::new(), |s| format!(
                "; {} of {} requests failed",
                thousands(s.errors),
                thousands(s.requests)
            )),
            first.map_or_else(|| "; no report".to_owned(), |e| format!("; first: {e}"))
        )),
    };
    (sample, failure)
}

/// What a child printed, and why it failed if it did.
pub struct ChildOutput {
    pub output: String,
    pub failure: Option<String>,
}

/// Runs `command` and returns its standard output, killing it after `deadline`. Its
/// standard error goes to ours.
pub fn output_within(command: &mut Command, deadline: Duration) -> ChildOutput {
    let failed = |why: String| ChildOutput {
        output: String::new(),
        failure: Some(why),
    };
    let mut child = match command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return failed(format!("start {command:?}: {e}")),
    };
    let mut stdout = child.stdout.take().expect("piped stdout");
    // Read on a thread, so that the wait below can have a deadline without polling.
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let result = stdout.read_to_string(&mut text).map(|_| text);
        let _ = tx.send(result);
    });
    match rx.recv_timeout(deadline) {
        Ok(read) => {
            let status = child.wait();
            let output = read.unwrap_or_default();
            let failure = match status {
                Ok(status) if status.success() => None,
                Ok(status) => Some(status.to_string()),
                Err(e) => Some(format!("wait: {e}")),
            };
            ChildOutput { output, failure }
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            failed(format!("killed after {} s", deadline.as_secs()))
        }
    }
}

// ---- medians and tables ----

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    })
}

/// Medians over the rounds of one client in one scenario.
struct Cell {
    rounds: usize,
    /// Rounds in which some requests failed.
    rounds_with_errors: usize,
    sample: Sample,
    /// Medians of the rounds' ratios of this client's rate to isahc's and to ureq's, each
    /// round's pair measured minutes apart at most.
    vs_isahc: Option<f64>,
    vs_ureq: Option<f64>,
}

fn cell(runs: &Runs, scenario: &Scenario, client: Client) -> Option<Cell> {
    let samples = runs.get(&(scenario.id, client))?;
    let ok: Vec<Sample> = samples.iter().flatten().copied().collect();
    if ok.is_empty() {
        return None;
    }
    let field = |f: fn(&Sample) -> f64| median(ok.iter().map(f).collect()).unwrap_or(0.0);
    let ratio_to = |baseline: Client| {
        let theirs = runs.get(&(scenario.id, baseline))?;
        median(
            samples
                .iter()
                .zip(theirs)
                .filter_map(|(a, b)| Some(a.as_ref()?.rate() / b.as_ref()?.rate()))
                .collect(),
        )
    };
    Some(Cell {
        rounds: ok.len(),
        rounds_with_errors: ok.iter().filter(|s| s.errors > 0.0).count(),
        sample: Sample {
            requests: field(|s| s.requests),
            errors: field(|s| s.errors),
            wall_us: field(|s| s.wall_us),
            cpu_us: field(|s| s.cpu_us / s.requests),
            switches: field(|s| s.switches / s.requests),
            p50_us: field(|s| s.p50_us),
            p99_us: field(|s| s.p99_us),
            peak_rss_kib: field(|s| s.peak_rss_kib),
            threads: field(|s| s.threads),
            connections: field(|s| s.connections),
            versions: ok.iter().fold(0, |bits, s| bits | s.versions),
        },
        vs_isahc: ratio_to(Client::IsahcBlocking),
        vs_ureq: ratio_to(Client::Ureq),
    })
}

/// `12345.6` as `12,346`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// One decimal below 1,000, whole numbers with separators above.
fn decimal(x: f64) -> String {
    if x < 1000.0 {
        format!("{x:.1}")
    } else {
        thousands(x)
    }
}

/// Requests per second, and how many rounds had failed requests (the median count of
/// them, if it is not 0), which "Failed runs" lists.
fn rate(c: &Cell) -> String {
    let s = &c.sample;
    let rate = thousands(s.requests * 1e6 / s.wall_us.max(1.0));
    match (c.rounds_with_errors, s.errors > 0.0) {
        (0, _) => rate,
        (n, false) => format!("{rate} (failures in {n} of {} rounds)", c.rounds),
        (n, true) => format!(
            "{rate} (failures in {n} of {} rounds, median {})",
            c.rounds,
            thousands(s.errors)
        ),
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"))
}

fn render(
    plan: &Plan,
    runs: &Runs,
    loads: &HashMap<&str, String>,
    failures: &[String],
    took: Duration,
    load: &str,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# asynchttp and its peers on nginx\n");
    let _ = writeln!(
        md,
        "Written by `benches/peers/run.sh`{}: medians of {} round{} per cell; every \
         (client, scenario, round) ran in a fresh process, and within a round the clients took \
         turns (the order rotated each round). The run took {:.0} s; {load}.\n",
        if plan.quick {
            " --quick (few requests: not for quoting)"
        } else {
            ""
        },
        plan.rounds,
        if plan.rounds == 1 { "" } else { "s" },
        took.as_secs_f64()
    );
    for note in machine_notes().iter().chain(&plan.notes) {
        let _ = writeln!(md, "- {note}");
    }
    let _ = writeln!(
        md,
        "\nreq/s is requests over the timed part's wall time; `× isahc` and `× ureq` are the \
         medians of each round's ratio of that rate to isahc blocking's and to ureq's. CPU µs \
         and context switches (voluntary and involuntary) per request are `getrusage` deltas \
         of the client's process around the timed part, all its threads included; the server \
         is not counted. p50 and p99 are per request, as the caller saw it. Peak RSS is the \
         process's `VmHWM` at the end. Each client makes two untimed requests per thread \
         or slot before the timed part. Every request must answer 200 with the expected \
         length; failed ones are counted and shown."
    );
    let _ = writeln!(md, "\nThe clients, at concurrency c:\n");
    for client in &plan.clients {
        let _ = writeln!(md, "- {client}: {}", client.how());
    }
    if plan.scenarios.iter().any(|s| s.transport.is_tls()) {
        tls_notes(&mut md, plan);
    }

    for scenario in &plan.scenarios {
        let requests = if plan.quick {
            scenario.quick_requests
        } else {
            scenario.requests
        };
        let _ = writeln!(
            md,
            "\n## {} ({} requests, `{}`)\n",
            scenario.title,
            thousands(requests as f64),
            scenario.path
        );
        if let Some(load) = loads.get(scenario.id) {
            let mut load = load.clone();
            load[..1].make_ascii_uppercase();
            let _ = writeln!(md, "{load}.\n");
        }
        let tls = scenario.transport.is_tls();
        if scenario.all_at_once {
            let _ = writeln!(
                md,
                "| client | how | s | req/s | × isahc | × ureq | CPU µs/req | peak RSS MiB | threads |"
            );
            let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|");
        } else if tls {
            // The HTTP version every response came in, as the client saw it, and the
            // connections it kept.
            let _ = writeln!(
                md,
                "| client | HTTP | conns | req/s | × isahc | × ureq | CPU µs/req | cs/req | p50 µs | p99 µs | peak RSS MiB |"
            );
            let _ = writeln!(md, "|---|:-:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        } else {
            let _ = writeln!(
                md,
                "| client | req/s | × isahc | × ureq | CPU µs/req | cs/req | p50 µs | p99 µs | peak RSS MiB |"
            );
            let _ = writeln!(md, "|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        }
        for &client in &plan.clients {
            let Some(c) = cell(runs, scenario, client) else {
                let why = if takes_part(plan, client, scenario) {
                    "failed"
                } else {
                    "-"
                };
                let columns = match (scenario.all_at_once, tls) {
                    (true, _) => 7,
                    (false, false) => 8,
                    (false, true) => 10,
                };
                let _ = writeln!(md, "| {client} |{}", format!(" {why} |").repeat(columns));
                continue;
            };
            let s = &c.sample;
            let partial = if c.rounds < plan.rounds {
                format!(" ({} of {} rounds)", c.rounds, plan.rounds)
            } else {
                String::new()
            };
            let name = if client == Client::Asynchttp {
                format!("**{client}**{partial}")
            } else {
                format!("{client}{partial}")
            };
            if scenario.all_at_once {
                let _ = writeln!(
                    md,
                    "| {name} | {} | {:.2} | {} | {} | {} | {} | {} | {:.0} |",
                    client.all_at_once_how(),
                    s.wall_us / 1e6,
                    rate(&c),
                    ratio(c.vs_isahc),
                    ratio(c.vs_ureq),
                    decimal(s.cpu_us),
                    decimal(s.peak_rss_kib / 1024.0),
                    s.threads
                );
            } else {
                let http = if tls {
                    let versions = version::names(s.versions);
                    let versions = if versions.is_empty() { "?" } else { &versions };
                    format!(" {versions} | {:.0} |", s.connections)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    md,
                    "| {name} |{http} {} | {} | {} | {} | {:.2} | {} | {} | {} |",
                    rate(&c),
                    ratio(c.vs_isahc),
                    ratio(c.vs_ureq),
                    decimal(s.cpu_us),
                    s.switches,
                    thousands(s.p50_us),
                    thousands(s.p99_us),
                    decimal(s.peak_rss_kib / 1024.0)
                );
            }
        }
        if let Some(twin) = scenario.h1_twin
            && plan.scenarios.iter().any(|s| s.id == twin)
        {
            h2_over_h1(&mut md, plan, runs, scenario.id, twin);
        }
    }
    if !failures.is_empty() {
        let _ = writeln!(md, "\n## Failed runs\n");
        for f in failures {
            let _ = writeln!(md, "- {f}");
        }
    }
    md
}

/// CPU time so far, in clock ticks (USER_HZ, 100 a second on Linux): the whole machine's,
/// this process's and its waited-for children's (the clients'), and the server's.
struct Load {
    machine: u64,
    ours: u64,
    server: u64,
}

impl Load {
    fn now(server_pid: Option<u32>) -> Load {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
        let machine = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .take(8)
            .enumerate()
            .filter(|(i, _)| *i != 3 && *i != 4)
            .filter_map(|(_, v)| v.parse::<u64>().ok())
            .sum();
        let ours = process_ticks("self", true);
        // nginx's master and its workers, which are its children.
        let server = server_pid.map_or(0, |pid| {
            let children: u64 = std::fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    let stat = std::fs::read_to_string(format!("/proc/{name}/stat")).ok()?;
                    let ppid: u32 = stat
                        .rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .nth(1)?
                        .parse()
                        .ok()?;
                    (ppid == pid).then(|| process_ticks(&name, false))
                })
                .sum();
            process_ticks(&pid.to_string(), false) + children
        });
        Load {
            machine,
            ours,
            server,
        }
    }

    /// How busy the server and everything else were since `before`, in words.
    fn since(&self, before: &Load, took: Duration) -> String {
        let percent = |ticks: u64| ticks as f64 / took.as_secs_f64().max(0.01);
        let ours = self.ours.saturating_sub(before.ours);
        let server = self.server.saturating_sub(before.server);
        let others = (self.machine - before.machine).saturating_sub(ours + server);
        format!(
            "meanwhile the clients used {:.0}% of one CPU, nginx {:.0}%, and the rest of the \
             machine {:.0}%",
            percent(ours),
            percent(server),
            percent(others)
        )
    }
}

/// utime + stime of `/proc/PID/stat` (fields 14 and 15), and with `children` those of
/// the children waited for (16 and 17).
fn process_ticks(pid: &str, children: bool) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let field = |n: usize| fields.get(n - 3).copied().unwrap_or(0);
    field(14) + field(15) + if children { field(16) + field(17) } else { 0 }
}

/// The machine and the clients' versions, for the header.
fn machine_notes() -> Vec<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim());
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let lock = include_str!("../Cargo.lock");
    let version = |name: &str| {
        lock.split("[[package]]")
            .find(|p| p.contains(&format!("name = \"{name}\"\n")))
            .and_then(|p| p.split("version = \"").nth(1)?.split('"').next())
            .unwrap_or("?")
            .to_owned()
    };
    // "isahc/2.0.2 (features:...) libcurl/8.22.0 OpenSSL/3.0.17 zlib/1.3.1 nghttp2/1.68.1"
    let curl = isahc::version()
        .split_whitespace()
        .find_map(|part| part.strip_prefix("libcurl/"))
        .unwrap_or("?")
        .to_owned();
    vec![
        format!("{cpus} CPUs ({model}), Linux {}", kernel.trim()),
        format!(
            "asynchttp {} and isahc {} on libcurl {curl}, ureq {}, reqwest {}; release build",
            version("asynchttp"),
            version("isahc"),
            version("ureq"),
            version("reqwest"),
        ),
    ]
}

/// The scenarios named in `ids` (comma-separated), or all of them; those over TLS only
/// with `tls`, nginx's https ports and the CA.
pub fn pick_scenarios(ids: Option<&str>, tls: bool) -> Result<Vec<&'static Scenario>, String> {
    match ids {
        None => Ok(SCENARIOS
            .iter()
            .filter(|s| tls || !s.transport.is_tls())
            .collect()),
        Some(ids) => ids
            .split(',')
            .map(|id| {
                let scenario =
                    crate::scenario::scenario_by_id(id).ok_or(format!("no scenario {id}"))?;
                if scenario.transport.is_tls() && !tls {
                    return Err(format!("{id} needs --tls-base, --h2-base and --ca"));
                }
                Ok(scenario)
            })
            .collect(),
    }
}

/// What the TLS scenarios are, after the list of clients.
fn tls_notes(md: &mut String, plan: &Plan) {
    let _ = writeln!(
        md,
        "\nOver TLS (the tables \"over TLS\"): the same nginx serves the same files on two \
         more ports of 127.0.0.1, with a certificate for 127.0.0.1 (an IP SAN) signed by a \
         throwaway CA that run.sh makes; each client is told to trust that CA. \
         `ssl_protocols TLSv1.2 TLSv1.3`, a shared session cache, keep-alive as over plain \
         http. On one port nginx takes only `http/1.1` in ALPN, on the other `h2`, which every \
         client here offers first. Every response must come in the table's HTTP version, or the \
         request counts as failed; the HTTP column says every version the responses came in, \
         and conns how many connections to nginx the client had open at the end of the timed \
         part. Connections are kept alive and are made in the untimed warm-up, so the timed \
         part has no handshakes unless a client opens more connections then. Under each \
         HTTP/2 table, each client's rate over its rate in the HTTP/1.1 table of the same \
         requests (medians of the rounds' ratios).\n"
    );
    if let Some(note) = &plan.tls_note {
        let _ = writeln!(md, "- TLS: {note}.");
    }
    let _ = writeln!(md, "- libcurl's TLS (asynchttp and isahc): {}.", curl_tls());
    for client in &plan.clients {
        match client.tls_how() {
            Some(how) => {
                let _ = writeln!(md, "- {client}: {how}.");
            }
            None => {
                let _ = writeln!(md, "- {client}: not over TLS (`-`).");
            }
        }
    }
}

/// Under an HTTP/2 table: each client's rate there over its rate in the HTTP/1.1 twin, the
/// median of the rounds' ratios (each round's pair measured minutes apart at most).
fn h2_over_h1(md: &mut String, plan: &Plan, runs: &Runs, h2: &'static str, h1: &'static str) {
    let ratio = |client: Client| {
        let (over_h2, over_h1) = (runs.get(&(h2, client))?, runs.get(&(h1, client))?);
        median(
            over_h2
                .iter()
                .zip(over_h1)
                .filter_map(|(a, b)| Some(a.as_ref()?.rate() / b.as_ref()?.rate()))
                .collect(),
        )
    };
    let _ = writeln!(
        md,
        "\n**asynchttp h2 / h1.1 over TLS: {}**",
        ratio(Client::Asynchttp).map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"))
    );
    let others: Vec<String> = plan
        .clients
        .iter()
        .filter(|&&c| c != Client::Asynchttp)
        .filter_map(|&c| Some(format!("{c} {:.2}", ratio(c)?)))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(md, "\nh2 / h1.1 of the others: {}.", others.join(", "));
    }
}

/// libcurl's TLS library as isahc reports it ("rustls-ffi/0.15.7/rustls/0.23.46").
fn curl_tls() -> String {
    isahc::version()
        .split_whitespace()
        .filter(|part| {
            let part = part.to_ascii_lowercase();
            [
                "rustls",
                "openssl",
                "boringssl",
                "libressl",
                "gnutls",
                "mbedtls",
                "wolfssl",
            ]
            .iter()
            .any(|tls| part.starts_with(tls))
        })
        .collect::<Vec<_>>()
        .join(" ")
}
