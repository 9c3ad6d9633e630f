//! The optional parts of the errors' messages, each written once: ` through the proxy
//! …`, ` at …`, `: 407 Proxy Authentication Required`.

pub(super) fn via_suffix(proxy: Option<&str>) -> String {
    proxy
        .map(|p| format!(" through the proxy {p}"))
        .unwrap_or_default()
}

pub(super) fn at_suffix(to: Option<&str>) -> String {
    to.map(|to| format!(" at {to}")).unwrap_or_default()
}

pub(super) fn reason_suffix(reason: Option<&str>) -> String {
    reason.map(|r| format!(": {r}")).unwrap_or_default()
}

/// `: 407 Proxy Authentication Required`, the reason phrase being the standard one.
pub(super) fn status_suffix(status: Option<u16>) -> String {
    let Some(status) = status else {
        return String::new();
    };
    let phrase = isahc::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason());
    match phrase {
        Some(phrase) => format!(": {status} {phrase}"),
        None => format!(": {status}"),
    }
}

pub(super) fn path_suffix(path: Option<&std::path::Path>) -> String {
    match path {
        Some(path) => format!(" to {}", path.display()),
        None => " to its writer".to_owned(),
    }
}

pub(super) fn expected_suffix(expected: Option<u64>) -> String {
    match expected {
        Some(n) => format!(" of {n}"),
        None => String::new(),
    }
}
