//! The lines' tests: each rule of a host's line by hand, then random runs of every rule
//! at once against what must always hold.

use super::*;
use std::collections::{BTreeMap, HashSet};

static_assertions::assert_impl_all!(Lines<std::sync::Arc<dyn Fn() + Send + Sync>>: Send, Sync);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn now<T>(admit: Admit<T>) -> T {
    match admit {
        Admit::Now(item) => item,
        Admit::Waiting { .. } => panic!("waits"),
    }
}

/// The timer a waiting request asked for; panics if it started.
fn waits<T>(admit: Admit<T>) -> Option<Instant> {
    match admit {
        Admit::Now(_) => panic!("started"),
        Admit::Waiting { pump_at } => pump_at,
    }
}

fn entries<T>(lines: &Lines<T>) -> usize {
    lock(&lines.table).lines.len()
}

#[test]
fn no_limits_start_everything_and_keep_nothing() {
    let lines = Lines::new(HostLimits::new());
    let t0 = Instant::now();
    for i in 0..1000 {
        assert_eq!(now(lines.admit("a:80", i, t0)), i);
    }
    assert_eq!(entries(&lines), 0);
    assert!(lines.done("a:80", Outcome::Success, t0).ready.is_empty());
}

#[test]
fn in_flight_cap_queues_in_order() {
    let lines = Lines::new(HostLimits::new().in_flight(2));
    let t0 = Instant::now();
    now(lines.admit("a:80", 1, t0));
    now(lines.admit("a:80", 2, t0));
    // At the cap, a request ending releases the next: no timer.
    assert_eq!(waits(lines.admit("a:80", 3, t0)), None);
    assert_eq!(waits(lines.admit("a:80", 4, t0)), None);
    assert_eq!(lines.waiting(), 2);
    let released = lines.done("a:80", Outcome::Success, t0);
    assert_eq!((released.ready, released.pump_at), (vec![3], None));
    assert_eq!(lines.done("a:80", Outcome::Failed, t0).ready, vec![4]);
    assert_eq!(lines.waiting(), 0);
    lines.done("a:80", Outcome::Success, t0);
    lines.done("a:80", Outcome::Success, t0);
    assert_eq!(entries(&lines), 0);
}

#[test]
fn hosts_are_limited_apart() {
    let lines = Lines::new(HostLimits::new().in_flight(1).rate(1.0, 1));
    let t0 = Instant::now();
    now(lines.admit("a:80", 1, t0));
    waits(lines.admit("a:80", 2, t0));
    waits(lines.admit("a:80", 3, t0));
    now(lines.admit("a:443", 4, t0));
    now(lines.admit("b:80", 5, t0));
    assert_eq!(lines.waiting(), 2);
}

#[test]
fn rate_spaces_requests_and_refills_to_burst_only() {
    let lines = Lines::new(HostLimits::new().rate(2.0, 1));
    let t0 = Instant::now();
    now(lines.admit("a:80", 1, t0));
    assert_eq!(waits(lines.admit("a:80", 2, t0)), Some(t0 + ms(500)));
    // A timer that fires early releases nothing and asks again.
    let early = lines.pump("a:80", t0 + ms(499));
    assert_eq!((early.ready, early.pump_at), (vec![], Some(t0 + ms(500))));
    let on_time = lines.pump("a:80", t0 + ms(500));
    assert_eq!((on_time.ready, on_time.pump_at), (vec![2], None));
    // An hour idle fills the bucket to its burst of 1, not 7200.
    let t1 = t0 + Duration::from_secs(3600);
    now(lines.admit("a:80", 3, t1));
    assert_eq!(waits(lines.admit("a:80", 4, t1)), Some(t1 + ms(500)));
}

#[test]
fn burst_starts_at_once_after_rest() {
    let lines = Lines::new(HostLimits::new().rate(10.0, 3));
    let t0 = Instant::now();
    for i in 0..3 {
        now(lines.admit("a:80", i, t0));
    }
    assert_eq!(waits(lines.admit("a:80", 3, t0)), Some(t0 + ms(100)));
    assert_eq!(lines.pump("a:80", t0 + ms(100)).ready, vec![3]);
    // A day later: three again, then one each 100 ms.
    let t1 = t0 + Duration::from_secs(86_400);
    for i in 4..7 {
        now(lines.admit("a:80", i, t1));
    }
    assert_eq!(waits(lines.admit("a:80", 7, t1)), Some(t1 + ms(100)));
}

#[test]
fn one_timer_for_many_waiting() {
    let lines = Lines::new(HostLimits::new().rate(1.0, 1));
    let t0 = Instant::now();
    now(lines.admit("a:80", 0, t0));
    let timers: Vec<_> = (1..100)
        .filter_map(|i| waits(lines.admit("a:80", i, t0 + ms(i))))
        .collect();
    assert_eq!(timers, vec![t0 + ms(1000)]);
    let released = lines.pump("a:80", t0 + ms(1000));
    assert_eq!(
        (released.ready, released.pump_at),
        (vec![1], Some(t0 + ms(2000)))
    );
    // Requests ending ask for no second timer while one is armed.
    assert_eq!(
        lines.done("a:80", Outcome::Success, t0 + ms(1100)).pump_at,
        None
    );
    assert_eq!(waits(lines.admit("a:80", 100, t0 + ms(1200))), None);
}

#[test]
fn slowdown_halves_the_rate_and_success_restores_it() {
    let limits = HostLimits::new().rate(10.0, 1).adaptive(true);
    let lines = Lines::new(limits);
    let t0 = Instant::now();
    now(lines.admit("a:80", 0, t0));
    for i in 1..20 {
        lines.admit("a:80", i, t0);
    }
    // A 429: the gap becomes 200 ms from now; the timer armed for 100 ms still fires.
    let slowed = lines.done("a:80", Outcome::Slowed { retry_after: None }, t0 + ms(50));
    assert_eq!((slowed.ready.len(), slowed.pump_at), (0, None));
    let early = lines.pump("a:80", t0 + ms(100));
    assert_eq!((early.ready.len(), early.pump_at), (0, Some(t0 + ms(250))));
    let first = lines.pump("a:80", t0 + ms(250));
    assert_eq!((first.ready, first.pump_at), (vec![1], Some(t0 + ms(450))));
    // A success within 1 s of the slowdown changes nothing.
    assert_eq!(
        lines.done("a:80", Outcome::Success, t0 + ms(300)).pump_at,
        None
    );
    assert_eq!(lines.pump("a:80", t0 + ms(450)).ready, vec![2]);
    // A second 429 halves again: 400 ms.
    lines.done("a:80", Outcome::Slowed { retry_after: None }, t0 + ms(500));
    assert_eq!(lines.pump("a:80", t0 + ms(650)).pump_at, Some(t0 + ms(900)));
    assert_eq!(
        lines.pump("a:80", t0 + ms(900)).pump_at,
        Some(t0 + ms(1300))
    );
    assert_eq!(
        lines.pump("a:80", t0 + ms(1300)).pump_at,
        Some(t0 + ms(1700))
    );
    // A success 1 s after the last slowdown doubles the rate: the next token, 200 ms
    // away at 400 ms a token, is 100 ms away, earlier than the timer armed, so the
    // host asks for one more.
    let success = lines.done("a:80", Outcome::Success, t0 + ms(1500));
    assert_eq!(
        (success.ready, success.pump_at),
        (vec![], Some(t0 + ms(1600)))
    );
    let next = lines.pump("a:80", t0 + ms(1600));
    assert_eq!((next.ready, next.pump_at), (vec![5], None));
    // The timer armed for 1700 ms fires, and the host asks for the next.
    assert_eq!(
        lines.pump("a:80", t0 + ms(1700)).pump_at,
        Some(t0 + ms(1800))
    );
    // Another success: the configured 100 ms (the next token 25 ms away, not 50),
    // and no further.
    let success = lines.done("a:80", Outcome::Success, t0 + ms(1750));
    assert_eq!(success.pump_at, Some(t0 + ms(1775)));
    let next = lines.pump("a:80", t0 + ms(1775));
    assert_eq!((next.ready, next.pump_at), (vec![6], None));
    assert_eq!(
        lines.pump("a:80", t0 + ms(1800)).pump_at,
        Some(t0 + ms(1875))
    );
    assert_eq!(
        lines.done("a:80", Outcome::Success, t0 + ms(1850)).pump_at,
        None
    );
    let next = lines.pump("a:80", t0 + ms(1875));
    assert_eq!((next.ready, next.pump_at), (vec![7], Some(t0 + ms(1975))));
}

#[test]
fn a_slowdown_is_forgotten_after_a_minute_alone() {
    let lines = Lines::new(HostLimits::new().rate(10.0, 1).adaptive(true));
    let t0 = Instant::now();
    now(lines.admit("a:80", 0, t0));
    lines.done("a:80", Outcome::Slowed { retry_after: None }, t0);
    // 30 s later: still slowed, a gap of 200 ms.
    let t1 = t0 + Duration::from_secs(30);
    now(lines.admit("a:80", 1, t1));
    lines.done("a:80", Outcome::Failed, t1);
    assert_eq!(waits(lines.admit("a:80", 2, t1)), Some(t1 + ms(200)));
    lines.pump("a:80", t1 + ms(200));
    lines.done("a:80", Outcome::Failed, t1 + ms(200));
    // A minute after the slowdown: 100 ms again.
    let t2 = t0 + Duration::from_secs(60);
    now(lines.admit("a:80", 3, t2));
    assert_eq!(waits(lines.admit("a:80", 4, t2)), Some(t2 + ms(100)));
}

#[test]
fn slowdowns_stop_at_one_a_minute() {
    let lines = Lines::new(HostLimits::new().rate(1.0, 20).adaptive(true));
    let t0 = Instant::now();
    for i in 0..20 {
        now(lines.admit("a:80", i, t0));
    }
    for _ in 0..20 {
        lines.done("a:80", Outcome::Slowed { retry_after: None }, t0);
    }
    assert_eq!(waits(lines.admit("a:80", 20, t0)), Some(t0 + ms(60_000)));
    waits(lines.admit("a:80", 21, t0));
    let next = lines.pump("a:80", t0 + ms(60_000));
    assert_eq!(
        (next.ready, next.pump_at),
        (vec![20], Some(t0 + ms(120_000)))
    );
    // A rate slower than that is never slowed further.
    let lines = Lines::new(HostLimits::new().rate(1.0 / 120.0, 1).adaptive(true));
    now(lines.admit("a:80", 0, t0));
    lines.done("a:80", Outcome::Slowed { retry_after: None }, t0);
    assert_eq!(waits(lines.admit("a:80", 1, t0)), Some(t0 + ms(120_000)));
}

#[test]
fn retry_after_pauses_the_host_up_to_a_minute() {
    let lines = Lines::new(HostLimits::new().in_flight(1).adaptive(true));
    let t0 = Instant::now();
    now(lines.admit("a:80", 0, t0));
    waits(lines.admit("a:80", 1, t0));
    let retry_after = Some(Duration::from_secs(5));
    let paused = lines.done("a:80", Outcome::Slowed { retry_after }, t0);
    assert_eq!(
        (paused.ready, paused.pump_at),
        (vec![], Some(t0 + ms(5000)))
    );
    assert_eq!(waits(lines.admit("a:80", 2, t0 + ms(10))), None);
    now(lines.admit("b:80", 3, t0 + ms(10)));
    assert_eq!(lines.pump("a:80", t0 + ms(5000)).ready, vec![1]);
    // An hour asked for: a minute given.
    let retry_after = Some(Duration::from_secs(3600));
    let capped = lines.done("a:80", Outcome::Slowed { retry_after }, t0 + ms(6000));
    assert_eq!(capped.pump_at, Some(t0 + ms(66_000)));
    assert_eq!(lines.pump("a:80", t0 + ms(66_000)).ready, vec![2]);
}

#[test]
fn without_adaptive_slowdowns_change_nothing() {
    let lines = Lines::new(HostLimits::new().rate(10.0, 1));
    let t0 = Instant::now();
    now(lines.admit("a:80", 0, t0));
    let retry_after = Some(Duration::from_secs(30));
    lines.done("a:80", Outcome::Slowed { retry_after }, t0);
    assert_eq!(waits(lines.admit("a:80", 1, t0)), Some(t0 + ms(100)));
}

#[test]
fn idle_entries_are_removed() {
    // No rate: removed as its last request ends.
    let lines = Lines::new(HostLimits::new().in_flight(1));
    let t0 = Instant::now();
    for i in 0..100_000 {
        let host = format!("h{i}:80");
        now(lines.admit(&host, i, t0));
        lines.done(&host, Outcome::Success, t0);
    }
    assert_eq!(entries(&lines), 0);
    // A rate: a bucket that has not refilled stays until a sweep finds it full.
    let lines = Lines::new(HostLimits::new().rate(2.0, 1).adaptive(true));
    for i in 0..100_000 {
        let host = format!("h{i}:80");
        let at = t0 + ms(10 * i);
        now(lines.admit(&host, i, at));
        lines.done(&host, Outcome::Success, at);
        assert!(entries(&lines) <= SWEEP_MIN, "{i}");
    }
    // A slowed host stays until the slowdown is forgotten.
    let lines = Lines::new(HostLimits::new().rate(2.0, 1).adaptive(true));
    now(lines.admit("a:80", 0, t0));
    lines.done("a:80", Outcome::Slowed { retry_after: None }, t0);
    let mut table = lock(&lines.table);
    lines.sweep(&mut table, t0 + ms(59_999));
    assert_eq!(table.lines.len(), 1);
    lines.sweep(&mut table, t0 + ms(60_000));
    assert_eq!(table.lines.len(), 0);
}

#[test]
fn drain_takes_every_waiting_request() {
    let lines = Lines::new(HostLimits::new().in_flight(1));
    let t0 = Instant::now();
    for host in ["a:80", "b:80"] {
        for i in 0..3 {
            lines.admit(host, i, t0);
        }
    }
    assert_eq!(lines.waiting(), 4);
    let mut drained = lines.drain();
    drained.sort();
    assert_eq!(drained, vec![1, 1, 2, 2]);
    assert_eq!(lines.waiting(), 0);
    assert!(lines.done("a:80", Outcome::Success, t0).ready.is_empty());
    lines.done("b:80", Outcome::Success, t0);
    assert_eq!(entries(&lines), 0);
}

#[test]
fn extreme_rates_and_clocks_never_panic() {
    let t0 = Instant::now();
    let fast = Lines::new(HostLimits::new().rate(1e9, 1000));
    for i in 0..1000 {
        now(fast.admit("a:80", i, t0));
    }
    assert_eq!(
        waits(fast.admit("a:80", 1000, t0)),
        Some(t0 + Duration::from_nanos(1))
    );
    let fastest = Lines::new(HostLimits::new().rate(f64::MAX, u32::MAX).adaptive(true));
    let slowest = Lines::new(
        HostLimits::new()
            .rate(f64::MIN_POSITIVE, u32::MAX)
            .adaptive(true),
    );
    let decade = Duration::from_secs(10 * 365 * 86_400);
    for lines in [fastest, slowest] {
        for i in 0..100 {
            lines.admit("a:80", i, t0 + decade);
            // A clock read before another thread's: earlier than the last call.
            lines.admit("a:80", i, t0);
            lines.done(
                "a:80",
                Outcome::Slowed {
                    retry_after: Some(Duration::MAX),
                },
                t0,
            );
            lines.pump("a:80", t0 + decade + decade);
        }
    }
}

/// One step of a random run.
#[derive(Debug, Clone)]
enum Step {
    Admit(usize),
    /// Ends the oldest request in flight of a host, if any.
    Done(usize, Outcome),
    /// Moves the clock on; due timers fire.
    Wait(u64),
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    let outcome = prop_oneof![
        4 => Just(Outcome::Success),
        1 => Just(Outcome::Failed),
        1 => proptest::option::of(0..90_000u64).prop_map(|ms| Outcome::Slowed {
            retry_after: ms.map(Duration::from_millis),
        }),
    ];
    prop_oneof![
        3 => (0..3usize).prop_map(Step::Admit),
        2 => (0..3usize, outcome).prop_map(|(h, o)| Step::Done(h, o)),
        2 => (0..3_000u64).prop_map(Step::Wait),
    ]
}

fn limits() -> impl proptest::strategy::Strategy<Value = HostLimits> {
    use proptest::prelude::*;
    (
        proptest::option::of(1..4usize),
        proptest::option::of((0.5..20.0f64, 1..4u32)),
        any::<bool>(),
    )
        .prop_map(|(cap, rate, adaptive)| {
            let mut limits = HostLimits::new().adaptive(adaptive);
            if let Some(cap) = cap {
                limits = limits.in_flight(cap);
            }
            if let Some((per_second, burst)) = rate {
                limits = limits.rate(per_second, burst);
            }
            limits
        })
}

/// The caller's side of a random run: one timer queue for every host, as the pool
/// will have, and what each host has in flight.
struct Run {
    lines: Lines<u32>,
    cap: usize,
    clock: Instant,
    timers: BTreeMap<(Instant, u64), usize>,
    armed: u64,
    in_flight: [VecDeque<u32>; 3],
    out: HashSet<u32>,
    /// The last request of each host that came out: they come out in order.
    last: [Option<u32>; 3],
}

const NAMES: [&str; 3] = ["a:80", "b:80", "c:443"];

impl Run {
    fn arm(&mut self, host: usize, at: Option<Instant>) {
        if let Some(at) = at {
            self.armed += 1;
            self.timers.insert((at, self.armed), host);
        }
    }

    fn start(&mut self, host: usize, item: u32) {
        assert!(self.out.insert(item), "{item} came out twice");
        assert!(self.last[host] < Some(item), "{item} overtook");
        self.last[host] = Some(item);
        self.in_flight[host].push_back(item);
        assert!(self.in_flight[host].len() <= self.cap, "over the cap");
    }

    fn released(&mut self, host: usize, released: Released<u32>) {
        for item in released.ready {
            self.start(host, item);
        }
        self.arm(host, released.pump_at);
    }

    fn done(&mut self, host: usize, outcome: Outcome) {
        if self.in_flight[host].pop_front().is_some() {
            let released = self.lines.done(NAMES[host], outcome, self.clock);
            self.released(host, released);
        }
    }

    /// Fires the timers due by `until`, in order, moving the clock to each.
    fn wait_until(&mut self, until: Instant) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > until {
                break;
            }
            let ((at, _), host) = entry.remove_entry();
            self.clock = self.clock.max(at);
            let released = self.lines.pump(NAMES[host], self.clock);
            self.released(host, released);
        }
        self.clock = self.clock.max(until);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

    /// Whatever happens, no host has more than its cap in flight, every request comes
    /// out exactly once, and none waits forever: once requests end and timers fire,
    /// the queues empty and the table with them.
    #[test]
    fn never_over_the_cap_never_lost_never_stuck(
        limits in limits(),
        steps in proptest::collection::vec(step(), 0..200),
    ) {
        let mut run = Run {
            cap: limits.in_flight_cap().unwrap_or(usize::MAX),
            lines: Lines::new(limits),
            clock: Instant::now(),
            timers: BTreeMap::new(),
            armed: 0,
            in_flight: Default::default(),
            out: HashSet::new(),
            last: [None; 3],
        };
        let mut admitted = 0;
        for step in steps {
            match step {
                Step::Admit(host) => {
                    let item = admitted;
                    admitted += 1;
                    match run.lines.admit(NAMES[host], item, run.clock) {
                        Admit::Now(item) => run.start(host, item),
                        Admit::Waiting { pump_at } => run.arm(host, pump_at),
                    }
                }
                Step::Done(host, outcome) => run.done(host, outcome),
                Step::Wait(ms) => run.wait_until(run.clock + Duration::from_millis(ms)),
            }
            let table = lock(&run.lines.table);
            let queued: usize = table.lines.values().map(|line| line.queue.len()).sum();
            // The lines know of exactly the timers the caller has armed.
            for (host, name) in NAMES.iter().enumerate() {
                let mut armed: Vec<_> = run.timers.iter().filter(|(_, h)| **h == host).map(|((at, _), _)| *at).collect();
                armed.reverse();
                let known = table.lines.get(*name).map_or(&[][..], |line| &line.timers);
                proptest::prop_assert_eq!(&armed[..], known);
            }
            drop(table);
            proptest::prop_assert_eq!(run.lines.waiting(), queued);
            proptest::prop_assert_eq!(run.out.len() + queued, admitted as usize);
        }
        // The end: requests end as they start, timers fire, until nothing waits.
        for _ in 0..100_000 {
            for host in 0..3 {
                while !run.in_flight[host].is_empty() {
                    run.done(host, Outcome::Success);
                }
            }
            let Some((&(at, _), _)) = run.timers.first_key_value() else {
                break;
            };
            run.wait_until(at);
        }
        proptest::prop_assert_eq!(run.lines.waiting(), 0, "stuck");
        proptest::prop_assert_eq!(run.out.len(), admitted as usize);
        let mut table = lock(&run.lines.table);
        run.lines.sweep(&mut table, run.clock + Duration::from_secs(86_400));
        proptest::prop_assert_eq!(table.lines.len(), 0);
    }
}
