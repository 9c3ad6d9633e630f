//! The HTTP cache around a request (HTTPLIB2.md §c.4, RFC 9111): fresh entries answered
//! without the network, stale ones revalidated, 304s merged, unsafe methods invalidating.
//! Freshness and validation are http-cache-semantics' rules, as a private cache.

use std::time::SystemTime;

use http_cache_semantics::{AfterResponse, BeforeRequest, CacheOptions, CachePolicy};
use isahc::http::{self, HeaderName, HeaderValue, Method};

use crate::Response;
use crate::cache::Cache;
use crate::cache_entry::Entry;
use crate::lazy::Exchange;
use crate::redirect::{self, Failed, Session};
use crate::request::Prepared;
use crate::transport::is_safe;
use url::Url;

/// Headers of a 304 that never replace the stored ones.
const NOT_MERGED: [&str; 5] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "status",
];

/// Sends `req` through `cache`: answered from it, revalidated against it, or fetched and
/// stored in it.
pub(crate) fn fetch(
    cache: &dyn Cache,
    ignore_etag: bool,
    session: &Session<'_>,
    req: &mut Prepared,
    id: u64,
) -> Result<Exchange, Box<Failed>> {
    let key = req.url.to_string();
    if !is_safe(&req.method) {
        // httplib2's optimistic concurrency: PUT and PATCH only change what was read.
        let optimistic = matches!(req.method.as_str(), "PUT" | "PATCH");
        if optimistic && !ignore_etag && !has(req, "if-match") {
            let etag = load(cache, &key).and_then(|e| e.response.get("etag").map(str::to_owned));
            if let Some(value) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
                req.headers.push((http::header::IF_MATCH, value));
            }
        }
        // httplib2: an unsafe method invalidates the entry before it is sent.
        cache.delete(&key);
        return redirect::fetch(session, req, id);
    }
    if has(req, "range") {
        return redirect::fetch(session, req, id);
    }
    if req.method == Method::HEAD {
        // A fresh GET entry answers a HEAD too (httplib2 shares one entry); nothing else.
        return match load(cache, &key).filter(|entry| fresh_for_get(entry, req)) {
            Some(entry) => Ok(Exchange {
                response: entry.response,
                content: Vec::new(),
            }),
            None => redirect::fetch(session, req, id),
        };
    }
    if req.method != Method::GET {
        return redirect::fetch(session, req, id);
    }
    let jumped = follow_permanent_redirects(cache, req);
    let mut result = fetch_get(cache, ignore_etag, session, req, id);
    if let Ok(exchange) = &mut result {
        remember_permanent_redirects(cache, exchange.response.previous.as_deref());
        append_oldest(&mut exchange.response.previous, jumped);
    }
    result
}

/// The response to `req` if a fresh entry answers it as it stands: a GET without `Range`,
/// its URL's own entry fresh for it. Anything else is the worker's to decide.
pub(crate) fn fresh(cache: &dyn Cache, req: &Prepared) -> Option<Exchange> {
    if req.method != Method::GET || has(req, "range") {
        return None;
    }
    let entry = Entry::from_bytes(&cache.get(req.url.as_str())?)?;
    if !fresh_for_get(&entry, req) {
        return None;
    }
    Some(Exchange {
        response: entry.response,
        content: entry.body,
    })
}

/// True if `entry` answers `req` asked as a GET (the method entries are stored for)
/// without asking the server.
fn fresh_for_get(entry: &Entry, req: &Prepared) -> bool {
    let mut request = request_of(req);
    *request.method_mut() = Method::GET;
    matches!(
        entry.policy.before_request(&request, SystemTime::now()),
        BeforeRequest::Fresh(_)
    )
}

/// A GET through the cache, once permanent redirects are followed.
fn fetch_get(
    cache: &dyn Cache,
    ignore_etag: bool,
    session: &Session<'_>,
    req: &mut Prepared,
    id: u64,
) -> Result<Exchange, Box<Failed>> {
    let key = req.url.to_string();
    let request = request_of(req);
    let mut validating = None;
    if let Some(entry) = load(cache, &key) {
        match entry.policy.before_request(&request, SystemTime::now()) {
            BeforeRequest::Fresh(_) => {
                log::debug!("[{}] req={id} fresh in the cache", crate::pool::ThreadName);
                return Ok(Exchange {
                    response: entry.response,
                    content: entry.body,
                });
            }
            BeforeRequest::Stale {
                request: revalidation,
                matches: true,
            } => {
                for name in [http::header::IF_NONE_MATCH, http::header::IF_MODIFIED_SINCE] {
                    if ignore_etag && name == http::header::IF_NONE_MATCH {
                        continue;
                    }
                    if let (Some(value), false) =
                        (revalidation.headers.get(&name), has(req, name.as_str()))
                    {
                        req.headers.push((name, value.clone()));
                    }
                }
                validating = Some(entry);
            }
            BeforeRequest::Stale { matches: false, .. } => {} // Vary differs: a miss
        }
    }
    if validating.is_none() && only_if_cached(req) {
        return Ok(gateway_timeout(&key));
    }
    let mut exchange = redirect::fetch(session, req, id)?;
    let now = SystemTime::now();
    let status = exchange.response.status;
    if let Some(entry) = validating {
        if status == 304 {
            let answer = response_of(&exchange.response);
            if let AfterResponse::NotModified(policy, _) =
                entry.policy.after_response(&request, &answer, now)
            {
                let mut response = entry.response;
                for (name, _) in exchange.response.headers() {
                    if !NOT_MERGED.contains(&name) && !name.starts_with('-') {
                        // Each of the 304's lines, so a repeated header stays apart.
                        response.insert_all(name, exchange.response.get_all(name));
                    }
                }
                response.previous = exchange.response.previous.take();
                let updated = Entry {
                    response,
                    policy,
                    body: entry.body,
                };
                store(cache, &key, &updated);
                return Ok(Exchange {
                    response: updated.response,
                    content: updated.body,
                });
            }
        }
        if status != 200 {
            cache.delete(&key);
        }
    }
    if matches!(status, 200 | 203) {
        // After redirects, the entry is for the URL that answered.
        let (key, request) = match exchange.response.previous {
            Some(_) => (req.url.to_string(), request_of(req)),
            None => (key, request),
        };
        let answer = response_of(&exchange.response);
        let options = CacheOptions {
            shared: false,
            ..CacheOptions::default()
        };
        let policy = CachePolicy::new_options(&request, &answer, now, options);
        // A response to a request with credentials is for that user only, unless public.
        let personal = (has(req, "authorization") || req.authorization.is_some())
            && !directive(&exchange.response, "public");
        if policy.is_storable() && !personal {
            let mut stored = exchange.response.clone();
            stored.from_cache = true;
            let entry = Entry {
                response: stored,
                policy,
                body: exchange.content.clone(),
            };
            store(cache, &key, &entry);
        } else {
            cache.delete(&key);
        }
    }
    Ok(exchange)
}

/// httplib2's cached permanent redirects: while the entry for the request's URL is a 301
/// or 308, go straight to its target without asking. Returns the redirects taken, newest
/// first, marked as from the cache.
fn follow_permanent_redirects(cache: &dyn Cache, req: &mut Prepared) -> Option<Box<Response>> {
    let mut chain: Option<Box<Response>> = None;
    while req.redirections > 0 {
        let Some(entry) = load(cache, req.url.as_str()) else {
            break;
        };
        if !matches!(entry.response.status, 301 | 308) {
            break;
        }
        let Some(target) = entry
            .response
            .get("location")
            .and_then(|l| Url::parse(l).ok())
        else {
            break;
        };
        let mut hop = entry.response;
        hop.previous = chain.take();
        chain = Some(Box::new(hop));
        req.url = target;
        req.redirections -= 1;
    }
    chain
}

/// Stores the 301 and 308 responses of a chain under the URLs that gave them.
fn remember_permanent_redirects(cache: &dyn Cache, mut hop: Option<&Response>) {
    while let Some(response) = hop {
        let url = response.get("content-location");
        if let (true, Some(url), true) = (
            matches!(response.status, 301 | 308),
            url,
            response.contains_key("location"),
        ) {
            let mut stored = response.clone();
            stored.previous = None;
            stored.from_cache = true;
            let request = http::Request::get(url).body(()).unwrap_or_default();
            let policy = CachePolicy::new(&request, &response_of(&stored));
            let entry = Entry {
                response: stored,
                policy,
                body: Vec::new(),
            };
            store(cache, url, &entry);
        }
        hop = response.previous.as_deref();
    }
}

/// Puts `older` at the end of a `previous` chain.
fn append_oldest(chain: &mut Option<Box<Response>>, older: Option<Box<Response>>) {
    match chain {
        Some(response) => append_oldest(&mut response.previous, older),
        None => *chain = older,
    }
}

fn load(cache: &dyn Cache, key: &str) -> Option<Entry> {
    let bytes = cache.get(key)?;
    let entry = Entry::from_bytes(&bytes);
    if entry.is_none() {
        log::warn!("cache: the entry for {key} is damaged; deleting it");
        cache.delete(key);
    }
    entry
}

fn store(cache: &dyn Cache, key: &str, entry: &Entry) {
    if let Err(e) = cache.set(key, &entry.to_bytes()) {
        log::warn!("cache: could not store {key}: {e}");
    }
}

fn has(req: &Prepared, name: &str) -> bool {
    req.headers.iter().any(|(k, _)| k.as_str() == name)
}

fn only_if_cached(req: &Prepared) -> bool {
    req.headers.iter().any(|(k, v)| {
        k == http::header::CACHE_CONTROL
            && v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|d| d.trim().eq_ignore_ascii_case("only-if-cached"))
            })
    })
}

fn directive(response: &Response, name: &str) -> bool {
    response
        .get("cache-control")
        .is_some_and(|v| v.split(',').any(|d| d.trim().eq_ignore_ascii_case(name)))
}

/// httplib2's answer to `only-if-cached` without an entry: 504, empty, no network.
fn gateway_timeout(key: &str) -> Exchange {
    let mut response = Response::new(504);
    response.url = key.to_owned();
    response.insert("content-length", "0");
    Exchange {
        response,
        content: Vec::new(),
    }
}

/// The request as the cache rules see it.
fn request_of(req: &Prepared) -> http::Request<()> {
    let mut request = http::Request::new(());
    *request.method_mut() = req.method.clone();
    *request.uri_mut() = req.url.as_str().parse().unwrap_or_default();
    for (name, value) in &req.headers {
        request.headers_mut().append(name.clone(), value.clone());
    }
    request
}

/// A response as the cache rules see it: its real headers, line by line as received, not
/// httplib2's added keys.
fn response_of(response: &Response) -> http::Response<()> {
    let mut out = http::Response::new(());
    *out.status_mut() = http::StatusCode::from_u16(response.status).unwrap_or(http::StatusCode::OK);
    for (name, value) in response.field_lines() {
        if name == "status" || name.starts_with('-') {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    out
}
