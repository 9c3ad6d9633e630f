//! br and zstd bodies, made by the reference encoders (`encoders`), decoded as gzip is:
//! whole and streamed to a file, in layers, a bomb stopped at the limit on decoded bytes, a
//! corrupt or truncated stream a typed error; offered in `Accept-Encoding` only when built
//! in, and refused as any unknown coding is when not (`--no-default-features`).

use std::fs;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use asynchttp::Destination;

use crate::encoders::*;
use crate::support::*;

/// The codings this build decodes, as `Accept-Encoding` offers them.
pub fn built_in() -> String {
    let mut offered = vec!["gzip", "deflate"];
    if cfg!(feature = "brotli") {
        offered.push("br");
    }
    if cfg!(feature = "zstd") {
        offered.push("zstd");
    }
    offered.join(", ")
}

/// A server answering every request with `body` under `Content-Encoding: coding`.
fn serving(coding: &'static str, body: Vec<u8>) -> Server {
    Server::start(move |_| Reply::ok(body.clone()).header("Content-Encoding", coding))
}

/// A client with every wait bounded.
fn client(limit: u64) -> Http {
    Http::builder()
        .max_body_size(limit)
        .timeout(BOUND)
        .build()
        .unwrap()
}

#[cfg(any(feature = "brotli", feature = "zstd"))]
/// Asserts that a body in `coding` comes out as `text`, with httplib2's headers.
#[track_caller]
fn decodes_whole(coding: &'static str, packed: Vec<u8>, text: &[u8]) {
    let server = serving(coding, packed);
    let (response, content) = client(100 << 20).request(&server.url("/"));
    assert!(body(&content) == text, "{coding}: the body differs");
    let response = wait(&response).unwrap();
    assert_eq!(response.get("-content-encoding"), Some(coding));
    assert!(!response.contains_key("content-encoding"));
    let length = text.len().to_string();
    assert_eq!(response.get("content-length"), Some(length.as_str()));
}

#[cfg(any(feature = "brotli", feature = "zstd"))]
/// Downloads a body in `coding` to a file; what was done.
fn download(
    coding: &'static str,
    packed: Vec<u8>,
    name: &str,
) -> (Result<asynchttp::Downloaded, Error>, TempDir) {
    let server = serving(coding, packed);
    let dir = TempDir::new(name);
    fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("body.txt");
    let done = client(100 << 20)
        .download(&server.url("/"), &path)
        .into_result();
    (done, dir)
}

#[test]
fn accept_encoding_offers_what_is_built_in() {
    let server = Server::start(|_| Reply::ok("x"));
    let http = client(1 << 20);
    wait(&http.request(&server.url("/")).0).unwrap();
    let dir = TempDir::new("coding-offer");
    fs::create_dir_all(&dir.0).unwrap();
    http.download(&server.url("/"), dir.0.join("x"))
        .wait()
        .unwrap();
    let received = server.received();
    assert_eq!(
        received[0].header("accept-encoding"),
        Some(built_in().as_str())
    );
    assert_eq!(
        received[1].header("accept-encoding"),
        Some(built_in().as_str())
    );
}

#[cfg(feature = "brotli")]
#[test]
fn br_bodies_are_decoded() {
    let text = text(1 << 20);
    decodes_whole("br", brotli(&text, 11), &text);
    decodes_whole("br", brotli(&text, 1), &text);
    decodes_whole("br", brotli(b"", 5), b"");
    decodes_whole("br", Vec::new(), b""); // no body at all, as gzip allows
}

#[cfg(feature = "zstd")]
#[test]
fn zstd_bodies_are_decoded() {
    let text = text(1 << 20);
    decodes_whole("zstd", zstd(&text, 19), &text);
    decodes_whole("zstd", zstd(&text, 1), &text);
    // Frames one after another are one body (RFC 8878 §3).
    let mut frames = zstd(&text[..1000], 3);
    frames.extend(zstd(&text[1000..], 3));
    decodes_whole("zstd", frames, &text);
    decodes_whole("zstd", Vec::new(), b"");
}

#[cfg(any(feature = "brotli", feature = "zstd"))]
#[test]
fn layers_are_undone_last_first() {
    let text = text(300_000);
    #[cfg(feature = "brotli")]
    decodes_whole("gzip, br", brotli(&gzip(&text), 5), &text);
    #[cfg(feature = "zstd")]
    decodes_whole("gzip, zstd", zstd(&gzip(&text), 3), &text);
    #[cfg(all(feature = "brotli", feature = "zstd"))]
    {
        decodes_whole("zstd, br", brotli(&zstd(&text, 3), 5), &text);
        decodes_whole("br, zstd", zstd(&brotli(&text, 5), 3), &text);
        // In the wrong order, the outer decoder meets the inner format: an error.
        let server = serving("br, zstd", brotli(&zstd(&text, 3), 5));
        let e = error(&client(1 << 20).request(&server.url("/")).0);
        assert!(matches!(e, Error::Decompress { .. }), "{}", e.chain());
    }
}

#[cfg(any(feature = "brotli", feature = "zstd"))]
/// Downloads `packed` in `coding` and checks the file holds `text`.
fn downloads(coding: &'static str, packed: Vec<u8>, text: &[u8]) {
    let (done, dir) = download(
        coding,
        packed,
        &format!("coding-{}", coding.replace(", ", "-")),
    );
    let done = done.unwrap_or_else(|e| panic!("{coding}: {}", e.chain()));
    assert_eq!(done.bytes, text.len() as u64, "{coding}");
    assert!(
        fs::read(dir.0.join("body.txt")).unwrap() == text,
        "{coding}: file differs"
    );
    assert_eq!(done.response.get("-content-encoding"), Some(coding));
}

#[cfg(feature = "brotli")]
#[test]
fn a_br_download_lands_decoded() {
    // Several MiB: the writer gets it in many chunks, a brotli block across two of them.
    let text = text(5 << 20);
    downloads("br", brotli(&text, 6), &text);
    downloads("gzip, br", brotli(&gzip(&text), 4), &text);
}

#[cfg(feature = "zstd")]
#[test]
fn a_zstd_download_lands_decoded() {
    let text = text(5 << 20);
    downloads("zstd", zstd(&text, 3), &text);
    downloads("gzip, zstd", zstd(&gzip(&text), 3), &text);
}

/// The error a bomb of `coding` gets under a 4 MiB limit, whole and streamed into a writer
/// that counts what reaches it.
fn bombed(coding: &'static str, bomb: Vec<u8>) -> (Error, Error, u64) {
    const LIMIT: u64 = 4 << 20;
    let server = serving(coding, bomb);
    let http = client(LIMIT);
    let whole = error(&http.request(&server.url("/")).0);
    let counted = Arc::new(AtomicU64::new(0));
    let to = Destination::writer(Counting(counted.clone())).limit(LIMIT);
    let streamed = http.send_to(Request::get(server.url("/")), to);
    let streamed = streamed.into_result().unwrap_err();
    (whole, streamed, counted.load(Ordering::Relaxed))
}

/// A writer that keeps nothing and counts what it was given.
struct Counting(Arc<AtomicU64>);

impl Write for Counting {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_bomb_stops_at_the_decoded_limit_as_gzip_does() {
    // 256 MiB of zeros each: under 1 MiB compressed, so the raw body passes the limit and
    // only decoding can find it too large. (tests/process.rs measures the memory.)
    let bombs = [
        ("gzip", gzip_zeros(256 << 20)),
        #[cfg(feature = "brotli")]
        ("br", brotli_zeros(256 << 20)),
        #[cfg(feature = "zstd")]
        ("zstd", zstd_zeros(256 << 20)),
    ];
    for (coding, bomb) in bombs {
        assert!(bomb.len() < 1 << 20, "{coding}: {} bytes", bomb.len());
        let (whole, streamed, written) = bombed(coding, bomb);
        for e in [whole, streamed] {
            assert!(
                matches!(e, Error::BodyTooLarge { limit, .. } if limit == 4 << 20),
                "{coding}: {}",
                e.chain()
            );
        }
        assert!(written <= 4 << 20, "{coding}: {written} bytes written");
    }
}

/// `len` zeros gzipped in chunks, never held whole.
fn gzip_zeros(len: u64) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    io::copy(&mut io::repeat(0).take(len), &mut e).unwrap();
    e.finish().unwrap()
}

#[cfg(any(feature = "brotli", feature = "zstd"))]
/// Asserts that `packed`, labelled `coding`, fails to decode: whole, with the response's
/// coding in the error and the decoder's reason as its source, and streamed, leaving no
/// file.
#[track_caller]
fn undecodable(coding: &'static str, packed: Vec<u8>, what: &str) {
    let server = serving(coding, packed.clone());
    let (response, content) = client(1 << 20).request(&server.url("/"));
    match error(&response) {
        Error::Decompress {
            encoding, source, ..
        } => {
            assert_eq!(encoding, coding, "{what}");
            assert!(source.is_some(), "{what}: no decoder's reason");
        }
        other => panic!("{what}: expected Decompress, got {}", other.chain()),
    }
    assert!(LazyContent::wait(&content).is_err());
    let (done, dir) = download(
        coding,
        packed,
        &format!("coding-{coding}-{}", what.replace(' ', "-")),
    );
    match done {
        Err(Error::Decompress { encoding, .. }) => assert_eq!(encoding, coding, "{what}"),
        other => panic!("{what}: streamed, expected Decompress, got {other:?}"),
    }
    assert!(!dir.0.join("body.txt").exists(), "{what}: a file was left");
}

#[cfg(any(feature = "brotli", feature = "zstd"))]
/// A stream cut short, one with a byte flipped in its middle, and one with bytes after its
/// end.
fn broken(whole: &[u8]) -> [(Vec<u8>, &'static str); 3] {
    let mut flipped = whole.to_vec();
    flipped[whole.len() / 2] ^= 0x55;
    [
        (whole[..whole.len() * 2 / 3].to_vec(), "truncated"),
        (flipped, "corrupt"),
        ([whole, b"trailing"].concat(), "trailing bytes"),
    ]
}

#[cfg(feature = "brotli")]
#[test]
fn a_broken_br_stream_is_a_decompress_error() {
    for (packed, what) in broken(&brotli(&text(200_000), 5)) {
        undecodable("br", packed, what);
    }
    undecodable("br", b"plain text, not brotli".to_vec(), "not brotli");
}

#[cfg(feature = "zstd")]
#[test]
fn a_broken_zstd_stream_is_a_decompress_error() {
    for (packed, what) in broken(&zstd(&text(200_000), 3)) {
        undecodable("zstd", packed, what);
    }
    undecodable("zstd", b"plain text, not zstd".to_vec(), "not zstd");
}

#[cfg(not(all(feature = "brotli", feature = "zstd")))]
/// Without its feature, a coding is refused as unknown codings are: an error naming the
/// feature, unless the caller negotiated it, and then the body as it came.
#[track_caller]
fn refused_unless_negotiated(coding: &'static str, packed: Vec<u8>, feature: &str) {
    assert!(!built_in().contains(coding));
    let server = serving(coding, packed.clone());
    let http = client(1 << 20);
    match error(&http.request(&server.url("/")).0) {
        Error::Decompress {
            encoding, reason, ..
        } => {
            assert_eq!(encoding, coding);
            let reason = reason.unwrap();
            assert!(reason.contains("unsupported content-encoding"), "{reason}");
            assert!(reason.contains(&format!("`{feature}` feature")), "{reason}");
        }
        other => panic!("expected Decompress, got {}", other.chain()),
    }
    let (response, content) =
        http.request_with(&server.url("/"), "GET", "", &[("Accept-Encoding", coding)]);
    assert_eq!(body(&content), packed);
    assert_eq!(
        wait(&response).unwrap().get("content-encoding"),
        Some(coding)
    );
    assert_eq!(
        server.received()[0].header("accept-encoding"),
        Some(built_in().as_str())
    );
}

#[cfg(not(feature = "brotli"))]
#[test]
fn without_the_brotli_feature_br_is_refused() {
    refused_unless_negotiated("br", brotli(b"compressed all the same", 5), "brotli");
}

#[cfg(not(feature = "zstd"))]
#[test]
fn without_the_zstd_feature_zstd_is_refused() {
    refused_unless_negotiated("zstd", zstd(b"compressed all the same", 3), "zstd");
}
