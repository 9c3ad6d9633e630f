//! Decoding a whole body, with a size limit counted after decompression.
//!
//! gzip and deflate are decoded here rather than by the transport, so that the limit holds
//! for decoded bytes (a 1 MiB gzip bomb stops at the limit, not at 1 GiB), a corrupt stream
//! is a typed error, and httplib2's leniency is kept: the format is sniffed, so `deflate`
//! accepts zlib-wrapped and raw streams and `gzip` accepts zlib too.

use std::io::{self, BufRead, BufReader, Read, Write};

use flate2::bufread::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};
use flate2::write;

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

/// Undoes `layers` of compression of a whole raw body, failing once more than `limit`
/// decoded bytes come out.
pub(crate) fn decode(raw: &[u8], layers: usize, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut reader: Box<dyn Read + '_> = Box::new(raw);
    for _ in 0..layers {
        reader = sniffed_decoder(BufReader::with_capacity(CHUNK, reader));
    }
    let mut out = Vec::new();
    // One byte past the limit tells "exactly the limit" from "too large".
    match reader.take(limit.saturating_add(1)).read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => Err(ReadError::TooLarge),
        Ok(_) => Ok(out),
        Err(e) => Err(ReadError::Decode(e)),
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

/// A writer that must be told when the stream ends: a decoder has output left to write
/// then, and a truncated stream is found only then.
pub(crate) trait Finish: Write + Send {
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// Any writer, finished by a flush.
pub(crate) struct Flushed<W>(pub(crate) W);

impl<W: Write + Send> Write for Flushed<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Send> Finish for Flushed<W> {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.0.flush()
    }
}

/// A writer that undoes `layers` of compression on the way to `sink`, each sniffed as
/// [`decode`] sniffs it.
pub(crate) fn writer<'a>(layers: usize, sink: Box<dyn Finish + 'a>) -> Box<dyn Finish + 'a> {
    let mut writer = sink;
    for _ in 0..layers {
        writer = Box::new(Sniffing::Head(Vec::new(), Some(writer)));
    }
    writer
}

/// A decoding writer that picks its format from the stream's first two bytes.
enum Sniffing<'a> {
    Head(Vec<u8>, Option<Box<dyn Finish + 'a>>),
    Gzip(write::MultiGzDecoder<Box<dyn Finish + 'a>>),
    Zlib(write::ZlibDecoder<Box<dyn Finish + 'a>>),
    Deflate(write::DeflateDecoder<Box<dyn Finish + 'a>>),
}

impl<'a> Sniffing<'a> {
    /// Chooses the decoder once two bytes have come (or one, as the stream ends: an empty
    /// stream never gets here), and gives it what came.
    fn choose(&mut self) -> io::Result<()> {
        let Sniffing::Head(head, next) = self else {
            return Ok(());
        };
        let head = std::mem::take(head);
        let next = next
            .take()
            .expect("the next writer, until a decoder is chosen");
        *self = match head.as_slice() {
            [0x1f, 0x8b, ..] => Sniffing::Gzip(write::MultiGzDecoder::new(next)),
            [a, b, ..] if a & 0x0f == 8 && (u16::from(*a) << 8 | u16::from(*b)) % 31 == 0 => {
                Sniffing::Zlib(write::ZlibDecoder::new(next))
            }
            _ => Sniffing::Deflate(write::DeflateDecoder::new(next)),
        };
        self.write_all(&head)
    }
}

impl Write for Sniffing<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Sniffing::Head(head, _) => {
                let n = bytes.len().min(2 - head.len());
                head.extend_from_slice(&bytes[..n]);
                if head.len() == 2 {
                    self.choose()?;
                }
                Ok(n)
            }
            Sniffing::Gzip(d) => d.write(bytes),
            Sniffing::Zlib(d) => d.write(bytes),
            Sniffing::Deflate(d) => d.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sniffing::Head(..) => Ok(()),
            Sniffing::Gzip(d) => d.flush(),
            Sniffing::Zlib(d) => d.flush(),
            Sniffing::Deflate(d) => d.flush(),
        }
    }
}

impl Finish for Sniffing<'_> {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        if let Sniffing::Head(head, _) = &*self {
            if !head.is_empty() {
                self.choose()?; // one byte: not a stream of any format
            }
        }
        let next = match *self {
            Sniffing::Head(_, next) => next,
            Sniffing::Gzip(d) => Some(d.finish()?),
            Sniffing::Zlib(d) => Some(d.finish()?),
            Sniffing::Deflate(d) => Some(d.finish()?),
        };
        next.map_or(Ok(()), Finish::finish)
    }
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
        decode(body, layers(Some(header), false).unwrap(), limit)
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
        assert!(matches!(decode(b"12345", 0, 4), Err(ReadError::TooLarge)));
        assert_eq!(decode(b"1234", 0, 4).unwrap(), b"1234");
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
    fn unknown_codings() {
        assert!(layers(Some("zz"), false).is_err());
        assert_eq!(layers(Some("br"), true), Ok(0));
        assert_eq!(layers(Some("identity"), false), Ok(0));
        assert_eq!(layers(None, false), Ok(0));
        assert_eq!(layers(Some("gzip, x-gzip"), false), Ok(2));
        assert!(layers(Some("gzip,gzip,gzip,gzip,gzip,gzip"), false).is_err());
    }
}
