//! Process-wide thread accounting, in a binary of its own so that no other test's threads
//! come and go while it counts (RELIABILITY.md P2-P4: "the thread count returns to its
//! starting value").

#[path = "it/support.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use asynchttp::WorkerPool;
use support::*;

#[test]
fn worker_threads_are_named_and_all_gone_after_shutdown() {
    init_logging();
    let server = Server::start(|_| Reply::ok("x").delay(Duration::from_millis(5)));
    let baseline = thread_count();

    // Dropping the last Http with a queue: drained, workers joined.
    let http = Http::builder().workers(4).build().unwrap();
    let pairs: Vec<_> = (0..200).map(|_| http.request(&server.url("/"))).collect();
    eventually("4 named workers", || threads_named("asynchttp-work") == 4);
    drop(http);
    assert!(pairs.iter().all(|(r, _)| LazyResponse::is_ready(r)));
    assert_eq!(thread_count(), baseline, "after dropping the last Http");

    // The last Http dropped inside a callback: the workers finish alone.
    let http = Http::builder().workers(2).build().unwrap();
    let holder = Arc::new(Mutex::new(Some(http.clone())));
    let in_callback = holder.clone();
    let (last, _) = http.send(Request::get(server.url("/")).callback(move |_, _| {
        drop(in_callback.lock().unwrap().take());
        Ok::<(), std::io::Error>(())
    }));
    drop((http, holder));
    assert_eq!(wait(&last).unwrap().status, 200);
    eventually("threads back to baseline after a drop on a worker", || {
        thread_count() == baseline
    });

    // A shared pool stops with its last clone.
    let pool = WorkerPool::new(3);
    let a = Http::builder().pool(pool.clone()).build().unwrap();
    let b = Http::builder().pool(pool.clone()).build().unwrap();
    let pairs: Vec<_> = (0..30)
        .map(|i| if i % 2 == 0 { &a } else { &b }.request(&server.url("/")))
        .collect();
    for (response, _) in &pairs {
        wait(response).unwrap();
    }
    drop((a, b));
    assert_eq!(
        threads_named("asynchttp-work"),
        3,
        "the pool outlives its clients"
    );
    drop(pool);
    assert_eq!(
        thread_count(),
        baseline,
        "after dropping the last pool clone"
    );
}
