//! Forms on the wire: a multipart form of files and fields read back, every byte, by two
//! parsers written apart from the crate (multer in the server, Python's `email` package);
//! form and query pairs; and an upload the server cuts off, which is not sent again
//! unless the caller allowed it.

use std::io::Read;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asynchttp::{Form, Part, Retry};
use base64::Engine;
use hyper::body::Bytes;

use crate::support::*;

/// A part as a parser read it.
#[derive(Debug, Clone, PartialEq)]
struct Parsed {
    name: Option<String>,
    file_name: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

/// Field names and file names no form should break on: quotes, CR and LF, `;` and `=`,
/// backslashes and characters outside ASCII.
const QUOTED_NAME: &str = "a \"quoted\" name; with=equals";
const LINES_NAME: &str = "line\r\nbreaks\rand\nlone ends, café 日本 🦀, back\\slash";
const LARGE_FILE_NAME: &str = "C:\\uploads\\large \"copy\"; size=2 MiB.dat";

/// The fixture: three files (every byte value, empty, large enough to be read in many
/// reads) and two fields; what was sent, part by part, as each should read back when
/// names are read as browsers write them.
fn fixture(dir: &TempDir) -> (Form, Vec<Parsed>) {
    std::fs::create_dir_all(&dir.0).unwrap();
    let every_byte: Vec<u8> = (0..=255u8).collect();
    let large = pattern(2 * 1024 * 1024 + 123);
    let files = [
        ("every byte.bin", every_byte),
        ("empty.txt", Vec::new()),
        ("large.dat", large),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.0.join(name), bytes).unwrap();
    }
    let value = "multi\r\nline\nvalue -- with dashes\r\n--and a boundary-like line\r\n";
    let form = Form::new()
        .text(QUOTED_NAME, "plain value")
        .text(LINES_NAME, value)
        .file("bytes", dir.0.join("every byte.bin"))
        .file("empty", dir.0.join("empty.txt"))
        .part(
            "large;name=\"x\"",
            Part::file(dir.0.join("large.dat")).file_name(LARGE_FILE_NAME),
        );
    let parsed = |name: &str, file_name: Option<&str>, mime: Option<&str>, data: &[u8]| Parsed {
        name: Some(escaped(name)),
        file_name: file_name.map(escaped),
        content_type: mime.map(str::to_owned),
        data: data.to_vec(),
    };
    let expected = vec![
        parsed(QUOTED_NAME, None, None, b"plain value"),
        parsed(LINES_NAME, None, None, value.as_bytes()),
        parsed(
            "bytes",
            Some("every byte.bin"),
            Some("application/octet-stream"),
            &files[0].1,
        ),
        parsed("empty", Some("empty.txt"), Some("text/plain"), b""),
        parsed(
            "large;name=\"x\"",
            Some(LARGE_FILE_NAME),
            Some("application/octet-stream"),
            &files[2].1,
        ),
    ];
    (form, expected)
}

/// A name or file name as the HTML standard has a browser write it.
fn escaped(text: &str) -> String {
    text.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Reads a body with multer, fed in chunks of `chunk` bytes so that delimiters fall
/// across them.
fn multer_parse(content_type: &str, body: &[u8], chunk: usize) -> Result<Vec<Parsed>, String> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| e.to_string())?;
    let chunks: Vec<Result<Bytes, std::convert::Infallible>> = body
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut multipart = multer::Multipart::new(futures_util::stream::iter(chunks), boundary);
    futures_lite::future::block_on(async {
        let mut parts = Vec::new();
        while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
            let (name, file_name) = (
                field.name().map(str::to_owned),
                field.file_name().map(str::to_owned),
            );
            let content_type = field.content_type().map(|m| m.to_string());
            let data = field.bytes().await.map_err(|e| e.to_string())?.to_vec();
            parts.push(Parsed {
                name,
                file_name,
                content_type,
                data,
            });
        }
        Ok(parts)
    })
}

/// What multer read of each body: its parts, or why it could not.
type Readings = Arc<Mutex<Vec<Result<Vec<Parsed>, String>>>>;

/// A server that reads every multipart body with multer as it arrives, and keeps what it
/// read.
fn multer_server() -> (Server, Readings) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    let server = Server::start(move |req| {
        let content_type = req.header("content-type").unwrap_or_default();
        let parsed = multer_parse(content_type, &req.body, 977);
        let reply = match &parsed {
            Ok(_) => Reply::ok("read"),
            Err(e) => Reply::new(400, e.as_str()),
        };
        keep.lock().unwrap().push(parsed);
        reply
    });
    (server, seen)
}

/// Posts the fixture to `server`; what it received.
fn post_fixture(server: &Server, form: Form) -> Received {
    let http = Http::new();
    let (response, content) =
        http.send(Request::new("POST", server.url("/upload")).multipart(form));
    assert_eq!(wait(&response).unwrap().status, 200, "{content}");
    server.received().pop().unwrap()
}

#[test]
fn a_form_of_files_and_fields_reads_back_every_byte_in_multer() {
    let dir = TempDir::new("form-multer");
    let (form, expected) = fixture(&dir);
    let content_type = form.content_type();
    let (server, seen) = multer_server();
    let received = post_fixture(&server, form);
    assert_eq!(received.header("content-type"), Some(content_type.as_str()));
    let parsed = seen.lock().unwrap().pop().unwrap().unwrap();
    assert_eq!(parsed.len(), expected.len());
    for (got, want) in parsed.iter().zip(&expected) {
        assert_eq!(got, want);
    }
    // The same bytes in one chunk, and in chunks smaller than the boundary.
    assert_eq!(
        multer_parse(&content_type, &received.body, usize::MAX).unwrap(),
        parsed
    );
    assert_eq!(
        multer_parse(&content_type, &received.body, 7).unwrap(),
        parsed
    );
}

#[test]
fn a_form_of_files_and_fields_reads_back_every_byte_in_pythons_email_package() {
    let dir = TempDir::new("form-email");
    let (form, expected) = fixture(&dir);
    let content_type = form.content_type();
    let server = Server::start(|_| Reply::ok("ok"));
    let received = post_fixture(&server, form);
    let body_file = dir.0.join("body");
    std::fs::write(&body_file, &received.body).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scripts/email_multipart.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg(&body_file)
        .arg(&content_type)
        .output()
        .expect("python3 runs (.ci/run installs it; apt-get install python3)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let parsed: Vec<Parsed> = parts
        .iter()
        .map(|p| Parsed {
            name: text(&p["name"]),
            file_name: text(&p["filename"]),
            content_type: text(&p["content_type"]),
            data: base64::engine::general_purpose::STANDARD
                .decode(p["data"].as_str().unwrap())
                .unwrap(),
        })
        .collect();
    // Python reads a quoted string by MIME's rules, not the browsers': a backslash escapes
    // the character after it, and is dropped (the `Form` docs say so).
    let mime_read = |text: &Option<String>| text.as_deref().map(unquoted);
    let expected: Vec<Parsed> = expected
        .into_iter()
        .map(|p| Parsed {
            name: mime_read(&p.name),
            file_name: mime_read(&p.file_name),
            ..p
        })
        .collect();
    assert_eq!(parsed.len(), expected.len());
    for (got, want) in parsed.iter().zip(&expected) {
        assert_eq!(got, want);
    }
    assert!(parsed[1].name.as_deref().unwrap().contains("backslash"));
}

/// A quoted string's text as MIME reads it: each backslash escapes the next character.
fn unquoted(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn a_form_goes_with_the_length_its_body_announces() {
    let dir = TempDir::new("form-length");
    let (form, _) = fixture(&dir);
    // Another form of the same parts has a boundary of the same length: the same length.
    let announced = fixture(&dir)
        .0
        .into_body()
        .len()
        .expect("every part's length is known");
    let server = Server::start(|_| Reply::ok("ok"));
    let received = post_fixture(&server, form);
    assert_eq!(received.body.len() as u64, announced);
    assert_eq!(
        received.header("content-length"),
        Some(announced.to_string().as_str())
    );
    assert_eq!(received.header("transfer-encoding"), None);
}

#[test]
fn pairs_go_as_a_urlencoded_body_and_after_the_query() {
    let server = Server::start(|_| Reply::ok("ok"));
    let http = Http::new();
    let req = Request::new("POST", server.url("/login?next=%2Fhome"))
        .query([("lang", "fr"), ("q", "café crème")])
        .form([("user", "alice"), ("note", "1+1=2 & more"), ("user", "bob")]);
    let (response, _) = http.send(req);
    assert_eq!(wait(&response).unwrap().status, 200);
    let received = server.received().pop().unwrap();
    assert_eq!(
        received.url,
        "/login?next=%2Fhome&lang=fr&q=caf%C3%A9+cr%C3%A8me"
    );
    assert_eq!(
        received.body,
        b"user=alice&note=1%2B1%3D2+%26+more&user=bob"
    );
    assert_eq!(
        received.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

/// A server that reads the head and `take` bytes of the body of each request, then
/// closes the connection with the rest unread.
fn cutting_server(take: usize, bodies_read: Arc<AtomicUsize>) -> RawServer {
    RawServer::start(move |stream| {
        let mut body = vec![0u8; take];
        if stream.read_exact(&mut body).is_ok() {
            bodies_read.fetch_add(1, Ordering::SeqCst);
        }
    })
}

/// A form larger than the socket buffers of loopback, so that the server's close
/// interrupts it.
fn large_form() -> Form {
    Form::new().text("order", "4711").part(
        "scan",
        Part::bytes(pattern(16 * 1024 * 1024)).file_name("scan.tiff"),
    )
}

#[test]
fn an_upload_cut_off_by_the_server_fails_and_a_post_is_not_sent_again() {
    let read = Arc::new(AtomicUsize::new(0));
    let server = cutting_server(64 * 1024, read.clone());
    let http = Http::new();
    let req = Request::new("POST", server.url("/upload"))
        .multipart(large_form())
        .retry(Retry::new(3).backoff(Duration::from_millis(5), Duration::from_millis(20)));
    let (response, _) = http.send(req);
    let e = error(&response);
    assert!(matches!(e, Error::BodyIncomplete { .. }), "{}", e.chain());
    assert_eq!(server.connections(), 1, "a POST is not sent again");
    assert_eq!(read.load(Ordering::SeqCst), 1);
}

#[test]
fn an_upload_cut_off_is_sent_again_whole_when_the_caller_allows_it() {
    let read = Arc::new(AtomicUsize::new(0));
    let server = cutting_server(64 * 1024, read.clone());
    let http = Http::new();
    let form = large_form();
    let content_type = form.content_type();
    let req = Request::new("POST", server.url("/upload"))
        .multipart(form)
        .retry(
            Retry::new(2)
                .any_method(true)
                .backoff(Duration::from_millis(5), Duration::from_millis(20)),
        );
    let (response, _) = http.send(req);
    let e = error(&response);
    assert!(matches!(e, Error::BodyIncomplete { .. }), "{}", e.chain());
    assert_eq!(server.connections(), 3, "the first attempt and two retries");
    assert_eq!(read.load(Ordering::SeqCst), 3);
    // Each attempt announced the whole form again, with the same boundary.
    let heads = server.heads();
    assert!(heads.iter().all(|h| h == &heads[0]), "{heads:#?}");
    assert!(heads[0].contains(&content_type), "{}", heads[0]);
}
