//! The worker pool: named threads started on demand, fed by one flume queue, and the
//! shutdown protocol.
//!
//! Invariants:
//! - Only [`PoolHandle`] holds the queue's `Sender`; workers hold a `Receiver`. Dropping the
//!   sender lets the workers drain the queue and then see the channel disconnect.
//! - Every queued [`Task`] fills its request's slot exactly once: when run, or when dropped
//!   unrun (the job's `Promise` fills it on drop).
//! - A task is taken out of its mutex by whoever runs it first: a worker, or a thread that
//!   waits on it from inside a worker (so a callback waiting on another request of the same
//!   pool runs it inline instead of deadlocking).

use std::cell::Cell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::Error;
use crate::logs;
use crate::sync;

/// Work for a worker: run it, or fail it without running.
pub(crate) trait Job: Send {
    /// Does the work and fills the request's slot.
    fn run(self);
    /// Fills the request's slot with `error` instead.
    fn fail(self, error: Error);
}

/// One queued request; whoever takes its job first runs it.
pub(crate) trait Runnable: Send + Sync {
    /// Runs the job unless someone already took it.
    fn run(&self);
    /// Fails the job unless someone already took it; true if it did.
    fn fail(&self, error: Error) -> bool;
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
}

thread_local! {
    /// The id of the pool this thread works for; 0 on any other thread.
    static WORKER_OF: Cell<u64> = const { Cell::new(0) };
}

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// True on a thread of any asynchttp worker pool.
pub(crate) fn on_worker_thread() -> bool {
    WORKER_OF.with(Cell::get) != 0
}

/// A pool of worker threads that several [`Http`](crate::Http)s can share, as a
/// requests-futures executor is shared by several sessions.
///
/// Workers are named `asynchttp-worker-<n>` and started on demand, up to the pool's size.
/// The pool stops when its last clone (including those held by `Http`s) is dropped: queued
/// requests still run, then the workers are joined.
///
/// ```
/// use asynchttp::{Http, WorkerPool};
///
/// let pool = WorkerPool::new(8);
/// let api = Http::builder().pool(pool.clone()).build()?;
/// let cdn = Http::builder().pool(pool.clone()).build()?;
/// assert_eq!(pool.size(), 8);
/// # drop((api, cdn));
/// # Ok::<(), asynchttp::Error>(())
/// ```
#[derive(Clone)]
pub struct WorkerPool {
    handle: Arc<PoolHandle>,
}

/// What a request submitted to a full bounded queue does; see [`WorkerPool::bounded`].
///
/// Either way a request that finds no room fails with [`Error::QueueFull`] and is never
/// sent; its pair is ready at once, so a batch can retry it later with
/// [`Batch::retry_exceptions`](crate::Batch::retry_exceptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// The submitting thread waits for room up to this long, then the request fails. A
    /// worker of the same pool never waits (it could be waiting on itself): for it, a full
    /// queue fails the request at once.
    Block(Duration),
    /// The request fails at once: the caller sheds load instead of waiting.
    Fail,
}

struct PoolHandle {
    sender: Mutex<Option<flume::Sender<Arc<Task>>>>,
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    /// The queue's capacity and what a full queue does; `None` when unbounded.
    bound: Option<(usize, WhenFull)>,
}

/// What the workers hold: never the sender, never the handle.
struct Shared {
    id: u64,
    receiver: flume::Receiver<Arc<Task>>,
    size: usize,
    live: AtomicUsize,
    idle: AtomicUsize,
}

impl WorkerPool {
    /// A pool of up to `size` workers (at least 1). No thread starts until work arrives.
    ///
    /// ```
    /// let pool = asynchttp::WorkerPool::new(0);
    /// assert_eq!((pool.size(), pool.workers()), (1, 0));
    /// ```
    pub fn new(size: usize) -> Self {
        WorkerPool::with_queue(size, flume::unbounded(), None)
    }

    /// A pool of up to `size` workers whose queue holds at most `capacity` requests (at
    /// least 1) waiting for a worker. A request that finds the queue full waits for room or
    /// fails at once, as `when_full` says; it then fails with [`Error::QueueFull`].
    ///
    /// This bounds the memory that queued requests take when a producer is faster than the
    /// network. Requests answered from the cache at once never enter the queue.
    ///
    /// ```
    /// use std::time::Duration;
    /// use asynchttp::{WhenFull, WorkerPool};
    ///
    /// let pool = WorkerPool::bounded(8, 1_000, WhenFull::Block(Duration::from_secs(5)));
    /// assert_eq!(pool.capacity(), Some(1_000));
    /// assert_eq!(WorkerPool::new(8).capacity(), None);
    /// ```
    pub fn bounded(size: usize, capacity: usize, when_full: WhenFull) -> Self {
        let capacity = capacity.max(1);
        WorkerPool::with_queue(size, flume::bounded(capacity), Some((capacity, when_full)))
    }

    fn with_queue(
        size: usize,
        (sender, receiver): (flume::Sender<Arc<Task>>, flume::Receiver<Arc<Task>>),
        bound: Option<(usize, WhenFull)>,
    ) -> Self {
        WorkerPool {
            handle: Arc::new(PoolHandle {
                sender: Mutex::new(Some(sender)),
                shared: Arc::new(Shared {
                    id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
                    receiver,
                    size: size.max(1),
                    live: AtomicUsize::new(0),
                    idle: AtomicUsize::new(0),
                }),
                workers: Mutex::new(Vec::new()),
                bound,
            }),
        }
    }

    /// How many requests the queue holds at most; `None` when it is unbounded.
    ///
    /// ```
    /// use asynchttp::{WhenFull, WorkerPool};
    ///
    /// assert_eq!(WorkerPool::bounded(2, 0, WhenFull::Fail).capacity(), Some(1));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.handle.bound.map(|(capacity, _)| capacity)
    }

    /// The most workers this pool runs at once.
    ///
    /// ```
    /// assert_eq!(asynchttp::WorkerPool::new(8).size(), 8);
    /// ```
    pub fn size(&self) -> usize {
        self.handle.shared.size
    }

    /// Worker threads alive now: started on demand, gone once the pool has stopped.
    ///
    /// ```
    /// assert_eq!(asynchttp::WorkerPool::new(8).workers(), 0);
    /// ```
    pub fn workers(&self) -> usize {
        self.handle.shared.live.load(Ordering::Acquire)
    }

    /// Requests waiting in the queue for a worker.
    ///
    /// ```
    /// assert_eq!(asynchttp::WorkerPool::new(8).queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        self.handle.shared.receiver.len()
    }

    /// Queues a task, starting a worker if the idle ones cannot take it. A task that cannot
    /// be queued, or never could run, is failed.
    pub(crate) fn submit(&self, task: Arc<Task>) {
        let full = {
            let sender = sync::lock(&self.handle.sender);
            let Some(sender) = sender.as_ref() else {
                task.fail(Error::Closed);
                return;
            };
            match sender.try_send(task) {
                Ok(()) => None,
                Err(flume::TrySendError::Full(task)) => Some((sender.clone(), task)),
                Err(flume::TrySendError::Disconnected(task)) => {
                    task.fail(Error::Closed);
                    return;
                }
            }
        };
        // The lock is released before waiting for room, so shutdown and other submitters
        // are never held up by a full queue.
        if let Some((sender, task)) = full {
            if let Err((task, error)) = self.wait_for_room(&sender, task) {
                task.fail(error);
                return;
            }
        }
        self.handle.spawn_if_needed();
    }

    /// Queues a task that found the queue full, as the pool's [`WhenFull`] says.
    fn wait_for_room(
        &self,
        sender: &flume::Sender<Arc<Task>>,
        task: Arc<Task>,
    ) -> Result<(), (Arc<Task>, Error)> {
        let (capacity, when_full) = self.handle.bound.expect("only a bounded queue is full");
        let on_own_worker = WORKER_OF.with(Cell::get) == self.handle.shared.id;
        let patience = match when_full {
            WhenFull::Block(patience) if !on_own_worker => patience,
            _ => Duration::ZERO,
        };
        if patience.is_zero() {
            let waited = Duration::ZERO;
            return Err((task, Error::QueueFull { capacity, waited }));
        }
        // Workers must be running for room to appear.
        self.handle.spawn_if_needed();
        let started = Instant::now();
        sender
            .send_timeout(task, patience)
            .map_err(|refused| match refused {
                flume::SendTimeoutError::Disconnected(task) => (task, Error::Closed),
                flume::SendTimeoutError::Timeout(task) => {
                    let waited = started.elapsed();
                    (task, Error::QueueFull { capacity, waited })
                }
            })
    }

    /// Stops taking work, lets the workers drain the queue, and joins them, unless called on
    /// a worker thread, where joining could wait on itself: then the workers finish alone.
    pub(crate) fn shutdown(&self) {
        self.handle.shutdown();
    }
}

impl PoolHandle {
    fn spawn_if_needed(&self) {
        let shared = &self.shared;
        // More queued than idle workers can take at once: one more worker, if allowed.
        if shared.receiver.len() <= shared.idle.load(Ordering::Acquire) {
            return;
        }
        let claimed = shared
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < shared.size).then_some(n + 1)
            });
        let Ok(index) = claimed else {
            return;
        };
        let name = format!("asynchttp-worker-{}", index + 1);
        let worker = shared.clone();
        let spawned = thread::Builder::new()
            .name(name.clone())
            .spawn(move || work(&worker));
        match spawned {
            Ok(handle) => {
                logs::debug!("started {name}");
                sync::lock(&self.workers).push(handle);
            }
            Err(e) => {
                shared.live.fetch_sub(1, Ordering::AcqRel);
                logs::error!("could not start {name}: {e}");
                if shared.live.load(Ordering::Acquire) > 0 {
                    return; // the running workers will get to it
                }
                // No worker will ever run what is queued: fail it rather than hang.
                while let Ok(task) = shared.receiver.try_recv() {
                    task.fail(Error::Worker {
                        reason: format!("no worker thread could be started: {e}"),
                    });
                }
            }
        }
    }

    fn shutdown(&self) {
        let sender = sync::lock(&self.sender).take();
        if sender.is_none() {
            return;
        }
        drop(sender);
        let workers = std::mem::take(&mut *sync::lock(&self.workers));
        if on_worker_thread() {
            logs::debug!("pool stopping; workers finish the queue alone");
            return;
        }
        logs::debug!("pool stopping; joining {} workers", workers.len());
        for worker in workers {
            let name = worker.thread().name().unwrap_or("unnamed").to_owned();
            if worker.join().is_err() {
                logs::error!("{name} exited by panic");
            }
        }
    }
}

impl Drop for PoolHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn work(shared: &Shared) {
    WORKER_OF.with(|w| w.set(shared.id));
    while let Some(task) = next_task(shared) {
        // The job catches callback panics itself; this keeps the worker alive through any
        // other panic, and the job's promise still fills its slot as it unwinds.
        if catch_unwind(AssertUnwindSafe(|| task.run())).is_err() {
            logs::error!("a request panicked outside its callback");
        }
    }
    shared.live.fetch_sub(1, Ordering::AcqRel);
    logs::debug!("worker stopped");
}

/// How long an idle worker polls the queue before it sleeps. A caller that waits on each
/// request submits the next a few microseconds after the last one finished; waking a
/// sleeping thread costs more than that on a small machine.
const IDLE_POLL: Duration = Duration::from_micros(100);

/// The next task, or `None` once the queue is closed and empty.
fn next_task(shared: &Shared) -> Option<Arc<Task>> {
    shared.idle.fetch_add(1, Ordering::AcqRel);
    let poll_until = Instant::now() + IDLE_POLL;
    let next = loop {
        match shared.receiver.try_recv() {
            Ok(task) => break Some(task),
            Err(flume::TryRecvError::Disconnected) => break None,
            Err(flume::TryRecvError::Empty) if Instant::now() < poll_until => thread::yield_now(),
            Err(flume::TryRecvError::Empty) => break shared.receiver.recv().ok(),
        }
    };
    shared.idle.fetch_sub(1, Ordering::AcqRel);
    next
}

impl fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPool")
            .field("size", &self.size())
            .field("workers", &self.workers())
            .field("queued", &self.queued())
            .field("capacity", &self.capacity())
            .finish()
    }
}
