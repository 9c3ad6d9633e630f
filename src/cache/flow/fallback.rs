//! A stale stored response in place of the origin's failure (RFC 5861's `stale-if-error`,
//! and the client's `HttpBuilder::stale_if_error`). When a GET's revalidation or refetch
//! fails, `get` keeps the stored response that may answer instead ([`Fallback`]); the
//! request's life gives it ([`fall_back`]) once the request will not be sent again, so
//! that retries come first. When it is given, it is marked: `Warning` 110 and 111, and
//! [`StaleOnError`].

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

/// How the origin failed, when it did in a way a stored response may answer for: an error
/// of the kinds `policy::origin_failed` lists, or a status of `policy::ERROR_STATUSES`.
pub(super) fn cause(fetched: &Result<Exchange, Box<Failed>>) -> Option<Cause> {
    match fetched {
        Ok(exchange) => {
            let status = exchange.response.status;
            policy::ERROR_STATUSES
                .contains(&status)
                .then_some(Cause::Status(status))
        }
        Err(failed) => {
            policy::origin_failed(&failed.error).then(|| Cause::Failed(failed.error.clone()))
        }
    }
}

/// What a request comes to once it will not be sent again: `fetched`, or, when the origin
/// failed and a stored response may answer instead, that response, marked.
pub(crate) fn fall_back(
    fetched: Result<Exchange, Box<Failed>>,
    fallback: Option<Box<Fallback>>,
    id: u64,
) -> Result<Exchange, Box<Failed>> {
    let (Some(fallback), Some(cause)) = (fallback, cause(&fetched)) else {
        return fetched;
    };
    let Fallback { entry, staleness } = *fallback;
    let mut answered = answer(entry, SystemTime::now());
    let response = &mut answered.response;
    // The origin's answer came over the network, as a 304's does: its timings are these.
    if let Ok(exchange) = fetched {
        response.timings = exchange.response.timings;
    }
    response.append("warning", STALE);
    response.append("warning", REVALIDATION_FAILED);
    let stale = StaleOnError::new(cause, staleness);
    logs::debug!("req={id} {stale}");
    response.set_stale_on_error(stale);
    Ok(answered)
}
