//! A driver: one thread that runs many requests at once, each as a future over isahc's
//! async API, instead of one blocked worker thread per request. While a request waits on
//! the network it holds no thread; the driver wakes when isahc's agent has news for one of
//! its requests, or when the pool has work for it.
//!
//! Each driver is its own small executor: its futures live in a slab on its thread, and a
//! future's waker sends the future's index to the driver's inbox. The same inbox carries
//! `Check`, the pool's word that a request was queued or a permit freed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// A request's whole life on a driver.
pub(crate) type Drive = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What a driver's inbox carries.
pub(crate) enum Message {
    /// The future at this index may make progress.
    Wake(usize),
    /// Work may be waiting in the pool's queue, or a permit was freed.
    Check,
}

/// One future on the driver, and whether a wake for it is already in the inbox.
struct Running {
    future: Drive,
    waker: Waker,
    woken: Arc<AtomicBool>,
}

/// Sends its future's index to the driver, once until the future is polled again.
struct IndexWaker {
    index: usize,
    woken: Arc<AtomicBool>,
    inbox: flume::Sender<Message>,
}

impl Wake for IndexWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            // A driver that has stopped has nothing left to wake.
            let _ = self.inbox.send(Message::Wake(self.index));
        }
    }
}

/// The futures of one driver.
pub(crate) struct Executor {
    running: Vec<Option<Running>>,
    free: Vec<usize>,
    inbox: flume::Sender<Message>,
}

impl Executor {
    pub(crate) fn new(inbox: flume::Sender<Message>) -> Self {
        Executor {
            running: Vec::new(),
            free: Vec::new(),
            inbox,
        }
    }

    /// Futures not yet finished.
    pub(crate) fn len(&self) -> usize {
        self.running.len() - self.free.len()
    }

    /// Starts `future`: it is polled at once. True if it finished then.
    pub(crate) fn spawn(&mut self, future: Drive) -> bool {
        let index = self.free.pop().unwrap_or_else(|| {
            self.running.push(None);
            self.running.len() - 1
        });
        let woken = Arc::new(AtomicBool::new(false));
        let waker = Waker::from(Arc::new(IndexWaker {
            index,
            woken: woken.clone(),
            inbox: self.inbox.clone(),
        }));
        self.running[index] = Some(Running {
            future,
            waker,
            woken,
        });
        self.poll(index)
    }

    /// Polls the future at `index` if it is still running; true if it finished now.
    pub(crate) fn poll(&mut self, index: usize) -> bool {
        let Some(Some(running)) = self.running.get_mut(index) else {
            return false;
        };
        running.woken.store(false, Ordering::Release);
        let mut context = Context::from_waker(&running.waker);
        match running.future.as_mut().poll(&mut context) {
            Poll::Pending => false,
            Poll::Ready(()) => {
                self.running[index] = None;
                self.free.push(index);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Mutex;

    /// Ready once set; wakes whoever polled it.
    #[derive(Default)]
    struct Signal(Mutex<(bool, Option<Waker>)>);

    impl Signal {
        fn set(&self) {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            if let Some(waker) = state.1.take() {
                waker.wake();
            }
        }

        async fn wait(&self) {
            std::future::poll_fn(|cx| {
                let mut state = self.0.lock().unwrap();
                if state.0 {
                    Poll::Ready(())
                } else {
                    state.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await;
        }
    }

    #[test]
    fn futures_run_when_woken_and_finish_once() {
        let (tx, rx) = flume::unbounded();
        let mut executor = Executor::new(tx);
        let signal = Arc::new(Signal::default());
        let waiting = signal.clone();
        let finished = executor.spawn(Box::pin(async move { waiting.wait().await }));
        assert!(!finished);
        assert_eq!(executor.len(), 1);
        assert!(rx.is_empty(), "nothing woke it yet");
        signal.set();
        let Ok(Message::Wake(index)) = rx.try_recv() else {
            panic!("no wake")
        };
        assert!(executor.poll(index));
        assert_eq!(executor.len(), 0);
        assert!(
            !executor.poll(index),
            "a finished future is not polled again"
        );
        assert!(
            executor.spawn(Box::pin(async {})),
            "a ready future finishes at once"
        );
    }
}
