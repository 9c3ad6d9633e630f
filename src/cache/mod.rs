//! The HTTP cache: where entries are kept ([`Cache`], [`FileCache`], [`MemoryCache`]),
//! what an entry holds, RFC 9111's rules for a private cache, and a request's way through
//! them.
//!
//! - `storage`: the public store trait and its two stores, bytes under a URL;
//! - `redis`: the store in Redis (feature `redis`);
//! - `frame`: the checksum around a stored value, by which a store knows its own;
//! - `entry`: one stored response as those bytes;
//! - `policy`: what may be stored, freshness, age, validation, updates;
//! - `range`: a `Range` answered from a complete stored body;
//! - `flow`: a request through the cache, by method, and (`flow::permanent`) the
//!   permanent redirects it keeps.

mod entry;
pub(crate) mod flow;
mod frame;
mod policy;
mod range;
#[cfg(feature = "redis")]
mod redis;
mod storage;

#[cfg(feature = "redis")]
pub use self::redis::{RedisCache, RedisCacheBuilder};
pub use storage::{Cache, FileCache, MemoryCache};
