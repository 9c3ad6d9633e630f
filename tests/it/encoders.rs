//! The reference encoders behind the tests' br and zstd bodies: Google's brotli encoder
//! (Debian's `brotli` command) and libzstd (which the zstd crate binds), so that what the
//! client decodes is what servers send.

#![allow(dead_code)] // each user (tests/it, tests/process.rs) needs a different part

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;

/// `data` as `brotli -q QUALITY` compresses it.
pub fn brotli(data: &[u8], quality: u32) -> Vec<u8> {
    let data = data.to_vec();
    brotli_of(quality, move |input| input.write_all(&data))
}

/// `len` zeros as `brotli -q 5` compresses them (a bomb: 1 GiB is under 1 KiB), never
/// held whole.
pub fn brotli_zeros(len: u64) -> Vec<u8> {
    brotli_of(5, move |input| {
        std::io::copy(&mut std::io::repeat(0).take(len), input).map(drop)
    })
}

/// The `brotli` command at `quality`, fed by `feed` on a thread of its own while its
/// output is read.
fn brotli_of(
    quality: u32,
    feed: impl FnOnce(&mut std::process::ChildStdin) -> std::io::Result<()> + Send + 'static,
) -> Vec<u8> {
    let mut child = Command::new("brotli")
        .args(["-c", "-q", &quality.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the tests' br bodies come from the `brotli` command: apt-get install brotli");
    let mut input = child.stdin.take().unwrap();
    let feeding = thread::spawn(move || feed(&mut input));
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    feeding.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "brotli failed");
    out
}

/// `data` as the `zstd` command compresses it at `level`: one frame, with a checksum.
pub fn zstd(data: &[u8], level: i32) -> Vec<u8> {
    let mut e = zstd_encoder(level);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `len` zeros as `zstd -3` compresses them (a bomb: 1 GiB is about 32 KiB), never held
/// whole.
pub fn zstd_zeros(len: u64) -> Vec<u8> {
    let mut e = zstd_encoder(3);
    std::io::copy(&mut std::io::repeat(0).take(len), &mut e).unwrap();
    e.finish().unwrap()
}

fn zstd_encoder(level: i32) -> zstd::stream::Encoder<'static, Vec<u8>> {
    let mut e = zstd::stream::Encoder::new(Vec::new(), level).unwrap();
    e.include_checksum(true).unwrap();
    e
}

/// `len` bytes of text: words of a small vocabulary in a pseudo-random order, in lines,
/// as compressible as prose (gzip takes it to about a third).
pub fn text(len: usize) -> Vec<u8> {
    const WORDS: [&str; 32] = [
        "the",
        "client",
        "decodes",
        "a",
        "body",
        "as",
        "it",
        "arrives",
        "and",
        "counts",
        "every",
        "byte",
        "against",
        "its",
        "limit",
        "while",
        "server",
        "sends",
        "compressed",
        "frames",
        "over",
        "loopback",
        "with",
        "headers",
        "that",
        "say",
        "which",
        "coding",
        "came",
        "first",
        "request",
        "response",
    ];
    let mut out = Vec::with_capacity(len + 16);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut column = 0;
    while out.len() < len {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let word = WORDS[(state >> 59) as usize];
        out.extend_from_slice(word.as_bytes());
        column += word.len() + 1;
        if column > 72 {
            out.push(b'\n');
            column = 0;
        } else {
            out.push(b' ');
        }
    }
    out.truncate(len);
    out
}
