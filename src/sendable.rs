//! What a header may hold, checked in one place for every header the crate sends: the
//! caller's, a hook's, a cookie's, a cache validator's, the user agent.

use isahc::http::{HeaderName, HeaderValue};

use crate::Error;

/// Whether `text` can go out in a header value as it is: visible ASCII, spaces and tabs.
/// A control (CR, LF, NUL, DEL and the rest) would end or break the header line, and the
/// transport hands header values to libcurl as ASCII text, so a byte above 0x7E cannot go
/// either (isahc panics on one).
pub(crate) fn text(text: &str) -> bool {
    text.bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// `text` as a header value, if it is [`text`].
pub(crate) fn value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text)
        .ok()
        .filter(|_| self::text(text))
}

/// A caller's header, checked: a name, and a value trimmed and [`text`].
pub(crate) fn header(name: &str, text: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::invalid(format!("bad header name {name:?}")))?;
    // httplib2 trims values; CR, LF, NUL and other controls are refused, never folded.
    let value = value(text.trim_matches([' ', '\t'])).ok_or_else(|| refused(&name))?;
    Ok((name, value))
}

/// The error for a header whose value is not [`text`].
pub(crate) fn refused(name: &HeaderName) -> Error {
    Error::invalid(format!(
        "control character or one outside ASCII in the value of header {name}"
    ))
}
