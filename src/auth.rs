//! Credentials, as httplib2's `add_credentials`, answering 401 challenges with Basic or
//! Digest (RFC 7617, RFC 7616), and reused pre-emptively once accepted.
//!
//! The state is shared by every worker of an `Http` behind one mutex: Digest's nonce
//! count must grow by one for each request, whichever worker sends it.

use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use isahc::http::{HeaderValue, Method};
use md5::Md5;
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::challenge::{Challenge, parse_params};
use crate::redirect::same_origin;

/// One credential as added.
#[derive(Clone)]
struct Credential {
    name: String,
    password: String,
    /// Lower-cased `host` or `host:port`; empty for "the origin the caller asked for".
    domain: String,
}

/// A credential accepted by a server, kept to be sent up front next time.
struct Accepted {
    /// scheme://host:port the server is at.
    origin: String,
    /// Requests whose path starts with this are in its scope.
    path_prefix: String,
    credential: Credential,
    scheme: Scheme,
}

#[derive(Clone)]
enum Scheme {
    Basic,
    Digest(DigestState),
}

#[derive(Clone)]
struct DigestState {
    realm: String,
    nonce: String,
    opaque: Option<String>,
    algorithm: Algorithm,
    /// `qop=auth`; false for an RFC 2069 challenge without qop.
    qop_auth: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    fn parse(name: Option<&str>) -> Option<Self> {
        match name.map(str::to_ascii_uppercase).as_deref() {
            None | Some("MD5") => Some(Algorithm::Md5),
            Some("MD5-SESS") => Some(Algorithm::Md5Sess),
            Some("SHA-256") => Some(Algorithm::Sha256),
            Some("SHA-256-SESS") => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn hash(self, text: &str) -> String {
        let bytes: Vec<u8> = match self {
            Algorithm::Md5 | Algorithm::Md5Sess => Md5::digest(text.as_bytes()).to_vec(),
            Algorithm::Sha256 | Algorithm::Sha256Sess => Sha256::digest(text.as_bytes()).to_vec(),
        };
        hex(&bytes)
    }

    fn sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }
}

/// A way to answer a challenge that has not been tried yet for this request.
#[derive(Clone)]
pub(crate) struct Attempt {
    credential: Credential,
    scheme: Scheme,
}

/// An `Http`'s credentials and the authorizations servers accepted.
#[derive(Default)]
pub(crate) struct Credentials {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    credentials: Vec<Credential>,
    accepted: Vec<Accepted>,
    /// Requests sent with each recent nonce, whichever attempt or worker sent them.
    nonce_counts: Vec<(String, u32)>,
}

/// Nonces whose counts are kept; an older one would be answered `stale` anyway.
const NONCES_KEPT: usize = 64;

impl State {
    /// The next nonce count for `nonce`: one more than any request sent with it.
    fn next_nc(&mut self, nonce: &str) -> u32 {
        if let Some((_, n)) = self.nonce_counts.iter_mut().find(|(k, _)| k == nonce) {
            *n += 1;
            return *n;
        }
        if self.nonce_counts.len() >= NONCES_KEPT {
            self.nonce_counts.remove(0);
        }
        self.nonce_counts.push((nonce.to_owned(), 1));
        1
    }
}

impl Credentials {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn add(&self, name: &str, password: &str, domain: &str) {
        self.lock().credentials.push(Credential {
            name: name.to_owned(),
            password: password.to_owned(),
            domain: domain.trim().to_ascii_lowercase(),
        });
    }

    pub(crate) fn clear(&self) {
        let mut state = self.lock();
        state.credentials.clear();
        state.accepted.clear();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lock().credentials.is_empty()
    }

    /// The `Authorization` for a request to `url`, from a credential accepted earlier for
    /// its origin and a prefix of its path (the deepest prefix wins).
    pub(crate) fn preemptive(
        &self,
        method: &Method,
        url: &Url,
        asked_for: &Url,
    ) -> Option<HeaderValue> {
        let mut state = self.lock();
        let origin = origin_of(url);
        let best = state
            .accepted
            .iter()
            .filter(|a| a.origin == origin && url.path().starts_with(&a.path_prefix))
            .filter(|a| applies(&a.credential, url, asked_for))
            .max_by_key(|a| a.path_prefix.len())?;
        let (credential, scheme) = (best.credential.clone(), best.scheme.clone());
        authorization(&mut state, &credential, &scheme, method, url)
    }

    /// The next way to answer `challenges` for a request to `url`: credentials in the order
    /// added, Digest before Basic, skipping those in `tried`.
    pub(crate) fn next_attempt(
        &self,
        challenges: &[Challenge],
        url: &Url,
        asked_for: &Url,
        tried: &mut Vec<(String, &'static str)>,
    ) -> Option<Attempt> {
        let state = self.lock();
        for credential in state
            .credentials
            .iter()
            .filter(|c| applies(c, url, asked_for))
        {
            for challenge in challenges {
                let scheme = match challenge.scheme.as_str() {
                    "digest" => digest_state(challenge).map(Scheme::Digest),
                    "basic" => Some(Scheme::Basic),
                    _ => None,
                };
                let Some(scheme) = scheme else { continue };
                let key = (credential.name.clone(), scheme_name(&scheme));
                if tried.contains(&key) {
                    continue;
                }
                tried.push(key);
                return Some(Attempt {
                    credential: credential.clone(),
                    scheme,
                });
            }
        }
        None
    }

    /// The `Authorization` header for an attempt.
    pub(crate) fn header(
        &self,
        attempt: &Attempt,
        method: &Method,
        url: &Url,
    ) -> Option<HeaderValue> {
        authorization(
            &mut self.lock(),
            &attempt.credential,
            &attempt.scheme,
            method,
            url,
        )
    }

    /// A 401 that says the nonce went stale: takes the new nonce; false if it is not that.
    pub(crate) fn refresh_stale(attempt: &mut Attempt, challenges: &[Challenge]) -> bool {
        let Scheme::Digest(state) = &mut attempt.scheme else {
            return false;
        };
        let fresh = challenges
            .iter()
            .filter(|c| c.scheme == "digest")
            .filter(|c| {
                c.param("stale")
                    .is_some_and(|s| s.eq_ignore_ascii_case("true"))
            })
            .find_map(digest_state);
        match fresh {
            Some(fresh) => {
                *state = fresh;
                true
            }
            None => false,
        }
    }

    /// The server accepted `attempt` for `url`: remember it, and any `nextnonce` it gave.
    pub(crate) fn accept(
        &self,
        mut attempt: Attempt,
        url: &Url,
        authentication_info: Option<&str>,
    ) {
        if let (Scheme::Digest(state), Some(info)) = (&mut attempt.scheme, authentication_info) {
            adopt_next_nonce(state, info);
        }
        let path = url.path();
        let path_prefix = path[..path.rfind('/').map_or(0, |i| i + 1)].to_owned();
        let origin = origin_of(url);
        let mut state = self.lock();
        state
            .accepted
            .retain(|a| !(a.origin == origin && a.path_prefix == path_prefix));
        state.accepted.push(Accepted {
            origin,
            path_prefix,
            credential: attempt.credential,
            scheme: attempt.scheme,
        });
    }

    /// A response to a pre-emptive Digest request may carry a `nextnonce`.
    pub(crate) fn next_nonce(&self, url: &Url, authentication_info: &str) {
        let origin = origin_of(url);
        let mut state = self.lock();
        for accepted in state.accepted.iter_mut().filter(|a| a.origin == origin) {
            if let Scheme::Digest(digest) = &mut accepted.scheme {
                adopt_next_nonce(digest, authentication_info);
            }
        }
    }
}

fn adopt_next_nonce(state: &mut DigestState, info: &str) {
    if let Some((_, next)) = parse_params(info)
        .into_iter()
        .find(|(k, _)| k == "nextnonce")
    {
        state.nonce = next;
    }
}

/// Whether a credential may be sent to `url`: its own domain, or, with no domain, only the
/// origin of the URL the caller asked for (never a host a redirect led to).
fn applies(credential: &Credential, url: &Url, asked_for: &Url) -> bool {
    if credential.domain.is_empty() {
        return same_origin(url, asked_for);
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let with_port = url
        .port_or_known_default()
        .map(|p| format!("{host}:{p}"))
        .unwrap_or_default();
    credential.domain == host || credential.domain == with_port
}

fn origin_of(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

fn scheme_name(scheme: &Scheme) -> &'static str {
    match scheme {
        Scheme::Basic => "basic",
        Scheme::Digest(_) => "digest",
    }
}

/// A Digest challenge we can answer: a known algorithm, and `qop=auth` when a qop is given.
fn digest_state(challenge: &Challenge) -> Option<DigestState> {
    let algorithm = Algorithm::parse(challenge.param("algorithm"))?;
    let qop_auth = match challenge.param("qop") {
        None => false,
        Some(qops) => {
            if !qops
                .split(',')
                .any(|q| q.trim().eq_ignore_ascii_case("auth"))
            {
                return None; // auth-int only: the body would have to be hashed
            }
            true
        }
    };
    Some(DigestState {
        realm: challenge.param("realm")?.to_owned(),
        nonce: challenge.param("nonce")?.to_owned(),
        opaque: challenge.param("opaque").map(str::to_owned),
        algorithm,
        qop_auth,
    })
}

fn authorization(
    state: &mut State,
    credential: &Credential,
    scheme: &Scheme,
    method: &Method,
    url: &Url,
) -> Option<HeaderValue> {
    let value = match scheme {
        Scheme::Basic => {
            let pair = format!("{}:{}", credential.name, credential.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        }
        Scheme::Digest(digest) => {
            let nc = state.next_nc(&digest.nonce);
            digest_response(credential, digest, nc, method, url)
        }
    };
    let mut value = HeaderValue::from_str(&value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

fn digest_response(
    credential: &Credential,
    state: &DigestState,
    nc: u32,
    method: &Method,
    url: &Url,
) -> String {
    let uri = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let h = |text: &str| state.algorithm.hash(text);
    let cnonce = cnonce();
    let nc = format!("{nc:08x}");
    let mut ha1 = h(&format!(
        "{}:{}:{}",
        credential.name, state.realm, credential.password
    ));
    if state.algorithm.sess() {
        ha1 = h(&format!("{ha1}:{}:{cnonce}", state.nonce));
    }
    let ha2 = h(&format!("{method}:{uri}"));
    let response = if state.qop_auth {
        h(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", state.nonce))
    } else {
        h(&format!("{ha1}:{}:{ha2}", state.nonce))
    };
    let mut header = format!(
        r#"Digest username="{}", realm="{}", nonce="{}", uri="{uri}", algorithm={}, response="{response}""#,
        quote(&credential.name),
        quote(&state.realm),
        quote(&state.nonce),
        state.algorithm.name()
    );
    if state.qop_auth {
        let _ = write!(header, r#", qop=auth, nc={nc}, cnonce="{cnonce}""#);
    }
    if let Some(opaque) = &state.opaque {
        let _ = write!(header, r#", opaque="{}""#, quote(opaque));
    }
    header
}

fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// 16 random bytes as hex; the nonce count makes each request's hash unique besides.
fn cnonce() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: the time still varies the value.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, b| {
            let _ = write!(text, "{b:02x}");
            text
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenge::parse_challenges;

    /// RFC 7616 §3.9.1's example, SHA-256 and MD5, with its cnonce.
    #[test]
    fn rfc7616_example_responses() {
        let credential = Credential {
            name: "Mufasa".to_owned(),
            password: "Circle of Life".to_owned(),
            domain: String::new(),
        };
        let challenge = &parse_challenges(
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        )[0];
        let mut state = digest_state(challenge).unwrap();
        let h = |s: &str| state.algorithm.hash(s);
        let ha1 = h("Mufasa:http-auth@example.org:Circle of Life");
        let ha2 = h("GET:/dir/index.html");
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let response = h(&format!(
            "{ha1}:{}:00000001:{cnonce}:auth:{ha2}",
            state.nonce
        ));
        assert_eq!(
            response,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        state.algorithm = Algorithm::Md5;
        let h = |s: &str| state.algorithm.hash(s);
        let ha1 = h("Mufasa:http-auth@example.org:Circle of Life");
        let ha2 = h("GET:/dir/index.html");
        let response = h(&format!(
            "{ha1}:{}:00000001:{cnonce}:auth:{ha2}",
            state.nonce
        ));
        assert_eq!(response, "8ca523f5e9506fed4657c9700eebdbec");
        let url = Url::parse("http://www.example.org/dir/index.html").unwrap();
        let header = digest_response(&credential, &state, 1, &Method::GET, &url);
        assert!(header.starts_with(r#"Digest username="Mufasa", realm="http-auth@example.org""#));
        assert!(header.contains(r#"uri="/dir/index.html""#));
        assert!(header.contains(", qop=auth, nc=00000001, cnonce=\""));
        assert!(header.ends_with(r#"opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#));
    }

    #[test]
    fn unsupported_digest_options_are_skipped() {
        let only_int = &parse_challenges(r#"Digest realm="r", nonce="n", qop="auth-int""#)[0];
        assert!(digest_state(only_int).is_none());
        let unknown = &parse_challenges(r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#)[0];
        assert!(digest_state(unknown).is_none());
    }

    #[test]
    fn empty_domain_means_the_origin_asked_for() {
        let c = Credential {
            name: "a".to_owned(),
            password: "b".to_owned(),
            domain: String::new(),
        };
        let asked = Url::parse("http://a.example/").unwrap();
        assert!(applies(
            &c,
            &Url::parse("http://a.example:80/x").unwrap(),
            &asked
        ));
        assert!(!applies(
            &c,
            &Url::parse("http://b.example/").unwrap(),
            &asked
        ));
        assert!(!applies(
            &c,
            &Url::parse("https://a.example/").unwrap(),
            &asked
        ));
        let scoped = Credential {
            domain: "b.example:8080".to_owned(),
            ..c
        };
        assert!(applies(
            &scoped,
            &Url::parse("http://b.example:8080/").unwrap(),
            &asked
        ));
        assert!(!applies(
            &scoped,
            &Url::parse("http://b.example/").unwrap(),
            &asked
        ));
    }

    #[test]
    fn nonce_counts_are_shared_and_bounded() {
        let mut state = State::default();
        assert_eq!(
            (state.next_nc("a"), state.next_nc("a"), state.next_nc("b")),
            (1, 2, 1)
        );
        for i in 0..NONCES_KEPT {
            state.next_nc(&i.to_string());
        }
        assert_eq!(state.nonce_counts.len(), NONCES_KEPT);
        assert_eq!(
            state.next_nc("a"),
            1,
            "forgotten once older than the last 64"
        );
    }

    #[test]
    fn nextnonce_is_adopted_with_a_fresh_count() {
        let credentials = Credentials::default();
        credentials.add("alice", "pw", "");
        let url = Url::parse("http://h/dir/page").unwrap();
        let challenge = parse_challenges(r#"Digest realm="r", nonce="first", qop="auth""#);
        let mut tried = Vec::new();
        let attempt = credentials
            .next_attempt(&challenge, &url, &url, &mut tried)
            .unwrap();
        let sent = credentials.header(&attempt, &Method::GET, &url).unwrap();
        assert!(sent.to_str().unwrap().contains(r#"nonce="first""#));
        credentials.accept(attempt, &url, Some(r#"nextnonce="second", qop=auth"#));
        let next = credentials.preemptive(&Method::GET, &url, &url).unwrap();
        let next = next.to_str().unwrap();
        assert!(
            next.contains(r#"nonce="second""#) && next.contains("nc=00000001"),
            "{next}"
        );
        let again = credentials.preemptive(&Method::GET, &url, &url).unwrap();
        assert!(again.to_str().unwrap().contains("nc=00000002"));
    }

    #[test]
    fn basic_header() {
        let c = Credential {
            name: "alice".to_owned(),
            password: "s3cret".to_owned(),
            domain: String::new(),
        };
        let url = Url::parse("http://h/").unwrap();
        let mut state = State::default();
        let value = authorization(&mut state, &c, &Scheme::Basic, &Method::GET, &url).unwrap();
        assert_eq!(value, "Basic YWxpY2U6czNjcmV0");
        assert!(value.is_sensitive());
    }
}
