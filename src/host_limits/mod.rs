//! Per-host limits: at most so many requests of one host at once, at most so many a second,
//! slower still while the host answers 429 or 503. A request held back waits in its host's
//! line, holding no thread and no place in the pool, until its host lets it through.
//!
//! From the bottom up, one concept a file:
//! - [`value`]: [`HostLimits`], the public value given to the builder, and which limits a
//!   host follows;
//! - [`bucket`]: a host's token bucket, and how an adaptive rate slows down and recovers;
//! - [`lines`]: each host's line, its requests in flight and its bucket, as a state machine
//!   that only counts and queues, the clock handed in;
//! - [`limiter`]: a client's lines wired to its pool ([`HostLimiter`]): what a host lets
//!   through goes to the pool's queue, and the pool's timer pumps the lines;
//! - [`place`]: a request's place in its host's line ([`HostPlace`]), from its submission
//!   until its job is done, and how each attempt ended ([`outcome`]);
//! - `shared` (the `redis` feature): the same limits held by a fleet of processes through
//!   a Redis, a second line after each process's own.

mod bucket;
mod limiter;
mod lines;
mod place;
#[cfg(feature = "redis")]
mod shared;
mod value;

pub(crate) use limiter::HostLimiter;
pub(crate) use lines::Outcome;
pub(crate) use place::{HostPlace, outcome};
#[cfg(feature = "redis")]
pub use shared::RedisLimits;
pub use value::HostLimits;
