//! [`RedisLimits`]: the Redis through which a fleet of processes shares its host limits,
//! as given to [`HostLimits::shared`](crate::HostLimits::shared).

use std::time::Duration;

use crate::redis::Settings;

/// The default lease of a request in flight.
const LEASE: Duration = Duration::from_secs(10);

/// The prefix of every key unless one is given.
const DEFAULT_PREFIX: &str = "asynchttp";

/// The shortest lease: it is renewed every third of its length, and a renewal may take a
/// Redis timeout.
const SHORTEST_LEASE: Duration = Duration::from_secs(1);

/// Where a fleet of processes keeps its shared host limits: a Redis (or a Redis Cluster),
/// the prefix of its keys, how long a call may take, and how long a request's place lasts
/// if its process dies. Given to [`HostLimits::shared`](crate::HostLimits::shared); see
/// the guide, [limits shared by a fleet](crate::guide::retries#limits-shared-by-a-fleet).
///
/// ```
/// use std::time::Duration;
/// use asynchttp::RedisLimits;
///
/// let redis = RedisLimits::new("redis://127.0.0.1:6379/")
///     .prefix("crawler")                      // keys crawler:limits:{host:port}:…
///     .timeout(Duration::from_millis(100))    // each call; slower counts as away
///     .lease(Duration::from_secs(30));        // a dead process's places come back within 30 s
/// assert_eq!(redis.key_prefix(), "crawler");
/// assert_eq!(redis.lease_length(), Duration::from_secs(30));
/// assert_eq!(RedisLimits::new("redis://127.0.0.1/").call_timeout(), Duration::from_millis(250));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RedisLimits {
    settings: Settings,
    lease: Duration,
}

impl RedisLimits {
    /// One Redis at `url`: `redis://[user:password@]host[:port][/db]`, or `redis+unix:///path`.
    /// A URL that names no Redis is refused by
    /// [`HttpBuilder::build`](crate::HttpBuilder::build), with
    /// [`Error::Init`](crate::Error::Init) saying why; nothing connects until a request
    /// needs it.
    pub fn new(url: &str) -> Self {
        RedisLimits::with(vec![url.to_owned()], false)
    }

    /// A Redis Cluster, found through any of `nodes` (URLs as for [`new`](Self::new)). A
    /// host's keys share a hash tag, so each host's limits live on one node.
    pub fn cluster<I, S>(nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let nodes = nodes.into_iter().map(|n| n.as_ref().to_owned()).collect();
        RedisLimits::with(nodes, true)
    }

    fn with(urls: Vec<String>, cluster: bool) -> Self {
        RedisLimits {
            settings: Settings::new(urls, cluster, ""),
            lease: LEASE,
        }
        .prefix(DEFAULT_PREFIX)
    }

    /// The first part of every key, `asynchttp` by default: processes share limits when
    /// they share a Redis and a prefix, and applications that share a Redis keep apart
    /// with prefixes of their own.
    pub fn prefix(mut self, prefix: &str) -> Self {
        // Keys are `<prefix>:limits:…`: the colon is the Redis Settings' prefix's.
        self.settings.prefix = format!("{prefix}:");
        self
    }

    /// The longest a connection to Redis, and each of its answers, may take: 250 ms by
    /// default (0 is taken as 1 ms). A slower Redis counts as away: the process goes by its
    /// own limits until it answers in time again.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        let timeout = timeout.max(Duration::from_millis(1));
        self.settings.connect_timeout = timeout;
        self.settings.response_timeout = timeout;
        self
    }

    /// How long a request's place among its host's requests in flight lasts unless its
    /// process renews it, which it does every third of that while the request runs: 10 s
    /// by default, 1 s at least. A process that dies (killed, or cut off from Redis)
    /// holds its places that long at most.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(SHORTEST_LEASE);
        self
    }

    /// The prefix of every key.
    pub fn key_prefix(&self) -> &str {
        let prefix = &self.settings.prefix;
        prefix.strip_suffix(':').unwrap_or(prefix)
    }

    /// The longest a call may take.
    pub fn call_timeout(&self) -> Duration {
        self.settings.response_timeout
    }

    /// How long a place lasts unless renewed.
    pub fn lease_length(&self) -> Duration {
        self.lease
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Why the URLs name no Redis, if they do not.
    pub(crate) fn refused(&self) -> Option<String> {
        self.settings.refused()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_clamped() {
        let redis = RedisLimits::new("redis://127.0.0.1/")
            .lease(Duration::ZERO)
            .timeout(Duration::ZERO);
        assert_eq!(redis.lease_length(), SHORTEST_LEASE);
        assert_eq!(redis.call_timeout(), Duration::from_millis(1));
        assert_eq!(redis.key_prefix(), "asynchttp");
        assert!(
            RedisLimits::cluster(["redis://127.0.0.1:7000/"])
                .refused()
                .is_none()
        );
        assert!(RedisLimits::new("not a url").refused().is_some());
        let crawler = RedisLimits::new("redis://127.0.0.1/").prefix("crawler");
        assert_eq!(crawler.key_prefix(), "crawler");
        assert_eq!(crawler.settings().key("limits"), "crawler:limits");
    }
}
