//! Reading a whole body with a size limit counted after decompression.
//!
//! gzip and deflate are decoded here rather than by the transport, so that the limit holds
//! for decoded bytes (a 1 MiB gzip bomb stops at the limit, not at 1 GiB), a corrupt stream
//! is a typed error, and httplib2's leniency is kept: the format is sniffed, so `deflate`
//! accepts zlib-wrapped and raw streams and `gzip` accepts zlib too.

use std::error::Error as StdError;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

/// Layers of `Content-Encoding` decoded at most; more is refused (curl allows 5).
const MAX_LAYERS: usize = 4;
const CHUNK: usize = 64 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The connection failed; `received` bytes had arrived on the wire.
    Transport { received: u64, error: io::Error },
    /// More than the limit, after decoding.
    TooLarge,
    /// The decoder refused the stream.
    Decode(io::Error),
}

/// How many compression layers a `Content-Encoding` has; 0 leaves the body as it is (no
/// coding, only `identity`, or a coding we cannot decode that the caller negotiated
/// itself). gzip, x-gzip, deflate and zlib are all decoded by sniffing the stream's header.
/// `Err` carries the reason the coding cannot be decoded.
pub(crate) fn layers(header: Option<&str>, caller_negotiated: bool) -> Result<usize, String> {
    let mut layers = 0;
    for token in header.unwrap_or_default().split(',').map(str::trim) {
        match token.to_ascii_lowercase().as_str() {
            "" | "identity" => {}
            "gzip" | "x-gzip" | "deflate" | "zlib" => layers += 1,
            _ if caller_negotiated => return Ok(0),
            other => return Err(format!("unsupported content-encoding {other:?}")),
        }
    }
    if layers > MAX_LAYERS {
        return Err(format!("{layers} layers of content-encoding"));
    }
    Ok(layers)
}

/// Reads `body` to its end, undoing `layers` of compression, failing once more than
/// `limit` decoded bytes arrive. `size_hint` is the announced length.
pub(crate) fn read_all(
    body: impl Read,
    layers: usize,
    limit: u64,
    size_hint: Option<u64>,
) -> Result<Vec<u8>, ReadError> {
    let source = Counted {
        inner: body,
        received: 0,
    };
    let mut reader: Box<dyn Read + '_> = Box::new(source);
    for _ in 0..layers {
        reader = sniffed_decoder(BufReader::with_capacity(CHUNK, reader));
    }
    let reserve = match (layers, size_hint) {
        (0, Some(n)) => n.min(limit),
        _ => 0,
    };
    let mut out = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
    // One byte past the limit tells "exactly the limit" from "too large".
    let read = reader.take(limit.saturating_add(1)).read_to_end(&mut out);
    match read {
        Ok(_) if out.len() as u64 > limit => Err(ReadError::TooLarge),
        Ok(_) => Ok(out),
        Err(e) => Err(classify(e)),
    }
}

fn sniffed_decoder<'a>(mut input: BufReader<Box<dyn Read + 'a>>) -> Box<dyn Read + 'a> {
    // A read error here comes again on the next read, through the decoder.
    let head = match input.fill_buf() {
        Ok([a, b, ..]) => Some([*a, *b]),
        Ok([]) => return Box::new(input), // an empty body decodes to nothing
        _ => None,
    };
    match head {
        Some([0x1f, 0x8b]) => Box::new(MultiGzDecoder::new(input)),
        Some([a, b]) if a & 0x0f == 8 && (u16::from(a) << 8 | u16::from(b)) % 31 == 0 => {
            Box::new(ZlibDecoder::new(input))
        }
        _ => Box::new(DeflateDecoder::new(input)),
    }
}

/// Counts raw bytes and marks its errors, so they are told apart from decoder errors.
struct Counted<R> {
    inner: R,
    received: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.received += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(io::Error::new(
                e.kind(),
                TransportFailure {
                    received: self.received,
                    error: e,
                },
            )),
        }
    }
}

#[derive(Debug)]
struct TransportFailure {
    received: u64,
    error: io::Error,
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl StdError for TransportFailure {}

fn classify(e: io::Error) -> ReadError {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<TransportFailure>())
    {
        let failure = e
            .into_inner()
            .and_then(|inner| inner.downcast::<TransportFailure>().ok())
            .expect("checked above");
        return ReadError::Transport {
            received: failure.received,
            error: failure.error,
        };
    }
    ReadError::Decode(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn all(body: &[u8], header: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        read_all(body, layers(Some(header), false).unwrap(), limit, None)
    }

    #[test]
    fn every_deflate_flavour_decodes() {
        let text = b"hello hello hello hello";
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(text).unwrap();
        let mut d = DeflateEncoder::new(Vec::new(), Compression::default());
        d.write_all(text).unwrap();
        for (body, header) in [
            (gzip(text), "gzip"),
            (gzip(text), "x-gzip"),
            (z.finish().unwrap(), "deflate"),
            (d.finish().unwrap(), "deflate"),
            (gzip(&gzip(text)), "gzip, gzip"),
            (gzip(text), "identity, gzip"),
        ] {
            assert_eq!(all(&body, header, 100).unwrap(), text, "{header}");
        }
    }

    #[test]
    fn limit_counts_decoded_bytes() {
        let bomb = gzip(&vec![0u8; 10 << 20]);
        assert!(bomb.len() < 20_000);
        assert!(matches!(
            all(&bomb, "gzip", 1 << 20),
            Err(ReadError::TooLarge)
        ));
        assert_eq!(all(&bomb, "gzip", 10 << 20).unwrap().len(), 10 << 20);
        assert!(matches!(
            read_all(&b"12345"[..], 0, 4, Some(5)),
            Err(ReadError::TooLarge)
        ));
        assert_eq!(read_all(&b"1234"[..], 0, 4, Some(4)).unwrap(), b"1234");
    }

    #[test]
    fn corrupt_streams_are_decode_errors() {
        let mut bad = gzip(b"some text to compress, long enough");
        let n = bad.len();
        bad[n - 5] ^= 0xff; // CRC
        assert!(matches!(all(&bad, "gzip", 100), Err(ReadError::Decode(_))));
        let short = &gzip(b"some text to compress")[..15];
        assert!(matches!(all(short, "gzip", 100), Err(ReadError::Decode(_))));
        assert!(matches!(
            all(b"not compressed at all", "gzip", 100),
            Err(ReadError::Decode(_))
        ));
    }

    #[test]
    fn transport_errors_are_told_apart() {
        struct Broken(u8);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("reset"));
                }
                self.0 -= 1;
                buf[..3].copy_from_slice(b"abc");
                Ok(3)
            }
        }
        match read_all(Broken(2), 0, 100, None) {
            Err(ReadError::Transport { received: 6, .. }) => {}
            other => panic!("{other:?}"),
        }
        let gz = gzip(b"abc");
        let truncated = gz[..10].chain(Broken(0));
        match read_all(truncated, 1, 100, None) {
            Err(ReadError::Transport { received: 10, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_codings() {
        assert!(layers(Some("zz"), false).is_err());
        assert_eq!(layers(Some("br"), true), Ok(0));
        assert_eq!(layers(Some("identity"), false), Ok(0));
        assert_eq!(layers(None, false), Ok(0));
        assert_eq!(layers(Some("gzip, x-gzip"), false), Ok(2));
        assert!(layers(Some("gzip,gzip,gzip,gzip,gzip,gzip"), false).is_err());
    }
}
