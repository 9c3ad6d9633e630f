//! The reference encoders behind the tests' br and zstd bodies: Google's brotli library
//! (which brotlic builds from its C source) and libzstd (which the zstd crate binds), so
//! that what the client decodes is what servers send.

#![allow(dead_code)] // each user (tests/it, tests/process.rs) needs a different part

use std::io::{Read, Write};

use brotlic::{BrotliEncoderOptions, CompressorWriter, Quality};

/// `data` as Google's encoder compresses it at `quality` (`brotli -q QUALITY`).
pub fn brotli(data: &[u8], quality: u8) -> Vec<u8> {
    let mut e = brotli_encoder(quality);
    e.write_all(data).unwrap();
    e.into_inner().unwrap()
}

/// `len` zeros as Google's encoder compresses them at quality 5 (a bomb: 1 GiB is under
/// 1 KiB), never held whole.
pub fn brotli_zeros(len: u64) -> Vec<u8> {
    let mut e = brotli_encoder(5);
    std::io::copy(&mut std::io::repeat(0).take(len), &mut e).unwrap();
    e.into_inner().unwrap()
}

fn brotli_encoder(quality: u8) -> CompressorWriter<Vec<u8>> {
    let encoder = BrotliEncoderOptions::new()
        .quality(Quality::new(quality).unwrap())
        .build()
        .unwrap();
    CompressorWriter::with_encoder(encoder, Vec::new())
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
