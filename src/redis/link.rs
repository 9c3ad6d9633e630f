//! The one thread that talks to a Redis for a client, `asynchttp-redis`: calls are sent to
//! it and run in order on its [`Connection`], so that no caller's thread, driver or timer
//! ever waits on the network. It ends once every [`Link`] to it is dropped and the calls
//! sent before have run.
//!
//! While the Redis is away, the thread tries it again each [`RETRY`] of its own accord, so
//! that callers who skip it meanwhile (see [`Link::is_away`]) find it back without having
//! to pay for the attempt.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use super::connect::{Connection, RETRY, Settings};
use crate::logs;

/// A call to run on the thread's connection.
pub(crate) type Call = Box<dyn FnOnce(&mut Connection) + Send>;

/// The way to a client's Redis thread.
pub(crate) struct Link {
    sender: flume::Sender<Call>,
    /// Set while the Redis is away, as the thread last found it.
    away: Arc<AtomicBool>,
}

impl Link {
    /// Starts the thread for the Redis of `settings`; it connects at its first call.
    pub(crate) fn start(settings: Settings) -> std::io::Result<Link> {
        let (sender, receiver) = flume::unbounded::<Call>();
        let away = Arc::new(AtomicBool::new(false));
        let seen = away.clone();
        thread::Builder::new()
            .name("asynchttp-redis".to_owned())
            .spawn(move || serve(Connection::new(settings), &receiver, &seen))?;
        Ok(Link { sender, away })
    }

    /// Runs `call` on the thread, after those sent before; false if the thread is gone
    /// (it panicked), and `call` with it.
    pub(crate) fn send(&self, call: Call) -> bool {
        self.sender.send(call).is_ok()
    }

    /// Whether the Redis was away at the thread's last call or attempt.
    pub(crate) fn is_away(&self) -> bool {
        self.away.load(Ordering::Relaxed)
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
/// [`RETRY`] between calls.
fn serve(mut conn: Connection, calls: &flume::Receiver<Call>, away: &AtomicBool) {
    loop {
        let call = if conn.is_away() {
            match calls.recv_timeout(RETRY) {
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
                if catch_unwind(AssertUnwindSafe(|| call(&mut conn))).is_err() {
                    logs::error!("a call to Redis panicked");
                }
            }
            None => {
                conn.probe();
            }
        }
        away.store(conn.is_away(), Ordering::Relaxed);
    }
    logs::debug!("redis thread stopped");
}
