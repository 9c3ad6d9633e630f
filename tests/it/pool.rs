//! The worker pool: panics, early drops, shutdown, re-entrant waits, queueing
//! (RELIABILITY.md rows P1-P5).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use asynchttp::WorkerPool;

use crate::support::*;

fn slow_server(delay: Duration) -> Server {
    Server::start(move |_| Reply::ok("slow").delay(delay))
}

#[test]
fn workers_are_named_and_started_on_demand_up_to_the_limit() {
    let server = slow_server(Duration::from_millis(50));
    let http = Http::builder().workers(3).build().unwrap();
    assert_eq!((http.pool().workers(), http.pool().drivers()), (0, 0));
    // Plain pairs run on the drivers: no worker starts for them.
    let pairs: Vec<_> = (0..20).map(|_| http.request(&server.url("/"))).collect();
    for (response, _) in &pairs {
        wait(response).unwrap();
    }
    assert_eq!((http.pool().workers(), http.pool().drivers()), (0, 2));
    // Functions of the caller's run on workers, started as they are needed, up to 3.
    let names = Arc::new(Mutex::new(Vec::new()));
    let lazies: Vec<_> = (0..20)
        .map(|_| {
            let seen = names.clone();
            http.send_map(Request::get(server.url("/")), move |_, _| {
                seen.lock()
                    .unwrap()
                    .push(thread::current().name().unwrap().to_owned());
                Ok::<(), std::io::Error>(())
            })
        })
        .collect();
    for lazy in &lazies {
        asynchttp::Lazy::wait_timeout(lazy, BOUND).unwrap().unwrap();
    }
    assert_eq!(http.pool().workers(), 3);
    for name in names.lock().unwrap().iter() {
        assert!(
            [
                "asynchttp-worker-1",
                "asynchttp-worker-2",
                "asynchttp-worker-3"
            ]
            .contains(&name.as_str()),
            "{name}"
        );
    }
}

#[test]
fn timeout_starts_when_a_worker_picks_the_request_up() {
    // 20 requests of 100 ms through 1 worker take 2 s in all; each has 1 s.
    let server = slow_server(Duration::from_millis(100));
    let http = Http::builder()
        .workers(1)
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let pairs: Vec<_> = (0..20).map(|_| http.request(&server.url("/"))).collect();
    let started = Instant::now();
    for (response, _) in &pairs {
        assert_eq!(wait(response).unwrap().status, 200);
    }
    assert!(started.elapsed() > Duration::from_millis(1500));
}

#[test]
fn p1_panicking_callback_fails_only_its_request() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::builder().workers(1).build().unwrap();
    let (bad, bad_content) = http.send(
        Request::get(server.url("/"))
            .callback(|_, _| -> Result<(), std::io::Error> { panic!("boom in callback") }),
    );
    let (good, _) = http.request(&server.url("/"));
    match error(&bad) {
        Error::Callback {
            message,
            source: None,
            ..
        } => assert_eq!(message, "callback panicked: boom in callback"),
        other => panic!("expected Callback, got {}", other.chain()),
    }
    assert!(matches!(
        LazyContent::wait(&bad_content),
        Err(Error::Callback { .. })
    ));
    assert_eq!(wait(&good).unwrap().status, 200);
    assert_eq!(http.pool().workers(), 1);
}

#[test]
fn p1_callback_error_becomes_the_requests_error() {
    let server = Server::start(|_| Reply::ok("not json"));
    let http = Http::new();
    let (response, _) = http.send(
        Request::get(server.url("/")).callback(|_, _| Err(std::io::Error::other("bad json"))),
    );
    let e = error(&response);
    assert!(matches!(
        &e,
        Error::Callback {
            source: Some(_),
            ..
        }
    ));
    assert_eq!(e.chain(), "callback returned an error: bad json");
}

#[test]
fn p1_every_worker_panicking_at_once_leaves_the_queue_served() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::builder().workers(2).build().unwrap();
    let mut panicking = Vec::new();
    let mut others = Vec::new();
    for i in 0..52 {
        if i < 2 {
            let req = Request::get(server.url("/"))
                .callback(|_, _| -> Result<(), std::io::Error> { panic!("all at once") });
            panicking.push(http.send(req));
        } else {
            others.push(http.request(&server.url("/")));
        }
    }
    for (response, _) in &panicking {
        assert!(matches!(error(response), Error::Callback { .. }));
    }
    for (response, _) in &others {
        assert_eq!(wait(response).unwrap().status, 200);
    }
    assert_eq!(http.pool().workers(), 2);
}

#[test]
fn p1_panicking_send_map_is_a_callback_error() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::new();
    let lazy = http.send_map(
        Request::get(server.url("/")),
        |_, _| -> Result<u8, std::io::Error> { panic!("map panicked") },
    );
    let e = asynchttp::Lazy::wait_timeout(&lazy, BOUND)
        .unwrap()
        .unwrap_err();
    assert_eq!(e.to_string(), "callback panicked: map panicked");
}

#[test]
fn p2_dropping_pairs_early_leaks_nothing_and_requests_still_run() {
    let server = slow_server(Duration::from_millis(20));
    let http = Http::builder().workers(4).build().unwrap();
    let pool = http.pool().clone();
    for _ in 0..40 {
        drop(http.request(&server.url("/")));
    }
    drop(http); // drains the queue and joins the workers
    assert_eq!(server.hits(), 40, "dropped pairs still run, as in httplib2");
    assert_eq!(pool.workers(), 0);
}

#[test]
fn p3_dropping_the_last_http_resolves_every_promise_and_joins_workers() {
    let server = slow_server(Duration::from_millis(5));
    let http = Http::builder().workers(8).build().unwrap();
    let pool = http.pool().clone();
    let pairs: Vec<_> = (0..1008).map(|_| http.request(&server.url("/"))).collect();
    let started = Instant::now();
    drop(http); // blocks until the queue is drained and workers joined
    assert!(started.elapsed() < BOUND);
    for (response, _) in &pairs {
        assert!(LazyResponse::is_ready(response));
        assert_eq!(wait(response).unwrap().status, 200);
    }
    assert_eq!(server.hits(), 1008);
    assert_eq!(pool.workers(), 0);
}

#[test]
fn shutdown_refuses_later_requests_and_is_shared_by_clones() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::new();
    let clone = http.clone();
    let (queued, _) = http.request(&server.url("/"));
    clone.shutdown();
    assert!(http.is_shut_down());
    assert_eq!(wait(&queued).unwrap().status, 200);
    let (late, _) = http.request(&server.url("/"));
    assert!(LazyResponse::is_ready(&late));
    assert!(matches!(error(&late), Error::Closed));
    assert_eq!(http.pool().workers(), 0);
}

#[test]
fn p4_dropping_the_last_http_inside_a_callback_does_not_deadlock() {
    let server = slow_server(Duration::from_millis(10));
    let http = Http::builder().workers(2).build().unwrap();
    let (others_queued, _): (Vec<_>, Vec<_>) =
        (0..5).map(|_| http.request(&server.url("/"))).unzip();
    let pool = http.pool().clone();
    let holder = Arc::new(Mutex::new(Some(http.clone())));
    let in_callback = holder.clone();
    let (last, _) = http.send(Request::get(server.url("/")).callback(move |_, _| {
        // The callback drops what is by then the last clone.
        drop(in_callback.lock().unwrap().take());
        Ok::<(), std::io::Error>(())
    }));
    drop(http);
    drop(holder);
    assert_eq!(wait(&last).unwrap().status, 200);
    for response in &others_queued {
        assert_eq!(wait(response).unwrap().status, 200);
    }
    eventually("workers exit", || pool.workers() == 0);
}

#[test]
fn p5_callback_waiting_on_the_same_pool_runs_the_request_inline() {
    let server = slow_server(Duration::from_millis(200));
    for workers in [1, 3] {
        let http = Http::builder().workers(workers).build().unwrap();
        let started = Instant::now();
        let outer: Vec<_> = (0..workers)
            .map(|_| {
                let nested_http = http.clone();
                let url = server.url("/nested");
                http.send_map(Request::get(server.url("/outer")), move |_, _| {
                    // Every worker blocks here on a request of the same pool.
                    let (response, content) = nested_http.request(&url);
                    Ok::<_, asynchttp::Error>((
                        LazyResponse::wait(&response)?.status,
                        content.len(),
                    ))
                })
            })
            .collect();
        for lazy in &outer {
            let (status, len) = *asynchttp::Lazy::wait_timeout(lazy, BOUND)
                .expect("no deadlock")
                .unwrap();
            assert_eq!((status, len), (200, 4));
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_shared_pool_serves_several_clients_and_outlives_one() {
    let server = Server::start(|_| Reply::ok("x"));
    let pool = WorkerPool::new(2);
    let a = Http::builder().pool(pool.clone()).build().unwrap();
    let b = Http::builder().pool(pool.clone()).build().unwrap();
    let pairs: Vec<_> = (0..10)
        .flat_map(|_| [a.request(&server.url("/a")), b.request(&server.url("/b"))])
        .collect();
    for (response, _) in &pairs {
        assert_eq!(wait(response).unwrap().status, 200);
    }
    assert_eq!(pool.drivers(), 2);
    a.shutdown();
    let (after, _) = b.request(&server.url("/b"));
    assert_eq!(wait(&after).unwrap().status, 200);
    assert!(matches!(
        error(&a.request(&server.url("/a")).0),
        Error::Closed
    ));
    assert_eq!(
        pool.drivers(),
        2,
        "a's shutdown leaves the shared pool running"
    );
    drop((a, b));
    assert_eq!(pool.drivers(), 2, "the pool lives while a clone does");
    let observer = pool.clone();
    drop(pool);
    assert_eq!(observer.drivers(), 2);
    drop(observer); // the last clone joins the drivers
}

#[test]
fn close_drops_idle_connections_and_the_client_stays_usable() {
    let server = Server::start(|_| Reply::ok("ok"));
    let http = Http::builder().workers(1).build().unwrap();
    for _ in 0..3 {
        assert_eq!(body(&http.request(&server.url("/")).1), b"ok");
    }
    assert_eq!(server.connections(), 1, "one kept-alive connection");
    http.close();
    assert_eq!(body(&http.request(&server.url("/")).1), b"ok");
    assert_eq!(server.connections(), 2, "a new connection after close()");
}

#[test]
fn deref_of_a_failed_request_panics_every_time_naming_the_call_site() {
    let http = Http::new();
    let url = closed_port_url();
    let made_at = line!() + 1;
    let (response, content) = http.request(&url);
    for _ in 0..2 {
        let panic =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| response.status)).unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(
            message.starts_with(&format!(
                "asynchttp: GET {url} failed: could not connect to"
            )),
            "{message}"
        );
        assert!(
            message.contains(&format!("request made at tests/it/pool.rs:{made_at}:")),
            "{message}"
        );
    }
    let panic =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| content.to_string())).unwrap_err();
    assert!(
        panic
            .downcast_ref::<String>()
            .unwrap()
            .contains("could not connect")
    );
    // The fallible path gives the same error each time.
    let first = LazyResponse::wait(&response).unwrap_err().to_string();
    assert_eq!(LazyContent::wait(&content).unwrap_err().to_string(), first);
}

#[test]
fn counts_stay_exact_under_concurrent_submitters() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let server = Server::start(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Reply::ok("x")
    });
    let http = Http::builder().workers(4).build().unwrap();
    let submitters: Vec<_> = (0..4)
        .map(|_| {
            let (http, url) = (http.clone(), server.url("/"));
            thread::spawn(move || (0..50).map(|_| http.request(&url)).collect::<Vec<_>>())
        })
        .collect();
    for s in submitters {
        for (response, _) in s.join().unwrap() {
            assert_eq!(wait(&response).unwrap().status, 200);
        }
    }
    assert_eq!(hits.load(Ordering::SeqCst), 200);
}
