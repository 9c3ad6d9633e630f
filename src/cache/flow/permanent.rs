//! httplib2's cached permanent redirects: a 301 or 308 is stored under the URL that gave
//! it, and while it is in force a request to that URL goes straight to its target.

use std::time::SystemTime;

use url::Url;

use super::super::entry::Entry;
use super::super::policy::{self, Directives, FetchedAt, Usable};
use super::super::storage::Cache;
use super::{answer, directives, load, store, stored};
use crate::Response;
use crate::request::Prepared;

/// httplib2's cached permanent redirects: while the entry for the request's URL is a
/// 301 or 308 still in force, go straight to its target without asking. Returns the redirects
/// taken, newest first, marked as from the cache.
pub(super) fn follow_permanent_redirects(
    cache: &dyn Cache,
    req: &mut Prepared,
) -> Option<Box<Response>> {
    let mut chain: Option<Box<Response>> = None;
    let wanted = directives(req);
    while req.redirections > 0 {
        let Some(entry) = load(cache, req.url.as_str()) else {
            break;
        };
        let now = SystemTime::now();
        let fresh = policy::usable(&entry.response, &entry.fetched, &wanted, now) == Usable::Fresh;
        if !matches!(entry.response.status, 301 | 308)
            || !(fresh || policy::lasts_for_ever(&entry.response))
        {
            break;
        }
        let Some(target) = entry
            .response
            .get("location")
            .and_then(|l| Url::parse(l).ok())
        else {
            break;
        };
        let mut hop = answer(entry, now).response;
        hop.previous = chain.take();
        chain = Some(Box::new(hop));
        req.url = target;
        req.redirections -= 1;
    }
    chain
}

/// Stores the 301 and 308 responses of a chain that may be stored, under the URLs that
/// gave them.
pub(super) fn remember_permanent_redirects(cache: &dyn Cache, mut hop: Option<&Response>) {
    while let Some(response) = hop {
        let url = response.get("content-location");
        let storable = policy::storable("GET", &Directives::default(), false, response)
            && !response.from_cache;
        if let (true, Some(url), true, true) = (
            matches!(response.status, 301 | 308),
            url,
            response.contains_key("location"),
            storable,
        ) {
            let now = SystemTime::now();
            let entry = Entry {
                response: stored(response),
                body: Vec::new(),
                fetched: FetchedAt {
                    request_time: now,
                    response_time: now,
                },
                vary: Vec::new(),
            };
            // A redirect never answers in place of an error: no stale_if_error to keep
            // it for.
            store(cache, url, &entry, None);
        }
        hop = response.previous.as_deref();
    }
}

/// Puts `older` at the end of a `previous` chain.
pub(super) fn append_oldest(chain: &mut Option<Box<Response>>, older: Option<Box<Response>>) {
    match chain {
        Some(response) => append_oldest(&mut response.previous, older),
        None => *chain = older,
    }
}
