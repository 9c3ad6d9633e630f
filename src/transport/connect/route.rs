//! One exchange's route: its client's settings and its request's own values merged, with
//! the connect-to entry its URL matches, into what libcurl is told beside the URL. Each
//! exchange gets its own, so a redirect hop to another host is matched again, and a
//! request's Unix socket carries every hop, retry and 401 answer of it.

use std::net::SocketAddr;
#[cfg(unix)]
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use isahc::config::Configurable;
use isahc::http;
use url::Url;

use super::connect_to::Target;
use super::lookup::Missed;
use super::{ConnectOverrides, ConnectSettings, IpVersion, Lookups, Rates, Resolve};
use crate::Error;
use crate::deadline::{Deadline, Phase};
use crate::pool::PoolRef;

/// Where an exchange connects, in which family, and how fast it may go.
#[derive(Debug, Clone, Default)]
pub(crate) struct Route {
    pub(crate) to: To,
    pub(crate) ip_version: IpVersion,
    rates: Rates,
}

/// Where an exchange connects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum To {
    /// The URL's host and port, through the resolve map.
    #[default]
    Url,
    /// A connect-to entry's target.
    Address(SocketAddr),
    /// A Unix socket: libcurl then ignores connect-to entries and proxies.
    #[cfg(unix)]
    Socket(PathBuf),
}

/// What a route is worked out with, beside the request's URL and its own values.
pub(crate) struct Routing<'a> {
    pub(crate) settings: &'a ConnectSettings,
    pub(crate) lookups: &'a Lookups,
    /// The client's connect timeout: a name's lookup counts against it.
    pub(crate) connect: Duration,
    pub(crate) deadline: &'a Deadline,
    pub(crate) pool: &'a PoolRef,
}

impl Route {
    /// The route of an exchange with `url`, of a request with its `own` values. A
    /// connect-to target's name is looked up (see `lookup`); a Unix socket that is not
    /// there fails the exchange as a connection that could not be made.
    pub(crate) async fn of(
        url: &Url,
        own: Option<&ConnectOverrides>,
        with: Routing<'_>,
    ) -> Result<Route, Error> {
        let settings = with.settings;
        let ip_version = own
            .and_then(|own| own.ip_version)
            .unwrap_or(settings.ip_version);
        let rates = own.map_or(settings.rates, |own| own.rates.or(settings.rates));
        let route = |to| Route {
            to,
            ip_version,
            rates,
        };
        #[cfg(unix)]
        {
            let socket = own.and_then(|own| own.unix_socket.as_ref());
            if let Some(path) = socket.or(settings.unix_socket.as_ref()) {
                return Ok(route(To::Socket(path.clone())));
            }
        }
        match settings.connect_to.target(url) {
            None => Ok(route(To::Url)),
            Some(Target::Address(address, port)) => {
                Ok(route(To::Address(SocketAddr::new(address, port))))
            }
            Some(Target::Name(name, port)) => {
                let within = with.connect.min(with.deadline.left()?);
                let lookup =
                    with.lookups
                        .address(settings, (&name, port), ip_version, within, with.pool);
                match lookup.await {
                    Ok(address) => Ok(route(To::Address(address))),
                    Err(Missed::TimedOut) => Err(with.deadline.timed_out(Phase::Connecting {
                        connect: with.connect,
                    })),
                    Err(Missed::NotFound(e)) => Err(Error::ServerNotFound {
                        host: name,
                        source: Arc::new(isahc::Error::from(e)),
                    }),
                }
            }
        }
    }

    /// `builder` with this route's options for libcurl: only those that differ from its
    /// defaults, so that a request without any costs nothing.
    pub(crate) fn apply(&self, builder: http::request::Builder) -> http::request::Builder {
        let mut builder = match &self.to {
            To::Url => builder,
            To::Address(address) => builder.dial(isahc::net::Dialer::ip_socket(*address)),
            #[cfg(unix)]
            To::Socket(path) => builder.dial(isahc::net::Dialer::unix_socket(path.clone())),
        };
        if self.ip_version != IpVersion::Any {
            builder = builder.ip_version(self.ip_version.isahc());
        }
        // The bandwidth caps are kept by the transport itself: see `pace`.
        builder
    }

    /// The cap on the response's body, in bytes a second, if it has one (0 is none).
    pub(crate) fn download_cap(&self) -> Option<u64> {
        self.rates.download.filter(|rate| *rate > 0)
    }

    /// The cap on the request's body, in bytes a second, if it has one (0 is none).
    pub(crate) fn upload_cap(&self) -> Option<u64> {
        self.rates.upload.filter(|rate| *rate > 0)
    }

    /// The same route on a libcurl handle of our own (a failed handshake looked at again),
    /// with the client's resolve map.
    pub(crate) fn configure(
        &self,
        easy: &mut curl::easy::Easy,
        resolve: &Resolve,
    ) -> Result<(), curl::Error> {
        easy.resolve(resolve.curl_list()?)?;
        easy.ip_resolve(self.ip_version.curl())?;
        match &self.to {
            To::Url => Ok(()),
            To::Address(address) => {
                // What `Dialer::ip_socket` hands libcurl: any host and port, to this one.
                let mut list = curl::easy::List::new();
                list.append(&format!("::{address}"))?;
                easy.connect_to(list)
            }
            #[cfg(unix)]
            To::Socket(path) => easy.unix_socket_path(Some(path)),
        }
    }

    /// Where the connection went instead of the URL's host and port, as an error shows it.
    pub(crate) fn shown(&self) -> Option<String> {
        match &self.to {
            To::Url => None,
            To::Address(address) => Some(address.to_string()),
            #[cfg(unix)]
            To::Socket(path) => Some(unix_text(path)),
        }
    }

    /// Why the exchange's Unix socket cannot be reached, when the system can say: looked
    /// for once libcurl could not connect (libcurl gives no reason), not on every exchange.
    pub(crate) fn socket_missing(&self) -> Option<std::io::Error> {
        match &self.to {
            To::Url | To::Address(_) => None,
            #[cfg(unix)]
            To::Socket(path) => std::fs::metadata(path).err(),
        }
    }

    /// Whether proxies are left aside: libcurl ignores them over a Unix socket.
    pub(crate) fn bypasses_proxies(&self) -> bool {
        match &self.to {
            To::Url | To::Address(_) => false,
            #[cfg(unix)]
            To::Socket(_) => true,
        }
    }
}

/// A Unix socket as isahc's dialer writes one: `unix:/run/app.sock`.
#[cfg(unix)]
fn unix_text(path: &std::path::Path) -> String {
    format!("unix:{}", path.display())
}
