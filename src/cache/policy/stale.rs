//! RFC 5861's `stale-if-error`: which failures count as an error, and when a stored
//! response may answer in place of one, and how stale it may be then.
//!
//! Three parties may allow it, and the rule is the same for each: the origin, with the
//! response directive `stale-if-error=N`; the client, with
//! [`HttpBuilder::stale_if_error`](crate::HttpBuilder::stale_if_error); and the caller of
//! one request, with the request directive `stale-if-error=N` (RFC 5861 §4). What the
//! request says is final for that request, as it is the caller's own word; otherwise the
//! longer of the origin's and the client's allowance holds. Nothing allows it for a
//! response that may not be served stale at all (RFC 9111 §4.2.4): `no-cache`,
//! `must-revalidate`, `proxy-revalidate`.

use std::time::{Duration, SystemTime};

use super::{Directives, FetchedAt, age, lifetime, secs, serves_no_stale};
use crate::{Error, Response};

/// The statuses that count as an error (RFC 5861 §4): those a gateway answers when it
/// cannot get a good answer from the server behind it.
pub(crate) const ERROR_STATUSES: [u16; 4] = [500, 502, 503, 504];

/// True if `error` means that the origin could not be reached or broke off before its
/// answer was whole: the name did not resolve, no connection could be made (to it or to
/// the proxy in front of it), a timeout ran out, the connection broke before the whole
/// response arrived, or a proxy answered the tunnel with 502, 503 or 504. A gateway would
/// answer those with a 502 or a 504.
///
/// A TLS failure does not count: a certificate that does not verify may be an attack,
/// and a stale answer would hide it (nor would it pass on its own). Nor does anything
/// about the request itself, the caller's code, or a response that arrived whole.
pub(crate) fn origin_failed(error: &Error) -> bool {
    match error {
        Error::ServerNotFound { .. }
        | Error::Connect { .. }
        | Error::Timeout { .. }
        | Error::BodyIncomplete { .. } => true,
        Error::Proxy { status, .. } => matches!(status, Some(502..=504)),
        _ => false,
    }
}

/// How stale the stored response is now, when it may answer in place of an error: within
/// the request's own `stale-if-error`, or else the response's or the `client`'s, whichever
/// allows more. `None` when nothing allows it, or it is staler than that.
pub(crate) fn stale_if_error(
    response: &Response,
    fetched: &FetchedAt,
    request: &Directives,
    client: Option<Duration>,
    now: SystemTime,
) -> Option<Duration> {
    let allowed = allowance(&Directives::of(response), request, client)?;
    let staleness = age(response, fetched, now).saturating_sub(lifetime(response, fetched));
    (staleness <= allowed).then_some(staleness)
}

/// How stale a stored response with the directives `cc` may be to answer in place of an
/// error, for a request with the directives `request`, on a client that allows `client`.
/// A request's `no-cache` (or `Pragma: no-cache`) asks for the origin's answer: only its
/// own `stale-if-error` allows a stale one then.
fn allowance(cc: &Directives, request: &Directives, client: Option<Duration>) -> Option<Duration> {
    if cc.has("no-cache") || serves_no_stale(cc) {
        return None;
    }
    if let Some(seconds) = request.seconds("stale-if-error") {
        return Some(secs(seconds));
    }
    if request.has("no-cache") {
        return None;
    }
    cc.seconds("stale-if-error").map(secs).max(client)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::TimeoutKind;

    fn response(cc: &str) -> Response {
        let mut r = Response::new(200);
        r.insert("cache-control", cc);
        r
    }

    /// A response `cc` stored `ago` seconds before `now`, with no `Date` or `Age`: its
    /// age is `ago` exactly.
    fn staleness(cc: &str, ago: u64, request: &[&str], client: Option<u64>) -> Option<u64> {
        let now = SystemTime::now();
        let then = now - Duration::from_secs(ago);
        let fetched = FetchedAt {
            request_time: then,
            response_time: then,
        };
        let request = Directives::parse(request.iter().copied());
        let client = client.map(Duration::from_secs);
        stale_if_error(&response(cc), &fetched, &request, client, now).map(|d| d.as_secs())
    }

    #[test]
    fn the_response_directive_allows_up_to_its_window_beyond_freshness() {
        // Fresh for 10 s, then 60 s more on an error: 50 s past freshness is within it.
        assert_eq!(
            staleness("max-age=10, stale-if-error=60", 60, &[], None),
            Some(50)
        );
        assert_eq!(
            staleness("max-age=10, stale-if-error=60", 70, &[], None),
            Some(60)
        );
        assert_eq!(
            staleness("max-age=10, stale-if-error=60", 71, &[], None),
            None
        );
        // Without any allowance, nothing.
        assert_eq!(staleness("max-age=10", 11, &[], None), None);
        // Fresh but asked to revalidate (a request's max-age=0): stale by nothing.
        assert_eq!(
            staleness("max-age=100, stale-if-error=1", 5, &[], None),
            Some(0)
        );
    }

    #[test]
    fn the_client_allowance_and_the_origins_the_longer_holds() {
        assert_eq!(staleness("max-age=10", 40, &[], Some(30)), Some(30));
        assert_eq!(staleness("max-age=10", 41, &[], Some(30)), None);
        assert_eq!(
            staleness("max-age=10, stale-if-error=100", 100, &[], Some(30)),
            Some(90)
        );
        assert_eq!(
            staleness("max-age=10, stale-if-error=5", 40, &[], Some(30)),
            Some(30)
        );
    }

    #[test]
    fn the_request_directive_is_final_for_its_request() {
        // It allows without anything else...
        assert_eq!(
            staleness("max-age=10", 30, &["stale-if-error=20"], None),
            Some(20)
        );
        // ...and bounds what the origin and the client would allow.
        assert_eq!(
            staleness(
                "max-age=10, stale-if-error=600",
                30,
                &["stale-if-error=5"],
                Some(600)
            ),
            None
        );
        assert_eq!(
            staleness(
                "max-age=10",
                12,
                &["max-age=0, stale-if-error=5"],
                Some(600)
            ),
            Some(2)
        );
        // A request's no-cache asks for the origin's answer, unless it says otherwise.
        assert_eq!(staleness("max-age=10", 12, &["no-cache"], Some(600)), None);
        assert_eq!(
            staleness("max-age=10, stale-if-error=60", 12, &["no-cache"], None),
            None
        );
        assert_eq!(
            staleness("max-age=10", 12, &["no-cache, stale-if-error=5"], None),
            Some(2)
        );
    }

    #[test]
    fn nothing_allows_a_response_that_may_not_be_served_stale() {
        for cc in [
            "max-age=10, must-revalidate, stale-if-error=600",
            "max-age=10, proxy-revalidate, stale-if-error=600",
            "max-age=10, no-cache, stale-if-error=600",
            "max-age=10, no-cache=\"set-cookie\", stale-if-error=600",
        ] {
            assert_eq!(staleness(cc, 12, &[], Some(600)), None, "{cc}");
            assert_eq!(
                staleness(cc, 12, &["stale-if-error=600"], None),
                None,
                "{cc}"
            );
        }
    }

    #[test]
    fn an_invalid_window_allows_nothing_of_its_own() {
        for cc in [
            "max-age=10, stale-if-error",
            "max-age=10, stale-if-error=-1",
            "max-age=10, stale-if-error=1m",
        ] {
            assert_eq!(staleness(cc, 11, &[], None), None, "{cc}");
            assert_eq!(staleness(cc, 11, &[], Some(5)), Some(1), "{cc}");
        }
    }

    #[test]
    fn failures_of_the_origin_count_and_others_do_not() {
        let isahc = || Arc::new(isahc::Error::from(isahc::error::ErrorKind::Unknown));
        let counted = [
            Error::ServerNotFound {
                host: "h".into(),
                source: isahc(),
            },
            Error::Connect {
                authority: "h:80".into(),
                proxy: None,
                to: None,
                source: isahc(),
            },
            Error::Timeout {
                after: Duration::from_secs(1),
                bound: TimeoutKind::Connect,
            },
            Error::Timeout {
                after: Duration::from_secs(1),
                bound: TimeoutKind::Total,
            },
            Error::BodyIncomplete {
                received: 0,
                expected: None,
                source: isahc(),
            },
            Error::Proxy {
                proxy: "p:3128".into(),
                target: "h:443".into(),
                status: Some(502),
                source: isahc(),
            },
        ];
        for error in &counted {
            assert!(origin_failed(error), "{error}");
        }
        let not_counted = [
            Error::Tls {
                reason: Some("invalid peer certificate: UnknownIssuer".into()),
                source: isahc(),
            },
            Error::Proxy {
                proxy: "p:3128".into(),
                target: "h:443".into(),
                status: Some(407),
                source: isahc(),
            },
            Error::Transport { source: isahc() },
            Error::BodyTooLarge { limit: 1 },
            Error::invalid("bad header"),
            Error::Closed,
        ];
        for error in &not_counted {
            assert!(!origin_failed(error), "{error}");
        }
    }
}
