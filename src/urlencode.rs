//! `application/x-www-form-urlencoded` as requests writes it, for a form's body
//! ([`Request::form`](crate::Request::form)) and a URL's query
//! ([`Request::query`](crate::Request::query)).
//!
//! requests encodes both with Python's `urllib.parse.urlencode`, which quotes each key and
//! value with `quote_plus`: letters, digits and `_.-~` are kept, a space becomes `+`, any
//! other byte of the text's UTF-8 becomes `%XX`. The `form_urlencoded` crate (WHATWG's
//! rule) differs on two characters, keeping `*` and quoting `~`, so the rule is written here
//! and tested against what Python makes (`tests/data/urlencode.json`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What `quote_plus` quotes: all but letters, digits, `_.-~`, and the space, which
/// becomes `+` instead.
const QUOTED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b' ');

/// `pairs` as `key=value&key=value`, each quoted, in their order, repeated keys and all.
pub(crate) fn encode<I, K, V>(pairs: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut out = String::new();
    for (i, (key, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        quote_plus(&mut out, key.as_ref());
        out.push('=');
        quote_plus(&mut out, value.as_ref());
    }
    out
}

/// Appends `text` to `out`, quoted.
fn quote_plus(out: &mut String, text: &str) {
    for chunk in utf8_percent_encode(text, QUOTED) {
        // A chunk is either `%XX` or a run of kept characters, spaces among them.
        out.extend(chunk.chars().map(|c| if c == ' ' { '+' } else { c }));
    }
}

/// `uri` with `query` added to its query, as requests adds `params=`: after the query it
/// has, joined with `&`, or as its query if it has none; its fragment kept after it.
pub(crate) fn with_query(uri: &str, query: &str) -> String {
    if query.is_empty() {
        return uri.to_owned();
    }
    let (before, fragment) = uri.split_at(uri.find('#').unwrap_or(uri.len()));
    let joint = match before.find('?') {
        None => "?",
        // `http://h/p?` has an empty query: requests gives `http://h/p?a=1`.
        Some(at) if at + 1 == before.len() => "",
        Some(_) => "&",
    };
    format!("{before}{joint}{query}{fragment}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Case {
        pairs: Vec<(String, String)>,
        encoded: String,
    }

    #[test]
    fn pairs_encode_as_pythons_urlencode_does() {
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../tests/data/urlencode.json")).unwrap();
        assert!(cases.len() > 128, "every ASCII character and more");
        for case in cases {
            let pairs = case.pairs.iter().map(|(k, v)| (k, v));
            assert_eq!(encode(pairs), case.encoded, "{:?}", case.pairs);
        }
    }

    #[test]
    fn no_pairs_encode_as_nothing() {
        assert_eq!(encode(Vec::<(&str, &str)>::new()), "");
    }

    #[test]
    fn a_query_goes_after_the_one_there_and_before_the_fragment() {
        let cases = [
            ("http://h/p", "a=1", "http://h/p?a=1"),
            ("http://h/p?x=1", "a=1", "http://h/p?x=1&a=1"),
            ("http://h/p?", "a=1", "http://h/p?a=1"),
            ("http://h/p#top", "a=1", "http://h/p?a=1#top"),
            ("http://h/p?x=1#top?no", "a=1", "http://h/p?x=1&a=1#top?no"),
            ("http://h/p?x=1", "", "http://h/p?x=1"),
        ];
        for (uri, query, expected) in cases {
            assert_eq!(with_query(uri, query), expected, "{uri} + {query}");
        }
    }
}
