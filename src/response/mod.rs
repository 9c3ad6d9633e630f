//! The response: status, reason, headers as httplib2's dict, the redirect chain.

use std::fmt;
use std::ops::Index;
use std::time::Duration;

use fields::Fields;
pub(crate) use fields::SEPARATOR;
pub(crate) use stale::Cause;
pub use stale::StaleOnError;

use crate::Timings;

mod fields;
mod stale;

/// An HTTP response, shaped like httplib2's `Response` dict.
///
/// Header names are case-insensitive and reported lower-cased; repeated headers are joined
/// with `", "` by [`get`](Response::get), and kept apart by
/// [`get_all`](Response::get_all). The key `"status"` holds the status as text, as in
/// httplib2.
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
    /// [`timings`](Response::timings) tells where it went, and the time to the headers;
    /// its [`total`](Timings::total) is this same value, set with it.
    pub elapsed: Duration,
    /// How many times the request was sent to get this response: 1, or more when a
    /// retry policy sent it again after a failure or a retryable status.
    pub attempts: u32,
    /// Where the time went: queued, resolving, connecting, the TLS handshake, to the first
    /// byte and in total. See [`Timings`] for what each counts.
    pub timings: Timings,
    /// Every header, `"status"` first, packed in one buffer.
    fields: Fields,
    /// Set when a stale stored response answered in place of an error.
    stale: Option<Box<StaleOnError>>,
}

impl Response {
    /// A response with this status, its standard reason phrase, and only the `"status"` key.
    ///
    /// ```
    /// let r = asynchttp::Response::new(404);
    /// assert_eq!((r.status, r.reason.as_str()), (404, "Not Found"));
    /// ```
    pub fn new(status: u16) -> Self {
        Response::with_room(status, 0, 0)
    }

    /// A new response with room for `headers` more headers than `"status"`, whose names
    /// and values together take `text` bytes.
    pub(crate) fn with_room(status: u16, headers: usize, text: usize) -> Self {
        let status_text = status.to_string();
        let mut fields =
            Fields::with_capacity(headers + 1, "status".len() + status_text.len() + text);
        fields.push("status", &status_text);
        Response {
            status,
            reason: http_reason(status).to_owned(),
            version: 11,
            previous: None,
            from_cache: false,
            url: String::new(),
            elapsed: Duration::ZERO,
            attempts: 1,
            timings: Timings::default(),
            fields,
            stale: None,
        }
    }

    /// Why this response came from the cache stale, when it answered in place of an
    /// error: the origin could not be reached or answered 500, 502, 503 or 504, and a
    /// `stale-if-error` allowed the stored response instead (see
    /// [`HttpBuilder::stale_if_error`](crate::HttpBuilder::stale_if_error)). `None` for
    /// any other response, from the cache or not. Such a response is also
    /// [`from_cache`](Response::from_cache), with an `Age` and a `Warning` of `110` and
    /// `111`.
    ///
    /// ```
    /// let r = asynchttp::Response::new(200);
    /// assert!(r.stale_on_error().is_none());
    /// ```
    pub fn stale_on_error(&self) -> Option<&StaleOnError> {
        self.stale.as_deref()
    }

    /// Marks a stored response given in place of an error.
    pub(crate) fn set_stale_on_error(&mut self, stale: StaleOnError) {
        self.stale = Some(Box::new(stale));
    }

    /// Sets how long the request took: [`elapsed`](Response::elapsed) and
    /// [`timings.total`](Timings::total), which are one value.
    pub(crate) fn set_elapsed(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
        self.timings.set_total(elapsed);
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
        self.fields.get(name)
    }

    /// Each value of a header, as received on its own field line, in order: what
    /// [`get`](Response::get) gives joined with `", "`, kept apart. Use it for a header
    /// whose values may themselves contain commas, such as `Set-Cookie` with an
    /// `Expires` date, where the joined text cannot be split back.
    ///
    /// A header received once gives its one value, one set with
    /// [`insert`](Response::insert) the value set, and an absent one nothing.
    ///
    /// ```
    /// let mut r = asynchttp::Response::new(200);
    /// // Two Set-Cookie lines, as a server sends them; each date holds a comma, so the
    /// // joined text cannot be split back at commas.
    /// r.append("Set-Cookie", "id=a3fWa; Expires=Wed, 21 Oct 2026 07:28:00 GMT");
    /// r.append("Set-Cookie", "lang=en; Expires=Thu, 22 Oct 2026 07:28:00 GMT");
    /// assert_eq!(
    ///     r.get("set-cookie"),
    ///     Some("id=a3fWa; Expires=Wed, 21 Oct 2026 07:28:00 GMT, lang=en; Expires=Thu, 22 Oct 2026 07:28:00 GMT")
    /// );
    /// let cookies: Vec<&str> = r.get_all("set-cookie").collect();
    /// assert_eq!(
    ///     cookies,
    ///     [
    ///         "id=a3fWa; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
    ///         "lang=en; Expires=Thu, 22 Oct 2026 07:28:00 GMT",
    ///     ]
    /// );
    /// assert_eq!(r.get_all("status").collect::<Vec<_>>(), ["200"]);
    /// assert_eq!(r.get_all("etag").next(), None);
    /// ```
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        self.fields.get_all(name)
    }

    /// True if the header is present.
    ///
    /// ```
    /// let r = asynchttp::Response::new(200);
    /// assert!(r.contains_key("Status"));
    /// assert!(!r.contains_key("etag"));
    /// ```
    pub fn contains_key(&self, name: &str) -> bool {
        self.fields.get(name).is_some()
    }

    /// All headers as `(name, value)`, names lower-cased, in the order received, `"status"`
    /// first. A repeated header comes once, its values joined as [`get`](Response::get)
    /// gives them.
    ///
    /// ```
    /// let mut r = asynchttp::Response::new(200);
    /// r.insert("Content-Type", "text/plain");
    /// let all: Vec<_> = r.headers().collect();
    /// assert_eq!(all, [("status", "200"), ("content-type", "text/plain")]);
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter()
    }

    /// Sets a header, replacing any value it had (every line of a repeated one). The name
    /// is stored lower-cased.
    ///
    /// ```
    /// let mut r = asynchttp::Response::new(200);
    /// r.insert("X-Count", "1");
    /// r.insert("x-count", "2");
    /// assert_eq!(&r["X-COUNT"], "2");
    /// ```
    pub fn insert(&mut self, name: &str, value: impl Into<String>) {
        self.fields.insert(name, &value.into());
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
        self.fields.remove(name)
    }

    /// Adds a value to a header as another field line, as a repeated header is received:
    /// [`get`](Response::get) gives it after the others, joined with `", "`, and
    /// [`get_all`](Response::get_all) gives it apart. A header not yet present is added,
    /// its name lower-cased.
    ///
    /// ```
    /// let mut r = asynchttp::Response::new(200);
    /// r.append("Vary", "Accept");
    /// r.append("vary", "Accept-Encoding");
    /// assert_eq!(r.get("vary"), Some("Accept, Accept-Encoding"));
    /// assert_eq!(r.get_all("vary").collect::<Vec<_>>(), ["Accept", "Accept-Encoding"]);
    /// ```
    pub fn append(&mut self, name: &str, value: &str) {
        self.fields.append(name, value);
    }

    /// Sets a header to these values, as if received on one field line each; with no
    /// values, nothing changes.
    pub(crate) fn insert_all<'v>(&mut self, name: &str, values: impl IntoIterator<Item = &'v str>) {
        let mut values = values.into_iter();
        if let Some(first) = values.next() {
            self.insert(name, first);
            for value in values {
                self.append(name, value);
            }
        }
    }

    /// Every header as received, `(name, value)` for each field line: a repeated name
    /// once per line, at the place it was first received. `"status"` first.
    pub(crate) fn field_lines(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers()
            .flat_map(move |(name, _)| self.get_all(name).map(move |value| (name, value)))
    }

    /// Adds a header at the end with these values, as if received on a line each,
    /// without looking for it first: the caller knows it is not there yet.
    pub(crate) fn push_new<S: AsRef<str>>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = S>,
    ) {
        self.fields.push_joined(name, values);
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

pub(crate) fn http_reason(status: u16) -> &'static str {
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
        assert_eq!(r.get_all("Set-Cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
        let names: Vec<_> = r.headers().map(|(k, _)| k).collect();
        assert_eq!(names, ["status", "set-cookie"]);
        assert_eq!(r.reason, "Not Found");
        assert_eq!(r.to_string(), "404 Not Found");
    }

    #[test]
    fn elapsed_and_the_total_are_one_value() {
        let mut r = Response::new(200);
        assert_eq!(
            (r.elapsed, r.timings.total()),
            (Duration::ZERO, Duration::ZERO)
        );
        let took = Duration::from_micros(1_234_567);
        r.set_elapsed(took);
        assert_eq!((r.elapsed, r.timings.total()), (took, took));
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
    fn insert_and_remove_keep_get_all_in_step() {
        let mut r = Response::new(200);
        for cookie in ["a=1, x", "b=2", ""] {
            r.append("set-cookie", cookie);
        }
        assert_eq!(
            r.get_all("set-cookie").collect::<Vec<_>>(),
            ["a=1, x", "b=2", ""]
        );
        r.insert("Set-Cookie", "c=3, d=4");
        assert_eq!(r.get_all("set-cookie").collect::<Vec<_>>(), ["c=3, d=4"]);
        r.append("set-cookie", "e=5");
        assert_eq!(
            r.get_all("set-cookie").collect::<Vec<_>>(),
            ["c=3, d=4", "e=5"]
        );
        assert_eq!(r.remove("SET-COOKIE").as_deref(), Some("c=3, d=4, e=5"));
        assert_eq!(r.get_all("set-cookie").next(), None);
        r.append("set-cookie", "f=6");
        assert_eq!(r.get_all("set-cookie").collect::<Vec<_>>(), ["f=6"]);
        assert!(!r.fields.notes_repeats());
    }

    #[test]
    fn a_header_seen_once_allocates_no_side_list() {
        let mut r = Response::new(200);
        r.append("content-type", "text/plain");
        r.insert("etag", "\"v1\"");
        assert!(!r.fields.notes_repeats());
        assert_eq!(
            r.get_all("content-type").collect::<Vec<_>>(),
            ["text/plain"]
        );
    }

    #[test]
    fn field_lines_and_insert_all() {
        let mut r = Response::new(200);
        r.append("vary", "a");
        r.append("x-one", "1");
        r.append("Vary", "b");
        let lines: Vec<_> = r.field_lines().collect();
        assert_eq!(
            lines,
            [
                ("status", "200"),
                ("vary", "a"),
                ("vary", "b"),
                ("x-one", "1")
            ]
        );
        let mut copy = Response::new(200);
        copy.insert_all("x-one", r.get_all("vary"));
        copy.insert_all("vary", r.get_all("x-one"));
        copy.insert_all("absent", r.get_all("absent"));
        assert_eq!(copy.get_all("x-one").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(copy.get_all("vary").collect::<Vec<_>>(), ["1"]);
        assert!(!copy.contains_key("absent"));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Append(usize, String),
        Insert(usize, String),
        Remove(usize),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let value = "[ -~]{0,16}";
        prop_oneof![
            3 => (0usize..3, value).prop_map(|(n, v)| Op::Append(n, v)),
            1 => (0usize..3, value).prop_map(|(n, v)| Op::Insert(n, v)),
            1 => (0usize..3).prop_map(Op::Remove),
        ]
    }

    proptest::proptest! {
        /// Any mix of appends, inserts and removes, with names in any case and values
        /// that may hold the separator: `get` is the values joined, `get_all` the values,
        /// as a plain list of lines says.
        #[test]
        fn get_and_get_all_follow_every_change(ops in proptest::collection::vec(op(), 0..40)) {
            const NAMES: [[&str; 2]; 3] = [["Set-Cookie", "set-cookie"], ["X-A", "x-a"], ["VARY", "Vary"]];
            let mut r = Response::new(200);
            let mut model: Vec<(usize, Vec<String>)> = Vec::new();
            for (i, op) in ops.iter().enumerate() {
                let spelling = |n: usize| NAMES[n][i % 2];
                match op {
                    Op::Append(n, v) => {
                        r.append(spelling(*n), v);
                        match model.iter_mut().find(|(m, _)| m == n) {
                            Some((_, values)) => values.push(v.clone()),
                            None => model.push((*n, vec![v.clone()])),
                        }
                    }
                    Op::Insert(n, v) => {
                        r.insert(spelling(*n), v.as_str());
                        match model.iter_mut().find(|(m, _)| m == n) {
                            Some((_, values)) => *values = vec![v.clone()],
                            None => model.push((*n, vec![v.clone()])),
                        }
                    }
                    Op::Remove(n) => {
                        let expected = model.iter().position(|(m, _)| m == n).map(|at| model.remove(at).1.join(", "));
                        proptest::prop_assert_eq!(r.remove(spelling(*n)), expected);
                    }
                }
            }
            for (n, [name, _]) in NAMES.iter().enumerate() {
                let values = model.iter().find(|(m, _)| *m == n).map(|(_, v)| v.clone()).unwrap_or_default();
                proptest::prop_assert_eq!(r.get_all(name).collect::<Vec<_>>(), values.clone());
                let joined = (!values.is_empty()).then(|| values.join(", "));
                proptest::prop_assert_eq!(r.get(name), joined.as_deref());
            }
            let names: Vec<_> = r.headers().map(|(k, _)| k.to_owned()).collect();
            let expected: Vec<_> = std::iter::once("status".to_owned())
                .chain(model.iter().map(|(n, _)| NAMES[*n][1].to_ascii_lowercase()))
                .collect();
            proptest::prop_assert_eq!(names, expected);
            proptest::prop_assert!(r.fields.is_packed());
        }
    }

    #[test]
    #[should_panic(expected = "response has no header \"etag\"")]
    fn index_panics_when_absent() {
        let _ = &Response::new(200)["etag"];
    }
}
