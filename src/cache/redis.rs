//! [`RedisCache`]: the cache's entries in Redis or Redis Cluster, shared by every process
//! and machine that points at it (httplib2's `cache=memcache.Client(...)`).

use std::io;
use std::time::Duration;

use super::frame::{frame, unframe};
use super::storage::Cache;
use crate::logs;
use crate::redis::{Redis, Settings};

/// The key prefix unless one is given.
const DEFAULT_PREFIX: &str = "asynchttp:cache:";

/// How long an entry that can be revalidated is kept unless set: a week, as long as the
/// heuristic freshness of a response without explicit freshness can last.
const DEFAULT_KEEP_VALIDATED: Duration = Duration::from_secs(7 * 24 * 3600);

/// A [`Cache`] in Redis or Redis Cluster, shared by every client, process and machine that
/// points at the same Redis and key prefix: one fetches and stores a response, the others
/// are answered from it or revalidate it (feature `redis`).
///
/// ```no_run
/// use std::sync::Arc;
/// use asynchttp::{Http, RedisCache};
///
/// let cache = RedisCache::builder("redis://127.0.0.1:6379/")
///     .prefix("crawler:http:")
///     .build()?;
/// let http = Http::builder().cache_store(Arc::new(cache)).build()?;
/// let (response, _) = http.request("http://127.0.0.1:8080/doc");
/// println!("{}", response.from_cache);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # What is stored
///
/// Each entry is one Redis string under the prefix and the URL (`asynchttp:cache:` and
/// `http://…` by default), written by one `SET`, so a reader sees the old entry or the new
/// one, never half of one. Its value carries a checksum, as [`FileCache`](crate::FileCache)'s
/// files do: a value that is not whole and ours (written under the same name by another
/// program) is a miss, and is deleted. Cluster: one key per entry, so no command spans
/// slots; a prefix with a hash tag (`{crawler}:`) would put every entry on one node.
///
/// Entries expire in Redis when they are of no more use: one without `ETag` or
/// `Last-Modified` once it is stale beyond its `stale-while-revalidate` or `stale-if-error`,
/// or the client's [`HttpBuilder::stale_if_error`](crate::HttpBuilder::stale_if_error)
/// when that is longer (see [`Cache::set_for`]); one that can be revalidated, and a permanent redirect, after
/// [`keep_validated`](RedisCacheBuilder::keep_validated) (7 days by default) from its last
/// store, fresh or not. Redis's own `maxmemory` policy (`allkeys-lru` suits a cache) decides
/// what goes first when memory runs short.
///
/// # While Redis is slow or away
///
/// Every call is bounded by the connect and response timeouts (250 ms each by default). A
/// read that fails or times out is a miss, a write that does is skipped, and a delete is
/// lost; none is an error of the request, which goes to the server as without a cache. The
/// first failure is logged at warn with its error, and for a second after a failure no
/// call tries Redis, so that each request pays nothing for it rather than a timeout; the
/// first call that succeeds again logs at info that Redis is back. While it is away a
/// client gives up:
///
/// - hits: every request goes to the server, unconditionally, since no entry is found to
///   revalidate;
/// - what it learnt meanwhile: responses fetched then are not stored, for itself or anyone;
/// - invalidation: an unsafe method (`POST`, `PUT`, `DELETE`) that changes a resource
///   cannot delete its entry, so once Redis is back other clients may be answered from the
///   entry of before the change, until it goes stale;
/// - the first of those requests (one a second) waits up to the timeouts. A fresh `GET` is
///   looked up on the thread that calls [`Http::request`](crate::Http::request), so that
///   call may wait that long too.
///
/// An entry's age is reckoned from the clock of the machine that stored it: keep the
/// machines' clocks in step (NTP), or one may take for fresh what another stored stale.
///
/// Beside a [`FileCache`](crate::FileCache) it also gives up, by design, entries that can
/// answer nothing any more: a request's own `max-stale` or `only-if-cached` finds no entry
/// that expired.
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[derive(Debug)]
pub struct RedisCache {
    redis: Redis,
    keep_validated: Duration,
}

/// Settings of a [`RedisCache`], from [`RedisCache::builder`] or [`RedisCache::cluster`].
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct RedisCacheBuilder {
    settings: Settings,
    keep_validated: Duration,
}

impl RedisCache {
    /// A cache on the Redis server at `url` (`redis://[user:password@]host[:port][/db]`,
    /// `rediss://` for TLS is not built in), with the default settings; the same as
    /// `RedisCache::builder(url).build()`.
    ///
    /// # Errors
    ///
    /// As [`RedisCacheBuilder::build`].
    pub fn new(url: &str) -> io::Result<RedisCache> {
        RedisCache::builder(url).build()
    }

    /// Settings for a cache on the Redis server at `url`.
    pub fn builder(url: impl Into<String>) -> RedisCacheBuilder {
        RedisCacheBuilder::new(vec![url.into()], false)
    }

    /// Settings for a cache on a Redis Cluster, given the URLs of some of its nodes (one
    /// is enough; the others are learnt from it).
    ///
    /// ```no_run
    /// let cache = asynchttp::RedisCache::cluster([
    ///     "redis://10.0.0.1:7000/",
    ///     "redis://10.0.0.2:7000/",
    /// ])
    /// .build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cluster<S: Into<String>>(nodes: impl IntoIterator<Item = S>) -> RedisCacheBuilder {
        RedisCacheBuilder::new(nodes.into_iter().map(Into::into).collect(), true)
    }
}

impl RedisCacheBuilder {
    fn new(urls: Vec<String>, cluster: bool) -> RedisCacheBuilder {
        RedisCacheBuilder {
            settings: Settings::new(urls, cluster, DEFAULT_PREFIX),
            keep_validated: DEFAULT_KEEP_VALIDATED,
        }
    }

    /// Put in front of every key (default `asynchttp:cache:`): applications that share one
    /// Redis and should not share entries use different prefixes.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings.prefix = prefix.into();
        self
    }

    /// How long connecting to Redis may take (default 250 ms); for a cluster, to each node.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// How long each read or write of a call may wait on Redis (default 250 ms).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.settings.response_timeout = timeout;
        self
    }

    /// How long an entry that can be revalidated (it has an `ETag` or `Last-Modified`), or
    /// a permanent redirect, is kept after it was last stored (default 7 days). An entry
    /// still fresh then goes too, and its next request fetches it whole.
    pub fn keep_validated(mut self, keep: Duration) -> Self {
        self.keep_validated = keep;
        self
    }

    /// The cache. Nothing is sent to Redis yet: a Redis that is away at first is an outage
    /// like any other, and the client goes on without it.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput): a URL the redis crate does not take
    /// (named in the error, without its password), several URLs for one server, no node
    /// for a cluster, or a timeout or `keep_validated` of zero.
    pub fn build(self) -> io::Result<RedisCache> {
        if self.keep_validated < Duration::from_millis(1) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "redis: keep_validated below a millisecond would keep no entry that can be revalidated",
            ));
        }
        Ok(RedisCache {
            redis: Redis::open(self.settings)?,
            keep_validated: self.keep_validated,
        })
    }
}

impl Cache for RedisCache {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        let name = self.redis.key(key);
        let value: Vec<u8> = self
            .redis
            .call(|c| redis::cmd("GET").arg(&name).query::<Option<Vec<u8>>>(c))??;
        match unframe(&value) {
            Some(entry) => Some(entry.to_vec()),
            None => {
                logs::warning!("cache: the Redis value of {name} is not an entry; deleting it");
                self.delete(key);
                None
            }
        }
    }

    /// Stores the entry for [`keep_validated`](RedisCacheBuilder::keep_validated).
    fn set(&self, key: &str, value: &[u8]) -> io::Result<()> {
        self.set_for(key, value, None)
    }

    /// Stores the entry to expire after `keep`, or after
    /// [`keep_validated`](RedisCacheBuilder::keep_validated) for `None`; one of no use at
    /// all (`keep` below a millisecond) is not stored, and what was under its key goes.
    /// Never fails: a write Redis does not take is skipped, and logged as the type's docs say.
    fn set_for(&self, key: &str, value: &[u8], keep: Option<Duration>) -> io::Result<()> {
        let keep = keep.unwrap_or(self.keep_validated);
        let millis = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX);
        if millis == 0 {
            self.delete(key);
            return Ok(());
        }
        let (name, framed) = (self.redis.key(key), frame(value));
        self.redis.call(|c| {
            redis::cmd("SET")
                .arg(&name)
                .arg(&framed)
                .arg("PX")
                .arg(millis)
                .exec(c)
        });
        Ok(())
    }

    fn delete(&self, key: &str) {
        let name = self.redis.key(key);
        self.redis.call(|c| redis::cmd("DEL").arg(&name).exec(c));
    }
}
