//! The manual, in chapters: recipes for each part of the crate, beside the Python they
//! replace. The crate root's [table](crate#the-manual) says what each chapter covers;
//! coming from asynchttp or httplib2, start with [`port`].
//!
//! These modules hold documentation only. Every Rust example in them is compiled by
//! `cargo test --doc`; those that need a server on 127.0.0.1 are compiled and not run.

pub mod async_code;
pub mod batches;
pub mod cache;
pub mod compression;
pub mod connect;
pub mod cookies;
pub mod differences;
pub mod downloads;
pub mod forms;
pub mod hooks;
pub mod limits;
pub mod logging;
pub mod port;
pub mod retries;
pub mod testing;
pub mod timings;
pub mod uploads;
