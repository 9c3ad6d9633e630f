//! Host limits shared by processes through a real redis-server (the `redis` feature): the
//! processes are `examples/fleet.rs` as `fleet member`, each a client of its own, and the
//! limited host's server counts what it saw. The cap and the rate held across four
//! processes; a killed process's place back within its lease, and an ended one's at once;
//! a 429 seen by one pausing the others; Redis stopped and started again mid-run with no
//! request failing; a cluster.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::gauge::{Answer, Gauge};
use crate::redis_server::{RedisCluster, RedisServer, Subscription};
use crate::support::{BOUND, closed_port_url, example_binary_with};
use asynchttp::{Error, HostLimits, Http, RedisLimits};

fn fleet_binary() -> &'static std::path::Path {
    static BINARY: OnceLock<std::path::PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| example_binary_with("fleet", &["redis"]))
}

/// A `fleet member` process, its output read as it comes.
struct Member {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

/// What a member printed: its line of figures, and its log.
struct Printed {
    line: String,
    log: String,
}

impl Printed {
    fn field(&self, name: &str) -> u64 {
        self.line
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {:?}; log:\n{}", self.line, self.log))
    }
}

impl Member {
    /// A member limiting `limited` to `in_flight` at once and `rate` a second, through the
    /// Redis at `redis` (a `--redis…` flag and its value), fetching `urls`.
    fn start(
        redis: [&str; 2],
        limited: &Gauge,
        limits: (usize, f64),
        extra: &[&str],
        urls: &[String],
    ) -> Member {
        let (in_flight, rate) = limits;
        let mut child = Command::new(fleet_binary())
            .arg("member")
            .args(redis)
            .args(["--limited", &limited.authority()])
            .args([
                "--in-flight",
                &in_flight.to_string(),
                "--rate",
                &rate.to_string(),
            ])
            .args(extra)
            .args(urls)
            .env("RUST_LOG", "asynchttp=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start fleet member");
        let read = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        Member {
            stdout: Some(read(Box::new(child.stdout.take().unwrap()))),
            stderr: Some(read(Box::new(child.stderr.take().unwrap()))),
            child,
        }
    }

    /// Waits for it to end, within the bound, and asserts it succeeded.
    fn finish(mut self) -> Printed {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > BOUND * 2 {
                let _ = self.child.kill();
                panic!("a fleet member took longer than {:?}", BOUND * 2);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let printed = Printed {
            line: self.stdout.take().unwrap().join().unwrap(),
            log: self.stderr.take().unwrap().join().unwrap(),
        };
        assert!(
            status.success(),
            "{status}: {}\n{}",
            printed.line,
            printed.log
        );
        printed
    }

    /// SIGKILL: the process dies holding whatever it held.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis_flag(redis: &RedisServer) -> [String; 2] {
    ["--redis".to_owned(), redis.url()]
}

fn urls(gauge: &Gauge, tag: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| gauge.url(&format!("/{tag}/{i}")))
        .collect()
}

/// Waits, within the bound, for `what` to hold.
fn until(what: &str, mut holds: impl FnMut() -> bool) {
    let started = Instant::now();
    while !holds() {
        assert!(started.elapsed() < BOUND, "not within {BOUND:?}: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_cap_and_the_rate_hold_across_four_processes() {
    let redis = RedisServer::start("limits-cap");
    let flag = redis_flag(&redis);
    let flag = [flag[0].as_str(), flag[1].as_str()];
    // The cap: requests that take 300 ms, at most 2 at once across the fleet; each process
    // alone would run 2, so 8 between them.
    let slow = Gauge::start(|_| Answer::ok(Duration::from_millis(300)));
    let fleet: Vec<Member> = (0..4)
        .map(|p| {
            Member::start(
                flag,
                &slow,
                (2, 1000.0),
                &["--prefix", "cap"],
                &urls(&slow, &p.to_string(), 5),
            )
        })
        .collect();
    for member in fleet {
        let printed = member.finish();
        assert_eq!(
            (printed.field("ok"), printed.field("failed")),
            (5, 0),
            "{}",
            printed.log
        );
    }
    assert_eq!(slow.hits(), 20);
    assert!(slow.most() <= 2, "{} at once", slow.most());
    assert_eq!(slow.most(), 2, "the cap was reached");

    // The rate: 10 a second across the fleet, a burst of 1; each process alone would send
    // 10 a second, so 40 between them. 32 requests: 3.1 s at least.
    let quick = Gauge::start(|_| Answer::ok(Duration::ZERO));
    let fleet: Vec<Member> = (0..4)
        .map(|p| {
            Member::start(
                flag,
                &quick,
                (100, 10.0),
                &["--prefix", "rate"],
                &urls(&quick, &p.to_string(), 8),
            )
        })
        .collect();
    for member in fleet {
        assert_eq!(member.finish().field("ok"), 8);
    }
    let arrivals = quick.arrivals();
    assert_eq!(arrivals.len(), 32);
    let spread = arrivals[31].0 - arrivals[0].0;
    assert!(
        spread >= Duration::from_millis(2500),
        "32 requests in {spread:?}"
    );
    // A request that opens a connection reaches the server a little later after its start
    // than the next: now and then the server counts one more within a second.
    let most = quick.most_within(Duration::from_secs(1));
    assert!(most <= 11, "{most} within a second");
}

#[test]
fn a_killed_process_gives_its_place_back_within_its_lease() {
    let redis = RedisServer::start("limits-killed");
    let flag = redis_flag(&redis);
    let flag = [flag[0].as_str(), flag[1].as_str()];
    let gauge = Gauge::start(|path| match path {
        "/hold" => Answer::ok(Duration::from_secs(60)),
        _ => Answer::ok(Duration::ZERO),
    });
    let lease = ["--prefix", "kill", "--lease-ms", "2000"];
    let mut holder = Member::start(flag, &gauge, (1, 1000.0), &lease, &[gauge.url("/hold")]);
    until("the holder's request arrives", || gauge.hits() == 1);
    // Another process waits for the one place; the holder renews its lease every
    // 2/3 s, so it keeps it past the lease's length.
    let waiter = Member::start(flag, &gauge, (1, 1000.0), &lease, &[gauge.url("/next")]);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(gauge.hits(), 1, "the waiter went while the holder lived");
    holder.kill();
    let killed = Instant::now();
    let printed = waiter.finish();
    assert_eq!(printed.field("ok"), 1);
    let next = gauge.arrivals()[1].0;
    // Nothing gave the place back: it came back as the lease, renewed at most 2/3 s
    // before the kill, expired.
    let after = next.saturating_duration_since(killed);
    assert!(
        after >= Duration::from_secs(1),
        "back {after:?} after the kill"
    );
    assert!(
        after <= Duration::from_secs(6),
        "back {after:?} after the kill"
    );
}

#[test]
fn a_process_that_ends_gives_its_places_back_at_once() {
    let redis = RedisServer::start("limits-ends");
    let flag = redis_flag(&redis);
    let flag = [flag[0].as_str(), flag[1].as_str()];
    let gauge = Gauge::start(|_| Answer::ok(Duration::ZERO));
    // The default lease, 10 s: a place given back late would hold the next process that
    // long.
    let first = Member::start(
        flag,
        &gauge,
        (1, 1000.0),
        &["--prefix", "end"],
        &[gauge.url("/first")],
    );
    assert_eq!(first.finish().field("ok"), 1);
    let next = Member::start(
        flag,
        &gauge,
        (1, 1000.0),
        &["--prefix", "end"],
        &[gauge.url("/next")],
    );
    assert_eq!(next.finish().field("ok"), 1);
    let arrivals = gauge.arrivals();
    let gap = arrivals[1].0 - arrivals[0].0;
    assert!(
        gap < Duration::from_secs(5),
        "the next went {gap:?} after the first"
    );
}

#[test]
fn a_lease_given_back_is_told_when_a_process_waits_for_one() {
    let redis = RedisServer::start("limits-told");
    let flag = redis_flag(&redis);
    let flag = [flag[0].as_str(), flag[1].as_str()];
    let gauge = Gauge::start(|path| match path {
        "/hold" => Answer::ok(Duration::from_millis(1500)),
        _ => Answer::ok(Duration::ZERO),
    });
    let mut told = Subscription::new(redis.port, "tell:limits:released");
    let tell = ["--prefix", "tell"];
    // Nobody waits: the release is not told.
    let alone = Member::start(flag, &gauge, (1, 1000.0), &tell, &[gauge.url("/alone")]);
    assert_eq!(alone.finish().field("ok"), 1);
    assert_eq!(told.next(Duration::from_millis(500)), None);
    // One holds the place while another waits for it: its release is told, with the host
    // (and the waiter's own too, if it comes while the waiter still counts as waiting).
    let holder = Member::start(flag, &gauge, (1, 1000.0), &tell, &[gauge.url("/hold")]);
    until("the holder's request arrives", || gauge.hits() == 2);
    let waiter = Member::start(flag, &gauge, (1, 1000.0), &tell, &[gauge.url("/next")]);
    assert_eq!(holder.finish().field("ok"), 1);
    assert_eq!(waiter.finish().field("ok"), 1);
    let mut messages = Vec::new();
    while let Some(message) = told.next(Duration::from_millis(500)) {
        messages.push(message);
    }
    assert!(!messages.is_empty(), "no release told");
    assert!(
        messages.iter().all(|m| *m == gauge.authority()),
        "{messages:?}"
    );
}

#[test]
fn a_429_seen_by_one_process_pauses_the_others() {
    let redis = RedisServer::start("limits-429");
    let flag = redis_flag(&redis);
    let flag = [flag[0].as_str(), flag[1].as_str()];
    let gauge = Gauge::start(|path| match path {
        "/busy" => Answer {
            status: 429,
            headers: vec![("retry-after", "3".to_owned())],
            delay: Duration::ZERO,
        },
        _ => Answer::ok(Duration::ZERO),
    });
    let shared = ["--prefix", "pause", "--adaptive"];
    let first = Member::start(flag, &gauge, (4, 100.0), &shared, &[gauge.url("/busy")]);
    assert_eq!(first.finish().field("other"), 1);
    let busy = gauge.arrivals()[0].0;
    // Another process of the fleet waits out the Retry-After the first one got; one that
    // goes by its own limits does not.
    let paused = Member::start(flag, &gauge, (4, 100.0), &shared, &[gauge.url("/paused")]);
    let alone = Member::start(
        ["--local", ""],
        &gauge,
        (4, 100.0),
        &["--adaptive"],
        &[gauge.url("/alone")],
    );
    assert_eq!(alone.finish().field("ok"), 1);
    assert_eq!(paused.finish().field("ok"), 1);
    let when = |path: &str| {
        let arrivals = gauge.arrivals();
        arrivals.iter().find(|(_, p)| p == path).expect("arrived").0 - busy
    };
    let (paused, alone) = (when("/paused"), when("/alone"));
    assert!(
        paused >= Duration::from_millis(2500),
        "paused for {paused:?} only"
    );
    assert!(paused <= Duration::from_secs(15), "paused for {paused:?}");
    assert!(
        alone + Duration::from_secs(1) < paused,
        "alone {alone:?}, paused {paused:?}"
    );
}

#[test]
fn redis_stopped_and_restarted_mid_run_fails_no_request() {
    let mut redis = RedisServer::start("limits-restart");
    let flag = redis_flag(&redis);
    let flag = [flag[0].as_str(), flag[1].as_str()];
    let gauge = Gauge::start(|_| Answer::ok(Duration::from_millis(5)));
    // 300 requests at 50 a second: 6 s.
    let member = Member::start(
        flag,
        &gauge,
        (2, 50.0),
        &["--prefix", "outage"],
        &urls(&gauge, "r", 300),
    );
    until("50 requests served", || gauge.hits() >= 50);
    redis.stop();
    std::thread::sleep(Duration::from_millis(1500));
    let during = gauge.hits();
    redis.run();
    let printed = member.finish();
    assert_eq!(
        (printed.field("ok"), printed.field("failed")),
        (300, 0),
        "{}",
        printed.log
    );
    // Requests went on while Redis was away, by the process's own limits.
    assert!(during > 50, "{during} served when Redis came back");
    assert!(gauge.most() <= 2, "{} at once", gauge.most());
    // One warning as it went, one line as it came back, whatever the number of calls.
    let away = printed.log.matches(" is away (").count();
    let back = printed.log.matches(" is back after ").count();
    assert_eq!((away, back), (1, 1), "{}", printed.log);
    // The limits were shared again: the restarted, empty Redis has the host's bucket.
    let state = format!("outage:limits:{{{}}}:state", gauge.authority());
    assert_eq!(redis.command(&["EXISTS", &state]), ":1");
}

#[test]
fn limits_are_shared_through_a_cluster() {
    let cluster = RedisCluster::start("limits-cluster");
    let nodes = cluster.urls().join(",");
    let flag = ["--redis-cluster", nodes.as_str()];
    let slow = Gauge::start(|_| Answer::ok(Duration::from_millis(200)));
    let fleet: Vec<Member> = (0..3)
        .map(|p| {
            Member::start(
                flag,
                &slow,
                (2, 1000.0),
                &["--prefix", "cluster"],
                &urls(&slow, &p.to_string(), 4),
            )
        })
        .collect();
    for member in fleet {
        let printed = member.finish();
        assert_eq!(printed.field("ok"), 4, "{}", printed.log);
        assert!(!printed.log.contains("is away"), "{}", printed.log);
    }
    assert_eq!(
        slow.most(),
        2,
        "at most 2 at once across the fleet, and 2 reached"
    );
}

#[test]
fn a_url_that_names_no_redis_is_refused_by_build() {
    let limits = HostLimits::new()
        .in_flight(2)
        .shared(RedisLimits::new("http://:secret@127.0.0.1:6379/"));
    match Http::builder().per_host(limits).build() {
        Err(Error::Init { reason, .. }) => {
            assert!(reason.contains("http://127.0.0.1:6379/"), "{reason}");
            assert!(!reason.contains("secret"), "{reason}");
        }
        other => panic!("built: {:?}", other.map(|_| ())),
    }
}

#[test]
fn a_redis_down_from_the_start_leaves_the_process_its_own_limits() {
    let gauge = Gauge::start(|_| Answer::ok(Duration::from_millis(50)));
    let nobody = closed_port_url().replace("http://", "redis://");
    let http = Http::builder()
        .workers(8)
        .per_host(
            HostLimits::new()
                .in_flight(1)
                .shared(RedisLimits::new(&nobody)),
        )
        .build()
        .unwrap();
    let batch = http.batch(urls(&gauge, "down", 8));
    batch.join_all();
    assert_eq!(batch.progress().succeeded(), 8);
    assert_eq!(gauge.most(), 1, "the process's own cap held");
}
