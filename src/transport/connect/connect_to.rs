//! Servers reached at another host and port, as curl's
//! `--connect-to HOST1:PORT1:HOST2:PORT2`: a request whose URL is for `HOST1:PORT1`
//! connects to `HOST2:PORT2`, while the URL, the `Host` header, SNI and the certificate
//! check keep `HOST1`. Each field may be empty as curl allows: an empty `HOST1` or `PORT1`
//! matches any, an empty `HOST2` or `PORT2` keeps the URL's. The first entry that matches
//! a URL applies to it.

use std::net::IpAddr;

use url::{Host, Url};

/// A client's connect-to entries, checked, in the order given.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectTo(Vec<Entry>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// `None` for any host.
    host: Option<Host>,
    /// `None` for any port.
    port: Option<u16>,
    /// `None` for the URL's own host.
    to_host: Option<Host>,
    /// `None` for the URL's own port.
    to_port: Option<u16>,
}

/// Where an entry sends a URL: a host and port, the host an address or a name to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Address(IpAddr, u16),
    /// A lower-case name, as URLs carry it.
    Name(String, u16),
}

impl ConnectTo {
    /// The entries `asked` for (`HOST:PORT` and its target `HOST:PORT`), checked.
    pub(crate) fn checked(asked: &[(String, String)]) -> Result<ConnectTo, String> {
        let mut entries = Vec::with_capacity(asked.len());
        for (from, to) in asked {
            let refused = |why: String| format!("connect_to {from:?} -> {to:?}: {why}");
            let (host, port) = host_port(from).map_err(refused)?;
            let (to_host, to_port) = host_port(to).map_err(refused)?;
            if to_host.is_none() && to_port.is_none() {
                return Err(refused("the target changes neither host nor port".into()));
            }
            entries.push(Entry {
                host,
                port,
                to_host,
                to_port,
            });
        }
        Ok(ConnectTo(entries))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Where the first entry that matches `url` sends it, if one does.
    pub(crate) fn target(&self, url: &Url) -> Option<Target> {
        let host = url.host()?.to_owned();
        let port = url.port_or_known_default()?;
        let entry = self.0.iter().find(|entry| {
            entry.host.as_ref().is_none_or(|h| *h == host) && entry.port.is_none_or(|p| p == port)
        })?;
        let to_port = entry.to_port.unwrap_or(port);
        Some(match entry.to_host.as_ref().unwrap_or(&host) {
            Host::Ipv4(v4) => Target::Address(IpAddr::V4(*v4), to_port),
            Host::Ipv6(v6) => Target::Address(IpAddr::V6(*v6), to_port),
            Host::Domain(name) => Target::Name(name.clone(), to_port),
        })
    }
}

/// `HOST:PORT` with either part empty (an IPv6 address in brackets), checked: a host as
/// URLs carry it, a port above 0.
fn host_port(text: &str) -> Result<(Option<Host>, Option<u16>), String> {
    let (host, port) = match text.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, port)) => (&text[..v6.len() + 2], port.strip_prefix(':')),
            None => (text, None),
        },
        None => match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        },
    };
    let Some(port) = port else {
        return Err(format!("{text:?} is not HOST:PORT (either may be empty)"));
    };
    let port = match port {
        "" => None,
        digits => match digits.parse::<u16>() {
            Ok(0) | Err(_) => return Err(format!("{port:?} in {text:?} is not a port above 0")),
            Ok(port) => Some(port),
        },
    };
    let host = match host {
        "" => None,
        name => Some(Host::parse(name).map_err(|e| format!("{name:?} is not a host ({e})"))?),
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> Result<ConnectTo, String> {
        let asked: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        ConnectTo::checked(&asked)
    }

    fn target(connect_to: &ConnectTo, url: &str) -> Option<Target> {
        connect_to.target(&Url::parse(url).unwrap())
    }

    #[test]
    fn the_first_matching_entry_applies_and_empty_fields_match_any() {
        let connect_to = entries(&[
            ("API.test:443", "127.0.0.1:8443"),
            (":80", "backend.test:"),
            ("[::1]:", ":9000"),
            (":", "127.0.0.9:1"),
        ])
        .unwrap();
        let v4 = |a: &str| a.parse::<IpAddr>().unwrap();
        assert_eq!(
            target(&connect_to, "https://api.test/"),
            Some(Target::Address(v4("127.0.0.1"), 8443))
        );
        assert_eq!(
            target(&connect_to, "http://anything.test/"),
            Some(Target::Name("backend.test".into(), 80))
        );
        assert_eq!(
            target(&connect_to, "http://[::1]:81/"),
            Some(Target::Address(v4("::1"), 9000))
        );
        assert_eq!(
            target(&connect_to, "https://other.test/"),
            Some(Target::Address(v4("127.0.0.9"), 1))
        );
        let narrow = entries(&[("api.test:443", "127.0.0.1:8443")]).unwrap();
        assert_eq!(target(&narrow, "http://api.test/"), None);
        assert_eq!(target(&narrow, "https://www.api.test/"), None);
    }

    #[test]
    fn the_url_keeps_its_host_or_port_where_the_target_leaves_them_empty() {
        let connect_to = entries(&[("a.test:8080", ":9090"), ("b.test:", "127.0.0.1:")]).unwrap();
        assert_eq!(
            target(&connect_to, "http://a.test:8080/"),
            Some(Target::Name("a.test".into(), 9090))
        );
        assert_eq!(
            target(&connect_to, "http://b.test:7000/"),
            Some(Target::Address("127.0.0.1".parse().unwrap(), 7000))
        );
    }

    #[test]
    fn bad_entries_are_refused_with_their_reason() {
        for (from, to, reason) in [
            ("api.test", "127.0.0.1:1", "is not HOST:PORT"),
            ("api.test:443", "127.0.0.1", "is not HOST:PORT"),
            ("api.test:0", "127.0.0.1:1", "not a port above 0"),
            ("api.test:https", "127.0.0.1:1", "not a port above 0"),
            ("api.test:443", "127.0.0.1:70000", "not a port above 0"),
            ("a b:443", "127.0.0.1:1", "is not a host"),
            ("api.test:443", "[::1:1", "is not HOST:PORT"),
            ("api.test:443", ":", "changes neither host nor port"),
            ("api.test:443", "", "is not HOST:PORT"),
        ] {
            let refused = entries(&[(from, to)]).unwrap_err();
            assert!(refused.contains(reason), "{from} -> {to}: {refused}");
        }
    }
}
