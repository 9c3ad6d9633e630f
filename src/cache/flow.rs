//! A request's way through the cache (HTTPLIB2.md §c.4, RFC 9111), by method:
//!
//! - `GET`: a stored response that matches the request (its URL, and the headers its
//!   `Vary` names) answers it while fresh, with its current `Age`; within
//!   `stale-while-revalidate` it answers too, and the worker refreshes it after handing the
//!   answer over; otherwise it is validated with its `ETag` and `Last-Modified`, and a `304`
//!   that describes it updates it and answers `200` from it. A storable response replaces
//!   it. When the origin fails, a stale stored response may answer in its place
//!   (`fallback`: `stale-if-error`). A `Range` is answered from a complete stored response.
//! - `HEAD`: answered by a fresh `GET` entry; a `HEAD` response about the stored one
//!   updates its header fields.
//! - Unsafe methods (`unsafe_method`): sent (with httplib2's `If-Match` for `PUT` and
//!   `PATCH`), then, if the response is not an error, the URL is invalidated, and so are
//!   its `Location` and `Content-Location` on the same origin. A `POST` response that names
//!   its own URL in `Content-Location`, with explicit freshness, answers later `GET`s.
//!
//! The rules themselves are in [`policy`]; this file only applies them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use isahc::http::{HeaderName, Method};
use url::Url;

use super::entry::Entry;
use super::policy::{self, Directives, FetchedAt, Usable};
use super::range::{self, Answer};
use super::storage::Cache;
use crate::Response;
use crate::exchange::Exchange;
use crate::exchange::Failed;
use crate::logs;
use crate::method::is_safe;
use crate::redirect::{self, Network, StoredHops};
use crate::request::Prepared;
use crate::response::http_reason;
use crate::{sendable, uri};

mod fallback;
mod permanent;
mod stored;
mod unsafe_method;

pub(crate) use self::fallback::{Fallback, fall_back};
use self::permanent::{append_oldest, follow_permanent_redirects, remember_permanent_redirects};
use self::stored::{load, store};
use self::unsafe_method::unsafe_method;

/// What a client's settings tell its cache.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Rules {
    /// httplib2's `ignore_etag`: a stored `ETag` is never sent back.
    pub(crate) ignore_etag: bool,
    /// `HttpBuilder::stale_if_error`: how stale a stored response may be to answer in
    /// place of an error, beyond what the response itself allows.
    pub(crate) stale_if_error: Option<Duration>,
}

/// What the cache gives back for a request: what was fetched or answered; when the
/// answer was a stale response served within `stale-while-revalidate`, the request that
/// refreshes it, for the worker to send once the caller has its answer; and when the
/// origin failed, the stored response that may answer instead ([`fall_back`]), once the
/// request's retries are spent.
pub(crate) struct Through {
    pub(crate) fetched: Result<Exchange, Box<Failed>>,
    pub(crate) refresh: Option<Prepared>,
    pub(crate) fallback: Option<Box<Fallback>>,
}

impl From<Result<Exchange, Box<Failed>>> for Through {
    fn from(fetched: Result<Exchange, Box<Failed>>) -> Self {
        Through {
            fetched,
            refresh: None,
            fallback: None,
        }
    }
}

/// Sends `req` through `cache`: answered from it, revalidated against it, or fetched and
/// stored in it. The store is called as it is (it may block): a request with a cache runs
/// on a worker thread.
pub(crate) async fn fetch(
    cache: &dyn Cache,
    rules: &Rules,
    net: &Network<'_>,
    req: &mut Prepared,
    id: u64,
) -> Through {
    if !is_safe(&req.method) {
        return unsafe_method(cache, rules, net, req, id).await.into();
    }
    if req.method == Method::HEAD {
        return head(cache, rules, net, req, id).await.into();
    }
    if req.method != Method::GET {
        return redirect::fetch(net, req, id).await.into();
    }
    if req.has_header("range") {
        return ranged(cache, rules, net, req, id).await.into();
    }
    let jumped = match net.policy.follows(&Method::GET, 301) {
        true => follow_permanent_redirects(cache, req),
        false => None,
    };
    let mut through = get(cache, rules, net, req, id, false).await;
    if let Ok(exchange) = &mut through.fetched {
        let response = &mut exchange.response;
        remember_permanent_redirects(cache, response.previous.as_deref());
        append_oldest(&mut response.previous, jumped);
    }
    through
}

/// The answer to `req` if a fresh entry gives it as it stands: a plain GET whose entry is
/// fresh for it. Anything else is the worker's to decide. Runs on the caller's thread.
pub(crate) fn fresh(cache: &dyn Cache, req: &Prepared) -> Option<Exchange> {
    if req.method != Method::GET || req.has_header("range") {
        return None;
    }
    let entry = Entry::from_bytes(&cache.get(req.url.as_str())?)?;
    // A stored redirect is followed or not by the worker, as the client's policy says.
    if entry.response.contains_key("location") {
        return None;
    }
    let now = SystemTime::now();
    fresh_for(&entry, req, now).then(|| answer(entry, now))
}

/// The answer to a redirect's next hop if a fresh entry gives it: how each hop of a chain
/// is looked up in the cache, as its first request is. A stored redirect is not taken
/// here: the loop asks for it, so it is followed with the loop's own checks.
fn hop(cache: &dyn Cache, req: &Prepared) -> Option<Exchange> {
    let exchange = fresh(cache, req)?;
    logs::debug!("{} fresh in the cache", uri::without_query(&req.url));
    Some(exchange)
}

/// Each hop after the first of a redirect chain is looked up in the cache.
impl StoredHops for Arc<dyn Cache> {
    fn hop(&self, req: &Prepared) -> Option<Exchange> {
        hop(self.as_ref(), req)
    }
}

/// Refreshes a stale entry served within `stale-while-revalidate`; the caller already has
/// its answer, so the outcome is only logged.
pub(crate) async fn refresh(
    cache: &dyn Cache,
    rules: &Rules,
    net: &Network<'_>,
    mut req: Prepared,
    id: u64,
) {
    let Through {
        fetched, fallback, ..
    } = get(cache, rules, net, &mut req, id, true).await;
    match fetched {
        Ok(exchange) if fallback.is_none() => logs::debug!(
            "req={id} refreshed {} in the background -> {}",
            uri::without_query(&req.url),
            exchange.response.status
        ),
        Ok(exchange) => logs::debug!(
            "req={id} could not refresh {} in the background: {}; the stored response is kept",
            uri::without_query(&req.url),
            exchange.response.status
        ),
        Err(failed) => logs::debug!(
            "req={id} could not refresh {} in the background: {}",
            uri::without_query(&req.url),
            failed.error
        ),
    }
}

/// A GET through the cache, once permanent redirects are followed. `refreshing`: the
/// background refresh of a stale entry, which always asks the server.
async fn get(
    cache: &dyn Cache,
    rules: &Rules,
    net: &Network<'_>,
    req: &mut Prepared,
    id: u64,
    refreshing: bool,
) -> Through {
    let key = req.url.to_string();
    let wanted = directives(req);
    // At most twice: a 304 about another response than the stored one deletes it, and the
    // request is asked again without validators.
    loop {
        let entry = load(cache, &key).filter(|entry| matches_vary(entry, req));
        let now = SystemTime::now();
        let mut validating = None;
        if let Some(entry) = entry {
            // httplib2: only-if-cached takes any stored response, fresh or not.
            let usable = match (refreshing, wanted.has("only-if-cached")) {
                (true, _) => Usable::Revalidate,
                (false, true) => Usable::Fresh,
                (false, false) => policy::usable(&entry.response, &entry.fetched, &wanted, now),
            };
            match usable {
                Usable::Fresh => {
                    logs::debug!("req={id} fresh in the cache");
                    return Ok(answer(entry, now)).into();
                }
                Usable::StaleWhileRevalidate => {
                    logs::debug!("req={id} stale in the cache, within stale-while-revalidate");
                    return Through {
                        refresh: Some(refresh_of(req)),
                        ..Ok(answer(entry, now)).into()
                    };
                }
                Usable::Revalidate => validating = Some(entry),
            }
        }
        if validating.is_none() && wanted.has("only-if-cached") {
            return Ok(gateway_timeout(&req.url)).into();
        }
        // A caller's own conditional request is theirs: its 304 goes back to them as it is.
        let own_conditional =
            req.has_header("if-none-match") || req.has_header("if-modified-since");
        let mut added = Vec::new();
        if let (Some(entry), false) = (&validating, own_conditional) {
            for (name, value) in policy::validators(&entry.response, rules.ignore_etag) {
                // A validator the transport cannot send back (a byte outside ASCII) is left
                // out.
                if let Some(value) = sendable::value(&value) {
                    let name = HeaderName::from_static(name);
                    added.push(name.clone());
                    req.headers.push((name, value));
                }
            }
        }
        let request_time = SystemTime::now();
        let fetched = redirect::fetch(net, req, id).await;
        // The origin failed: the stored response may answer instead, once retries are
        // spent; a server error is then neither stored nor put in its place.
        let fallback = match fallback::origin_failed(&fetched) {
            true => validating
                .take()
                .and_then(|entry| Fallback::of(entry, &wanted, rules)),
            false => None,
        };
        let mut exchange = match fetched {
            Ok(exchange) if fallback.is_none() => exchange,
            fetched => {
                return Through {
                    fallback,
                    ..fetched.into()
                };
            }
        };
        let fetched = FetchedAt {
            request_time,
            response_time: SystemTime::now(),
        };
        if let (Some(mut entry), 304, false) =
            (validating, exchange.response.status, added.is_empty())
        {
            if policy::describes(&exchange.response, &entry.response) {
                policy::update(&mut entry.response, &exchange.response);
                entry.response.previous = exchange.response.previous.take();
                entry.fetched = fetched;
                store(cache, &key, &entry, rules.stale_if_error);
                let mut answered = answer(entry, fetched.response_time);
                // Answered from the cache, but over the network: the 304's exchange is its.
                answered.response.timings = exchange.response.timings;
                return Ok(answered).into();
            }
            // A 304 about another response than ours: ask again, without our validators.
            cache.delete(&key);
            req.headers.retain(|(name, _)| !added.contains(name));
            continue;
        }
        keep(cache, rules, req, &exchange, fetched);
        return Ok(exchange).into();
    }
}

/// Stores a response to a GET when it may be stored; otherwise forgets what was stored for
/// its URL, which it replaces.
fn keep(cache: &dyn Cache, rules: &Rules, req: &Prepared, exchange: &Exchange, fetched: FetchedAt) {
    // After redirects, the entry is for the URL that answered: `req` is the last request.
    let key = req.url.as_str();
    let response = &exchange.response;
    // A caller's own 304 has nothing to store; a hop answered from the cache is stored.
    if response.status == 304 || response.from_cache {
        return;
    }
    if !policy::storable(
        req.method.as_str(),
        &directives(req),
        authorized(req),
        response,
    ) || chosen_by_jar(response, req)
    {
        cache.delete(key);
        return;
    }
    store(
        cache,
        key,
        &new_entry(req, exchange, fetched),
        rules.stale_if_error,
    );
}

/// A GET with `Range`: from a complete fresh entry when there is one; otherwise sent, and
/// a complete response (a server that ignored the range) is stored.
async fn ranged(
    cache: &dyn Cache,
    rules: &Rules,
    net: &Network<'_>,
    req: &mut Prepared,
    id: u64,
) -> Result<Exchange, Box<Failed>> {
    let key = req.url.to_string();
    let now = SystemTime::now();
    let entry = load(cache, &key).filter(|entry| {
        entry.response.status == 200 && !req.has_header("if-range") && fresh_for(entry, req, now)
    });
    if let Some(entry) = entry {
        let range = header(req, "range").unwrap_or_default();
        let whole = entry.body.len();
        let mut exchange = answer(entry, now);
        match range::answer(&range, whole) {
            Answer::Partial {
                range,
                content_range,
            } => {
                exchange.content = exchange.content[range].to_vec();
                as_status(&mut exchange.response, 206);
                exchange.response.insert("content-range", content_range);
            }
            Answer::Unsatisfiable { content_range } => {
                exchange.content.clear();
                as_status(&mut exchange.response, 416);
                exchange.response.insert("content-range", content_range);
            }
            Answer::Whole => {}
        }
        let length = exchange.content.len().to_string();
        exchange.response.insert("content-length", length);
        logs::debug!("req={id} range answered from the cache");
        return Ok(exchange);
    }
    let request_time = SystemTime::now();
    let exchange = redirect::fetch(net, req, id).await?;
    if exchange.response.status == 200 {
        let fetched = FetchedAt {
            request_time,
            response_time: SystemTime::now(),
        };
        keep(cache, rules, req, &exchange, fetched);
    }
    Ok(exchange)
}

/// A HEAD: a fresh GET entry answers it (httplib2 shares one entry); otherwise it is
/// sent, and a response about the stored one updates its header fields (RFC 9111 §4.3.5).
async fn head(
    cache: &dyn Cache,
    rules: &Rules,
    net: &Network<'_>,
    req: &mut Prepared,
    id: u64,
) -> Result<Exchange, Box<Failed>> {
    let key = req.url.to_string();
    let now = SystemTime::now();
    let entry = load(cache, &key).filter(|entry| matches_vary(entry, req));
    if let Some(entry) = entry.as_ref().filter(|entry| fresh_for(entry, req, now)) {
        let mut exchange = answer(entry.clone(), now);
        exchange.content.clear();
        return Ok(exchange);
    }
    let exchange = redirect::fetch(net, req, id).await?;
    if let Some(mut entry) = entry {
        let validated = exchange.response.contains_key("etag")
            || exchange.response.contains_key("last-modified");
        if exchange.response.status == 200
            && validated
            && policy::describes(&exchange.response, &entry.response)
        {
            policy::update(&mut entry.response, &exchange.response);
            entry.fetched.response_time = SystemTime::now();
            store(cache, &key, &entry, rules.stale_if_error);
        }
    }
    Ok(exchange)
}

/// A stored response as an answer: marked as from the cache, with its current `Age`
/// (RFC 9111 §5.1), replacing the `Age` it was received with.
fn answer(entry: Entry, now: SystemTime) -> Exchange {
    let age = policy::age(&entry.response, &entry.fetched, now);
    let mut response = entry.response;
    response.from_cache = true;
    response.insert("age", age.as_secs().to_string());
    Exchange {
        response,
        content: entry.body,
    }
}

/// The entry that stores the response to `req`.
fn new_entry(req: &Prepared, exchange: &Exchange, fetched: FetchedAt) -> Entry {
    Entry {
        response: stored(&exchange.response),
        body: exchange.content.clone(),
        fetched,
        vary: vary_values(&exchange.response, req),
    }
}

/// True if the response varies on `Cookie` and the request's `Cookie`, if any, came from
/// the cookie jar, which the transport adds and the cache never sees: what it was chosen by
/// is unknown, so it is not stored.
fn chosen_by_jar(response: &Response, req: &Prepared) -> bool {
    req.jar_cookies()
        && response
            .get_all("vary")
            .flat_map(|line| line.split(','))
            .any(|name| name.trim().eq_ignore_ascii_case("cookie"))
}

/// True if the request carries credentials: its response is for that user only.
fn authorized(req: &Prepared) -> bool {
    req.has_header("authorization") || req.authorization.is_some()
}

/// A response as stored: without the redirects that led to it, and without the fields
/// that describe one connection.
fn stored(response: &Response) -> Response {
    let mut stored = response.clone();
    stored.previous = None;
    stored.from_cache = true;
    for name in policy::connection_names(response)
        .iter()
        .map(String::as_str)
        .chain(policy::NOT_STORED)
    {
        stored.remove(name);
    }
    stored
}

/// The request's values of the headers that the response's `Vary` names.
fn vary_values(response: &Response, req: &Prepared) -> Vec<(String, Option<String>)> {
    response
        .get_all("vary")
        .flat_map(|line| line.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .map(|name| {
            let value = header(req, &name);
            (name, value)
        })
        .collect()
}

/// True if the entry answers `req` now without asking: chosen by the same values, and
/// fresh for the request's directives.
fn fresh_for(entry: &Entry, req: &Prepared, now: SystemTime) -> bool {
    matches_vary(entry, req)
        && policy::usable(&entry.response, &entry.fetched, &directives(req), now) == Usable::Fresh
}

/// True if `req` has the values the stored response was chosen by (RFC 9111 §4.1):
/// compared with runs of spaces and the spaces around commas set aside. A response chosen
/// by `Cookie` never answers a request whose cookies come from the jar (see
/// [`chosen_by_jar`]); such an entry comes from a store shared with a client without one.
fn matches_vary(entry: &Entry, req: &Prepared) -> bool {
    if req.jar_cookies() && entry.vary.iter().any(|(name, _)| name == "cookie") {
        return false;
    }
    let normal = |v: &Option<String>| {
        v.as_deref().map(|v| {
            v.split(',')
                .map(|part| part.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    entry
        .vary
        .iter()
        .all(|(name, value)| normal(&header(req, name)) == normal(value))
}

/// The status of a response made from a stored one, with its own reason phrase.
fn as_status(response: &mut Response, status: u16) {
    response.status = status;
    response.reason = http_reason(status).to_owned();
    response.insert("status", status.to_string());
}

/// A request header's value, its lines joined as a list; `None` when absent.
fn header(req: &Prepared, name: &str) -> Option<String> {
    let values: Vec<&str> = req
        .headers
        .iter()
        .filter(|(k, _)| k.as_str().eq_ignore_ascii_case(name))
        .filter_map(|(_, v)| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The request's `Cache-Control`, or `Pragma: no-cache` when it has none (RFC 9111 §5.4).
fn directives(req: &Prepared) -> Directives {
    let lines = |name: &str| -> Vec<&str> {
        req.headers
            .iter()
            .filter(|(k, _)| k.as_str() == name)
            .filter_map(|(_, v)| v.to_str().ok())
            .collect()
    };
    let cache_control = lines("cache-control");
    if cache_control.is_empty() {
        let pragma = Directives::parse(lines("pragma"));
        if pragma.has("no-cache") {
            return Directives::parse(["no-cache"]);
        }
    }
    Directives::parse(cache_control)
}

/// The request that refreshes a stale entry: the same GET, without the caller's body,
/// callback, retries or per-hop state.
fn refresh_of(req: &Prepared) -> Prepared {
    let mut refresh = req.copy_to_resend();
    refresh.method = Method::GET;
    refresh.body = crate::Body::empty();
    refresh.again = None;
    refresh.retry = None;
    refresh
}

/// True if the request asks for a stored response only (`only-if-cached`).
pub(crate) fn only_if_cached(req: &Prepared) -> bool {
    directives(req).has("only-if-cached")
}

/// httplib2's answer to `only-if-cached` without an entry (or without a cache): 504,
/// empty, nothing sent.
pub(crate) fn gateway_timeout(url: &Url) -> Exchange {
    let mut response = Response::new(504);
    response.url = url.to_string();
    response.insert("content-length", "0");
    Exchange {
        response,
        content: Vec::new(),
    }
}
