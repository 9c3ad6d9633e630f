//! Digest with concurrent requests: nonce counts handed out in one order reach the server
//! in another. A server that wants them strictly increasing per nonce (as Apache's
//! `AuthDigestNcCheck On`) refuses the late ones with a fresh nonce; every request with the
//! right password must still get through, and a wrong password must still end in its 401
//! after a few requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use md5::{Digest as _, Md5};

use crate::support::*;

const REALM: &str = "race@test";
const OPAQUE: &str = "5ccc069c403ebaf9f0171e9517f40e41";

/// How the server refuses a nonce count that is not above the highest it has seen for that
/// nonce: with a fresh nonce and no more (Apache), or with a fresh nonce and `stale=true`.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    Fresh,
    Stale,
}

#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    challenged: usize,
    accepted: usize,
    /// Valid answers refused for their nonce count.
    out_of_order: usize,
    /// Answers whose hash or fields were wrong.
    wrong: usize,
    /// Answers with a nonce this server never issued.
    unknown_nonce: usize,
}

struct NcState {
    /// The highest nonce count accepted for each nonce issued (0 before the first).
    highest: HashMap<String, u32>,
    /// The nonce challenges carry; replaced when a count on it is refused.
    current: String,
    issued: u64,
    counts: Counts,
}

impl NcState {
    fn fresh_nonce(&mut self) {
        self.issued += 1;
        // Opaque-looking and unique: a counter would do, but a nonce is not meant to be read.
        let nonce = hex(&Md5::digest(format!("nonce {}", self.issued).as_bytes()));
        self.highest.insert(nonce.clone(), 0);
        self.current = nonce;
    }
}

/// A Digest server (MD5, `qop=auth`) for `alice:s3cret` that checks every answer in full and
/// accepts a nonce count only if it is above the highest accepted for its nonce.
struct NcServer {
    server: Server,
    state: Arc<Mutex<NcState>>,
}

impl NcServer {
    fn start(refusal: Refusal) -> NcServer {
        let mut state = NcState {
            highest: HashMap::new(),
            current: String::new(),
            issued: 0,
            counts: Counts::default(),
        };
        state.fresh_nonce();
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let server = Server::start(move |req| answer(&mut shared.lock().unwrap(), req, refusal));
        NcServer { server, state }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn counts(&self) -> Counts {
        self.state.lock().unwrap().counts
    }
}

fn challenge(nonce: &str, stale: bool) -> Reply {
    let mut value = format!(
        r#"Digest realm="{REALM}", nonce="{nonce}", algorithm=MD5, opaque="{OPAQUE}", qop="auth""#
    );
    if stale {
        value.push_str(", stale=true");
    }
    Reply::new(401, "authorization required").header("WWW-Authenticate", &value)
}

fn answer(st: &mut NcState, req: &Received, refusal: Refusal) -> Reply {
    let Some(params) = req.header("authorization").and_then(parse_digest) else {
        st.counts.challenged += 1;
        return challenge(&st.current, false);
    };
    let get = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let nonce = get("nonce").to_owned();
    let Some(&highest) = st.highest.get(&nonce) else {
        st.counts.unknown_nonce += 1;
        return challenge(&st.current, true);
    };
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
        && get("opaque") == OPAQUE
        && get("nc").len() == 8
        && !get("cnonce").is_empty()
        && nc.is_some();
    if !well_formed || get("response") != expected {
        // As Apache: a failed answer gets a new challenge, with a new nonce.
        st.counts.wrong += 1;
        st.fresh_nonce();
        return challenge(&st.current, false);
    }
    let nc = nc.unwrap_or_default();
    if nc <= highest {
        st.counts.out_of_order += 1;
        // Every request refused on the same nonce gets the same replacement.
        if nonce == st.current {
            st.fresh_nonce();
        }
        return challenge(&st.current, matches!(refusal, Refusal::Stale));
    }
    st.highest.insert(nonce, nc);
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
/// the first 8 answer the same challenge together.
fn all_get_through(refusal: Refusal) {
    let race = NcServer::start(refusal);
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
        "{refused} of 200 did not get through: {counts:?}"
    );
    assert_eq!(counts.accepted, 200, "{counts:?}");
    assert_eq!(counts.wrong + counts.unknown_nonce, 0, "{counts:?}");
    // The challenge (or an answer sent up front), one answer, and at most one answer sent
    // again, alone with its nonce.
    let mut per_url: HashMap<String, usize> = HashMap::new();
    for seen in race.server.received() {
        *per_url.entry(seen.url).or_default() += 1;
    }
    let most = per_url.values().max().copied().unwrap_or_default();
    assert!(most <= 3, "one request took {most} requests: {counts:?}");
    log::info!("{refusal:?}: {counts:?}");
}

#[test]
fn eight_workers_with_a_fresh_nonce_on_refusal_all_get_through() {
    init_logging();
    all_get_through(Refusal::Fresh);
}

#[test]
fn eight_workers_with_a_stale_nonce_on_refusal_all_get_through() {
    init_logging();
    all_get_through(Refusal::Stale);
}

#[test]
fn a_wrong_password_ends_in_its_401_after_one_answer() {
    for refusal in [Refusal::Fresh, Refusal::Stale] {
        let race = NcServer::start(refusal);
        let http = Http::new();
        http.add_credentials("alice", "guess", "");
        let (response, content) = http.request(&race.url("/docs/x"));
        assert_eq!(wait(&response).unwrap().status, 401, "{refusal:?}");
        assert_eq!(body(&content), b"authorization required");
        let counts = race.counts();
        assert_eq!(
            race.server.hits(),
            2,
            "{refusal:?}: the challenge and one answer: {counts:?}"
        );
        assert_eq!(counts.wrong, 1, "{refusal:?}: {counts:?}");
    }
}

#[test]
fn a_wrong_password_from_eight_workers_at_once_stays_bounded() {
    let race = NcServer::start(Refusal::Fresh);
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
