//! What a form writes around each part: the boundary, and the part's headers, with names
//! and file names escaped as browsers escape them.

use super::Part;

/// A new boundary: 128 random bits as 32 hex digits, as urllib3 makes one. From the
/// system's randomness, so that no one can guess it and write it into a file of theirs to
/// forge a part.
pub(super) fn boundary() -> String {
    crate::random::token()
}

/// The headers of a part named `name`, and the blank line after them.
pub(super) fn head(name: &str, part: &Part) -> Vec<u8> {
    let mut head = String::with_capacity(64 + name.len());
    head.push_str("Content-Disposition: form-data; name=\"");
    escape_into(&mut head, name);
    head.push('"');
    if let Some(file_name) = &part.file_name {
        head.push_str("; filename=\"");
        escape_into(&mut head, file_name);
        head.push('"');
    }
    head.push_str("\r\n");
    if let Some(mime) = &part.mime {
        head.push_str("Content-Type: ");
        head.push_str(mime);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Appends `text` as the HTML standard escapes a name or file name in a multipart form
/// (and RFC 7578 §2 allows): `"` as `%22`, CR as `%0D`, LF as `%0A`, nothing else; a
/// character outside ASCII as its UTF-8, unescaped. Browsers, urllib3 (so requests) and
/// curl do the same.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("%22"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
}

/// True if `boundary` occurs in what the form writes of this part: its headers, or its
/// body when that is in memory. A file's or a reader's bytes are not read to look: a
/// boundary found in them is the risk every browser takes, one in 2¹²⁸.
pub(super) fn mentions(name: &str, part: &Part, boundary: &str) -> bool {
    let within = |haystack: &[u8]| memchr::memmem::find(haystack, boundary.as_bytes()).is_some();
    within(&head(name, part)) || part.body.as_bytes().is_some_and(within)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_text(name: &str, part: &Part) -> String {
        String::from_utf8(head(name, part)).unwrap()
    }

    #[test]
    fn quotes_and_line_ends_are_escaped_and_nothing_else() {
        let part = Part::bytes("").file_name("a\"b\r\nc\\d;e=f é.txt");
        assert_eq!(
            head_text("n\"\r\n\\;=日", &part),
            "Content-Disposition: form-data; name=\"n%22%0D%0A\\;=日\"; \
             filename=\"a%22b%0D%0Ac\\d;e=f é.txt\"\r\n\r\n"
        );
    }

    #[test]
    fn a_part_has_a_content_type_only_when_it_has_one() {
        assert_eq!(
            head_text("a", &Part::text("x")),
            "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
        );
        assert_eq!(
            head_text("a", &Part::text("x").mime("text/csv")),
            "Content-Disposition: form-data; name=\"a\"\r\nContent-Type: text/csv\r\n\r\n"
        );
    }

    #[test]
    fn a_boundary_is_seen_in_the_headers_and_in_bytes_in_memory() {
        let b = "0123456789abcdef0123456789abcdef";
        assert!(mentions(&format!("x{b}"), &Part::text(""), b));
        assert!(mentions("x", &Part::text("").file_name(b), b));
        assert!(mentions("x", &Part::text("").mime(format!("text/{b}")), b));
        assert!(mentions("x", &Part::text(format!("..{b}..")), b));
        assert!(!mentions("x", &Part::text(&b[1..]), b));
        assert!(!mentions("x", &Part::reader(std::io::empty()), b));
    }

    #[test]
    fn boundaries_differ() {
        assert_ne!(boundary(), boundary());
    }
}
