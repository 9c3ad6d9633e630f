//! The worker pool: named threads started on demand, fed by one flume queue, and the
//! shutdown protocol.
//!
//! Drivers (`asynchttp-driver-<n>`, two at most) take requests from the queue, as long as
//! fewer than the pool's size are running. A request with nothing in it that blocks or runs
//! user code runs on its driver as a future, among many ([`driver`](crate::driver)); any
//! other goes to a worker thread (`asynchttp-worker-<n>`), started on demand up to the
//! pool's size, which runs it to its end. Either way it holds one of the pool's `size`
//! permits until it is done.
//!
//! A request that must wait before it runs (a retry's backoff, its host's limits) waits on
//! the pool's timer ([`timer`](crate::timer)), holding no permit, and then goes into a
//! second lane, of requests come due, which the drivers take from before the queue: it
//! was queued once already, and behind the queue's backlog a host's paced requests would
//! reach it bunched together.
//!
//! Invariants:
//! - Only [`Intake`] holds the queue's and the due lane's `Sender`s; drivers hold the
//!   `Receiver`s. Dropping the senders lets the drivers drain both and then see them
//!   disconnect; a driver
//!   stops once its futures are done, and the workers once every driver has stopped.
//! - Every queued [`Task`] fills its request's slot exactly once: when run, or when dropped
//!   unrun (the job's `Promise` fills it on drop). Who runs it is [`task`](crate::task)'s
//!   rule: whoever takes its job first.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::Error;
use crate::driver::Message;
use crate::logs;
use crate::shutdown;
use crate::sync;
use crate::task::Task;
use crate::timer::{Action, Timer};

mod threads;

use self::threads::{drive, work};

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// A pool of worker threads that several [`Http`](crate::Http)s can share, as a
/// requests-futures executor is shared by several sessions.
///
/// At most the pool's size of requests run at once. Plain requests run on two driver
/// threads (`asynchttp-driver-<n>`), many at once; requests with a callback, a hook or a
/// function of the caller's, a cache or credentials run on worker threads (`asynchttp-worker-<n>`),
/// started on demand up to the pool's size. The pool stops when its last clone (including
/// those held by `Http`s) is dropped: queued requests still run, then the drivers and the
/// workers are joined; dropped on a thread that has awaited a pair or a `Lazy` (an async
/// executor's), it joins them on a thread of its own instead, `asynchttp-release`.
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
    intake: Arc<Intake>,
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

/// The pool's intake, shared by its clones alone: the senders of its queues. Dropping the
/// last clone drops it, which closes the queues and stops the pool.
struct Intake {
    sender: Mutex<Option<flume::Sender<Arc<Task>>>>,
    /// The lane of requests that come due after a wait; unbounded, since each was let
    /// into the queue once.
    due_sender: Mutex<Option<flume::Sender<Arc<Task>>>>,
    shared: Arc<Shared>,
    /// The queue's capacity and what a full queue does; `None` when unbounded.
    bound: Option<(usize, WhenFull)>,
    /// Given to each driver as it starts, then dropped at shutdown: the workers' channel
    /// disconnects once the last driver is gone.
    blocking_sender: Mutex<Option<flume::Sender<Arc<Task>>>>,
}

/// Drivers run at most this many; each has an isahc agent's worth of work to wait on.
const DRIVERS: usize = 2;

/// What the drivers and workers hold: never a sender, never the intake.
struct Shared {
    id: u64,
    receiver: flume::Receiver<Arc<Task>>,
    /// Requests that come due after a wait (a retry's backoff, their host's limits): they
    /// were queued once, so they go ahead of the queue instead of behind its backlog, where
    /// a host's paced requests would bunch up.
    due: flume::Receiver<Arc<Task>>,
    size: usize,
    /// Requests that may start: `size` less those running.
    permits: AtomicUsize,
    /// Each driver's inbox, once the drivers are started.
    drivers: Mutex<Vec<flume::Sender<Message>>>,
    driver_threads: Mutex<Vec<JoinHandle<()>>>,
    drivers_live: AtomicUsize,
    /// Which driver the next submission wakes.
    turn: AtomicUsize,
    /// Tasks a driver handed to the workers; its senders are the drivers' alone.
    blocking: flume::Receiver<Arc<Task>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    live: AtomicUsize,
    idle: AtomicUsize,
    /// Holds requests waiting to be queued again: a retry's backoff.
    timer: Arc<Timer>,
}

/// A pool as its requests see it: it holds their jobs, so they hold it weakly.
#[derive(Clone)]
pub(crate) struct PoolRef(Weak<Intake>);

impl PoolRef {
    /// Queues `task` at `at`, holding no thread meanwhile; a pool gone or closed by then
    /// fails it. It goes ahead of the queue, past a bounded queue's capacity: it was let
    /// in once.
    pub(crate) fn submit_at(&self, at: Instant, task: Arc<Task>) {
        let pool = self.clone();
        if let Err(action) = self.at(at, Box::new(move || pool.offer(task))) {
            // Closed: the action finds the queue closed and fails the task.
            action();
        }
    }

    /// Runs `action` at `at` on the pool's timer; a pool gone or closed gives it back.
    pub(crate) fn at(&self, at: Instant, action: Action) -> Result<(), Action> {
        match self.0.upgrade() {
            Some(intake) => {
                let timer = intake.shared.timer.clone();
                drop(intake);
                timer.at(at, action, mark_timer_thread)
            }
            None => Err(action),
        }
    }

    /// A pool already gone, for tests of what its users do without one.
    #[cfg(test)]
    pub(crate) fn gone() -> Self {
        PoolRef(Weak::new())
    }

    /// True once the pool takes no more work.
    pub(crate) fn is_closed(&self) -> bool {
        self.0
            .upgrade()
            .is_none_or(|intake| sync::lock(&intake.sender).is_none())
    }

    /// Queues `task` now, ahead of the queue's backlog; never waits.
    pub(crate) fn offer(&self, task: Arc<Task>) {
        let Some(intake) = self.0.upgrade() else {
            task.fail(Error::Closed);
            return;
        };
        let refused = match sync::lock(&intake.due_sender).as_ref() {
            Some(sender) => sender.send(task).err().map(|refused| refused.into_inner()),
            None => Some(task),
        };
        match refused {
            None => {
                intake.start_drivers();
                intake.shared.check_one_driver();
            }
            Some(task) => {
                task.fail(Error::Closed);
            }
        }
    }
}

/// The timer's thread counts as the pool's own: a pool whose last clone it drops stops
/// without joining, which would wait on itself.
fn mark_timer_thread() {
    // Any pool's id will do for that rule; the pool's own is not at hand here.
    shutdown::note_pool_thread(u64::MAX);
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
        let size = size.max(1);
        let (blocking_sender, blocking) = flume::unbounded();
        let (due_sender, due) = flume::unbounded();
        WorkerPool {
            intake: Arc::new(Intake {
                sender: Mutex::new(Some(sender)),
                due_sender: Mutex::new(Some(due_sender)),
                shared: Arc::new(Shared {
                    id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
                    receiver,
                    due,
                    size,
                    permits: AtomicUsize::new(size),
                    drivers: Mutex::new(Vec::new()),
                    driver_threads: Mutex::new(Vec::new()),
                    drivers_live: AtomicUsize::new(0),
                    turn: AtomicUsize::new(0),
                    blocking,
                    workers: Mutex::new(Vec::new()),
                    live: AtomicUsize::new(0),
                    idle: AtomicUsize::new(0),
                    timer: Arc::default(),
                }),
                bound,
                blocking_sender: Mutex::new(Some(blocking_sender)),
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
        self.intake.bound.map(|(capacity, _)| capacity)
    }

    /// The most workers this pool runs at once.
    ///
    /// ```
    /// assert_eq!(asynchttp::WorkerPool::new(8).size(), 8);
    /// ```
    pub fn size(&self) -> usize {
        self.intake.shared.size
    }

    /// Worker threads alive now: started on demand, for requests with a callback or a
    /// function of the caller's, a cache or credentials, and gone once the pool has stopped.
    ///
    /// ```
    /// assert_eq!(asynchttp::WorkerPool::new(8).workers(), 0);
    /// ```
    pub fn workers(&self) -> usize {
        self.intake.shared.live.load(Ordering::Acquire)
    }

    /// Driver threads alive now: two at most (one for a pool of one), started with the
    /// first request, each running many requests at once; gone once the pool has stopped.
    ///
    /// ```
    /// assert_eq!(asynchttp::WorkerPool::new(8).drivers(), 0);
    /// ```
    pub fn drivers(&self) -> usize {
        self.intake.shared.drivers_live.load(Ordering::Acquire)
    }

    /// Requests waiting in the queue for a worker.
    ///
    /// ```
    /// assert_eq!(asynchttp::WorkerPool::new(8).queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        let shared = &self.intake.shared;
        shared.receiver.len() + shared.due.len()
    }

    /// The pool as a request's job holds it.
    pub(crate) fn downgrade(&self) -> PoolRef {
        PoolRef(Arc::downgrade(&self.intake))
    }

    /// Queues a task, starting a worker if the idle ones cannot take it. A task that cannot
    /// be queued, or never could run, is failed.
    pub(crate) fn submit(&self, task: Arc<Task>) {
        let full = {
            let sender = sync::lock(&self.intake.sender);
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
        self.intake.start_drivers();
        self.intake.shared.check_one_driver();
    }

    /// Queues a task that found the queue full, as the pool's [`WhenFull`] says.
    fn wait_for_room(
        &self,
        sender: &flume::Sender<Arc<Task>>,
        task: Arc<Task>,
    ) -> Result<(), (Arc<Task>, Error)> {
        let (capacity, when_full) = self.intake.bound.expect("only a bounded queue is full");
        let on_own_worker = shutdown::on_thread_of(self.intake.shared.id);
        let patience = match when_full {
            WhenFull::Block(patience) if !on_own_worker => patience,
            _ => Duration::ZERO,
        };
        if patience.is_zero() {
            let waited = Duration::ZERO;
            return Err((task, Error::QueueFull { capacity, waited }));
        }
        // Drivers must be running for room to appear.
        self.intake.start_drivers();
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
        self.intake.shutdown();
    }
}

impl Intake {
    /// Starts the drivers, if they are not running yet.
    fn start_drivers(&self) {
        let shared = &self.shared;
        let mut drivers = sync::lock(&shared.drivers);
        if !drivers.is_empty() {
            return;
        }
        let Some(blocking) = sync::lock(&self.blocking_sender).clone() else {
            return; // stopped
        };
        for index in 0..DRIVERS.min(shared.size) {
            let name = format!("asynchttp-driver-{}", index + 1);
            let (inbox_sender, inbox) = flume::unbounded();
            let (mine, blocking) = (shared.clone(), blocking.clone());
            let own = inbox_sender.clone();
            let spawned = thread::Builder::new()
                .name(name.clone())
                .spawn(move || drive(&mine, &inbox, own, &blocking));
            match spawned {
                Ok(handle) => {
                    logs::debug!("started {name}");
                    shared.drivers_live.fetch_add(1, Ordering::AcqRel);
                    drivers.push(inbox_sender);
                    sync::lock(&shared.driver_threads).push(handle);
                }
                Err(e) => {
                    logs::error!("could not start {name}: {e}");
                    if drivers.is_empty() {
                        // Nothing will ever take what is queued: fail it rather than hang.
                        while let Ok(task) = shared.next_queued() {
                            task.fail(Error::Worker {
                                reason: format!("no driver thread could be started: {e}"),
                            });
                        }
                    }
                    return;
                }
            }
        }
    }

    fn shutdown(&self) {
        if !self.close() {
            return;
        }
        if shutdown::on_pool_thread() {
            logs::debug!("pool stopping; drivers and workers finish the queue alone");
            return;
        }
        self.shared.join();
    }

    /// Closes the queue: the drivers drain it, then stop, and the workers after them. True
    /// the first time.
    fn close(&self) -> bool {
        let sender = sync::lock(&self.sender).take();
        if sender.is_none() {
            return false;
        }
        drop(sender);
        drop(sync::lock(&self.due_sender).take());
        drop(sync::lock(&self.blocking_sender).take());
        // What the timer still holds fails now, finding the queue closed; its thread is
        // joined with the drivers.
        if let Some(timer) = self.shared.timer.close() {
            sync::lock(&self.shared.driver_threads).push(timer);
        }
        // A driver sees the queue closed when it next looks.
        self.shared.check_drivers();
        true
    }
}

impl Shared {
    /// Joins the drivers, then the workers: once the queue is closed, they stop when it is
    /// drained.
    fn join(&self) {
        let drivers = std::mem::take(&mut *sync::lock(&self.driver_threads));
        logs::debug!("pool stopping; joining {} drivers", drivers.len());
        join_all(drivers);
        // No driver is left to start a worker.
        let workers = std::mem::take(&mut *sync::lock(&self.workers));
        logs::debug!("pool stopping; joining {} workers", workers.len());
        join_all(workers);
    }
}

fn join_all(threads: Vec<JoinHandle<()>>) {
    for thread in threads {
        let name = thread.thread().name().unwrap_or("unnamed").to_owned();
        if thread.join().is_err() {
            logs::error!("{name} exited by panic");
        }
    }
}

impl Shared {
    /// The next queued task: one come due after a wait first, else the queue's oldest.
    fn next_queued(&self) -> Result<Arc<Task>, flume::TryRecvError> {
        self.due.try_recv().or_else(|_| self.receiver.try_recv())
    }

    /// Closed and empty, both lanes.
    fn is_drained(&self) -> bool {
        self.receiver.is_disconnected()
            && self.receiver.is_empty()
            && self.due.is_disconnected()
            && self.due.is_empty()
    }

    fn try_permit(&self) -> bool {
        self.permits
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    /// A request is done: another may start.
    fn release_permit(&self) {
        self.permits.fetch_add(1, Ordering::AcqRel);
        // Queued work may start now; or the pool stopped, and an idle driver may stop too.
        if !self.receiver.is_empty() || !self.due.is_empty() || self.receiver.is_disconnected() {
            self.check_drivers();
        }
    }

    /// Tells one driver, in turn, to look at the queue: enough for one new task, since any
    /// driver can take any free permit, and a permit freed later wakes them all.
    fn check_one_driver(&self) {
        let drivers = sync::lock(&self.drivers);
        if drivers.is_empty() {
            return;
        }
        let turn = self.turn.fetch_add(1, Ordering::Relaxed) % drivers.len();
        let _ = drivers[turn].send(Message::Check);
    }

    /// Tells every driver to look at the queue.
    fn check_drivers(&self) {
        for driver in sync::lock(&self.drivers).iter() {
            let _ = driver.send(Message::Check);
        }
    }

    /// Starts a worker if the blocking tasks waiting outnumber the idle workers.
    fn spawn_worker_if_needed(self: &Arc<Self>) {
        if self.blocking.len() <= self.idle.load(Ordering::Acquire) {
            return;
        }
        let claimed = self
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.size).then_some(n + 1)
            });
        let Ok(index) = claimed else {
            return;
        };
        let name = format!("asynchttp-worker-{}", index + 1);
        let worker = self.clone();
        let spawned = thread::Builder::new()
            .name(name.clone())
            .spawn(move || work(&worker));
        match spawned {
            Ok(handle) => {
                logs::debug!("started {name}");
                sync::lock(&self.workers).push(handle);
            }
            Err(e) => {
                self.live.fetch_sub(1, Ordering::AcqRel);
                logs::error!("could not start {name}: {e}");
                if self.live.load(Ordering::Acquire) > 0 {
                    return; // the running workers will get to it
                }
                // No worker will ever run what is queued: fail it rather than hang.
                while let Ok(task) = self.blocking.try_recv() {
                    task.fail(Error::Worker {
                        reason: format!("no worker thread could be started: {e}"),
                    });
                    self.release_permit();
                }
            }
        }
    }
}

impl Drop for Intake {
    /// As [`Intake::shutdown`], except on an async executor's thread, where the drivers
    /// and workers are joined on a thread of their own, `asynchttp-release`, since joining
    /// them waits for the requests they are running.
    fn drop(&mut self) {
        if shutdown::on_executor_thread() {
            if self.close() {
                logs::debug!("pool stopping; joining on asynchttp-release");
                let shared = self.shared.clone();
                shutdown::release(shared, |shared| shared.join());
            }
        } else {
            self.shutdown();
        }
    }
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
