//! The text of a `.netrc` file read into its entries, or the line of its first mistake.
//!
//! The grammar is the one curl (`lib/netrc.c`) and Python's `netrc` module share: tokens
//! separated by spaces, tabs and line ends; `machine NAME` and `default` begin an entry;
//! `login`, `password` and `account` (read, not used) each take the next token as their
//! value, whatever it is; `macdef NAME` ends the entry and begins a macro, skipped up to
//! the next empty line (one of nothing but blanks) or the end of the file; a line whose
//! first character other than a blank is `#` is a comment. Keywords are matched in any
//! case, as curl matches them. A value may be quoted, `"..."`, where `\"`, `\\`, `\n`,
//! `\r` and `\t` are a quote, a backslash, a line feed, a carriage return and a tab, and a
//! backslash before any other character is that character, as curl reads them; a
//! backslash outside quotes is itself.
//!
//! Where curl and Python part, the choice made here:
//!
//! - A word where a keyword belongs that is none is a mistake, as Python has it: curl
//!   skips it, so that `pasword s3cret` silently sends no password, where this says on
//!   which line it is.
//! - `#` beginning a word where a keyword belongs begins a comment to the end of the line
//!   (`machine h login a # the laptop`), as Python reads it; where a value belongs, it
//!   begins the value (`password #s3cret`), as both read it.
//! - `user` is `login`, as in Python.
//! - A quoted value ends on its line: a line end before the closing quote is a mistake on
//!   the line the quote opened (curl 8 and Python read on into the next lines, which takes
//!   the rest of the file into a password when a quote is missing); a line feed in a value
//!   is written `\n`.
//! - A macro at the end of the file needs no empty line after it, as curl has it (Python
//!   refuses the file).
//!
//! A mistake is told by its line and what it is, never by the text found there, which may
//! be a password. A token is 4096 bytes at most, as in curl.

use std::fmt;

/// The longest token read, as curl's `MAX_NETRC_TOKEN`: a longer one is refused, not cut.
pub(crate) const MAX_TOKEN: usize = 4096;

/// One `machine` or `default` entry, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The name after `machine`; `None` for `default`.
    pub(crate) machine: Option<String>,
    pub(crate) login: Option<String>,
    pub(crate) password: Option<String>,
    /// The line the entry begins on.
    pub(crate) line: usize,
}

/// What is wrong with a file, and on which line (counted from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub(crate) line: usize,
    pub(crate) what: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

/// The entries of a file's `text`, in the file's order.
pub(crate) fn parse(text: &[u8]) -> Result<Vec<Entry>, Malformed> {
    let line_at = |end: usize| 1 + memchr::memchr_iter(b'\n', &text[..end]).count();
    if let Some(at) = memchr::memchr(0, text) {
        return Err(Malformed {
            line: line_at(at),
            what: "a NUL byte: this is not a text file".to_owned(),
        });
    }
    let text = std::str::from_utf8(text).map_err(|e| Malformed {
        line: line_at(e.valid_up_to()),
        what: "bytes that are not UTF-8 text".to_owned(),
    })?;
    let mut lexer = Lexer {
        text,
        pos: 0,
        line: 1,
    };
    let mut entries = Vec::new();
    let mut current: Option<Entry> = None;
    while let Some(token) = lexer.next()? {
        let mistake = |what: String| Malformed {
            line: token.line,
            what,
        };
        let keyword = match &token.word {
            Word::Plain(word) => Keyword::of(word),
            Word::Quoted(_) => None,
        };
        let Some(keyword) = keyword else {
            return Err(mistake(
                "a word where a keyword belongs (machine, default, login, password, account \
                 or macdef)"
                    .to_owned(),
            ));
        };
        match keyword {
            Keyword::Comment => lexer.skip_line(),
            Keyword::Machine => {
                let name = lexer.value(&token, "machine", "a host name")?;
                entries.extend(current.replace(Entry {
                    machine: Some(name),
                    login: None,
                    password: None,
                    line: token.line,
                }));
            }
            Keyword::Default => {
                entries.extend(current.replace(Entry {
                    machine: None,
                    login: None,
                    password: None,
                    line: token.line,
                }));
            }
            Keyword::Login | Keyword::Password | Keyword::Account => {
                let name = keyword.name();
                let Some(entry) = current.as_mut() else {
                    return Err(mistake(format!(
                        "{name} before any machine or default entry"
                    )));
                };
                let value = lexer.value(&token, name, "a value")?;
                match keyword {
                    Keyword::Login => entry.login = Some(value),
                    Keyword::Password => entry.password = Some(value),
                    _ => {}
                }
            }
            Keyword::Macdef => {
                entries.extend(current.take());
                lexer.skip_macro();
            }
        }
    }
    entries.extend(current);
    Ok(entries)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Machine,
    Default,
    Login,
    Password,
    Account,
    Macdef,
    /// A word beginning with `#`.
    Comment,
}

/// The keywords, as they are written; `user` is `login`, as in Python.
const KEYWORDS: [(&str, Keyword); 7] = [
    ("machine", Keyword::Machine),
    ("default", Keyword::Default),
    ("login", Keyword::Login),
    ("user", Keyword::Login),
    ("password", Keyword::Password),
    ("account", Keyword::Account),
    ("macdef", Keyword::Macdef),
];

impl Keyword {
    fn of(word: &str) -> Option<Keyword> {
        if word.starts_with('#') {
            return Some(Keyword::Comment);
        }
        KEYWORDS
            .iter()
            .find(|(name, _)| word.eq_ignore_ascii_case(name))
            .map(|(_, keyword)| *keyword)
    }

    /// As messages name it.
    fn name(self) -> &'static str {
        KEYWORDS
            .iter()
            .find(|(_, keyword)| *keyword == self)
            .map_or("#", |(name, _)| name)
    }
}

enum Word<'a> {
    Plain(&'a str),
    /// Its escapes read.
    Quoted(String),
}

struct Token<'a> {
    word: Word<'a>,
    /// The line it begins on.
    line: usize,
}

/// Reads tokens off the text, counting lines. Every byte it looks for is ASCII, so each
/// position it stops at is a character's boundary.
struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    /// The next token, if the text has one.
    fn next(&mut self) -> Result<Option<Token<'a>>, Malformed> {
        self.skip_space();
        let line = self.line;
        let rest = self.rest();
        if rest.is_empty() {
            return Ok(None);
        }
        let too_long = || Malformed {
            line,
            what: format!("a token longer than {MAX_TOKEN} bytes"),
        };
        let word = if let Some(quoted) = rest.strip_prefix('"') {
            let (value, len) = unquote(quoted).map_err(|e| match e {
                Unquote::Open => Malformed {
                    line,
                    what: "a quote not closed on its line".to_owned(),
                },
                Unquote::TooLong => too_long(),
            })?;
            self.pos += 1 + len;
            Word::Quoted(value)
        } else {
            let len = rest.find([' ', '\t', '\r', '\n']).unwrap_or(rest.len());
            if len > MAX_TOKEN {
                return Err(too_long());
            }
            self.pos += len;
            Word::Plain(&rest[..len])
        };
        Ok(Some(Token { word, line }))
    }

    /// The value of `keyword`, read as `token` was: the next token, whatever it is.
    fn value(
        &mut self,
        token: &Token<'_>,
        keyword: &str,
        wanted: &str,
    ) -> Result<String, Malformed> {
        match self.next()? {
            Some(Token {
                word: Word::Plain(word),
                ..
            }) => Ok(word.to_owned()),
            Some(Token {
                word: Word::Quoted(value),
                ..
            }) => Ok(value),
            None => Err(Malformed {
                line: token.line,
                what: format!("{keyword} at the end of the file, without {wanted}"),
            }),
        }
    }

    /// Past blanks, line ends and comment lines.
    fn skip_space(&mut self) {
        loop {
            if self.at_line_start() && self.line_is(|line| line.starts_with('#')) {
                self.skip_line();
                continue;
            }
            match self.rest().as_bytes().first() {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                }
                _ => return,
            }
        }
    }

    fn at_line_start(&self) -> bool {
        self.pos == 0 || self.text.as_bytes()[self.pos - 1] == b'\n'
    }

    /// Whether the rest of the current line, its leading blanks passed, satisfies `test`.
    fn line_is(&self, test: impl Fn(&str) -> bool) -> bool {
        let rest = self.rest();
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        test(line.trim_start_matches([' ', '\t']))
    }

    /// To the start of the next line, or the end.
    fn skip_line(&mut self) {
        match self.rest().find('\n') {
            Some(end) => {
                self.pos += end + 1;
                self.line += 1;
            }
            None => self.pos = self.text.len(),
        }
    }

    /// Past a macro: the rest of the `macdef` line, then every line up to and with the
    /// first empty one (nothing but blanks and carriage returns), or to the end.
    fn skip_macro(&mut self) {
        self.skip_line();
        while !self.rest().is_empty() {
            let empty = self.line_is(|line| line.bytes().all(|b| b == b'\r'));
            self.skip_line();
            if empty {
                return;
            }
        }
    }
}

/// Why a quoted token could not be read.
enum Unquote {
    /// The line ended first.
    Open,
    TooLong,
}

/// The value of a quoted token whose opening quote is just before `text`, and how many
/// bytes of `text` it took, its closing quote included.
fn unquote(text: &str) -> Result<(String, usize), Unquote> {
    let mut value = String::new();
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        match c {
            '\n' => break,
            '"' if !escaped => return Ok((value, at + 1)),
            '\\' if !escaped => {
                escaped = true;
                continue;
            }
            _ if escaped => value.push(match c {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                other => other,
            }),
            _ => value.push(c),
        }
        escaped = false;
        if value.len() > MAX_TOKEN {
            return Err(Unquote::TooLong);
        }
    }
    Err(Unquote::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(machine: Option<&str>, login: Option<&str>, password: Option<&str>) -> Entry {
        Entry {
            machine: machine.map(str::to_owned),
            login: login.map(str::to_owned),
            password: password.map(str::to_owned),
            line: 0,
        }
    }

    /// The entries, their lines left out.
    fn read(text: &str) -> Vec<Entry> {
        let mut entries = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text:?}"));
        for entry in &mut entries {
            entry.line = 0;
        }
        entries
    }

    fn refused(text: &[u8]) -> Malformed {
        match parse(text) {
            Ok(entries) => panic!("read {entries:?} from {text:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn machines_and_default_in_the_files_order() {
        let text = "machine a.example login alice password s3cret\n\
                    machine b.example\n  login bob\n  password pw\n  account acct\n\
                    default login anonymous password me@example\n";
        assert_eq!(
            read(text),
            [
                entry(Some("a.example"), Some("alice"), Some("s3cret")),
                entry(Some("b.example"), Some("bob"), Some("pw")),
                entry(None, Some("anonymous"), Some("me@example")),
            ]
        );
        let lines: Vec<_> = parse(text.as_bytes())
            .unwrap()
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, [1, 2, 6]);
    }

    #[test]
    fn tokens_are_separated_by_any_blank_and_keywords_match_in_any_case() {
        assert_eq!(
            read("MACHINE\th\r\nLogin  a\n\n\n PASSWORD\r\n b"),
            [entry(Some("h"), Some("a"), Some("b"))]
        );
        // A value is the next token whatever it is, a keyword included.
        assert_eq!(
            read("machine password login machine password default"),
            [entry(Some("password"), Some("machine"), Some("default"))]
        );
        // `user` is `login`; the last of each wins.
        assert_eq!(
            read("machine h user a login b password c password d"),
            [entry(Some("h"), Some("b"), Some("d"))]
        );
        // Unquoted, a backslash and a quote are themselves.
        assert_eq!(
            read(r#"machine h password a\n"b"#),
            [entry(Some("h"), None, Some(r#"a\n"b"#))]
        );
    }

    #[test]
    fn quoted_values_with_curls_escapes() {
        let text = r#"machine "h" login "a b" password "q\"u\\o\nt\re\ts\x""#;
        assert_eq!(
            read(text),
            [entry(Some("h"), Some("a b"), Some("q\"u\\o\nt\re\tsx"))]
        );
        assert_eq!(
            read(r#"machine h password """#),
            [entry(Some("h"), None, Some(""))]
        );
        // A token may follow the closing quote at once; non-ASCII passes through.
        assert_eq!(
            read("machine h login \"é\"password ü"),
            [entry(Some("h"), Some("é"), Some("ü"))]
        );
    }

    #[test]
    fn comments() {
        let text = "# a comment line\n\
                    \t  # an indented one\n\
                    machine h # the laptop; login x is not read\n\
                    login a #this too\n\
                    password #s3cret\n\
                    #machine evil login e password e\n";
        assert_eq!(read(text), [entry(Some("h"), Some("a"), Some("#s3cret"))]);
        // A comment line between a keyword and its value is skipped, as curl drops it.
        assert_eq!(
            read("machine h login\n# note\nalice"),
            [entry(Some("h"), Some("alice"), None)]
        );
        // A `#` inside a word is the word's.
        assert_eq!(
            read("machine h password a#b"),
            [entry(Some("h"), None, Some("a#b"))]
        );
    }

    #[test]
    fn macros_are_skipped_to_the_next_empty_line() {
        let text = "machine a login x password y\n\
                    macdef init\n\
                    machine evil login e password e\n\
                    # a comment does not end it\n\
                    cd /pub\n\
                    \x20\t\r\n\
                    machine b login z password w\n\
                    macdef last\n\
                    bye";
        assert_eq!(
            read(text),
            [
                entry(Some("a"), Some("x"), Some("y")),
                entry(Some("b"), Some("z"), Some("w")),
            ]
        );
        // An empty macro, and the lines counted past one.
        let text = "macdef m\n\nmachine h\n\nmacdef n\nbody\n\nlogin x";
        let e = refused(text.as_bytes());
        assert_eq!(e.line, 8, "{e}");
        assert!(e.what.contains("login before any"), "{e}");
        assert_eq!(
            read("macdef m\n\nmachine h"),
            [entry(Some("h"), None, None)]
        );
    }

    #[test]
    fn an_empty_file_or_one_of_comments_has_no_entries() {
        assert!(read("").is_empty());
        assert!(read("\n\n  \t\r\n# only this\n").is_empty());
    }

    #[test]
    fn each_mistake_is_told_with_its_line() {
        for (text, line, what) in [
            (
                &b"machine h login a\nmachine"[..],
                2,
                "machine at the end of the file, without a host name",
            ),
            (
                b"machine h\nlogin",
                2,
                "login at the end of the file, without a value",
            ),
            (
                b"\n\nmachine h password",
                3,
                "password at the end of the file",
            ),
            (b"default account", 1, "account at the end"),
            (
                b"login a password b\nmachine h",
                1,
                "login before any machine or default",
            ),
            (
                b"machine h\n\nmacdef m\n\npassword p",
                5,
                "password before any",
            ),
            (
                b"machine h login a\npasword s3cret",
                2,
                "a word where a keyword belongs",
            ),
            (
                b"machine h\n\"login\" a",
                2,
                "a word where a keyword belongs",
            ),
            (
                b"machine h\npassword \"open\nlogin a\"",
                2,
                "a quote not closed on its line",
            ),
            (
                b"machine h password \"ends with a backslash\\\n\"",
                1,
                "a quote not closed",
            ),
            (b"machine h password \"", 1, "a quote not closed"),
            (b"machine h\nlogin a\npass\0word b", 3, "a NUL byte"),
            (b"machine h\n\nlogin \xff\xfe", 3, "not UTF-8"),
        ] {
            let e = refused(text);
            assert_eq!(e.line, line, "{e} for {:?}", String::from_utf8_lossy(text));
            assert!(e.what.contains(what), "{e} for {text:?}");
        }
    }

    #[test]
    fn tokens_are_bounded_as_in_curl() {
        let longest = "p".repeat(MAX_TOKEN);
        let read_back = read(&format!("machine h password {longest}"));
        assert_eq!(read_back[0].password.as_deref(), Some(longest.as_str()));
        let quoted = read(&format!("machine h password \"{longest}\""));
        assert_eq!(quoted[0].password.as_deref(), Some(longest.as_str()));
        for text in [
            format!("machine h\npassword {longest}x"),
            format!("machine h\npassword \"{longest}x\""),
            format!("machine h\n{longest}x"),
        ] {
            let e = refused(text.as_bytes());
            assert_eq!(
                (e.line, e.what.as_str()),
                (2, "a token longer than 4096 bytes")
            );
        }
    }

    #[test]
    fn a_mistake_never_shows_the_text_it_found() {
        for text in [
            "machine h login bob s3cret-pw",
            "machine h \"s3cret-pw\"",
            "machine h password \"s3cret-pw",
        ] {
            let e = refused(text.as_bytes());
            assert!(!e.to_string().contains("s3cret"), "{e}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Any bytes at all: entries or a mistake on a line the text has, never a panic.
        #[test]
        fn any_bytes_read_or_refused_on_a_line_they_have(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
        ) {
            let lines = 1 + bytes.iter().filter(|b| **b == b'\n').count();
            match parse(&bytes) {
                Ok(entries) => {
                    for entry in entries {
                        proptest::prop_assert!((1..=lines).contains(&entry.line));
                    }
                }
                Err(e) => proptest::prop_assert!((1..=lines).contains(&e.line), "{}", e),
            }
        }

        /// Text made of the grammar's own pieces, mistakes included, the same.
        #[test]
        fn netrc_like_text_read_or_refused_on_a_line_it_has(
            pieces in proptest::collection::vec(
                "machine|default|login|password|account|macdef|user|#|# c|\"|\"a\\\\\"b\"|\\\\|\
                 h|[a-z]{1,5}|\n|\r\n|\n\n| |\t|\"[^\"\n]{0,6}\"",
                0..60,
            ),
        ) {
            let text = pieces.join(" ");
            let lines = 1 + text.matches('\n').count();
            match parse(text.as_bytes()) {
                Ok(entries) => {
                    for entry in entries {
                        proptest::prop_assert!((1..=lines).contains(&entry.line));
                    }
                }
                Err(e) => proptest::prop_assert!((1..=lines).contains(&e.line), "{}", e),
            }
        }
    }
}
