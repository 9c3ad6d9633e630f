//! The second line's rules by hand: one ask at a time, in order, leases counted, Redis
//! away letting everyone go, and each answer saying what comes next.

use std::time::Duration;

use super::*;

fn grant(granted: usize, wait_ms: u64, full_ms: Option<u64>) -> Option<Grant> {
    Some(Grant {
        granted,
        wait: Duration::from_millis(wait_ms),
        full: full_ms.map(Duration::from_millis),
    })
}

fn ids<T>(ready: &[(u64, T)]) -> Vec<u64> {
    ready.iter().map(|(id, _)| *id).collect()
}

#[test]
fn one_ask_at_a_time_for_the_first_in_line() {
    let queues = Queues::new();
    let t0 = Instant::now();
    assert_eq!(queues.enter("a:80", 1, "one", false), Enter::Ask(vec![1]));
    assert_eq!(queues.enter("a:80", 2, "two", false), Enter::Wait);
    assert_eq!(queues.enter("a:80", 3, "three", false), Enter::Wait);
    // Another host asks apart.
    assert_eq!(queues.enter("b:80", 4, "four", false), Enter::Ask(vec![4]));
    // The answer for 1: granted; the two behind it are asked for at once.
    let answered = queues.answered("a:80", grant(1, 0, None), true, t0);
    assert_eq!(ids(&answered.ready), [1]);
    assert!(answered.leased);
    assert_eq!(answered.then, Then::Ask(vec![2, 3]));
    // One of two granted, then a token 100 ms away: a timer.
    let answered = queues.answered("a:80", grant(1, 100, None), true, t0);
    assert_eq!(
        (ids(&answered.ready), answered.then),
        (vec![2], Then::At(t0 + Duration::from_millis(100)))
    );
    // A new request behind a timer waits for it.
    assert_eq!(queues.enter("a:80", 5, "five", false), Enter::Wait);
    assert_eq!(queues.waiting(), 3);
    assert_eq!(
        queues.pump("a:80", t0 + Duration::from_millis(100)),
        Some(vec![3, 5])
    );
    assert_eq!(
        queues.pump("a:80", t0 + Duration::from_millis(100)),
        None,
        "one ask at a time"
    );
    let answered = queues.answered("a:80", grant(2, 0, None), true, t0);
    assert_eq!(
        (ids(&answered.ready), answered.then),
        (vec![3, 5], Then::Nothing)
    );
    let mut held = queues.held();
    held.sort();
    assert_eq!(held.len(), 1);
    let (host, mut leases) = held.pop().unwrap();
    leases.sort();
    assert_eq!((&*host, leases), ("a:80", vec![1, 2, 3, 5]));
}

#[test]
fn at_the_cap_a_lease_given_back_asks_again_and_others_are_polled() {
    let queues = Queues::new();
    let t0 = Instant::now();
    queues.enter("a:80", 1, (), false);
    queues.answered("a:80", grant(1, 0, None), true, t0);
    assert_eq!(queues.enter("a:80", 2, (), false), Enter::Ask(vec![2]));
    // At the cap, the oldest lease 5 s from expiry: polled after POLL.
    let answered = queues.answered("a:80", grant(0, 0, Some(5000)), true, t0);
    assert_eq!(answered.then, Then::At(t0 + POLL));
    // A lease expiring sooner than the poll: asked at its expiry.
    queues.pump("a:80", t0 + POLL);
    let answered = queues.answered("a:80", grant(0, 0, Some(3)), true, t0);
    assert_eq!(answered.then, Then::At(t0 + Duration::from_millis(3)));
    // Its own request ends: its lease goes back, and the next asks at once.
    assert_eq!(queues.leave("a:80", 1), (true, Some(vec![2])));
    assert_eq!(queues.leave("a:80", 1), (false, None), "given back once");
    // A lease given back while an ask is under way: a full answer asks again at once.
    queues.answered("a:80", grant(1, 0, None), true, t0);
    queues.enter("a:80", 3, (), false);
    assert_eq!(queues.leave("a:80", 2), (true, None));
    let answered = queues.answered("a:80", grant(0, 0, Some(5000)), true, t0);
    assert_eq!(answered.then, Then::Ask(vec![3]));
    queues.answered("a:80", grant(1, 0, None), true, t0);
    assert_eq!(queues.leave("a:80", 3), (true, None));
    queues.enter("a:80", 2, (), false);
    // Without leases (no cap), an answer holds nothing.
    let answered = queues.answered("a:80", grant(1, 0, None), false, t0);
    assert!(!answered.leased && queues.held().is_empty());
    assert_eq!(queues.leave("a:80", 2), (false, None));
    assert!(lock(&queues.lines).is_empty(), "idle lines are removed");
}

#[test]
fn a_release_told_asks_again_only_for_a_line_waiting_for_its_cap() {
    let queues = Queues::new();
    let t0 = Instant::now();
    assert_eq!(queues.released("a:80"), None, "no line");
    queues.enter("a:80", 1, (), false);
    // Waiting for a token: a release changes nothing.
    queues.answered("a:80", grant(0, 100, None), true, t0);
    assert_eq!(queues.released("a:80"), None);
    // Waiting for the cap: a release asks at once, once.
    queues.pump("a:80", t0 + Duration::from_millis(100));
    queues.answered("a:80", grant(0, 0, Some(9000)), true, t0);
    assert_eq!(queues.released("a:80"), Some(vec![1]));
    assert_eq!(queues.released("a:80"), None, "an ask is under way");
    // Told during that ask, which finds the host full all the same: asks again at once.
    let answered = queues.answered("a:80", grant(0, 0, Some(9000)), true, t0);
    assert_eq!(answered.then, Then::Ask(vec![1]));
}

#[test]
fn redis_away_lets_every_waiting_request_go_without_a_lease() {
    let queues = Queues::new();
    let t0 = Instant::now();
    queues.enter("a:80", 1, 'a', false);
    queues.enter("a:80", 2, 'b', false);
    // An ask under way: a request that finds Redis away waits for its answer, in order.
    assert_eq!(queues.enter("a:80", 3, 'c', true), Enter::Wait);
    let answered = queues.answered("a:80", None, true, t0);
    assert_eq!(
        (ids(&answered.ready), answered.leased),
        (vec![1, 2, 3], false)
    );
    assert_eq!(answered.then, Then::Nothing);
    // With no ask under way, it goes at once, with any waiting on a timer ahead of it.
    queues.enter("a:80", 4, 'd', false);
    queues.answered("a:80", grant(0, 500, None), true, t0);
    assert_eq!(
        queues.enter("a:80", 5, 'e', true),
        Enter::Go(vec![(4, 'd'), (5, 'e')])
    );
    assert_eq!(queues.waiting(), 0);
    assert!(lock(&queues.lines).is_empty());
}

#[test]
fn an_ask_is_for_sixteen_at_most_and_drain_takes_everyone() {
    let queues = Queues::new();
    for id in 0..40 {
        queues.enter("a:80", id, id, false);
    }
    // The first asked for itself alone; the next ask is for the sixteen behind it.
    let answered = queues.answered("a:80", grant(1, 0, None), true, Instant::now());
    assert_eq!(answered.then, Then::Ask((1..17).collect()));
    let answered = queues.answered("a:80", grant(MOST_ASKED, 0, None), true, Instant::now());
    assert_eq!(answered.ready.len(), MOST_ASKED);
    assert_eq!(answered.then, Then::Ask((17..33).collect()));
    assert_eq!(queues.drain().len(), 23);
    assert_eq!(queues.waiting(), 0);
    // A grant beyond what was asked (a confused answer) lets only those asked go.
    queues.enter("b:80", 1, 1, false);
    queues.enter("b:80", 2, 2, false);
    let answered = queues.answered("b:80", grant(5, 0, None), true, Instant::now());
    assert_eq!(ids(&answered.ready), [1]);
}
