//! One cached response as bytes: what a [`Cache`](crate::Cache) stores under a URL.
//!
//! `"AHE3"`, the length of a JSON head (little-endian `u32`), the head (the response's
//! status, reason, URL and headers, when it was fetched, and the request's values of the
//! headers its `Vary` names), then the decoded body. Parsing never trusts the length
//! beyond the bytes at hand and never panics: a damaged entry is simply not an entry.
//!
//! The head's headers are field lines: a header received more than once is there once per
//! line, so a response from the cache keeps its values apart as the original did
//! ([`Response::get_all`]). Entries of the earlier formats, `"AHE1"` and `"AHE2"`, kept
//! another crate's freshness state instead of the fetch times; they read as misses, and
//! the next response stored replaces them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::policy::FetchedAt;
use crate::Response;

const MAGIC: &[u8; 4] = b"AHE3";

/// A stored response: enough to answer a request without the network, or to revalidate.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) response: Response,
    pub(crate) body: Vec<u8>,
    /// When it was fetched: its age is reckoned from these.
    pub(crate) fetched: FetchedAt,
    /// The request's value of each header the response's `Vary` names (`None`: absent),
    /// names lower-cased: a later request matches only with the same values.
    pub(crate) vary: Vec<(String, Option<String>)>,
}

/// The JSON part of an entry.
#[derive(Serialize, Deserialize)]
struct Head {
    status: u16,
    reason: String,
    version: u8,
    url: String,
    /// One pair per field line, `"status"` left out.
    headers: Vec<(String, String)>,
    /// Milliseconds since the Unix epoch.
    request_time: u64,
    response_time: u64,
    vary: Vec<(String, Option<String>)>,
}

impl Entry {
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let head = Head {
            status: self.response.status,
            reason: self.response.reason.clone(),
            version: self.response.version,
            url: self.response.url.clone(),
            headers: self
                .response
                .field_lines()
                .filter(|(k, _)| *k != "status")
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            request_time: millis(self.fetched.request_time),
            response_time: millis(self.fetched.response_time),
            vary: self.vary.clone(),
        };
        let json = serde_json::to_vec(&head).expect("an entry's head always serialises");
        let mut bytes = Vec::with_capacity(8 + json.len() + self.body.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&u32::try_from(json.len()).unwrap_or(u32::MAX).to_le_bytes());
        bytes.extend_from_slice(&json);
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// The entry in `bytes`, or `None` for anything that is not a whole entry of ours.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Entry> {
        let rest = bytes.strip_prefix(MAGIC)?;
        let (len, rest) = rest.split_at_checked(4)?;
        let len = usize::try_from(u32::from_le_bytes(len.try_into().ok()?)).ok()?;
        let (json, body) = rest.split_at_checked(len)?;
        let head: Head = serde_json::from_slice(json).ok()?;
        let text = head.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        let mut response = Response::with_room(head.status, head.headers.len(), text);
        response.reason = head.reason;
        response.version = head.version;
        response.url = head.url;
        response.from_cache = true;
        for (name, value) in &head.headers {
            // The status is the head's own; a line named "status" is not a header.
            if !name.eq_ignore_ascii_case("status") {
                response.append(name, value);
            }
        }
        Some(Entry {
            response,
            body: body.to_vec(),
            fetched: FetchedAt {
                request_time: time(head.request_time),
                response_time: time(head.response_time),
            },
            vary: head.vary,
        })
    }

    /// True if an entry of the earlier formats: not readable, but not damage either.
    pub(crate) fn is_older_format(bytes: &[u8]) -> bool {
        bytes.starts_with(b"AHE1") || bytes.starts_with(b"AHE2")
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn time(millis: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_millis(millis))
        .unwrap_or(UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        let mut response = Response::new(200);
        response.url = "http://h/a".to_owned();
        response.insert("content-type", "text/plain");
        response.insert("etag", "\"v1\"");
        response.insert("-content-encoding", "gzip");
        let now = SystemTime::now();
        Entry {
            response,
            body: b"the body".to_vec(),
            fetched: FetchedAt {
                request_time: now - Duration::from_millis(1500),
                response_time: now,
            },
            vary: vec![
                ("accept-language".to_owned(), Some("en".to_owned())),
                ("x-absent".to_owned(), None),
            ],
        }
    }

    #[test]
    fn round_trip() {
        let e = entry();
        let bytes = e.to_bytes();
        let back = Entry::from_bytes(&bytes).unwrap();
        assert_eq!(back.body, b"the body");
        assert_eq!(back.response.status, 200);
        assert_eq!(back.response.get("etag"), Some("\"v1\""));
        assert_eq!(back.response.get("-content-encoding"), Some("gzip"));
        assert_eq!(&back.response["status"], "200");
        assert!(back.response.from_cache);
        assert_eq!(back.vary, e.vary);
        for (a, b) in [
            (back.fetched.request_time, e.fetched.request_time),
            (back.fetched.response_time, e.fetched.response_time),
        ] {
            let apart = a.duration_since(b).unwrap_or_else(|e| e.duration());
            assert!(apart < Duration::from_millis(1), "{apart:?}");
        }
    }

    #[test]
    fn repeated_headers_stay_apart() {
        let mut e = entry();
        for cookie in [
            "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
            "b=2",
            "c=3; Expires=Thu, 22 Oct 2026 07:28:00 GMT",
        ] {
            e.response.append("Set-Cookie", cookie);
        }
        e.response.append("x-after", "1");
        let bytes = e.to_bytes();
        let back = Entry::from_bytes(&bytes).unwrap();
        assert_eq!(
            back.response.get_all("set-cookie").collect::<Vec<_>>(),
            e.response.get_all("set-cookie").collect::<Vec<_>>()
        );
        assert_eq!(
            back.response.get("set-cookie"),
            e.response.get("set-cookie")
        );
        assert!(back.response.headers().eq(e.response.headers()));
    }

    #[test]
    fn entries_of_the_earlier_formats_are_misses() {
        let mut older = entry().to_bytes();
        for magic in [b"AHE1", b"AHE2"] {
            older[..4].copy_from_slice(magic);
            assert!(Entry::from_bytes(&older).is_none());
            assert!(Entry::is_older_format(&older));
        }
        assert!(!Entry::is_older_format(&entry().to_bytes()));
    }

    #[test]
    fn damaged_entries_are_none() {
        let bytes = entry().to_bytes();
        assert!(Entry::from_bytes(&bytes[..6]).is_none());
        assert!(Entry::from_bytes(&bytes[..20]).is_none());
        let mut huge_len = bytes.clone();
        huge_len[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Entry::from_bytes(&huge_len).is_none());
        assert!(Entry::from_bytes(b"status: 200\r\n\r\nhttplib2's format").is_none());
    }

    proptest::proptest! {
        /// Arbitrary bytes, and arbitrary damage to a real entry: an entry or none, never
        /// a panic, and never a body larger than the bytes given.
        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            cut in 0usize..400,
            flip in 0usize..400,
        ) {
            if let Some(e) = Entry::from_bytes(&bytes) {
                proptest::prop_assert!(e.body.len() <= bytes.len());
            }
            let mut real = entry().to_bytes();
            if flip < real.len() {
                real[flip] ^= 0x5a;
            }
            real.truncate(cut.min(real.len()));
            if let Some(e) = Entry::from_bytes(&real) {
                proptest::prop_assert!(e.body.len() <= real.len());
            }
        }

        /// Headers with any printable values, set or repeated, survive the round trip,
        /// their values apart as they were.
        #[test]
        fn any_headers_round_trip(
            values in proptest::collection::vec(("[a-d]|[a-z][a-z0-9-]{0,12}", "[ -~]{0,40}", proptest::bool::ANY), 0..12),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..100),
        ) {
            let mut e = entry();
            for (k, v, repeat) in &values {
                if *repeat {
                    e.response.append(k, v);
                } else {
                    e.response.insert(k, v.as_str());
                }
            }
            e.body = body.clone();
            let back = Entry::from_bytes(&e.to_bytes()).unwrap();
            proptest::prop_assert_eq!(back.body, body);
            for (k, _, _) in &values {
                proptest::prop_assert_eq!(back.response.get(k), e.response.get(k));
                proptest::prop_assert!(back.response.get_all(k).eq(e.response.get_all(k)));
            }
            proptest::prop_assert!(back.response.headers().eq(e.response.headers()));
        }
    }
}
