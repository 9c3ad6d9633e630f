//! Where Redis is and how it is called: one server or a cluster, the key prefix, a timeout
//! on every call, and connections kept between calls. The cache's calls (from its worker
//! threads) and the shared limits' (from their one thread, [`link`](super::link)) are made
//! the same way, through a [`Redis`]; a subscriber's connection is made from the same
//! [`Settings`].
//!
//! A call takes an idle connection, or opens one within the connect timeout; each read and
//! write on it is bounded by the response timeout. After the call the connection goes back
//! to the idle ones, unless the call failed for want of Redis: then it is dropped, since a
//! late answer on it would be read as the next call's, and so are the idle ones. A call on
//! a kept connection that Redis has closed since is made again on a new one. A cluster
//! connection is the redis crate's: it knows which node holds which key, follows `MOVED`
//! and `ASK`, and connects to the nodes it needs, each within the same timeouts.
//!
//! The idle connections are a stack under a lock rather than a pool crate's: a call blocks
//! on nothing but its own connection, and nothing runs in the background between calls.

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::{ConnectionLike, ErrorKind, RedisError, RedisResult};

use super::outage::Outage;
use crate::{sync, uri};

/// The connect and response timeouts unless set: Redis on the same network answers in
/// well under a millisecond, and a cache that waits longer than this costs more than a miss
/// (limits, more than going by the process's own for a while).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// Idle connections kept at most; more are closed after their call. Calls at once are as
/// many as the threads that make them, so this bounds only what is kept between bursts.
const IDLE_MAX: usize = 16;

/// Retries of a cluster command (after a `MOVED`, a reconnection), and the waits between
/// them: the redis crate's defaults wait seconds, far longer than a cache call may take.
const CLUSTER_RETRIES: u32 = 2;
const CLUSTER_RETRY_WAIT_MS: (u64, u64) = (5, 50);

/// How to reach Redis, as a builder collects it: a [`RedisCache`](crate::RedisCache)'s or a
/// [`RedisLimits`](crate::RedisLimits)'s. Its `Debug` shows no password.
#[derive(Clone, PartialEq)]
pub(crate) struct Settings {
    /// The server's URL, or for a cluster the URLs of some of its nodes.
    pub(crate) urls: Vec<String>,
    pub(crate) cluster: bool,
    /// Put in front of every key, so that applications sharing one Redis keep apart.
    pub(crate) prefix: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
}

impl Settings {
    /// One server, or a cluster given some of its nodes, with the default timeouts.
    pub(crate) fn new(urls: Vec<String>, cluster: bool, prefix: &str) -> Settings {
        Settings {
            urls,
            cluster,
            prefix: prefix.to_owned(),
            connect_timeout: DEFAULT_TIMEOUT,
            response_timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Why these settings name no Redis, if they do not: no URL, more than one for a single
    /// server, a URL the redis crate does not take, or a zero timeout. Said without
    /// passwords; nothing is connected to.
    pub(crate) fn refused(&self) -> Option<String> {
        if self.connect_timeout.is_zero() || self.response_timeout.is_zero() {
            return Some("redis: a timeout of zero would fail every call".to_owned());
        }
        let name = self.shown();
        match (self.cluster, self.urls.as_slice()) {
            (_, []) => return Some("redis: no URL given".to_owned()),
            (false, [_, _, ..]) => {
                return Some(format!(
                    "redis {name}: several URLs are a cluster's nodes; one server takes one"
                ));
            }
            _ => {}
        }
        self.urls.iter().find_map(|url| {
            let e = redis::Client::open(url.as_str()).err()?;
            Some(format!("redis {}: {e}", uri::redact(url)))
        })
    }

    /// `rest` with the prefix in front: the name a key has in Redis.
    pub(crate) fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// The URLs without user names and passwords, for log lines and errors.
    pub(crate) fn shown(&self) -> String {
        let urls: Vec<String> = self.urls.iter().map(|url| uri::redact(url)).collect();
        urls.join(",")
    }

    /// A plain connection to the first node, for a subscriber: a message published
    /// anywhere in a cluster reaches every node's subscribers. Reads wait `poll` at most.
    pub(crate) fn subscriber(&self, poll: Duration) -> RedisResult<redis::Connection> {
        let first = self.urls.first().map(String::as_str).unwrap_or_default();
        let connection =
            redis::Client::open(first)?.get_connection_with_timeout(self.connect_timeout)?;
        connection.set_read_timeout(Some(poll))?;
        connection.set_write_timeout(Some(self.response_timeout))?;
        Ok(connection)
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("at", &self.shown())
            .field("cluster", &self.cluster)
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

/// A Redis server or cluster, ready to be called from any thread.
pub(crate) struct Redis {
    server: Server,
    settings: Settings,
    /// The URLs without credentials, for log lines.
    name: String,
    idle: Mutex<Vec<Connection>>,
    outage: Outage,
}

enum Server {
    One(redis::Client),
    Cluster(ClusterClient),
}

type Connection = Box<dyn ConnectionLike + Send>;

impl Redis {
    /// Checks the settings; connects only when first called, so a Redis that is away at
    /// start is an outage like any other, not an error.
    ///
    /// # Errors
    ///
    /// `InvalidInput`: no URL, more than one for a single server, a URL the redis crate
    /// does not take, or a zero timeout.
    pub(crate) fn open(settings: Settings) -> io::Result<Redis> {
        if let Some(reason) = settings.refused() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, reason));
        }
        let name = settings.shown();
        let refused = |e: RedisError| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("redis {name}: {e}"))
        };
        let server = match settings.cluster {
            false => Server::One(redis::Client::open(settings.urls[0].as_str()).map_err(refused)?),
            true => Server::Cluster(
                ClusterClientBuilder::new(settings.urls.iter().map(String::as_str))
                    .connection_timeout(settings.connect_timeout)
                    .response_timeout(settings.response_timeout)
                    .retries(CLUSTER_RETRIES)
                    .min_retry_wait(CLUSTER_RETRY_WAIT_MS.0)
                    .max_retry_wait(CLUSTER_RETRY_WAIT_MS.1)
                    .build()
                    .map_err(refused)?,
            ),
        };
        Ok(Redis {
            server,
            settings,
            name,
            idle: Mutex::new(Vec::new()),
            outage: Outage::default(),
        })
    }

    /// `key` with the prefix in front: the name it has in Redis.
    pub(crate) fn key(&self, key: &str) -> String {
        self.settings.key(key)
    }

    /// Whether Redis is away: the last call failed for want of it, and none has answered
    /// since.
    pub(crate) fn is_away(&self) -> bool {
        self.outage.is_down()
    }

    /// Runs `call` on a connection, within the timeouts. `None` when Redis was not tried
    /// (within a pause after an outage) or the call failed; either is logged as the
    /// outage module says, so the caller only goes on without Redis.
    ///
    /// A connection kept from an earlier call may have been closed since (Redis restarted,
    /// or closed it for being idle): a call that finds it so is made once more on a new
    /// one, so `call` must be one that may be sent twice.
    pub(crate) fn call<T>(
        &self,
        call: impl Fn(&mut dyn ConnectionLike) -> RedisResult<T>,
    ) -> Option<T> {
        if !self.outage.may_try() {
            return None;
        }
        let mut kept = sync::lock(&self.idle).pop();
        let result = loop {
            let reused = kept.is_some();
            let result = match kept.take() {
                Some(connection) => Ok(connection),
                None => self.connect(),
            }
            .and_then(|mut connection| {
                let result = call(connection.as_mut());
                self.put_back(connection, &result);
                result
            });
            match &result {
                Err(e) if unreachable(e) => {
                    // The others were opened to the same Redis: as likely to be closed.
                    sync::lock(&self.idle).clear();
                    if reused && e.is_connection_dropped() {
                        continue;
                    }
                }
                _ => {}
            }
            break result;
        };
        match result {
            Ok(value) => {
                self.outage.answered(&self.name);
                Some(value)
            }
            Err(e) => {
                self.outage
                    .failed(&self.name, &self.described(&e), unreachable(&e));
                None
            }
        }
    }

    /// `error` for a log line: a timeout said as such, where the system's words for it
    /// are "resource temporarily unavailable".
    fn described(&self, error: &RedisError) -> String {
        match error.is_timeout() {
            true => format!(
                "no answer within the timeouts (connect {:?}, response {:?}): {error}",
                self.settings.connect_timeout, self.settings.response_timeout
            ),
            false => error.to_string(),
        }
    }

    /// Keeps `connection` for a later call, unless `result` leaves it in doubt.
    fn put_back<T>(&self, connection: Connection, result: &RedisResult<T>) {
        let usable = match result {
            Ok(_) => connection.is_open(),
            Err(e) => !unreachable(e),
        };
        let mut idle = sync::lock(&self.idle);
        if usable && idle.len() < IDLE_MAX {
            idle.push(connection);
        }
    }

    /// A new connection.
    fn connect(&self) -> RedisResult<Connection> {
        let timeout = Some(self.settings.response_timeout);
        Ok(match &self.server {
            Server::One(client) => {
                let connection =
                    client.get_connection_with_timeout(self.settings.connect_timeout)?;
                connection.set_read_timeout(timeout)?;
                connection.set_write_timeout(timeout)?;
                Box::new(connection)
            }
            Server::Cluster(client) => {
                let connection = client.get_connection()?;
                connection.set_write_timeout(timeout)?;
                Box::new(connection)
            }
        })
    }
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.settings.fmt(f)
    }
}

/// True if the call failed for want of Redis (the connection, a timeout, a cluster that is
/// down or moving), not with an answer of Redis's to that call: the connection may be out of
/// step, and Redis is taken to be away.
fn unreachable(error: &RedisError) -> bool {
    let answered = matches!(
        error.kind(),
        ErrorKind::Server(_) | ErrorKind::Extension | ErrorKind::UnexpectedReturnType
    );
    !answered || error.is_cluster_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(urls: &[&str], cluster: bool) -> Settings {
        Settings::new(
            urls.iter().map(|u| (*u).to_owned()).collect(),
            cluster,
            "p:",
        )
    }

    #[test]
    fn settings_are_checked_before_any_connection() {
        let refused = |s: Settings| Redis::open(s).unwrap_err();
        assert_eq!(
            refused(settings(&[], false)).kind(),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            refused(settings(&[], true)).kind(),
            io::ErrorKind::InvalidInput
        );
        let e = refused(settings(
            &["redis://127.0.0.1:1/", "redis://127.0.0.1:2/"],
            false,
        ));
        assert!(e.to_string().contains("cluster"), "{e}");
        let e = refused(settings(&["http://127.0.0.1:1/"], false));
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        let mut zero = settings(&["redis://127.0.0.1:1/"], false);
        zero.response_timeout = Duration::ZERO;
        assert!(refused(zero).to_string().contains("zero"));
        // Nothing listens there: still a store, which finds Redis away when called.
        let redis = Redis::open(settings(&["redis://127.0.0.1:1/"], false)).unwrap();
        assert_eq!(redis.key("k"), "p:k");
        let cmd = redis::cmd("PING");
        assert_eq!(redis.call(|c| cmd.query::<String>(c)), None);
        assert!(
            Redis::open(settings(
                &["redis://127.0.0.1:1/", "redis://127.0.0.1:2/"],
                true
            ))
            .is_ok()
        );
    }

    #[test]
    fn passwords_are_never_shown() {
        let secret = settings(&["redis://user:s3cret@127.0.0.1:6379/2"], false);
        assert_eq!(secret.shown(), "redis://127.0.0.1:6379/2");
        assert!(!format!("{secret:?}").contains("s3cret"));
        let bad = settings(&["http://:s3cret@127.0.0.1:6379/"], false);
        let refused = bad.refused().unwrap();
        assert!(
            refused.contains("http://127.0.0.1:6379/") && !refused.contains("s3cret"),
            "{refused}"
        );
        let redis = Redis::open(settings(&["redis://:s3cret@127.0.0.1:1/"], false)).unwrap();
        assert!(!format!("{redis:?}").contains("s3cret"));
    }
}
