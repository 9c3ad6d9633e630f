//! A blocking wait on an async executor's thread, told in the debug log. Dereferencing a
//! pair or waiting on a download there holds up every task of that thread until the request
//! is done (a tokio runtime of one thread stops outright), and nothing else shows it: the
//! request itself is fine. The line names `.await`, the way that does not block.
//!
//! It is said once per thread, however often that thread blocks, so that a loop of blocking
//! reads does not flood the log: the first one is where to look.

use std::cell::Cell;
use std::fmt;
use std::panic::Location;

use crate::{logs, shutdown};

thread_local! {
    /// True once this thread has been told of a blocking wait.
    static TOLD: Cell<bool> = const { Cell::new(false) };
}

/// About to block this thread in `what`, called at `at`: on an async executor's thread
/// (see [`shutdown::on_executor_thread`]), the first time, a debug line says so.
pub(crate) fn about_to_block(what: fmt::Arguments<'_>, at: &Location<'_>) {
    if shutdown::on_executor_thread() && !TOLD.with(|told| told.replace(true)) {
        logs::debug!(
            "{what} blocks at {at} on a thread that has awaited this crate's futures (an async \
             executor's), holding up every task it runs until it returns: `.await` it instead \
             (said once per thread)"
        );
    }
}
