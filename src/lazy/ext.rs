//! [`LazyExt`]: the lazy handles' own operations as methods, for code that would rather
//! not name the types; each forwards to the associated function of the same name.

use std::time::Duration;

use super::{Lazy, LazyContent, LazyResponse};
use crate::{Error, Response};

mod sealed {
    // Public in a private module: nameable by no other crate, so none can implement it.
    #[allow(unreachable_pub)]
    /// Implemented by the lazy types alone, so that [`LazyExt`](super::LazyExt) can grow.
    pub trait Sealed {}

    impl Sealed for super::LazyResponse {}
    impl Sealed for super::LazyContent {}
    impl<T> Sealed for super::Lazy<T> {}
}

/// The lazy types' own operations as methods: `response.wait()`,
/// `content.into_result()`, `lazy.is_ready()`, for code that would rather not name the
/// types. Bring it in with `use asynchttp::prelude::*`.
///
/// Each method is the associated function of the same name ([`LazyResponse::wait`],
/// [`LazyContent::into_result`], [`Lazy::into_inner`], ...). Those stay the way that
/// always works: with this trait in scope, a method of the same name on the value behind
/// the handle (a `wait` of your own `T` in a [`Lazy<T>`]) is shadowed by the handle's, and
/// is reached as `(*lazy).wait()`.
///
/// # Examples
///
/// ```
/// use asynchttp::Http;
/// use asynchttp::prelude::*;
///
/// let http = Http::new();
/// let (response, content) = http.request("ftp://127.0.0.1/"); // refused at once
/// assert!(response.is_ready());
/// assert!(response.wait().is_err());
/// drop(response);
/// assert!(content.into_result().is_err());
/// ```
pub trait LazyExt: sealed::Sealed + Sized {
    /// What the handle derefs to: [`Response`], `[u8]`, or a [`Lazy`]'s `T`.
    type Target: ?Sized;
    /// What taking the outcome gives: [`Response`], `Vec<u8>`, or `T`.
    type Owned;

    /// Blocks until the request is done; see [`LazyResponse::wait`].
    ///
    /// # Errors
    ///
    /// The request's [`Error`].
    fn wait(&self) -> Result<&Self::Target, Error>;

    /// As [`wait`](Self::wait), giving up after `timeout`; see
    /// [`LazyResponse::wait_timeout`].
    fn wait_timeout(&self, timeout: Duration) -> Option<Result<&Self::Target, Error>>;

    /// True once the request is done; never blocks. See [`LazyResponse::is_ready`].
    fn is_ready(&self) -> bool;

    /// Blocks until done and gives the outcome by value: moved out from the last handle,
    /// cloned otherwise. See [`LazyResponse::into_result`].
    ///
    /// # Errors
    ///
    /// The request's [`Error`].
    fn into_result(self) -> Result<Self::Owned, Error>
    where
        Self::Owned: Clone;

    /// The outcome, moved out, if this is the last handle (blocking until done); `None` at
    /// once otherwise. See [`Lazy::into_inner`].
    fn into_inner(self) -> Option<Result<Self::Owned, Error>>;
}

macro_rules! lazy_ext {
    ([$($generics:tt)*] $lazy:ty, $target:ty, $owned:ty) => {
        impl<$($generics)*> LazyExt for $lazy {
            type Target = $target;
            type Owned = $owned;

            #[track_caller]
            fn wait(&self) -> Result<&$target, Error> {
                <$lazy>::wait(self)
            }

            fn wait_timeout(&self, timeout: Duration) -> Option<Result<&$target, Error>> {
                <$lazy>::wait_timeout(self, timeout)
            }

            fn is_ready(&self) -> bool {
                <$lazy>::is_ready(self)
            }

            #[track_caller]
            fn into_result(self) -> Result<$owned, Error>
            where
                $owned: Clone,
            {
                <$lazy>::into_result(self)
            }

            #[track_caller]
            fn into_inner(self) -> Option<Result<$owned, Error>> {
                <$lazy>::into_inner(self)
            }
        }
    };
}

lazy_ext!([] LazyResponse, Response, Response);
lazy_ext!([] LazyContent, [u8], Vec<u8>);
lazy_ext!([T] Lazy<T>, T, T);
