//! What a request's method allows (RFC 9110 §9.2): who may follow, store or send it again.

use isahc::http::Method;

/// httplib2's `SAFE_METHODS`: followed on any redirect, answered from the cache.
pub(crate) fn is_safe(method: &Method) -> bool {
    matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// Idempotent methods (RFC 9110 §9.2.2): sent again without harm if a kept-alive
/// connection turns out to be closed. Anything else is never sent twice.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    is_safe(method) || matches!(method.as_str(), "PUT" | "DELETE")
}
