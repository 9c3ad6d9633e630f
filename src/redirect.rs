//! Following redirects as httplib2 does, in our own loop, with an origin policy for
//! credentials that httplib2 and isahc's own redirect following lack.

use std::sync::{Arc, Mutex};

use isahc::http::{HeaderName, HeaderValue, Method};
use url::Url;

use crate::auth::Credentials;
use crate::body::Again;
use crate::deadline::Deadline;
use crate::exchange::{Exchange, Failed};
use crate::hooks;
use crate::method::is_safe;
use crate::origin::same_origin;
use crate::request::Prepared;
use crate::transport::Transport;
use crate::{Error, Response, logs, sync, uri};

/// httplib2's `REDIRECT_CODES`.
pub(crate) const REDIRECT_CODES: [u16; 6] = [300, 301, 302, 303, 307, 308];

/// The most of a redirect's body kept, undecoded, for the errors that carry it.
const REDIRECT_BODY_CAP: u64 = 64 * 1024;

/// Never sent to an origin other than the one the caller asked for.
const ORIGIN_BOUND: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// Validators of the first URL, dropped on every redirect (as httplib2 does).
const VALIDATORS: [&str; 2] = ["if-none-match", "if-modified-since"];

/// What an `Http` follows, from its builder.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) follow: bool,
    pub(crate) follow_all: bool,
    pub(crate) codes: Vec<u16>,
    pub(crate) forward_authorization: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            follow: true,
            follow_all: false,
            codes: REDIRECT_CODES.to_vec(),
            forward_authorization: false,
        }
    }
}

impl Policy {
    /// httplib2's rule: safe methods are followed, others only with `follow_all`, except
    /// 303 and 308, which are followed for any method.
    pub(crate) fn follows(&self, method: &Method, status: u16) -> bool {
        self.follow
            && self.codes.contains(&status)
            && (self.follow_all || is_safe(method) || matches!(status, 303 | 308))
    }
}

/// What following a request's redirects needs of its client.
#[derive(Clone, Copy)]
pub(crate) struct Network<'a> {
    pub(crate) transport: &'a Transport,
    pub(crate) credentials: &'a Credentials,
    pub(crate) policy: &'a Policy,
    /// Answers a hop after the first from the cache, when the client has one.
    pub(crate) stored: Option<&'a dyn StoredHops>,
    /// Shared by every exchange of the request: hops, 401 answers, revalidation.
    pub(crate) deadline: Deadline,
}

/// A cache as the redirect loop sees it: a fresh stored answer for a hop, if there is one.
pub(crate) trait StoredHops: Sync {
    fn hop(&self, req: &Prepared) -> Option<Exchange>;
}

/// Sends `req`, following redirects as the policy allows, and reads the final body.
/// `req` is left as the last request sent.
pub(crate) async fn fetch(
    net: &Network<'_>,
    req: &mut Prepared,
    id: u64,
) -> Result<Exchange, Box<Failed>> {
    let Network {
        transport,
        credentials,
        policy,
        stored,
        deadline,
    } = *net;
    // The URL the caller asked for and its headers, kept once a redirect changes `req`.
    let mut first: Option<(Url, Vec<(HeaderName, HeaderValue)>)> = None;
    let mut body_dropped = false;
    let mut left = req.redirections;
    let mut previous: Option<Box<Response>> = None;
    loop {
        let failed = |error: Error, previous: Option<Box<Response>>, url: &Url| {
            Box::new(Failed {
                error,
                previous,
                url: url.clone(),
            })
        };
        if let (Some(_), Some(stored)) = (&previous, stored) {
            if let Some(mut exchange) = stored.hop(req) {
                exchange.response.previous = previous;
                return Ok(exchange);
            }
        }
        let asked_for = match &first {
            Some((url, _)) => url.clone(),
            None => req.url.clone(),
        };
        let head = match credentials
            .send(transport, req, &asked_for, &deadline)
            .await
        {
            Ok(head) => head,
            Err(e) => return Err(failed(e, previous, &req.url)),
        };
        let status = head.response.status;
        // An empty Location is no Location: it would only lead back here.
        let location = head
            .response
            .get("location")
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned);
        // A 300 without a Location is a plain response: the choices are in its body.
        if !policy.follows(&req.method, status) || (status == 300 && location.is_none()) {
            // A download's body goes to its destination, the only body that does.
            let read = match req.sink.take() {
                Some(sink) => {
                    let sink = sync::into_inner(sink);
                    let (streamed, sink) = transport.stream(head, req, sink, &deadline).await;
                    req.sink = Some(Mutex::new(sink));
                    streamed
                }
                None => transport.read(head, req, &deadline).await,
            };
            return match read {
                Ok(mut exchange) => {
                    exchange.response.previous = previous;
                    Ok(exchange)
                }
                Err(e) => Err(failed(e, previous, &req.url)),
            };
        }
        // The body of a redirect is not decoded: a bomb in it costs nothing.
        let (mut response, content) = head.skim(REDIRECT_BODY_CAP).await;
        response.insert("content-location", req.url.as_str());
        response.previous = previous.take();
        let Some(location) = location else {
            let error = Error::RedirectMissingLocation {
                response: Arc::new(response),
                content: content.into(),
            };
            return Err(failed(error, None, &req.url));
        };
        let next = match target(&req.url, &location) {
            Ok(next) => next,
            Err(reason) => {
                let error = Error::RedirectRefused {
                    location,
                    reason,
                    response: Arc::new(response),
                    content: content.into(),
                };
                return Err(failed(error, None, &req.url));
            }
        };
        response.insert("location", next.as_str());
        if left == 0 {
            let error = Error::RedirectLimit {
                limit: req.redirections,
                response: Arc::new(response),
                content: content.into(),
            };
            return Err(failed(error, None, &req.url));
        }
        left -= 1;
        logs::debug!(
            "req={id} {status} redirects to {}",
            uri::without_query(&next)
        );
        if let Err(error) = hooks::redirected(req.hooks.as_deref(), status, &req.url, &next) {
            return Err(failed(error, Some(Box::new(response)), &req.url));
        }
        let (method, keep_body) = method_after(status, &req.method);
        body_dropped |= !keep_body;
        let (asked_for, original_headers) =
            first.get_or_insert_with(|| (req.url.clone(), req.headers.clone()));
        let forward = same_origin(&next, asked_for) || policy.forward_authorization;
        req.headers = headers_for_hop(original_headers, forward, body_dropped);
        if body_dropped {
            req.body = req.body.dropped();
        } else if !req.body.is_empty() {
            req.again = Some(Again::Redirect(status));
        }
        req.method = method;
        req.url = next;
        previous = Some(Box::new(response));
    }
}

/// The caller's headers as a redirect's next request sends them: never the first URL's
/// validators, origin-bound ones only when `forward`, no `Content-*` once the body is gone.
pub(crate) fn headers_for_hop(
    original: &[(HeaderName, HeaderValue)],
    forward: bool,
    body_dropped: bool,
) -> Vec<(HeaderName, HeaderValue)> {
    original
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            let validator = VALIDATORS.contains(&name);
            let withheld = !forward && ORIGIN_BOUND.contains(&name);
            let stale = body_dropped && name.starts_with("content-");
            !(validator || withheld || stale)
        })
        .cloned()
        .collect()
}

/// Where a redirect leads: `location` resolved against the URL that answered. Only http
/// and https are followed, and userinfo in a Location is never used.
pub(crate) fn target(base: &Url, location: &str) -> Result<Url, String> {
    let mut url = base
        .join(location.trim())
        .map_err(|e| format!("bad Location: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "only http and https are followed, not {}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the Location has no host".to_owned());
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    uri::sendable(&url)?;
    Ok(url)
}

/// The method of the request that follows a redirect, and whether the body goes along.
/// 303, and 302 as httplib2 has it, become GET; so does a POST answered with 301, as
/// browsers do. 307 and 308 keep both. HEAD stays HEAD.
pub(crate) fn method_after(status: u16, method: &Method) -> (Method, bool) {
    match status {
        _ if *method == Method::HEAD => (Method::HEAD, false),
        302 | 303 => (Method::GET, false),
        301 if *method == Method::POST => (Method::GET, false),
        _ => (method.clone(), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn httplib2_follow_rules() {
        let p = Policy::default();
        assert!(p.follows(&Method::GET, 301));
        assert!(p.follows(&Method::HEAD, 307));
        assert!(!p.follows(&Method::POST, 302));
        assert!(!p.follows(&Method::POST, 307));
        assert!(p.follows(&Method::POST, 303));
        assert!(p.follows(&Method::DELETE, 308));
        assert!(!p.follows(&Method::GET, 304));
        let all = Policy {
            follow_all: true,
            ..Policy::default()
        };
        assert!(all.follows(&Method::POST, 302));
        let none = Policy {
            follow: false,
            ..Policy::default()
        };
        assert!(!none.follows(&Method::GET, 303));
        let only_300 = Policy {
            codes: vec![300],
            ..Policy::default()
        };
        assert!(!only_300.follows(&Method::GET, 301));
    }

    #[test]
    fn methods_after_redirects() {
        assert_eq!(method_after(303, &Method::PUT), (Method::GET, false));
        assert_eq!(method_after(302, &Method::POST), (Method::GET, false));
        assert_eq!(method_after(301, &Method::POST), (Method::GET, false));
        assert_eq!(method_after(301, &Method::PUT), (Method::PUT, true));
        assert_eq!(method_after(307, &Method::POST), (Method::POST, true));
        assert_eq!(method_after(308, &Method::PATCH), (Method::PATCH, true));
        assert_eq!(method_after(303, &Method::HEAD), (Method::HEAD, false));
    }

    #[test]
    fn targets_resolve_and_refuse() {
        let base = url("http://a.example:8080/dir/page?q=1");
        assert_eq!(
            target(&base, "other").unwrap().as_str(),
            "http://a.example:8080/dir/other"
        );
        assert_eq!(
            target(&base, "/root#frag").unwrap().as_str(),
            "http://a.example:8080/root"
        );
        assert_eq!(
            target(&base, "//b.example/x").unwrap().as_str(),
            "http://b.example/x"
        );
        assert_eq!(
            target(&base, "https://u:p@c.example/").unwrap().as_str(),
            "https://c.example/"
        );
        for bad in [
            "file:///etc/passwd",
            "ftp://h/",
            "data:text/plain,hi",
            "mailto:a@b",
        ] {
            assert!(target(&base, bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Whatever a server puts in Location: an http(s) URL with a host, no userinfo and
        /// no fragment, or a refusal; never a panic.
        #[test]
        fn any_location_resolves_safely_or_is_refused(
            base in "https?://[a-z]{1,8}(:[0-9]{1,5})?/[a-z/]{0,10}",
            location in "\\PC{0,40}|(https?|file|ftp|data|javascript)://[^ ]{0,30}|//[^ ]{0,20}",
        ) {
            let Ok(base) = Url::parse(&base) else { return Ok(()) };
            if let Ok(next) = target(&base, &location) {
                proptest::prop_assert!(matches!(next.scheme(), "http" | "https"));
                proptest::prop_assert!(next.host_str().is_some_and(|h| !h.is_empty()));
                proptest::prop_assert_eq!(next.username(), "");
                proptest::prop_assert!(next.password().is_none());
                proptest::prop_assert!(next.fragment().is_none());
            }
        }

        /// Origin-bound headers reach the next hop only when it is the first URL's origin
        /// (or forwarding is on); same_origin is symmetric.
        #[test]
        fn origin_bound_headers_follow_only_the_origin(
            first in "https?://(a|b)\\.example(:(80|443|8080))?/",
            next in "https?://(a|b)\\.example(:(80|443|8080))?/x",
            forward in proptest::bool::ANY,
            names in proptest::collection::vec(
                "(authorization|cookie|proxy-authorization|x-custom|accept|if-none-match|content-type)",
                0..6,
            ),
        ) {
            let (first, next) = (url(&first), url(&next));
            proptest::prop_assert_eq!(same_origin(&first, &next), same_origin(&next, &first));
            let original: Vec<_> = names
                .iter()
                .map(|n| (HeaderName::from_bytes(n.as_bytes()).unwrap(), HeaderValue::from_static("v")))
                .collect();
            let allowed = same_origin(&next, &first) || forward;
            let sent = headers_for_hop(&original, allowed, false);
            for (name, _) in &sent {
                let bound = ORIGIN_BOUND.contains(&name.as_str());
                proptest::prop_assert!(!bound || allowed, "{} sent to another origin", name);
                proptest::prop_assert!(name != "if-none-match");
            }
            let kept_custom = sent.iter().filter(|(n, _)| n == "x-custom").count();
            proptest::prop_assert_eq!(kept_custom, names.iter().filter(|n| *n == "x-custom").count());
        }
    }
}
