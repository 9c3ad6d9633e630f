//! Compressed bodies: the content codings decoded (gzip, deflate, br, zstd), what the client
//! offers, the limit counted on decoded bytes, and the Cargo features that choose the codecs,
//! beside requests' and httplib2's transparent gzip.
//!
//! A request without an `Accept-Encoding` of yours offers every coding built in:
//! `gzip, deflate, br, zstd` with the default features. The answer's body is decoded on the
//! worker, a layer at a time (`Content-Encoding: gzip, br` is undone br first), and handed
//! out decoded, as httplib2 hands it out: the server's header kept under
//! `-content-encoding`, and `content-length` the decoded length. A body streamed to a file
//! ([downloads](super::downloads)) is decoded as it arrives, in the same way.
//!
//! | coding | decoder | built in |
//! |---|---|---|
//! | `gzip`, `x-gzip` | flate2 | always |
//! | `deflate` (zlib-wrapped or raw, as servers differ) | flate2 | always |
//! | `br` | brotli-decompressor (safe Rust) | with the `brotli` feature, on by default |
//! | `zstd` | libzstd, through the zstd crate | with the `zstd` feature, on by default |
//!
//! ```
//! # #[cfg(feature = "zstd")] {
//! use asynchttp::{Http, MockResponse, MockTransport};
//!
//! let packed = zstd::encode_all(&b"unpacked by the client"[..], 3)?;
//! let mock = MockTransport::new(move |_| {
//!     MockResponse::ok(packed.clone()).header("Content-Encoding", "zstd")
//! });
//! let http = Http::builder().mock(mock.clone()).build()?;
//! let (response, content) = http.request("http://api.test/");
//! assert_eq!(content.to_string(), "unpacked by the client");
//! assert_eq!(response.get("-content-encoding"), Some("zstd"));
//! assert_eq!(mock.requests()[0].header("accept-encoding"), Some("gzip, deflate, br, zstd"));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Against nginx
//!
//! nginx compresses on the fly with its gzip filter and, with Debian's
//! `libnginx-mod-http-brotli-filter`, in br; where both are on, it answers a client that
//! offers both in br. Against nginx 1.22 (`brotli_comp_level 6`), a 4.2 MiB text file comes
//! in 0.91 MiB of br or 1.14 MiB of gzip, and a 2.5 KiB JSON file in 194 or 300 bytes;
//! each is decoded byte for byte, read whole and streamed to a file, with `br` or `gzip` in
//! `-content-encoding`. A client built without the `brotli` feature offers `gzip, deflate`
//! and is answered in gzip where both are on, unencoded where only br is. With a
//! `max_body_size` of 2 MiB, the 4.2 MiB file fails with `BodyTooLarge`, though fewer bytes
//! than that came (`conformance/nginx/run.sh`).
//!
//! # The limit holds for decoded bytes
//!
//! [`max_body_size`](crate::HttpBuilder::max_body_size) (and a download's
//! [`Destination::limit`](crate::Destination::limit)) counts the body as decoded, whatever
//! its coding: a bomb, a few KiB that decode to GiBs, fails with
//! [`Error::BodyTooLarge`](crate::Error::BodyTooLarge) once the limit is passed, having
//! decoded no more than that. A zstd frame that asks for a window past 8 MiB, which RFC 9659
//! has HTTP's encoders stay within, is refused rather than given the memory; so is brotli's
//! large-window format, which is not HTTP's `br`.
//!
//! # Broken streams
//!
//! A stream that is corrupt, cut short, or followed by bytes after its end fails with
//! [`Error::Decompress`](crate::Error::Decompress), httplib2's `FailedToDecompressContent`:
//! its `encoding` is the response's `Content-Encoding`, its source the decoder's reason,
//! and its `response` the head as it came ([`force_exception_to_status_code`] makes that a
//! 500). gzip carries a checksum, and so does a zstd frame whose encoder adds one (the `zstd`
//! command does), so a flipped bit is found; brotli has none, and a flipped bit that keeps
//! the format valid decodes to other bytes, in any brotli decoder. An empty body is empty
//! whatever its coding: servers label empty answers too.
//!
//! # Choosing the codecs
//!
//! gzip and deflate are always built in. br and zstd are features, both on by default; to
//! build without libzstd's C, say, leave its feature out:
//!
//! ```toml
//! asynchttp = { version = "0.1", default-features = false, features = ["brotli"] }
//! ```
//!
//! Without its feature, a coding is neither offered nor decoded: a body in it is what a
//! body in any unknown coding is, an [`Error::Decompress`](crate::Error::Decompress) whose
//! `reason` names the feature.
//!
//! # Negotiating codings yourself
//!
//! A request that sets its own `Accept-Encoding` is sent with it as it is. The answer's
//! codings that the client decodes are decoded all the same; one it does not know (or was
//! built without) is then passed through untouched, for your code to decode, with its
//! `Content-Encoding` still in the response:
//!
//! ```
//! use asynchttp::{Http, MockResponse, MockTransport};
//!
//! let mock = MockTransport::new(|_| MockResponse::ok("LZW bytes").header("Content-Encoding", "compress"));
//! let http = Http::builder().mock(mock).build()?;
//! let (response, content) =
//!     http.request_with("http://api.test/", "GET", "", &[("Accept-Encoding", "compress")]);
//! assert_eq!(content.to_string(), "LZW bytes");
//! assert_eq!(response.get("content-encoding"), Some("compress"));
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! [`force_exception_to_status_code`]: crate::HttpBuilder::force_exception_to_status_code
