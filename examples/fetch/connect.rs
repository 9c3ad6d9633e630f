//! fetch's options for where and how fast to connect, spelled and read as curl reads them:
//! `--resolve`, `--connect-to`, `--unix-socket`, `--limit-rate`, `-4` and `-6`.

use std::path::PathBuf;

use asynchttp::{HttpBuilder, IpVersion};

/// Their lines of the usage text.
pub const USAGE: &str = "      --resolve HOST:PORT:ADDR[,ADDR]...
                      connect to HOST on PORT at these addresses, raced as a
                      name's are (happy eyeballs)
      --connect-to HOST1:PORT1:HOST2:PORT2
                      connect to HOST2:PORT2 for URLs of HOST1:PORT1; an empty
                      HOST1 or PORT1 matches any, an empty HOST2 or PORT2 keeps
                      the URL's
      --unix-socket PATH
                      connect over the Unix socket at PATH
      --limit-rate RATE
                      at most RATE bytes a second, each way and each transfer;
                      k, m and g count 1024s (512k, 2m)
  -4, --ipv4          IPv4 addresses only
  -6, --ipv6          IPv6 addresses only";

/// The options given, in the order given.
#[derive(Default)]
pub struct Connect {
    resolve: Vec<(String, u16, Vec<String>)>,
    connect_to: Vec<(String, String)>,
    unix_socket: Option<PathBuf>,
    limit_rate: Option<u64>,
    ip_version: Option<IpVersion>,
}

impl Connect {
    /// Takes `flag`, and its value from `value`, if it is one of these options: `Ok(false)`
    /// if it is not.
    pub fn take(
        &mut self,
        flag: &str,
        mut value: impl FnMut(&str) -> Result<String, String>,
    ) -> Result<bool, String> {
        match flag {
            "--resolve" => self.resolve.push(resolve(&value(flag)?)?),
            "--connect-to" => self.connect_to.push(connect_to(&value(flag)?)?),
            "--unix-socket" => self.unix_socket = Some(PathBuf::from(value(flag)?)),
            "--limit-rate" => self.limit_rate = Some(rate(&value(flag)?)?),
            "-4" | "--ipv4" => self.ip_version = Some(IpVersion::V4),
            "-6" | "--ipv6" => self.ip_version = Some(IpVersion::V6),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `builder` with the options given; the library checks what it can only check
    /// there (a host, an address, a socket's path) when the client is built.
    pub fn apply(&self, mut builder: HttpBuilder) -> HttpBuilder {
        for (host, port, addresses) in &self.resolve {
            builder = builder.resolve(host, *port, addresses);
        }
        for (from, to) in &self.connect_to {
            builder = builder.connect_to(from, to);
        }
        if let Some(path) = &self.unix_socket {
            builder = unix_socket(builder, path);
        }
        if let Some(rate) = self.limit_rate {
            builder = builder.max_download_speed(rate).max_upload_speed(rate);
        }
        if let Some(version) = self.ip_version {
            builder = builder.ip_version(version);
        }
        builder
    }
}

#[cfg(unix)]
fn unix_socket(builder: HttpBuilder, path: &std::path::Path) -> HttpBuilder {
    builder.unix_socket(path)
}

#[cfg(not(unix))]
fn unix_socket(builder: HttpBuilder, _: &std::path::Path) -> HttpBuilder {
    eprintln!("fetch: --unix-socket needs a Unix system; ignored");
    builder
}

/// `HOST:PORT:ADDR[,ADDR]...`, as curl's `--resolve` reads it: the host up to the first
/// colon, the port up to the next, and the rest a list of addresses, an IPv6 one with or
/// without brackets.
fn resolve(text: &str) -> Result<(String, u16, Vec<String>), String> {
    let usage = || format!("--resolve takes HOST:PORT:ADDR[,ADDR]..., not {text:?}");
    let mut fields = text.splitn(3, ':');
    let (Some(host), Some(port), Some(addresses)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(usage());
    };
    let port = port.parse().map_err(|_| usage())?;
    let addresses = addresses.split(',').map(str::to_owned).collect();
    Ok((host.to_owned(), port, addresses))
}

/// `HOST1:PORT1:HOST2:PORT2`, as curl's `--connect-to` reads it, split into the
/// `HOST:PORT` matched and its target; a host may be an IPv6 address in brackets.
fn connect_to(text: &str) -> Result<(String, String), String> {
    let usage = || format!("--connect-to takes HOST1:PORT1:HOST2:PORT2, not {text:?}");
    let host_end = match text.strip_prefix('[') {
        Some(rest) => rest.find(']').map(|end| end + 2).ok_or_else(usage)?,
        None => text.find(':').ok_or_else(usage)?,
    };
    let after_host = text[host_end..].strip_prefix(':').ok_or_else(usage)?;
    let port_end = after_host.find(':').ok_or_else(usage)?;
    let from = &text[..host_end + 1 + port_end];
    let to = &after_host[port_end + 1..];
    if to.is_empty() || !to.contains(':') {
        return Err(usage());
    }
    Ok((from.to_owned(), to.to_owned()))
}

/// Bytes a second, as curl's `--limit-rate` reads them: a whole number, and `k`, `m` or
/// `g` (either case) for 1024, 1024² or 1024³ of them.
fn rate(text: &str) -> Result<u64, String> {
    let usage = || format!("--limit-rate takes bytes a second, as 512k or 2m, not {text:?}");
    let (digits, unit) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&text[..at], c.to_ascii_lowercase()),
        _ => (text, 'b'),
    };
    let shift = match unit {
        'b' => 0,
        'k' => 10,
        'm' => 20,
        'g' => 30,
        _ => return Err(usage()),
    };
    let number: u64 = digits.parse().map_err(|_| usage())?;
    number.checked_mul(1 << shift).ok_or_else(usage)
}
