//! Credentials from a `.netrc` (`HttpBuilder::netrc_file`) against loopback servers that
//! record what they get: good files used, the caller's credentials winning, redirects to
//! other hosts getting their own entry or none, and bad or hostile files refused at build
//! with their file and line, never a hang or a panic. `NETRC` and `~/.netrc`
//! (`HttpBuilder::netrc`) are tested through the fetch example, a process of its own
//! (tests/fetch_cli.rs), so that no test here changes this process's environment.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use crate::auth::{basic, digest_server};
use crate::support::*;

/// A `.netrc` of a test's own, mode 0600, with `text`.
struct NetrcFile {
    dir: TempDir,
    path: PathBuf,
}

impl NetrcFile {
    fn new(name: &str, text: impl AsRef<[u8]>) -> NetrcFile {
        let dir = TempDir::new(&format!("netrc-{name}"));
        fs::create_dir_all(&dir.0).unwrap();
        let path = dir.0.join("netrc");
        fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        NetrcFile { dir, path }
    }

    fn client(&self) -> Http {
        Http::builder().netrc_file(&self.path).build().unwrap()
    }
}

/// What `build()` says of the file at `path`, which it must refuse: `Error::Init`'s reason,
/// within the bound (a FIFO or a device must not hold it).
fn refused(path: &Path) -> String {
    let (tx, rx) = mpsc::channel();
    let path = path.to_owned();
    thread::spawn(move || {
        let _ = tx.send(Http::builder().netrc_file(&path).build().map(drop));
    });
    match rx.recv_timeout(BOUND) {
        Ok(Err(Error::Init { reason, .. })) => reason,
        Ok(other) => panic!("expected Error::Init, got {other:?}"),
        Err(_) => panic!("build() did not return within {BOUND:?}"),
    }
}

/// 200 for `name:password` in Basic, else a 401 with a Basic challenge.
fn basic_server(name: &str, password: &str) -> Server {
    let good = basic(name, password);
    Server::start(move |req| match req.header("authorization") {
        Some(a) if a == good => Reply::ok("welcome"),
        _ => Reply::new(401, "who are you").header("WWW-Authenticate", r#"Basic realm="t""#),
    })
}

/// Every `Authorization` a server received, `None` for a request without.
fn authorizations(server: &Server) -> Vec<Option<String>> {
    server
        .received()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect()
}

#[test]
fn a_machine_entry_is_sent_up_front_to_its_host() {
    let server = basic_server("alice", "s3cret");
    let netrc = NetrcFile::new("machine", "machine 127.0.0.1 login alice password s3cret\n");
    let http = netrc.client();
    assert_eq!(body(&http.request(&server.url("/private")).1), b"welcome");
    assert_eq!(
        authorizations(&server),
        [Some(basic("alice", "s3cret"))],
        "sent with the request: no 401 first"
    );
}

#[test]
fn default_quoted_values_macros_and_comments_are_read_as_curl_reads_them() {
    let (name, password) = ("a l\"i\\ce", "s3\tcr\\et\n");
    let server = basic_server(name, password);
    let netrc = NetrcFile::new(
        "grammar",
        "# the test's credentials\n\
         machine other.example login nobody password nothing\n\
         macdef init\n\
         machine 127.0.0.1 login mallory password wrong\n\
         \n\
         \x20 # an indented comment\n\
         DEFAULT login \"a l\\\"i\\\\ce\" # the rest of this line is a comment\n\
         \tpassword \"s3\\tcr\\\\et\\n\"\n",
    );
    let http = netrc.client();
    assert_eq!(wait(&http.request(&server.url("/")).0).unwrap().status, 200);
    assert_eq!(authorizations(&server), [Some(basic(name, password))]);
}

#[test]
fn a_digest_challenge_is_answered_with_the_entry_and_kept() {
    let digest = digest_server("SHA-256", 1000);
    let netrc = NetrcFile::new("digest", "machine 127.0.0.1 login alice password s3cret");
    let http = netrc.client();
    let url = digest.server.url("/dir/a");
    assert_eq!(body(&http.request(&url).1), b"digest ok");
    let sent = authorizations(&digest.server);
    assert_eq!(
        sent.len(),
        2,
        "Basic up front, refused; then Digest: {sent:?}"
    );
    assert_eq!(sent[0], Some(basic("alice", "s3cret")));
    assert!(sent[1].as_deref().is_some_and(|a| a.starts_with("Digest ")));
    assert_eq!(
        body(&http.request(&digest.server.url("/dir/b")).1),
        b"digest ok"
    );
    assert_eq!(digest.server.hits(), 3, "the accepted Digest goes up front");
}

#[test]
fn the_callers_own_credentials_and_header_win_where_they_apply() {
    let server = basic_server("bob", "pw");
    let netrc = NetrcFile::new("caller", "machine 127.0.0.1 login alice password s3cret");
    let alice = Some(basic("alice", "s3cret"));

    // Credentials added for another host leave the file's in place.
    let http = netrc.client();
    http.add_credentials("carol", "pw", "other.example");
    assert_eq!(wait(&http.request(&server.url("/")).0).unwrap().status, 401);
    assert_eq!(authorizations(&server), std::slice::from_ref(&alice));

    // Credentials for this URL: the file's are never sent.
    let server = basic_server("bob", "pw");
    let http = netrc.client();
    http.add_credentials("bob", "pw", "");
    assert_eq!(wait(&http.request(&server.url("/")).0).unwrap().status, 200);
    assert_eq!(
        authorizations(&server),
        [None, Some(basic("bob", "pw"))],
        "bob answers the 401, as without a file"
    );
    assert_eq!(body(&http.request(&server.url("/x")).1), b"welcome");
    assert!(!authorizations(&server).contains(&alice));

    // The request's own Authorization header goes as it is.
    let http = netrc.client();
    let request = Request::get(server.url("/own")).header("Authorization", "Bearer t0ken");
    assert_eq!(wait(&http.send(request).0).unwrap().status, 401);
    let sent = authorizations(&server);
    assert_eq!(sent.last(), Some(&Some("Bearer t0ken".to_owned())));
    assert!(!sent.contains(&alice));
}

/// A server that redirects every request to `to`, recording what it gets.
fn redirecting_to(to: String) -> Server {
    Server::start(move |_| Reply::new(302, "").header("Location", &to))
}

#[test]
fn a_redirect_to_another_host_gets_that_hosts_own_entry_or_none() {
    let alice = "machine 127.0.0.1 login alice password a\n";
    for (file, expected_at_b) in [
        (alice.to_owned(), None),
        (
            format!("{alice}machine localhost login bob password b\n"),
            Some(basic("bob", "b")),
        ),
    ] {
        let b = Server::start(|_| Reply::ok("landed"));
        let a = redirecting_to(b.url("/landing").replace("127.0.0.1", "localhost"));
        let netrc = NetrcFile::new("redirect-host", &file);
        let http = netrc.client();
        assert_eq!(body(&http.request(&a.url("/start")).1), b"landed");
        assert_eq!(authorizations(&a), [Some(basic("alice", "a"))], "{file}");
        assert_eq!(authorizations(&b), [expected_at_b], "{file}");
    }
}

#[test]
fn default_stays_with_the_origin_asked_for_and_a_machine_with_its_host_on_any_port() {
    for (file, at_a, at_b) in [
        (
            "default login anon password d",
            Some(basic("anon", "d")),
            None,
        ),
        (
            "machine 127.0.0.1 login alice password a",
            Some(basic("alice", "a")),
            Some(basic("alice", "a")),
        ),
    ] {
        let b = Server::start(|_| Reply::ok("landed"));
        let a = redirecting_to(b.url("/landing"));
        let netrc = NetrcFile::new("redirect-port", file);
        let http = netrc.client();
        assert_eq!(body(&http.request(&a.url("/start")).1), b"landed");
        assert_eq!(authorizations(&a), [at_a], "{file}");
        assert_eq!(authorizations(&b), [at_b], "{file}");
    }
}

#[test]
fn the_file_is_read_once_when_the_client_is_built() {
    let server = basic_server("alice", "s3cret");
    let netrc = NetrcFile::new("once", "machine 127.0.0.1 login alice password s3cret");
    let http = netrc.client();
    fs::write(&netrc.path, "machine 127.0.0.1 login mallory password x\n").unwrap();
    assert_eq!(
        wait(&http.request(&server.url("/1")).0).unwrap().status,
        200
    );
    fs::remove_file(&netrc.path).unwrap();
    assert_eq!(
        wait(&http.request(&server.url("/2")).0).unwrap().status,
        200
    );
    assert_eq!(server.hits(), 2);
}

#[test]
fn each_mistake_fails_the_build_naming_the_file_and_its_line() {
    for (text, line, what) in [
        (
            &b"default\n  login a\n\nmachine"[..],
            4,
            "machine at the end of the file, without a host name",
        ),
        (
            b"machine h\n\nlogin a\npassword",
            4,
            "password at the end of the file, without a value",
        ),
        (
            b"# comment\nlogin a password b",
            2,
            "login before any machine or default entry",
        ),
        (
            b"machine h login a\n  pasword s3cret\n",
            2,
            "a word where a keyword belongs",
        ),
        (
            b"machine h\nlogin a\npassword \"s3cret\nmachine g",
            3,
            "a quote not closed on its line",
        ),
        (
            b"macdef m\nanything\n\nmachine h\nlogin \0a",
            5,
            "a NUL byte",
        ),
        (
            b"machine h\nlogin \xc3\x28",
            2,
            "bytes that are not UTF-8 text",
        ),
    ] {
        let netrc = NetrcFile::new("mistake", text);
        let reason = refused(&netrc.path);
        let expected = format!("netrc file {}: line {line}: {what}", netrc.path.display());
        assert!(reason.starts_with(&expected), "{reason}\nnot {expected}");
        assert!(!reason.contains("s3cret"), "{reason}");
    }
}

#[test]
fn hostile_files_are_refused_at_once() {
    // Huge: refused after reading 128 KiB of it.
    let huge = NetrcFile::new("huge", "machine h login a password b\n".repeat(50_000));
    let reason = refused(&huge.path);
    assert!(
        reason.ends_with("larger than 131072 bytes, curl's limit"),
        "{reason}"
    );

    // A token longer than curl's, quoted or not.
    let long = NetrcFile::new(
        "long",
        format!("machine h\nlogin a\npassword {}", "x".repeat(100_000)),
    );
    assert!(refused(&long.path).ends_with("line 3: a token longer than 4096 bytes"));
    let long = NetrcFile::new(
        "long-quoted",
        format!("machine h password \"{}", "x".repeat(5000)),
    );
    assert!(refused(&long.path).ends_with("line 1: a token longer than 4096 bytes"));

    // Binary garbage: a mistake on some line, never a panic.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let garbage: Vec<u8> = (0..60_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let binary = NetrcFile::new("garbage", &garbage);
    let reason = refused(&binary.path);
    assert!(
        reason.contains(": line ") && reason.contains("a NUL byte"),
        "{reason}"
    );

    // A quote never closed, at the end of the file.
    let open = NetrcFile::new("open-quote", "machine h\nlogin \"alice");
    assert!(refused(&open.path).ends_with("line 2: a quote not closed on its line"));

    // Not a file: a directory; and a missing file, given by name.
    let dir = NetrcFile::new("dir", "");
    let reason = refused(&dir.dir.0);
    assert!(
        reason.ends_with("a directory, not a regular file"),
        "{reason}"
    );
    let reason = refused(&dir.dir.0.join("missing"));
    assert!(reason.ends_with("no such file"), "{reason}");
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_links_are_read_safely() {
    use std::os::unix::fs::symlink;

    let server = basic_server("alice", "s3cret");
    let good = NetrcFile::new("links", "machine 127.0.0.1 login alice password s3cret");
    let dir = &good.dir.0;

    // A FIFO with no writer: refused at once, not waited on; behind a link too.
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success(), "mkfifo");
    let reason = refused(&fifo);
    assert!(reason.ends_with("a FIFO, not a regular file"), "{reason}");
    let to_fifo = dir.join("to-fifo");
    symlink(&fifo, &to_fifo).unwrap();
    assert!(refused(&to_fifo).ends_with("a FIFO, not a regular file"));

    // A device that never ends.
    let reason = refused(Path::new("/dev/zero"));
    assert!(reason.ends_with("a device, not a regular file"), "{reason}");

    // A link to a file is followed, as curl follows it.
    let link = dir.join("link");
    symlink(&good.path, &link).unwrap();
    let http = Http::builder().netrc_file(&link).build().unwrap();
    assert_eq!(wait(&http.request(&server.url("/")).0).unwrap().status, 200);

    // A loop of links, and a link to nowhere.
    let (loop_a, loop_b) = (dir.join("loop-a"), dir.join("loop-b"));
    symlink(&loop_b, &loop_a).unwrap();
    symlink(&loop_a, &loop_b).unwrap();
    let reason = refused(&loop_a);
    assert!(reason.contains("cannot be opened"), "{reason}");
    let dangling = dir.join("dangling");
    symlink(dir.join("nothing"), &dangling).unwrap();
    assert!(refused(&dangling).ends_with("no such file"));
}
