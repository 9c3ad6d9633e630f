//! One integration binary: each test module shares the loopback servers of `support`.

mod auth;
mod basics;
mod batch;
#[cfg(unix)]
mod cache_files;
mod cache_store;
mod caching;
mod deadlines;
mod error_kinds;
mod faults;
#[cfg(feature = "json")]
mod json;
mod keepalive;
mod pool;
mod proxies;
mod queue;
mod redirects;
mod support;
mod tls;
