//! Talking to a Redis: the connection ([`connect`]: where, how long a call may take, the
//! prefix of every key, what an outage does) and the one thread of a client that makes the
//! calls ([`link`]), so that no request's thread waits on Redis.

pub(crate) mod connect;
pub(crate) mod link;
