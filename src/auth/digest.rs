//! Digest's arithmetic (RFC 7616): reading a challenge we can answer, and writing the
//! answer for one nonce count.

use std::fmt::Write as _;

use isahc::http::Method;
use md5::Md5;
use sha2::{Digest as _, Sha256};
use url::Url;

use super::Credential;
use super::challenge::{Challenge, parse_params};

/// What a Digest challenge asks for, with the nonce to answer it with.
#[derive(Clone)]
pub(super) struct DigestState {
    pub(super) realm: String,
    pub(super) nonce: String,
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

/// A Digest challenge we can answer: a known algorithm, and `qop=auth` when a qop is given.
pub(super) fn digest_state(challenge: &Challenge) -> Option<DigestState> {
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

pub(super) fn is_stale(challenge: &Challenge) -> bool {
    challenge
        .param("stale")
        .is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

/// A `nextnonce` in `Authentication-Info` replaces the nonce (its count starts over).
pub(super) fn adopt_next_nonce(state: &mut DigestState, info: &str) {
    if let Some((_, next)) = parse_params(info)
        .into_iter()
        .find(|(k, _)| k == "nextnonce")
    {
        state.nonce = next;
    }
}

/// The `Authorization` value for one request with nonce count `nc`.
pub(super) fn digest_response(
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

/// A random token; the nonce count makes each request's hash unique besides.
fn cnonce() -> String {
    crate::random::token()
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, b| {
            let _ = write!(text, "{b:02x}");
            text
        })
}

#[cfg(test)]
mod tests {
    use super::super::challenge::parse_challenges;
    use super::*;
    use crate::origin::Domain;

    /// RFC 7616 §3.9.1's example, SHA-256 and MD5, with its cnonce.
    #[test]
    fn rfc7616_example_responses() {
        let credential = Credential {
            name: "Mufasa".to_owned(),
            password: "Circle of Life".to_owned(),
            domain: Domain::new(""),
            from_netrc: false,
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
}
