//! The cookie jar: cookies an [`Http`](crate::Http) keeps between requests when it has one
//! (httplib2 has none, and none is kept by default). The rules of RFC 6265 are
//! `cookie_store`'s; this file only shares the store, keeps out the cookies a `Cookie`
//! header could not carry, and turns the others into headers.
//!
//! The store sits behind a mutex that is held to read or to store, never across I/O: a
//! `Cookie` header is made and a response's cookies are stored with the lock taken once
//! each, and saving copies the cookies out before anything is written.

use std::fmt;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use cookie_store::{Cookie, CookieError, CookieStore};
use isahc::http::HeaderValue;
use url::Url;

use crate::sendable;
use crate::{Error, logs, sync};

/// Cookies kept between requests, as a browser keeps them: what servers set with
/// `Set-Cookie` is sent back with `Cookie` to the URLs the cookie's rules allow.
///
/// Give one to a client with [`HttpBuilder::cookie_jar`](crate::HttpBuilder::cookie_jar),
/// or let [`HttpBuilder::cookies`](crate::HttpBuilder::cookies) make one. Clones share
/// their cookies: keep a clone to look at the jar or save it while the client uses it, or
/// give clones to several clients to share a login. Every clone of an `Http`, and all its
/// drivers and workers, use its one jar.
///
/// The rules are RFC 6265's, as `cookie_store` applies them:
///
/// - a cookie without `Domain` goes back to the host that set it only; with `Domain`, to
///   that domain and its subdomains, which the host that set it must belong to;
/// - a cookie goes to its `Path` and the paths below it (by default, the directory of the
///   URL that set it);
/// - a `Secure` cookie goes only over https, to loopback hosts too (browsers, and
///   `cookie_store` on its own, take `http://localhost` and `http://127.0.0.1` for secure;
///   a loopback port may be any local program's);
/// - `HttpOnly` cookies are kept and sent, since every request here is HTTP;
/// - `Max-Age` (over `Expires`) ends a cookie; `Max-Age=0`, or an `Expires` in the past,
///   deletes it; a cookie with neither is a session cookie, kept as long as the jar is;
/// - `SameSite` is ignored, as a client that is not a browser ignores it;
/// - a `Domain` that is a public suffix (`com`, `co.uk`) is refused only when the jar has a
///   public suffix list ([`public_suffixes`](Self::public_suffixes)): without one, such a
///   cookie is accepted, as reqwest's and ureq's jars accept it.
///
/// A cookie whose name or value holds a character a `Cookie` header cannot carry is never
/// kept: a control character (CR, LF, NUL, DEL and the rest, a tab excepted), for which
/// RFC 6265bis has a user agent ignore the whole `Set-Cookie`, or a character outside
/// ASCII, which the transport cannot send. [`add`](Self::add) refuses it,
/// [`load_json`](Self::load_json) skips it with a warning, and a server's `Set-Cookie`
/// holding one is ignored (logged at debug level); the other cookies are kept and sent as
/// ever. RFC 6265's stricter cookie-octets (no space, `"`, `,` or `\`) are what a server
/// should send; a user agent takes more (§5.2), and those go back as they came.
///
/// As RFC 6265 says, cookies do not tell ports apart: a cookie of `127.0.0.1:8080` goes to
/// `127.0.0.1:9090` too. Nor do they tell schemes apart, except for `Secure`.
///
/// # Examples
///
/// ```
/// use asynchttp::CookieJar;
///
/// let jar = CookieJar::new();
/// jar.add("http://127.0.0.1/login", "session=abc; Path=/; HttpOnly")?;
/// assert_eq!(jar.cookies_for("http://127.0.0.1/account"), [("session".to_owned(), "abc".to_owned())]);
///
/// let mut saved = Vec::new();
/// jar.save_json(&mut saved)?;
/// let restored = CookieJar::load_json(saved.as_slice())?;
/// assert_eq!(restored.len(), 1);
/// # Ok::<(), asynchttp::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct CookieJar {
    store: Arc<Mutex<CookieStore>>,
}

impl CookieJar {
    /// An empty jar, without a public suffix list.
    ///
    /// ```
    /// assert!(asynchttp::CookieJar::new().is_empty());
    /// ```
    pub fn new() -> Self {
        CookieJar::default()
    }

    /// Refuses cookies whose `Domain` is a public suffix of this list (RFC 6265 §5.3, step
    /// 5), such as `Domain=co.uk` set by `shop.co.uk`, which would otherwise go to every
    /// `.co.uk` site. `list` is the text of the list as <https://publicsuffix.org/list/>
    /// publishes it, its `===BEGIN ICANN DOMAINS===` and `===BEGIN PRIVATE DOMAINS===`
    /// markers included. The list applies to every clone of the jar, from now on; cookies
    /// already in it stay.
    ///
    /// # Errors
    ///
    /// [`Error::CookieJar`] if the list does not parse or has no rule.
    ///
    /// # Examples
    ///
    /// ```
    /// use asynchttp::CookieJar;
    ///
    /// let list = "// ===BEGIN ICANN DOMAINS===\nuk\nco.uk\n// ===END ICANN DOMAINS===\n";
    /// let jar = CookieJar::new().public_suffixes(list)?;
    /// assert!(jar.add("http://shop.co.uk/", "id=1; Domain=co.uk").is_err());
    /// jar.add("http://shop.co.uk/", "id=1; Domain=shop.co.uk")?;
    /// assert_eq!(jar.cookies_for("http://other.co.uk/"), []);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn public_suffixes(self, list: &str) -> Result<Self, Error> {
        let list: publicsuffix::List = list.parse().map_err(|e: publicsuffix::Error| {
            Error::cookie_jar("the public suffix list does not parse", Some(e.into()))
        })?;
        {
            let mut store = sync::lock(&self.store);
            let cookies = std::mem::take(&mut *store);
            *store = cookies.with_suffix_list(list);
        }
        Ok(self)
    }

    /// A jar with the cookies [`save_json`](Self::save_json) wrote, less those that have
    /// expired since. It has no public suffix list.
    ///
    /// The reader is read to its end before the jar is made. A cookie whose name or value
    /// a `Cookie` header cannot carry (a saved jar edited by hand: see
    /// [`CookieJar`]) is skipped, with a warning in the log, and the others are loaded.
    ///
    /// # Errors
    ///
    /// [`Error::CookieJar`] if the reader fails, or its text is not a saved jar.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::fs::File;
    /// use asynchttp::{CookieJar, Http};
    ///
    /// let jar = match File::open("cookies.json") {
    ///     Ok(file) => CookieJar::load_json(file)?,
    ///     Err(_) => CookieJar::new(),
    /// };
    /// let http = Http::builder().cookie_jar(jar).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn load_json(mut reader: impl Read) -> Result<Self, Error> {
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|e| Error::cookie_jar("could not read the saved jar", Some(e.into())))?;
        let cookies: Vec<Cookie<'static>> = serde_json::from_str(&text)
            .map_err(|e| Error::cookie_jar("the saved jar is not valid", Some(e.into())))?;
        let (cookies, unsendable): (Vec<_>, Vec<_>) = cookies.into_iter().partition(carried);
        for cookie in &unsendable {
            logs::warning!(
                "cookie jar: a saved cookie of {:?} is skipped: {UNSENDABLE}",
                String::from(&cookie.domain)
            );
        }
        let store = CookieStore::from_cookies(cookies.into_iter().map(Ok::<_, CookieError>), false)
            .map_err(|e| Error::cookie_jar("the saved jar is not valid", Some(e.into())))?;
        Ok(CookieJar {
            store: Arc::new(Mutex::new(store)),
        })
    }

    /// Writes every cookie that has not expired, as JSON: an array of cookies in the form
    /// of `cookie_store`'s `serde::json` module, which [`load_json`](Self::load_json)
    /// reads back.
    ///
    /// Session cookies (those set without `Expires` or `Max-Age`) are saved too, so that a
    /// login survives a restart of the program; a browser would drop them when it closes.
    /// The file holds every cookie's value, session tokens included: keep it where only
    /// its user can read it.
    ///
    /// The cookies are copied out of the jar first, and written with no lock held, so
    /// requests using the jar never wait for the writer.
    ///
    /// # Errors
    ///
    /// [`Error::CookieJar`] if the writer fails.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::fs::File;
    /// use asynchttp::Http;
    ///
    /// let http = Http::builder().cookies(true).build()?;
    /// let (response, _) = http.post("http://127.0.0.1:8080/login", "user=alice&password=s3cret");
    /// println!("{}", response.status);
    /// if let Some(jar) = http.cookie_jar() {
    ///     jar.save_json(File::create("cookies.json")?)?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_json(&self, mut writer: impl Write) -> Result<(), Error> {
        let cookies: Vec<Cookie<'static>> =
            sync::lock(&self.store).iter_unexpired().cloned().collect();
        serde_json::to_writer_pretty(&mut writer, &cookies)
            .map_err(|e| Error::cookie_jar("could not save the jar", Some(e.into())))?;
        writeln!(writer)
            .and_then(|()| writer.flush())
            .map_err(|e| Error::cookie_jar("could not save the jar", Some(e.into())))
    }

    /// Stores a cookie as if `url` had answered with this `Set-Cookie` line: a cookie
    /// obtained elsewhere, or one to set up a test. Its rules apply as to any other: a
    /// `Max-Age=0` deletes the cookie it names.
    ///
    /// # Errors
    ///
    /// [`Error::CookieJar`] if `url` is not an absolute http or https URL, the line is not a
    /// cookie that `url` may set (a `Domain` it does not belong to, a public suffix), or
    /// its name or value holds a character a `Cookie` header cannot carry: a control
    /// character (CR, LF, NUL, DEL...; a tab is fine) or one outside ASCII. Nothing is
    /// stored then, and the cookies already in the jar stay.
    ///
    /// # Examples
    ///
    /// ```
    /// let jar = asynchttp::CookieJar::new();
    /// jar.add("https://api.example.com/", "token=t0k3n; Secure")?;
    /// assert_eq!(jar.cookies_for("https://api.example.com/v1").len(), 1);
    /// assert!(jar.cookies_for("http://api.example.com/v1").is_empty()); // Secure
    /// assert!(jar.add("https://api.example.com/", "token=x; Domain=other.com").is_err());
    /// assert!(jar.add("https://api.example.com/", "e=5\r\nX-Injected: 1").is_err());
    /// assert_eq!(jar.len(), 1);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn add(&self, url: &str, set_cookie: &str) -> Result<(), Error> {
        let url = http_url(url)?;
        let refused = |e: CookieError| Error::cookie_jar("the cookie is refused", Some(e.into()));
        let cookie = Cookie::parse(set_cookie.to_owned(), &url).map_err(refused)?;
        if !carried(&cookie) {
            return Err(Error::cookie_jar(
                format!("the cookie is refused: {UNSENDABLE}"),
                None,
            ));
        }
        match sync::lock(&self.store).insert(cookie, &url) {
            // An expired cookie with nothing of its name to delete: nothing to keep.
            Ok(_) | Err(CookieError::Expired) => Ok(()),
            Err(e) => Err(refused(e)),
        }
    }

    /// The `(name, value)` pairs a request to `url` would send now, in the order they would
    /// go: longer paths first, then by name. An address that does not parse has none.
    ///
    /// ```
    /// let jar = asynchttp::CookieJar::new();
    /// jar.add("http://127.0.0.1/a/page", "inner=1; Path=/a")?;
    /// jar.add("http://127.0.0.1/", "outer=2; Path=/")?;
    /// let sent: Vec<_> = jar.cookies_for("http://127.0.0.1/a/b").into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(sent, ["inner", "outer"]);
    /// assert_eq!(jar.cookies_for("http://127.0.0.1/b").len(), 1);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn cookies_for(&self, url: &str) -> Vec<(String, String)> {
        match Url::parse(url) {
            Ok(url) => self.pairs_for(&url),
            Err(_) => Vec::new(),
        }
    }

    /// Forgets every cookie, in every clone (a logout for all the clients that share it).
    ///
    /// ```
    /// let jar = asynchttp::CookieJar::new();
    /// jar.add("http://127.0.0.1/", "a=1")?;
    /// jar.clear();
    /// assert!(jar.is_empty());
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn clear(&self) {
        sync::lock(&self.store).clear();
    }

    /// The number of cookies kept that have not expired.
    ///
    /// ```
    /// let jar = asynchttp::CookieJar::new();
    /// jar.add("http://127.0.0.1/", "a=1")?;
    /// jar.add("http://127.0.0.1/", "b=2; Max-Age=3600")?;
    /// jar.add("http://127.0.0.1/", "a=gone; Max-Age=0")?;
    /// assert_eq!(jar.len(), 1);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        sync::lock(&self.store).iter_unexpired().count()
    }

    /// True if no cookie is kept that has not expired.
    ///
    /// ```
    /// assert!(asynchttp::CookieJar::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `Cookie` header for a request to `url`, if the jar has cookies for it.
    pub(crate) fn header_for(&self, url: &Url) -> Option<HeaderValue> {
        let mut line = String::new();
        for (name, value) in self.pairs_for(url) {
            // None such is let in; should one be there all the same, it alone is left out,
            // never the header and the session cookie beside it.
            if !(sendable::text(&name) && sendable::text(&value)) {
                logs::warning!(
                    "cookie jar: a cookie for {} is not sent: {UNSENDABLE}",
                    url.host_str().unwrap_or_default()
                );
                continue;
            }
            if !line.is_empty() {
                line.push_str("; ");
            }
            line.push_str(&name);
            line.push('=');
            line.push_str(&value);
        }
        if line.is_empty() {
            return None;
        }
        sendable::value(&line)
    }

    /// Stores the cookies of a response's `Set-Cookie` lines, received from `url`. Lines
    /// that are not cookies, or cookies `url` may not set, are dropped, as a browser drops
    /// them; so are cookies a `Cookie` header could not carry back.
    pub(crate) fn store<'a>(&self, lines: impl Iterator<Item = &'a str>, url: &Url) {
        let cookies: Vec<Cookie<'static>> = lines
            .filter_map(|line| Cookie::parse(line.to_owned(), url).ok())
            .filter(|cookie| {
                let kept = carried(cookie);
                if !kept {
                    logs::debug!(
                        "cookie jar: a cookie set by {} is ignored: {UNSENDABLE}",
                        url.host_str().unwrap_or_default()
                    );
                }
                kept
            })
            .collect();
        if cookies.is_empty() {
            return;
        }
        let mut store = sync::lock(&self.store);
        for cookie in cookies {
            let _ = store.insert(cookie, url);
        }
    }

    fn pairs_for(&self, url: &Url) -> Vec<(String, String)> {
        let https = url.scheme() == "https";
        let mut pairs: Vec<(usize, String, String)> = sync::lock(&self.store)
            .matches(url)
            .into_iter()
            .filter(|c| https || c.secure() != Some(true))
            .map(|c| {
                let path: &str = &c.path;
                (path.len(), c.name().to_owned(), c.value().to_owned())
            })
            .collect();
        // RFC 6265 §5.4: longer paths first; the name after that, so the order is stable.
        pairs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        pairs
            .into_iter()
            .map(|(_, name, value)| (name, value))
            .collect()
    }
}

/// Shows how many cookies the jar holds; never their names or values.
impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieJar")
            .field("cookies", &self.len())
            .finish()
    }
}

/// An absolute http or https URL, for [`CookieJar::add`].
fn http_url(url: &str) -> Result<Url, Error> {
    let parsed = Url::parse(url)
        .map_err(|e| Error::cookie_jar(format!("{url:?} is not a URL"), Some(e.into())))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::cookie_jar(
            format!("{url:?} is not an http or https URL"),
            None,
        ));
    }
    Ok(parsed)
}

/// Why a cookie is not kept, in [`carried`]'s words.
const UNSENDABLE: &str = "its name or value holds a control character or one outside ASCII, \
                          which a Cookie header cannot carry";

/// Whether a `Cookie` header can carry the cookie's name and value back (see
/// [`CookieJar`]): checked wherever a cookie comes in, so that one cookie never costs the
/// others their header.
fn carried(cookie: &Cookie<'_>) -> bool {
    sendable::text(cookie.name()) && sendable::text(cookie.value())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn header(jar: &CookieJar, s: &str) -> Option<String> {
        jar.header_for(&url(s))
            .map(|v| String::from_utf8(v.as_bytes().to_vec()).unwrap())
    }

    #[test]
    fn set_cookie_lines_are_stored_and_sent_by_their_rules() {
        let jar = CookieJar::new();
        let lines = [
            "session=s1; Path=/; HttpOnly",
            "deep=d; Path=/a/b",
            "secure=x; Secure",
            "broken",
            "other=o; Domain=elsewhere.test",
        ];
        jar.store(lines.into_iter(), &url("http://h.test/a/b/login"));
        assert_eq!(jar.len(), 3);
        assert_eq!(
            header(&jar, "http://h.test/a/b/c").as_deref(),
            Some("deep=d; session=s1")
        );
        assert_eq!(
            header(&jar, "http://h.test/").as_deref(),
            Some("session=s1")
        );
        assert_eq!(
            header(&jar, "https://h.test/a/b/x").as_deref(),
            Some("deep=d; secure=x; session=s1")
        );
        assert_eq!(header(&jar, "http://sub.h.test/"), None, "host-only");
        assert_eq!(header(&jar, "http://elsewhere.test/"), None);
    }

    #[test]
    fn secure_cookies_go_over_https_only_loopback_included() {
        let jar = CookieJar::new();
        for host in ["localhost", "127.0.0.1", "[::1]"] {
            jar.add(&format!("https://{host}:8443/"), "s=1; Secure")
                .unwrap();
            assert_eq!(
                header(&jar, &format!("https://{host}:8443/")).as_deref(),
                Some("s=1")
            );
            assert_eq!(
                header(&jar, &format!("http://{host}:8080/")),
                None,
                "{host}"
            );
        }
    }

    #[test]
    fn domain_cookies_reach_subdomains_and_max_age_zero_deletes() {
        let jar = CookieJar::new();
        jar.add("http://www.h.test/", "wide=1; Domain=h.test; Path=/")
            .unwrap();
        assert_eq!(
            header(&jar, "http://api.h.test/x").as_deref(),
            Some("wide=1")
        );
        assert_eq!(header(&jar, "http://h.test/").as_deref(), Some("wide=1"));
        assert_eq!(header(&jar, "http://noth.test/"), None);
        jar.add(
            "http://api.h.test/",
            "wide=; Domain=h.test; Path=/; Max-Age=0",
        )
        .unwrap();
        assert!(jar.is_empty());
        assert_eq!(header(&jar, "http://www.h.test/"), None);
    }

    /// Set-Cookie values that a `Cookie` header cannot carry, each with a control character
    /// or one outside ASCII, in its value or its name.
    const UNCARRIED: [&str; 8] = [
        "e=5\r\nX-Injected: add; Path=/",
        "e=5\nX-Injected: add",
        "e=a\rb",
        "e=a\0b",
        "e=a\x7fb",
        "e=a\x01b",
        "e=caf\u{e9}",
        "e\x01=1",
    ];

    #[test]
    fn a_cookie_a_header_cannot_carry_is_refused_and_the_others_still_go() {
        let jar = CookieJar::new();
        jar.add("http://h.test/", "session=s; Path=/").unwrap();
        for line in UNCARRIED {
            let e = jar.add("http://h.test/", line).unwrap_err();
            assert!(matches!(e, Error::CookieJar { .. }), "{line:?}: {e:?}");
            assert_eq!(
                e.to_string(),
                format!("cookie jar: the cookie is refused: {UNSENDABLE}")
            );
        }
        assert_eq!(jar.len(), 1);
        assert_eq!(header(&jar, "http://h.test/").as_deref(), Some("session=s"));
        // A tab, a space, quotes: a header carries them, and they go back as they came.
        jar.add("http://h.test/", "t=a\tb").unwrap();
        jar.add("http://h.test/", "q=\"a b\"").unwrap();
        let value = jar.header_for(&url("http://h.test/")).unwrap();
        assert_eq!(value.as_bytes(), b"q=\"a b\"; session=s; t=a\tb");
    }

    #[test]
    fn a_servers_cookie_a_header_cannot_carry_is_ignored_and_the_others_kept() {
        let jar = CookieJar::new();
        let lines = std::iter::once("session=s; Path=/").chain(UNCARRIED);
        jar.store(lines, &url("http://h.test/"));
        assert_eq!(jar.len(), 1);
        assert_eq!(header(&jar, "http://h.test/").as_deref(), Some("session=s"));
    }

    #[test]
    fn a_saved_cookie_a_header_cannot_carry_is_skipped_and_the_others_loaded() {
        let jar = CookieJar::new();
        jar.add("http://h.test/", "session=s; Path=/").unwrap();
        jar.add("http://h.test/", "e=5; Path=/").unwrap();
        let mut saved = Vec::new();
        jar.save_json(&mut saved).unwrap();
        let text = String::from_utf8(saved).unwrap();
        // Edited by hand: a JSON string may hold any character, escaped.
        for edit in [r"e=5\r\nX-Injected: add", r"e=5\u0000", r"e=caf\u00e9"] {
            let edited = text.replace("\"e=5", &format!("\"{edit}"));
            assert_ne!(edited, text);
            let back = CookieJar::load_json(edited.as_bytes()).unwrap();
            assert_eq!(back.len(), 1, "{edit}");
            assert_eq!(
                header(&back, "http://h.test/").as_deref(),
                Some("session=s"),
                "{edit}"
            );
        }
    }

    #[test]
    fn a_pair_the_header_cannot_carry_is_left_out_alone() {
        // Past every check, as no cookie comes in: the header still goes, less that pair.
        let jar = CookieJar::new();
        jar.add("http://h.test/", "session=s; Path=/").unwrap();
        let h = url("http://h.test/");
        let bad = Cookie::parse("e=5\r\nX-Injected: add; Path=/", &h).unwrap();
        sync::lock(&jar.store).insert(bad, &h).unwrap();
        assert_eq!(jar.len(), 2);
        assert_eq!(header(&jar, "http://h.test/").as_deref(), Some("session=s"));
    }

    #[test]
    fn saved_jars_load_back_without_expired_cookies() {
        let jar = CookieJar::new();
        jar.add("http://h.test/", "session=s; Path=/").unwrap();
        jar.add("http://h.test/", "kept=k; Max-Age=3600").unwrap();
        jar.add("http://h.test/", "gone=g; Max-Age=3600").unwrap();
        jar.add("http://h.test/", "gone=g; Max-Age=0").unwrap();
        let mut saved = Vec::new();
        jar.save_json(&mut saved).unwrap();
        let text = String::from_utf8(saved.clone()).unwrap();
        assert!(!text.contains("gone"), "{text}");
        let back = CookieJar::load_json(saved.as_slice()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(
            header(&back, "http://h.test/").as_deref(),
            Some("kept=k; session=s")
        );
    }

    #[test]
    fn bad_saved_jars_and_lists_are_typed_errors() {
        for text in ["", "{", "[{\"raw_cookie\": 1}]", "{}"] {
            let e = CookieJar::load_json(text.as_bytes()).unwrap_err();
            assert!(matches!(e, Error::CookieJar { .. }), "{text}: {e:?}");
        }
        let e = CookieJar::new()
            .public_suffixes("nothing here")
            .unwrap_err();
        assert!(
            e.chain()
                .starts_with("cookie jar: the public suffix list does not parse"),
            "{}",
            e.chain()
        );
        assert!(CookieJar::new().add("ftp://h.test/", "a=1").is_err());
        assert!(CookieJar::new().add("not a url", "a=1").is_err());
    }

    #[test]
    fn a_public_suffix_list_refuses_supercookies() {
        let list = "// ===BEGIN ICANN DOMAINS===\ntest\nco.test\n// ===END ICANN DOMAINS===\n";
        let open = CookieJar::new();
        open.add("http://shop.co.test/", "id=1; Domain=co.test")
            .unwrap();
        assert_eq!(open.cookies_for("http://bank.co.test/").len(), 1);
        let guarded = CookieJar::new().public_suffixes(list).unwrap();
        assert!(
            guarded
                .add("http://shop.co.test/", "id=1; Domain=co.test")
                .is_err()
        );
        guarded.add("http://shop.co.test/", "id=1").unwrap();
        assert!(guarded.cookies_for("http://bank.co.test/").is_empty());
        assert_eq!(guarded.cookies_for("http://shop.co.test/").len(), 1);
    }

    #[test]
    fn debug_shows_no_cookie() {
        let jar = CookieJar::new();
        jar.add("http://h.test/", "secret=hunter2").unwrap();
        let shown = format!("{jar:?}");
        assert_eq!(shown, "CookieJar { cookies: 1 }");
    }
}
