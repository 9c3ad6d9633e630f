//! Answering a `Range` request header from a complete stored body (RFC 9110 §14), so the
//! HTTP cache can serve a 206 or a 416 itself instead of going to the origin. Anything it
//! does not answer is served whole, with 200, as a server that ignores `Range` does
//! (§14.2); that is always a correct answer, so doubt resolves to it.

use std::ops::Range;

/// What a cache answers to a Range request from a complete stored representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Serve these bytes with status 206 and this Content-Range value (`bytes 2-5/10`).
    Partial {
        range: Range<usize>,
        content_range: String,
    },
    /// Unsatisfiable: 416 with Content-Range `bytes */10`.
    Unsatisfiable { content_range: String },
    /// Not a byte range this cache answers (another unit, malformed, several ranges).
    Whole,
}

/// The answer to the `Range` header value `range` for a stored body of `len` bytes.
///
/// Several ranges are answered whole: a multipart/byteranges body is not built, because
/// clients that ask for several ranges accept the whole body and it is rarely smaller.
/// Empty list elements (`bytes=0-5,`) are ignored, as RFC 9110 §5.6.1 requires.
pub(crate) fn answer(range: &str, len: usize) -> Answer {
    let Some((unit, set)) = range.split_once('=') else {
        return Answer::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Answer::Whole;
    }
    let mut specs = set.split(',').map(str::trim).filter(|s| !s.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        return Answer::Whole;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return Answer::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let unsatisfiable = Answer::Unsatisfiable {
        content_range: format!("bytes */{len}"),
    };
    let range = if first.is_empty() {
        let Some(suffix) = number(last) else {
            return Answer::Whole;
        };
        if suffix == 0 || len == 0 {
            return unsatisfiable;
        }
        len - suffix.min(len)..len
    } else {
        let Some(first) = number(first) else {
            return Answer::Whole;
        };
        let last = if last.is_empty() {
            None
        } else {
            match number(last) {
                Some(last) if last >= first => Some(last),
                _ => return Answer::Whole,
            }
        };
        if first >= len {
            return unsatisfiable;
        }
        // `last < len` after the clamp, so `last + 1` cannot overflow.
        first..last.map_or(len, |last| last.min(len - 1) + 1)
    };
    Answer::Partial {
        content_range: format!("bytes {}-{}/{len}", range.start, range.end - 1),
        range,
    }
}

/// Digits only: `usize::from_str` would also take a `+` sign, which `1*DIGIT` does not.
fn number(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(start: usize, end: usize, content_range: &str) -> Answer {
        Answer::Partial {
            range: start..end,
            content_range: content_range.to_owned(),
        }
    }

    fn unsatisfiable(len: usize) -> Answer {
        Answer::Unsatisfiable {
            content_range: format!("bytes */{len}"),
        }
    }

    #[test]
    fn first_last_clamps_last() {
        assert_eq!(answer("bytes=2-5", 10), partial(2, 6, "bytes 2-5/10"));
        assert_eq!(answer("bytes=0-0", 10), partial(0, 1, "bytes 0-0/10"));
        assert_eq!(answer("bytes=5-99", 10), partial(5, 10, "bytes 5-9/10"));
    }

    #[test]
    fn first_to_the_end() {
        assert_eq!(answer("bytes=7-", 10), partial(7, 10, "bytes 7-9/10"));
        assert_eq!(answer("bytes=0-", 1), partial(0, 1, "bytes 0-0/1"));
    }

    #[test]
    fn suffix() {
        assert_eq!(answer("bytes=-3", 10), partial(7, 10, "bytes 7-9/10"));
        assert_eq!(answer("bytes=-10", 10), partial(0, 10, "bytes 0-9/10"));
        assert_eq!(answer("bytes=-99", 10), partial(0, 10, "bytes 0-9/10"));
        assert_eq!(answer("bytes=-0", 10), unsatisfiable(10));
    }

    #[test]
    fn unit_case_and_whitespace() {
        assert_eq!(answer(" BYTES = 2 - 5 ", 10), partial(2, 6, "bytes 2-5/10"));
        assert_eq!(answer("Bytes=-2", 10), partial(8, 10, "bytes 8-9/10"));
        assert_eq!(answer("bytes=0-5, ", 10), partial(0, 6, "bytes 0-5/10"));
    }

    #[test]
    fn beyond_the_end_or_empty_body_is_unsatisfiable() {
        assert_eq!(answer("bytes=10-", 10), unsatisfiable(10));
        assert_eq!(answer("bytes=10-20", 10), unsatisfiable(10));
        for range in ["bytes=0-", "bytes=0-0", "bytes=-5", "bytes=-0"] {
            assert_eq!(answer(range, 0), unsatisfiable(0), "{range}");
        }
    }

    #[test]
    fn everything_else_is_whole() {
        for range in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=5",
            "bytes=5-2",
            "bytes=0-1,4-5",
            "bytes=,",
            "items=0-5",
            "bytes=+1-5",
            "bytes=1-+5",
            "bytes=a-5",
            "bytes=1 2-5",
            "bytes=1-2-3",
            "bytes=99999999999999999999999-",
            "bytes=0-99999999999999999999999",
            "bytes=-99999999999999999999999",
        ] {
            assert_eq!(answer(range, 10), Answer::Whole, "{range:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any header value and any length: no panic, and a 206 is always a non-empty
        /// range of the body that its Content-Range names exactly.
        #[test]
        fn any_input_is_answered_within_the_body(
            range in proptest::prop_oneof![
                proptest::string::string_regex("(?i)bytes ?= ?[0-9]{0,3} ?-? ?[0-9]{0,3},? ?").unwrap(),
                proptest::string::string_regex("\\PC{0,30}").unwrap(),
            ],
            len in proptest::prop_oneof![0usize..50, proptest::num::usize::ANY],
        ) {
            match answer(&range, len) {
                Answer::Partial { range, content_range } => {
                    proptest::prop_assert!(range.start < range.end && range.end <= len);
                    let expected = format!("bytes {}-{}/{len}", range.start, range.end - 1);
                    proptest::prop_assert_eq!(content_range, expected);
                }
                Answer::Unsatisfiable { content_range } => {
                    proptest::prop_assert_eq!(content_range, format!("bytes */{len}"));
                }
                Answer::Whole => {}
            }
        }
    }
}
