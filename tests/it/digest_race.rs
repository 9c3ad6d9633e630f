//! Digest with concurrent requests: nonce counts handed out in one order reach the server
//! in another. Two kinds of server check them:
//!
//! - one that gives every challenge the same nonce and takes only counts above the highest
//!   it has seen for it (a refusal brings a fresh nonce, with or without `stale`);
//! - one that checks counts as Apache's mod_auth_digest does with `AuthDigestNcCheck On`:
//!   every challenge to a request without `opaque` opens a client of its own (its number is
//!   the opaque) with a nonce of its own; a client takes a count only if it is above the
//!   highest it took on its newest nonce in use, and refuses any older nonce of its, each
//!   refusal bringing the client a fresh nonce without `stale`.
//!
//! Every request with the right password must get through, and a wrong password must still
//! end in its 401 after a few requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use md5::{Digest as _, Md5};

use crate::support::*;

const REALM: &str = "race@test";
const OPAQUE: &str = "5ccc069c403ebaf9f0171e9517f40e41";

/// How the server keeps its nonces and counts.
#[derive(Clone, Copy, Debug)]
enum Nonces {
    /// One nonce for every challenge, replaced when a count on it is refused; the refusal
    /// says `stale=true` or not.
    Shared { stale: bool },
    /// Apache's clients: one opaque per challenge, the counts of each client checked on the
    /// newest of its nonces in use.
    PerClient,
}

#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    challenged: usize,
    accepted: usize,
    /// Valid answers refused for their nonce count, or for an older nonce of their client.
    out_of_order: usize,
    /// Answers whose hash or fields were wrong.
    wrong: usize,
    /// Answers with a nonce this server never issued (to their client).
    unknown_nonce: usize,
}

/// A nonce issued: to which client (0 for the shared nonce), and when (the issue number).
#[derive(Clone, Copy)]
struct Issued {
    client: u64,
    serial: u64,
}

/// The counts taken on one nonce (the shared kind), or by one client (Apache's).
#[derive(Default)]
struct Counter {
    /// The issue number of the nonce whose counts are checked.
    in_use: u64,
    /// The highest count taken on it (0 before the first).
    highest: u32,
}

struct NcState {
    nonces: Nonces,
    issued: HashMap<String, Issued>,
    /// The nonce each client's challenges carry.
    current: HashMap<u64, String>,
    counters: HashMap<u64, Counter>,
    serial: u64,
    counts: Counts,
}

impl NcState {
    /// A fresh nonce for `client`, which its challenges carry from now on.
    fn fresh_nonce(&mut self, client: u64) -> String {
        self.serial += 1;
        // Opaque-looking and unique: a counter would do, but a nonce is not meant to be read.
        let nonce = hex(&Md5::digest(format!("nonce {}", self.serial).as_bytes()));
        let serial = self.serial;
        self.issued.insert(nonce.clone(), Issued { client, serial });
        self.current.insert(client, nonce.clone());
        nonce
    }

    /// The client a challenge goes to: the shared one, or a new one per challenge.
    fn new_client(&mut self) -> u64 {
        match self.nonces {
            Nonces::Shared { .. } => {
                if !self.current.contains_key(&0) {
                    self.fresh_nonce(0);
                }
                0
            }
            Nonces::PerClient => {
                let client = self.current.len() as u64 + 1;
                self.fresh_nonce(client);
                client
            }
        }
    }

    fn challenge(&self, client: u64, stale: bool) -> Reply {
        let nonce = &self.current[&client];
        let opaque = match self.nonces {
            Nonces::Shared { .. } => OPAQUE.to_owned(),
            Nonces::PerClient => format!("{client:x}"),
        };
        let mut value = format!(
            r#"Digest realm="{REALM}", nonce="{nonce}", algorithm=MD5, opaque="{opaque}", qop="auth""#
        );
        if stale {
            value.push_str(", stale=true");
        }
        Reply::new(401, "authorization required").header("WWW-Authenticate", &value)
    }
}

/// A Digest server (MD5, `qop=auth`) for `alice:s3cret` that checks every answer in full,
/// and its nonce counts as `Nonces` says.
struct NcServer {
    server: Server,
    state: Arc<Mutex<NcState>>,
}

impl NcServer {
    fn start(nonces: Nonces) -> NcServer {
        let state = Arc::new(Mutex::new(NcState {
            nonces,
            issued: HashMap::new(),
            current: HashMap::new(),
            counters: HashMap::new(),
            serial: 0,
            counts: Counts::default(),
        }));
        let shared = state.clone();
        let server = Server::start(move |req| answer(&mut shared.lock().unwrap(), req));
        NcServer { server, state }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn counts(&self) -> Counts {
        self.state.lock().unwrap().counts
    }
}

fn answer(st: &mut NcState, req: &Received) -> Reply {
    let Some(params) = req.header("authorization").and_then(parse_digest) else {
        st.counts.challenged += 1;
        let client = st.new_client();
        return st.challenge(client, false);
    };
    let get = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let nonce = get("nonce").to_owned();
    let opaque_client = match st.nonces {
        Nonces::Shared { .. } => (get("opaque") == OPAQUE).then_some(0),
        Nonces::PerClient => u64::from_str_radix(get("opaque"), 16).ok(),
    };
    let issued = st.issued.get(&nonce).copied();
    let Some(issued) = issued.filter(|i| Some(i.client) == opaque_client) else {
        // A nonce this client was never given: as a nonce that expired.
        st.counts.unknown_nonce += 1;
        let client = st.new_client();
        return st.challenge(client, true);
    };
    let client = issued.client;
    let ha1 = md5_hex(&format!("{}:{REALM}:s3cret", get("username")));
    let ha2 = md5_hex(&format!("{}:{}", req.method, get("uri")));
    let expected = md5_hex(&format!(
        "{ha1}:{nonce}:{}:{}:auth:{ha2}",
        get("nc"),
        get("cnonce")
    ));
    let nc = u32::from_str_radix(get("nc"), 16).ok();
    let well_formed = get("username") == "alice"
        && get("realm") == REALM
        && get("uri") == req.url
        && get("qop") == "auth"
        && get("algorithm").eq_ignore_ascii_case("MD5")
        && get("nc").len() == 8
        && !get("cnonce").is_empty()
        && nc.is_some();
    if !well_formed || get("response") != expected {
        // As Apache: a failed answer gets a new challenge, with a new nonce.
        st.counts.wrong += 1;
        st.fresh_nonce(client);
        return st.challenge(client, false);
    }
    let nc = nc.unwrap_or_default();
    let counter = match st.nonces {
        Nonces::Shared { .. } => issued.serial,
        Nonces::PerClient => client,
    };
    let counter = st.counters.entry(counter).or_default();
    if issued.serial > counter.in_use {
        // A newer nonce (of this client): counts start over, and older ones are done.
        counter.in_use = issued.serial;
        counter.highest = 0;
    }
    if issued.serial < counter.in_use || nc <= counter.highest {
        st.counts.out_of_order += 1;
        // Every request refused on the client's current nonce gets the same replacement.
        if st.current[&client] == nonce {
            st.fresh_nonce(client);
        }
        let stale = matches!(st.nonces, Nonces::Shared { stale: true });
        return st.challenge(client, stale);
    }
    counter.highest = nc;
    st.counts.accepted += 1;
    Reply::ok("in")
}

/// `Digest k=v, k="v", ...` as a map; quoted values may hold commas and escaped quotes.
fn parse_digest(header: &str) -> Option<HashMap<String, String>> {
    let mut rest = header.strip_prefix("Digest ")?.trim_start();
    let mut params = HashMap::new();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let end = loop {
                    match chars.next()? {
                        (i, '"') => break i,
                        (_, '\\') => value.push(chars.next()?.1),
                        (_, c) => value.push(c),
                    }
                };
                (value, &quoted[end + 1..])
            }
            None => {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            }
        };
        params.insert(name.trim().to_ascii_lowercase(), value);
        rest = after.trim_start_matches([',', ' ']);
    }
    Some(params)
}

fn md5_hex(text: &str) -> String {
    hex(&Md5::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 200 requests at once from 8 workers, all with the right password, and none warmed up:
/// the first 8 answer challenges together. Returns the server's counts and the most
/// requests one URL took.
fn all_get_through(nonces: Nonces) -> (Counts, usize) {
    let race = NcServer::start(nonces);
    let http = Http::builder().workers(8).build().unwrap();
    http.add_credentials("alice", "s3cret", "");
    let pairs: Vec<_> = (0..200)
        .map(|i| http.request(&race.url(&format!("/docs/{i}"))))
        .collect();
    let statuses: Vec<u16> = pairs
        .iter()
        .map(|(response, _)| wait(response).unwrap().status)
        .collect();
    let counts = race.counts();
    let refused = statuses.iter().filter(|s| **s != 200).count();
    assert_eq!(
        refused, 0,
        "{nonces:?}: {refused} of 200 did not get through: {counts:?}"
    );
    assert_eq!(counts.accepted, 200, "{nonces:?}: {counts:?}");
    assert_eq!(
        counts.wrong + counts.unknown_nonce,
        0,
        "{nonces:?}: {counts:?}"
    );
    let mut per_url: HashMap<String, usize> = HashMap::new();
    for seen in race.server.received() {
        *per_url.entry(seen.url).or_default() += 1;
    }
    let most = per_url.values().max().copied().unwrap_or_default();
    log::info!("{nonces:?}: {counts:?}, at most {most} requests for one URL");
    (counts, most)
}

/// Apache's way: each request goes with a nonce of its own, so no count arrives late, and
/// only a request that found every nonce in use paid for a challenge (at most one per
/// worker: each such challenge adds a nonce to the ones in use).
#[test]
fn eight_workers_against_counts_checked_per_client_all_get_through_in_order() {
    init_logging();
    let (counts, most) = all_get_through(Nonces::PerClient);
    assert_eq!(counts.out_of_order, 0, "{counts:?}");
    assert!(counts.challenged <= 8, "{counts:?}");
    assert!(most <= 2, "one request took {most} requests: {counts:?}");
}

/// One nonce shared by every request: counts can arrive late, and a request refused for
/// it is answered again, alone with its nonce. The request (or a challenge), one answer,
/// and that answer sent again.
#[test]
fn eight_workers_with_a_fresh_nonce_on_refusal_all_get_through() {
    init_logging();
    let (counts, most) = all_get_through(Nonces::Shared { stale: false });
    assert!(most <= 3, "one request took {most} requests: {counts:?}");
}

#[test]
fn eight_workers_with_a_stale_nonce_on_refusal_all_get_through() {
    init_logging();
    let (counts, most) = all_get_through(Nonces::Shared { stale: true });
    assert!(most <= 3, "one request took {most} requests: {counts:?}");
}

#[test]
fn a_wrong_password_ends_in_its_401_after_one_answer() {
    for nonces in [
        Nonces::Shared { stale: false },
        Nonces::Shared { stale: true },
        Nonces::PerClient,
    ] {
        let race = NcServer::start(nonces);
        let http = Http::new();
        http.add_credentials("alice", "guess", "");
        let (response, content) = http.request(&race.url("/docs/x"));
        assert_eq!(wait(&response).unwrap().status, 401, "{nonces:?}");
        assert_eq!(body(&content), b"authorization required");
        let counts = race.counts();
        assert_eq!(
            race.server.hits(),
            2,
            "{nonces:?}: the challenge and one answer: {counts:?}"
        );
        assert_eq!(counts.wrong, 1, "{nonces:?}: {counts:?}");
    }
}

#[test]
fn a_wrong_password_from_eight_workers_at_once_stays_bounded() {
    let race = NcServer::start(Nonces::Shared { stale: false });
    let http = Http::builder().workers(8).build().unwrap();
    http.add_credentials("alice", "guess", "");
    let pairs: Vec<_> = (0..40)
        .map(|i| http.request(&race.url(&format!("/docs/{i}"))))
        .collect();
    for (response, _) in &pairs {
        assert_eq!(wait(response).unwrap().status, 401);
    }
    // Each request: the challenge, its answer, and, if other requests shared its nonce
    // (their refusals could have been about order), one more answer, alone with its nonce.
    let hits = race.server.hits();
    assert!(hits <= 40 * 3, "{hits} requests: {:?}", race.counts());
    assert_eq!(race.counts().accepted, 0);
}

#[test]
fn the_digest_parser_of_this_server_reads_quoted_commas() {
    let p = parse_digest(r#"Digest username="a\"b", uri="/x,y", nc=00000001, qop=auth"#).unwrap();
    assert_eq!(p["username"], "a\"b");
    assert_eq!(p["uri"], "/x,y");
    assert_eq!(p["nc"], "00000001");
    assert_eq!(p["qop"], "auth");
}
