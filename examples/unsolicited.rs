//! A known limit, shown: a response a server writes unasked on an idle keep-alive
//! connection, in the first second after the connection went idle, is read as the answer to
//! the next request sent on that connection. libcurl checks an idle connection before reuse
//! only once it has been idle a second; after that, the stray response is found and the
//! connection dropped (`asynchttp::guide::limits`).
//!
//! ```sh
//! cargo run --example unsolicited
//! ```

#[path = "../tests/it/support.rs"]
mod support;

use std::thread;
use std::time::Duration;

use asynchttp::Http;
use support::{RawServer, read_head, send};

fn main() {
    // Each connection: "first" for its first request, a stray response 300 ms later, then
    // "second" for the next request.
    let server = RawServer::start(|s| {
        send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
        thread::sleep(Duration::from_millis(300));
        send(
            s,
            b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nunsolicited",
        );
        if !read_head(s).is_empty() {
            send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
        }
    });
    for gap in [Duration::from_millis(800), Duration::from_millis(1500)] {
        let http = Http::builder().workers(1).build().expect("client");
        let (_, first) = http.request(&server.url("/a"));
        let first = first.to_string();
        thread::sleep(gap);
        let (_, next) = http.request(&server.url("/b"));
        println!(
            "next request {gap:?} after {first:?}: answered {next:?}",
            next = next.to_string()
        );
    }
}
