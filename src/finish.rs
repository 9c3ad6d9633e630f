//! What a request's final exchange becomes: the value its slot holds, and whether making
//! it may run where nothing may block (which decides, with the rest of the request, whether
//! a driver may run it).

use crate::Error;
use crate::exchange::Exchange;

/// What turns a request's exchange into the value its slot holds, and whether that may run
/// where nothing may block: on a driver, or on the submitting thread for a fresh cache entry.
pub(crate) trait Finish<T>: Send + 'static {
    /// It runs none of the caller's code and never blocks.
    const ON_ANY_THREAD: bool;

    /// The slot's value, from the request's final exchange.
    fn finish(self, exchange: Exchange) -> Result<T, Error>;
}

/// The pair's finish: the exchange as it came.
pub(crate) struct AsIs;

impl Finish<Exchange> for AsIs {
    const ON_ANY_THREAD: bool = true;

    fn finish(self, exchange: Exchange) -> Result<Exchange, Error> {
        Ok(exchange)
    }
}

/// A function's finish (the caller's own, a download's landing, JSON decoding): it may block
/// or take long, so it runs on a worker.
impl<T, F> Finish<T> for F
where
    F: FnOnce(Exchange) -> Result<T, Error> + Send + 'static,
{
    const ON_ANY_THREAD: bool = false;

    fn finish(self, exchange: Exchange) -> Result<T, Error> {
        self(exchange)
    }
}
