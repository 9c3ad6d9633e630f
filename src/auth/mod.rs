//! Credentials, as httplib2's `add_credentials`, answering 401 challenges with Basic or
//! Digest (RFC 7617, RFC 7616), and reused pre-emptively once accepted.
//!
//! The state is shared by every worker of an `Http` behind one mutex. An accepted Digest
//! authorization keeps lines (`lines`): nonces the server accepted, each sent up front by
//! one request at a time, so that its counts reach the server in order; a request that
//! finds every line busy is challenged and answers with a nonce of its own. Counts are
//! given out per nonce (`nonces`), whichever worker sends them. When requests do share a
//! nonce (a server that gives every challenge the same one), a refusal of one may be about
//! the order its count arrived in: [`Credentials::retry`] tells that from a verdict on the
//! password, and the answer sent again goes out alone with its nonce.
//!
//! What one request costs at most: the request itself; after a 401, one answer for each
//! credential and scheme that applies (Digest before Basic); and, once per request, a
//! Digest answer sent again (see [`Credentials::retry`]).

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use isahc::http::{HeaderValue, Method};
use url::Url;

mod challenge;
mod digest;
mod lines;
mod netrc;
mod nonces;
mod send;

pub(crate) use self::nonces::InFlight;

use self::challenge::Challenge;
use self::digest::{DigestState, adopt_next_nonce, digest_response, digest_state, is_stale};
use self::lines::Lines;
use self::nonces::Nonces;
use crate::netrc::Netrc;
use crate::origin::{self, Domain, same_origin};
use crate::sync;

/// One credential as added, or as a `.netrc` offers it (`from_netrc`).
#[derive(Clone)]
struct Credential {
    name: String,
    password: String,
    /// Unnamed for "the origin the caller asked for".
    domain: Domain,
    /// From the `.netrc`: it gives way to any credential of the caller's for the URL.
    from_netrc: bool,
}

impl Credential {
    fn same(&self, other: &Credential) -> bool {
        self.name == other.name && self.password == other.password
    }
}

/// A credential accepted by a server, kept to be sent up front next time.
struct Accepted {
    /// scheme://host:port the server is at.
    origin: String,
    /// Requests whose path starts with this are in its scope.
    path_prefix: String,
    credential: Credential,
    kept: Kept,
}

/// How an accepted credential goes up front.
enum Kept {
    Basic,
    /// With one of the nonces the server accepted, each taken by one request at a time.
    Digest(Lines),
}

/// A scheme to answer a challenge with.
#[derive(Clone)]
enum Scheme {
    Basic,
    Digest(DigestState),
}

/// A way to answer a challenge that has not been tried yet for this request.
#[derive(Clone)]
pub(crate) struct Attempt {
    credential: Credential,
    scheme: Scheme,
    /// The next answer is sent again after a 401, and goes out alone with its nonce.
    alone: bool,
}

/// An `Http`'s credentials, its `.netrc`'s, and the authorizations servers accepted.
#[derive(Default)]
pub(crate) struct Credentials {
    state: Mutex<State>,
    /// Notified whenever a Digest request's response arrives (or it failed).
    answered: Condvar,
    /// Read when the client was built, with entries to use: for the URLs no credential of
    /// the caller's applies to (`netrc.rs` beside this).
    netrc: Option<Arc<Netrc>>,
}

#[derive(Default)]
struct State {
    credentials: Vec<Credential>,
    accepted: Vec<Accepted>,
    nonces: Nonces,
    /// The id of the last line opened.
    last_line: u64,
}

impl State {
    /// Whether a credential of the caller's applies to `url`: then none from the `.netrc`
    /// does.
    fn own_apply(&self, url: &Url, asked_for: &Url) -> bool {
        self.credentials.iter().any(|c| applies(c, url, asked_for))
    }

    fn lines_mut(&mut self) -> impl Iterator<Item = &mut Lines> {
        self.accepted.iter_mut().filter_map(|a| match &mut a.kept {
            Kept::Digest(lines) => Some(lines),
            Kept::Basic => None,
        })
    }

    /// Line `id` is idle again, with the `nextnonce` of `authentication_info` if any.
    fn give_back_line(&mut self, id: u64, authentication_info: Option<&str>) {
        let _ = self
            .lines_mut()
            .any(|lines| lines.give_back(id, authentication_info));
    }

    /// Drops line `id`, if it is still kept.
    fn retire_line(&mut self, id: u64) {
        let _ = self.lines_mut().any(|lines| lines.retire(id));
    }
}

/// Whether a line of an accepted authorization answers with `nonce`.
fn lines_hold(accepted: &[Accepted], nonce: &str) -> bool {
    accepted.iter().any(|a| match &a.kept {
        Kept::Digest(lines) => lines.hold(nonce),
        Kept::Basic => false,
    })
}

impl Credentials {
    /// None yet, and the entries of `netrc`, if it has any to use.
    pub(crate) fn new(netrc: Option<Arc<Netrc>>) -> Self {
        Credentials {
            netrc: netrc.filter(|netrc| !netrc.is_empty()),
            ..Credentials::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        sync::lock(&self.state)
    }

    pub(crate) fn add(&self, name: &str, password: &str, domain: &str) {
        self.lock().credentials.push(Credential {
            name: name.to_owned(),
            password: password.to_owned(),
            domain: Domain::new(domain),
            from_netrc: false,
        });
    }

    pub(crate) fn clear(&self) {
        let mut state = self.lock();
        state.credentials.clear();
        state.accepted.clear();
    }

    /// Whether there is nothing to send: none added, and no `.netrc` entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.netrc.is_none() && self.lock().credentials.is_empty()
    }

    /// The `Authorization` for a request to `url`, from a credential accepted earlier for
    /// its origin and a prefix of its path (the deepest prefix wins). For Digest, with an
    /// idle line, which the request holds until [`InFlight::landed`] or its drop; none if
    /// every line is busy, so that the server's challenge gives the request a nonce of its
    /// own. The wait for a nonce held by an answer sent again lasts `patience` at most.
    pub(crate) fn preemptive(
        &self,
        method: &Method,
        url: &Url,
        asked_for: &Url,
        patience: Duration,
    ) -> (Option<HeaderValue>, Option<InFlight<'_>>) {
        let mut state = self.lock();
        let origin = origin::key(url);
        let own = state.own_apply(url, asked_for);
        let Some(best) = state
            .accepted
            .iter_mut()
            .filter(|a| a.origin == origin && url.path().starts_with(&a.path_prefix))
            .filter(|a| applies(&a.credential, url, asked_for))
            .filter(|a| !(a.credential.from_netrc && own))
            .max_by_key(|a| a.path_prefix.len())
        else {
            return (None, None);
        };
        let credential = best.credential.clone();
        let (scheme, line) = match &mut best.kept {
            Kept::Basic => (Scheme::Basic, None),
            Kept::Digest(lines) => match lines.take() {
                Some((line, digest)) => (Scheme::Digest(digest), Some(line)),
                None => return (None, None),
            },
        };
        drop(state);
        let flight = match (&scheme, line) {
            (Scheme::Digest(digest), Some(line)) => {
                Some(self.go_out(&digest.nonce, false, patience).on_line(line))
            }
            _ => None,
        };
        let nc = flight.as_ref().map(|f| f.nc);
        (authorization(&credential, &scheme, nc, method, url), flight)
    }

    /// The next way to answer `challenges` for a request to `url`: credentials in the order
    /// added, else the `.netrc`'s, Digest before Basic, skipping those in `tried`.
    pub(crate) fn next_attempt(
        &self,
        challenges: &[Challenge],
        url: &Url,
        asked_for: &Url,
        tried: &mut Vec<(String, &'static str)>,
    ) -> Option<Attempt> {
        let state = self.lock();
        let netrc = self.netrc_credential(&state, url, asked_for);
        for credential in state
            .credentials
            .iter()
            .filter(|c| applies(c, url, asked_for))
            .chain(&netrc)
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
    /// whether to answer again, with the nonce this 401 brings (taken into `attempt`). The
    /// caller does so once per request at most.
    ///
    /// Only Digest is answered again, and only if the 401 may not be about the password:
    /// the server says the nonce is `stale`, or other requests were out with the same
    /// nonce. Their counts were given out here in one order but can reach the server in
    /// another, and a server that wants counts to grow refuses the late ones, with a fresh
    /// nonce and without `stale` (Apache). The answer sent again goes out alone with its
    /// nonce, so its count is the highest the server has seen for it; a refusal of a
    /// request that was alone with its nonce is the server's verdict on the credentials.
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
        attempt.alone = true;
        *digest = fresh;
        true
    }

    /// The server accepted `attempt` for `url`: remember it for the URL's path prefix. A
    /// Digest answer's nonce (or the `nextnonce` the server gave) becomes one more line of
    /// the authorization kept for the same credential and realm, or the first line of a
    /// new one.
    pub(crate) fn accept(&self, attempt: Attempt, url: &Url, authentication_info: Option<&str>) {
        let path = url.path();
        let path_prefix = path[..path.rfind('/').map_or(0, |i| i + 1)].to_owned();
        let origin = origin::key(url);
        let mut state = self.lock();
        let kept = match attempt.scheme {
            Scheme::Basic => Kept::Basic,
            Scheme::Digest(mut digest) => {
                if let Some(info) = authentication_info {
                    adopt_next_nonce(&mut digest, info);
                }
                state.last_line += 1;
                let line = state.last_line;
                let same = state.accepted.iter_mut().find(|a| {
                    a.origin == origin
                        && a.path_prefix == path_prefix
                        && a.credential.same(&attempt.credential)
                });
                if let Some(Accepted {
                    kept: Kept::Digest(lines),
                    ..
                }) = same
                {
                    if lines.realm() == Some(digest.realm.as_str()) {
                        lines.add(line, digest);
                        return;
                    }
                }
                let mut lines = Lines::default();
                lines.add(line, digest);
                Kept::Digest(lines)
            }
        };
        state
            .accepted
            .retain(|a| !(a.origin == origin && a.path_prefix == path_prefix));
        state.accepted.push(Accepted {
            origin,
            path_prefix,
            credential: attempt.credential,
            kept,
        });
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

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::challenge::parse_challenges;
    use super::*;
    use crate::Response;

    const PATIENCE: Duration = Duration::from_secs(10);

    #[test]
    fn empty_domain_means_the_origin_asked_for() {
        let c = Credential {
            name: "a".to_owned(),
            password: "b".to_owned(),
            domain: Domain::new(""),
            from_netrc: false,
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

    fn url() -> Url {
        Url::parse("http://h/dir/page").unwrap()
    }

    fn alice() -> Credentials {
        let credentials = Credentials::default();
        credentials.add("alice", "pw", "");
        credentials
    }

    fn attempt_on(credentials: &Credentials, nonce: &str) -> Attempt {
        let challenge =
            parse_challenges(&format!(r#"Digest realm="r", nonce="{nonce}", qop="auth""#));
        credentials
            .next_attempt(&challenge, &url(), &url(), &mut Vec::new())
            .unwrap()
    }

    fn send<'a>(credentials: &'a Credentials, attempt: &Attempt) -> (String, InFlight<'a>) {
        let (value, flight) = credentials.header(attempt, &Method::GET, &url(), PATIENCE);
        (value.unwrap().to_str().unwrap().to_owned(), flight.unwrap())
    }

    /// The value sent up front, and its use of a line; `None` when every line is busy.
    fn up_front(credentials: &Credentials) -> Option<(String, InFlight<'_>)> {
        let (value, flight) = credentials.preemptive(&Method::GET, &url(), &url(), PATIENCE);
        let value = value?.to_str().unwrap().to_owned();
        Some((value, flight.expect("digest")))
    }

    fn ok_with(info: Option<&str>) -> Response {
        let mut response = Response::new(200);
        if let Some(info) = info {
            response.insert("authentication-info", info);
        }
        response
    }

    /// A nonce accepted is one line; one request takes it at a time, and a request that
    /// finds it busy goes without (to be challenged, and answer with a nonce of its own,
    /// which becomes a second line).
    #[test]
    fn each_line_goes_out_with_one_request_at_a_time() {
        let credentials = alice();
        credentials.accept(attempt_on(&credentials, "one"), &url(), None);
        let (first, out) = up_front(&credentials).unwrap();
        assert!(first.contains(r#"nonce="one""#) && first.contains("nc=00000001"));
        assert!(up_front(&credentials).is_none(), "the only line is busy");
        out.landed(&ok_with(None));
        let (again, out) = up_front(&credentials).unwrap();
        assert!(again.contains(r#"nonce="one""#) && again.contains("nc=00000002"));

        credentials.accept(attempt_on(&credentials, "two"), &url(), None);
        let (second, other) = up_front(&credentials).unwrap();
        assert!(second.contains(r#"nonce="two""#), "{second}");
        assert!(up_front(&credentials).is_none());
        drop((out, other));
        assert!(
            up_front(&credentials).is_none(),
            "dropped without a response: their counts are in doubt, the lines are gone"
        );
    }

    #[test]
    fn a_line_refused_is_dropped_and_nextnonce_renews_one() {
        let credentials = alice();
        credentials.accept(
            attempt_on(&credentials, "first"),
            &url(),
            Some(r#"nextnonce="second", qop=auth"#),
        );
        let (sent, out) = up_front(&credentials).unwrap();
        assert!(sent.contains(r#"nonce="second""#) && sent.contains("nc=00000001"));
        out.landed(&ok_with(Some(r#"rspauth="x", nextnonce="third""#)));
        let (sent, out) = up_front(&credentials).unwrap();
        assert!(sent.contains(r#"nonce="third""#) && sent.contains("nc=00000001"));
        out.landed(&Response::new(401));
        assert!(
            up_front(&credentials).is_none(),
            "refused: the line is gone"
        );
    }

    #[test]
    fn lines_belong_to_one_credential_and_realm() {
        let credentials = alice();
        credentials.add("bob", "pw2", "");
        credentials.accept(attempt_on(&credentials, "a1"), &url(), None);
        credentials.accept(attempt_on(&credentials, "a2"), &url(), None);
        let bob = parse_challenges(r#"Digest realm="r", nonce="b1", qop="auth""#);
        let mut tried = vec![("alice".to_owned(), "digest")];
        let bob = credentials
            .next_attempt(&bob, &url(), &url(), &mut tried)
            .unwrap();
        credentials.accept(bob, &url(), None);
        let (sent, _out) = up_front(&credentials).unwrap();
        assert!(sent.contains(r#"username="bob""#), "{sent}");
        assert!(
            up_front(&credentials).is_none(),
            "alice's lines went with her"
        );
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

        let mut basic = Attempt {
            scheme: Scheme::Basic,
            ..attempt_on(&credentials, "one")
        };
        let (value, flight) = credentials.header(&basic, &Method::GET, &url(), PATIENCE);
        assert!(value.is_some() && flight.is_none());
        assert!(!credentials.retry(&mut basic, None, &stale));
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
            from_netrc: false,
        };
        let url = Url::parse("http://h/").unwrap();
        let value = authorization(&c, &Scheme::Basic, None, &Method::GET, &url).unwrap();
        assert_eq!(value, "Basic YWxpY2U6czNjcmV0");
        assert!(value.is_sensitive());
    }
}
