//! Every log line names its thread and its request:
//!
//! ```sh
//! RUST_LOG=asynchttp=debug cargo run --example logging
//! ```

#[path = "../tests/it/support.rs"]
mod support;

use std::io::Write;

use asynchttp::{Http, LazyResponse};
use support::{Reply, Server, closed_port_url};

fn main() {
    env_logger::Builder::from_default_env()
        .format(|f, record| {
            let thread = std::thread::current();
            writeln!(
                f,
                "{} {:<5} {:<20} {:<16} {}",
                f.timestamp_micros(),
                record.level(),
                record.target(),
                thread.name().unwrap_or("unnamed"),
                record.args()
            )
        })
        .init();

    let server = Server::start(|_| Reply::ok("logged"));
    let http = Http::builder().workers(2).build().expect("client");
    let pairs: Vec<_> = (0..3)
        .map(|i| http.request(&server.url(&format!("/{i}"))))
        .collect();
    let (refused, _) = http.request(&closed_port_url());
    for (response, content) in &pairs {
        println!("{} {content}", response.status);
    }
    // The error surfaces here, and the log says where the request was made.
    if let Err(e) = LazyResponse::wait(&refused) {
        println!("failed as expected: {e}");
    }
    if std::env::var_os("RUST_LOG").is_none() {
        println!("(run with RUST_LOG=asynchttp=debug to see the log lines)");
    }
}
