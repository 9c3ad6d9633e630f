//! One integration binary: each test module shares the loopback servers of `support`.

mod auth;
mod awaiting;
mod basics;
mod batch;
#[cfg(unix)]
mod cache_files;
mod cache_rfc;
mod cache_store;
mod caching;
mod codings;
mod connect;
mod cookies;
mod deadlines;
mod digest_race;
mod download;
mod download_await;
mod encoders;
mod error_kinds;
mod faults;
mod forms;
#[cfg(feature = "redis")]
mod gauge;
mod hooks;
mod http2;
mod idle;
#[cfg(feature = "json")]
mod json;
mod keepalive;
mod mock;
mod mock_rules;
mod netrc;
mod per_host;
mod pool;
mod proxies;
mod proxy_refusal;
mod queue;
mod rate;
mod redirects;
#[cfg(feature = "redis")]
mod redis_cache;
#[cfg(feature = "redis")]
mod redis_limits;
#[cfg(feature = "redis")]
mod redis_server;
mod retries;
mod stale_on_error;
mod support;
mod timeouts;
mod timings;
mod tls;
mod tls_reasons;
#[cfg(unix)]
mod unix_socket;
mod upload;
