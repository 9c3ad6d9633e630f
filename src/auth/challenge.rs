//! Parsing `WWW-Authenticate` and `Authentication-Info` (RFC 9110 §11.6.1, RFC 7616 §3.5).
//!
//! A single left-to-right pass: time and memory grow linearly with the header, however
//! hostile it is (httplib2's CVE-2021-21240 was a backtracking regex here).

/// One challenge: a scheme, lower-cased, and its parameters (names lower-cased). A
/// token68 challenge has the single parameter `"token"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub(crate) scheme: String,
    pub(crate) params: Vec<(String, String)>,
}

impl Challenge {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// At most this many challenges and parameters per challenge are kept.
const MAX_ITEMS: usize = 32;

/// Every challenge in a header value; malformed parts are skipped, never fatal.
pub(crate) fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut scanner = Scanner::new(header);
    let mut challenges: Vec<Challenge> = Vec::new();
    while let Some(item) = scanner.next_item() {
        match item {
            // `name=value` after a challenge: a parameter of the last one.
            Item::Param(name, value) => {
                if let Some(last) = challenges.last_mut() {
                    if last.params.len() < MAX_ITEMS {
                        last.params.push((name, value));
                    }
                }
            }
            // A new challenge: its scheme, then a token68 or its first parameter.
            Item::Word(scheme) => {
                let mut challenge = Challenge {
                    scheme,
                    params: Vec::new(),
                };
                if let Some(first) = scanner.first_param() {
                    challenge.params.push(first);
                }
                if challenges.len() < MAX_ITEMS {
                    challenges.push(challenge);
                }
            }
        }
    }
    challenges
}

/// `Authentication-Info` parameters (a list of `name=value`), names lower-cased.
pub(crate) fn parse_params(header: &str) -> Vec<(String, String)> {
    let mut scanner = Scanner::new(header);
    let mut params = Vec::new();
    while let Some(item) = scanner.next_item() {
        if let Item::Param(name, value) = item {
            if params.len() < MAX_ITEMS {
                params.push((name, value));
            }
        }
    }
    params
}

/// What comes next in a header: `name=value`, or a lone word (a scheme).
enum Item {
    Param(String, String),
    Word(String),
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    /// The next item, names lower-cased; bytes that start nothing are skipped. `None` at
    /// the end.
    fn next_item(&mut self) -> Option<Item> {
        loop {
            self.skip_separators();
            let Some(word) = self.token() else {
                self.skip_junk()?;
                continue;
            };
            self.skip_spaces();
            let word = word.to_ascii_lowercase();
            if self.peek() != Some(b'=') {
                return Some(Item::Word(word));
            }
            self.bump();
            self.skip_spaces();
            return Some(Item::Param(word, self.value()));
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn bump(&mut self) {
        self.at += 1;
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.bump();
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.bump();
        }
    }

    /// Skips one byte that starts nothing valid; `None` at the end.
    fn skip_junk(&mut self) -> Option<()> {
        self.peek()?;
        self.bump();
        Some(())
    }

    /// An RFC 9110 token.
    fn token(&mut self) -> Option<String> {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.bump();
        }
        (self.at > start).then(|| self.text(start, self.at))
    }

    /// A quoted string (unescaped; an unterminated one runs to the end) or a token.
    fn value(&mut self) -> String {
        if self.peek() != Some(b'"') {
            return self.token().unwrap_or_default();
        }
        self.bump();
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.bump();
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(escaped) = self.peek() {
                        out.push(escaped);
                        self.bump();
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// After a scheme: `name=value` (the first parameter) or a token68, if either is there.
    fn first_param(&mut self) -> Option<(String, String)> {
        let start = self.at;
        let name = self.token()?;
        self.skip_spaces();
        if self.peek() == Some(b'=') {
            self.bump();
            self.skip_spaces();
            // token68 ends in '=' padding: `abc==` followed by a separator or the end.
            if matches!(self.peek(), None | Some(b',' | b'=')) {
                while self.peek() == Some(b'=') {
                    self.bump();
                }
                return Some(("token".to_owned(), self.text(start, self.at)));
            }
            return Some((name.to_ascii_lowercase(), self.value()));
        }
        if matches!(self.peek(), None | Some(b',')) {
            return Some(("token".to_owned(), name));
        }
        // Another scheme follows without a comma: leave it for the caller.
        self.at = start;
        None
    }

    fn text(&self, from: usize, to: usize) -> String {
        String::from_utf8_lossy(&self.bytes[from..to]).into_owned()
    }
}

/// RFC 9110 `tchar`, plus `/` so a token68 (base64) reads as one token.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn digest_and_basic_together() {
        let all = parse_challenges(
            r#"Digest realm="api@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Basic realm="simple""#,
        );
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].scheme, "digest");
        assert_eq!(all[0].param("qop"), Some("auth, auth-int"));
        assert_eq!(all[0].param("algorithm"), Some("SHA-256"));
        assert_eq!(all[1].scheme, "basic");
        assert_eq!(params(&all[1]), [("realm", "simple")]);
    }

    #[test]
    fn token68_and_bare_schemes() {
        let all = parse_challenges("Negotiate abc+/def==, NTLM, Bearer");
        let shown: Vec<_> = all
            .iter()
            .map(|c| (c.scheme.as_str(), c.param("token")))
            .collect();
        assert_eq!(
            shown,
            [
                ("negotiate", Some("abc+/def==")),
                ("ntlm", None),
                ("bearer", None)
            ]
        );
    }

    #[test]
    fn escapes_and_unterminated_quotes() {
        let all = parse_challenges(r#"Basic realm="a \"quoted\" realm", charset="UTF-8"#);
        assert_eq!(all[0].param("realm"), Some(r#"a "quoted" realm"#));
        assert_eq!(all[0].param("charset"), Some("UTF-8"));
        assert!(parse_challenges("\"\"\",,,==  \u{a0}\u{a0}").len() <= 1);
    }

    #[test]
    fn authentication_info() {
        let p = parse_params(r#"nextnonce="abc", qop=auth, rspauth="ff", cnonce="x", nc=00000001"#);
        assert_eq!(p[0], ("nextnonce".to_owned(), "abc".to_owned()));
        assert_eq!(p.len(), 5);
    }

    /// RELIABILITY.md R7: hostile headers parse in linear time. Proven by a ratio, not a
    /// budget: eight times the input may take about eight times as long (a quadratic parser
    /// would take sixty-four), in the thread's own CPU time, the best of several runs, so a
    /// busy machine that preempts the parser cannot fail it.
    #[test]
    fn hostile_headers_parse_in_linear_time() {
        use nix::time::{ClockId, clock_gettime};
        use std::time::Duration;

        let inputs = |n: usize| {
            [
                "\u{a0}".repeat(n / 2),
                format!("Basic {}", ",".repeat(n)),
                format!("Digest realm=\"{}", "x".repeat(n)),
                "Basic realm=x, ".repeat(n / 15),
                " \t".repeat(n / 2),
                "a=".repeat(n / 2),
                "\"\\".repeat(n / 2),
            ]
        };
        // CPU time of this thread alone: time spent preempted does not count.
        let cpu =
            || Duration::from(clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).expect("clock"));
        let best_of = |input: &str| {
            (0..5)
                .map(|_| {
                    let started = cpu();
                    let parsed = parse_challenges(input);
                    let _ = parse_params(input);
                    assert!(parsed.len() <= MAX_ITEMS);
                    cpu().saturating_sub(started)
                })
                .min()
                .expect("five runs")
        };
        let n = 32 * 1024;
        for (small, large) in inputs(n).iter().zip(&inputs(8 * n)) {
            let (t1, t8) = (best_of(small), best_of(large));
            // The slack covers the clock's resolution when one run takes microseconds.
            let bound = t1 * 24 + Duration::from_millis(4);
            assert!(
                t8 < bound,
                "{t8:?} for 8n against {t1:?} for n: {:?}",
                &small[..20]
            );
        }
    }

    proptest::proptest! {
        /// Arbitrary text never panics, and the result stays bounded.
        #[test]
        fn never_panics(text in "\\PC{0,300}") {
            let all = parse_challenges(&text);
            proptest::prop_assert!(all.len() <= MAX_ITEMS);
            proptest::prop_assert!(all.iter().all(|c| c.params.len() <= MAX_ITEMS));
            let _ = parse_params(&text);
        }

        /// Well-formed challenges survive a round trip.
        #[test]
        fn round_trip(
            scheme in "[A-Za-z]{1,10}",
            params in proptest::collection::vec(("[a-z]{1,8}", "[ -!#-~]{0,20}"), 1..5),
        ) {
            let rendered: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\")))
                .collect();
            let header = format!("{scheme} {}", rendered.join(", "));
            let all = parse_challenges(&header);
            proptest::prop_assert_eq!(all.len(), 1);
            proptest::prop_assert_eq!(&all[0].scheme, &scheme.to_ascii_lowercase());
            let got: Vec<(String, String)> = all[0].params.clone();
            let want: Vec<(String, String)> = params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
