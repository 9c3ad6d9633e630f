//! The methods of [`StaleOnError`] that know its error's type: kept here, above both
//! `Error` and `Response`, as `response::stale` says why.

use std::fmt;

use crate::Error;
use crate::response::{Cause, StaleOnError};

impl StaleOnError {
    /// The request's error, when the origin could not be reached or broke off: what the
    /// request would have failed with.
    pub fn error(&self) -> Option<&Error> {
        match self.cause() {
            Cause::Failed(error) => error.downcast_ref(),
            Cause::Status(_) => None,
        }
    }
}

/// `the origin answered 503; a stored response 12s stale answered instead`, or with the
/// error's whole chain in place of the status.
impl fmt::Display for StaleOnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.cause(), self.error()) {
            (Cause::Status(response), _) => write!(f, "the origin answered {}", response.status)?,
            (Cause::Failed(_), Some(error)) => write!(f, "the request failed ({})", error.chain())?,
            (Cause::Failed(other), None) => write!(f, "the request failed ({other})")?,
        }
        let secs = self.staleness().as_secs();
        write!(f, "; a stored response {secs}s stale answered instead")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::Response;

    #[test]
    fn display_says_what_failed_and_how_stale() {
        let mut origin = Response::new(503);
        origin.insert("retry-after", "120");
        let status = StaleOnError::new(
            Cause::Status(Box::new(origin)),
            Duration::from_millis(12_400),
        );
        assert_eq!(
            status.to_string(),
            "the origin answered 503; a stored response 12s stale answered instead"
        );
        let failed = StaleOnError::new(Cause::Failed(Arc::new(Error::Closed)), Duration::ZERO);
        assert_eq!(
            failed.to_string(),
            "the request failed (the Http client is shut down); a stored response 0s stale \
             answered instead"
        );
        assert!(matches!(failed.error(), Some(Error::Closed)));
        assert_eq!((failed.status(), status.error().is_none()), (None, true));
        assert_eq!(status.status(), Some(503));
        assert_eq!(
            status.response().and_then(|r| r.get("retry-after")),
            Some("120")
        );
        assert_ne!(status, failed);
        assert_eq!(failed, failed.clone());
    }
}
