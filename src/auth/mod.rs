//! Credentials, as httplib2's `add_credentials`, answering 401 challenges with Basic or
//! Digest (RFC 7617, RFC 7616), and reused pre-emptively once accepted.
//!
//! The state is shared by every worker of an `Http` behind one mutex: Digest's nonce
//! count must grow by one for each request, whichever worker sends it. Requests sent at
//! once with one nonce can still reach the server in another order than their counts, and a
//! server that wants the counts to grow (Apache's `AuthDigestNcCheck`) refuses the late
//! ones. So the requests out with each nonce are tracked: [`Credentials::retry`] tells such
//! a refusal from a verdict on the password, and the answer sent again goes out alone.

use std::fmt::Write as _;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use isahc::http::{HeaderValue, Method};
use md5::Md5;
use sha2::{Digest as _, Sha256};
use url::Url;

mod challenge;
mod send;

use self::challenge::{Challenge, parse_params};
use crate::origin::{self, Domain, same_origin};
use crate::sync;

/// One credential as added.
#[derive(Clone)]
struct Credential {
    name: String,
    password: String,
    /// Unnamed for "the origin the caller asked for".
    domain: Domain,
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
    /// The next answer is sent again after a 401, and goes out alone with its nonce.
    alone: bool,
    /// Digest answers this request may still send again after a 401.
    retries: u8,
}

/// How many more times one request answers with the same Digest credential after a 401 that
/// may not be about the password (see [`Credentials::retry`]). An answer sent again goes
/// out alone with its nonce, so one is enough unless the nonce dies meanwhile; the bound is
/// for servers that keep saying `stale`.
const DIGEST_RETRIES: u8 = 3;

/// The longest a Digest request waits for its nonce (never longer than its own timeout):
/// for an answer sent again, until the requests out with the nonce are answered; for any
/// other, until such an answer is. After it, the request goes anyway.
const NONCE_WAIT: Duration = Duration::from_secs(5);

/// An `Http`'s credentials and the authorizations servers accepted.
#[derive(Default)]
pub(crate) struct Credentials {
    state: Mutex<State>,
    /// Notified whenever a Digest request's response arrives (or it failed).
    answered: Condvar,
}

#[derive(Default)]
struct State {
    credentials: Vec<Credential>,
    accepted: Vec<Accepted>,
    /// Recent nonces, whichever attempt or worker sent them.
    nonces: Vec<NonceUse>,
}

/// Requests sent with one nonce.
struct NonceUse {
    nonce: String,
    /// The last nonce count given out.
    count: u32,
    /// Requests counted whose response has not arrived yet.
    out: u32,
    /// An answer sent again holds the nonce, or waits to: nothing else starts with it.
    held: bool,
}

/// Nonces whose counts are kept; an older one would be answered `stale` anyway.
const NONCES_KEPT: usize = 64;

impl State {
    fn nonce(&self, nonce: &str) -> Option<&NonceUse> {
        self.nonces.iter().find(|u| u.nonce == nonce)
    }

    fn nonce_mut(&mut self, nonce: &str) -> &mut NonceUse {
        if let Some(i) = self.nonces.iter().position(|u| u.nonce == nonce) {
            return &mut self.nonces[i];
        }
        if self.nonces.len() >= NONCES_KEPT {
            // The oldest idle one; one in use only if every one is (its end is then ignored).
            let idle = self.nonces.iter().position(|u| u.out == 0 && !u.held);
            self.nonces.remove(idle.unwrap_or(0));
        }
        self.nonces.push(NonceUse {
            nonce: nonce.to_owned(),
            count: 0,
            out: 0,
            held: false,
        });
        self.nonces.last_mut().expect("just pushed")
    }

    /// The next nonce count for `nonce` (one more than any request sent with it), for a
    /// request now going out; and whether others are out with it.
    fn next_nc(&mut self, nonce: &str) -> (u32, bool) {
        let used = self.nonce_mut(nonce);
        used.count += 1;
        used.out += 1;
        (used.count, used.out > 1)
    }

    fn held(&self, nonce: &str) -> bool {
        self.nonce(nonce).is_some_and(|u| u.held)
    }

    fn out(&self, nonce: &str) -> u32 {
        self.nonce(nonce).map_or(0, |u| u.out)
    }
}

/// A Digest request out with its nonce, until its response arrives (or it fails): dropping
/// it ends its use of the nonce.
pub(crate) struct InFlight<'a> {
    credentials: &'a Credentials,
    nonce: String,
    nc: u32,
    /// Others were out with the nonce when this one was counted.
    contended: bool,
    held: bool,
}

impl InFlight<'_> {
    /// Whether other requests used the nonce while this one was out: counted before it and
    /// not answered yet, or counted after it.
    fn contended(&self) -> bool {
        self.contended
            || self
                .credentials
                .lock()
                .nonce(&self.nonce)
                .is_none_or(|u| u.count > self.nc)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.credentials.lock();
        if let Some(used) = state.nonces.iter_mut().find(|u| u.nonce == self.nonce) {
            used.out = used.out.saturating_sub(1);
            if self.held {
                used.held = false;
            }
        }
        drop(state);
        self.credentials.answered.notify_all();
    }
}

impl Credentials {
    fn lock(&self) -> MutexGuard<'_, State> {
        sync::lock(&self.state)
    }

    /// Counts a Digest request with `nonce` going out. One sent `alone` waits until no
    /// other is out with the nonce, and holds it so that none starts until its response
    /// arrives; any other waits while the nonce is held. Together the waits last `patience`
    /// (at most [`NONCE_WAIT`]); then the request goes anyway.
    fn go_out(&self, nonce: &str, alone: bool, patience: Duration) -> InFlight<'_> {
        let deadline = Instant::now() + patience.min(NONCE_WAIT);
        let left = || deadline.saturating_duration_since(Instant::now());
        let wait = |state, busy: &dyn Fn(&mut State) -> bool| {
            sync::wait_timeout_while(&self.answered, state, left(), busy)
        };
        let mut state = wait(self.lock(), &|s| s.held(nonce));
        // Still held after the wait: this one goes as any other.
        let held = alone && !state.held(nonce);
        if held {
            state.nonce_mut(nonce).held = true;
            state = wait(state, &|s| s.out(nonce) > 0);
        }
        let (nc, contended) = state.next_nc(nonce);
        InFlight {
            credentials: self,
            nonce: nonce.to_owned(),
            nc,
            contended,
            held,
        }
    }

    pub(crate) fn add(&self, name: &str, password: &str, domain: &str) {
        self.lock().credentials.push(Credential {
            name: name.to_owned(),
            password: password.to_owned(),
            domain: Domain::new(domain),
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
    /// its origin and a prefix of its path (the deepest prefix wins); for Digest, with the
    /// request's use of the nonce, to be dropped when its response arrives. The wait for a
    /// held nonce lasts `patience` at most.
    pub(crate) fn preemptive(
        &self,
        method: &Method,
        url: &Url,
        asked_for: &Url,
        patience: Duration,
    ) -> (Option<HeaderValue>, Option<InFlight<'_>>) {
        let state = self.lock();
        let origin = origin::key(url);
        let Some(best) = state
            .accepted
            .iter()
            .filter(|a| a.origin == origin && url.path().starts_with(&a.path_prefix))
            .filter(|a| applies(&a.credential, url, asked_for))
            .max_by_key(|a| a.path_prefix.len())
        else {
            return (None, None);
        };
        let (credential, scheme) = (best.credential.clone(), best.scheme.clone());
        drop(state);
        let flight = match &scheme {
            Scheme::Basic => None,
            Scheme::Digest(digest) => Some(self.go_out(&digest.nonce, false, patience)),
        };
        let nc = flight.as_ref().map(|f| f.nc);
        (authorization(&credential, &scheme, nc, method, url), flight)
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
                    alone: false,
                    retries: DIGEST_RETRIES,
                });
            }
        }
        None
    }

    /// The `Authorization` header for an attempt; for Digest, with the request's use of the
    /// nonce, to be dropped when its response arrives. The wait for the nonce lasts
    /// `patience` at most.
    pub(crate) fn header(
        &self,
        attempt: &Attempt,
        method: &Method,
        url: &Url,
        patience: Duration,
    ) -> (Option<HeaderValue>, Option<InFlight<'_>>) {
        let flight = match &attempt.scheme {
            Scheme::Basic => None,
            Scheme::Digest(digest) => Some(self.go_out(&digest.nonce, attempt.alone, patience)),
        };
        let nc = flight.as_ref().map(|f| f.nc);
        let value = authorization(&attempt.credential, &attempt.scheme, nc, method, url);
        (value, flight)
    }

    /// `attempt`, sent as `flight`, was answered with another 401 carrying `challenges`:
    /// whether to answer again, with the nonce this 401 brings (taken into `attempt`).
    ///
    /// Only Digest is tried again, at most [`DIGEST_RETRIES`] times, and only if the 401 may
    /// not be about the password: the server says the nonce is `stale`, or other requests
    /// were out with the same nonce. Their counts were given out here in one order but can
    /// reach the server in another, and a server that wants counts to grow refuses the late
    /// ones, with a fresh nonce and without `stale` (Apache). The answer sent again goes out
    /// alone with its nonce, so its count is the highest the server has seen for it; a
    /// refusal of a request that was alone with its nonce is the server's verdict on the
    /// credentials, and ends the tries.
    pub(crate) fn retry(
        &self,
        attempt: &mut Attempt,
        flight: Option<InFlight<'_>>,
        challenges: &[Challenge],
    ) -> bool {
        let contended = flight.as_ref().is_some_and(InFlight::contended);
        drop(flight);
        let Scheme::Digest(digest) = &mut attempt.scheme else {
            return false;
        };
        if attempt.retries == 0 {
            return false;
        }
        let Some((fresh, stale)) = challenges
            .iter()
            .filter(|c| c.scheme == "digest")
            .find_map(|c| Some((digest_state(c)?, is_stale(c))))
        else {
            return false;
        };
        if !(stale || contended) {
            return false;
        }
        attempt.retries -= 1;
        attempt.alone = true;
        *digest = fresh;
        true
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
        let origin = origin::key(url);
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
        let origin = origin::key(url);
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
    if credential.domain.is_unnamed() {
        return same_origin(url, asked_for);
    }
    credential.domain.names(url)
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

fn is_stale(challenge: &Challenge) -> bool {
    challenge
        .param("stale")
        .is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

fn authorization(
    credential: &Credential,
    scheme: &Scheme,
    nc: Option<u32>,
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
        Scheme::Digest(digest) => digest_response(credential, digest, nc?, method, url),
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
    use super::challenge::parse_challenges;
    use super::*;

    /// RFC 7616 §3.9.1's example, SHA-256 and MD5, with its cnonce.
    #[test]
    fn rfc7616_example_responses() {
        let credential = Credential {
            name: "Mufasa".to_owned(),
            password: "Circle of Life".to_owned(),
            domain: Domain::new(""),
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
            domain: Domain::new(""),
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
            domain: Domain::new("b.example:8080"),
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
        // A request counted, then answered.
        let nc = |state: &mut State, nonce: &str| {
            let (nc, _) = state.next_nc(nonce);
            state.nonce_mut(nonce).out -= 1;
            nc
        };
        assert_eq!(
            (
                nc(&mut state, "a"),
                nc(&mut state, "a"),
                nc(&mut state, "b")
            ),
            (1, 2, 1)
        );
        assert_eq!(state.next_nc("busy"), (1, false));
        assert_eq!(state.next_nc("busy"), (2, true), "another is out with it");
        for i in 0..NONCES_KEPT {
            nc(&mut state, &i.to_string());
        }
        assert_eq!(state.nonces.len(), NONCES_KEPT);
        assert!(state.nonce("busy").is_some(), "in use: kept over idle ones");
        assert_eq!(
            nc(&mut state, "a"),
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
        let (sent, flight) = credentials.header(&attempt, &Method::GET, &url, PATIENCE);
        drop(flight);
        assert!(sent.unwrap().to_str().unwrap().contains(r#"nonce="first""#));
        credentials.accept(attempt, &url, Some(r#"nextnonce="second", qop=auth"#));
        let (next, _) = credentials.preemptive(&Method::GET, &url, &url, PATIENCE);
        let next = next.unwrap();
        let next = next.to_str().unwrap();
        assert!(
            next.contains(r#"nonce="second""#) && next.contains("nc=00000001"),
            "{next}"
        );
        let (again, _) = credentials.preemptive(&Method::GET, &url, &url, PATIENCE);
        assert!(again.unwrap().to_str().unwrap().contains("nc=00000002"));
    }

    const PATIENCE: Duration = Duration::from_secs(10);

    fn attempt_on(credentials: &Credentials, nonce: &str) -> Attempt {
        let url = Url::parse("http://h/dir/page").unwrap();
        let challenge =
            parse_challenges(&format!(r#"Digest realm="r", nonce="{nonce}", qop="auth""#));
        credentials
            .next_attempt(&challenge, &url, &url, &mut Vec::new())
            .unwrap()
    }

    fn send<'a>(credentials: &'a Credentials, attempt: &Attempt) -> (String, InFlight<'a>) {
        let url = Url::parse("http://h/dir/page").unwrap();
        let (value, flight) = credentials.header(attempt, &Method::GET, &url, PATIENCE);
        (value.unwrap().to_str().unwrap().to_owned(), flight.unwrap())
    }

    fn alice() -> Credentials {
        let credentials = Credentials::default();
        credentials.add("alice", "pw", "");
        credentials
    }

    /// A 401 to a request alone with its nonce is about the password; one to a request
    /// that shared its nonce, or one that says `stale`, is answered again, alone.
    #[test]
    fn a_401_is_answered_again_only_when_it_may_not_be_about_the_password() {
        let credentials = alice();
        let fresh = parse_challenges(r#"Digest realm="r", nonce="two", qop="auth""#);
        let stale = parse_challenges(r#"Digest realm="r", nonce="three", qop="auth", stale=TRUE"#);

        let mut alone = attempt_on(&credentials, "one");
        let (_, flight) = send(&credentials, &alone);
        assert!(!credentials.retry(&mut alone, Some(flight), &fresh));
        let (_, flight) = send(&credentials, &alone);
        assert!(credentials.retry(&mut alone, Some(flight), &stale));
        assert!(alone.alone);

        // Counted while another was out, and the other counted after it was: both shared.
        let (mut first, mut second) = (
            attempt_on(&credentials, "shared"),
            attempt_on(&credentials, "shared"),
        );
        let (_, first_flight) = send(&credentials, &first);
        let (_, second_flight) = send(&credentials, &second);
        assert!(credentials.retry(&mut first, Some(first_flight), &fresh));
        assert!(credentials.retry(&mut second, Some(second_flight), &fresh));
        let (again, flight) = send(&credentials, &first);
        assert!(
            again.contains(r#"nonce="two""#) && again.contains("nc=00000001"),
            "{again}"
        );
        assert!(
            !credentials.retry(&mut first, Some(flight), &fresh),
            "alone"
        );

        let mut bounded = attempt_on(&credentials, "one");
        let mut tries = 0;
        loop {
            let (_, flight) = send(&credentials, &bounded);
            if !credentials.retry(&mut bounded, Some(flight), &stale) {
                break;
            }
            tries += 1;
        }
        assert_eq!(tries, DIGEST_RETRIES);

        let mut basic = Attempt {
            scheme: Scheme::Basic,
            ..attempt_on(&credentials, "one")
        };
        let (value, flight) = credentials.header(&basic, &Method::GET, &url(), PATIENCE);
        assert!(value.is_some() && flight.is_none());
        assert!(!credentials.retry(&mut basic, None, &stale));
    }

    fn url() -> Url {
        Url::parse("http://h/dir/page").unwrap()
    }

    /// An answer sent again waits for the requests out with its nonce, and holds it: the
    /// next request with that nonce waits for its response, then gets the next count.
    #[test]
    fn an_answer_sent_again_goes_out_alone() {
        let owned = alice();
        let credentials = &owned;
        let other = &attempt_on(credentials, "n");
        let mut again = attempt_on(credentials, "n");
        again.alone = true;
        let again = &again;
        std::thread::scope(|scope| {
            let (_, out) = send(credentials, other);
            let (tx, rx) = std::sync::mpsc::channel();
            let waiting = scope.spawn(move || {
                let (header, held) = send(credentials, again);
                tx.send(header).unwrap();
                held
            });
            std::thread::sleep(Duration::from_millis(50));
            assert!(rx.try_recv().is_err(), "went out while another was out");
            drop(out);
            let header = rx.recv_timeout(PATIENCE).unwrap();
            assert!(header.contains("nc=00000002"), "{header}");
            let held = waiting.join().unwrap();

            let (tx, rx) = std::sync::mpsc::channel();
            let next = scope.spawn(move || {
                let (header, _) = send(credentials, other);
                tx.send(header).unwrap();
            });
            std::thread::sleep(Duration::from_millis(50));
            assert!(rx.try_recv().is_err(), "started while the nonce was held");
            drop(held);
            let header = rx.recv_timeout(PATIENCE).unwrap();
            assert!(header.contains("nc=00000003"), "{header}");
            next.join().unwrap();
        });
    }

    #[test]
    fn a_held_nonce_is_waited_for_only_so_long() {
        let credentials = alice();
        let mut holder = attempt_on(&credentials, "n");
        holder.alone = true;
        let (_, _held) = send(&credentials, &holder);
        let other = attempt_on(&credentials, "n");
        let started = Instant::now();
        let (value, flight) =
            credentials.header(&other, &Method::GET, &url(), Duration::from_millis(20));
        assert!(value.is_some() && flight.is_some_and(|f| f.nc == 2));
        assert!(started.elapsed() < PATIENCE);
    }

    #[test]
    fn basic_header() {
        let c = Credential {
            name: "alice".to_owned(),
            password: "s3cret".to_owned(),
            domain: Domain::new(""),
        };
        let url = Url::parse("http://h/").unwrap();
        let value = authorization(&c, &Scheme::Basic, None, &Method::GET, &url).unwrap();
        assert_eq!(value, "Basic YWxpY2U6czNjcmV0");
        assert!(value.is_sensitive());
    }
}
