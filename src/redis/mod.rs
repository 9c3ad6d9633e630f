//! Redis, for the state that clients in several processes and machines share (feature
//! `redis`):
//!
//! - `connect`: where Redis is (one server or a cluster), the key prefix, the timeouts, and
//!   connections reused between calls;
//! - `outage`: what a call does while Redis does not answer, and how that is logged.

mod connect;
mod outage;

pub(crate) use connect::{Redis, Settings};
