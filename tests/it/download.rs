//! Downloads: a body streamed into a file or a writer, decoded, bounded, resumed, with
//! progress; never the whole body in memory, never a partial file under the final name.

use std::fs;
use std::io::{self, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use asynchttp::{Destination, Downloaded};

use crate::support::*;

fn part(path: &std::path::Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".part");
    name.into()
}

/// Serves `body` whole, or the part a `Range: bytes=N-` asks for when `If-Range` holds the
/// ETag, as a 206.
fn ranged(body: Vec<u8>, etag: &'static str) -> impl Fn(&Received) -> Reply + Send + Sync {
    move |req| {
        let from = req
            .header("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|n| n.parse::<usize>().ok());
        match (from, req.header("if-range")) {
            (Some(from), Some(tag)) if tag == etag && from < body.len() => {
                Reply::new(206, body[from..].to_vec())
                    .header("ETag", etag)
                    .header(
                        "Content-Range",
                        &format!("bytes {from}-{}/{}", body.len() - 1, body.len()),
                    )
            }
            _ => Reply::ok(body.clone()).header("ETag", etag),
        }
    }
}

#[test]
fn a_body_larger_than_max_body_size_streams_into_its_file() {
    let body = pattern(3 << 20);
    let server = Server::start({
        let body = body.clone();
        move |_| Reply::ok(body.clone()).header("ETag", "\"v1\"")
    });
    let dir = TempDir::new("download-whole");
    fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("big.bin");
    // Held in memory, this body would fail: streamed, the limit does not apply.
    let http = Http::builder().max_body_size(1 << 20).build().unwrap();
    let download = http.download(&server.url("/big"), &path);
    let done: &Downloaded = download.wait().unwrap();
    assert_eq!(done.response.status, 200);
    assert_eq!(done.bytes, body.len() as u64);
    assert_eq!(done.path.as_deref(), Some(path.as_path()));
    assert!(done.content.is_empty());
    assert_eq!(fs::read(&path).unwrap(), body);
    assert!(!part(&path).exists());
    let progress = download.progress();
    assert_eq!(
        (progress.bytes, progress.total, progress.done),
        (body.len() as u64, Some(body.len() as u64), true)
    );
}

#[test]
fn a_compressed_body_lands_decoded() {
    let body = pattern(200_000);
    let server = Server::start({
        let packed = gzip(&body);
        move |_| Reply::ok(packed.clone()).header("Content-Encoding", "gzip")
    });
    let written = Arc::new(Mutex::new(Vec::new()));
    let http = Http::new();
    let download = http.send_to(
        Request::get(server.url("/gz")),
        Destination::writer(Shared(written.clone())),
    );
    let done = download.into_result().unwrap();
    assert_eq!(*written.lock().unwrap(), body);
    assert_eq!(done.bytes, body.len() as u64);
    assert_eq!(done.response.get("-content-encoding"), Some("gzip"));
    assert_eq!(done.response.get("content-length"), Some("200000"));
    assert_eq!(done.path, None);
}

#[test]
fn past_its_limit_a_download_fails_and_leaves_no_file() {
    let server = Server::start(|_| Reply::ok(pattern(1 << 20)));
    let dir = TempDir::new("download-limit");
    fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("capped.bin");
    let http = Http::new();
    let to = Destination::file(&path).limit(100_000);
    let download = http.send_to(Request::get(server.url("/")), to);
    let e = download.wait().unwrap_err();
    assert!(
        matches!(e, Error::BodyTooLarge { limit: 100_000, .. }),
        "{}",
        e.chain()
    );
    assert!(!path.exists());
    assert!(!part(&path).exists());
    assert!(download.progress().done);

    // A compressed body announces no decoded length: it is cut off as it is written.
    let packed =
        Server::start(|_| Reply::ok(gzip(&pattern(1 << 20))).header("Content-Encoding", "gzip"));
    let to = Destination::file(&path).limit(100_000);
    let download = http.send_to(Request::get(packed.url("/")), to);
    let e = download.wait().unwrap_err();
    assert!(
        matches!(e, Error::BodyTooLarge { limit: 100_000, .. }),
        "{}",
        e.chain()
    );
    assert!(!path.exists());
    assert!(!part(&path).exists());
}

#[test]
fn an_error_status_leaves_the_destination_alone() {
    let server = Server::start(|_| Reply::new(404, "no such file"));
    let dir = TempDir::new("download-404");
    fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("missing.bin");
    let http = Http::new();
    let done = http
        .download(&server.url("/missing"), &path)
        .into_result()
        .unwrap();
    assert_eq!(done.response.status, 404);
    assert_eq!(done.content, b"no such file");
    assert_eq!((done.bytes, done.path), (0, None));
    assert!(!path.exists());
    assert!(!part(&path).exists());
}

#[test]
fn a_writer_that_fails_fails_the_download_as_a_write_error() {
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let server = Server::start(|_| Reply::ok(pattern(10_000)));
    let http = Http::new();
    let download = http.send_to(Request::get(server.url("/")), Destination::writer(Full));
    match download.wait() {
        Err(Error::Write {
            path: None, source, ..
        }) => {
            assert_eq!(source.kind(), io::ErrorKind::StorageFull)
        }
        other => panic!("expected a write error, got {other:?}"),
    }
}

/// A body cut short keeps its partial file when the download may resume, with the ETag it
/// came under; the next download asks for the rest only and completes the file.
#[test]
fn a_broken_download_resumes_where_it_stopped() {
    let body = pattern(300_000);
    let cut = 120_000;
    // First a server that breaks off after `cut` bytes.
    let broken = RawServer::start({
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"v7\"\r\n\r\n",
            body.len()
        );
        let sent = body[..cut].to_vec();
        move |stream| {
            send(stream, head.as_bytes());
            send(stream, &sent);
        }
    });
    let dir = TempDir::new("download-resume");
    fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("resumed.bin");
    let http = Http::new();
    let first = http.send_to(
        Request::get(broken.url("/file")),
        Destination::file(&path).resume(true),
    );
    assert!(matches!(first.wait(), Err(Error::BodyIncomplete { .. })));
    assert!(!path.exists());
    assert_eq!(fs::read(part(&path)).unwrap(), body[..cut]);

    let whole = Server::start(ranged(body.clone(), "\"v7\""));
    let second = http.send_to(
        Request::get(whole.url("/file")),
        Destination::file(&path).resume(true),
    );
    let done = second.into_result().unwrap();
    assert_eq!(done.response.status, 206);
    assert_eq!(done.resumed_from, cut as u64);
    assert_eq!(done.bytes, body.len() as u64);
    assert_eq!(fs::read(&path).unwrap(), body);
    assert!(!part(&path).exists());
    let asked = &whole.received()[0];
    assert_eq!(
        asked.header("range"),
        Some(format!("bytes={cut}-").as_str())
    );
    assert_eq!(asked.header("if-range"), Some("\"v7\""));
}

/// A file that changed on the server since (its ETag differs) is fetched whole again.
#[test]
fn a_partial_file_of_another_version_starts_over() {
    let dir = TempDir::new("download-changed");
    fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("changed.bin");
    fs::write(part(&path), b"old bytes").unwrap();
    let mut validator = part(&path).into_os_string();
    validator.push(".validator");
    fs::write(&validator, "\"old\"").unwrap();
    let body = pattern(50_000);
    let server = Server::start(ranged(body.clone(), "\"new\""));
    let http = Http::new();
    let done = http
        .send_to(
            Request::get(server.url("/file")),
            Destination::file(&path).resume(true),
        )
        .into_result()
        .unwrap();
    assert_eq!((done.response.status, done.resumed_from), (200, 0));
    assert_eq!(fs::read(&path).unwrap(), body);
}

/// A partial file that was whole already (stopped between its last byte and the rename):
/// the server answers the range with 416 and the file's length, and the file is renamed.
#[test]
fn a_partial_file_already_whole_is_completed_on_a_416() {
    let dir = TempDir::new("download-whole-part");
    fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("done.bin");
    let body = pattern(4096);
    fs::write(part(&path), &body).unwrap();
    let mut validator = part(&path).into_os_string();
    validator.push(".validator");
    fs::write(&validator, "\"v1\"").unwrap();
    let server = Server::start(|req| {
        assert_eq!(req.header("range"), Some("bytes=4096-"));
        Reply::new(416, "<html>range not satisfiable</html>")
            .header("Content-Range", "bytes */4096")
    });
    let http = Http::new();
    let done = http
        .send_to(
            Request::get(server.url("/done")),
            Destination::file(&path).resume(true),
        )
        .into_result()
        .unwrap();
    assert_eq!(done.response.status, 416);
    assert_eq!((done.bytes, done.resumed_from), (4096, 4096));
    assert_eq!(done.path.as_deref(), Some(path.as_path()));
    assert!(done.content.is_empty());
    assert_eq!(fs::read(&path).unwrap(), body);
    assert!(!part(&path).exists());
}

/// A request with a range of its own does not continue a partial file: what it gets is
/// written as a file of its own, and no `If-Range` is added.
#[test]
fn a_range_of_the_callers_own_does_not_resume() {
    let dir = TempDir::new("download-own-range");
    fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("slice.bin");
    fs::write(part(&path), b"partial bytes").unwrap();
    let mut validator = part(&path).into_os_string();
    validator.push(".validator");
    fs::write(&validator, "\"v1\"").unwrap();
    let body = pattern(1000);
    let server = Server::start({
        let first = body[..100].to_vec();
        move |_| {
            Reply::new(206, first.clone())
                .header("ETag", "\"v1\"")
                .header("Content-Range", "bytes 0-99/1000")
        }
    });
    let http = Http::new();
    let request = Request::get(server.url("/slice")).header("Range", "bytes=0-99");
    let done = http
        .send_to(request, Destination::file(&path).resume(true))
        .into_result()
        .unwrap();
    assert_eq!(
        (done.response.status, done.resumed_from, done.bytes),
        (206, 0, 100)
    );
    assert_eq!(fs::read(&path).unwrap(), body[..100]);
    let asked = &server.received()[0];
    assert_eq!(asked.header("range"), Some("bytes=0-99"));
    assert_eq!(asked.header("if-range"), None);
}

/// Progress can be waited on: a caller learns of bytes as they arrive, before the end.
#[test]
fn progress_is_seen_while_the_body_arrives() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let release = Arc::new(AtomicBool::new(false));
    let go = release.clone();
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let _ = read_head(&mut stream);
        send(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n",
        );
        send(&mut stream, &[7u8; 10_000]);
        // The rest once the test has seen the first half arrive.
        for _ in 0..2000 {
            if go.load(Ordering::SeqCst) {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        send(&mut stream, &[7u8; 10_000]);
    });
    let http = Http::new();
    let written = Arc::new(Mutex::new(Vec::new()));
    let download = http.send_to(
        Request::get(format!("http://{addr}/slow")),
        Destination::writer(Shared(written.clone())),
    );
    let seen = download.wait_progress(0, BOUND);
    assert!(seen.bytes > 0 && !seen.done, "{seen:?}");
    assert_eq!(seen.total, Some(20_000));
    release.store(true, Ordering::SeqCst);
    assert_eq!(download.wait().unwrap().bytes, 20_000);
    assert!(download.wait_progress(20_000, BOUND).done);
}

/// A writer shared with the test.
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
