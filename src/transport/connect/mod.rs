//! Where a transport's connections go and how fast they may carry bytes: names pinned to
//! addresses (curl's `--resolve`), servers reached at another address (`--connect-to`), a
//! Unix socket in place of TCP (`--unix-socket`), the address family (`-4`, `-6`), the
//! lifetime of libcurl's DNS cache, and bandwidth caps (`--limit-rate`).
//!
//! The builder keeps what it was told ([`Asked`]); `build()` checks it once into
//! [`ConnectSettings`], part of the transport's settings. A request's own values
//! ([`ConnectOverrides`]) are checked when it is prepared, and for each exchange both are
//! merged, with the connect-to entry its URL matches, into the exchange's [`Route`].

mod connect_to;
mod lookup;
mod resolve;
mod route;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use isahc::HttpClientBuilder;
use isahc::net::dns::DnsCache;

pub(crate) use self::connect_to::ConnectTo;
pub(crate) use self::lookup::Lookups;
pub(crate) use self::resolve::Resolve;
pub(crate) use self::route::{Route, Routing};
use crate::deadline::LONGEST;

/// Which addresses a connection may use: those of IPv4, those of IPv6, or either (the
/// default, raced as libcurl's happy eyeballs race them: see
/// [`guide::connect`](crate::guide::connect)).
///
/// [`HttpBuilder::ip_version`](crate::HttpBuilder::ip_version) sets it for a client, and
/// [`Request::ip_version`](crate::Request::ip_version) for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum IpVersion {
    /// Either family: IPv6 and IPv4 raced (curl's default).
    #[default]
    Any,
    /// IPv4 addresses only, as `curl -4`.
    V4,
    /// IPv6 addresses only, as `curl -6`.
    V6,
}

impl IpVersion {
    /// Whether `address` is of this family.
    pub(crate) fn admits(self, address: IpAddr) -> bool {
        match self {
            IpVersion::Any => true,
            IpVersion::V4 => address.is_ipv4(),
            IpVersion::V6 => address.is_ipv6(),
        }
    }

    fn isahc(self) -> isahc::net::IpVersion {
        match self {
            IpVersion::Any => isahc::net::IpVersion::Any,
            IpVersion::V4 => isahc::net::IpVersion::V4,
            IpVersion::V6 => isahc::net::IpVersion::V6,
        }
    }

    fn curl(self) -> curl::easy::IpResolve {
        match self {
            IpVersion::Any => curl::easy::IpResolve::Any,
            IpVersion::V4 => curl::easy::IpResolve::V4,
            IpVersion::V6 => curl::easy::IpResolve::V6,
        }
    }
}

/// Bandwidth caps in bytes a second, each direction on its own; `None` for none set, and
/// 0 for none at all (libcurl's, and curl's `--limit-rate 0`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Rates {
    pub(crate) download: Option<u64>,
    pub(crate) upload: Option<u64>,
}

impl Rates {
    /// These, where set, else `defaults`.
    fn or(self, defaults: Rates) -> Rates {
        Rates {
            download: self.download.or(defaults.download),
            upload: self.upload.or(defaults.upload),
        }
    }
}

/// How long libcurl keeps what a name resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DnsLifetime {
    /// Not at all: each new connection resolves its name again.
    Off,
    /// Whole seconds (libcurl counts seconds).
    Seconds(u64),
    /// For as long as the client lives.
    Forever,
}

impl DnsLifetime {
    /// libcurl's own default.
    const DEFAULT: DnsLifetime = DnsLifetime::Seconds(60);

    /// The lifetime `given` to the builder, as libcurl can keep it: zero is off, less
    /// than a second one second, a year or more for ever.
    fn of(given: Duration) -> DnsLifetime {
        if given.is_zero() {
            DnsLifetime::Off
        } else if given >= LONGEST {
            DnsLifetime::Forever
        } else {
            DnsLifetime::Seconds(given.as_nanos().div_ceil(1_000_000_000) as u64)
        }
    }

    /// Whether an answer `age` old is still of use.
    fn keeps(self, age: Duration) -> bool {
        match self {
            DnsLifetime::Off => false,
            DnsLifetime::Seconds(seconds) => age < Duration::from_secs(seconds),
            DnsLifetime::Forever => true,
        }
    }
}

/// What the builder was told, as it was told: `build()` checks it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Asked {
    /// Host, port and addresses, in the order given.
    pub(crate) resolve: Vec<(String, u16, Vec<String>)>,
    /// `HOST:PORT` and its target `HOST:PORT`, in the order given.
    pub(crate) connect_to: Vec<(String, String)>,
    pub(crate) dns_cache: Option<Duration>,
    pub(crate) ip_version: IpVersion,
    pub(crate) unix_socket: Option<PathBuf>,
    pub(crate) rates: Rates,
}

/// Where a client's connections go and how fast, as its builder checked them.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectSettings {
    pub(crate) resolve: Resolve,
    pub(crate) connect_to: ConnectTo,
    /// `None`: libcurl's default, 60 seconds.
    pub(crate) dns_cache: Option<DnsLifetime>,
    pub(crate) ip_version: IpVersion,
    /// Every request goes over it, unless it has a socket of its own (unix only).
    pub(crate) unix_socket: Option<PathBuf>,
    pub(crate) rates: Rates,
}

impl ConnectSettings {
    /// `asked` checked, or why it is refused, for `Error::Init`.
    pub(crate) fn checked(asked: &Asked) -> Result<ConnectSettings, String> {
        let resolve = Resolve::checked(&asked.resolve)?;
        let connect_to = ConnectTo::checked(&asked.connect_to)?;
        if let Some(path) = &asked.unix_socket {
            socket_path(path).map_err(|reason| format!("unix_socket: {reason}"))?;
            // libcurl connects over the socket whatever the connect-to entries say, so
            // they could never apply: a client says one or the other.
            if !connect_to.is_empty() {
                return Err("unix_socket and connect_to both say where every request \
                            connects; give the client one of them"
                    .to_owned());
            }
        }
        Ok(ConnectSettings {
            resolve,
            connect_to,
            dns_cache: asked.dns_cache.map(DnsLifetime::of),
            ip_version: asked.ip_version,
            unix_socket: asked.unix_socket.clone(),
            rates: asked.rates,
        })
    }

    /// An isahc client builder with what isahc sets on a client alone: the resolve map
    /// and the DNS cache's lifetime. The rest is set on each request (see [`Route`]).
    pub(crate) fn client(&self, builder: HttpClientBuilder) -> HttpClientBuilder {
        let builder = match self.resolve.map() {
            Some(map) => builder.dns_resolve(map),
            None => builder,
        };
        match self.dns_cache {
            None => builder,
            Some(DnsLifetime::Off) => builder.dns_cache(DnsCache::Disable),
            Some(DnsLifetime::Seconds(seconds)) => {
                builder.dns_cache(DnsCache::Timeout(Duration::from_secs(seconds)))
            }
            Some(DnsLifetime::Forever) => builder.dns_cache(DnsCache::Forever),
        }
    }

    /// Whether an exchange's route may differ from its URL's plain one: a request's own
    /// values aside, and the resolve map, which libcurl applies on its own.
    pub(crate) fn routes(&self) -> bool {
        !self.connect_to.is_empty()
            || self.unix_socket.is_some()
            || self.ip_version != IpVersion::Any
            || self.rates != Rates::default()
    }

    /// How long an answer of the system's resolver is kept: as long as libcurl keeps its
    /// own.
    fn dns_lifetime(&self) -> DnsLifetime {
        self.dns_cache.unwrap_or(DnsLifetime::DEFAULT)
    }
}

/// A request's own values, in place of its client's; boxed in the request, which most
/// often has none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ConnectOverrides {
    pub(crate) ip_version: Option<IpVersion>,
    /// Unix only.
    pub(crate) unix_socket: Option<PathBuf>,
    pub(crate) rates: Rates,
}

impl ConnectOverrides {
    /// Why a request with these cannot be sent, for `Error::InvalidRequest`.
    pub(crate) fn refused(&self) -> Option<String> {
        let path = self.unix_socket.as_ref()?;
        socket_path(path)
            .err()
            .map(|reason| format!("unix_socket: {reason}"))
    }
}

/// The longest path a Unix socket's address holds (`sun_path`, less its final NUL), on
/// Linux; the other systems' is shorter still, and libcurl refuses a longer one there.
const SOCKET_PATH_MAX: usize = 107;

/// Why `path` cannot name a Unix socket, if it cannot. Whether one is there is seen when a
/// request is sent: a socket may come and go while the client lives.
fn socket_path(path: &std::path::Path) -> Result<(), String> {
    let length = path.as_os_str().len();
    if length == 0 {
        return Err("the path is empty".to_owned());
    }
    if length > SOCKET_PATH_MAX {
        return Err(format!(
            "{} is {length} bytes long; a Unix socket's path is at most {SOCKET_PATH_MAX}",
            path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_lifetime_as_libcurl_keeps_it() {
        assert_eq!(DnsLifetime::of(Duration::ZERO), DnsLifetime::Off);
        assert_eq!(
            DnsLifetime::of(Duration::from_millis(1)),
            DnsLifetime::Seconds(1)
        );
        assert_eq!(
            DnsLifetime::of(Duration::from_millis(1500)),
            DnsLifetime::Seconds(2)
        );
        assert_eq!(DnsLifetime::of(Duration::MAX), DnsLifetime::Forever);
        assert!(!DnsLifetime::Off.keeps(Duration::ZERO));
        assert!(DnsLifetime::Seconds(2).keeps(Duration::from_millis(1999)));
        assert!(!DnsLifetime::Seconds(2).keeps(Duration::from_secs(2)));
        assert!(DnsLifetime::Forever.keeps(Duration::MAX));
    }

    #[test]
    fn a_socket_path_is_checked_for_what_can_be_known_early() {
        assert!(socket_path(std::path::Path::new("")).is_err());
        let long = format!("/tmp/{}", "s".repeat(SOCKET_PATH_MAX));
        let refused = socket_path(std::path::Path::new(&long)).unwrap_err();
        assert!(refused.contains("at most 107"), "{refused}");
        // Not there yet is fine: it is looked for when a request is sent.
        assert!(socket_path(std::path::Path::new("/run/not-yet-there.sock")).is_ok());
    }

    #[test]
    fn a_client_socket_and_connect_to_entries_are_refused_together() {
        let asked = Asked {
            connect_to: vec![("api.test:443".to_owned(), "127.0.0.1:8443".to_owned())],
            unix_socket: Some(PathBuf::from("/run/app.sock")),
            ..Asked::default()
        };
        let refused = ConnectSettings::checked(&asked).unwrap_err();
        assert!(refused.contains("unix_socket and connect_to"), "{refused}");
    }
}
