//! The bounded queue: a full queue fails fast or blocks up to a timeout, as chosen; a
//! worker never waits on its own queue.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asynchttp::{WhenFull, WorkerPool};

use crate::support::*;

/// One worker busy with `/running`, and the queue then filled with `queued` requests.
fn busy(
    server: &Server,
    http: &Http,
    queued: usize,
) -> (LazyResponse, Vec<(LazyResponse, LazyContent)>) {
    let (running, _) = http.request(&server.url("/running"));
    eventually("the first request started", || server.hits() == 1);
    let waiting = (0..queued)
        .map(|i| http.request(&server.url(&format!("/queued/{i}"))))
        .collect();
    (running, waiting)
}

#[test]
fn a_full_queue_fails_fast_and_sends_nothing() {
    let server = Server::start(|_| Reply::ok("slow").delay(Duration::from_millis(500)));
    let http = Http::builder()
        .workers(1)
        .queue_limit(2, WhenFull::Fail)
        .build()
        .unwrap();
    let (running, queued) = busy(&server, &http, 2);
    let (refused, refused_content) = http.request(&server.url("/refused"));
    assert!(LazyResponse::is_ready(&refused), "failed when submitted");
    match error(&refused) {
        Error::QueueFull {
            capacity, waited, ..
        } => {
            assert_eq!((capacity, waited), (2, Duration::ZERO));
        }
        other => panic!("expected QueueFull, got {other:?}"),
    }
    assert!(matches!(
        LazyContent::wait(&refused_content),
        Err(Error::QueueFull { .. })
    ));
    assert_eq!(wait(&running).unwrap().status, 200);
    for (response, _) in &queued {
        assert_eq!(wait(response).unwrap().status, 200);
    }
    let paths: Vec<String> = server.received().into_iter().map(|r| r.url).collect();
    assert_eq!(paths, ["/running", "/queued/0", "/queued/1"]);
}

#[test]
fn a_full_queue_blocks_the_submitter_until_there_is_room() {
    let server = Server::start(|_| Reply::ok("slow").delay(Duration::from_millis(500)));
    let http = Http::builder()
        .workers(1)
        .queue_limit(1, WhenFull::Block(BOUND))
        .build()
        .unwrap();
    let (running, _queued) = busy(&server, &http, 1);
    assert!(!LazyResponse::is_ready(&running));
    let (late, _) = http.request(&server.url("/late"));
    // Room appeared only when the worker took the queued request, after the first ended.
    assert!(LazyResponse::is_ready(&running), "submit returned early");
    assert_eq!(wait(&late).unwrap().status, 200);
    assert_eq!(server.hits(), 3);
}

#[test]
fn a_blocked_submitter_gives_up_after_its_timeout() {
    let server = Server::start(|_| Reply::ok("slow").delay(Duration::from_secs(2)));
    let patience = Duration::from_millis(50);
    let http = Http::builder()
        .workers(1)
        .queue_limit(1, WhenFull::Block(patience))
        .build()
        .unwrap();
    let (running, _queued) = busy(&server, &http, 1);
    let (refused, _) = http.request(&server.url("/refused"));
    assert!(LazyResponse::is_ready(&refused));
    match error(&refused) {
        Error::QueueFull {
            capacity, waited, ..
        } => {
            assert_eq!(capacity, 1);
            assert!(waited >= patience, "gave up after {waited:?}");
        }
        other => panic!("expected QueueFull, got {other:?}"),
    }
    assert!(!LazyResponse::is_ready(&running), "still running");
    // Cancelling what waits lets the pool drop quickly.
    for (response, _) in &_queued {
        LazyResponse::cancel(response);
    }
}

#[test]
fn a_worker_never_waits_on_its_own_full_queue() {
    let server = Server::start(|_| Reply::ok("x").delay(Duration::from_millis(100)));
    let http = Http::builder()
        .workers(1)
        .queue_limit(1, WhenFull::Block(Duration::from_secs(60)))
        .build()
        .unwrap();
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let (inner_http, seen) = (http.clone(), outcomes.clone());
    let (first_url, second_url) = (server.url("/fills"), server.url("/refused"));
    let started = Instant::now();
    let (response, _) = http.send(Request::get(server.url("/outer")).callback(
        move |_, _| -> Result<(), Error> {
            let fills = inner_http.request(&first_url);
            let refused = inner_http.request(&second_url);
            let refused_error = LazyResponse::wait(&refused.0).err();
            seen.lock().unwrap().push(refused_error);
            drop(fills); // still runs, after this callback
            Ok(())
        },
    ));
    assert_eq!(wait(&response).unwrap().status, 200);
    assert!(started.elapsed() < Duration::from_secs(60), "it waited");
    let outcomes = outcomes.lock().unwrap();
    assert!(
        matches!(
            outcomes[..],
            [Some(Error::QueueFull {
                waited: Duration::ZERO,
                ..
            })]
        ),
        "{outcomes:?}"
    );
    drop(http);
    assert_eq!(server.hits(), 2, "/outer and /fills");
}

#[test]
fn a_shared_pool_is_bounded_where_it_is_made() {
    let pool = WorkerPool::bounded(1, 1, WhenFull::Fail);
    let refused = Http::builder()
        .pool(pool.clone())
        .queue_limit(10, WhenFull::Fail)
        .build();
    assert!(matches!(refused, Err(Error::Init { .. })));

    let server = Server::start(|_| Reply::ok("slow").delay(Duration::from_millis(500)));
    let one = Http::builder().pool(pool.clone()).build().unwrap();
    let two = Http::builder().pool(pool.clone()).build().unwrap();
    let (running, _) = one.request(&server.url("/running"));
    eventually("the first request started", || server.hits() == 1);
    let (queued, _) = one.request(&server.url("/queued"));
    let (refused, _) = two.request(&server.url("/refused"));
    assert!(matches!(
        error(&refused),
        Error::QueueFull { capacity: 1, .. }
    ));
    assert_eq!(wait(&running).unwrap().status, 200);
    assert_eq!(wait(&queued).unwrap().status, 200);
}

#[test]
fn queue_full_requests_of_a_batch_can_be_retried() {
    let server = Server::start(|_| Reply::ok("ok").delay(Duration::from_millis(100)));
    let http = Http::builder()
        .workers(1)
        .queue_limit(1, WhenFull::Fail)
        .build()
        .unwrap();
    let (running, _) = http.request(&server.url("/running"));
    eventually("the first request started", || server.hits() == 1);
    let batch = http.batch((0..5).map(|i| server.url(&format!("/{i}"))));
    batch.join_all();
    let shed = batch.exceptions().count();
    assert!(
        shed >= 3,
        "{shed} of 5 shed; one fits, one may follow the first"
    );
    assert!(
        batch
            .exceptions()
            .all(|(_, e)| matches!(e, Error::QueueFull { .. }))
    );
    wait(&running).unwrap();
    let mut left = batch.retry_exceptions();
    for _ in 0..50 {
        left.join_all();
        if left.exceptions().count() == 0 {
            break;
        }
        left = left.retry_exceptions();
    }
    assert_eq!(left.exceptions().count(), 0, "every request got through");
}

#[test]
fn p6_ten_thousand_requests_on_a_bounded_queue_shed_at_once_and_open_few_sockets() {
    let server = Server::start(|_| Reply::ok("slow").delay(Duration::from_millis(500)));
    let http = Http::builder()
        .workers(8)
        .queue_limit(1_000, WhenFull::Fail)
        .build()
        .unwrap();
    let pairs: Vec<_> = (0..10_000)
        .map(|i| http.request(&server.url(&format!("/{i}"))))
        .collect();
    // Ready at once: shed. On a slow machine the loop outlasts the first requests (0.5 s
    // each), so a ready pair may also be one that already got its answer.
    let ready: Vec<_> = pairs
        .iter()
        .filter(|(response, _)| LazyResponse::is_ready(response))
        .collect();
    let shed: Vec<_> = ready
        .iter()
        .filter(|(response, _)| LazyResponse::wait(response).is_err())
        .collect();
    assert!(shed.iter().all(|(r, _)| matches!(
        error(r),
        Error::QueueFull {
            capacity: 1_000,
            ..
        }
    )));
    // Every request not shed is in the queue (1,000 at most) or was taken by a worker: one
    // of the 8 running now, or one the server has already seen.
    let taken = server.hits() + 8;
    assert!(
        shed.len() + 1_000 + taken >= 10_000,
        "only {} shed, {taken} taken at most",
        shed.len()
    );
    assert!(shed.len() >= 5_000, "only {} shed", shed.len());
    // The first 8 finish and the next start, on the same connections.
    eventually("a second round started", || server.hits() > 8);
    let cancelled = pairs
        .iter()
        .filter(|(response, _)| LazyResponse::cancel(response))
        .count();
    assert!(cancelled > 900, "{cancelled} cancelled");
    drop(http); // finishes the running ones
    assert!(
        server.connections() <= 8,
        "{} sockets for 8 workers",
        server.connections()
    );
    let sent = server.hits();
    assert_eq!(
        sent + cancelled + shed.len(),
        10_000,
        "every request accounted for"
    );
}
