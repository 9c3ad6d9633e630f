//! Limits that remain, from libcurl 8.22 through isahc 2: what the crate cannot yet do
//! otherwise, and what to do about it.
//!
//! - **A response written unasked on an idle connection, in its first idle second.** libcurl
//!   checks an idle keep-alive connection for stray data before reusing it only once the
//!   connection has been idle for a second (`lastchecked` in its connection pool; no option
//!   changes it). A server that writes a response nobody asked for within that second gets it
//!   read as the answer to the next request sent on the connection; after that second the
//!   connection is found unhealthy, dropped, and the request goes on a new one (tested in
//!   `tests/it/keepalive.rs`). `cargo run --example unsolicited` shows both: a request 0.8 s
//!   after the stray response reads it, one 1.5 s after gets its own answer. isahc gives no
//!   access to the socket to check it ourselves. Servers that do this are broken or hostile;
//!   against them, [`Http::close`] between requests, or a POST without a body (always on a
//!   fresh connection), avoids reuse.
//! - **A response head over libcurl's 300 KiB total** fails as `BodyIncomplete { received: 0 }`,
//!   the same as a connection that broke in the head: libcurl reports both as a receive error,
//!   and isahc drops the error text that tells them apart. A single header line over 100 KiB is
//!   `HeadersTooLarge`. Either way it is an error, never a response
//!   (`tests/it/error_kinds.rs`).
//! - **An unknown `Transfer-Encoding`** (anything but `chunked`) fails with
//!   `BodyIncomplete`: libcurl refuses it (error 61, "Unrecognized transfer encoding"), and
//!   isahc sets no option that passes it through (`CURLOPT_HTTP_TRANSFER_DECODING` is not
//!   exposed). RFC 9112 §6.1 asks a client to treat such a message as unreadable anyway.
//! - **A connect-to target given as a name goes to one address.** isahc hands libcurl a
//!   connect-to target as an address only (`Dialer::ip_socket`), so the crate looks the
//!   name up itself and gives its first address of the family asked for: the addresses of
//!   such a target are not raced as libcurl races a name's (happy eyeballs). Give the
//!   target as an address, or pin its name with [`HttpBuilder::resolve`], to choose which.
//!   Pinned names and connect-to entries are a client's: isahc sets libcurl's resolve
//!   list on a client alone, and one request cannot have its own.
//! - **A `.netrc` owned by another user is read.** Python's netrc refuses a file with
//!   passwords whose owner is not the user running the program; the crate warns only about
//!   a file others may read ([`HttpBuilder::netrc`]), as curl does. Checking the owner
//!   means comparing the file's uid with the process's, which the standard library does
//!   not give without `unsafe` or one more dependency.
//!
//! [`Http::close`]: crate::Http::close
//! [`HttpBuilder::netrc`]: crate::HttpBuilder::netrc
//! [`HttpBuilder::resolve`]: crate::HttpBuilder::resolve
