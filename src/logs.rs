//! The crate's log lines: every one starts with the name of the thread that wrote it, in
//! brackets, so that any logger shows which worker did what (see the crate docs, "Logging").
//! The target stays the module that logs, under `asynchttp`.

use std::fmt;
use std::thread;

/// Formats as the current thread's name.
pub(crate) struct ThreadName;

impl fmt::Display for ThreadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(thread::current().name().unwrap_or("unnamed"))
    }
}

/// `log::debug!` with the thread's name in front.
macro_rules! debug {
    ($($arg:tt)+) => {
        log::debug!("[{}] {}", $crate::logs::ThreadName, format_args!($($arg)+))
    };
}

/// `log::info!` with the thread's name in front.
#[cfg_attr(not(feature = "redis"), allow(unused_macros))]
macro_rules! info {
    ($($arg:tt)+) => {
        log::info!("[{}] {}", $crate::logs::ThreadName, format_args!($($arg)+))
    };
}

/// `log::warn!` with the thread's name in front.
macro_rules! warning {
    ($($arg:tt)+) => {
        log::warn!("[{}] {}", $crate::logs::ThreadName, format_args!($($arg)+))
    };
}

/// `log::error!` with the thread's name in front.
macro_rules! error {
    ($($arg:tt)+) => {
        log::error!("[{}] {}", $crate::logs::ThreadName, format_args!($($arg)+))
    };
}

#[cfg_attr(not(feature = "redis"), allow(unused_imports))]
pub(crate) use info;
pub(crate) use {debug, error, warning};
