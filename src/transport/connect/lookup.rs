//! The address of a connect-to target given as a name. isahc hands libcurl a connect-to
//! target only as an address (`Dialer::ip_socket`), so a name is looked up here, where
//! libcurl would look it up: in the client's resolve map first, then among the answers
//! kept from earlier lookups (for as long as libcurl keeps its own: the DNS cache's
//! lifetime), then by the system's resolver.
//!
//! The system's resolver blocks, so it runs on a thread of its own, `asynchttp-resolve`,
//! and the request awaits its answer within the time it has to connect, on a driver as on
//! a worker: no driver ever waits on DNS. An answer that comes too late is dropped with
//! its thread.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use super::{ConnectSettings, DnsLifetime, IpVersion};
use crate::pool::PoolRef;
use crate::sync;

/// Answers kept at most; past this, those too old go, and if that is not enough, all.
const KEPT_AT_MOST: usize = 256;

/// The system resolver's answers of one client, while they are of use.
#[derive(Default)]
pub(crate) struct Lookups {
    kept: Mutex<HashMap<(String, u16), Kept>>,
}

struct Kept {
    at: Instant,
    addresses: Vec<SocketAddr>,
}

/// Why a name gave no address.
#[derive(Debug)]
pub(crate) enum Missed {
    /// No address of the family wanted, or the resolver's error.
    NotFound(io::Error),
    /// No answer within the time given.
    TimedOut,
}

impl Lookups {
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
        let lifetime = settings.dns_lifetime();
        if let Some(kept) = self.kept(name, port, lifetime) {
            return first(kept, family, name);
        }
        let addresses = system(name, port, within, pool).await?;
        self.keep(name, port, &addresses, lifetime);
        first(addresses, family, name)
    }

    fn kept(&self, name: &str, port: u16, lifetime: DnsLifetime) -> Option<Vec<SocketAddr>> {
        let kept = sync::lock(&self.kept);
        let answer = kept.get(&(name.to_owned(), port))?;
        lifetime
            .keeps(answer.at.elapsed())
            .then(|| answer.addresses.clone())
    }

    fn keep(&self, name: &str, port: u16, addresses: &[SocketAddr], lifetime: DnsLifetime) {
        if lifetime == DnsLifetime::Off {
            return;
        }
        let mut kept = sync::lock(&self.kept);
        if kept.len() >= KEPT_AT_MOST {
            kept.retain(|_, answer| lifetime.keeps(answer.at.elapsed()));
            if kept.len() >= KEPT_AT_MOST {
                kept.clear();
            }
        }
        let answer = Kept {
            at: Instant::now(),
            addresses: addresses.to_vec(),
        };
        kept.insert((name.to_owned(), port), answer);
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

/// `name`'s addresses from the system's resolver, on a thread of its own, awaited for
/// `within` at most (on the pool's timer: no thread waits for the bound).
async fn system(
    name: &str,
    port: u16,
    within: Duration,
    pool: &PoolRef,
) -> Result<Vec<SocketAddr>, Missed> {
    let (answer, answered) = flume::bounded(2);
    let looked_up = (name.to_owned(), port);
    let resolver = answer.clone();
    thread::Builder::new()
        .name("asynchttp-resolve".to_owned())
        .spawn(move || {
            let found = looked_up.to_socket_addrs().map(Vec::from_iter);
            let _ = resolver.send(Some(found));
        })
        .map_err(Missed::NotFound)?;
    // A pool already gone leaves the bound to the system's resolver.
    let _ = pool.at(
        Instant::now() + within,
        Box::new(move || {
            let _ = answer.send(None);
        }),
    );
    match answered.recv_async().await {
        Ok(Some(Ok(addresses))) => Ok(addresses),
        Ok(Some(Err(e))) => Err(Missed::NotFound(e)),
        Ok(None) => Err(Missed::TimedOut),
        Err(_) => Err(Missed::NotFound(io::Error::other(
            "the lookup ended without an answer",
        ))),
    }
}
