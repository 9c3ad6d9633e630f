//! Names pinned to addresses, as curl's `--resolve host:port:addr[,addr]...`: the
//! connections of a client to `host:port` go to those addresses, while the URL, the `Host`
//! header, SNI and the certificate check keep the name.

use std::net::IpAddr;

use isahc::net::dns::ResolveMap;

/// A client's pinned names, checked; each host and port once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resolve(Vec<Pinned>);

/// One name and port, and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pinned {
    /// A lower-case name as URLs carry it (IDNA's ASCII form), or `*` for every name.
    host: String,
    port: u16,
    /// In the order given: libcurl tries them in that order within each family.
    addresses: Vec<IpAddr>,
}

/// The host that stands for every name: curl's wildcard.
const ANY_HOST: &str = "*";

impl Resolve {
    /// The entries `asked` for, checked: a name (or `*`), a port above 0 and at least one
    /// address each. A host and port given again replaces what it was given before, as a
    /// second `--resolve` of them does in curl.
    pub(crate) fn checked(asked: &[(String, u16, Vec<String>)]) -> Result<Resolve, String> {
        let mut pinned: Vec<Pinned> = Vec::with_capacity(asked.len());
        for (host, port, addresses) in asked {
            let entry = Pinned::checked(host, *port, addresses)?;
            match pinned
                .iter_mut()
                .find(|p| (&p.host, p.port) == (&entry.host, entry.port))
            {
                Some(earlier) => *earlier = entry,
                None => pinned.push(entry),
            }
        }
        Ok(Resolve(pinned))
    }

    /// The addresses `host` (as a URL carries it) is pinned to on `port`: its own entry,
    /// else the wildcard's, as libcurl looks them up.
    pub(crate) fn addresses(&self, host: &str, port: u16) -> Option<&[IpAddr]> {
        let entry = |wanted: &str| {
            self.0
                .iter()
                .find(|p| p.port == port && p.host == wanted)
                .map(|p| p.addresses.as_slice())
        };
        entry(host).or_else(|| entry(ANY_HOST))
    }

    /// The map for isahc's client, `None` when nothing is pinned.
    ///
    /// isahc's `ResolveMap::add(host, port, address)` writes libcurl's entry
    /// `host:port:address` with one address, and a second entry for the same host and
    /// port replaces the first in libcurl's cache, so isahc cannot pin a name to two
    /// addresses as it stands. libcurl reads an entry's addresses as a comma-separated
    /// list, each of which may be in brackets, and stops reading after a bracketed
    /// address that no comma follows (`Curl_loadhostpairs`, lib/vdns/dnscache.c). So the
    /// whole entry, every address bracketed, is handed over as isahc's "host":
    /// `name:port:[a1],[a2]`, after which isahc writes `:port:a1`, a tail libcurl does not
    /// read. The happy eyeballs test (tests/it/connect.rs) fails if only the first
    /// address is used.
    pub(crate) fn map(&self) -> Option<ResolveMap> {
        let first = self.0.first()?;
        Some(self.0.iter().fold(ResolveMap::new(), |map, pinned| {
            map.add(pinned.entry(), first.port, first.addresses[0])
        }))
    }

    /// libcurl's `CURLOPT_RESOLVE` list, as curl writes it: for a handle of our own.
    pub(crate) fn curl_list(&self) -> Result<curl::easy::List, curl::Error> {
        let mut list = curl::easy::List::new();
        for pinned in &self.0 {
            list.append(&pinned.entry())?;
        }
        Ok(list)
    }
}

impl Pinned {
    fn checked(host: &str, port: u16, addresses: &[String]) -> Result<Pinned, String> {
        let refused = |why: String| Err(format!("resolve {host:?}, port {port}: {why}"));
        let host = match host {
            ANY_HOST => ANY_HOST.to_owned(),
            name => match url::Host::parse(name) {
                Ok(url::Host::Domain(domain)) => domain,
                Ok(_) => return refused("an address needs no resolving; give a name".into()),
                Err(e) => return refused(format!("not a host name ({e})")),
            },
        };
        if port == 0 {
            return refused("the port must be above 0".into());
        }
        if addresses.is_empty() {
            return refused("no address given".into());
        }
        let mut parsed = Vec::with_capacity(addresses.len());
        for text in addresses {
            let bare = text
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .unwrap_or(text);
            match bare.parse::<IpAddr>() {
                Ok(address) => parsed.push(address),
                Err(_) => return refused(format!("{text:?} is not an IP address")),
            }
        }
        Ok(Pinned {
            host,
            port,
            addresses: parsed,
        })
    }

    /// libcurl's entry for it, every address bracketed: `name:port:[a1],[a2]`.
    fn entry(&self) -> String {
        let addresses: Vec<String> = self.addresses.iter().map(|a| format!("[{a}]")).collect();
        format!("{}:{}:{}", self.host, self.port, addresses.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(host: &str, port: u16, addresses: &[&str]) -> (String, u16, Vec<String>) {
        let addresses = addresses.iter().map(|a| (*a).to_owned()).collect();
        (host.to_owned(), port, addresses)
    }

    #[test]
    fn entries_are_written_as_libcurl_reads_them() {
        let resolve = Resolve::checked(&[
            asked("Pinned.TEST", 443, &["127.0.0.1", "[::1]", "::2"]),
            asked("*", 80, &["10.0.0.1"]),
        ])
        .unwrap();
        let entries: Vec<String> = resolve.0.iter().map(Pinned::entry).collect();
        assert_eq!(
            entries,
            ["pinned.test:443:[127.0.0.1],[::1],[::2]", "*:80:[10.0.0.1]"]
        );
        // What isahc then writes: the entry, and a tail that libcurl's parser stops
        // before, after a bracketed address that no comma follows.
        let shown = format!("{:?}", resolve.map().unwrap());
        assert!(
            shown.contains("pinned.test:443:[127.0.0.1],[::1],[::2]:443:127.0.0.1"),
            "{shown}"
        );
        assert!(shown.contains("*:80:[10.0.0.1]:443:127.0.0.1"), "{shown}");
    }

    #[test]
    fn a_host_and_port_given_again_replace_the_first() {
        let resolve = Resolve::checked(&[
            asked("a.test", 443, &["127.0.0.1"]),
            asked("a.test", 80, &["127.0.0.3"]),
            asked("A.test", 443, &["127.0.0.2"]),
        ])
        .unwrap();
        assert_eq!(resolve.0.len(), 2);
        let two: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(resolve.addresses("a.test", 443), Some(&[two][..]));
    }

    #[test]
    fn the_wildcard_answers_for_names_without_an_entry() {
        let resolve = Resolve::checked(&[
            asked("*", 443, &["127.0.0.9"]),
            asked("own.test", 443, &["127.0.0.1"]),
        ])
        .unwrap();
        let nine: IpAddr = "127.0.0.9".parse().unwrap();
        assert_eq!(resolve.addresses("other.test", 443), Some(&[nine][..]));
        assert_ne!(resolve.addresses("own.test", 443), Some(&[nine][..]));
        assert_eq!(resolve.addresses("other.test", 80), None);
        assert!(Resolve::default().map().is_none());
    }

    #[test]
    fn bad_entries_are_refused_with_their_reason() {
        for (entry, reason) in [
            (asked("", 443, &["127.0.0.1"]), "not a host name"),
            (asked("a b.test", 443, &["127.0.0.1"]), "not a host name"),
            (
                asked("127.0.0.1", 443, &["127.0.0.2"]),
                "needs no resolving",
            ),
            (asked("[::1]", 443, &["127.0.0.2"]), "needs no resolving"),
            (asked("a.test", 0, &["127.0.0.1"]), "port must be above 0"),
            (asked("a.test", 443, &[]), "no address given"),
            (
                asked("a.test", 443, &["127.0.0.1", "localhost"]),
                "\"localhost\" is not",
            ),
            (
                asked("a.test", 443, &["[127.0.0.1"]),
                "is not an IP address",
            ),
        ] {
            let refused = Resolve::checked(&[entry]).unwrap_err();
            assert!(refused.contains(reason), "{refused}");
        }
    }
}
