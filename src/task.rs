//! A request as the pool queues it: its [`Job`] (run it on a worker, drive it as a future,
//! or fail it unrun) in a cell that whoever comes first takes the job out of.
//!
//! It is apart from [`pool`](crate::pool) because more than the pool's threads take a
//! task: a wait on a worker thread runs it inline ([`promise`](crate::promise)), so a
//! callback waiting on another request of the same pool runs it instead of deadlocking; a
//! cancel fails it; a host's limits hold it until it may go. The pool owns threads and
//! queues; this owns the rule that a task's job is taken exactly once.

use std::sync::{Arc, Mutex};

use crate::Error;
use crate::driver::Drive;
use crate::sync;

/// Work for the pool: run it, or fail it without running.
pub(crate) trait Job: Send {
    /// Does the work on a worker thread and fills the request's slot.
    fn run(self);
    /// Fills the request's slot with `error` instead.
    fn fail(self, error: Error);
    /// Whether it can run on a driver, among other requests: nothing in it blocks.
    fn drivable(&self) -> bool {
        false
    }
    /// The work as a future for a driver; asked for only when [`drivable`](Job::drivable).
    fn drive(self) -> Drive;
    /// Its host's limits let it through to the queue.
    fn admitted(&mut self) {}
}

/// How a driver starts a task it took from the queue.
pub(crate) enum Start {
    /// On the driver.
    Drive(Drive),
    /// On a worker thread.
    Blocking,
    /// Someone took the job already (it was cancelled, or run inline by a wait).
    Taken,
}

/// One queued request; whoever takes its job first runs it.
pub(crate) trait Runnable: Send + Sync {
    /// Runs the job unless someone already took it.
    fn run(&self);
    /// Fails the job unless someone already took it; true if it did.
    fn fail(&self, error: Error) -> bool;
    /// Takes the job as a future if it is drivable; leaves it for a worker otherwise.
    fn start(&self) -> Start;
    /// Tells the job its host let it through; false if the job is gone.
    fn admitted(&self) -> bool;
}

pub(crate) type Task = dyn Runnable;

/// The job is stored inline: one allocation per queued request.
struct JobCell<J> {
    job: Mutex<Option<J>>,
}

pub(crate) fn task(job: impl Job + 'static) -> Arc<Task> {
    Arc::new(JobCell {
        job: Mutex::new(Some(job)),
    })
}

impl<J: Job> JobCell<J> {
    fn take(&self) -> Option<J> {
        sync::lock(&self.job).take()
    }
}

impl<J: Job> Runnable for JobCell<J> {
    fn run(&self) {
        if let Some(job) = self.take() {
            job.run();
        }
    }

    fn fail(&self, error: Error) -> bool {
        match self.take() {
            Some(job) => {
                job.fail(error);
                true
            }
            None => false,
        }
    }

    fn admitted(&self) -> bool {
        match sync::lock(&self.job).as_mut() {
            Some(job) => {
                job.admitted();
                true
            }
            None => false,
        }
    }

    fn start(&self) -> Start {
        let mut job = sync::lock(&self.job);
        match &*job {
            None => Start::Taken,
            Some(drivable) if drivable.drivable() => {
                Start::Drive(job.take().expect("checked above").drive())
            }
            Some(_) => Start::Blocking,
        }
    }
}
