//! Bandwidth caps (curl's `--limit-rate`), each way, per client and per request: a capped
//! body of a few MiB goes at its cap or below, measured as bytes over time, and takes many
//! times what the same body takes uncapped in the same test. Only lower bounds on the
//! capped times, and ratios: a busy machine makes transfers slower, never faster.

use std::time::{Duration, Instant};

use asynchttp::{Body, ProxyInfo};

use crate::support::*;

const SIZE: usize = 2 << 20;
const CAP: u64 = 1 << 20;

/// Asserts that `SIZE` bytes in `took` went no faster than the cap: a tenth of a second's
/// worth passes at once, so 10% over it at most.
#[track_caller]
fn within_cap(took: Duration) {
    let rate = SIZE as f64 / took.as_secs_f64();
    assert!(rate <= CAP as f64 * 1.1, "{rate:.0} bytes/s in {took:?}");
}

/// How long `req` takes on `http`, whose answer must be `expected`.
fn timed(http: &Http, req: Request, expected: &[u8]) -> Duration {
    let started = Instant::now();
    let (response, content) = http.send(req);
    assert_eq!(body(&content), expected);
    assert_eq!(wait(&response).unwrap().status, 200);
    started.elapsed()
}

fn client() -> asynchttp::HttpBuilder {
    Http::builder().proxy_info(ProxyInfo::none())
}

#[test]
fn a_download_cap_paces_the_body_per_client_and_per_request() {
    let data = pattern(SIZE);
    let served = data.clone();
    let server = Server::start(move |_| Reply::ok(served.clone()));
    let url = server.url("/big");
    let uncapped = client().build().unwrap();
    let capped = client().max_download_speed(CAP).build().unwrap();

    let free = timed(&uncapped, Request::get(url.as_str()), &data);
    let by_client = timed(&capped, Request::get(url.as_str()), &data);
    let by_request = timed(
        &uncapped,
        Request::get(url.as_str()).max_download_speed(CAP),
        &data,
    );
    // 0 on a request lifts its client's cap.
    let lifted = timed(
        &capped,
        Request::get(url.as_str()).max_download_speed(0),
        &data,
    );
    eprintln!(
        "2 MiB down: uncapped {free:?}, capped at 1 MiB/s by the client {by_client:?}, \
         by the request {by_request:?}, the client's cap lifted {lifted:?}"
    );
    for capped in [by_client, by_request] {
        within_cap(capped);
        assert!(capped >= free * 4, "capped {capped:?}, uncapped {free:?}");
    }
    assert!(
        lifted * 3 < by_client,
        "lifted {lifted:?}, capped {by_client:?}"
    );
}

#[test]
fn an_upload_cap_paces_the_body_in_memory_and_read_as_it_is_sent() {
    let server = Server::hashing(|req| Reply::ok(req.length.to_string()));
    let url = server.url("/upload");
    let uncapped = client().build().unwrap();
    let capped = client().max_upload_speed(CAP).build().unwrap();
    let sent = SIZE.to_string();
    let put = || Request::new("PUT", url.as_str());

    let free = timed(&uncapped, put().body(pattern(SIZE)), sent.as_bytes());
    let by_client = timed(&capped, put().body(pattern(SIZE)), sent.as_bytes());
    let reader = Body::sized_reader(std::io::Cursor::new(pattern(SIZE)), SIZE as u64);
    let streamed = timed(
        &uncapped,
        put().body(reader).max_upload_speed(CAP),
        sent.as_bytes(),
    );
    eprintln!(
        "2 MiB up: uncapped {free:?}, capped at 1 MiB/s by the client {by_client:?}, \
         read as sent and capped by the request {streamed:?}"
    );
    for capped in [by_client, streamed] {
        within_cap(capped);
        assert!(capped >= free * 4, "capped {capped:?}, uncapped {free:?}");
    }
}
