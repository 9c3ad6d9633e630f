//! Awaiting a pair, a [`Lazy`] or a [`Download`]: `response.await`, `(&content).await`,
//! `download.await`. The slot wakes an
//! awaiting future where it wakes the threads blocked on it, so the futures need no runtime:
//! any executor polls them, and a poll never blocks its thread.
//!
//! Awaiting by value ([`Take`]) gives the outcome by value, as `into_result` does; awaiting
//! a reference ([`Wait`]) gives a reference, as `wait` does. So it is with iterators:
//! `for x in v` and `for x in &v`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::exchange::Exchange;
use crate::promise::{Reader, Slot, debug_slot};
use crate::shutdown;
use crate::{Download, Downloaded, Error, Lazy, LazyContent, LazyResponse, Response};

/// The future of awaiting a reference to a [`LazyResponse`], a [`LazyContent`] or a
/// [`Lazy<T>`](Lazy): `(&response).await` gives `Result<&Response, Error>` as
/// [`LazyResponse::wait`] does, without blocking the thread, and works for any `T`.
///
/// A future dropped before the request is done (by a timeout or a `select`) leaves nothing
/// behind; one polled again replaces the waker it left, whatever task polls it.
///
/// # Examples
///
/// ```no_run
/// use asynchttp::Http;
///
/// async fn status(http: &Http, url: &str) -> Result<u16, asynchttp::Error> {
///     let (response, content) = http.request(url);
///     let r = (&response).await?; // borrowed from `response`
///     println!("{} bytes", (&content).await?.len());
///     Ok(r.status)
/// }
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a, T: ?Sized> {
    source: &'a dyn Source<T>,
    /// This future's entry among the slot's wakers, once it has one.
    key: Option<u64>,
    /// Where it was awaited, for the log line of a failed request.
    at: &'static Location<'static>,
}

/// What a [`Wait`] reads: a lazy type, as the value it derefs to.
trait Source<T: ?Sized>: Sync {
    fn poll_filled(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()>;
    fn forget(&self, key: &mut Option<u64>);
    fn outcome(&self, at: &Location<'_>) -> Result<&T, Error>;
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

macro_rules! source {
    ([$($generics:tt)*] $lazy:ty, $target:ty, $project:expr) => {
        impl<$($generics)*> Source<$target> for $lazy {
            fn poll_filled(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()> {
                self.slot.poll_filled(key, cx)
            }

            fn forget(&self, key: &mut Option<u64>) {
                self.slot.forget(key);
            }

            fn outcome(&self, at: &Location<'_>) -> Result<&$target, Error> {
                self.slot.outcome(at).map($project)
            }

            fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

source!([] LazyResponse, Response, |e: &Exchange| &e.response);
source!([] LazyContent, [u8], |e: &Exchange| e.content.as_slice());
source!([T: Send + Sync] Lazy<T>, T, |t: &T| t);

impl<'a, T: ?Sized> Wait<'a, T> {
    #[track_caller]
    fn new(source: &'a dyn Source<T>) -> Self {
        Wait {
            source,
            key: None,
            at: Location::caller(),
        }
    }
}

impl<'a, T: ?Sized> Future for Wait<'a, T> {
    type Output = Result<&'a T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every poll: a task may move to another of its executor's threads between two.
        shutdown::note_async_thread();
        let this = self.get_mut();
        let source: &'a dyn Source<T> = this.source;
        match source.poll_filled(&mut this.key, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => Poll::Ready(source.outcome(this.at)),
        }
    }
}

impl<T: ?Sized> Drop for Wait<'_, T> {
    fn drop(&mut self) {
        self.source.forget(&mut self.key);
    }
}

/// Never blocks: the request awaited and its state.
impl<T: ?Sized> fmt::Debug for Wait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Wait(")?;
        self.source.debug(f)?;
        f.write_str(")")
    }
}

/// The future of awaiting a [`LazyResponse`], a [`LazyContent`] or a [`Lazy<T>`](Lazy) by
/// value: `response.await` gives `Result<Response, Error>`, `content.await`
/// `Result<Vec<u8>, Error>`, `lazy.await` `Result<T, Error>`, as their `into_result` does,
/// without blocking the thread. The outcome is moved out if the awaited handle is the last
/// one on the request, and cloned otherwise: await the response half before the body, or
/// drop it, and the body is moved, never copied.
///
/// A [`Lazy<T>`](Lazy) is awaited by value when `T: Clone`; for any other `T`, await a
/// reference, then take the value with [`Lazy::into_inner`], which no longer waits.
///
/// # Examples
///
/// ```no_run
/// use asynchttp::{Error, Http};
///
/// async fn fetch(http: &Http, url: &str) -> Result<(u16, Vec<u8>), Error> {
///     let (response, content) = http.request(url);
///     let status = response.await?.status; // a clone of the response: the body half lives
///     let body = content.await?; // moved out: the last handle
///     Ok((status, body))
/// }
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Take<T> {
    source: Taken<T>,
    /// This future's entry among the slot's wakers, once it has one.
    key: Option<u64>,
    /// Where it was awaited, for the log line of a failed request.
    at: &'static Location<'static>,
}

/// What a [`Take`] reads, and how it makes its output.
enum Taken<T> {
    /// A pair's half: a part of the exchange.
    Half {
        taking: Taking<Exchange>,
        take: fn(Exchange) -> T,
        copy: fn(&Exchange) -> T,
    },
    /// A [`Lazy`]'s value.
    Value {
        taking: Taking<T>,
        copy: fn(&T) -> T,
    },
}

/// Where a [`Take`] is.
enum Taking<S> {
    /// Holding its handle until the slot is filled.
    Waiting(Reader<S>),
    /// The handle given up as the last, the slot still held for a moment by the promise
    /// that filled it.
    Moving(Arc<Slot<S>>),
    /// Done: the outcome went out.
    Done,
}

impl<S> Taking<S> {
    fn poll<U>(
        &mut self,
        key: &mut Option<u64>,
        at: &Location<'_>,
        cx: &mut Context<'_>,
        take: impl FnOnce(S) -> U,
        copy: impl FnOnce(&S) -> U,
    ) -> Poll<Result<U, Error>> {
        if let Taking::Waiting(handle) = self {
            if handle.poll_filled(key, cx).is_pending() {
                return Poll::Pending;
            }
            let Taking::Waiting(handle) = std::mem::replace(self, Taking::Done) else {
                unreachable!("matched above");
            };
            if let Err(e) = handle.outcome(at) {
                return Poll::Ready(Err(e)); // the error is cloned either way
            }
            match handle.release() {
                (slot, false) => return Poll::Ready(slot.copied(copy)),
                (slot, true) => *self = Taking::Moving(slot),
            }
        }
        match std::mem::replace(self, Taking::Done) {
            Taking::Moving(slot) => match Slot::try_move(slot) {
                Ok(outcome) => Poll::Ready(outcome.map(take)),
                Err(slot) => {
                    // The promise lets go within a few instructions: poll again soon,
                    // instead of holding this thread until it does.
                    *self = Taking::Moving(slot);
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            },
            Taking::Waiting(_) => unreachable!("left above"),
            Taking::Done => panic!("a `Take` polled after it completed"),
        }
    }

    fn forget(&self, key: &mut Option<u64>) {
        if let Taking::Waiting(handle) = self {
            handle.forget(key);
        }
    }

    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Taking::Waiting(handle) => debug_slot("Take", handle, f),
            Taking::Moving(slot) => debug_slot("Take", slot, f),
            Taking::Done => f.write_str("Take(done)"),
        }
    }
}

impl<T> Take<T> {
    #[track_caller]
    fn new(source: Taken<T>) -> Self {
        Take {
            source,
            key: None,
            at: Location::caller(),
        }
    }
}

impl<T> Future for Take<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every poll: a task may move to another of its executor's threads between two.
        shutdown::note_async_thread();
        let this = self.get_mut();
        match &mut this.source {
            Taken::Half { taking, take, copy } => {
                taking.poll(&mut this.key, this.at, cx, *take, *copy)
            }
            Taken::Value { taking, copy } => {
                taking.poll(&mut this.key, this.at, cx, |value| value, *copy)
            }
        }
    }
}

impl<T> Drop for Take<T> {
    fn drop(&mut self) {
        match &self.source {
            Taken::Half { taking, .. } => taking.forget(&mut self.key),
            Taken::Value { taking, .. } => taking.forget(&mut self.key),
        }
    }
}

/// Never blocks: the request awaited and its state.
impl<T> fmt::Debug for Take<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Taken::Half { taking, .. } => taking.debug(f),
            Taken::Value { taking, .. } => taking.debug(f),
        }
    }
}

/// `response.await`: the response by value, as [`LazyResponse::into_result`] gives it.
impl IntoFuture for LazyResponse {
    type Output = Result<Response, Error>;
    type IntoFuture = Take<Response>;

    #[track_caller]
    fn into_future(self) -> Take<Response> {
        Take::new(Taken::Half {
            taking: Taking::Waiting(self.slot),
            take: |e| e.response,
            copy: |e| e.response.clone(),
        })
    }
}

/// `content.await`: the body by value, as [`LazyContent::into_result`] gives it.
impl IntoFuture for LazyContent {
    type Output = Result<Vec<u8>, Error>;
    type IntoFuture = Take<Vec<u8>>;

    #[track_caller]
    fn into_future(self) -> Take<Vec<u8>> {
        Take::new(Taken::Half {
            taking: Taking::Waiting(self.slot),
            take: |e| e.content,
            copy: |e| e.content.clone(),
        })
    }
}

/// `lazy.await`: the value, as [`Lazy::into_result`] gives it.
impl<T: Clone> IntoFuture for Lazy<T> {
    type Output = Result<T, Error>;
    type IntoFuture = Take<T>;

    #[track_caller]
    fn into_future(self) -> Take<T> {
        Take::new(Taken::Value {
            taking: Taking::Waiting(self.slot),
            copy: T::clone,
        })
    }
}

/// `(&response).await`: the response, borrowed, as [`LazyResponse::wait`] gives it.
impl<'a> IntoFuture for &'a LazyResponse {
    type Output = Result<&'a Response, Error>;
    type IntoFuture = Wait<'a, Response>;

    #[track_caller]
    fn into_future(self) -> Wait<'a, Response> {
        Wait::new(self)
    }
}

/// `(&content).await`: the body, borrowed, as [`LazyContent::wait`] gives it.
impl<'a> IntoFuture for &'a LazyContent {
    type Output = Result<&'a [u8], Error>;
    type IntoFuture = Wait<'a, [u8]>;

    #[track_caller]
    fn into_future(self) -> Wait<'a, [u8]> {
        Wait::new(self)
    }
}

/// `(&lazy).await`: the value, borrowed, as [`Lazy::wait`] gives it.
impl<'a, T: Send + Sync> IntoFuture for &'a Lazy<T> {
    type Output = Result<&'a T, Error>;
    type IntoFuture = Wait<'a, T>;

    #[track_caller]
    fn into_future(self) -> Wait<'a, T> {
        Wait::new(self)
    }
}

/// `download.await`: the outcome by value, as [`Download::into_result`] gives it.
impl IntoFuture for Download {
    type Output = Result<Downloaded, Error>;
    type IntoFuture = Take<Downloaded>;

    #[track_caller]
    fn into_future(self) -> Take<Downloaded> {
        self.into_outcome().into_future()
    }
}

/// `(&download).await`: the outcome, borrowed, as [`Download::wait`] gives it.
impl<'a> IntoFuture for &'a Download {
    type Output = Result<&'a Downloaded, Error>;
    type IntoFuture = Wait<'a, Downloaded>;

    #[track_caller]
    fn into_future(self) -> Wait<'a, Downloaded> {
        self.outcome().into_future()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use std::borrow::Cow;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    use crate::lazy;
    use crate::promise::{Promise, Requested};

    /// A waker that counts its wakes.
    #[derive(Default)]
    pub(crate) struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Counter {
        pub(crate) fn woken(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    pub(crate) fn counter() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter::default());
        (counter.clone(), Waker::from(counter))
    }

    fn slot<T>() -> Arc<Slot<T>> {
        Slot::new(Requested {
            id: 1,
            method: Cow::Borrowed("GET"),
            url: "http://127.0.0.1/".to_owned(),
            location: Location::caller(),
        })
    }

    fn exchange(body: &[u8]) -> Exchange {
        Exchange {
            response: Response::new(200),
            content: body.to_vec(),
        }
    }

    fn poll<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_future_polled_again_replaces_its_waker() {
        let slot = slot();
        let (response, _content) = lazy::pair(slot.clone());
        let mut future = (&response).into_future();
        let (first, first_waker) = counter();
        let (second, second_waker) = counter();
        assert!(poll(&mut future, &first_waker).is_pending());
        assert!(poll(&mut future, &first_waker).is_pending());
        assert!(poll(&mut future, &second_waker).is_pending());
        assert_eq!(
            slot.wakers(),
            1,
            "one entry per future, however often polled"
        );
        slot.fill(Ok(exchange(b"body")));
        assert_eq!((first.woken(), second.woken()), (0, 1), "the latest waker");
        let Poll::Ready(Ok(r)) = poll(&mut future, &second_waker) else {
            panic!("ready once filled")
        };
        assert_eq!(r.status, 200);
    }

    #[test]
    fn a_future_dropped_before_the_fill_leaves_no_waker() {
        let slot = slot();
        let (response, content) = lazy::pair(slot.clone());
        let (_, waker) = counter();
        let mut borrowed = (&content).into_future();
        let mut taken = response.clone().into_future();
        assert!(poll(&mut borrowed, &waker).is_pending());
        assert!(poll(&mut taken, &waker).is_pending());
        assert_eq!(slot.wakers(), 2);
        drop(borrowed);
        drop(taken);
        assert_eq!(slot.wakers(), 0);
        assert!(!LazyResponse::is_ready(&response));
    }

    #[test]
    fn the_last_handle_moves_the_body_and_others_copy_it() {
        let slot = slot();
        let (response, content) = lazy::pair(slot.clone());
        let filled = exchange(&[7; 1000]);
        let buffer = filled.content.as_ptr();
        slot.fill(Ok(filled));
        drop(slot);
        let (_, waker) = counter();
        let copied = content.clone().into_future();
        let Poll::Ready(Ok(copy)) = poll(&mut { copied }, &waker) else {
            panic!("ready")
        };
        assert_ne!(copy.as_ptr(), buffer, "another handle was alive: a copy");
        let Poll::Ready(Ok(r)) = poll(&mut response.into_future(), &waker) else {
            panic!("ready")
        };
        assert_eq!(r.status, 200);
        let Poll::Ready(Ok(body)) = poll(&mut content.into_future(), &waker) else {
            panic!("ready")
        };
        assert_eq!(body.as_ptr(), buffer, "the last handle: moved, not copied");
    }

    #[test]
    fn the_last_handle_waits_for_the_promise_to_let_go() {
        let slot = slot::<Vec<u8>>();
        let lazy = Lazy::new(slot.clone());
        let promise = Promise::new(slot.clone());
        drop(slot);
        let value = vec![1u8; 64];
        let buffer = value.as_ptr();
        let (counter, waker) = counter();
        let mut future = lazy.into_future();
        assert!(poll(&mut future, &waker).is_pending());
        // Filled, but the promise still holds the slot, as it does for a moment on a driver.
        promise.fill_and_hold(Ok(value));
        assert_eq!(counter.woken(), 1);
        assert!(
            poll(&mut future, &waker).is_pending(),
            "not taken from the promise"
        );
        assert_eq!(counter.woken(), 2, "polled again soon");
        drop(promise);
        let Poll::Ready(Ok(taken)) = poll(&mut future, &waker) else {
            panic!("ready once the promise let go")
        };
        assert_eq!(taken.as_ptr(), buffer);
    }

    #[test]
    fn of_clones_given_up_exactly_one_is_the_last() {
        let slot = slot::<String>();
        let lazy = Lazy::new(slot.clone());
        slot.fill(Ok("value".to_owned()));
        drop(slot);
        let clones: Vec<_> = (0..8).map(|_| lazy.clone()).collect();
        drop(lazy);
        let taken: Vec<_> = std::thread::scope(|s| {
            let threads: Vec<_> = clones
                .into_iter()
                .map(|clone| s.spawn(move || Lazy::into_inner(clone)))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let some: Vec<_> = taken.into_iter().flatten().collect();
        assert_eq!(some.len(), 1);
        assert_eq!(some[0].as_deref().unwrap(), "value");
    }

    #[test]
    fn a_failed_request_comes_out_of_await_as_its_error() {
        let slot = slot();
        let (response, content) = lazy::pair(slot.clone());
        slot.fill(Err(Error::Closed));
        let (_, waker) = counter();
        let Poll::Ready(Err(Error::Closed)) = poll(&mut (&content).into_future(), &waker) else {
            panic!("the stored error")
        };
        let Poll::Ready(Err(Error::Closed)) = poll(&mut response.into_future(), &waker) else {
            panic!("the stored error")
        };
    }

    static_assertions::assert_impl_all!(Take<Response>: Send, Unpin);
    static_assertions::assert_impl_all!(Take<Vec<u8>>: Send, Unpin);
    static_assertions::assert_impl_all!(Wait<'static, Response>: Send, Unpin);
    static_assertions::assert_impl_all!(Wait<'static, [u8]>: Send, Unpin);
    static_assertions::assert_impl_all!(Take<Downloaded>: Send, Unpin);
    static_assertions::assert_impl_all!(Wait<'static, Downloaded>: Send, Unpin);
}
