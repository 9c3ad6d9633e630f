//! What a request comes to on its worker: a response with its body, or a failure with the
//! redirects that led to it.

use url::Url;

use crate::{Error, Response};

/// A response and its body, as one request's outcome.
pub(crate) struct Exchange {
    pub(crate) response: Response,
    pub(crate) content: Vec<u8>,
}

/// A request that failed on the worker, with the redirects that led to it.
pub(crate) struct Failed {
    pub(crate) error: Error,
    pub(crate) previous: Option<Box<Response>>,
    pub(crate) url: Url,
}

impl Failed {
    /// A failure at `url`, with no redirect before it.
    pub(crate) fn at(error: Error, url: &Url) -> Self {
        Failed {
            error,
            previous: None,
            url: url.clone(),
        }
    }
}
