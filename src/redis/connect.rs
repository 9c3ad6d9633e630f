//! One connection to a Redis, or to a Redis Cluster: where it is, how long a call may take,
//! the prefix of every key, and what happens when it goes away.
//!
//! A call either answers within the timeout or fails; a failed call drops the connection,
//! and the next call connects again, no more often than once a [`RETRY`] while the Redis is
//! away, so that a Redis that is down costs a caller nothing but a check of the clock. The
//! outage is logged once at warn as it begins and once at info as it ends: a fleet of
//! processes all logging each failed call would bury the one line that matters.

use std::fmt;
use std::time::{Duration, Instant};

use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Client, ConnectionLike, RedisResult};

use crate::logs;

/// How often a Redis that went away is tried again.
pub(crate) const RETRY: Duration = Duration::from_secs(1);

/// The longest a call waits on a Redis by default: a connection, a command and its answer.
pub(crate) const TIMEOUT: Duration = Duration::from_millis(250);

/// Where a Redis is, as given: one server, or the first nodes of a cluster; the prefix of
/// every key; the longest a call may take. Checked as it is made, so that a bad URL is
/// refused when the client is built rather than found out at the first call.
#[derive(Clone, PartialEq)]
pub(crate) struct Settings {
    nodes: Vec<String>,
    cluster: bool,
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
    /// Why the URLs name no Redis, if they do not.
    refused: Option<String>,
}

impl Settings {
    /// One Redis at `url` (`redis://host:port/db`, `rediss://` over TLS is not built in).
    pub(crate) fn single(url: &str) -> Self {
        Settings::new(vec![url.to_owned()], false)
    }

    /// A Redis Cluster, found through any of `nodes`.
    pub(crate) fn cluster(nodes: Vec<String>) -> Self {
        Settings::new(nodes, true)
    }

    fn new(nodes: Vec<String>, cluster: bool) -> Self {
        let refused = if nodes.is_empty() {
            Some("no Redis URL given".to_owned())
        } else {
            nodes.iter().find_map(|url| {
                let e = Client::open(url.as_str()).err()?;
                Some(format!("{}: {e}", crate::uri::redact(url)))
            })
        };
        Settings {
            nodes,
            cluster,
            prefix: "asynchttp".to_owned(),
            timeout: TIMEOUT,
            refused,
        }
    }

    /// Why these settings name no Redis, if they do not.
    pub(crate) fn refused(&self) -> Option<&str> {
        self.refused.as_deref()
    }

    /// `<prefix>:<rest>`: every key of the crate's, so that several applications can share
    /// a Redis.
    pub(crate) fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    /// The first node's address, as logs show it: no password.
    pub(crate) fn shown(&self) -> String {
        let first = self.nodes.first().map(String::as_str).unwrap_or_default();
        let addr = Client::open(first).map(|c| c.get_connection_info().addr().to_string());
        let addr = addr.unwrap_or_else(|_| "an unknown address".to_owned());
        if self.cluster {
            format!("Redis Cluster at {addr}")
        } else {
            format!("Redis at {addr}")
        }
    }

    /// A plain connection to the first node, for a subscriber: a message published
    /// anywhere in a cluster reaches every node's subscribers. Reads wait `poll` at most.
    pub(crate) fn subscriber(&self, poll: Duration) -> RedisResult<redis::Connection> {
        let client = Client::open(self.nodes[0].as_str())?;
        let conn =
            client.get_connection_with_timeout(self.timeout.max(Duration::from_millis(1)))?;
        conn.set_read_timeout(Some(poll))?;
        conn.set_write_timeout(Some(self.timeout.max(Duration::from_millis(1))))?;
        Ok(conn)
    }

    fn connect(&self) -> RedisResult<Conn> {
        // The timeout must be positive: a zero one means no timeout to the socket.
        let timeout = self.timeout.max(Duration::from_millis(1));
        if self.cluster {
            let client = ClusterClient::builder(self.nodes.iter().map(String::as_str))
                .connection_timeout(timeout)
                .response_timeout(timeout)
                // A node that is away fails the call at once: retries would wait past the
                // timeout, and the caller has a fallback.
                .retries(0)
                .build()?;
            return Ok(Conn::Cluster(Box::new(client.get_connection()?)));
        }
        let client = Client::open(self.nodes[0].as_str())?;
        let conn = client.get_connection_with_timeout(timeout)?;
        conn.set_read_timeout(Some(timeout))?;
        conn.set_write_timeout(Some(timeout))?;
        Ok(Conn::Single(Box::new(conn)))
    }
}

impl fmt::Debug for Settings {
    /// The nodes' addresses without their passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("at", &self.shown())
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish()
    }
}

enum Conn {
    Single(Box<redis::Connection>),
    Cluster(Box<ClusterConnection>),
}

impl Conn {
    fn like(&mut self) -> &mut dyn ConnectionLike {
        match self {
            Conn::Single(conn) => &mut **conn,
            Conn::Cluster(conn) => &mut **conn,
        }
    }
}

/// A connection to the Redis of some [`Settings`], made on demand and made again after a
/// failure; see the module docs.
pub(crate) struct Connection {
    settings: Settings,
    conn: Option<Conn>,
    /// Since when the Redis has been away, if it is; and when it was last tried.
    away: Option<Instant>,
    tried: Option<Instant>,
}

impl Connection {
    pub(crate) fn new(settings: Settings) -> Self {
        Connection {
            settings,
            conn: None,
            away: None,
            tried: None,
        }
    }

    /// Whether the last call or connection failed: the Redis is away.
    pub(crate) fn is_away(&self) -> bool {
        self.away.is_some()
    }

    /// Runs `call` on the connection, connecting first if need be. `None` when the Redis
    /// is away: it failed now, or it failed less than a [`RETRY`] ago and is not tried
    /// again yet.
    pub(crate) fn call<T>(
        &mut self,
        call: impl FnOnce(&mut dyn ConnectionLike) -> RedisResult<T>,
    ) -> Option<T> {
        let result = match self.connected() {
            Ok(conn) => call(conn.like()),
            Err(None) => return None,
            Err(Some(e)) => Err(e),
        };
        match result {
            Ok(value) => {
                self.back();
                Some(value)
            }
            Err(e) => {
                self.gone(&e);
                None
            }
        }
    }

    /// Connects again now if the Redis is away and was last tried a [`RETRY`] ago; true
    /// if it is back.
    pub(crate) fn probe(&mut self) -> bool {
        self.call(|conn| redis::cmd("PING").query::<()>(conn))
            .is_some()
    }

    /// The connection, made if need be: `Err(None)` while a failure is too recent to try
    /// again.
    fn connected(&mut self) -> Result<&mut Conn, Option<redis::RedisError>> {
        if self.conn.is_none() {
            let now = Instant::now();
            if self.away.is_some() && self.tried.is_some_and(|at| now < at + RETRY) {
                return Err(None);
            }
            self.tried = Some(now);
            self.conn = Some(self.settings.connect().map_err(Some)?);
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    fn gone(&mut self, error: &redis::RedisError) {
        self.conn = None;
        if self.away.is_none() {
            self.away = Some(Instant::now());
            self.tried.get_or_insert_with(Instant::now);
            logs::warning!(
                "{} is away ({error}): until it is back, this process goes by its own limits",
                self.settings.shown()
            );
        }
    }

    fn back(&mut self) {
        if let Some(since) = self.away.take() {
            logs::info!(
                "{} is back after {:.1?}: limits are shared again",
                self.settings.shown(),
                since.elapsed()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_refused_as_made_and_passwords_never_shown() {
        assert!(
            Settings::single("redis://127.0.0.1:6379/0")
                .refused()
                .is_none()
        );
        let bad = Settings::single("http://:hunter2@127.0.0.1:6379/");
        let refused = bad.refused().unwrap();
        assert!(refused.contains("http://127.0.0.1:6379/") && !refused.contains("hunter2"));
        assert!(Settings::cluster(Vec::new()).refused().is_some());
        let secret = Settings::single("redis://:hunter2@127.0.0.1:6390/");
        let shown = format!("{secret:?}");
        assert!(
            shown.contains("127.0.0.1:6390") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert_eq!(secret.key("limits"), "asynchttp:limits");
    }

    #[test]
    fn a_redis_away_is_not_tried_again_within_a_second() {
        // A port nobody listens on: refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut conn = Connection::new(Settings::single(&format!("redis://127.0.0.1:{port}/")));
        assert!(!conn.probe());
        assert!(conn.is_away());
        let tried = conn.tried;
        assert!(!conn.probe());
        assert_eq!(conn.tried, tried, "tried again within a second");
    }
}
