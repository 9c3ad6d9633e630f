//! A client's subscriber to one Redis channel, on a thread of its own,
//! `asynchttp-redis-listen`: a subscribed connection can send nothing else, so it cannot be
//! the [`Link`](super::link::Link)'s. Each message's payload is handed to a function of the
//! caller's, which must not block.
//!
//! Messages are hints, never needed for correctness: one lost while the Redis is away, or
//! before the subscription is made, only delays what it would have hastened. A connection
//! that fails is made again a [`PAUSE`] later; no outage is logged here, since the link
//! logs it. Dropping the [`Listener`] stops the thread within a [`POLL`] and waits for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::Settings;
use super::outage::PAUSE;
use crate::logs;

/// How long a read waits for a message before the thread looks whether it must stop.
const POLL: Duration = Duration::from_millis(100);

/// The subscriber's thread, stopped and joined on drop.
pub(crate) struct Listener {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    /// Subscribes to `channel` of the Redis of `settings`, calling `heard` with each
    /// message's payload.
    pub(crate) fn start(
        settings: Settings,
        channel: String,
        heard: impl Fn(&str) + Send + 'static,
    ) -> std::io::Result<Listener> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = thread::Builder::new()
            .name("asynchttp-redis-listen".to_owned())
            .spawn(move || listen(&settings, &channel, &heard, &stopped))?;
        Ok(Listener {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            // Unless the thread itself lets go of the last reference, in a message's call.
            if thread.thread().id() != thread::current().id() && thread.join().is_err() {
                logs::error!("asynchttp-redis-listen panicked");
            }
        }
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").finish_non_exhaustive()
    }
}

/// The thread's life: subscribe, hand on each message, and subscribe again after a
/// failure, until told to stop.
fn listen(settings: &Settings, channel: &str, heard: &dyn Fn(&str), stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        let failed = subscribed(settings, channel, heard, stop);
        if let Err(e) = failed {
            logs::debug!("listening to {channel} on {}: {e}", settings.shown());
            // Wait out a PAUSE, a POLL at a time, to stop on time.
            for _ in 0..PAUSE.as_millis() / POLL.as_millis() {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                thread::sleep(POLL);
            }
        }
    }
    logs::debug!("redis listener stopped");
}

/// One subscription, until it fails or the thread must stop.
fn subscribed(
    settings: &Settings,
    channel: &str,
    heard: &dyn Fn(&str),
    stop: &AtomicBool,
) -> redis::RedisResult<()> {
    let mut conn = settings.subscriber(POLL)?;
    let mut subscription = conn.as_pubsub();
    subscription.subscribe(channel)?;
    while !stop.load(Ordering::Acquire) {
        match subscription.get_message() {
            Ok(message) => {
                if let Ok(payload) = message.get_payload::<String>() {
                    heard(&payload);
                }
            }
            Err(e) if e.is_timeout() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
