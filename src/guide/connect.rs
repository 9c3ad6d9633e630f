//! Where connections go and how fast: a name pinned to an address for a test or a
//! migration, a host sent to another server, Docker's Unix socket, IPv4 or IPv6 alone,
//! what happy eyeballs does, the DNS cache, and bandwidth caps; curl's `--resolve`,
//! `--connect-to`, `--unix-socket`, `-4`, `-6` and `--limit-rate`.
//!
//! | curl | client ([`HttpBuilder`]) | one request ([`Request`]) |
//! |---|---|---|
//! | `--resolve host:port:addr[,addr]` | [`resolve`](crate::HttpBuilder::resolve) | |
//! | `--connect-to host:port:host2:port2` | [`connect_to`](crate::HttpBuilder::connect_to) | |
//! | `--unix-socket path` | [`unix_socket`](crate::HttpBuilder::unix_socket) | [`unix_socket`](crate::Request::unix_socket) |
//! | `-4`, `-6` | [`ip_version`](crate::HttpBuilder::ip_version) | [`ip_version`](crate::Request::ip_version) |
//! | `--limit-rate` (both ways) | [`max_download_speed`](crate::HttpBuilder::max_download_speed), [`max_upload_speed`](crate::HttpBuilder::max_upload_speed) | [`max_download_speed`](crate::Request::max_download_speed), [`max_upload_speed`](crate::Request::max_upload_speed) |
//! | `CURLOPT_DNS_CACHE_TIMEOUT` | [`dns_cache`](crate::HttpBuilder::dns_cache) | |
//!
//! Each method's documentation holds its rules; a request's own value replaces its
//! client's. The `fetch` example takes the curl options by their curl names
//! (`cargo run --example fetch -- --resolve shop.test:443:127.0.0.1 https://shop.test/`).
//!
//! # Pinning a name for a test or a migration
//!
//! A server of your own that has a real name and a certificate for it, reached before DNS
//! says so: the new machine of a migration, or a local copy in a test. The URL, the `Host`
//! header, the TLS server name and the certificate check all keep the name; only the
//! address changes.
//!
//! ```no_run
//! use asynchttp::{Http, ProxyInfo};
//!
//! let http = Http::builder()
//!     .resolve("shop.example.com", 443, ["203.0.113.7"]) // the new machine
//!     .proxy_info(ProxyInfo::none())
//!     .build()?;
//! let (response, _) = http.request("https://shop.example.com/health");
//! println!("{}", response.status);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! A pinned name is not a loopback host, so a proxy set in the environment would take its
//! requests (and resolve the name itself): turn proxies off for such a client, as above.
//! `"*"` pins every name on a port, for a test that reaches many names on one server.
//!
//! # Sending a host to another server
//!
//! The production name, to one backend of several, or to a staging server on another
//! port: [`connect_to`](crate::HttpBuilder::connect_to) changes where the connection goes, host
//! and port, and nothing of what is sent.
//!
//! ```no_run
//! let http = asynchttp::Http::builder()
//!     .connect_to("api.example.com:443", "10.0.3.12:8443")
//!     .build()?;
//! # drop(http);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! Each redirect hop is matched again. A target given as a name is looked up by the crate,
//! off the drivers, and is not raced as libcurl races a name's addresses; see the method.
//!
//! # Docker's socket
//!
//! ```no_run
//! # #[cfg(unix)] {
//! use asynchttp::{Http, Request};
//!
//! // Every request of this client goes over the socket.
//! let docker = Http::builder().unix_socket("/var/run/docker.sock").build()?;
//! let (_, containers) = docker.request("http://localhost/v1.43/containers/json");
//! println!("{containers}");
//!
//! // Or one request of a client that otherwise goes over TCP.
//! let http = Http::new();
//! let ping = Request::get("http://localhost/_ping").unix_socket("/var/run/docker.sock");
//! let (_, pong) = http.send(ping);
//! assert_eq!(&*pong, b"OK");
//! # }
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! The URL's host is what the server sees in `Host`; the socket is the connection. A
//! request's redirects, retries and answers to a 401 stay on its socket, and connections
//! on it are kept alive and shared as over TCP. Unix only.
//!
//! # IPv4 only, or IPv6 only
//!
//! ```no_run
//! use asynchttp::{Http, IpVersion, Request};
//!
//! // A network whose IPv6 routes black-hole: IPv4 alone, as curl -4.
//! let http = Http::builder().ip_version(IpVersion::V4).build()?;
//! // One request that must go over IPv6, as curl -6.
//! let (response, _) = http.send(Request::get("https://example.com/").ip_version(IpVersion::V6));
//! # drop(response);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! # What happy eyeballs does
//!
//! A name often has several addresses, of both families, and some may not answer at all: a
//! broken IPv6 route drops packets rather than refuse them. libcurl (lib/cf-ip-happy.c)
//! does not try them one after the other, each for the whole connect timeout, but races
//! them (RFC 8305's "happy eyeballs"):
//!
//! - it starts with the first IPv6 address, then alternates families;
//! - it starts the next address when the last one started 200 ms ago and none has
//!   connected yet (`CURLOPT_HAPPY_EYEBALLS_TIMEOUT_MS`), or at once when the attempts
//!   under way have all failed; within a family, in the order of the addresses;
//! - up to 6 attempts run at once (the oldest is dropped to start a seventh), the first to
//!   connect wins and the others are closed;
//! - all of it within the [`connect_timeout`](crate::HttpBuilder::connect_timeout).
//!
//! So an address that never answers costs 200 ms, not the connect timeout. The crate's
//! tests show it with a name pinned to an IPv6 address that never answers beside an IPv4
//! one that does: answered in 202 ms, where the IPv6 address alone timed out at the
//! connect timeout of 5 s; the same within IPv4 alone (tests/it/connect.rs). It applies to
//! names libcurl resolves, pinned names included; [`IpVersion`] narrows the race to one
//! family.
//!
//! # The DNS cache
//!
//! libcurl keeps what a name resolved to for 60 seconds, so that new connections skip
//! DNS; [`dns_cache`](crate::HttpBuilder::dns_cache) changes that, from zero (every new
//! connection resolves again, to follow a failover) to the client's whole life.
//!
//! # Capping bandwidth
//!
//! ```no_run
//! use asynchttp::{Destination, Http, Request};
//!
//! // Every body of this client at 2 MiB/s at most each way, as curl --limit-rate 2m.
//! let http = Http::builder()
//!     .max_download_speed(2 << 20)
//!     .max_upload_speed(2 << 20)
//!     .build()?;
//! // This one download at 512 KiB/s; 0 would lift the client's cap for it.
//! let iso = Request::get("https://example.com/big.iso").max_download_speed(512 << 10);
//! let download = http.send_to(iso, Destination::file("big.iso"));
//! # drop(download);
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! Each body is paced on its own, by the crate, holding no thread while it waits: ten
//! capped downloads at once take ten times the cap together. A capped body still has its
//! request's timeout to meet; see [`max_download_speed`](crate::HttpBuilder::max_download_speed).
//!
//! # Against nginx
//!
//! `conformance/nginx/run.sh` checks these settings against nginx 1.22 listening on
//! 127.0.0.1 and on a Unix socket: requests over the socket, set on the client or on one
//! request, follow nginx's 302 over it and share one connection (nginx's `$connection`
//! and `$connection_requests`: a redirect's two requests on one, three requests in a row on
//! one), and a missing socket fails with `Error::Connect`; `http://nginx.test:PORT/` pinned
//! to 127.0.0.1 reaches nginx with `Host: nginx.test:PORT`, and over https with a
//! certificate for `nginx.test` from a CA given to [`ca_certs`](crate::HttpBuilder::ca_certs),
//! while `other.test` pinned to the same address fails with `Error::Tls`
//! (`NotValidForName`) and sends nothing; 2 MiB capped at 1 MiB/s take 1.95 s, against
//! 6 ms uncapped.
//!
//! # With a mock
//!
//! A client built with a [`MockTransport`](crate::MockTransport) checks these settings
//! as any other does (a bad entry still fails `build()`, a request's empty socket path
//! still fails it), and then has no connection for them to apply to: its handler answers
//! at once, whatever they say.
//!
//! [`HttpBuilder`]: crate::HttpBuilder
//! [`Request`]: crate::Request
//! [`IpVersion`]: crate::IpVersion
