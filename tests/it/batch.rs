//! Batches (requests-toolbelt's threaded pool): responses, exceptions, retries, and
//! results in completion order.

use std::time::Duration;

use asynchttp::Progress;

use crate::support::*;

#[test]
fn responses_and_exceptions_are_collected_and_failures_retried() {
    let server = Server::start(|req| Reply::ok(format!("got {}", req.url)));
    let http = Http::new();
    let refused = closed_port_url();
    let urls = vec![server.url("/a"), refused.clone(), server.url("/b")];
    let batch = http.batch(&urls);
    assert_eq!(batch.len(), 3);
    batch.join_all();
    let ok: Vec<_> = batch
        .responses()
        .map(|(req, r, body)| (req.uri().to_owned(), r.status, body.to_vec()))
        .collect();
    assert_eq!(
        ok,
        [
            (server.url("/a"), 200, b"got /a".to_vec()),
            (server.url("/b"), 200, b"got /b".to_vec())
        ]
    );
    let failed: Vec<_> = batch.exceptions().collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0.uri(), refused);
    assert!(matches!(failed[0].1, Error::Connect { .. }));
    let retry = batch.retry_exceptions();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry.exceptions().count(), 1, "still refused");
    assert_eq!(server.hits(), 2);
}

#[test]
fn as_completed_yields_in_finishing_order() {
    let server = Server::start(|req| {
        let ms: u64 = req.url[1..].parse().unwrap();
        Reply::ok(ms.to_string()).delay(Duration::from_millis(ms))
    });
    let http = Http::builder().workers(4).build().unwrap();
    let batch = http.batch([
        Request::get(server.url("/300")),
        Request::get(server.url("/10")),
        Request::get(server.url("/150")),
    ]);
    let order: Vec<String> = batch
        .as_completed()
        .map(|(req, response, _)| {
            assert!(LazyResponse::is_ready(response));
            req.uri().rsplit('/').next().unwrap().to_owned()
        })
        .collect();
    assert_eq!(order, ["10", "150", "300"]);
    // A second pass yields every request again, all done by now.
    assert_eq!(batch.as_completed().count(), 3);
}

#[test]
fn requests_in_a_batch_keep_their_methods_and_bodies() {
    let server = Server::start(|req| {
        Reply::ok(format!(
            "{} {}",
            req.method,
            String::from_utf8_lossy(&req.body)
        ))
    });
    let http = Http::new();
    let batch = http.batch([
        Request::new("PUT", server.url("/x")).body("one"),
        Request::new("POST", server.url("/y")).body("two"),
    ]);
    let bodies: Vec<Vec<u8>> = batch.responses().map(|(_, _, b)| b.to_vec()).collect();
    assert_eq!(bodies, [b"PUT one".to_vec(), b"POST two".to_vec()]);
}

#[test]
fn map_splits_responses_and_exceptions() {
    let server = Server::start(|_| Reply::ok("fine"));
    let http = Http::new();
    let (responses, exceptions) = http.map([server.url("/1"), closed_port_url(), server.url("/2")]);
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[1].0.uri(), server.url("/2"));
    assert_eq!(
        (responses[0].1.status, responses[0].2.as_slice()),
        (200, &b"fine"[..])
    );
    assert_eq!(exceptions.len(), 1);
    assert!(matches!(exceptions[0].1, Error::Connect { .. }));
}

#[test]
fn a_queued_request_can_be_cancelled_and_a_running_one_finishes() {
    let server = Server::start(|_| Reply::ok("slow").delay(Duration::from_millis(300)));
    let http = Http::builder().workers(1).build().unwrap();
    let (running, _) = http.request(&server.url("/running"));
    crate::support::eventually("the first request started", || server.hits() == 1);
    let (queued, queued_content) = http.request(&server.url("/queued"));
    assert!(LazyResponse::cancel(&queued));
    assert!(!LazyResponse::cancel(&queued), "only once");
    assert!(matches!(error(&queued), Error::Cancelled));
    assert!(matches!(
        LazyContent::wait(&queued_content),
        Err(Error::Cancelled)
    ));
    assert!(
        !LazyResponse::cancel(&running),
        "a running request finishes"
    );
    assert_eq!(wait(&running).unwrap().status, 200);
    drop(http); // drains the queue
    assert_eq!(server.hits(), 1, "the cancelled request was never sent");
}

#[test]
fn progress_counts_done_failed_and_bytes() {
    let server = Server::start(|req| match req.url.as_str() {
        "/missing" => Reply::new(404, "gone"),
        _ => Reply::ok("12345"),
    });
    let http = Http::new();
    let batch = http.batch([
        server.url("/a"),
        server.url("/b"),
        closed_port_url(),
        server.url("/missing"),
    ]);
    batch.join_all();
    let progress = batch.progress();
    assert_eq!(
        progress,
        Progress {
            total: 4,
            done: 4,
            failed: 1,
            bytes: 5 + 5 + 4,
            retries: 0,
        }
    );
    assert_eq!(
        progress.succeeded(),
        3,
        "a 404 is a response, not a failure"
    );
    assert!(progress.is_complete());
    assert_eq!(
        batch.retry_exceptions().progress().total,
        1,
        "a retry counts its own requests"
    );
}

#[test]
fn wait_progress_wakes_as_each_request_finishes() {
    let server = Server::start(|req| {
        let ms: u64 = req.url[1..].parse().unwrap();
        Reply::ok("x").delay(Duration::from_millis(ms))
    });
    let http = Http::builder().workers(2).build().unwrap();
    let batch = http.batch([server.url("/50"), server.url("/3000")]);
    let start = batch.progress();
    assert_eq!((start.total, start.done), (2, 0));
    let first = batch.wait_progress(&start, BOUND);
    // Woken by the quick request, while the slow one still runs.
    assert_eq!((first.done, first.failed, first.bytes), (1, 0, 1));
    // Nothing more finishes within a millisecond: the wait ends at its timeout, unchanged.
    let unchanged = batch.wait_progress(&first, Duration::from_millis(1));
    assert_eq!(unchanged, first);
    let last = batch.wait_progress(&first, BOUND);
    assert!(last.is_complete());
    assert_eq!(last.bytes, 2);
    // A complete batch never blocks.
    assert_eq!(batch.wait_progress(&last, BOUND), last);
}

#[test]
fn cancel_stops_what_is_queued_and_progress_counts_it_failed() {
    let server = Server::start(|_| Reply::ok("slow").delay(Duration::from_millis(1000)));
    let http = Http::builder().workers(1).build().unwrap();
    let batch = http.batch([
        Request::get(server.url("/runs")),
        Request::get(server.url("/queued/1")),
        Request::get(server.url("/queued/2")),
        Request::new("BAD METHOD", server.url("/refused")),
    ]);
    eventually("the first request started", || server.hits() == 1);
    assert_eq!(batch.cancel(), 2, "the two queued requests");
    assert_eq!(batch.cancel(), 0, "nothing left to cancel");
    batch.join_all();
    let p = batch.progress();
    assert_eq!((p.total, p.done, p.failed), (4, 4, 3));
    let errors: Vec<&Error> = batch.exceptions().map(|(_, e)| e).collect();
    assert!(matches!(
        errors[..],
        [
            Error::Cancelled,
            Error::Cancelled,
            Error::InvalidRequest { .. }
        ]
    ));
    drop(http);
    assert_eq!(server.hits(), 1, "only the running request was sent");
}

#[test]
fn elapsed_is_the_time_on_the_worker() {
    let server = Server::start(|_| Reply::ok("x").delay(Duration::from_millis(120)));
    let http = Http::new();
    let (response, _) = http.request(&server.url("/slow"));
    let elapsed = wait(&response).unwrap().elapsed;
    assert!(
        elapsed >= Duration::from_millis(120) && elapsed < BOUND,
        "{elapsed:?}"
    );
}

#[test]
fn a_joined_batch_is_fully_counted() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::builder().workers(4).build().unwrap();
    for round in 0..50 {
        let batch = http.batch((0..20).map(|i| server.url(&format!("/{round}/{i}"))));
        batch.join_all();
        assert_eq!(batch.progress().done, 20, "round {round}");
        let last = batch.as_completed().last().map(|(_, r, _)| r);
        assert!(last.is_some_and(LazyResponse::is_ready));
    }
}
