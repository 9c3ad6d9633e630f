//! A stale stored response in place of the origin's failure (RFC 5861's `stale-if-error`,
//! and the client's `HttpBuilder::stale_if_error`). When a GET's revalidation or refetch
//! fails, `get` keeps the stored response that may answer instead ([`Fallback`]); the
//! request's life gives it ([`fall_back`]) once the request will not be sent again, so
//! that retries come first. When it is given, it is marked: `Warning` 110 and 111, and
//! [`StaleOnError`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::super::entry::Entry;
use super::super::policy::{self, Directives};
use super::{Rules, answer};
use crate::exchange::{Exchange, Failed};
use crate::logs;
use crate::response::{Cause, StaleOnError};

/// RFC 7234 §5.5.1: "a cache SHOULD generate this whenever the sent response is stale".
const STALE: &str = "110 - \"Response is Stale\"";

/// RFC 7234 §5.5.2: "an attempt to validate the response failed, due to an inability to
/// reach the server".
const REVALIDATION_FAILED: &str = "111 - \"Revalidation Failed\"";

/// A stored response that may answer a request in place of the origin's failure, and how
/// stale it was when the origin failed.
pub(crate) struct Fallback {
    entry: Entry,
    staleness: Duration,
}

impl Fallback {
    /// `entry`, if it may answer a request with the directives `wanted` in place of an
    /// error now (see `policy::stale_if_error`).
    pub(super) fn of(entry: Entry, wanted: &Directives, rules: &Rules) -> Option<Box<Self>> {
        // A stored redirect is the redirect loop's to follow, not an answer of its own.
        if entry.response.contains_key("location") {
            return None;
        }
        let staleness = policy::stale_if_error(
            &entry.response,
            &entry.fetched,
            wanted,
            rules.stale_if_error,
            SystemTime::now(),
        )?;
        Some(Box::new(Fallback { entry, staleness }))
    }
}

/// True if `fetched` is a failure of the origin that a stored response may answer for: an
/// error of the kinds `policy::origin_failed` lists, or a status of
/// `policy::ERROR_STATUSES`.
pub(super) fn origin_failed(fetched: &Result<Exchange, Box<Failed>>) -> bool {
    match fetched {
        Ok(exchange) => policy::ERROR_STATUSES.contains(&exchange.response.status),
        Err(failed) => policy::origin_failed(&failed.error),
    }
}

/// What a request comes to once it will not be sent again: `fetched`, or, when the origin
/// failed and a stored response may answer instead, that response, marked.
pub(crate) fn fall_back(
    fetched: Result<Exchange, Box<Failed>>,
    fallback: Option<Box<Fallback>>,
    id: u64,
) -> Result<Exchange, Box<Failed>> {
    let Some(fallback) = fallback.filter(|_| origin_failed(&fetched)) else {
        return fetched;
    };
    let Fallback { entry, staleness } = *fallback;
    let mut answered = answer(entry, SystemTime::now());
    let response = &mut answered.response;
    let cause = match fetched {
        Ok(exchange) => {
            // The origin's answer came over the network, as a 304's does: its timings are
            // these.
            response.timings = exchange.response.timings;
            Cause::Status(Box::new(exchange.response))
        }
        Err(failed) => Cause::Failed(Arc::new(failed.error)),
    };
    // A response not yet stale (a request's max-age=0 asked to revalidate it) is not
    // called stale.
    if !staleness.is_zero() {
        response.append("warning", STALE);
    }
    response.append("warning", REVALIDATION_FAILED);
    let stale = StaleOnError::new(cause, staleness);
    logs::debug!("req={id} {stale}");
    response.set_stale_on_error(stale);
    Ok(answered)
}
