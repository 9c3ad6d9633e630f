//! httplib2's `force_exception_to_status_code`: a failure on the worker becomes a
//! synthetic response instead of an error.

use std::sync::Arc;

use crate::exchange::Exchange;
use crate::exchange::Failed;
use crate::{Error, Response};

/// The response httplib2 would make of `failed`, or the error itself for failures that are
/// not the transport's (a callback's, a hook's, a request body's, a shut-down client's).
///
/// - An error that carries a response (the redirect errors): that response, status 500,
///   the error as its reason, its own body and `previous` chain.
/// - A body that could not be decompressed: the response as it came, status 500, the error
///   as its reason, an empty body (the undecodable bytes are not kept).
/// - A timeout: 408 `Request Timeout`, body `Request Timeout`.
/// - Anything else: 400 `Bad Request`, the error's text as the body.
pub(crate) fn as_status(failed: Failed) -> Result<Exchange, Error> {
    let Failed {
        error,
        previous,
        url,
    } = failed;
    let reason = error.to_string();
    let (mut response, content) = match error {
        Error::RedirectLimit {
            response, content, ..
        }
        | Error::RedirectMissingLocation { response, content }
        | Error::RedirectRefused {
            response, content, ..
        } => {
            let mut response = Arc::unwrap_or_clone(response);
            // As httplib2: the status becomes 500, the "status" key keeps the 3xx.
            response.status = 500;
            response.reason = reason;
            let content = content.to_vec();
            return Ok(Exchange { response, content });
        }
        // As httplib2's FailedToDecompressContent: the response as it came, status 500.
        Error::Decompress {
            response: Some(response),
            ..
        } => {
            let mut response = Arc::unwrap_or_clone(response);
            response.status = 500;
            response.reason = reason;
            response.previous = previous;
            return Ok(Exchange {
                response,
                content: Vec::new(),
            });
        }
        Error::Callback { .. } | Error::Hook { .. } | Error::Body { .. } | Error::Closed => {
            return Err(error);
        }
        Error::Timeout { .. } => synthetic(408, "Request Timeout", b"Request Timeout".to_vec()),
        other => synthetic(400, "Bad Request", other.chain().into_bytes()),
    };
    response.url = url.to_string();
    response.previous = previous;
    response.insert("content-length", content.len().to_string());
    Ok(Exchange { response, content })
}

fn synthetic(status: u16, reason: &str, content: Vec<u8>) -> (Response, Vec<u8>) {
    let mut response = Response::new(status);
    response.reason = reason.to_owned();
    response.insert("content-type", "text/plain");
    (response, content)
}
