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
    // asynchttp's messages start with the thread's name already: the format adds time,
    // level and target, and no thread name of its own.
    env_logger::Builder::from_default_env()
        .format(|f, record| {
            writeln!(
                f,
                "{} {:<5} {:<20} {}",
                f.timestamp_micros(),
                record.level(),
                record.target(),
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
        // The id is the req= of the request's log lines.
        println!(
            "req={} {} {content}",
            LazyResponse::id(response),
            response.status
        );
    }
    // The error surfaces here, and the log says where the request was made.
    if let Err(e) = LazyResponse::wait(&refused) {
        println!("failed as expected: {e}");
    }
    if std::env::var_os("RUST_LOG").is_none() {
        println!("(run with RUST_LOG=asynchttp=debug to see the log lines)");
    }
}
