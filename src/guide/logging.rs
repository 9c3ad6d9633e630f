//! Logging: what the crate says, under which targets and levels.
//!
//! ```sh
//! RUST_LOG=asynchttp=debug cargo run --example logging
//! ```
//!
//! Through the [`log`](https://docs.rs/log) crate, under targets that start with
//! `asynchttp`, so `RUST_LOG=asynchttp=debug` shows everything with `env_logger`. Every line
//! about a request carries `req=<id>` ([`LazyResponse::id`] gives it for a pair), and every
//! message starts with the name of the thread that wrote it, in brackets, so that any
//! logger shows it, env_logger's default format included. A format that prints thread
//! names itself would print them twice; `examples/logging.rs` shows one that does not. The
//! `finished` line gives the time the request ran and the time spent queued before it, so a
//! request that was slow only because others were ahead of it shows as such, then the
//! parts of its [`Timings`] that were measured (the phases with [`HttpBuilder::timings`]):
//!
//! ```text
//! [main] req=7 queued GET http://127.0.0.1:8080/get
//! [asynchttp-driver-2] req=7 started GET http://127.0.0.1:8080/get
//! [asynchttp-driver-2] req=7 finished GET http://127.0.0.1:8080/get -> 200 (100 bytes) in 412.3µs (queued 41.0µs, first byte 398.1µs, dns 30.2µs, connect 95.7µs)
//! ```
//!
//! | level | what |
//! |-------|------|
//! | ERROR | a driver or worker could not start, or a request panicked outside its callback |
//! | WARN  | a setting that could not be applied |
//! | DEBUG | each request queued, started, finished (status, bytes, time), retried or failed; a stale stored response given in place of a failure, with the failure; a stored error read back, with where the request was made; drivers and workers started and stopped; the first blocking wait on a thread that has awaited the crate's futures, with where it blocked |
//!
//! Header values and bodies are never logged; query strings are left out of log lines.
//!
//! [`HttpBuilder::timings`]: crate::HttpBuilder::timings
//! [`LazyResponse::id`]: crate::LazyResponse::id
//! [`Timings`]: crate::Timings
