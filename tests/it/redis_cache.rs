//! RedisCache (feature `redis`) against real redis-server processes (tests/it/redis_server.rs):
//! a cache shared by two processes, Vary, atomic entries under concurrent writers, the
//! expiry each entry is given (the client's `stale_if_error` included), a Redis stopped or
//! frozen mid-run, key prefixes, damaged values, and a Redis Cluster of three masters.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use asynchttp::{Cache, RedisCache};

use crate::redis_server::{RedisCluster, RedisServer};
use crate::support::*;

fn http_on(cache: RedisCache) -> Http {
    Http::builder()
        .cache_store(Arc::new(cache))
        .build()
        .unwrap()
}

fn get(http: &Http, url: &str) -> (Response, Vec<u8>) {
    let (response, content) = http.request(url);
    (wait(&response).unwrap().clone(), body(&content).to_vec())
}

fn get_with(http: &Http, url: &str, name: &str, value: &str) -> (Response, Vec<u8>) {
    let (response, content) = http.send(Request::get(url).header(name, value));
    (wait(&response).unwrap().clone(), body(&content).to_vec())
}

/// Requests to `path` that the server received.
fn hits(server: &Server, path: &str) -> Vec<Received> {
    server
        .received()
        .into_iter()
        .filter(|r| r.url == path)
        .collect()
}

/// The server of the shared-cache tests: `/fresh` is fresh for a minute; `/etag` must be
/// revalidated each time, and answers `If-None-Match: "v1"` with a 304.
fn shared_origin() -> Server {
    Server::start(|req| match req.url.as_str() {
        "/fresh" => Reply::ok("fresh body").header("Cache-Control", "max-age=60"),
        _ if req.header("if-none-match") == Some("\"v1\"") => Reply::new(304, "")
            .header("ETag", "\"v1\"")
            .header("Cache-Control", "max-age=0"),
        _ => Reply::ok("validated body")
            .header("ETag", "\"v1\"")
            .header("Cache-Control", "max-age=0"),
    })
}

/// What the second process of [`two_processes_share_hits_and_revalidations`] is given.
const CHILD: &str = "ASYNCHTTP_TEST_REDIS_CHILD";

#[test]
fn two_processes_share_hits_and_revalidations() {
    // This test's binary, run again as the second client: it fetches what the env names
    // through the same Redis and prints each answer.
    if let Ok(given) = std::env::var(CHILD) {
        let (redis, base) = given.split_once(' ').unwrap();
        let http = http_on(
            RedisCache::builder(redis)
                .prefix("shared:")
                .build()
                .unwrap(),
        );
        for path in ["/fresh", "/etag"] {
            let (response, content) = get(&http, &format!("{base}{path}"));
            let content = String::from_utf8_lossy(&content);
            println!(
                "child: {path} {} {} {content}",
                response.status, response.from_cache
            );
        }
        return;
    }
    init_logging();
    let redis = RedisServer::start("two-processes");
    let server = shared_origin();
    let http = http_on(
        RedisCache::builder(redis.url())
            .prefix("shared:")
            .build()
            .unwrap(),
    );
    assert!(!get(&http, &server.url("/fresh")).0.from_cache);
    assert!(!get(&http, &server.url("/etag")).0.from_cache);

    let name = concat!(
        module_path!(),
        "::two_processes_share_hits_and_revalidations"
    );
    let name = name.split_once("::").unwrap().1;
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(
            CHILD,
            format!("{} {}", redis.url(), server.url("")).replace("/ ", " "),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_for_child(child);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the second process failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The harness's own "test ... " may begin the first line.
    let lines: Vec<&str> = stdout
        .lines()
        .filter_map(|l| Some(&l[l.find("child: ")? + "child: ".len()..]))
        .collect();
    assert_eq!(
        lines,
        [
            "/fresh 200 true fresh body",
            "/etag 200 true validated body"
        ],
        "the second process: a hit, and a revalidation answered from the entry"
    );
    assert_eq!(hits(&server, "/fresh").len(), 1, "the hit sent nothing");
    let etag = hits(&server, "/etag");
    assert_eq!(etag.len(), 2);
    assert_eq!(
        etag[1].header("if-none-match"),
        Some("\"v1\""),
        "revalidated with the first process's ETag"
    );

    // The entry the second process updated answers this one too.
    let (again, content) = get(&http, &server.url("/fresh"));
    assert!(again.from_cache);
    assert_eq!(content, b"fresh body");
}

/// Waits for a child process within the bound, killing it if it overruns.
fn wait_for_child(mut child: std::process::Child) -> std::process::Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > BOUND {
            let _ = child.kill();
            panic!("the second process did not finish within {BOUND:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_varied_entry_answers_only_the_request_it_was_chosen_by() {
    let redis = RedisServer::start("vary");
    let server = Server::start(|req| {
        let language = req.header("accept-language").unwrap_or("none").to_owned();
        Reply::ok(format!("in {language}"))
            .header("Cache-Control", "max-age=60")
            .header("Vary", "Accept-Language")
    });
    let url = server.url("/doc");
    let first = http_on(RedisCache::new(&redis.url()).unwrap());
    let second = http_on(RedisCache::new(&redis.url()).unwrap());
    assert!(!get_with(&first, &url, "Accept-Language", "en").0.from_cache);
    let (hit, content) = get_with(&second, &url, "Accept-Language", "en");
    assert!(
        hit.from_cache,
        "the same language, from the other client's entry"
    );
    assert_eq!(content, b"in en");
    let (other, content) = get_with(&second, &url, "Accept-Language", "fr");
    assert!(!other.from_cache, "another language is not answered by it");
    assert_eq!(content, b"in fr");
    assert_eq!(server.hits(), 2);
    // The French entry replaced the English one (one entry per URL).
    let (french, content) = get_with(&first, &url, "Accept-Language", "fr");
    assert!(french.from_cache);
    assert_eq!(content, b"in fr");
}

#[test]
fn an_entry_is_never_torn_under_eight_writers() {
    let redis = RedisServer::start("torn");
    // A slow machine must not turn a read into a miss: this test is about whole values.
    let cache = Arc::new(
        RedisCache::builder(redis.url())
            .response_timeout(BOUND)
            .connect_timeout(BOUND)
            .build()
            .unwrap(),
    );
    let key = "http://127.0.0.1/contended";
    const LEN: usize = 512 * 1024;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (cache, stop, started) = (cache.clone(), stop.clone(), started.clone());
            thread::spawn(move || {
                let mut reads = 0;
                while !stop.load(Ordering::SeqCst) {
                    // Read before the get: a write that ends during it may or may not be seen.
                    let written = started.load(Ordering::SeqCst);
                    match cache.get(key) {
                        Some(v) => {
                            assert_eq!(v.len(), LEN, "a value of another length");
                            assert!(v.iter().all(|&b| b == v[0]), "a torn value");
                            reads += 1;
                        }
                        // Nothing deletes it once written: a miss would be a value that
                        // failed its checksum.
                        None => assert!(!written, "a miss after the first write"),
                    }
                }
                reads
            })
        })
        .collect();
    let writers: Vec<_> = (0..8u8)
        .map(|i| {
            let (cache, started) = (cache.clone(), started.clone());
            thread::spawn(move || {
                let value = vec![b'a' + i; LEN];
                for _ in 0..20 {
                    cache.set(key, &value).unwrap();
                    started.store(true, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let reads: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(reads > 0);
    let last = cache.get(key).unwrap();
    assert!((b'a'..b'a' + 8).contains(&last[0]) && last.iter().all(|&b| b == last[0]));
}

/// The time to live Redis has for the entry of `url` under `prefix`, in seconds: -2 when
/// there is no such key, -1 when it has no expiry.
fn ttl(redis: &RedisServer, prefix: &str, url: &str) -> i64 {
    redis::cmd("TTL")
        .arg(format!("{prefix}{url}"))
        .query(&mut redis.connection())
        .unwrap()
}

#[test]
fn entries_expire_when_they_can_answer_nothing_more() {
    let redis = RedisServer::start("ttl");
    let server = Server::start(|req| match req.url.as_str() {
        "/max-age" => Reply::ok("a").header("Cache-Control", "max-age=100"),
        "/stale-while-revalidate" => {
            Reply::ok("b").header("Cache-Control", "max-age=100, stale-while-revalidate=50")
        }
        "/must-revalidate" => Reply::ok("c").header(
            "Cache-Control",
            "max-age=100, stale-while-revalidate=50, must-revalidate",
        ),
        "/etag" => Reply::ok("d")
            .header("Cache-Control", "max-age=100")
            .header("ETag", "\"x\""),
        "/useless" => Reply::ok("e").header("Cache-Control", "max-age=0"),
        "/moved" => Reply::new(301, "").header("Location", "/max-age"),
        _ => Reply::new(404, ""),
    });
    let keep = Duration::from_secs(3600);
    let prefix = "ttl:";
    let http = http_on(
        RedisCache::builder(redis.url())
            .prefix(prefix)
            .keep_validated(keep)
            .build()
            .unwrap(),
    );
    for path in [
        "/max-age",
        "/stale-while-revalidate",
        "/must-revalidate",
        "/etag",
        "/useless",
        "/moved",
    ] {
        assert_eq!(get(&http, &server.url(path)).0.status, 200, "{path}");
    }
    let ttl = |path| ttl(&redis, prefix, &server.url(path));
    // Within seconds of the lifetime: the test may have taken a few.
    let about = |got: i64, want: i64| (want - 30..=want).contains(&got);
    assert!(
        about(ttl("/max-age"), 100),
        "fresh for 100 s: {}",
        ttl("/max-age")
    );
    assert!(
        about(ttl("/stale-while-revalidate"), 150),
        "{}",
        ttl("/stale-while-revalidate")
    );
    assert!(
        about(ttl("/must-revalidate"), 100),
        "no stale window: {}",
        ttl("/must-revalidate")
    );
    assert!(
        about(ttl("/etag"), 3600),
        "validated: kept an hour: {}",
        ttl("/etag")
    );
    assert!(
        about(ttl("/moved"), 3600),
        "a permanent redirect: {}",
        ttl("/moved")
    );
    assert_eq!(
        ttl("/useless"),
        -2,
        "stale at once, no validator: not stored"
    );
    // The entries answer.
    assert!(get(&http, &server.url("/max-age")).0.from_cache);
}

#[test]
fn stale_if_error_keeps_an_entry_for_its_bound_and_answers_from_it() {
    let redis = RedisServer::start("stale-if-error");
    let server = Server::start(|_| Reply::ok("v1").header("Cache-Control", "max-age=0"));
    let url = server.url("/doc");
    let prefix = "stale:";
    let cache = || {
        RedisCache::builder(redis.url())
            .prefix(prefix)
            .build()
            .unwrap()
    };
    // Stale at once and without validators: of no use to a client that never answers
    // stale, so not kept; kept for the bound of one that does.
    assert_eq!(get(&http_on(cache()), &url).0.status, 200);
    assert_eq!(ttl(&redis, prefix, &url), -2, "not kept");
    let http = Http::builder()
        .cache_store(Arc::new(cache()))
        .stale_if_error(Duration::from_secs(120))
        .build()
        .unwrap();
    assert_eq!(get(&http, &url).0.status, 200);
    let kept = ttl(&redis, prefix, &url);
    assert!((90..=120).contains(&kept), "kept for the bound: {kept}");
    // The origin stops: the entry in Redis answers, marked.
    drop(server);
    let (response, content) = get(&http, &url);
    assert_eq!((response.status, content.as_slice()), (200, &b"v1"[..]));
    let mark = response.stale_on_error().expect("the stale answer");
    assert!(
        matches!(mark.error(), Some(Error::Connect { .. })),
        "{mark}"
    );
}

#[test]
fn prefixes_keep_applications_apart() {
    let redis = RedisServer::start("prefix");
    let one = RedisCache::builder(redis.url())
        .prefix("one:")
        .build()
        .unwrap();
    let two = RedisCache::builder(redis.url())
        .prefix("two:")
        .build()
        .unwrap();
    let key = "http://127.0.0.1/shared-name";
    one.set(key, b"one's").unwrap();
    assert_eq!(two.get(key), None);
    two.set(key, b"two's").unwrap();
    two.delete(key);
    assert_eq!(
        one.get(key).as_deref(),
        Some(&b"one's"[..]),
        "two's delete left one's entry"
    );
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query(&mut redis.connection())
        .unwrap();
    assert_eq!(keys, [format!("one:{key}")]);
    // The default prefix.
    RedisCache::new(&redis.url())
        .unwrap()
        .set(key, b"x")
        .unwrap();
    let exists: bool = redis::cmd("EXISTS")
        .arg(format!("asynchttp:cache:{key}"))
        .query(&mut redis.connection())
        .unwrap();
    assert!(exists);
}

#[test]
fn a_value_that_is_not_an_entry_is_a_miss_and_is_deleted() {
    let redis = RedisServer::start("foreign");
    let server =
        Server::start(|_| Reply::ok("from the server").header("Cache-Control", "max-age=60"));
    let url = server.url("/doc");
    let name = format!("asynchttp:cache:{url}");
    let _: () = redis::cmd("SET")
        .arg(&name)
        .arg("another program's value")
        .query(&mut redis.connection())
        .unwrap();
    let http = http_on(RedisCache::new(&redis.url()).unwrap());
    let (response, content) = get(&http, &url);
    assert!(!response.from_cache);
    assert_eq!(content, b"from the server");
    assert!(get(&http, &url).0.from_cache, "replaced by a whole entry");
    // A value cut short is refused the same way.
    let stored: Vec<u8> = redis::cmd("GET")
        .arg(&name)
        .query(&mut redis.connection())
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(&name)
        .arg(&stored[..stored.len() - 1])
        .query(&mut redis.connection())
        .unwrap();
    assert!(!get(&http, &url).0.from_cache);
    assert_eq!(server.hits(), 2);
}

#[test]
fn no_request_fails_while_redis_is_stopped_and_restarted() {
    init_logging();
    let mut redis = RedisServer::start("restart");
    let server = Server::start(|_| Reply::ok("body").header("Cache-Control", "max-age=60"));
    let http = http_on(RedisCache::new(&redis.url()).unwrap());
    let url = |i: usize| server.url(&format!("/doc{i}"));
    for i in 0..5 {
        get(&http, &url(i));
    }
    assert!(get(&http, &url(0)).0.from_cache);

    redis.stop();
    // Every request is answered by the server: misses, writes skipped, no error.
    let before = server.hits();
    for i in 0..20 {
        let (response, content) = get(&http, &url(i % 5));
        assert_eq!((response.status, content.as_slice()), (200, &b"body"[..]));
        assert!(!response.from_cache);
    }
    assert_eq!(server.hits(), before + 20);

    redis.run();
    // Within a pause of a second, the client tries Redis again and stores what it fetches.
    eventually("entries stored again after the restart", || {
        get(&http, &url(7));
        get(&http, &url(7)).0.from_cache
    });
}

#[test]
fn a_frozen_redis_costs_a_timeout_a_second_not_one_a_request() {
    init_logging();
    let redis = RedisServer::start("frozen");
    // 50 ms a request: the requests span seconds, so several pauses.
    let server = Server::start(|_| {
        Reply::ok("body")
            .header("Cache-Control", "max-age=60")
            .delay(Duration::from_millis(50))
    });
    let http = http_on(
        RedisCache::builder(redis.url())
            .connect_timeout(Duration::from_millis(100))
            .response_timeout(Duration::from_millis(100))
            .build()
            .unwrap(),
    );
    get(&http, &server.url("/warm"));
    let connections = |redis: &RedisServer| -> u64 {
        let info: String = redis::cmd("INFO")
            .arg("stats")
            .query(&mut redis.connection())
            .unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("total_connections_received:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let before = connections(&redis);
    redis.freeze();
    let start = Instant::now();
    let requests = 60;
    for i in 0..requests {
        let (response, content) = get(&http, &server.url(&format!("/doc{i}")));
        assert_eq!((response.status, content.as_slice()), (200, &b"body"[..]));
    }
    let seconds = start.elapsed().as_secs();
    redis.thaw();
    // Each try while frozen times out and its connection is dropped: the connections the
    // kernel accepted for Redis meanwhile count the tries (less the test's own, for INFO).
    // One a pause at most, not one a call (three calls a request: a lookup on the caller's
    // thread, one on the worker, the write).
    let tries = connections(&redis) - before - 1;
    assert!(tries <= seconds + 2, "{tries} tries in {seconds} s");
    assert!(seconds >= 3, "the requests took {seconds} s");
    assert!(
        tries * 2 < requests,
        "{tries} tries for {requests} requests"
    );
}

#[test]
fn a_redis_away_at_start_is_an_outage_not_an_error() {
    let url = closed_port_url().replace("http://", "redis://");
    let server = Server::start(|_| Reply::ok("body").header("Cache-Control", "max-age=60"));
    let http = http_on(RedisCache::new(&url).unwrap());
    for _ in 0..3 {
        let (response, content) = get(&http, &server.url("/doc"));
        assert_eq!(
            (response.status, response.from_cache, content.as_slice()),
            (200, false, &b"body"[..])
        );
    }
}

#[test]
fn bad_settings_are_refused_when_built() {
    let refused = |built: std::io::Result<RedisCache>| built.unwrap_err();
    let e = refused(RedisCache::new("http://127.0.0.1:6379/"));
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("127.0.0.1:6379"), "{e}");
    let e = refused(RedisCache::new("redis://user:s3cret@127.0.0.1:6379/x"));
    assert!(!e.to_string().contains("s3cret"), "{e}");
    refused(RedisCache::cluster(Vec::<String>::new()).build());
    refused(
        RedisCache::builder("redis://127.0.0.1/")
            .connect_timeout(Duration::ZERO)
            .build(),
    );
    refused(
        RedisCache::builder("redis://127.0.0.1/")
            .keep_validated(Duration::ZERO)
            .build(),
    );
}

#[test]
fn a_cluster_of_three_masters_shares_entries_across_its_slots() {
    init_logging();
    let cluster = RedisCluster::start("cluster");
    let server = Server::start(|req| {
        Reply::ok(format!("body of {}", req.url)).header("Cache-Control", "max-age=60")
    });
    let cache = || {
        RedisCache::cluster(cluster.urls())
            .prefix("c:")
            .build()
            .unwrap()
    };
    let first = http_on(cache());
    let paths: Vec<String> = (0..30).map(|i| format!("/doc{i}")).collect();
    for path in &paths {
        assert!(!get(&first, &server.url(path)).0.from_cache);
    }
    // A client that knows only one node finds them all, on whichever node holds them.
    let second = http_on(
        RedisCache::cluster([cluster.urls()[2].clone()])
            .prefix("c:")
            .build()
            .unwrap(),
    );
    for path in &paths {
        let (response, content) = get(&second, &server.url(path));
        assert!(response.from_cache, "{path}");
        assert_eq!(content, format!("body of {path}").as_bytes());
    }
    assert_eq!(server.hits(), paths.len());
    let per_node: Vec<u64> = cluster
        .nodes
        .iter()
        .map(|n| redis::cmd("DBSIZE").query(&mut n.connection()).unwrap())
        .collect();
    assert_eq!(per_node.iter().sum::<u64>(), 30);
    assert!(
        per_node.iter().all(|&n| n > 0),
        "entries on every master: {per_node:?}"
    );
    // Asked of every node: the one that holds it answers, the others answer MOVED.
    let name = format!("c:{}", server.url("/doc0"));
    let ttl: i64 = cluster
        .nodes
        .iter()
        .find_map(|n| redis::cmd("TTL").arg(&name).query(&mut n.connection()).ok())
        .unwrap();
    assert!((1..=60).contains(&ttl), "an expiry within max-age: {ttl}");
}
