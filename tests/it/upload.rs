//! Bodies read as they are sent: files and readers, sent whole, sent again after a 307, a
//! 401 or a closed kept connection, or refused with a clear error; their progress.

use std::io::{self, Cursor, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use asynchttp::{Body, Error, Http, Request, Retry, Transferred};
use sha2::{Digest, Sha256};

use crate::auth::digest_params;
use crate::support::{BOUND, Reply, Server, TempDir, body, error, pattern, wait};

/// A file of `len` bytes of [`pattern`] in `dir`, and its bytes.
fn file_in(dir: &TempDir, name: &str, len: usize) -> (std::path::PathBuf, Vec<u8>) {
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join(name);
    let bytes = pattern(len);
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

/// A server that answers `/old` with a 307 to `/new`, and anything else with 201.
fn redirecting() -> Server {
    Server::start(|req| match req.url.as_str() {
        "/old" => Reply::new(307, "").header("Location", "/new"),
        _ => Reply::new(201, "stored"),
    })
}

/// A client that follows a 307 for any method (httplib2 follows it for GET and HEAD only).
fn following() -> Http {
    Http::builder().follow_all_redirects(true).build().unwrap()
}

/// The `Error::Body` of a request that must fail with one: its reason, path and itself.
#[track_caller]
fn body_error(response: &asynchttp::LazyResponse) -> (String, Option<std::path::PathBuf>, Error) {
    let e = error(response);
    match &e {
        Error::Body { reason, path, .. } => (reason.clone(), path.clone(), e),
        other => panic!("expected Error::Body, got {}", other.chain()),
    }
}

#[test]
fn a_100_mib_file_arrives_whole_with_its_length_and_digest() {
    let dir = TempDir::new("upload-100mib");
    let (path, bytes) = file_in(&dir, "big.bin", 100 << 20);
    let digest = Sha256::digest(&bytes).to_vec();
    drop(bytes);
    let server = Server::hashing(|_| Reply::new(201, "stored"));
    let http = Http::new();
    let (response, _) = http.put(&server.url("/big.bin"), Body::file(&path));
    assert_eq!(
        wait(&response).map(|r| r.status).map_err(|e| e.chain()),
        Ok(201)
    );
    let seen = &server.received()[0];
    assert_eq!(seen.length, 100 << 20);
    assert_eq!(seen.header("content-length"), Some("104857600"));
    assert_eq!(seen.body, digest, "the server's SHA-256 of what it got");
}

#[test]
fn a_file_is_sent_whole_again_after_a_307() {
    let dir = TempDir::new("upload-307");
    let (path, bytes) = file_in(&dir, "doc.bin", 1 << 20);
    let server = redirecting();
    let http = following();
    let (response, content) = http.put(&server.url("/old"), Body::file(&path));
    assert_eq!(
        wait(&response).map(|r| r.status).map_err(|e| e.chain()),
        Ok(201)
    );
    assert_eq!(body(&content), b"stored");
    let seen = server.received();
    assert_eq!(seen.len(), 2);
    for (hop, url) in seen.iter().zip(["/old", "/new"]) {
        assert_eq!(hop.url, url);
        assert_eq!(hop.method, "PUT");
        assert!(
            hop.body == bytes,
            "{url}: {} bytes, not the file",
            hop.length
        );
    }
}

#[test]
fn a_file_is_sent_whole_again_to_answer_a_digest_401() {
    let dir = TempDir::new("upload-401");
    let (path, bytes) = file_in(&dir, "doc.bin", 300 << 10);
    let server = Server::start(|req| {
        let answered = req
            .header("authorization")
            .and_then(digest_params)
            .is_some_and(|params| params.iter().any(|(k, v)| k == "username" && v == "alice"));
        if answered {
            return Reply::new(201, "stored");
        }
        let challenge = r#"Digest realm="r", qop="auth", nonce="n1", opaque="o""#;
        Reply::new(401, "who are you").header("WWW-Authenticate", challenge)
    });
    let http = Http::new();
    http.add_credentials("alice", "s3cret", "");
    let (response, _) = http.put(&server.url("/doc"), Body::file(&path));
    assert_eq!(
        wait(&response).map(|r| r.status).map_err(|e| e.chain()),
        Ok(201)
    );
    let seen = server.received();
    assert_eq!(seen.len(), 2, "the request, then its answer to the 401");
    assert!(seen[1].header("authorization").is_some());
    for exchange in &seen {
        assert!(
            exchange.body == bytes,
            "{} bytes, not the file",
            exchange.length
        );
    }
}

#[test]
fn a_reader_wanted_again_by_a_307_fails_saying_why() {
    let server = redirecting();
    let http = following();
    let reader = Body::reader(Cursor::new(pattern(100_000)));
    let (response, _) = http.put(&server.url("/old"), reader);
    let (reason, path, _) = body_error(&response);
    assert_eq!(
        reason,
        "the body was a reader, already sent once; a 307 redirect needs it again \
         (Body::remake makes it again)"
    );
    assert_eq!(path, None);
    assert_eq!(server.hits(), 1, "nothing was sent to /new");
}

#[test]
fn a_remade_body_is_made_again_for_a_307() {
    let server = redirecting();
    let http = following();
    let made = Arc::new(AtomicUsize::new(0));
    let count = made.clone();
    let remade = Body::remake(Some(70_000), move || {
        count.fetch_add(1, Ordering::SeqCst);
        Ok(Cursor::new(pattern(70_000)))
    });
    let (response, _) = http.put(&server.url("/old"), remade);
    assert_eq!(
        wait(&response).map(|r| r.status).map_err(|e| e.chain()),
        Ok(201)
    );
    assert_eq!(made.load(Ordering::SeqCst), 2);
    for hop in server.received() {
        assert!(
            hop.body == pattern(70_000),
            "{}: {} bytes",
            hop.url,
            hop.length
        );
        assert_eq!(hop.header("content-length"), Some("70000"));
    }
}

#[test]
fn a_303_drops_the_reader_and_needs_it_no_more() {
    let server = Server::start(|req| match req.url.as_str() {
        "/form" => Reply::new(303, "").header("Location", "/done"),
        _ => Reply::ok("done"),
    });
    let http = Http::new();
    let (response, content) = http.post(&server.url("/form"), Body::reader(&b"a=1"[..]));
    assert_eq!(
        wait(&response).map(|r| r.status).map_err(|e| e.chain()),
        Ok(200)
    );
    assert_eq!(body(&content), b"done");
    let seen = server.received();
    assert_eq!(
        (seen[0].body.as_slice(), seen[1].method.as_str()),
        (&b"a=1"[..], "GET")
    );
    assert!(seen[1].body.is_empty());
}

#[test]
fn a_reader_of_unknown_length_goes_chunked_every_byte_of_it() {
    let server = Server::start(|_| Reply::ok("ok"));
    let http = Http::new();
    let sent = pattern(300_000);
    let (response, _) = http.post(
        &server.url("/stream"),
        Body::reader(Cursor::new(sent.clone())),
    );
    assert_eq!(
        wait(&response).map(|r| r.status).map_err(|e| e.chain()),
        Ok(200)
    );
    let seen = &server.received()[0];
    assert_eq!(seen.header("transfer-encoding"), Some("chunked"));
    assert_eq!(seen.header("content-length"), None);
    assert!(seen.body == sent, "{} bytes of {}", seen.length, sent.len());
}

/// Every change of a monitored upload's progress, followed from another thread until done.
fn follow(upload: asynchttp::Upload) -> thread::JoinHandle<Vec<Transferred>> {
    thread::spawn(move || {
        let mut seen = vec![upload.progress()];
        while !seen.last().unwrap().done {
            let last = seen.last().unwrap().bytes;
            let now = upload.wait_progress(last, BOUND);
            assert!(*seen.last().unwrap() != now, "no change within {BOUND:?}");
            seen.push(now);
        }
        seen
    })
}

#[test]
fn upload_progress_reaches_the_total_exactly_once_and_ends() {
    let dir = TempDir::new("upload-progress");
    let (path, _) = file_in(&dir, "video.bin", 8 << 20);
    let server = Server::hashing(|_| Reply::new(201, ""));
    let http = Http::new();
    let mut file = Body::file(&path);
    let upload = file.monitor();
    let follower = follow(upload.clone());
    let (response, _) = http.put(&server.url("/video"), file);
    assert_eq!(
        wait(&response).map(|r| r.status).map_err(|e| e.chain()),
        Ok(201)
    );
    assert!(upload.progress().done, "ended before the pair was filled");
    let seen = follower.join().unwrap();
    let total = 8u64 << 20;
    let reached = seen
        .windows(2)
        .filter(|w| w[0].bytes < total && w[1].bytes == total)
        .count();
    assert_eq!(reached, 1, "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0].bytes <= w[1].bytes),
        "{seen:?}"
    );
    assert!(seen.iter().all(|t| t.bytes <= total));
    let last = seen.last().unwrap();
    assert_eq!(
        (last.bytes, last.total, last.done),
        (total, Some(total), true)
    );
    assert!(seen.len() > 3, "several steps on the way: {}", seen.len());
}

#[test]
fn the_progress_of_a_body_never_sent_ends_too() {
    let http = Http::new();
    let mut refused = Body::from("x");
    let upload = refused.monitor();
    let (response, _) = http.send(Request::new("PUT", "not a url").body(refused));
    assert!(wait(&response).is_err());
    assert!(upload.wait_progress(0, BOUND).done);
}

/// Gives `good` bytes, then fails.
struct Failing {
    good: usize,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.good == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.good);
        buf[..n].fill(b'x');
        self.good -= n;
        Ok(n)
    }
}

#[test]
fn a_reader_that_fails_midway_fails_the_request_with_its_error() {
    let server = Server::start(|_| Reply::ok("ok"));
    let http = Http::new();
    for body in [
        Body::reader(Failing { good: 200_000 }),
        Body::sized_reader(Failing { good: 200_000 }, 1_000_000),
    ] {
        let (response, _) = http.put(&server.url("/x"), body);
        let (reason, _, e) = body_error(&response);
        assert_eq!(reason, "the reader failed after 200000 bytes");
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk on fire"));
    }
    assert_eq!(server.hits(), 0, "no body reached the server whole");
}

#[test]
fn a_sized_reader_shorter_or_longer_than_announced_fails_and_does_not_hang() {
    let server = Server::start(|_| Reply::ok("ok"));
    let http = Http::new();
    let short = Body::sized_reader(Cursor::new(pattern(100_000)), 150_000);
    let (response, _) = http.put(&server.url("/short"), short);
    let (reason, _, _) = body_error(&response);
    assert_eq!(
        reason,
        "the reader gave 100000 of the 150000 bytes announced"
    );
    let long = Body::sized_reader(Cursor::new(pattern(100_000)), 65_536);
    let (response, _) = http.put(&server.url("/long"), long);
    let (reason, _, _) = body_error(&response);
    assert_eq!(
        reason,
        "the reader gave more than the 65536 bytes announced"
    );
    assert_eq!(server.hits(), 0, "neither body reached the server whole");
}

#[test]
fn a_file_that_does_not_exist_fails_naming_it_and_sends_nothing() {
    let server = Server::start(|_| Reply::ok("ok"));
    let dir = TempDir::new("upload-missing");
    let missing = dir.0.join("no-such-video.mp4");
    let (response, _) = Http::new().put(&server.url("/v"), Body::file(&missing));
    let (reason, path, e) = body_error(&response);
    assert_eq!(reason, format!("could not open {}", missing.display()));
    assert_eq!(path.as_deref(), Some(missing.as_path()));
    // The file system's own error, kept as the source.
    assert!(e.chain().ends_with("(os error 2)"), "{}", e.chain());
    assert_eq!(server.connections(), 0);
}

/// A reader that notes the thread each read runs on.
struct Noting {
    inner: Cursor<Vec<u8>>,
    threads: Arc<Mutex<Vec<String>>>,
}

impl Read for Noting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let name = thread::current().name().unwrap_or("unnamed").to_owned();
        self.threads.lock().unwrap().push(name);
        self.inner.read(buf)
    }
}

#[test]
fn a_reader_is_read_on_a_worker_only_never_on_libcurls_agent_or_a_driver() {
    let server = Server::start(|_| Reply::ok("ok"));
    let http = Http::new();
    let threads = Arc::new(Mutex::new(Vec::new()));
    let reader = Noting {
        inner: Cursor::new(pattern(1 << 20)),
        threads: threads.clone(),
    };
    let (response, _) = http.post(&server.url("/x"), Body::reader(reader));
    assert_eq!(
        wait(&response).map(|r| r.status).map_err(|e| e.chain()),
        Ok(200)
    );
    let threads = threads.lock().unwrap();
    assert!(
        threads.len() > 16,
        "read a chunk at a time: {}",
        threads.len()
    );
    assert!(
        threads.iter().all(|t| t.starts_with("asynchttp-worke")),
        "{threads:?}"
    );
}

#[test]
fn a_streamed_body_goes_on_a_connection_of_its_own_and_never_a_kept_one() {
    let dir = TempDir::new("upload-own-connection");
    let (path, bytes) = file_in(&dir, "doc.bin", 200_000);
    let server = Server::start(|_| Reply::new(201, "ok"));
    let http = Http::builder().workers(1).build().unwrap();
    assert_eq!(body(&http.request(&server.url("/1")).1), b"ok");
    for _ in 0..2 {
        let (response, _) = http.put(&server.url("/doc"), Body::file(&path));
        assert_eq!(
            wait(&response).map(|r| r.status).map_err(|e| e.chain()),
            Ok(201)
        );
    }
    assert_eq!(body(&http.request(&server.url("/2")).1), b"ok");
    let mut served = server.requests_per_connection();
    served.sort_unstable();
    assert_eq!(
        served,
        [1, 1, 2],
        "the GETs share one; each upload has its own"
    );
    assert!(server.received()[1..3].iter().all(|r| r.body == bytes));
}

/// Answers 503 to the first request, 201 to the rest.
fn unavailable_once() -> Server {
    let hits = AtomicUsize::new(0);
    Server::start(move |_| match hits.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::new(503, "busy"),
        _ => Reply::new(201, "stored"),
    })
}

#[test]
fn a_retry_opens_a_file_again_and_refuses_a_reader_read_once() {
    let dir = TempDir::new("upload-retry");
    let (path, bytes) = file_in(&dir, "doc.bin", 150_000);
    let retry = || Retry::new(2).backoff(Duration::from_millis(1), Duration::from_millis(5));
    let server = unavailable_once();
    let file = Request::new("PUT", server.url("/doc")).body(Body::file(&path));
    let (response, _) = Http::new().send(file.retry(retry()));
    assert_eq!(
        wait(&response).map(|r| r.status).map_err(|e| e.chain()),
        Ok(201)
    );
    let seen = server.received();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|r| r.body == bytes), "both attempts whole");

    let server = unavailable_once();
    let reader = Body::sized_reader(Cursor::new(bytes.clone()), bytes.len() as u64);
    let req = Request::new("PUT", server.url("/doc")).body(reader);
    let (response, _) = Http::new().send(req.retry(retry()));
    let (reason, _, _) = body_error(&response);
    assert!(
        reason.ends_with("a retry needs it again (Body::remake makes it again)"),
        "{reason}"
    );
}

#[test]
fn a_mock_reads_a_streamed_body_whole_and_hooks_see_its_length() {
    use asynchttp::{BoxError, Hook, MockResponse, MockTransport, Outgoing};

    struct Seen(Arc<Mutex<Vec<(usize, u64, bool)>>>);
    impl Hook for Seen {
        fn before_send(&self, out: &mut Outgoing<'_>) -> Result<(), BoxError> {
            let shown = (out.body().len(), out.body_len(), out.body_streamed());
            self.0.lock().unwrap().push(shown);
            Ok(())
        }
    }
    let dir = TempDir::new("upload-mock");
    let (path, bytes) = file_in(&dir, "doc.bin", 100_000);
    let mock = MockTransport::new(|_| MockResponse::new(201));
    let shown = Arc::new(Mutex::new(Vec::new()));
    let http = Http::builder()
        .mock(mock.clone())
        .hook(Seen(shown.clone()))
        .build()
        .unwrap();
    let (response, _) = http.put("http://api.test/doc", Body::file(&path));
    assert_eq!(
        wait(&response).map(|r| r.status).map_err(|e| e.chain()),
        Ok(201)
    );
    assert!(mock.requests()[0].body() == bytes);
    let (response, _) = http.post("http://api.test/s", Body::reader(&b"abc"[..]));
    assert_eq!(wait(&response).map(|r| r.status).ok(), Some(201));
    assert_eq!(mock.requests()[1].body(), b"abc");
    let (response, _) = http.post("http://api.test/m", "in memory");
    assert_eq!(wait(&response).map(|r| r.status).ok(), Some(201));
    assert_eq!(
        *shown.lock().unwrap(),
        [(0, 100_000, true), (0, 0, true), (9, 9, false)]
    );
}
