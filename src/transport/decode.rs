//! Decoding a body, whole or as it streams, with a size limit counted after decompression.
//!
//! Every coding is decoded here rather than by the transport, so that the limit holds for
//! decoded bytes (a 1 MiB bomb stops at the limit, not at 1 GiB), a corrupt or truncated
//! stream is a typed error, and httplib2's leniency is kept: an empty body decodes to
//! nothing whatever its coding, and the deflate family's format is sniffed, so `deflate`
//! accepts zlib-wrapped and raw streams and `gzip` accepts zlib too. Which codings a body
//! has, and in what order, is [`codings::layers`](super::codings::layers).

use std::io::{self, BufRead, BufReader, Read, Write};

use flate2::bufread::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};
use flate2::write;

use super::codings::Codec;

#[cfg(feature = "brotli")]
mod brotli;

const CHUNK: usize = 64 * 1024;
/// The largest zstd window decoded, 8 MiB: RFC 9659 §3 has HTTP's encoders stay within it.
/// libzstd's own bound is 128 MiB, which a frame of a few bytes could make every decoding
/// request allocate, whatever the body limit.
#[cfg(feature = "zstd")]
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

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

/// Undoes `layers` of compression (in the order the server applied them) of a whole raw
/// body, failing once more than `limit` decoded bytes come out. The decoders pull only what
/// they need for that: a bomb is decoded up to the limit, not to its end.
pub(crate) fn decode<'a>(
    raw: impl Read + 'a,
    layers: &[Codec],
    limit: u64,
) -> Result<Vec<u8>, ReadError> {
    let mut reader: Box<dyn Read + 'a> = Box::new(raw);
    for codec in layers.iter().rev() {
        reader = decoding_reader(*codec, BufReader::with_capacity(CHUNK, reader))
            .map_err(ReadError::Decode)?;
    }
    let mut out = Vec::new();
    // One byte past the limit tells "exactly the limit" from "too large".
    match reader.take(limit.saturating_add(1)).read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => Err(ReadError::TooLarge),
        Ok(_) => Ok(out),
        Err(e) => Err(ReadError::Decode(e)),
    }
}

/// The reader that decodes one layer of `input`.
fn decoding_reader<'a>(
    codec: Codec,
    mut input: BufReader<Box<dyn Read + 'a>>,
) -> io::Result<Box<dyn Read + 'a>> {
    // A read error here comes again on the next read, through the decoder.
    let head = match input.fill_buf() {
        Ok(bytes) => bytes[..bytes.len().min(2)].to_vec(),
        Err(_) => Vec::new(),
    };
    if head.is_empty() {
        return Ok(Box::new(input)); // an empty body decodes to nothing, or fails to read
    }
    Ok(match codec {
        Codec::Flate => match Flate::sniff(&head) {
            Flate::Gzip => Box::new(MultiGzDecoder::new(input)),
            Flate::Zlib => Box::new(ZlibDecoder::new(input)),
            Flate::Raw => Box::new(DeflateDecoder::new(input)),
        },
        #[cfg(feature = "brotli")]
        Codec::Brotli => Box::new(brotli::Reader::new(input)),
        #[cfg(feature = "zstd")]
        Codec::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::with_buffer(input)?;
            decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            Box::new(decoder)
        }
    })
}

/// The three formats `gzip` and `deflate` may come in.
enum Flate {
    Gzip,
    Zlib,
    Raw,
}

impl Flate {
    /// The format a stream starting with `head` (two bytes, or one for a stream that short)
    /// is in: gzip's magic, a zlib header (compression method 8, its check bits right), or
    /// else raw deflate.
    fn sniff(head: &[u8]) -> Flate {
        match head {
            [0x1f, 0x8b, ..] => Flate::Gzip,
            [a, b, ..] if a & 0x0f == 8 && (u16::from(*a) << 8 | u16::from(*b)) % 31 == 0 => {
                Flate::Zlib
            }
            _ => Flate::Raw,
        }
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

/// A writer that undoes `layers` of compression (in the order the server applied them) on
/// the way to `sink`, each as [`decode`] undoes it.
pub(crate) fn writer<'a>(layers: &[Codec], sink: Box<dyn Finish + 'a>) -> Box<dyn Finish + 'a> {
    let mut writer = sink;
    // The first coding applied is undone last, next to the sink.
    for codec in layers {
        writer = Box::new(Layer::Head(*codec, Vec::new(), Some(writer)));
    }
    writer
}

/// One layer's decoding writer, made once the stream's first bytes have come.
enum Layer<'a> {
    /// The bytes so far, until there are enough to choose the decoder.
    Head(Codec, Vec<u8>, Option<Box<dyn Finish + 'a>>),
    Decoding(Box<dyn Finish + 'a>),
}

/// Bytes a layer waits for before choosing its decoder: two to sniff the deflate family's
/// format, one for the others (to know the stream is not empty).
fn head_length(codec: Codec) -> usize {
    if codec == Codec::Flate { 2 } else { 1 }
}

impl Layer<'_> {
    /// Chooses the decoder once its head has come (or less, as the stream ends: an empty
    /// stream never gets here), and gives it what came.
    fn choose(&mut self) -> io::Result<()> {
        let Layer::Head(codec, head, next) = self else {
            return Ok(());
        };
        let head = std::mem::take(head);
        let next = next
            .take()
            .expect("the next writer, until a decoder is chosen");
        let decoder: Box<dyn Finish + '_> = match *codec {
            Codec::Flate => match Flate::sniff(&head) {
                Flate::Gzip => Box::new(write::MultiGzDecoder::new(next)),
                Flate::Zlib => Box::new(write::ZlibDecoder::new(next)),
                Flate::Raw => Box::new(write::DeflateDecoder::new(next)),
            },
            #[cfg(feature = "brotli")]
            Codec::Brotli => Box::new(brotli::Writer::new(next)),
            #[cfg(feature = "zstd")]
            Codec::Zstd => {
                let mut decoder = zstd::stream::write::Decoder::new(next)?;
                decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
                Box::new(decoder)
            }
        };
        *self = Layer::Decoding(decoder);
        self.write_all(&head)
    }
}

impl Write for Layer<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Layer::Head(codec, head, _) => {
                let wanted = head_length(*codec);
                let n = bytes.len().min(wanted - head.len());
                head.extend_from_slice(&bytes[..n]);
                if head.len() == wanted {
                    self.choose()?;
                }
                Ok(n)
            }
            Layer::Decoding(d) => d.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Layer::Head(..) => Ok(()),
            Layer::Decoding(d) => d.flush(),
        }
    }
}

impl Finish for Layer<'_> {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        if let Layer::Head(_, head, _) = &*self {
            if !head.is_empty() {
                self.choose()?; // too short for any format: its decoder says so
            }
        }
        match *self {
            Layer::Head(_, _, next) => next.map_or(Ok(()), Finish::finish),
            Layer::Decoding(d) => d.finish(),
        }
    }
}

impl<'a> Finish for write::MultiGzDecoder<Box<dyn Finish + 'a>> {
    fn finish(self: Box<Self>) -> io::Result<()> {
        write::MultiGzDecoder::finish(*self)?.finish()
    }
}

impl<'a> Finish for write::ZlibDecoder<Box<dyn Finish + 'a>> {
    fn finish(self: Box<Self>) -> io::Result<()> {
        write::ZlibDecoder::finish(*self)?.finish()
    }
}

impl<'a> Finish for write::DeflateDecoder<Box<dyn Finish + 'a>> {
    fn finish(self: Box<Self>) -> io::Result<()> {
        write::DeflateDecoder::finish(*self)?.finish()
    }
}

#[cfg(feature = "zstd")]
impl<'a> Finish for zstd::stream::write::Decoder<'static, Box<dyn Finish + 'a>> {
    fn finish(self: Box<Self>) -> io::Result<()> {
        // Fails on a stream that stopped inside a frame.
        zstd::stream::write::Decoder::finish(*self)?.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::codings::layers;
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};

    const TEXT: &[u8] = b"hello hello hello hello";
    /// `TEXT` as Google's encoder gives it (`brotli -c`).
    #[cfg(feature = "brotli")]
    const TEXT_BR: &[u8] = &[
        0x1f, 0x16, 0x00, 0xf8, 0x8d, 0x94, 0x6e, 0xde, 0x44, 0x55, 0x86, 0x96, 0x6c, 0x20, 0x6f,
        0x21, 0x4f, 0x1c, 0xe0, 0x38,
    ];

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// `data` as the `zstd` command makes it: level 3, with a checksum.
    #[cfg(feature = "zstd")]
    fn zstd(data: &[u8]) -> Vec<u8> {
        let mut e = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        e.include_checksum(true).unwrap();
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// A body decoded whole, and streamed through the writers: both must agree.
    fn all(body: &[u8], header: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let layers = layers(Some(header), false).unwrap();
        let whole = decode(body, &layers, limit);
        let mut streamed = Vec::new();
        let mut w = writer(&layers, Box::new(Flushed(&mut streamed)));
        // Written a few bytes at a time, as a slow server sends it.
        let written = body.chunks(3).try_for_each(|c| w.write_all(c));
        let written = written.and_then(|()| w.finish());
        if let Ok(whole) = &whole {
            assert!(written.is_ok(), "{header}: {written:?}");
            assert_eq!(&streamed, whole, "{header}");
        } else if !matches!(whole, Err(ReadError::TooLarge)) {
            assert!(written.is_err(), "{header}: streamed, but not whole");
        }
        whole
    }

    #[test]
    fn every_deflate_flavour_decodes() {
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(TEXT).unwrap();
        let mut d = DeflateEncoder::new(Vec::new(), Compression::default());
        d.write_all(TEXT).unwrap();
        for (body, header) in [
            (gzip(TEXT), "gzip"),
            (gzip(TEXT), "x-gzip"),
            (z.finish().unwrap(), "deflate"),
            (d.finish().unwrap(), "deflate"),
            (gzip(&gzip(TEXT)), "gzip, gzip"),
            (gzip(TEXT), "identity, gzip"),
        ] {
            assert_eq!(all(&body, header, 100).unwrap(), TEXT, "{header}");
        }
    }

    #[cfg(feature = "brotli")]
    #[test]
    fn brotli_decodes_and_layers_undo_in_reverse() {
        assert_eq!(all(TEXT_BR, "br", 100).unwrap(), TEXT);
        assert_eq!(all(&gzip(TEXT_BR), "br, gzip", 100).unwrap(), TEXT);
        // The first coding applied is the last undone, however the formats look.
        assert!(all(&gzip(TEXT_BR), "gzip, br", 100).is_err());
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn zstd_decodes_concatenated_frames() {
        let mut two = zstd(b"first ");
        two.extend(zstd(b"second"));
        assert_eq!(all(&two, "zstd", 100).unwrap(), b"first second");
        assert_eq!(all(&zstd(&gzip(TEXT)), "gzip, zstd", 100).unwrap(), TEXT);
    }

    #[test]
    fn an_empty_body_decodes_to_nothing_in_any_coding() {
        for header in ["gzip", "deflate", "br", "zstd", "br, zstd, gzip"] {
            if layers(Some(header), false).is_ok() {
                assert_eq!(all(b"", header, 100).unwrap(), b"", "{header}");
            }
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
            decode(&b"12345"[..], &[], 4),
            Err(ReadError::TooLarge)
        ));
        assert_eq!(decode(&b"1234"[..], &[], 4).unwrap(), b"1234");
    }

    /// A reader that counts what was taken from it.
    struct Counted<'a>(&'a [u8], &'a std::cell::Cell<usize>);

    impl Read for Counted<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1.set(self.1.get() + n);
            Ok(n)
        }
    }

    /// Bytes of `bomb` the decoders pulled before giving up at `limit`.
    fn pulled(bomb: &[u8], header: &str, limit: u64) -> usize {
        let pulled = std::cell::Cell::new(0);
        let layers = layers(Some(header), false).unwrap();
        let decoded = decode(Counted(bomb, &pulled), &layers, limit);
        assert!(matches!(decoded, Err(ReadError::TooLarge)), "{header}");
        pulled.get()
    }

    #[test]
    fn a_bomb_is_decoded_up_to_the_limit_only() {
        // Members and frames of 64 MiB of zeros each, GiBs in all; decoding stops in the first.
        // The decoders take input a buffer (64 KiB) at a time: a few of them at most.
        let gz = gzip(&vec![0u8; 64 << 20]).repeat(32); // 2 GiB
        assert!(gz.len() > 1 << 20);
        assert!(pulled(&gz, "gzip", 1 << 20) < gz.len() / 4);
        #[cfg(feature = "zstd")]
        {
            let zst = zstd(&vec![0u8; 64 << 20]).repeat(512); // 32 GiB
            assert!(zst.len() > 1 << 20);
            assert!(pulled(&zst, "zstd", 1 << 20) < zst.len() / 4);
        }
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

    #[cfg(feature = "brotli")]
    #[test]
    fn corrupt_or_truncated_brotli_is_a_decode_error() {
        for cut in [1, 5, TEXT_BR.len() - 1] {
            let short = &TEXT_BR[..cut];
            assert!(
                matches!(all(short, "br", 100), Err(ReadError::Decode(_))),
                "{cut}"
            );
        }
        assert!(matches!(
            all(b"not compressed at all", "br", 100),
            Err(ReadError::Decode(_))
        ));
        // Bytes after the end, whole or streamed.
        let longer = [TEXT_BR, b"x"].concat();
        assert!(matches!(all(&longer, "br", 100), Err(ReadError::Decode(_))));
    }

    #[cfg(feature = "brotli")]
    #[test]
    fn large_window_brotli_is_not_br() {
        // `TEXT` from `brotli --large_window=26`: a format of its own, with windows up to
        // 1 GiB, that RFC 7932 decoders refuse.
        let large: &[u8] = &[
            0x11, 0x5a, 0x58, 0x00, 0xe0, 0x37, 0x52, 0xba, 0x79, 0x13, 0x55, 0x19, 0x5a, 0xb2,
            0x81, 0xbc, 0x85, 0x3c, 0x71, 0x00, 0xc7, 0x01,
        ];
        let Err(ReadError::Decode(e)) = all(large, "br", 100) else {
            panic!("a large-window stream decoded");
        };
        assert!(e.to_string().contains("corrupt brotli stream"), "{e}");
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn corrupt_or_truncated_zstd_is_a_decode_error() {
        let whole = zstd(TEXT);
        for cut in [1, 4, whole.len() - 1] {
            let short = &whole[..cut];
            assert!(
                matches!(all(short, "zstd", 100), Err(ReadError::Decode(_))),
                "{cut}"
            );
        }
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut bad = zstd(&noise);
        bad[20] ^= 0xff;
        assert!(matches!(
            all(&bad, "zstd", 100_000),
            Err(ReadError::Decode(_))
        ));
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn a_zstd_window_past_8_mib_is_refused() {
        // 16 MiB windows, as `zstd --long=24` makes; no content size, so the window is the
        // frame's own, not the body's length.
        let mut e = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        e.window_log(24).unwrap();
        e.include_contentsize(false).unwrap();
        e.write_all(TEXT).unwrap();
        let wide = e.finish().unwrap();
        let Err(ReadError::Decode(e)) = all(&wide, "zstd", 100) else {
            panic!("a 16 MiB window decoded");
        };
        assert!(e.to_string().contains("memory"), "{e}");
        let mut e = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        e.window_log(23).unwrap();
        e.include_contentsize(false).unwrap();
        e.write_all(TEXT).unwrap();
        assert_eq!(all(&e.finish().unwrap(), "zstd", 100).unwrap(), TEXT);
    }
}
