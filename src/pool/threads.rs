//! The loops the pool's threads run: a driver's, which polls many requests' futures at
//! once and hands the rest to the workers, and a worker's, which runs one task at a time;
//! and the one way both wait for work.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use super::Shared;
use crate::driver::{Executor, Message};
use crate::task::{Start, Task};
use crate::{Error, logs, shutdown};

/// A driver's life: take tasks while permits last, run the drivable ones here and hand the
/// others to the workers, poll whichever future is woken, until the queue is closed and
/// every future done.
pub(super) fn drive(
    shared: &Arc<Shared>,
    inbox: &flume::Receiver<Message>,
    own: flume::Sender<Message>,
    blocking: &flume::Sender<Arc<Task>>,
) {
    shutdown::note_pool_thread(shared.id);
    let mut executor = Executor::new(own);
    let mut closed = false;
    loop {
        // Closed and drained: seen here even with no permit free.
        closed |= shared.is_drained();
        while !closed && shared.try_permit() {
            match shared.next_queued() {
                Ok(task) => match task.start() {
                    Start::Drive(future) => {
                        if executor.spawn(future) {
                            shared.release_permit();
                        }
                    }
                    Start::Blocking => {
                        // The worker gives the permit back when the task is done.
                        if let Err(refused) = blocking.send(task) {
                            refused.into_inner().fail(Error::Closed);
                            shared.release_permit();
                        }
                        shared.spawn_worker_if_needed();
                    }
                    Start::Taken => shared.release_permit(),
                },
                Err(flume::TryRecvError::Empty) => {
                    shared.permits.fetch_add(1, Ordering::AcqRel);
                    break;
                }
                Err(flume::TryRecvError::Disconnected) => {
                    shared.permits.fetch_add(1, Ordering::AcqRel);
                    // The lane of requests come due closes a moment after the queue; the
                    // pool's closing tells every driver to look again once both are.
                    closed = shared.is_drained();
                    break;
                }
            }
        }
        if closed && executor.len() == 0 {
            break;
        }
        let Some(first) = recv_polling(inbox) else {
            break;
        };
        let mut next = Some(first);
        while let Some(message) = next {
            if let Message::Wake(index) = message {
                if executor.poll(index) {
                    shared.release_permit();
                }
            }
            next = inbox.try_recv().ok();
        }
    }
    shared.drivers_live.fetch_sub(1, Ordering::AcqRel);
    logs::debug!("driver stopped");
}

/// A worker's life: run the tasks the drivers hand over, one at a time, until the queue is
/// closed and empty.
pub(super) fn work(shared: &Shared) {
    shutdown::note_pool_thread(shared.id);
    while let Some(task) = next_task(shared) {
        // A request's life catches its own panics (`run::RequestJob::live`): the worker
        // goes on to the next.
        task.run();
        shared.release_permit();
    }
    shared.live.fetch_sub(1, Ordering::AcqRel);
    logs::debug!("worker stopped");
}

/// The next task, or `None` once the queue is closed and empty.
fn next_task(shared: &Shared) -> Option<Arc<Task>> {
    shared.idle.fetch_add(1, Ordering::AcqRel);
    let next = recv_polling(&shared.blocking);
    shared.idle.fetch_sub(1, Ordering::AcqRel);
    next
}

/// How long an idle driver or worker polls its channel before it sleeps. A caller that
/// waits on each request submits the next a few microseconds after the last one finished;
/// waking a sleeping thread costs more than that on a small machine.
const IDLE_POLL: Duration = Duration::from_micros(100);

/// The channel's next item: polled for [`IDLE_POLL`], yielding the thread between looks,
/// then waited for asleep; `None` once it is closed and empty.
fn recv_polling<T>(channel: &flume::Receiver<T>) -> Option<T> {
    let poll_until = Instant::now() + IDLE_POLL;
    loop {
        match channel.try_recv() {
            Ok(item) => return Some(item),
            Err(flume::TryRecvError::Disconnected) => return None,
            Err(flume::TryRecvError::Empty) if Instant::now() < poll_until => thread::yield_now(),
            Err(flume::TryRecvError::Empty) => return channel.recv().ok(),
        }
    }
}
