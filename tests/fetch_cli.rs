//! `examples/fetch.rs` run as a user runs it, against a loopback server: URLs from
//! arguments, a file and stdin; bodies written to a directory; the summary; exit codes;
//! curl's `.netrc` flags, with `NETRC` and `HOME` set for the child alone.

#[path = "it/support.rs"]
mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use support::{BOUND, Reply, Server, closed_port_url, example_binary};

/// The example's binary, brought up to date once.
fn fetch_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| example_binary("fetch"))
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs fetch with `args` and `stdin`, within the bound.
fn fetch(args: &[&str], stdin: &str) -> Run {
    fetch_with(args, stdin, &[])
}

/// Runs fetch as [`fetch`] does, with `env` set in its environment (a variable whose value
/// is `None` removed); this process's own is never changed.
fn fetch_with(args: &[&str], stdin: &str, env: &[(&str, Option<&Path>)]) -> Run {
    let mut command = Command::new(fetch_binary());
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fetch");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let feeder = thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes()); // an early exit closes the pipe
    });
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).unwrap();
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            panic!("fetch {args:?} did not finish within {BOUND:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    feeder.join().unwrap();
    Run {
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn server() -> Server {
    Server::start(|req| match req.url.as_str() {
        "/missing" => Reply::new(404, "no such page"),
        url => Reply::ok(format!("body of {url}")),
    })
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("asynchttp-fetch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn urls_from_arguments_give_a_line_each_and_a_summary() {
    let server = server();
    let (a, missing, refused) = (server.url("/a"), server.url("/missing"), closed_port_url());
    let run = fetch(&["-w", "4", &a, &missing, &refused], "");
    assert_eq!(run.code, Some(1), "a failure exits 1\n{}", run.stderr);
    let out = &run.stdout;
    // Not a terminal: one plain line per request, no progress bar.
    assert!(out.contains(&format!("200 {a} 10 B ")), "{out}");
    assert!(out.contains(&format!("404 {missing} 12 B ")), "{out}");
    assert!(
        out.contains(&format!("ERR {refused}: could not connect to 127.0.0.1:")),
        "{out}"
    );
    assert!(!run.stderr.contains('\r'), "no bar drawn: {:?}", run.stderr);
    // The summary.
    assert!(out.contains("fetched 3 URLs in "), "{out}");
    assert!(out.contains(" requests/s, 22 B"), "{out}");
    assert!(out.contains("statuses: 200 x 1, 404 x 1\n"), "{out}");
    assert!(
        out.contains("latency: p50 ") && out.contains(" ms, p99 "),
        "{out}"
    );
    // Each host, the slowest first: the one that never answered has no times, so it is last.
    let host = |url: &str| {
        url.trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned()
    };
    let (served, unserved) = (
        format!("  {}: requests 2, failed 0, p50 ", host(&server.url(""))),
        format!("  {}: requests 1, failed 1, p50 -, p99 -\n", host(&refused)),
    );
    assert!(out.contains("slowest hosts:\n"), "{out}");
    assert!(
        out.find(&served)
            .is_some_and(|s| out.find(&unserved).is_some_and(|u| s < u)),
        "{out}"
    );
    assert!(out.contains("failed: 1\n"), "{out}");
    assert!(
        out.contains(&format!("  {refused}: could not connect")),
        "failures listed with their reasons: {out}"
    );
    assert_eq!(server.hits(), 2);
}

#[test]
fn urls_from_a_file_with_bodies_written_to_a_directory() {
    let server = server();
    let dir = temp_dir("out");
    let list = temp_dir("list");
    let urls: Vec<String> = (0..30).map(|i| server.url(&format!("/page/{i}"))).collect();
    let text = format!("# a comment\n\n{}\n", urls.join("\n"));
    std::fs::write(&list, text).unwrap();
    let run = fetch(
        &[
            "--workers",
            "8",
            "--input",
            list.to_str().unwrap(),
            "-o",
            dir.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("statuses: 200 x 30\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("failed: 0\n"));
    let mut bodies: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    bodies.sort();
    let mut expected: Vec<String> = (0..30).map(|i| format!("body of /page/{i}")).collect();
    expected.sort();
    assert_eq!(bodies, expected, "one file per URL, each with its body");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&list).unwrap();
}

#[test]
fn urls_from_stdin_when_none_are_given() {
    let server = server();
    let input = format!("{}\n{}\n", server.url("/one"), server.url("/two"));
    for args in [&[][..], &["-i", "-"][..]] {
        let run = fetch(args, &input);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        assert!(run.stdout.contains("fetched 2 URLs"), "{}", run.stdout);
    }
    assert_eq!(server.hits(), 4);
}

#[test]
fn bad_arguments_exit_2_with_the_usage() {
    for (args, message) in [
        (&["-w", "0", "http://127.0.0.1:1/"][..], "--workers takes"),
        (
            &["-t", "soon", "http://127.0.0.1:1/"][..],
            "--timeout takes",
        ),
        (
            &["--idle-timeout", "0", "http://127.0.0.1:1/"][..],
            "--idle-timeout takes",
        ),
        (&["--verbose"][..], "unknown option --verbose"),
        (
            &["--resolve", "a.test:80", "http://a.test/"][..],
            "--resolve takes HOST:PORT:ADDR[,ADDR]...",
        ),
        (
            &["--connect-to", "a.test:80", "http://a.test/"][..],
            "--connect-to takes HOST1:PORT1:HOST2:PORT2",
        ),
        (
            &["--limit-rate", "12q", "http://a.test/"][..],
            "--limit-rate takes bytes a second",
        ),
        (&["-i", "/no/such/list"][..], "cannot read /no/such/list"),
        (&[][..], "no URLs given"),
    ] {
        let run = fetch(args, "");
        assert_eq!(run.code, Some(2), "{args:?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("usage: fetch"), "{args:?}");
    }
    let help = fetch(&["--help"], "");
    assert_eq!(help.code, Some(0));
    assert!(help.stdout.starts_with("usage: fetch"));
}

#[test]
fn retries_send_a_busy_url_again_and_the_summary_counts_them() {
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let server =
        Server::start(
            move |_| match seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => Reply::new(503, "busy"),
                _ => Reply::ok("ok"),
            },
        );
    let url = server.url("/busy");
    let run = fetch(&["--retries", "2", &url], "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!("200 {url} ")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\nretries: 1\n"), "{}", run.stdout);
    assert_eq!(server.hits(), 2);
    let refused = fetch(&["--retries", "many", &url], "");
    assert_eq!(refused.code, Some(2));
    assert!(refused.stderr.contains("--retries takes a whole number"));
}

#[test]
fn per_host_and_rate_limit_each_host() {
    let arrivals = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let server = Server::start(move |_| {
        seen.lock().unwrap().push(Instant::now());
        Reply::ok("x")
    });
    let urls: Vec<String> = (0..4).map(|i| server.url(&format!("/{i}"))).collect();
    let mut args = vec!["--per-host", "1", "--rate", "4"];
    args.extend(urls.iter().map(String::as_str));
    let run = fetch(&args, "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 4);
    // Four requests at four a second: three gaps of a quarter second at least.
    let spread = *arrivals.last().unwrap() - arrivals[0];
    assert!(spread >= Duration::from_millis(700), "{spread:?}");
    assert!(server.connections() <= 1);
    let refused = fetch(&["--rate", "0", &urls[0]], "");
    assert_eq!(refused.code, Some(2));
    assert!(
        refused
            .stderr
            .contains("--rate takes requests a second above 0")
    );
}

#[test]
fn upload_file_puts_it_under_its_name_as_curl_does() {
    let dir = temp_dir("upload");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clip one.bin");
    let bytes = support::pattern(300_000);
    std::fs::write(&file, &bytes).unwrap();
    let server = Server::start(|_| Reply::new(201, "stored"));
    let file_arg = file.to_str().unwrap();
    let run = fetch(&["-T", file_arg, &server.url("/videos/")], "");
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let seen = server.received();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].url.as_str()),
        ("PUT", "/videos/clip%20one.bin")
    );
    assert!(seen[0].body == bytes, "{} bytes", seen[0].length);
    assert!(run.stdout.contains("201 "), "{}", run.stdout);
    assert!(run.stdout.contains("uploaded 292.97 KiB"), "{}", run.stdout);
    // A URL naming the file is used as it is.
    let run = fetch(&["-T", file_arg, &server.url("/exact")], "");
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(server.received()[1].url, "/exact");
    // A file that is not there: the request fails with the reason, exit 1.
    let missing = dir.join("gone.bin");
    let run = fetch(&["-T", missing.to_str().unwrap(), &server.url("/")], "");
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.contains("could not open"), "{}", run.stdout);
    assert_eq!(server.hits(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn netrc_flags_send_the_files_credentials_as_curls_do() {
    let good = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "alice:s3cret")
    );
    let server = Server::start(move |req| match req.header("authorization") {
        Some(a) if a == good => Reply::ok("welcome"),
        _ => Reply::new(401, "who are you"),
    });
    let url = server.url("/private");
    let dir = temp_dir("netrc");
    let (home, empty_home) = (dir.join("home"), dir.join("empty"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&empty_home).unwrap();
    let entry = "machine 127.0.0.1 login alice password s3cret\n";
    let (dot_netrc, named, bad) = (home.join(".netrc"), dir.join("named"), dir.join("bad"));
    std::fs::write(&dot_netrc, entry).unwrap();
    std::fs::write(&named, entry).unwrap();
    std::fs::write(&bad, "machine 127.0.0.1\n  pasword s3cret\n").unwrap();
    let (named_arg, bad_shown) = (named.to_str().unwrap(), bad.display().to_string());
    let missing = dir.join("missing");
    let status = |run: &Run, status: u16| {
        assert!(
            run.stdout.contains(&format!("{status} {url} ")),
            "{status}: {}{}",
            run.stdout,
            run.stderr
        );
    };

    // ~/.netrc, NETRC and --netrc-file: each sends alice's password.
    for (args, home, netrc) in [
        (&["--netrc"][..], &home, None),
        (&["-n"][..], &empty_home, Some(named.as_path())),
        (&["--netrc-file", named_arg][..], &empty_home, None),
        (&["--netrc-optional"][..], &home, None),
    ] {
        let args = [args, &[url.as_str()]].concat();
        let run = fetch_with(&args, "", &[("HOME", Some(home)), ("NETRC", netrc)]);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        status(&run, 200);
    }
    // Without a flag, or without a file, nothing is sent.
    for (args, home) in [(&[][..], &home), (&["--netrc"][..], &empty_home)] {
        let args = [args, &[url.as_str()]].concat();
        let run = fetch_with(&args, "", &[("HOME", Some(home)), ("NETRC", None)]);
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        status(&run, 401);
    }
    // A mistake: an error with its file and line; only a warning with --netrc-optional.
    let env = [
        ("HOME", Some(empty_home.as_path())),
        ("NETRC", Some(bad.as_path())),
    ];
    let run = fetch_with(&["--netrc", &url], "", &env);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    let told = format!("netrc file {bad_shown}: line 2: a word where a keyword belongs");
    assert!(run.stderr.contains(&told), "{}", run.stderr);
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
    let run = fetch_with(&["--netrc-optional", &url], "", &env);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("fetch: warning: ") && run.stderr.contains(&told),
        "{}",
        run.stderr
    );
    status(&run, 401);
    // A file given that is not there.
    let run = fetch_with(&["--netrc-file", missing.to_str().unwrap(), &url], "", &env);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("no such file"), "{}", run.stderr);
    assert_eq!(server.hits(), 7);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn curl_options_say_where_to_connect() {
    let server = server();
    let port = server.port();
    // --resolve: a name pinned to the server.
    let pinned = format!("http://fetch.test:{port}/pinned");
    let run = fetch(
        &[
            "--resolve",
            &format!("fetch.test:{port}:127.0.0.1"),
            &pinned,
        ],
        "",
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!("200 {pinned} ")),
        "{}",
        run.stdout
    );
    // --connect-to: any host on port 80, to the server.
    let moved = "http://moved.test/moved";
    let run = fetch(&["--connect-to", &format!("::127.0.0.1:{port}"), moved], "");
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!("200 {moved} ")),
        "{}",
        run.stdout
    );
    let hosts: Vec<String> = server
        .received()
        .iter()
        .map(|r| r.header("host").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        hosts,
        [format!("fetch.test:{port}"), "moved.test".to_owned()]
    );

    // -4 and -6, for a name with both families, served on ::1 alone.
    let (v6, _v4_refused) = Server::ipv6_only(|_| Reply::ok("over IPv6"));
    let both = format!("dual.test:{}:127.0.0.1,::1", v6.port());
    let url = format!("http://dual.test:{}/", v6.port());
    let run = fetch(&["-6", "--resolve", &both, &url], "");
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let run = fetch(&["--ipv4", "--resolve", &both, &url], "");
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("could not connect to dual.test:"),
        "{}",
        run.stdout
    );
    assert_eq!(v6.hits(), 1);

    // A value only the library can refuse: exit 2, with its reason.
    let run = fetch(&["--resolve", "a.test:80:not-an-address", &url], "");
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("is not an IP address"),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn unix_socket_carries_the_requests() {
    let dir = temp_dir("socket");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fetch.sock");
    let server = Server::listening(support::Listen::Unix(path.clone()), |req| {
        Reply::ok(format!("socket {}", req.url))
    });
    let urls = ["http://localhost/one", "http://localhost/two"];
    let run = fetch(
        &["--unix-socket", path.to_str().unwrap(), urls[0], urls[1]],
        "",
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("statuses: 200 x 2"), "{}", run.stdout);
    assert_eq!(server.hits(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn limit_rate_paces_each_body() {
    let size = 512 << 10;
    let server = Server::start(move |_| Reply::ok(support::pattern(size)));
    let url = server.url("/big");
    let timed = |args: &[&str]| {
        let started = Instant::now();
        let run = fetch(args, "");
        assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("512.00 KiB"), "{}", run.stdout);
        started.elapsed()
    };
    fetch_binary(); // built before anything is timed
    let free = timed(&[&url]);
    let capped = timed(&["--limit-rate", "256k", &url]);
    eprintln!("fetch of 512 KiB: {free:?} uncapped, {capped:?} at --limit-rate 256k");
    // 512 KiB at 256 KiB/s, a tenth of a second's worth at once: 1.9 s at least. Both
    // runs start a process, which a busy machine makes slow: a modest ratio.
    assert!(capped >= Duration::from_millis(1800), "{capped:?}");
    assert!(capped >= free * 2, "capped {capped:?}, uncapped {free:?}");
}
