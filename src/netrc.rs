//! A `.netrc` file: the user names and passwords it holds for each host, read once when
//! the client is built ([`HttpBuilder::netrc`](crate::HttpBuilder::netrc)), and which of
//! them a URL gets, by curl's rules. Which requests use them, and how, is the
//! credentials' business (`auth/netrc.rs`).
//!
//! The file is found and read in `file`, its text read into entries in `parse`.

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use url::Url;

use crate::logs;
use crate::origin::{self, Domain};

mod file;
mod parse;

pub(crate) use self::file::Source;

/// The entries of one `.netrc` file that can be used.
pub(crate) struct Netrc {
    file: PathBuf,
    /// `machine` entries by their host, as a URL writes it; each host's in the file's
    /// order. A lookup costs the same in a file of one entry or of thousands.
    machines: HashMap<String, Vec<Account>>,
    /// `default` entries, in the file's order.
    defaults: Vec<Account>,
}

/// An entry that offers something: a user name, a password or both.
struct Account {
    /// The host of a `machine` entry, on any port; unnamed for `default`.
    host: Domain,
    login: Option<String>,
    password: Option<String>,
}

/// What an entry offers a URL.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Offer<'a> {
    pub(crate) login: &'a str,
    pub(crate) password: &'a str,
    /// Where it may go: the host of its `machine` (any port), or, unnamed, whatever the
    /// caller counts as `default`'s.
    pub(crate) host: &'a Domain,
}

impl Netrc {
    /// The usable entries of `entries`, read from `file`. A `machine` whose name is not a
    /// host (`h:8080`, a URL) can match no request, as in curl, where the port is not
    /// compared: it is left out, with a warning that says so.
    fn new(file: &Path, entries: Vec<parse::Entry>) -> Netrc {
        let mut netrc = Netrc {
            file: file.to_owned(),
            machines: HashMap::new(),
            defaults: Vec::new(),
        };
        for entry in entries {
            if entry.login.is_none() && entry.password.is_none() {
                continue;
            }
            let account = |host: &str| Account {
                host: Domain::new(host),
                login: entry.login.clone(),
                password: entry.password.clone(),
            };
            let Some(name) = &entry.machine else {
                netrc.defaults.push(account(""));
                continue;
            };
            match machine_host(name) {
                Some(host) => netrc
                    .machines
                    .entry(host.clone())
                    .or_default()
                    .push(account(&host)),
                None => logs::warning!(
                    "netrc file {}, line {}: machine {name:?} is not a host name (a port or \
                     a URL), so no request can match it: it is not used",
                    file.display(),
                    entry.line,
                ),
            }
        }
        netrc
    }

    fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.machines.values().flatten().chain(&self.defaults)
    }

    /// How many entries can be used.
    pub(crate) fn len(&self) -> usize {
        self.accounts().count()
    }

    /// Whether no entry can be used.
    pub(crate) fn is_empty(&self) -> bool {
        self.machines.is_empty() && self.defaults.is_empty()
    }

    /// Whether some entry holds a password: what makes a file others may read worth a
    /// warning, which only Unix modes tell.
    #[cfg(unix)]
    fn has_password(&self) -> bool {
        self.accounts().any(|a| a.password.is_some())
    }

    /// What the file offers `url`, for a request made as `user` if the caller named one:
    /// the first `machine` entry for the URL's host that offers something, else the first
    /// `default` entry that does. An entry offers its login and its password (empty if it
    /// has none); for a named `user`, only an entry whose login is that user and that has
    /// a password, or one with a password and no login, offers anything, as in curl.
    pub(crate) fn offer<'a>(&'a self, url: &Url, user: Option<&'a str>) -> Option<Offer<'a>> {
        let machines = url.host_str().and_then(|host| self.machines.get(host));
        machines
            .into_iter()
            .flatten()
            .chain(&self.defaults)
            .find_map(|a| a.offer(user))
    }
}

impl Account {
    fn offer<'a>(&'a self, user: Option<&'a str>) -> Option<Offer<'a>> {
        let password = self.password.as_deref();
        let login = match (self.login.as_deref(), user) {
            (Some(login), Some(user)) if login != user || password.is_none() => return None,
            (_, Some(user)) => user,
            (Some(login), None) => login,
            (None, None) => "",
        };
        Some(Offer {
            login,
            password: password.unwrap_or_default(),
            host: &self.host,
        })
    }
}

/// The host a `machine` names, as a URL's host is written (lower case, IDNA, an IPv6
/// address in brackets); `None` for a name that is not a host alone.
fn machine_host(name: &str) -> Option<String> {
    let bracketed;
    let name = if name.parse::<Ipv6Addr>().is_ok() {
        bracketed = format!("[{name}]");
        &bracketed
    } else {
        name
    };
    if name.contains("://") {
        return None;
    }
    let key = origin::host_key(name).ok()?;
    let port = key.rsplit_once(':').is_some_and(|(_, p)| !p.ends_with(']'));
    (!port).then_some(key)
}

#[cfg(test)]
impl Netrc {
    /// The entries of `text`, as if read from `file`.
    pub(crate) fn parsed(file: &Path, text: &str) -> Netrc {
        Netrc::new(file, parse::parse(text.as_bytes()).expect("a good file"))
    }
}

/// The file and how many entries it has: never a name or a password.
impl fmt::Debug for Netrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Netrc")
            .field("file", &self.file)
            .field("entries", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn netrc(text: &str) -> Netrc {
        Netrc::parsed(Path::new("test"), text)
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// Login and password offered to `url` as `user`.
    fn offered(netrc: &Netrc, to: &str, user: Option<&str>) -> Option<(String, String)> {
        let offer = netrc.offer(&url(to), user)?;
        Some((offer.login.to_owned(), offer.password.to_owned()))
    }

    fn pair(login: &str, password: &str) -> Option<(String, String)> {
        Some((login.to_owned(), password.to_owned()))
    }

    #[test]
    fn the_first_machine_for_the_host_wins_whatever_the_port_and_case() {
        let n = netrc(
            "machine api.example login a password 1\n\
             machine API.Example login b password 2\n\
             machine other.example login c password 3",
        );
        for to in [
            "https://api.example/",
            "http://api.example:8080/x",
            "https://API.EXAMPLE/",
        ] {
            assert_eq!(offered(&n, to, None), pair("a", "1"), "{to}");
        }
        assert_eq!(offered(&n, "https://other.example/", None), pair("c", "3"));
        assert_eq!(offered(&n, "https://example/", None), None);
        assert_eq!(offered(&n, "https://x.api.example/", None), None);
    }

    #[test]
    fn default_answers_only_when_no_machine_does() {
        let n = netrc(
            "default login anon password guest\n\
             machine h login a password 1\n\
             machine empty.example\n\
             default login other password unused",
        );
        assert_eq!(offered(&n, "http://h/", None), pair("a", "1"));
        assert_eq!(offered(&n, "http://g/", None), pair("anon", "guest"));
        // A machine entry that offers nothing is passed over, as curl passes it.
        assert_eq!(
            offered(&n, "http://empty.example/", None),
            pair("anon", "guest")
        );
        let offer = n.offer(&url("http://g/"), None).unwrap();
        assert!(offer.host.is_unnamed());
        assert!(!n.offer(&url("http://h/"), None).unwrap().host.is_unnamed());
    }

    #[test]
    fn an_entry_offers_what_it_has() {
        let n = netrc(
            "machine login-only login a\n\
             machine password-only password p",
        );
        assert_eq!(offered(&n, "http://login-only/", None), pair("a", ""));
        assert_eq!(offered(&n, "http://password-only/", None), pair("", "p"));
    }

    #[test]
    fn a_named_user_takes_only_its_own_entry_with_a_password() {
        let n = netrc(
            "machine h login alice password 1\n\
             machine h login bob\n\
             machine h login bob password 2\n\
             machine g password any\n\
             default login carol password 3",
        );
        assert_eq!(offered(&n, "http://h/", Some("bob")), pair("bob", "2"));
        assert_eq!(offered(&n, "http://h/", Some("alice")), pair("alice", "1"));
        assert_eq!(offered(&n, "http://g/", Some("dave")), pair("dave", "any"));
        assert_eq!(offered(&n, "http://h/", Some("carol")), pair("carol", "3"));
        assert_eq!(offered(&n, "http://h/", Some("erin")), None);
    }

    #[test]
    fn machines_are_hosts_as_urls_write_them() {
        let n = netrc(
            "machine ::1 login v6 password 1\n\
             machine [::2] login v6b password 2\n\
             machine B\u{fc}cher.example login idn password 3\n\
             machine 127.0.0.1 login v4 password 4",
        );
        assert_eq!(offered(&n, "http://[::1]:8080/", None), pair("v6", "1"));
        assert_eq!(offered(&n, "http://[::2]/", None), pair("v6b", "2"));
        assert_eq!(
            offered(&n, "http://xn--bcher-kva.example/", None),
            pair("idn", "3")
        );
        assert_eq!(offered(&n, "http://127.0.0.1:9/", None), pair("v4", "4"));
    }

    #[test]
    fn a_machine_with_a_port_or_a_url_matches_nothing() {
        let n = netrc(
            "machine h:8080 login a password 1\n\
             machine https://h/ login b password 2\n\
             machine h/path login c password 3\n\
             machine user@h login d password 4",
        );
        assert!(n.is_empty());
        for to in ["http://h:8080/", "https://h/", "http://h/path"] {
            assert_eq!(offered(&n, to, None), None, "{to}");
        }
        assert!(netrc("machine h").is_empty(), "offers nothing");
        assert!(!netrc("machine h password p").is_empty());
    }

    #[test]
    fn debug_shows_the_file_and_a_count_never_a_secret() {
        let n = netrc("machine h login alice password s3cret\ndefault login bob password pw2");
        let shown = format!("{n:?}");
        assert_eq!(shown, r#"Netrc { file: "test", entries: 2 }"#);
        #[cfg(unix)]
        assert!(n.has_password() && !netrc("machine h login a").has_password());
    }
}
