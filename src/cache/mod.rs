//! The HTTP cache: where entries are kept ([`Cache`], [`FileCache`], [`MemoryCache`]),
//! what an entry holds, RFC 9111's rules for a private cache, and a request's way through
//! them.
//!
//! - `storage`: the public store trait and its two stores, bytes under a URL;
//! - `entry`: one stored response as those bytes;
//! - `policy`: what may be stored, freshness, age, validation, updates;
//! - `range`: a `Range` answered from a complete stored body;
//! - `flow`: a request through the cache, by method, and (`flow::permanent`) the
//!   permanent redirects it keeps.

mod entry;
pub(crate) mod flow;
mod policy;
mod range;
mod storage;

pub use storage::{Cache, FileCache, MemoryCache};
