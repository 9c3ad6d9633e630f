//! Talking to a Redis: the connection ([`connect`]: where, how long a call may take, the
//! prefix of every key, what an outage does), the one thread of a client that makes the
//! calls ([`link`]), so that no request's thread waits on Redis, and a subscriber to a
//! channel ([`listen`]).

pub(crate) mod connect;
pub(crate) mod link;
pub(crate) mod listen;
