//! Log lines: thread-tagged and request-tagged, no header values, bodies or query strings
//! at DEBUG, and the call site of a request whose error surfaces; the warnings for a saved
//! cookie that is skipped and for a `.netrc` others may read. A binary of its own, since
//! it installs the process's logger.

#[path = "it/support.rs"]
mod support;

use std::future::IntoFuture;
use std::sync::{Mutex, Once};
use std::thread;
use std::time::Duration;

use asynchttp::Destination;
use support::*;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.target().starts_with("asynchttp")
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {} {}", record.level(), record.target(), record.args());
            LINES.lock().unwrap().push(line);
        }
    }

    fn flush(&self) {}
}

/// Installs [`Capture`] as the process's logger, once for every test.
fn capture() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Debug);
    });
}

/// The captured lines written on the thread named `thread`.
fn lines_of(thread: &str) -> Vec<String> {
    let tag = format!("[{thread}] ");
    let lines = LINES.lock().unwrap();
    lines.iter().filter(|l| l.contains(&tag)).cloned().collect()
}

fn lines_for(id: &str) -> Vec<String> {
    let tag = format!(" req={id} ");
    LINES
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(&tag))
        .cloned()
        .collect()
}

/// The request id from the queued line of the request whose URL contains `path`.
fn id_of(path: &str) -> String {
    let lines = LINES.lock().unwrap();
    let line = lines
        .iter()
        .find(|l| l.contains(" queued ") && l.contains(path))
        .unwrap_or_else(|| panic!("no queued line for {path}: {lines:#?}"));
    req_id(line)
}

/// The id after the first `req=` in a text.
fn req_id(text: &str) -> String {
    let after = text.split("req=").nth(1).expect("a req= tag");
    after.split(' ').next().unwrap().to_owned()
}

#[test]
fn lines_name_the_thread_and_the_request_and_keep_secrets_out() {
    capture();
    let server = Server::start(|_| Reply::ok("0123456789"));
    let http = Http::builder().workers(2).build().unwrap();

    let (response, _) = http.request_with(
        &server.url("/ok?api_key=query-secret"),
        "POST",
        "body-secret",
        &[("Authorization", "Bearer header-secret")],
    );
    assert_eq!(wait(&response).unwrap().status, 200);
    let id = id_of("/ok");
    let lines = lines_for(&id);
    let find = |word: &str| {
        lines
            .iter()
            .find(|l| l.contains(word))
            .unwrap_or_else(|| panic!("no {word:?} line in {lines:#?}"))
            .clone()
    };
    let thread = std::thread::current().name().unwrap().to_owned();
    assert!(find(" queued ").starts_with(&format!(
        "DEBUG asynchttp::run [{thread}] req={id} queued POST http://"
    )));
    // A plain pair runs on a driver.
    assert!(find(" started ").contains("[asynchttp-driver-"));
    let finished = find(" finished ");
    assert!(finished.contains("[asynchttp-driver-"), "{finished}");
    assert!(finished.contains("-> 200 (10 bytes) in "), "{finished}");
    assert!(finished.contains(" (queued "), "{finished}");
    assert_eq!(
        LazyResponse::id(&response).to_string(),
        id,
        "the pair's id is the log's"
    );
    for line in LINES.lock().unwrap().iter() {
        for secret in ["query-secret", "body-secret", "header-secret"] {
            assert!(!line.contains(secret), "{line}");
        }
    }

    // A failure: logged by the worker, and again where it surfaces, with the call site.
    let made_at = line!() + 1;
    let (failed, _) = http.request(&closed_port_url());
    assert!(LazyResponse::wait(&failed).is_err());
    let id = req_id(&format!("{failed:?}"));
    let lines = lines_for(&id);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" failed GET ") && l.contains("could not connect")),
        "{lines:#?}"
    );
    let surfaced = lines
        .iter()
        .find(|l| l.contains("error surfaced at"))
        .expect("surfaced line");
    assert!(
        surfaced.contains(&format!("(request made at tests/logging.rs:{made_at}:")),
        "{surfaced}"
    );
    assert!(
        surfaced.contains("error surfaced at tests/logging.rs:"),
        "{surfaced}"
    );

    // A retry: each attempt's decision is a line, and the next attempt says which it is.
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let flaky =
        Server::start(
            move |_| match seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => Reply::new(503, ""),
                _ => Reply::ok("ok"),
            },
        );
    let retrying = Http::builder()
        .retry(asynchttp::Retry::new(2))
        .build()
        .unwrap();
    let (response, _) = retrying.request(&flaky.url("/flaky"));
    assert_eq!(wait(&response).unwrap().attempts, 2);
    let lines = lines_for(&id_of("/flaky"));
    let retry = lines
        .iter()
        .find(|l| l.contains(" retry 1/2 after "))
        .unwrap_or_else(|| panic!("no retry line in {lines:#?}"));
    assert!(retry.ends_with("ms: 503"), "{retry}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" started GET ") && l.ends_with("(attempt 2)")),
        "{lines:#?}"
    );
}

/// A blocking read on a thread that has awaited the crate's futures (an async executor's)
/// is told once per thread, with where it blocked and `.await` named; on a plain thread,
/// or where nothing blocks, it is not.
#[test]
fn a_blocking_wait_on_an_executors_thread_is_told_once_and_names_await() {
    capture();
    let server = Server::start(|r| match r.url.as_str() {
        "/slow" => Reply::ok("slow").delay(Duration::from_millis(300)),
        _ => Reply::ok("fast"),
    });
    let http = Http::new();
    let (fast, slow) = (server.url("/fast"), server.url("/slow"));
    let on = |name: &str, run: Box<dyn FnOnce() -> u32 + Send + '_>| {
        thread::scope(|s| {
            let thread = thread::Builder::new().name(name.to_owned());
            thread.spawn_scoped(s, run).unwrap().join().unwrap()
        })
    };
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    };

    // A tokio runtime's thread: a pair awaited, then two read by dereferencing.
    let line = on(
        "awaits-then-derefs",
        Box::new(|| {
            runtime().block_on(async {
                assert_eq!(http.request(&fast).1.await.unwrap(), b"fast");
                let (first, second) = (http.request(&slow).0, http.request(&slow).0);
                let line = line!() + 1;
                assert_eq!(first.status, 200); // blocks the runtime's thread
                assert_eq!(second.status, 200);
                line
            })
        }),
    );
    let told = lines_of("awaits-then-derefs");
    let told: Vec<_> = told.iter().filter(|l| l.contains(" blocks at ")).collect();
    assert_eq!(told.len(), 1, "once per thread: {told:#?}");
    let at = format!(" blocks at tests/logging.rs:{line}:");
    assert!(told[0].starts_with("DEBUG asynchttp::"), "{}", told[0]);
    assert!(
        told[0].contains("] req=") && told[0].contains(&at),
        "{}",
        told[0]
    );
    assert!(told[0].contains("`.await` it instead"), "{}", told[0]);

    // Another thread that awaited, blocking on a download's progress.
    let line = on(
        "awaits-then-waits-for-progress",
        Box::new(|| {
            futures_lite::future::block_on(http.request(&fast).0.into_future()).unwrap();
            let download = http.send_to(Request::get(&slow), Destination::writer(Vec::new()));
            let line = line!() + 1;
            let seen = download.wait_progress(0, BOUND);
            assert_eq!(seen.bytes, 4, "{seen:?}");
            line
        }),
    );
    let told = lines_of("awaits-then-waits-for-progress");
    let at = format!("a wait for a download's progress blocks at tests/logging.rs:{line}:");
    assert!(told.iter().any(|l| l.contains(&at)), "{told:#?}");

    // A plain thread blocks as blocking code does: nothing to tell. Nor does a thread that
    // awaited and then reads a pair that is already done.
    on(
        "plain",
        Box::new(|| {
            assert_eq!(http.request(&slow).0.status, 200);
            0
        }),
    );
    on(
        "awaits-then-reads-what-is-done",
        Box::new(|| {
            let (response, content) = http.request(&fast);
            futures_lite::future::block_on((&content).into_future()).unwrap();
            assert_eq!(response.status, 200);
            0
        }),
    );
    for quiet in ["plain", "awaits-then-reads-what-is-done"] {
        let lines = lines_of(quiet);
        assert!(
            lines.iter().all(|l| !l.contains(" blocks at ")),
            "{lines:#?}"
        );
        assert!(!lines.is_empty(), "the thread's requests were logged");
    }
}

#[test]
fn a_saved_cookie_a_header_cannot_carry_is_skipped_with_a_warning() {
    capture();
    let jar = asynchttp::CookieJar::new();
    jar.add("http://skipped.test/", "session=s1").unwrap();
    jar.add("http://skipped.test/", "e=5").unwrap();
    let mut saved = Vec::new();
    jar.save_json(&mut saved).unwrap();
    let text = String::from_utf8(saved).unwrap();
    let edited = text.replace("\"e=5", "\"e=5\\r\\nX-Injected: add");
    let loaded = asynchttp::CookieJar::load_json(edited.as_bytes()).unwrap();
    assert_eq!(loaded.len(), 1);
    let lines = LINES.lock().unwrap();
    let warned: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("skipped.test"))
        .collect();
    assert_eq!(warned.len(), 1, "{lines:#?}");
    assert!(
        warned[0].starts_with("WARN asynchttp::cookies [")
            && warned[0].contains("cookie jar: a saved cookie of \"skipped.test\" is skipped: ")
            && !warned[0].contains("Injected"),
        "{}",
        warned[0]
    );
}

/// A `.netrc` with passwords that the group or others may read is used, with one warning
/// that names it and its mode; one readable by its owner alone, or without a password, is
/// used without a word. A `machine` that is no host is warned about too.
#[cfg(unix)]
#[test]
fn a_netrc_others_may_read_is_warned_about_when_it_holds_passwords() {
    use std::os::unix::fs::PermissionsExt as _;

    capture();
    let dir = TempDir::new("netrc-mode");
    std::fs::create_dir_all(&dir.0).unwrap();
    let warnings_for = |name: &str, text: &str, mode: u32| {
        let path = dir.0.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let built = asynchttp::Http::builder().netrc_file(&path).build();
        assert!(built.is_ok(), "{name}: used whatever its mode");
        let shown = path.display().to_string();
        let lines = LINES.lock().unwrap();
        lines
            .iter()
            .filter(|l| l.starts_with("WARN ") && l.contains(&shown))
            .cloned()
            .collect::<Vec<_>>()
    };
    let password = "machine h login alice password s3cret\n";
    let warned = warnings_for("readable", password, 0o644);
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].starts_with("WARN asynchttp::netrc::file [")
            && warned[0].contains("holds passwords and its mode is 644")
            && warned[0].contains("chmod 600")
            && !warned[0].contains("s3cret"),
        "{}",
        warned[0]
    );
    assert_eq!(warnings_for("group-writable", password, 0o620).len(), 1);
    assert!(warnings_for("private", password, 0o600).is_empty());
    assert!(warnings_for("no-password", "machine h login alice\n", 0o644).is_empty());
    // An entry no request can match is told of, by its line.
    let unusable = warnings_for("port", "\nmachine h:8080 login a password p\n", 0o600);
    assert_eq!(unusable.len(), 1, "{unusable:#?}");
    assert!(
        unusable[0].contains(", line 2: machine \"h:8080\" is not a host name")
            && !unusable[0].contains("password p"),
        "{}",
        unusable[0]
    );
}

/// The logging example's format adds no thread name of its own: each line names its thread
/// once, from the message.
#[test]
fn the_logging_example_names_each_thread_once() {
    let output = std::process::Command::new(example_binary("logging"))
        .env("RUST_LOG", "asynchttp=debug")
        .output()
        .expect("run the logging example");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<_> = stderr.lines().filter(|l| l.contains(" req=")).collect();
    assert!(lines.len() >= 10, "{stderr}");
    for line in &lines {
        let named = |thread: &str| line.matches(&format!("[{thread}")).count();
        let bare = |thread: &str| line.matches(&format!(" {thread}")).count();
        let names = named("asynchttp-worker-") + named("asynchttp-driver-") + named("main]");
        let bare = bare("asynchttp-worker-") + bare("asynchttp-driver-") + bare("main ");
        assert_eq!((names, bare), (1, 0), "{line}");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("req="), "{stdout}");
}
