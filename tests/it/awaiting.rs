//! Awaiting pairs and `Lazy` values on tokio runtimes, which the crate does not depend on:
//! the runtime's threads keep running while requests are awaited, and while a client is
//! dropped.

use std::future::IntoFuture;
use std::mem::discriminant;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use asynchttp::{Lazy, WorkerPool};
use futures_util::future::join_all;
use tokio::time::MissedTickBehavior;

use crate::support::*;

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime")
}

/// A task on the current runtime that ticks every 10 ms and counts its ticks. A missed
/// tick is not made up for later, so a blocked thread shows as ticks missing, not as a
/// burst once it is free again.
fn ticker() -> (Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let ticks = Arc::new(AtomicUsize::new(0));
    let counted = ticks.clone();
    let task = tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(10));
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    (ticks, task)
}

/// Answers with the path it was asked for, after `delay`.
fn echo_server(delay: Duration) -> Server {
    Server::start(move |r| Reply::ok(r.url.clone()).delay(delay))
}

#[test]
fn a_ticker_keeps_ticking_while_fifty_pairs_are_awaited() {
    let server = echo_server(Duration::from_millis(200));
    let http = Http::builder().workers(10).build().unwrap();
    current_thread().block_on(async {
        let (ticks, ticker) = ticker();
        tokio::task::yield_now().await;
        let pairs: Vec<_> = (0..50)
            .map(|i| http.request(&server.url(&format!("/{i}"))))
            .collect();
        let (before, started) = (ticks.load(Ordering::SeqCst), Instant::now());
        // One after the other: a wait that blocked the thread would give the ticker no
        // turn at all until the last.
        let mut outcomes = Vec::new();
        for (response, content) in pairs {
            let outcome = async { Ok::<_, Error>((response.await?.status, content.await?)) };
            outcomes.push(bounded(outcome).await);
        }
        let (ticked, elapsed) = (ticks.load(Ordering::SeqCst) - before, started.elapsed());
        ticker.abort();
        for (i, outcome) in outcomes.into_iter().enumerate() {
            let (status, body) = outcome.unwrap();
            assert_eq!((status, body), (200, format!("/{i}").into_bytes()));
        }
        // 50 answers of 200 ms each, 10 at a time: about a second, in which a free thread
        // ticks about 100 times. A thread blocked on the requests would not tick at all.
        let free_ticks = elapsed.as_millis() / 10;
        assert!(
            ticked >= 5 && ticked as u128 >= free_ticks / 10,
            "{ticked} ticks in {elapsed:?} of awaiting"
        );
    });
}

#[test]
fn a_failed_request_comes_out_of_await_as_the_error_wait_gives() {
    let url = closed_port_url();
    let http = Http::new();
    let expected = error(&http.request(&url).0);
    assert!(matches!(expected, Error::Connect { .. }), "{expected:?}");
    let same = |e: &Error| discriminant(e) == discriminant(&expected);
    current_thread().block_on(async {
        let (response, content) = http.request(&url);
        let by_reference = bounded((&response).into_future()).await.unwrap_err();
        assert!(same(&by_reference), "{by_reference:?}");
        let body = bounded(async { (&content).await }).await.unwrap_err();
        assert!(same(&body), "{body:?}");
        let by_value = bounded(response.into_future()).await.unwrap_err();
        assert!(same(&by_value), "{by_value:?}");
        let body = bounded(content.into_future()).await.unwrap_err();
        assert!(same(&body), "{body:?}");
        let mapped = http.send_map(Request::get(&url), |_, body| Ok::<_, Error>(body.len()));
        let mapped = bounded(mapped.into_future()).await.unwrap_err();
        assert!(same(&mapped), "{mapped:?}");
        // Refused before it was queued: ready at once, and the same error as `wait`.
        let (refused, _) = http.request("ftp://127.0.0.1/");
        let refused = bounded(refused.into_future()).await.unwrap_err();
        assert!(
            matches!(refused, Error::InvalidRequest { .. }),
            "{refused:?}"
        );
    });
}

/// Built on the worker, and not `Clone`.
#[derive(Debug, PartialEq)]
struct Parsed(String);

#[test]
fn join_all_awaits_pairs_by_reference_and_by_value_on_a_multi_thread_runtime() {
    let server = echo_server(Duration::from_millis(20));
    let http = Http::builder().workers(8).build().unwrap();
    multi_thread().block_on(async {
        let pairs: Vec<_> = (0..20)
            .map(|i| http.request(&server.url(&format!("/{i}"))))
            .collect();
        let responses = bounded(join_all(pairs.iter().map(|(r, _)| r.into_future()))).await;
        assert!(responses.into_iter().all(|r| r.unwrap().status == 200));
        let bodies = bounded(join_all(pairs.into_iter().map(|(_, c)| c.into_future()))).await;
        for (i, body) in bodies.into_iter().enumerate() {
            assert_eq!(body.unwrap(), format!("/{i}").into_bytes());
        }

        // Futures are Send: each awaited on a task of its own, wherever it runs.
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let req = Request::get(server.url(&format!("/{i}")));
                let lazy = http.send_map(req, |_, body| Ok::<_, Error>(body.len()));
                tokio::spawn(lazy.into_future())
            })
            .collect();
        for (i, task) in bounded(join_all(tasks)).await.into_iter().enumerate() {
            assert_eq!(task.unwrap().unwrap(), format!("/{i}").len());
        }

        // A value that is not Clone: awaited by reference, then taken without a wait.
        let parsed = http.send_map(Request::get(server.url("/parsed")), |_, body| {
            Ok::<_, Error>(Parsed(String::from_utf8_lossy(body).into_owned()))
        });
        assert_eq!(bounded((&parsed).into_future()).await.unwrap().0, "/parsed");
        let taken = Lazy::into_inner(parsed).expect("the only handle").unwrap();
        assert_eq!(taken, Parsed("/parsed".to_owned()));
    });
}

#[test]
fn dropping_the_last_http_on_a_current_thread_runtime_never_waits_there() {
    let server = Server::start(|r| match r.url.as_str() {
        "/slow" => Reply::ok("slow").delay(Duration::from_secs(3)),
        _ => Reply::ok("fast"),
    });
    let pool = current_thread().block_on(async {
        let (ticks, ticker) = ticker();
        // Made and dropped without a request.
        drop(Http::new());
        let http = Http::builder().workers(2).build().unwrap();
        let pool = http.pool().clone();
        let fast = bounded(http.request(&server.url("/fast")).1.into_future()).await;
        assert_eq!(fast.unwrap(), b"fast");
        let (slow, slow_body) = http.request(&server.url("/slow"));
        drop(http);
        assert!(
            !asynchttp::LazyResponse::is_ready(&slow),
            "the drop waited for the request in flight"
        );
        // The request still runs to its end, and the runtime's thread is free meanwhile.
        let before = ticks.load(Ordering::SeqCst);
        assert_eq!(bounded(slow_body.into_future()).await.unwrap(), b"slow");
        let ticked = ticks.load(Ordering::SeqCst) - before;
        assert!(ticked >= 5, "{ticked} ticks while the slow request ran");
        assert_eq!(bounded(slow.into_future()).await.unwrap().status, 200);
        ticker.abort();
        pool
    });
    // A thread of its own drained the client and joined its drivers.
    eventually("the drivers joined", || pool.drivers() == 0);
}

#[test]
fn an_http_made_used_and_dropped_on_a_multi_thread_runtime_blocks_no_worker() {
    let server = Server::start(|r| match r.url.as_str() {
        "/slow" => Reply::ok("slow").delay(Duration::from_secs(2)),
        _ => Reply::ok("fast"),
    });
    let (fast, slow) = (server.url("/fast"), server.url("/slow"));
    let runtime = multi_thread();
    let pool = runtime.block_on(async move {
        let task = tokio::spawn(async move {
            drop(Http::new());
            let http = Http::new();
            let pool = http.pool().clone();
            let (response, _) = http.request(&fast);
            assert_eq!(response.await.unwrap().status, 200);
            let (in_flight, _) = http.request(&slow);
            let sent = Instant::now();
            drop(http);
            assert!(
                !asynchttp::LazyResponse::is_ready(&in_flight),
                "{in_flight:?} {:?} after it was sent",
                sent.elapsed()
            );
            assert_eq!(in_flight.await.unwrap().status, 200);

            // A shared pool and its client, both dropped with a request in flight.
            let shared = WorkerPool::new(2);
            let http = Http::builder().pool(shared.clone()).build().unwrap();
            assert_eq!(http.request(&fast).1.await.unwrap(), b"fast");
            let (in_flight, _) = http.request(&slow);
            let sent = Instant::now();
            drop((http, shared));
            assert!(
                !asynchttp::LazyResponse::is_ready(&in_flight),
                "{in_flight:?} {:?} after it was sent",
                sent.elapsed()
            );
            assert_eq!(in_flight.await.unwrap().status, 200);
            pool
        });
        bounded(task).await.expect("the task did not panic")
    });
    runtime.shutdown_timeout(BOUND);
    eventually("the drivers joined", || pool.drivers() == 0);
}
