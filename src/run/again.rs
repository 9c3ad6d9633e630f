//! Step 5b of a request's life: sending it again. Before each attempt a copy is kept when
//! the request's policy may retry it; after the attempt, the policy, the client's budget
//! and the deadline decide ([`retry::verdict`]); the request then goes back to its pool
//! with a not-before time, holding no thread meanwhile.

use std::time::{Duration, Instant};

use super::{RequestJob, Retried, Started};
use crate::engine::Engine;
use crate::exchange::{Exchange, Failed};
use crate::finish::Finish;
use crate::host_limits::Outcome;
use crate::request::Prepared;
use crate::task;
use crate::{Error, retry};

/// Step 5b, before the attempt: a copy of the request to send again, when its policy
/// may retry it. A download is not sent again: its destination has the first attempt's
/// bytes, and resuming it is the destination's business.
pub(super) fn spare(
    engine: &Engine,
    prepared: &Prepared,
    retried: Option<&Retried>,
) -> Option<Prepared> {
    if prepared.sink.is_some() {
        return None;
    }
    let policy = engine.retry_for(prepared)?;
    let done = retried.map_or(0, |r| r.done);
    if !policy.may_retry(&prepared.method, done) {
        return None;
    }
    if retried.is_none() {
        engine.budget.deposit();
    }
    Some(prepared.copy_to_resend())
}

/// Step 5b, after the attempt: the copy to send and the wait before it, if the request's
/// policy, the client's budget and the deadline allow another attempt (see
/// [`retry::verdict`]).
pub(super) fn next_attempt(
    spare: Option<Prepared>,
    engine: &Engine,
    prepared: &Prepared,
    fetched: &Result<Exchange, Box<Failed>>,
    started: &Started,
    id: u64,
) -> Option<(Prepared, Duration)> {
    let spare = spare?;
    let policy = engine.retry_for(prepared)?;
    let (done, budget) = (started.retries, &engine.budget);
    let verdict = retry::verdict(
        policy,
        &prepared.method,
        fetched,
        done,
        &started.deadline,
        budget,
        id,
    );
    verdict.map(|again| (spare, again.wait))
}

/// Step 5b: the request goes back to its pool, to be taken `wait` from now, and to its
/// host's line then, if the client limits hosts; it gives back its host's place now, as
/// `outcome`, and holds no thread and no place in the pool meanwhile.
pub(super) fn requeue<T, F>(
    mut job: RequestJob<T, F>,
    spare: Prepared,
    started: &Started,
    wait: Duration,
    outcome: Outcome,
) where
    T: Send + Sync + 'static,
    F: Finish<T>,
{
    job.prepared = spare.moving_from(&mut job.prepared);
    let at = Instant::now() + wait;
    job.queued = at;
    job.retried = Some(Box::new(Retried {
        done: started.retries + 1,
        deadline: started.deadline,
        first: started.at,
    }));
    let pool = job.pending.0.pool.clone();
    let line = job.host.as_mut().map(|host| {
        host.leave(outcome, at);
        (
            host.limiter().clone(),
            Box::<str>::from(host.key()),
            host.id(),
        )
    });
    let slot = job.promise.slot().clone();
    let task = task::task(job);
    slot.retried(&task);
    match line {
        None => pool.submit_at(at, task),
        Some((limiter, key, id)) => {
            let retried = task.clone();
            let dispatch = Box::new(move || limiter.dispatch(&key, id, retried));
            if let Err(refused) = pool.at(at, dispatch) {
                // The pool has closed: the job fails, its slot filled.
                drop(refused);
                task.fail(Error::Closed);
            }
        }
    }
}
