use std::io;
use std::path::PathBuf;

use super::*;

/// The body read whole as the transport reads it (`Body::open`, part by part); an error
/// as an `io::Error` of its cause's kind, with the whole message.
fn read_all(body: Body) -> io::Result<Vec<u8>> {
    let to_io = |e: crate::Error| {
        let kind = std::error::Error::source(&e)
            .and_then(|source| source.downcast_ref::<std::sync::Arc<io::Error>>())
            .map_or(io::ErrorKind::Other, |source| source.kind());
        io::Error::new(kind, e.chain())
    };
    let mut opened = body.open(None).map_err(to_io)?;
    let (mut out, mut buf) = (Vec::new(), [0u8; 8192]);
    for part in opened.parts.iter_mut() {
        loop {
            match part.read(&mut buf).map_err(to_io)? {
                0 => break,
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }
    Ok(out)
}

/// A file of the test's own, removed at the end.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!("asynchttp-form-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The bytes in memory of a body: the whole of bytes, the sum of a chain's bytes.
fn in_memory(body: &Body) -> usize {
    match &body.kind {
        Kind::Bytes(bytes) => bytes.len(),
        Kind::Chain(parts) => parts.iter().map(in_memory).sum(),
        _ => 0,
    }
}

#[test]
fn a_form_is_written_as_rfc_7578_says() {
    let file = TempFile::new("notes.txt", b"line 1\nline 2\n");
    let form = Form::with_boundary("XyZ")
        .text("title", "Holidays")
        .file("notes", &file.0)
        .part("raw", Part::bytes(vec![0u8, 255]).file_name("raw.bin"))
        .part("typed", Part::text("{}").mime("application/json"));
    let body = form.into_body();
    let expected = [
        &b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHolidays\r\n"[..],
        b"--XyZ\r\nContent-Disposition: form-data; name=\"notes\"; filename=\"notes.txt\"\r\n",
        b"Content-Type: text/plain\r\n\r\nline 1\nline 2\n\r\n",
        b"--XyZ\r\nContent-Disposition: form-data; name=\"raw\"; filename=\"raw.bin\"\r\n\r\n",
        b"\x00\xff\r\n",
        b"--XyZ\r\nContent-Disposition: form-data; name=\"typed\"\r\n",
        b"Content-Type: application/json\r\n\r\n{}\r\n",
        b"--XyZ--\r\n",
    ]
    .concat();
    assert_eq!(
        body.len(),
        Some(expected.len() as u64),
        "the file's size, read when added"
    );
    assert_eq!(read_all(body.clone()).unwrap(), expected);
    assert_eq!(
        read_all(body).unwrap(),
        expected,
        "a form of files can be sent again"
    );
}

#[test]
fn a_file_is_read_as_it_is_sent_and_never_held_in_memory() {
    let contents: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let file = TempFile::new("big.bin", &contents);
    let body = Form::new().text("a", "b").file("big", &file.0).into_body();
    assert!(
        in_memory(&body) < 500,
        "{} bytes in memory",
        in_memory(&body)
    );
    let sent = read_all(body).unwrap();
    assert!(
        sent.windows(contents.len())
            .any(|w| w == contents.as_slice())
    );
}

#[test]
fn a_form_wholly_in_memory_is_one_run_of_bytes() {
    let body = Form::new()
        .text("a", "1")
        .part("b", Part::bytes("2"))
        .into_body();
    assert!(body.as_bytes().is_some(), "{body:?}");
    let empty = Form::with_boundary("B").into_body();
    assert_eq!(empty.as_bytes(), Some(&b"--B--\r\n"[..]));
}

#[test]
fn a_reader_of_unknown_length_leaves_the_length_unknown() {
    let body = Form::new()
        .part("r", Part::reader(io::Cursor::new(b"abc".to_vec())))
        .into_body();
    assert_eq!(body.len(), None);
    let sized = Form::new()
        .part("r", Part::sized_reader(io::Cursor::new(b"abc".to_vec()), 3))
        .into_body();
    let len = sized.len().unwrap();
    assert_eq!(read_all(sized).unwrap().len() as u64, len);
}

#[test]
fn a_boundary_held_by_a_part_is_drawn_again() {
    let b = "0123456789abcdef0123456789abcdef";
    let holders = [
        Form::with_boundary(b).text(format!("name {b}"), "v"),
        Form::with_boundary(b).text("n", format!("--{b}--")),
        Form::with_boundary(b).part("n", Part::text("v").file_name(format!("{b}.txt"))),
        Form::with_boundary(b).part("n", Part::text("v").mime(format!("text/x-{b}"))),
    ];
    for form in holders {
        let shown = format!("{form:?}");
        assert_ne!(form.boundary(), b, "{shown}");
        assert_eq!(form.boundary().len(), 32);
        let (name, part) = &form.parts[0];
        assert!(!head::mentions(name, part, form.boundary()), "{shown}");
    }
    let kept = Form::with_boundary(b).text("n", "v");
    assert_eq!(kept.boundary(), b, "a boundary no part holds is kept");
}

#[test]
fn a_file_names_itself_and_guesses_its_type() {
    let cases = [
        ("cat.jpg", "image/jpeg"),
        ("page.HTML", "text/html"),
        ("data.unknown-extension", "application/octet-stream"),
        ("README", "application/octet-stream"),
    ];
    for (name, mime) in cases {
        let part = Part::file(format!("/some/dir/{name}"));
        assert_eq!(part.file_name.as_deref(), Some(name));
        assert_eq!(part.mime.as_deref(), Some(mime), "{name}");
        let renamed = Part::file(name).file_name("other").mime("text/plain");
        assert_eq!(renamed.file_name.as_deref(), Some("other"));
        assert_eq!(renamed.mime.as_deref(), Some("text/plain"));
    }
}

#[test]
fn a_missing_file_fails_the_form_when_sent_naming_it() {
    let body = Form::new()
        .file("f", "/nonexistent/asynchttp-part.txt")
        .into_body();
    let e = read_all(body).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    assert!(
        e.to_string().contains("/nonexistent/asynchttp-part.txt"),
        "{e}"
    );
}

#[test]
fn a_file_whose_size_changed_fails_rather_than_break_the_length() {
    let file = TempFile::new("changing.txt", b"12345");
    let body = Form::new().file("f", &file.0).into_body();
    std::fs::write(&file.0, b"123456789").unwrap();
    let e = read_all(body.clone()).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(e.to_string().contains("is 9 bytes, and was 5"), "{e}");
    std::fs::write(&file.0, b"123").unwrap();
    assert!(read_all(body).is_err(), "nor smaller");
}

#[test]
fn a_content_type_that_cannot_be_sent_fails_the_form() {
    for mime in ["text/plain\r\nX-Injected: 1", "text/plain; charset=é"] {
        let part = Part::text("x").mime(mime);
        assert_eq!(part.mime, None, "never written into the headers");
        let e = read_all(Form::new().part("p", part).into_body()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("cannot be sent"), "{e}");
    }
}

#[test]
fn a_file_body_as_a_part_is_named_as_a_file_part_is() {
    let part = Part::body(Body::file("/some/dir/song.mp3"));
    assert_eq!(part.file_name.as_deref(), Some("song.mp3"));
    assert_eq!(part.mime.as_deref(), Some("audio/mpeg"));
    assert_eq!(part.body.len(), None, "its size is read when it is sent");
    assert_eq!(Part::bytes("x").file_name, None);
}
