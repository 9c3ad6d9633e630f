//! The one thread that talks to a Redis for a client's shared limits, `asynchttp-redis`:
//! calls are sent to it and run in order on its [`Redis`], so that no caller's thread, driver or timer
//! ever waits on the network. Dropping the [`Link`] ends it once the calls sent before have
//! run, and waits for that (each call takes a timeout at most, and none while the Redis is
//! away): the leases a client's last requests give back reach Redis before its process
//! exits, rather than holding their places until they expire.
//!
//! While the Redis is away, the thread tries it again each [`PAUSE`] of its own accord, so
//! that callers who skip it meanwhile (see [`Link::is_away`]) find it back without having
//! to pay for the attempt. The outage is logged as every call to Redis logs it
//! ([`outage`](super::outage)).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

use super::outage::PAUSE;
use super::{Redis, Settings};
use crate::logs;

/// A call to run on the thread's Redis.
pub(crate) type Call = Box<dyn FnOnce(&Redis) + Send>;

/// The way to a client's Redis thread.
pub(crate) struct Link {
    /// Taken on drop, so that the thread sees the channel close.
    sender: Option<flume::Sender<Call>>,
    /// Set while the Redis is away, as the thread last found it.
    away: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Link {
    /// Starts the thread for the Redis of `settings`; it connects at its first call.
    ///
    /// # Errors
    ///
    /// Settings that name no Redis (`InvalidInput`), or a thread that cannot start.
    pub(crate) fn start(settings: Settings) -> std::io::Result<Link> {
        let redis = Redis::open(settings)?;
        let (sender, receiver) = flume::unbounded::<Call>();
        let away = Arc::new(AtomicBool::new(false));
        let seen = away.clone();
        let thread = thread::Builder::new()
            .name("asynchttp-redis".to_owned())
            .spawn(move || serve(&redis, &receiver, &seen))?;
        Ok(Link {
            sender: Some(sender),
            away,
            thread: Some(thread),
        })
    }

    /// Runs `call` on the thread, after those sent before; false if the thread is gone
    /// (it panicked), and `call` with it.
    pub(crate) fn send(&self, call: Call) -> bool {
        self.sender.as_ref().is_some_and(|s| s.send(call).is_ok())
    }

    /// Whether the Redis was away at the thread's last call or attempt.
    pub(crate) fn is_away(&self) -> bool {
        self.away.load(Ordering::Relaxed)
    }
}

impl Drop for Link {
    /// Closes the channel and waits for the calls sent before, unless this is the thread
    /// itself letting go of the last reference (a call's answer): it then ends on its own
    /// once the call returns.
    fn drop(&mut self) {
        drop(self.sender.take());
        let Some(thread) = self.thread.take() else {
            return;
        };
        if thread.thread().id() != thread::current().id() && thread.join().is_err() {
            logs::error!("asynchttp-redis panicked");
        }
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("away", &self.is_away())
            .finish()
    }
}

/// The thread's life: each call in turn; while the Redis is away, an attempt each
/// [`PAUSE`] between calls.
fn serve(redis: &Redis, calls: &flume::Receiver<Call>, away: &AtomicBool) {
    loop {
        let call = if redis.is_away() {
            match calls.recv_timeout(PAUSE) {
                Ok(call) => Some(call),
                Err(flume::RecvTimeoutError::Timeout) => None,
                Err(flume::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match calls.recv() {
                Ok(call) => Some(call),
                Err(flume::RecvError::Disconnected) => break,
            }
        };
        match call {
            // A call that panics loses its own answer, not the thread.
            Some(call) => {
                if catch_unwind(AssertUnwindSafe(|| call(redis))).is_err() {
                    logs::error!("a call to Redis panicked");
                }
            }
            None => {
                redis.call(|c| redis::cmd("PING").query::<()>(c));
            }
        }
        away.store(redis.is_away(), Ordering::Relaxed);
    }
    logs::debug!("redis thread stopped");
}
