//! Retries and per-host limits (shared by a fleet of processes through Redis, with the
//! `redis` feature), beside urllib3's `Retry` mounted on a requests session and
//! what requests-toolbelt's threaded pool leaves to you.
//!
//! A [`Retry`] policy ([`HttpBuilder::retry`], [`Request::retry`]) sends a request again after
//! a failure to connect, a timeout, a cut body or a 429/502/503/504, with jittered exponential
//! backoff, `Retry-After` honoured within a cap, every wait inside the request's one deadline,
//! and a [`RetryBudget`] per client. [`HostLimits`] ([`HttpBuilder::per_host`]) caps each
//! host's requests in flight and paces them with a token bucket that a 429 or 503 slows.
//! Neither holds a thread while a request waits: the pool's timer thread holds every waiting
//! request.
//!
//! ```python
//! import requests
//! from requests.adapters import HTTPAdapter
//! from urllib3.util.retry import Retry
//!
//! retry = Retry(total=3, backoff_factor=0.1, status_forcelist=[429, 502, 503, 504],
//!               respect_retry_after_header=True)       # a Retry-After: 3600 sleeps an hour
//! session = requests.Session()
//! session.mount("http://", HTTPAdapter(max_retries=retry, pool_maxsize=4))
//! # requests-toolbelt: threaded.map(requests, num_processes=16) has no per-host cap or rate
//! ```
//!
//! ```no_run
//! use std::time::Duration;
//! use asynchttp::{HostLimits, Http, Retry};
//!
//! let http = Http::builder()
//!     .workers(16)
//!     .timeout(Duration::from_secs(30))          // one deadline: every attempt and wait counts
//!     .retry(Retry::new(3))                      // 429/502/503/504, connect, timeouts, cut bodies
//!     .per_host(
//!         HostLimits::new()
//!             .in_flight(4)                      // at most 4 at once per host
//!             .rate(10.0, 1)                     // 10 a second per host, never more in any second
//!             .adaptive(true)                    // a 429/503 halves it, Retry-After pauses it
//!             .host("api.example.com:443", HostLimits::new().rate(2.0, 1)),
//!     )
//!     .build()?;
//! let batch = http.batch((0..10_000).map(|i| format!("http://127.0.0.1:8080/item/{i}")));
//! batch.join_all();
//! println!("{} retries", batch.progress().retries);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! | urllib3 `Retry` / requests / toolbelt | asynchttp |
//! |---|---|
//! | `Retry(total=3)` | `Retry::new(3)`: up to 4 attempts |
//! | `status_forcelist=[...]` (empty by default) | `.statuses([...])`; 429, 502, 503, 504 by default |
//! | `allowed_methods` (idempotent by default) | idempotent only, `.any_method(true)` to opt a request in; a refused connection is retried for any method, since nothing was sent |
//! | `backoff_factor`, `backoff_max`, `backoff_jitter` | `.backoff(base, max)`: always full jitter, between 0 and `base × 2ⁿ⁻¹` |
//! | `respect_retry_after_header=True`: any length, sleeps it | honoured up to `.max_retry_after(60 s)`; longer, or past the request's deadline, returns the response at once |
//! | sleeps on the calling thread | the request waits in the pool's timer: no thread, no worker held |
//! | no budget: a dead host gets every request `total + 1` times | a per-client budget ([`RetryBudget`]: a fifth of the requests, beyond a reserve of 10) |
//! | `response.raw.retries.history` | `response.attempts`; `batch.progress().retries`; a `req=7 retry 2/3 after 412ms: 503` debug line per retry |
//! | `pool_maxsize` (connections, not requests) | `HostLimits::in_flight(n)`: requests at once per host |
//! | no rate limit (toolbelt declined one) | `HostLimits::rate(per_second, burst)`: a token bucket per host, `.adaptive(true)` (below) |
//! | `Pool.from_exceptions(exceptions)` | `batch.retry_exceptions()`, unchanged: a second batch, by hand |
//!
//! Retries are off by default, as in httplib2; a request's own [`Request::retry`] wins over
//! the client's, and `Retry::none()` opts it out. A request held back by its host waits as
//! [`HttpBuilder::per_host`] says, and never holds up other hosts. A download
//! ([`Http::send_to`]) is never sent again: a broken one resumes with
//! [`Destination::resume`]. `fetch --retries N --per-host N --rate R` does the same from the
//! command line ([the fetch command](super::batches#the-fetch-command)).
//!
//! # A server's "N requests a second"
//!
//! Give the rate a burst of 1: `rate(N, 1)` never starts more than N of a host's requests in
//! any second (leave a margin, such as `rate(0.9 * N, 1)`, for a server that counts arrivals
//! strictly over a sliding second: see [`HostLimits::rate`]). A larger burst comes on top of
//! the rate (fewer than `burst + N × w` in any `w` seconds): `rate(5.0, 5)` lets 5 go at once
//! after a rest, then 5 a second, so up to 9 in the first second.
//!
//! # Limits shared by a fleet
//!
//! Each process keeps its own lines: ten processes each limited to 2 a second send 20 a
//! second to the same host. With the `redis` feature, `HostLimits::shared` hands the same
//! limits to every process pointing at one Redis (and key prefix), and the host sees 2 a
//! second between them:
//!
//! ```no_run
//! # #[cfg(feature = "redis")] {
//! use std::time::Duration;
//! use asynchttp::{HostLimits, Http, RedisLimits};
//!
//! let redis = RedisLimits::new("redis://10.0.0.5:6379/")
//!     .prefix("crawler")                    // processes with the same prefix share limits
//!     .timeout(Duration::from_millis(250))  // each call; slower counts as away (the default)
//!     .lease(Duration::from_secs(10));      // a dead process's places come back within 10 s
//! let http = Http::builder()
//!     .per_host(
//!         HostLimits::new()
//!             .host("api.example.com:443", HostLimits::new().in_flight(2).rate(10.0, 1).adaptive(true))
//!             .shared(redis),
//!     )
//!     .build()
//!     .expect("a valid Redis URL");
//! # }
//! ```
//!
//! `RedisLimits::cluster(["redis://node-a:7000/", "redis://node-b:7000/"])` names a Redis
//! Cluster instead; each host's keys share a hash tag, so its limits live on one node.
//! What is shared, and how:
//!
//! - **Requests in flight** are leases: a request takes one from Redis before it starts
//!   (a sorted set per host, each lease scored by its expiry; expired ones are purged by the
//!   same script that counts them) and gives it back as it ends. While it runs, its
//!   process renews it every third of the lease's length, so a long download keeps its
//!   place; a process killed, or cut off from Redis, holds its places for one lease at most.
//!   A client dropped gives back what it holds before its drop returns.
//! - **The rate and burst** are one token bucket per host, kept in Redis on Redis's clock,
//!   so that processes whose clocks differ still agree.
//! - **Adaptivity**: a 429 or 503 seen by any process halves the host's shared rate, and
//!   its `Retry-After` pauses every process; successes speed it up again, by the rules of
//!   [`HostLimits::adaptive`].
//!
//! Each step is one Lua script, atomic on the server (EVALSHA; a Redis that restarted is
//! sent them again). A request waiting for the fleet holds no thread: it waits in its
//! host's line in its own process, which asks Redis again when Redis says the next token is
//! due or the pause ends, and as soon as a place of the host is given back: by one of the
//! process's own requests, or by another process's (Redis tells it on a channel, to
//! processes that wait; a thread of the client's, `asynchttp-redis-listen`, listens, and
//! the line asks again every 250 ms in case a message was lost). Requests of one process start in
//! the order they were made; between processes there is no order, only the limits. Each
//! process keeps its own limits too, with the same values, so a request passes its
//! process's line first, then the fleet's. Hosts without limits never ask Redis.
//!
//! What it costs: one call to Redis as a limited request starts and one as it ends (when
//! in flight is capped, or the host is adaptive), each a round trip on one thread of the
//! client's, `asynchttp-redis`, so that no request's thread waits on the network; a
//! renewal per host every third of a lease while its requests run; a message to every
//! process of the fleet for each place given back while some process waits for one. `benches/fleet.sh`
//! measures it (README, "Benchmarks").
//!
//! **When Redis is away** (down, unreachable, or slower than the timeout), every process
//! goes by its own limits alone: nothing fails and nothing waits because of Redis, beyond
//! the one call that found it away, but the fleet-wide cap becomes a per-process one (ten
//! processes limited to 2 a second send up to 20 a second between them) until Redis is
//! back. The client logs one warning as Redis goes (`redis redis://10.0.0.5:6379/ is away
//! (…): going on without it`) and one info line as it comes back (`… is back after 3.2s`),
//! as a [`RedisCache`] does; meanwhile it tries Redis again once a second. A Redis that
//! restarted empty starts every host afresh: the requests already running hold no lease in it, so for a moment
//! the fleet may run up to twice its cap.
//!
//! [`Destination::resume`]: crate::Destination::resume
//! [`HostLimits`]: crate::HostLimits
//! [`HostLimits::adaptive`]: crate::HostLimits::adaptive
//! [`HostLimits::rate`]: crate::HostLimits::rate
//! [`Http::send_to`]: crate::Http::send_to
//! [`HttpBuilder::per_host`]: crate::HttpBuilder::per_host
//! [`HttpBuilder::retry`]: crate::HttpBuilder::retry
//! [`Request::retry`]: crate::Request::retry
//! [`Retry`]: crate::Retry
//! [`RetryBudget`]: crate::RetryBudget
#![cfg_attr(feature = "redis", doc = "[`RedisCache`]: crate::RedisCache")]
#![cfg_attr(
    not(feature = "redis"),
    doc = "[`RedisCache`]: https://docs.rs/asynchttp/latest/asynchttp/struct.RedisCache.html"
)]
