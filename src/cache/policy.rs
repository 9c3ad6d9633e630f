//! RFC 9111's rules for a private cache, as functions of a response, the request and the
//! clock: what may be stored, how long it stays fresh, how old it is, when it may be used
//! without asking, and how a `304` updates it. Nothing here touches storage or the network,
//! so each rule is tested on its own.
//!
//! Where the RFC leaves a choice, the choice is a browser's: heuristic freshness for the
//! statuses RFC 9110 §15.1 lists, `Authorization` responses kept only when `public`,
//! `must-revalidate` or `s-maxage` say so, and the first valid value of a repeated field.
//! `stale`: RFC 5861's `stale-if-error`, a stored response in place of an error.

use std::time::{Duration, SystemTime};

use crate::Response;

mod stale;

pub(crate) use self::stale::{ERROR_STATUSES, origin_failed, stale_if_error};

/// RFC 9111 §1.2.2: a delta-seconds too large to hold is taken as 2^31.
const DELTA_MAX: u64 = 1 << 31;

/// Statuses that may be given heuristic freshness (RFC 9110 §15.1).
const HEURISTIC: [u16; 12] = [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501];

/// Statuses whose meaning this cache knows, for `must-understand` (RFC 9111 §5.2.2.3).
const UNDERSTOOD: [u16; 15] = [
    200, 203, 204, 206, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501,
];

/// How much of the time since `Last-Modified` counts as heuristic freshness (RFC 9111
/// §4.2.2 suggests 10%), and its cap: browsers and httplib2 use a week at most.
const HEURISTIC_FRACTION: u32 = 10;
const HEURISTIC_CAP: Duration = Duration::from_secs(7 * 24 * 3600);

/// Headers of a response that describe one connection or one message, never stored
/// (RFC 9111 §3.1) and never taken from a `304` (§3.2).
pub(crate) const NOT_STORED: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authentication-info",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Fields a `304` or a `HEAD` response never changes in the stored response: they describe
/// the stored body, which the update does not carry (RFC 9111 §3.2 and §4.3.5).
const KEPT_ON_UPDATE: [&str; 3] = ["content-length", "content-encoding", "content-range"];

/// The directives of `Cache-Control` lines, names lower-cased, values unquoted, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Directives(Vec<(String, Option<String>)>);

impl Directives {
    /// Parses every line of a `Cache-Control` (or `Pragma`) field. Commas inside a quoted
    /// value do not split it, so `ext="max-age=9"` is one directive named `ext`.
    pub(crate) fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        let mut out = Vec::new();
        for line in lines {
            for item in split_list(line) {
                let (name, value) = match item.split_once('=') {
                    Some((name, value)) => (name, Some(unquote(value))),
                    None => (item, None),
                };
                // "max-age =1" is no max-age: a name never ends in a space.
                if name.is_empty() || name.ends_with([' ', '\t']) {
                    continue;
                }
                out.push((name.to_ascii_lowercase(), value));
            }
        }
        Directives(out)
    }

    /// The `Cache-Control` of a response.
    pub(crate) fn of(response: &Response) -> Self {
        Directives::parse(response.get_all("cache-control"))
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    /// The first valid delta-seconds value of a directive: digits only (`003600` is 3600),
    /// saturated at 2^31.
    pub(crate) fn seconds(&self, name: &str) -> Option<u64> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .find_map(|(_, v)| delta_seconds(v.as_deref()?))
    }

    /// A directive that may come with or without a value (`max-stale`): `Some(None)` when
    /// present without a valid number.
    fn seconds_or_any(&self, name: &str) -> Option<Option<u64>> {
        self.has(name).then(|| self.seconds(name))
    }
}

/// What a request's cached entry is good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Usable {
    /// Fresh for this request: answer from the cache.
    Fresh,
    /// Stale, within `stale-while-revalidate`: answer from the cache, and revalidate in
    /// the background.
    StaleWhileRevalidate,
    /// Only after asking the server (conditionally, when it has validators).
    Revalidate,
}

/// The times an entry was fetched: what its age is computed from (RFC 9111 §4.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FetchedAt {
    /// When the request that got the response was sent.
    pub(crate) request_time: SystemTime,
    /// When the response was received.
    pub(crate) response_time: SystemTime,
}

/// True if the response to `method` with `request` headers may be stored (RFC 9111 §3).
/// `authorized`: the request carried credentials.
pub(crate) fn storable(
    method: &str,
    request: &Directives,
    authorized: bool,
    response: &Response,
) -> bool {
    let cc = Directives::of(response);
    let status = response.status;
    if !matches!(method, "GET" | "HEAD") || (100..200).contains(&status) || status == 304 {
        return false;
    }
    // must-understand lets a cache that knows the status ignore no-store.
    let understood = cc.has("must-understand") && UNDERSTOOD.contains(&status);
    if (cc.has("no-store") && !understood) || request.has("no-store") {
        return false;
    }
    if cc.has("must-understand") && !UNDERSTOOD.contains(&status) {
        return false;
    }
    if response
        .get_all("vary")
        .flat_map(|line| line.split(','))
        .any(|name| name.trim() == "*")
    {
        return false;
    }
    if authorized && !(cc.has("public") || cc.has("must-revalidate") || cc.has("s-maxage")) {
        return false;
    }
    cc.has("public")
        || cc.has("private")
        || cc.seconds("max-age").is_some()
        || response.contains_key("expires")
        || HEURISTIC.contains(&status)
}

/// How long a response stays fresh for a private cache (RFC 9111 §4.2.1): `max-age`, else
/// `Expires` minus `Date`, else a heuristic from `Last-Modified` for the statuses that
/// allow it (or any, with `public`).
pub(crate) fn lifetime(response: &Response, fetched: &FetchedAt) -> Duration {
    let cc = Directives::of(response);
    if let Some(seconds) = cc.seconds("max-age") {
        return Duration::from_secs(seconds);
    }
    let served = date(response, "date").unwrap_or(fetched.response_time);
    if response.contains_key("expires") {
        // An invalid Expires, "0" among them, means already expired (§5.3).
        return date(response, "expires")
            .and_then(|expires| expires.duration_since(served).ok())
            .unwrap_or_default();
    }
    if !HEURISTIC.contains(&response.status) && !cc.has("public") {
        return Duration::ZERO;
    }
    match date(response, "last-modified").and_then(|lm| served.duration_since(lm).ok()) {
        Some(since) => (since / HEURISTIC_FRACTION).min(HEURISTIC_CAP),
        None => Duration::ZERO,
    }
}

/// How old a stored response is now (RFC 9111 §4.2.3), from its `Age` and `Date` and when
/// it was fetched.
pub(crate) fn age(response: &Response, fetched: &FetchedAt, now: SystemTime) -> Duration {
    let apparent = date(response, "date")
        .and_then(|d| fetched.response_time.duration_since(d).ok())
        .unwrap_or_default();
    let delay = fetched
        .response_time
        .duration_since(fetched.request_time)
        .unwrap_or_default();
    let corrected = Duration::from_secs(age_value(response)) + delay;
    let resident = now
        .duration_since(fetched.response_time)
        .unwrap_or_default();
    apparent.max(corrected) + resident
}

/// The response's `Age`: the first valid value of its lines (`Age: 7200, 0` is 7200), 0
/// without one.
fn age_value(response: &Response) -> u64 {
    response
        .get_all("age")
        .flat_map(|line| line.split(','))
        .find_map(|v| delta_seconds(v.trim()))
        .unwrap_or(0)
}

/// Whether a stored response may answer a request with these directives now, or must be
/// validated first (RFC 9111 §4.2, §5.2.1, RFC 5861 §3).
pub(crate) fn usable(
    response: &Response,
    fetched: &FetchedAt,
    request: &Directives,
    now: SystemTime,
) -> Usable {
    let cc = Directives::of(response);
    if cc.has("no-cache") || request.has("no-cache") {
        return Usable::Revalidate;
    }
    let age = age(response, fetched, now);
    let lifetime = lifetime(response, fetched);
    if request
        .seconds("max-age")
        .is_some_and(|max| age > secs(max))
    {
        return Usable::Revalidate;
    }
    if let Some(min_fresh) = request.seconds("min-fresh") {
        if lifetime.saturating_sub(age) < secs(min_fresh) {
            return Usable::Revalidate;
        }
    }
    if age < lifetime {
        return Usable::Fresh;
    }
    let staleness = age - lifetime;
    if !serves_no_stale(&cc) {
        match request.seconds_or_any("max-stale") {
            Some(None) => return Usable::Fresh,
            Some(Some(max)) if staleness <= secs(max) => return Usable::Fresh,
            _ => {}
        }
        if let Some(window) = cc.seconds("stale-while-revalidate") {
            if staleness < secs(window) {
                return Usable::StaleWhileRevalidate;
            }
        }
    }
    Usable::Revalidate
}

/// True if `response` is a permanent redirect taken as permanent: one that says nothing of
/// its lifetime is, as httplib2 and browsers take it (one with `max-age`, `Expires` or
/// `no-cache` lasts as long as those say). It stays in force for as long as it is stored.
pub(crate) fn lasts_for_ever(response: &Response) -> bool {
    let cc = Directives::of(response);
    matches!(response.status, 301 | 308)
        && !cc.has("no-cache")
        && cc.seconds("max-age").is_none()
        && !response.contains_key("expires")
}

/// How long from `now` a stored response can still answer a request that does not itself
/// ask for stale responses: while fresh, then within its `stale-while-revalidate` or
/// `stale-if-error` window, or the client's own `stale_if_error` (`client`), whichever is
/// longest; `None` when it has a validator, which makes it of use for as long as it is
/// kept. A store that forgets may forget it then (RFC 9111 §4.2, RFC 5861).
pub(crate) fn useful_for(
    response: &Response,
    fetched: &FetchedAt,
    now: SystemTime,
    client: Option<Duration>,
) -> Option<Duration> {
    if response.contains_key("etag") || response.contains_key("last-modified") {
        return None;
    }
    let cc = Directives::of(response);
    let fresh = lifetime(response, fetched).saturating_sub(age(response, fetched, now));
    if cc.has("no-cache") {
        return Some(Duration::ZERO);
    }
    if serves_no_stale(&cc) {
        return Some(fresh);
    }
    let window = ["stale-while-revalidate", "stale-if-error"]
        .iter()
        .filter_map(|name| cc.seconds(name))
        .map(secs)
        .chain(client)
        .max()
        .unwrap_or_default();
    Some(fresh.saturating_add(window))
}

/// True if a stale response may never be used without asking (RFC 9111 §5.2.2.2, §5.2.2.8).
/// `proxy-revalidate` binds shared caches only; this cache honours it too, since a store
/// such as a `RedisCache` may serve a whole fleet.
fn serves_no_stale(cc: &Directives) -> bool {
    cc.has("must-revalidate") || cc.has("proxy-revalidate")
}

/// The conditional headers that validate a stored response: `If-None-Match` with its
/// `ETag`, `If-Modified-Since` with its `Last-Modified` (RFC 9111 §4.3.1).
pub(crate) fn validators(response: &Response, ignore_etag: bool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let (Some(etag), false) = (response.get("etag"), ignore_etag) {
        out.push(("if-none-match", etag.to_owned()));
    }
    if let Some(modified) = response.get("last-modified") {
        out.push(("if-modified-since", modified.to_owned()));
    }
    out
}

/// True if a `304` (or a `HEAD` response) is about the stored response, so it may update
/// it (RFC 9111 §4.3.4): its strong `ETag`, else its `Last-Modified`, match the stored
/// ones; one with neither validator applies to the one response this cache stores.
pub(crate) fn describes(update: &Response, stored: &Response) -> bool {
    match (update.get("etag"), update.get("last-modified")) {
        (Some(etag), _) => stored.get("etag").is_some_and(|s| weak_eq(s, etag)),
        (None, Some(modified)) => stored.get("last-modified") == Some(modified),
        (None, None) => true,
    }
}

/// The stored response with the header fields of a `304` or `HEAD` response (RFC 9111
/// §3.2): each field it carries replaces the stored one, except those that describe the
/// stored body, and those that belong to one connection.
pub(crate) fn update(stored: &mut Response, update: &Response) {
    for (name, _) in update.headers() {
        let skipped = name == "status"
            || name.starts_with('-')
            || NOT_STORED.contains(&name)
            || KEPT_ON_UPDATE.contains(&name);
        if !skipped {
            stored.insert_all(name, update.get_all(name));
        }
    }
}

/// The header names a response's `Connection` lists: hop-by-hop, never stored.
pub(crate) fn connection_names(response: &Response) -> Vec<String> {
    response
        .get_all("connection")
        .flat_map(|line| line.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

/// A date field as a time, in any of the three forms RFC 9110 §5.6.7 requires a recipient
/// to accept; `None` when absent or invalid.
pub(crate) fn date(response: &Response, name: &str) -> Option<SystemTime> {
    parse_date(response.get_all(name).next()?.trim())
}

/// An HTTP date, read as browsers read it: names in any case, and a weekday that does not
/// match the date set aside (it carries nothing the date does not). Anything else must be
/// one of the three forms exactly.
fn parse_date(text: &str) -> Option<SystemTime> {
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let text = names_cased(text);
    if let Ok(time) = httpdate::parse_http_date(&text) {
        return Some(time);
    }
    // The weekday is the first word: try the date with each other one, in the same form.
    let end = text.find([',', ' '])?;
    let (day, rest) = text.split_at(end);
    let long = day.len() > 3;
    DAYS.iter()
        .map(|d| if long { d } else { &d[..3] })
        .filter(|d| *d != day)
        .find_map(|d| httpdate::parse_http_date(&format!("{d}{rest}")).ok())
}

/// A date's words as the grammar spells them: `Thu`, `Aug`, `GMT`.
fn names_cased(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start = true;
    for c in text.chars() {
        if c.is_ascii_alphabetic() {
            out.push(if word_start {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            });
            word_start = false;
        } else {
            out.push(c);
            word_start = true;
        }
    }
    out.replace("Gmt", "GMT")
}

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// delta-seconds (RFC 9111 §1.2.2): digits only, saturated at 2^31.
fn delta_seconds(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u64>().map_or(DELTA_MAX, |n| n.min(DELTA_MAX)))
}

/// Weak comparison of entity tags (RFC 9110 §8.8.3.2): equal once `W/` is set aside.
fn weak_eq(a: &str, b: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    opaque(a) == opaque(b)
}

/// The items of a comma-separated list, trimmed, a quoted string kept whole.
fn split_list(line: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                items.push(line[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(line[start..].trim());
    items.retain(|item| !item.is_empty());
    items
}

/// A directive's value: a quoted string's content, unescaped, or the token as it is.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        let mut r = Response::new(status);
        for (name, value) in headers {
            r.append(name, value);
        }
        r
    }

    fn fetched_at(now: SystemTime) -> FetchedAt {
        FetchedAt {
            request_time: now,
            response_time: now,
        }
    }

    fn http_date(t: SystemTime) -> String {
        httpdate::fmt_http_date(t)
    }

    #[test]
    fn directive_names_ignore_case_and_quoted_commas() {
        let cc = Directives::parse(["MaX-aGe=60, NO-CACHE", "ext=\"max-age=9, no-store\""]);
        assert_eq!(cc.seconds("max-age"), Some(60));
        assert!(cc.has("no-cache"));
        assert!(!cc.has("no-store"));
        assert_eq!(
            Directives::parse(["max-age=003600"]).seconds("max-age"),
            Some(3600)
        );
        assert_eq!(
            Directives::parse(["max-age=\"60\""]).seconds("max-age"),
            Some(60)
        );
        for invalid in [
            "max-age='60'",
            "max-age =60",
            "max-age= 60",
            "max-age=6a",
            "max-age=-1",
        ] {
            assert_eq!(
                Directives::parse([invalid]).seconds("max-age"),
                None,
                "{invalid}"
            );
        }
        assert_eq!(
            Directives::parse(["max-age=99999999999999999999999"]).seconds("max-age"),
            Some(DELTA_MAX)
        );
        // The first valid value wins.
        assert_eq!(
            Directives::parse(["max-age=x, max-age=5, max-age=9"]).seconds("max-age"),
            Some(5)
        );
    }

    #[test]
    fn age_is_the_first_valid_value_plus_time_in_the_cache() {
        let now = SystemTime::now();
        let f = fetched_at(now);
        for lines in [&["7200, 0"][..], &["7200", "0"], &["x, 7200"]] {
            let headers: Vec<_> = lines.iter().map(|l| ("age", *l)).collect();
            assert_eq!(
                age(&response(200, &headers), &f, now),
                Duration::from_secs(7200)
            );
        }
        let later = now + Duration::from_secs(5);
        assert_eq!(
            age(&response(200, &[("age", "30")]), &f, later),
            Duration::from_secs(35)
        );
        // A Date in the past makes the apparent age.
        let old = response(200, &[("date", &http_date(now - HOUR))]);
        assert!(age(&old, &f, now) >= HOUR - Duration::from_secs(1));
    }

    #[test]
    fn expires_in_all_three_date_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06 08:49:37
        let f = fetched_at(now);
        let date = ("date", "Sun, 06 Nov 1994 08:49:37 GMT");
        for expires in [
            "Sun, 06 Nov 1994 09:49:37 GMT",
            "Sunday, 06-Nov-94 09:49:37 GMT",
            "Sun Nov  6 09:49:37 1994",
        ] {
            let r = response(200, &[date, ("expires", expires)]);
            assert_eq!(lifetime(&r, &f), HOUR, "{expires}");
        }
        // Names in any case, and a weekday that is not the date's, as browsers read them.
        for loose in [
            "SUN, 06 NOV 1994 09:49:37 gmt",
            "Thu, 06 Nov 1994 09:49:37 GMT",
            "Thu Nov  6 09:49:37 1994",
        ] {
            let r = response(200, &[date, ("expires", loose)]);
            assert_eq!(lifetime(&r, &f), HOUR, "{loose}");
        }
        for invalid in [
            "Sun,  06 Nov 1994 09:49:37 GMT",
            "0",
            "-1",
            "tomorrow",
            "Sun, 06 Nov 1994 09:49:37 UTC",
        ] {
            let r = response(200, &[date, ("expires", invalid)]);
            assert_eq!(lifetime(&r, &f), Duration::ZERO, "{invalid}");
        }
    }

    #[test]
    fn heuristic_freshness_for_the_statuses_that_allow_it() {
        let now = SystemTime::now();
        let f = fetched_at(now);
        let lm = http_date(now - 10 * HOUR);
        for status in HEURISTIC {
            let r = response(status, &[("last-modified", &lm)]);
            assert!(
                lifetime(&r, &f) >= HOUR - Duration::from_secs(1),
                "{status}"
            );
            assert!(
                storable("GET", &Directives::default(), false, &r),
                "{status}"
            );
        }
        for status in [201, 403, 500, 502, 503, 504, 599] {
            let r = response(status, &[("last-modified", &lm)]);
            assert_eq!(lifetime(&r, &f), Duration::ZERO, "{status}");
            assert!(
                !storable("GET", &Directives::default(), false, &r),
                "{status}"
            );
        }
        let public = response(599, &[("last-modified", &lm), ("cache-control", "public")]);
        assert!(lifetime(&public, &f) > Duration::ZERO);
        let ancient = response(200, &[("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")]);
        assert_eq!(lifetime(&ancient, &f), HEURISTIC_CAP);
    }

    #[test]
    fn storable_follows_the_directives() {
        let none = Directives::default();
        let fresh = |cc: &str| response(500, &[("cache-control", cc)]);
        assert!(storable("GET", &none, false, &fresh("max-age=60")));
        assert!(!storable("POST", &none, false, &fresh("max-age=60")));
        assert!(!storable(
            "GET",
            &none,
            false,
            &fresh("max-age=60, no-store")
        ));
        assert!(!storable(
            "GET",
            &none,
            false,
            &fresh("max-age=60, NO-STORE")
        ));
        assert!(!storable(
            "GET",
            &Directives::parse(["no-store"]),
            false,
            &fresh("max-age=60")
        ));
        assert!(!storable(
            "GET",
            &none,
            false,
            &response(304, &[("cache-control", "max-age=60")])
        ));
        assert!(!storable("GET", &none, true, &fresh("max-age=60")));
        assert!(storable("GET", &none, true, &fresh("max-age=60, public")));
        let understood = response(
            200,
            &[("cache-control", "max-age=60, no-store, must-understand")],
        );
        assert!(storable("GET", &none, false, &understood));
        let unknown = response(
            299,
            &[("cache-control", "max-age=60, no-store, must-understand")],
        );
        assert!(!storable("GET", &none, false, &unknown));
        assert!(!storable(
            "GET",
            &none,
            false,
            &response(200, &[("vary", "*"), ("cache-control", "max-age=60")])
        ));
    }

    #[test]
    fn usable_fresh_stale_and_the_request_directives() {
        let now = SystemTime::now();
        let f = fetched_at(now - Duration::from_secs(10));
        let none = Directives::default();
        let r = |cc: &str| response(200, &[("cache-control", cc)]);
        assert_eq!(usable(&r("max-age=60"), &f, &none, now), Usable::Fresh);
        assert_eq!(usable(&r("max-age=5"), &f, &none, now), Usable::Revalidate);
        assert_eq!(
            usable(&r("max-age=60, no-cache"), &f, &none, now),
            Usable::Revalidate
        );
        assert_eq!(
            usable(&r("max-age=60"), &f, &Directives::parse(["no-cache"]), now),
            Usable::Revalidate
        );
        assert_eq!(
            usable(&r("max-age=60"), &f, &Directives::parse(["max-age=5"]), now),
            Usable::Revalidate
        );
        assert_eq!(
            usable(
                &r("max-age=60"),
                &f,
                &Directives::parse(["min-fresh=55"]),
                now
            ),
            Usable::Revalidate
        );
        assert_eq!(
            usable(&r("max-age=5"), &f, &Directives::parse(["max-stale"]), now),
            Usable::Fresh
        );
        assert_eq!(
            usable(
                &r("max-age=5"),
                &f,
                &Directives::parse(["max-stale=60"]),
                now
            ),
            Usable::Fresh
        );
        assert_eq!(
            usable(
                &r("max-age=5"),
                &f,
                &Directives::parse(["max-stale=1"]),
                now
            ),
            Usable::Revalidate
        );
        assert_eq!(
            usable(
                &r("max-age=5, must-revalidate"),
                &f,
                &Directives::parse(["max-stale"]),
                now
            ),
            Usable::Revalidate
        );
        assert_eq!(
            usable(&r("max-age=5, stale-while-revalidate=60"), &f, &none, now),
            Usable::StaleWhileRevalidate
        );
        assert_eq!(
            usable(&r("max-age=5, stale-while-revalidate=2"), &f, &none, now),
            Usable::Revalidate
        );
    }

    #[test]
    fn useful_while_fresh_or_within_a_stale_window_unless_revalidated() {
        let now = SystemTime::now();
        let f = fetched_at(now - Duration::from_secs(10));
        let useful = |headers: &[(&str, &str)]| useful_for(&response(200, headers), &f, now, None);
        let cc = |value| [("cache-control", value)];
        assert_eq!(useful(&cc("max-age=60")), Some(Duration::from_secs(50)));
        assert_eq!(useful(&cc("max-age=5")), Some(Duration::ZERO));
        assert_eq!(
            useful(&cc("max-age=60, stale-while-revalidate=30")),
            Some(Duration::from_secs(80))
        );
        assert_eq!(
            useful(&cc(
                "max-age=60, stale-while-revalidate=30, stale-if-error=100"
            )),
            Some(Duration::from_secs(150))
        );
        assert_eq!(
            useful(&cc(
                "max-age=60, stale-while-revalidate=30, must-revalidate"
            )),
            Some(Duration::from_secs(50))
        );
        assert_eq!(useful(&cc("max-age=60, no-cache")), Some(Duration::ZERO));
        assert_eq!(useful(&[]), Some(Duration::ZERO), "no freshness at all");
        // A validator makes it of use whenever it is asked for.
        assert_eq!(
            useful(&[("etag", "\"a\""), ("cache-control", "max-age=5")]),
            None
        );
        assert_eq!(useful(&[("last-modified", &http_date(now - HOUR))]), None);
        // The client's own stale_if_error keeps it as long, when it is the longest window,
        // but never one that may not be served stale.
        let client = |cc: &str, window: u64| {
            let r = response(200, &[("cache-control", cc)]);
            useful_for(&r, &f, now, Some(Duration::from_secs(window)))
        };
        assert_eq!(client("max-age=60", 300), Some(Duration::from_secs(350)));
        assert_eq!(
            client("max-age=60, stale-if-error=600", 300),
            Some(Duration::from_secs(650))
        );
        assert_eq!(
            client("max-age=60, must-revalidate", 300),
            Some(Duration::from_secs(50))
        );
        assert_eq!(client("max-age=60, no-cache", 300), Some(Duration::ZERO));
    }

    #[test]
    fn a_304_updates_what_it_describes() {
        let stored = response(
            200,
            &[
                ("etag", "\"a\""),
                ("last-modified", "x"),
                ("content-length", "9"),
            ],
        );
        assert!(describes(&response(304, &[("etag", "W/\"a\"")]), &stored));
        assert!(!describes(&response(304, &[("etag", "\"b\"")]), &stored));
        assert!(describes(
            &response(304, &[("last-modified", "x")]),
            &stored
        ));
        assert!(describes(&response(304, &[]), &stored));
        let mut updated = stored.clone();
        update(
            &mut updated,
            &response(
                304,
                &[
                    ("cache-control", "max-age=9"),
                    ("content-length", "0"),
                    ("connection", "close"),
                ],
            ),
        );
        assert_eq!(updated.get("cache-control"), Some("max-age=9"));
        assert_eq!(updated.get("content-length"), Some("9"));
        assert_eq!(updated.get("connection"), None);
    }

    proptest! {
        #[test]
        fn parsing_never_panics(line in ".{0,64}", age_line in ".{0,32}") {
            let cc = Directives::parse([line.as_str()]);
            let _ = cc.seconds("max-age");
            let r = response(200, &[("cache-control", &line), ("age", &age_line), ("expires", &line)]);
            let now = SystemTime::now();
            let _ = usable(&r, &fetched_at(now), &cc, now);
        }
    }
}
