//! Turning the caller's URI (or IRI) into a URL that is safe to put on the wire.
//!
//! As httplib2's `iri2uri` and `urlnorm` do: the host is IDNA-encoded, non-ASCII text in the
//! path and query is percent-encoded as UTF-8, and space, CR and LF (here every control
//! character) are percent-encoded too, so nothing the caller wrote can end the request line
//! early (CVE-2020-11078). Scheme and host are lower-cased, an empty path becomes `/`, the
//! fragment is dropped.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use url::Url;

use crate::Error;

/// Bytes percent-encoded in the path and query: controls, space and (implicitly) non-ASCII.
const UNSAFE_IN_TARGET: &AsciiSet = &CONTROLS.add(b' ');

/// Parses and normalises an absolute http or https URI.
pub(crate) fn parse(uri: &str) -> Result<Url, Error> {
    let relative = || Error::RelativeUri {
        uri: uri.to_owned(),
    };
    let (scheme, rest) = uri.split_once("://").ok_or_else(relative)?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return Err(relative());
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(Error::invalid(format!(
            "unsupported URL scheme {scheme:?}: only http and https are allowed"
        )));
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(authority_end);
    if authority.is_empty() {
        return Err(relative());
    }
    if authority.contains('@') {
        return Err(Error::invalid(
            "userinfo in the URL is not supported: use Http::add_credentials",
        ));
    }
    if authority.chars().any(|c| c.is_control() || c == ' ') {
        return Err(Error::invalid(
            "control character or space in the URL's host",
        ));
    }
    // Most URIs need no encoding and already have a lower-case scheme: parsed as given,
    // they cost no copy.
    let encoded = Cow::from(utf8_percent_encode(target, UNSAFE_IN_TARGET));
    let whole = match (&encoded, scheme.as_str() == &uri[..scheme.len()]) {
        (Cow::Borrowed(_), true) => Cow::Borrowed(uri),
        _ => Cow::Owned(format!("{scheme}://{authority}{encoded}")),
    };
    let mut url = Url::parse(&whole).map_err(|e| Error::invalid(format!("bad URL: {e}")))?;
    url.set_fragment(None);
    sendable(&url).map_err(Error::invalid)?;
    Ok(url)
}

/// Refuses a URL the transport cannot put on a request line (the `http` crate's `Uri`
/// holds at most 64 KiB), so that it fails here, before anything is sent, and not on the
/// worker.
pub(crate) fn sendable(url: &Url) -> Result<(), String> {
    isahc::http::Uri::try_from(url.as_str())
        .map(drop)
        .map_err(|e| format!("the URL cannot be sent ({} bytes): {e}", url.as_str().len()))
}

/// The caller's URI for messages about a request that was refused: userinfo removed,
/// control characters escaped.
pub(crate) fn redact(raw: &str) -> String {
    let shown = match raw.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{tail}")
        }
        None => raw.to_owned(),
    };
    shown.escape_debug().to_string()
}

/// The URL without its query, for logs below TRACE.
pub(crate) fn without_query(url: &Url) -> &str {
    let full = url.as_str();
    match url.query() {
        Some(q) => &full[..full.len() - q.len() - 1],
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(uri: &str) -> String {
        parse(uri).unwrap().to_string()
    }

    #[test]
    fn injection_characters_are_percent_encoded() {
        assert_eq!(
            ok("http://h/?q=x HTTP/1.1\r\ninjected: attack"),
            "http://h/?q=x%20HTTP/1.1%0D%0Ainjected:%20attack"
        );
        assert_eq!(ok("http://h/a b\0c"), "http://h/a%20b%00c");
    }

    #[test]
    fn iris_are_encoded_as_httplib2_does() {
        assert_eq!(
            ok("http://www.Bücher.de/ö?x=é"),
            "http://www.xn--bcher-kva.de/%C3%B6?x=%C3%A9"
        );
        assert_eq!(ok("HTTP://Example.COM"), "http://example.com/");
        assert_eq!(ok("http://h/p#frag"), "http://h/p");
    }

    #[test]
    fn relative_and_foreign_uris_are_refused() {
        for uri in ["/path", "example.com/x", "http:///x", "://h/", "mailto:a@b"] {
            assert!(
                matches!(parse(uri), Err(Error::RelativeUri { .. })),
                "{uri}"
            );
        }
        for uri in [
            "file:///etc/passwd",
            "ftp://h/",
            "http://u:p@h/",
            "http://h\r\n/",
        ] {
            assert!(
                matches!(parse(uri), Err(Error::InvalidRequest { .. })),
                "{uri}"
            );
        }
    }

    #[test]
    fn redact_drops_userinfo_and_escapes() {
        assert_eq!(redact("http://u:p@h/a\r\n"), "http://h/a\\r\\n");
        assert_eq!(redact("ftp://h"), "ftp://h");
    }

    #[test]
    fn authority_and_query_helpers() {
        let url = parse("https://h/p?secret=1").unwrap();
        assert_eq!(without_query(&url), "https://h/p");
    }
}
