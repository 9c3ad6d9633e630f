//! An unsafe method through the cache: sent (with httplib2's `If-Match` for `PUT` and
//! `PATCH`), then the URLs it may have changed are invalidated (RFC 9111 §4.4), and a
//! `POST` response that names its own URL may answer later `GET`s.

use std::time::SystemTime;

use isahc::http::{self, Method};

use super::super::policy::{self, Directives, FetchedAt};
use super::super::storage::Cache;
use super::{Rules, authorized, chosen_by_jar, directives, load, new_entry, store};
use crate::exchange::{Exchange, Failed};
use crate::redirect::{self, Network};
use crate::request::Prepared;
use crate::{origin, sendable};

/// An unsafe method: sent, then the URLs it may have changed are invalidated.
pub(super) async fn unsafe_method(
    cache: &dyn Cache,
    rules: &Rules,
    net: &Network<'_>,
    req: &mut Prepared,
    id: u64,
) -> Result<Exchange, Box<Failed>> {
    let key = req.url.to_string();
    // httplib2's optimistic concurrency: PUT and PATCH only change what was read.
    let optimistic = matches!(req.method.as_str(), "PUT" | "PATCH");
    if optimistic && !rules.ignore_etag && !req.has_header("if-match") {
        let etag = load(cache, &key).and_then(|e| e.response.get("etag").map(str::to_owned));
        if let Some(value) = etag.and_then(|e| sendable::value(&e)) {
            req.headers.push((http::header::IF_MATCH, value));
        }
    }
    let request_time = SystemTime::now();
    let result = redirect::fetch(net, req, id).await;
    let exchange = match result {
        Ok(exchange) => exchange,
        Err(failed) => {
            // Whether the change was made is unknown: what was stored may be out of date.
            cache.delete(&key);
            return Err(failed);
        }
    };
    // RFC 9111 §4.4: a non-error response means the resource may have changed.
    let response = &exchange.response;
    if response.status < 400 {
        cache.delete(&key);
        for name in ["location", "content-location"] {
            if let Some(url) = response.get(name).and_then(|l| req.url.join(l).ok()) {
                if origin::same_origin(&url, &req.url) {
                    cache.delete(url.as_str());
                }
            }
        }
        post_answers_get(cache, rules, req, &exchange, request_time);
    }
    Ok(exchange)
}

/// RFC 9111 §4: a POST response whose `Content-Location` is its own URL, with explicit
/// freshness, is a response to a GET of that URL.
fn post_answers_get(
    cache: &dyn Cache,
    rules: &Rules,
    req: &Prepared,
    exchange: &Exchange,
    request_time: SystemTime,
) {
    let response = &exchange.response;
    let names_itself = response
        .get("content-location")
        .and_then(|l| req.url.join(l).ok())
        .is_some_and(|url| url == req.url);
    let cc = Directives::of(response);
    let explicit = cc.seconds("max-age").is_some() || response.contains_key("expires");
    if req.method != Method::POST || !names_itself || !explicit {
        return;
    }
    if !matches!(response.status, 200 | 203)
        || !policy::storable("GET", &directives(req), authorized(req), response)
        || chosen_by_jar(response, req)
    {
        return;
    }
    let fetched = FetchedAt {
        request_time,
        response_time: SystemTime::now(),
    };
    store(
        cache,
        req.url.as_str(),
        &new_entry(req, exchange, fetched),
        rules.stale_if_error,
    );
}
