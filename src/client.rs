//! What every request of an `Http` shares on its way through a worker, behind one `Arc`:
//! the transport, the credentials, the redirect policy, the cache and the shutdown gate.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Credentials;
use crate::cache::Cache;
use crate::deadline::Deadline;
use crate::redirect::{Network, Policy, StoredHops};
use crate::shutdown::Gate;
use crate::transport::Transport;

pub(crate) struct Client {
    pub(crate) transport: Transport,
    pub(crate) credentials: Credentials,
    pub(crate) redirects: Policy,
    pub(crate) cache: Option<Arc<dyn Cache>>,
    pub(crate) ignore_etag: bool,
    pub(crate) force_exception_to_status_code: bool,
    /// A request's whole budget, unless it sets its own; see [`Deadline`].
    pub(crate) timeout: Duration,
    pub(crate) gate: Gate,
}

impl Client {
    /// What the redirect loop needs, for one request with this deadline.
    pub(crate) fn network(&self, deadline: Deadline) -> Network<'_> {
        Network {
            transport: &self.transport,
            credentials: &self.credentials,
            policy: &self.redirects,
            stored: self.cache.as_ref().map(|c| c as &dyn StoredHops),
            deadline,
        }
    }

    /// A deadline for a request that asked for `own` timeout, or the client's.
    pub(crate) fn deadline(&self, own: Option<Duration>) -> Deadline {
        Deadline::start(own.unwrap_or(self.timeout))
    }
}
