//! Redis, for the state that clients in several processes and machines share (feature
//! `redis`): the cache's entries ([`RedisCache`](crate::RedisCache)) and the per-host limits
//! of a fleet ([`RedisLimits`](crate::RedisLimits)).
//!
//! - `connect`: where Redis is (one server or a cluster), the key prefix, the timeouts, and
//!   connections reused between calls;
//! - `outage`: what a call does while Redis does not answer, and how that is logged;
//! - `link`: the one thread of a client that makes the shared limits' calls, so that no
//!   request's thread waits on Redis;
//! - `listen`: a subscriber to a channel, on a thread of its own.

mod connect;
pub(crate) mod link;
pub(crate) mod listen;
mod outage;

pub(crate) use connect::{Redis, Settings};
