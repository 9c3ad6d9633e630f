//! Each host's second line, where a request its process let through waits for the fleet's
//! leave: a lease (a place among the host's requests in flight, fleet-wide) and a token of
//! the fleet's bucket, given by Redis.
//!
//! As the process's own lines, these only count and queue, the clock and Redis's answers
//! handed in. At most one ask of Redis is under way per host, for the first requests
//! waiting, in order; its answer lets some of them go and says when to ask again (a pause
//! or the next token: at that time; the host at its cap: when one of this process's
//! requests of the host ends, or after a short poll for the other processes' ones). A
//! Redis that is away lets every waiting request of the host go, without a lease: they are
//! then held by their process's own lines alone.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use super::scripts::{Grant, POLL};
use crate::sync::lock;

/// The most requests one ask is for.
pub(super) const MOST_ASKED: usize = 16;

/// What to do after a request enters its host's line.
#[derive(Debug, PartialEq)]
pub(super) enum Enter<T> {
    /// Redis is away: these go now without a lease, every request that waited and the new
    /// one last.
    Go(Vec<(u64, T)>),
    /// Ask Redis for these requests' leaves.
    Ask(Vec<u64>),
    /// It waits: an ask is under way, or a timer will ask.
    Wait,
}

/// What an answer from Redis lets go, and what to do next.
#[derive(Debug, PartialEq)]
pub(super) struct Answered<T> {
    /// The requests that may start, in order; each holds a lease if `leased`.
    pub(super) ready: Vec<(u64, T)>,
    pub(super) leased: bool,
    pub(super) then: Then,
}

/// What a host's line needs next.
#[derive(Debug, PartialEq)]
pub(super) enum Then {
    Nothing,
    /// Ask again now, for these requests.
    Ask(Vec<u64>),
    /// Ask again at this time: the caller arms a timer that calls [`Queues::pump`].
    At(Instant),
}

/// Every host's second line; see the module docs.
pub(super) struct Queues<T> {
    lines: Mutex<HashMap<Box<str>, Line<T>>>,
}

struct Line<T> {
    waiting: VecDeque<(u64, T)>,
    /// An ask is under way for the first this many waiting.
    asking: usize,
    /// The requests let through with a lease, by id.
    held: HashSet<u64>,
    /// The earliest timer armed and not yet fired.
    timer: Option<Instant>,
    /// A lease was given back while an ask was under way: an answer that finds the host
    /// at its cap asks again at once, since the lease's release went to Redis after the
    /// ask and before the next.
    freed: bool,
    /// The last answer found the host at its cap: a release told by Redis asks again.
    full: bool,
}

impl<T> Line<T> {
    fn idle(&self) -> bool {
        self.waiting.is_empty() && self.asking == 0 && self.held.is_empty()
    }

    /// An ask for the first requests waiting, if none is under way.
    fn ask(&mut self) -> Option<Vec<u64>> {
        if self.asking > 0 || self.waiting.is_empty() {
            return None;
        }
        let ids: Vec<u64> = self
            .waiting
            .iter()
            .take(MOST_ASKED)
            .map(|(id, _)| *id)
            .collect();
        self.asking = ids.len();
        self.freed = false;
        Some(ids)
    }
}

impl<T> Queues<T> {
    pub(super) fn new() -> Self {
        Queues {
            lines: Mutex::new(HashMap::new()),
        }
    }

    /// Request `id` of `host` joins the end of its host's line; `away` when Redis was away
    /// at its last call.
    pub(super) fn enter(&self, host: &str, id: u64, item: T, away: bool) -> Enter<T> {
        let mut lines = lock(&self.lines);
        let line = lines.entry(host.into()).or_insert_with(|| Line {
            waiting: VecDeque::new(),
            asking: 0,
            held: HashSet::new(),
            timer: None,
            freed: false,
            full: false,
        });
        line.waiting.push_back((id, item));
        if away && line.asking == 0 {
            let ready = line.waiting.drain(..).collect();
            if line.idle() {
                lines.remove(host);
            }
            return Enter::Go(ready);
        }
        match line.ask() {
            Some(ids) if line.timer.is_none() || line.waiting.len() == 1 => Enter::Ask(ids),
            Some(_) => {
                // A timer is armed for the requests ahead: this one waits behind them.
                line.asking = 0;
                Enter::Wait
            }
            None => Enter::Wait,
        }
    }

    /// Redis answered the ask for `host` (`None`: it is away), at `now`.
    pub(super) fn answered(
        &self,
        host: &str,
        answer: Option<Grant>,
        leases: bool,
        now: Instant,
    ) -> Answered<T> {
        let mut lines = lock(&self.lines);
        let Some(line) = lines.get_mut(host) else {
            return Answered {
                ready: Vec::new(),
                leased: false,
                then: Then::Nothing,
            };
        };
        let asked = std::mem::take(&mut line.asking);
        let (ready, leased, then) = match answer {
            None => (line.waiting.drain(..).collect(), false, Then::Nothing),
            Some(grant) => {
                let granted = grant.granted.min(asked);
                let ready: Vec<_> = line.waiting.drain(..granted).collect();
                if leases {
                    line.held.extend(ready.iter().map(|(id, _)| *id));
                }
                line.full = grant.full.is_some();
                let freed = line.full && line.freed;
                let then = if line.waiting.is_empty() {
                    Then::Nothing
                } else if granted == asked || freed {
                    // All that were asked for went, or a lease came back since: the next
                    // ones ask at once.
                    Then::Ask(line.ask().expect("someone waits"))
                } else {
                    let wait = match grant.full {
                        Some(expiry) => expiry.min(POLL),
                        None => grant.wait,
                    };
                    let at = now + wait;
                    if line.timer.is_some_and(|armed| armed <= at) {
                        Then::Nothing
                    } else {
                        line.timer = Some(at);
                        Then::At(at)
                    }
                };
                (ready, leases, then)
            }
        };
        if line.idle() {
            lines.remove(host);
        }
        Answered {
            ready,
            leased,
            then,
        }
    }

    /// A timer armed for `host` at `at` fired: the ask to make, if one is needed.
    pub(super) fn pump(&self, host: &str, at: Instant) -> Option<Vec<u64>> {
        let mut lines = lock(&self.lines);
        let line = lines.get_mut(host)?;
        if line.timer == Some(at) {
            line.timer = None;
        }
        line.ask()
    }

    /// Redis told that a lease of `host` was given back, by any process: the ask to make
    /// now, if the host's line waits for its cap.
    pub(super) fn released(&self, host: &str) -> Option<Vec<u64>> {
        let mut lines = lock(&self.lines);
        let line = lines.get_mut(host)?;
        if !line.full {
            return None;
        }
        line.freed |= line.asking > 0;
        line.ask()
    }

    /// Request `id` of `host`, let through, is done: whether it held a lease, to give back,
    /// and the ask to make now, since its place may go to the next in line.
    pub(super) fn leave(&self, host: &str, id: u64) -> (bool, Option<Vec<u64>>) {
        let mut lines = lock(&self.lines);
        let Some(line) = lines.get_mut(host) else {
            return (false, None);
        };
        let held = line.held.remove(&id);
        line.freed |= held && line.asking > 0;
        let ask = if held { line.ask() } else { None };
        if line.idle() {
            lines.remove(host);
        }
        (held, ask)
    }

    /// The leases held, by host.
    pub(super) fn held(&self) -> Vec<(Box<str>, Vec<u64>)> {
        lock(&self.lines)
            .iter()
            .filter(|(_, line)| !line.held.is_empty())
            .map(|(host, line)| (host.clone(), line.held.iter().copied().collect()))
            .collect()
    }

    /// Takes every waiting request out, all hosts.
    pub(super) fn drain(&self) -> Vec<T> {
        let mut lines = lock(&self.lines);
        let drained = lines
            .values_mut()
            .flat_map(|line| line.waiting.drain(..).map(|(_, item)| item))
            .collect();
        lines.retain(|_, line| !line.idle());
        drained
    }

    /// Requests waiting, all hosts.
    pub(super) fn waiting(&self) -> usize {
        lock(&self.lines)
            .values()
            .map(|line| line.waiting.len())
            .sum()
    }
}

#[cfg(test)]
mod tests;
