//! The response: status, reason, headers as httplib2's dict, the redirect chain.

use std::borrow::Cow;
use std::fmt;
use std::ops::Index;
use std::time::Duration;

/// An HTTP response, shaped like httplib2's `Response` dict.
///
/// Header names are case-insensitive and reported lower-cased; repeated headers are joined
/// with `", "`. The key `"status"` holds the status as text, as in httplib2.
///
/// ```
/// let mut r = asynchttp::Response::new(200);
/// r.insert("Content-Type", "text/plain");
/// assert_eq!(r.get("content-type"), Some("text/plain"));
/// assert_eq!(&r["status"], "200");
/// assert_eq!(r.reason, "OK");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. `200`.
    pub status: u16,
    /// The reason phrase. The transport does not report the server's own phrase, so this is
    /// the standard phrase for the status (empty for unknown codes).
    pub reason: String,
    /// The HTTP version as httplib2 reports it: `10`, `11` or `20`.
    pub version: u8,
    /// The response that redirected here, if a redirect was followed.
    pub previous: Option<Box<Response>>,
    /// True when the response was served from the cache.
    pub from_cache: bool,
    /// The final URL, without userinfo.
    pub url: String,
    /// How long the request took on its worker, from its start to the whole body read,
    /// across redirects and cache revalidation (as requests' `Response.elapsed`, which
    /// stops at the headers). Time waiting in the queue does not count. Near zero for a
    /// fresh cache hit; zero for a response made with [`Response::new`].
    pub elapsed: Duration,
    /// Common names are static: no allocation for them in every response.
    /// The value of `"status"` for a common code is static too.
    headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
}

impl Response {
    /// A response with this status, its standard reason phrase, and only the `"status"` key.
    ///
    /// ```
    /// let r = asynchttp::Response::new(404);
    /// assert_eq!((r.status, r.reason.as_str()), (404, "Not Found"));
    /// ```
    pub fn new(status: u16) -> Self {
        Response::with_room(status, 0)
    }

    /// A new response with room for `headers` more headers than `"status"`.
    pub(crate) fn with_room(status: u16, headers: usize) -> Self {
        let mut all = Vec::with_capacity(headers + 1);
        all.push((Cow::Borrowed("status"), status_text(status)));
        Response {
            status,
            reason: http_reason(status).to_owned(),
            version: 11,
            previous: None,
            from_cache: false,
            url: String::new(),
            elapsed: Duration::ZERO,
            headers: all,
        }
    }

    /// The value of a header (or of `"status"`), by case-insensitive name.
    ///
    /// ```
    /// let mut r = asynchttp::Response::new(200);
    /// r.insert("ETag", "\"v1\"");
    /// assert_eq!(r.get("etag"), Some("\"v1\""));
    /// assert_eq!(r.get("last-modified"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).map(|i| &*self.headers[i].1)
    }

    /// True if the header is present.
    ///
    /// ```
    /// let r = asynchttp::Response::new(200);
    /// assert!(r.contains_key("Status"));
    /// assert!(!r.contains_key("etag"));
    /// ```
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// All headers as `(name, value)`, names lower-cased, in the order received, `"status"`
    /// first.
    ///
    /// ```
    /// let mut r = asynchttp::Response::new(200);
    /// r.insert("Content-Type", "text/plain");
    /// let all: Vec<_> = r.headers().collect();
    /// assert_eq!(all, [("status", "200"), ("content-type", "text/plain")]);
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(k, v)| (&**k, &**v))
    }

    /// Sets a header, replacing any value it had. The name is stored lower-cased.
    ///
    /// ```
    /// let mut r = asynchttp::Response::new(200);
    /// r.insert("X-Count", "1");
    /// r.insert("x-count", "2");
    /// assert_eq!(&r["X-COUNT"], "2");
    /// ```
    pub fn insert(&mut self, name: &str, value: impl Into<String>) {
        let value = Cow::Owned(value.into());
        match self.position(name) {
            Some(i) => self.headers[i].1 = value,
            None => self.headers.push((lowered(name), value)),
        }
    }

    /// Removes a header and returns its value.
    ///
    /// ```
    /// let mut r = asynchttp::Response::new(200);
    /// r.insert("X-Temp", "1");
    /// assert_eq!(r.remove("x-temp").as_deref(), Some("1"));
    /// assert!(!r.contains_key("x-temp"));
    /// ```
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.position(name)
            .map(|i| self.headers.remove(i).1.into_owned())
    }

    /// Adds a received header, joining a repeated one with `", "`.
    pub(crate) fn append(&mut self, name: &str, value: &str) {
        match self.position(name) {
            Some(i) => {
                let joined = self.headers[i].1.to_mut();
                joined.push_str(", ");
                joined.push_str(value);
            }
            None => self
                .headers
                .push((lowered(name), Cow::Owned(value.to_owned()))),
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.headers
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(name))
    }
}

/// A status as text; a common one without an allocation.
fn status_text(status: u16) -> Cow<'static, str> {
    const COMMON: [(u16, &str); 14] = [
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (206, "206"),
        (301, "301"),
        (302, "302"),
        (303, "303"),
        (304, "304"),
        (307, "307"),
        (308, "308"),
        (400, "400"),
        (404, "404"),
        (500, "500"),
        (503, "503"),
    ];
    match COMMON.iter().find(|(code, _)| *code == status) {
        Some((_, text)) => Cow::Borrowed(text),
        None => Cow::Owned(status.to_string()),
    }
}

/// A header name lower-cased; a common one without an allocation.
fn lowered(name: &str) -> Cow<'static, str> {
    const COMMON: [&str; 16] = [
        "status",
        "content-length",
        "content-type",
        "content-location",
        "content-encoding",
        "-content-encoding",
        "date",
        "server",
        "connection",
        "transfer-encoding",
        "cache-control",
        "etag",
        "last-modified",
        "location",
        "vary",
        "set-cookie",
    ];
    match COMMON.iter().find(|c| c.eq_ignore_ascii_case(name)) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(name.to_ascii_lowercase()),
    }
}

/// `response["content-type"]`; panics when the header is absent, as a `HashMap` index does.
impl Index<&str> for Response {
    type Output = str;

    #[track_caller]
    fn index(&self, name: &str) -> &str {
        match self.get(name) {
            Some(value) => value,
            None => panic!("response has no header {name:?}"),
        }
    }
}

/// `200 OK`.
impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

fn http_reason(status: u16) -> &'static str {
    isahc::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_headers_are_joined_and_names_lowered() {
        let mut r = Response::new(404);
        r.append("Set-Cookie", "a=1");
        r.append("set-cookie", "b=2");
        assert_eq!(r.get("SET-COOKIE"), Some("a=1, b=2"));
        let names: Vec<_> = r.headers().map(|(k, _)| k).collect();
        assert_eq!(names, ["status", "set-cookie"]);
        assert_eq!(r.reason, "Not Found");
        assert_eq!(r.to_string(), "404 Not Found");
    }

    #[test]
    fn insert_replaces_and_remove_takes() {
        let mut r = Response::new(599);
        assert_eq!(r.reason, "");
        r.insert("X-A", "1");
        r.insert("x-a", "2");
        assert_eq!(&r["x-a"], "2");
        assert_eq!(r.remove("X-A").as_deref(), Some("2"));
        assert!(!r.contains_key("x-a"));
    }

    #[test]
    #[should_panic(expected = "response has no header \"etag\"")]
    fn index_panics_when_absent() {
        let _ = &Response::new(200)["etag"];
    }
}
