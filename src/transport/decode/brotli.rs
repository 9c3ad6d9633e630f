//! brotli (RFC 7932), decoded by brotli-decompressor's state machine, driven here so that a
//! whole body and a streamed one follow the same rules: RFC 7932's windows only (at most
//! 16 MiB; the large-window format, up to 1 GiB, is not HTTP's `br`), a stream cut short is
//! an error, and so are bytes after its end, as they are after a gzip member or a zstd
//! frame. brotli has no checksum: a corrupt stream is found only where it breaks the format.

use std::io::{self, BufRead, Read, Write};

use brotli_decompressor::{
    BrotliDecoderParameter, BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc,
};

use super::Finish;

/// Decoded bytes a writer hands on at once.
const OUTPUT: usize = 64 * 1024;

/// One brotli stream being decoded.
struct Stream {
    state: BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>,
    total_out: usize,
    ended: bool,
}

/// What one step of decoding took and gave.
struct Step {
    read: usize,
    written: usize,
}

impl Stream {
    fn new() -> Stream {
        let mut state = BrotliState::new(
            StandardAlloc::default(),
            StandardAlloc::default(),
            StandardAlloc::default(),
        );
        // Set before the first byte, so it cannot be refused.
        state.set_parameter(BrotliDecoderParameter::BROTLI_DECODER_PARAM_LARGE_WINDOW, 0);
        Stream {
            state,
            total_out: 0,
            ended: false,
        }
    }

    /// Decodes what it can of `input` into `output`: it stops when one is used up.
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> io::Result<Step> {
        if self.ended {
            return match input.is_empty() {
                true => Ok(Step {
                    read: 0,
                    written: 0,
                }),
                false => Err(trailing()),
            };
        }
        let (mut available_in, mut read) = (input.len(), 0);
        let (mut available_out, mut written) = (output.len(), 0);
        let result = BrotliDecompressStream(
            &mut available_in,
            &mut read,
            input,
            &mut available_out,
            &mut written,
            output,
            &mut self.total_out,
            &mut self.state,
        );
        match result {
            BrotliResult::ResultSuccess => {
                self.ended = true;
                if read < input.len() {
                    return Err(trailing());
                }
            }
            BrotliResult::ResultFailure => {
                let code = self.state.error_code;
                let reason = format!("corrupt brotli stream ({code:?})");
                return Err(io::Error::new(io::ErrorKind::InvalidData, reason));
            }
            BrotliResult::NeedsMoreInput | BrotliResult::NeedsMoreOutput => {}
        }
        if read == 0 && written == 0 && !input.is_empty() && !output.is_empty() {
            // Never seen; a loop that waited for progress would spin for ever.
            let reason = "the brotli decoder stopped making progress";
            return Err(io::Error::other(reason));
        }
        Ok(Step { read, written })
    }

    /// Fails unless the stream has come to its end.
    fn end(&self) -> io::Result<()> {
        match self.ended {
            true => Ok(()),
            false => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "brotli stream cut short",
            )),
        }
    }
}

fn trailing() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "bytes after the end of the brotli stream",
    )
}

/// Reads the decoded bytes of the brotli stream `input` holds, which must end with it.
pub(super) struct Reader<R> {
    input: R,
    stream: Stream,
}

impl<R: BufRead> Reader<R> {
    pub(super) fn new(input: R) -> Self {
        Reader {
            input,
            stream: Stream::new(),
        }
    }
}

impl<R: BufRead> Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.input.fill_buf()?;
            let at_end = input.is_empty();
            let step = self.stream.step(input, buf)?;
            self.input.consume(step.read);
            if step.written > 0 {
                return Ok(step.written);
            }
            if at_end {
                return self.stream.end().map(|()| 0);
            }
        }
    }
}

/// Writes the decoded bytes of the brotli stream written to it on to `next`.
pub(super) struct Writer<'a> {
    next: Box<dyn Finish + 'a>,
    stream: Stream,
    output: Vec<u8>,
}

impl<'a> Writer<'a> {
    pub(super) fn new(next: Box<dyn Finish + 'a>) -> Self {
        Writer {
            next,
            stream: Stream::new(),
            output: vec![0; OUTPUT],
        }
    }
}

impl Write for Writer<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if bytes.is_empty() {
            return Ok(0);
        }
        let mut taken = 0;
        loop {
            let step = self.stream.step(&bytes[taken..], &mut self.output)?;
            taken += step.read;
            self.next.write_all(&self.output[..step.written])?;
            // A full output buffer may have more behind it, even with the input used up.
            if taken == bytes.len() && step.written < self.output.len() {
                return Ok(taken);
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.next.flush()
    }
}

impl Finish for Writer<'_> {
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.stream.end()?;
        self.next.finish()
    }
}
