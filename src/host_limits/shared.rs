//! Host limits shared by a fleet of processes through a Redis (the `redis` feature): the
//! same [`HostLimits`](crate::HostLimits) held by every process pointing at one Redis,
//! atomically on the server, and each process's own limits when Redis is away.
//!
//! A request first passes its process's own line ([`lines`](super::lines)), as without
//! Redis, then its host's second line here, where it waits for the fleet: Redis gives it a
//! lease (its place among the host's requests in flight, fleet-wide, which expires unless
//! renewed, so a dead process's places come back) and a token of the host's shared bucket.
//! A 429 or 503 seen by any process slows them all.
//!
//! - [`settings`]: [`RedisLimits`], the public value: where the Redis is, the keys' prefix,
//!   the timeout of a call, a lease's length;
//! - [`scripts`]: the Lua scripts that keep each host's leases and bucket in Redis;
//! - [`queue`]: each host's second line, as a state machine that only counts and queues;
//! - [`fleet`]: the lines wired to the Redis thread, the pool's timer and the limiter.

mod fleet;
mod queue;
mod scripts;
mod settings;

pub(crate) use fleet::{Fleet, Through};
pub use settings::RedisLimits;
