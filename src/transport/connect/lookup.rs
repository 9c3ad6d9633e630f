//! The address of a connect-to target given as a name. isahc hands libcurl a connect-to
//! target only as an address (`Dialer::ip_socket`), so a name is looked up here, where
//! libcurl would look it up: in the client's resolve map first, then among the answers
//! kept from earlier lookups (for as long as libcurl keeps its own: the DNS cache's
//! lifetime), then by the system's resolver.
//!
//! The system's resolver blocks, so it runs on a thread of its own, `asynchttp-resolve`,
//! and the request awaits its answer within the time it has to connect, on a driver as on
//! a worker: no driver ever waits on DNS. One lookup of a name and port is under way at a
//! time: the requests that need it while it runs wait for its answer, so a burst of a
//! thousand requests starts one thread, not a thousand. A request whose time runs out
//! stops waiting; the lookup goes on for the others, and its answer is kept.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{ConnectSettings, DnsLifetime, IpVersion};
use crate::pool::PoolRef;
use crate::sync;

/// Answers kept at most; past this, those too old go, and if that is not enough, all
/// (lookups under way stay: requests wait for them).
const KEPT_AT_MOST: usize = 256;

/// A name and port, as looked up.
type Key = (String, u16);

/// What a lookup found, for each request that waited for it: `io::Error` is not `Clone`,
/// so a failure is its kind and text.
type Answer = Result<Vec<SocketAddr>, (io::ErrorKind, String)>;

/// What looks a name up: the system's resolver, or a test's.
type Resolver = fn(&Key) -> io::Result<Vec<SocketAddr>>;

/// The system resolver's answers of one client, while they are of use, and the lookups
/// under way.
pub(crate) struct Lookups {
    table: Arc<Mutex<HashMap<Key, Entry>>>,
    resolver: Resolver,
}

enum Entry {
    /// An answer, and when it came.
    Kept {
        at: Instant,
        addresses: Vec<SocketAddr>,
    },
    /// A lookup under way, and the requests waiting for it.
    Pending(Vec<flume::Sender<Option<Answer>>>),
}

/// Why a name gave no address.
#[derive(Debug)]
pub(crate) enum Missed {
    /// No address of the family wanted, or the resolver's error.
    NotFound(io::Error),
    /// No answer within the time given.
    TimedOut,
}

impl Default for Lookups {
    fn default() -> Self {
        Lookups::with_resolver(|key| key.to_socket_addrs().map(Vec::from_iter))
    }
}

impl Lookups {
    fn with_resolver(resolver: Resolver) -> Self {
        Lookups {
            table: Arc::default(),
            resolver,
        }
    }

    /// The first address of `name` on `port` that `family` admits, from the resolve map of
    /// `settings`, a kept answer or the system's resolver, which is given `within`.
    pub(crate) async fn address(
        &self,
        settings: &ConnectSettings,
        (name, port): (&str, u16),
        family: IpVersion,
        within: Duration,
        pool: &PoolRef,
    ) -> Result<SocketAddr, Missed> {
        if let Some(pinned) = settings.resolve.addresses(name, port) {
            let pinned = pinned.iter().map(|address| SocketAddr::new(*address, port));
            return first(pinned, family, name);
        }
        let key = (name.to_owned(), port);
        let lifetime = settings.dns_lifetime();
        let (waiter, answered) = flume::bounded(2);
        let starts = {
            let mut table = sync::lock(&self.table);
            match table.get_mut(&key) {
                Some(Entry::Kept { at, addresses }) if lifetime.keeps(at.elapsed()) => {
                    return first(addresses.clone(), family, name);
                }
                Some(Entry::Pending(waiting)) => {
                    waiting.push(waiter.clone());
                    false
                }
                _ => {
                    table.insert(key.clone(), Entry::Pending(vec![waiter.clone()]));
                    true
                }
            }
        };
        if starts {
            self.look_up(key, lifetime);
        }
        // A pool already gone leaves the bound to the system's resolver.
        let _ = pool.at(
            Instant::now() + within,
            Box::new(move || {
                let _ = waiter.send(None);
            }),
        );
        match answered.recv_async().await {
            Ok(Some(Ok(addresses))) => first(addresses, family, name),
            Ok(Some(Err((kind, text)))) => Err(Missed::NotFound(io::Error::new(kind, text))),
            Ok(None) => Err(Missed::TimedOut),
            Err(_) => Err(Missed::NotFound(io::Error::other(
                "the lookup ended without an answer",
            ))),
        }
    }

    /// Looks `key` up on a thread of its own, then keeps the answer (if it is to be kept)
    /// and hands it to every request waiting for it.
    fn look_up(&self, key: Key, lifetime: DnsLifetime) {
        let table = Arc::clone(&self.table);
        let resolver = self.resolver;
        let lookup = key.clone();
        let spawned = thread::Builder::new()
            .name("asynchttp-resolve".to_owned())
            .spawn(move || {
                let found = resolver(&lookup);
                answer(&table, lookup, found, lifetime);
            });
        if let Err(e) = spawned {
            answer(&self.table, key, Err(e), lifetime);
        }
    }
}

/// Ends the lookup of `key` with `found`: kept while `lifetime` keeps it, and sent to each
/// request that waited.
fn answer(
    table: &Mutex<HashMap<Key, Entry>>,
    key: Key,
    found: io::Result<Vec<SocketAddr>>,
    lifetime: DnsLifetime,
) {
    let mut table = sync::lock(table);
    let waiting = match table.remove(&key) {
        Some(Entry::Pending(waiting)) => waiting,
        _ => Vec::new(),
    };
    if let (Ok(addresses), true) = (&found, lifetime != DnsLifetime::Off) {
        if table.len() >= KEPT_AT_MOST {
            table.retain(|_, entry| match entry {
                Entry::Kept { at, .. } => lifetime.keeps(at.elapsed()),
                Entry::Pending(_) => true,
            });
        }
        if table.len() >= KEPT_AT_MOST {
            table.retain(|_, entry| matches!(entry, Entry::Pending(_)));
        }
        let kept = Entry::Kept {
            at: Instant::now(),
            addresses: addresses.clone(),
        };
        table.insert(key, kept);
    }
    drop(table);
    let found = found.map_err(|e| (e.kind(), e.to_string()));
    for waiter in waiting {
        let _ = waiter.send(Some(found.clone()));
    }
}

/// The first of `addresses` that `family` admits.
fn first(
    addresses: impl IntoIterator<Item = SocketAddr>,
    family: IpVersion,
    name: &str,
) -> Result<SocketAddr, Missed> {
    addresses
        .into_iter()
        .find(|address| family.admits(address.ip()))
        .ok_or_else(|| {
            let wanted = match family {
                IpVersion::Any => "",
                IpVersion::V4 => "IPv4 ",
                IpVersion::V6 => "IPv6 ",
            };
            Missed::NotFound(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{name} has no {wanted}address"),
            ))
        })
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// The lookups of `backend.test`.
    static LOOKED_UP: AtomicUsize = AtomicUsize::new(0);

    /// A resolver that takes its time, as one that asks a DNS server does.
    fn slow(key: &Key) -> io::Result<Vec<SocketAddr>> {
        thread::sleep(Duration::from_millis(300));
        match key.0.as_str() {
            "backend.test" => {
                LOOKED_UP.fetch_add(1, Ordering::SeqCst);
                Ok(vec![
                    SocketAddr::from(([10, 0, 0, 1], key.1)),
                    SocketAddr::from(([0xfd00, 0, 0, 0, 0, 0, 0, 1], key.1)),
                ])
            }
            _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such name")),
        }
    }

    fn look_up_at_once(
        lookups: &Arc<Lookups>,
        name: &'static str,
        family: IpVersion,
    ) -> Vec<Result<SocketAddr, Missed>> {
        let requests = 16;
        let barrier = Arc::new(Barrier::new(requests));
        let threads: Vec<_> = (0..requests)
            .map(|_| {
                let (lookups, barrier) = (Arc::clone(lookups), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    let settings = ConnectSettings::default();
                    let within = Duration::from_secs(30);
                    futures_lite::future::block_on(lookups.address(
                        &settings,
                        (name, 8443),
                        family,
                        within,
                        &PoolRef::gone(),
                    ))
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    }

    #[test]
    fn a_burst_for_one_name_waits_on_one_lookup_and_its_answer_is_kept() {
        let lookups = Arc::new(Lookups::with_resolver(slow));
        let answers = look_up_at_once(&lookups, "backend.test", IpVersion::V6);
        let v6 = SocketAddr::from(([0xfd00, 0, 0, 0, 0, 0, 0, 1], 8443));
        assert!(
            answers
                .iter()
                .all(|a| matches!(a, Ok(address) if *address == v6))
        );
        // Kept for the DNS cache's lifetime: the next burst asks no one.
        let answers = look_up_at_once(&lookups, "backend.test", IpVersion::V4);
        let v4 = SocketAddr::from(([10, 0, 0, 1], 8443));
        assert!(
            answers
                .iter()
                .all(|a| matches!(a, Ok(address) if *address == v4))
        );
        assert_eq!(
            LOOKED_UP.load(Ordering::SeqCst),
            1,
            "lookups for 32 requests"
        );
    }

    #[test]
    fn a_failed_lookup_fails_every_request_waiting_and_is_not_kept() {
        let lookups = Arc::new(Lookups::with_resolver(slow));
        let answers = look_up_at_once(&lookups, "nowhere.test", IpVersion::Any);
        for answer in &answers {
            match answer {
                Err(Missed::NotFound(e)) => assert_eq!(e.to_string(), "no such name"),
                other => panic!("{other:?}"),
            }
        }
        assert!(sync::lock(&lookups.table).is_empty());
    }
}
