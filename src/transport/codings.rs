//! The content codings this build decodes: which `Content-Encoding` tokens name them, the
//! `Accept-Encoding` that offers them, and the layers a response's header asks to undo.
//!
//! gzip and deflate are always built in; `br` comes with the `brotli` feature and `zstd`
//! with the `zstd` feature. A coding left out of the build is what any unknown coding is: an
//! error, unless the caller negotiated the codings itself.

use once_cell::sync::Lazy;

/// Layers of `Content-Encoding` decoded at most; more is refused (curl allows 5).
const MAX_LAYERS: usize = 4;

/// A content coding this build decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// gzip, x-gzip, deflate and zlib: one family, whose format (gzip, zlib or raw deflate)
    /// is sniffed from the stream's first two bytes, whichever of the names the server used
    /// (httplib2's leniency).
    Flate,
    /// brotli (RFC 7932). It has no magic number: only the token says a body is brotli.
    #[cfg(feature = "brotli")]
    Brotli,
    /// Zstandard (RFC 8878, RFC 9659 for HTTP).
    #[cfg(feature = "zstd")]
    Zstd,
}

/// Each token decoded, lower-case, with its codec and whether `Accept-Encoding` offers it
/// (the others are aliases servers send).
const TOKENS: &[(&str, Codec, bool)] = &[
    ("gzip", Codec::Flate, true),
    ("x-gzip", Codec::Flate, false),
    ("deflate", Codec::Flate, true),
    ("zlib", Codec::Flate, false),
    #[cfg(feature = "brotli")]
    ("br", Codec::Brotli, true),
    #[cfg(feature = "zstd")]
    ("zstd", Codec::Zstd, true),
];

/// The `Accept-Encoding` sent when the caller sets none: every coding built in, as
/// `gzip, deflate, br, zstd` with both features.
pub(crate) fn accept_encoding() -> &'static str {
    static OFFERED: Lazy<String> = Lazy::new(|| {
        let offered: Vec<&str> = TOKENS
            .iter()
            .filter(|(_, _, offered)| *offered)
            .map(|(token, ..)| *token)
            .collect();
        offered.join(", ")
    });
    &OFFERED
}

/// The codings a `Content-Encoding` lists, in the order the server applied them (the last
/// is undone first); empty leaves the body as it is (no coding, only `identity`, or a coding
/// this build cannot decode that the caller negotiated itself, so it gets the body as it
/// came). `Err` carries the reason the body cannot be decoded.
pub(crate) fn layers(header: Option<&str>, caller_negotiated: bool) -> Result<Vec<Codec>, String> {
    let mut layers = Vec::new();
    for token in header.unwrap_or_default().split(',').map(str::trim) {
        let token = token.to_ascii_lowercase();
        if token.is_empty() || token == "identity" {
            continue;
        }
        match TOKENS.iter().find(|(name, ..)| *name == token) {
            Some(&(_, codec, _)) => layers.push(codec),
            None if caller_negotiated => return Ok(Vec::new()),
            None => return Err(unsupported(&token)),
        }
    }
    if layers.len() > MAX_LAYERS {
        return Err(format!("{} layers of content-encoding", layers.len()));
    }
    Ok(layers)
}

/// Why `token` is not decoded, naming the feature that would decode it.
fn unsupported(token: &str) -> String {
    let feature = match token {
        "br" if cfg!(not(feature = "brotli")) => Some("brotli"),
        "zstd" if cfg!(not(feature = "zstd")) => Some("zstd"),
        _ => None,
    };
    match feature {
        Some(feature) => format!(
            "unsupported content-encoding {token:?} (asynchttp was built without its `{feature}` feature)"
        ),
        None => format!("unsupported content-encoding {token:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_in_the_order_applied() {
        assert_eq!(layers(None, false), Ok(vec![]));
        assert_eq!(layers(Some("identity"), false), Ok(vec![]));
        assert_eq!(
            layers(Some("gzip, X-Gzip,deflate , zlib"), false),
            Ok(vec![Codec::Flate; 4])
        );
        assert!(layers(Some("gzip,gzip,gzip,gzip,gzip"), false).is_err());
        #[cfg(all(feature = "brotli", feature = "zstd"))]
        assert_eq!(
            layers(Some("gzip, BR, identity, zstd"), false),
            Ok(vec![Codec::Flate, Codec::Brotli, Codec::Zstd])
        );
    }

    #[test]
    fn unknown_codings_fail_unless_negotiated() {
        assert_eq!(
            layers(Some("compress"), false),
            Err("unsupported content-encoding \"compress\"".to_owned())
        );
        assert_eq!(layers(Some("gzip, compress"), true), Ok(vec![]));
    }

    #[test]
    fn offered_as_built() {
        let offered = accept_encoding();
        assert!(offered.starts_with("gzip, deflate"), "{offered}");
        assert_eq!(offered.contains("br"), cfg!(feature = "brotli"));
        assert_eq!(offered.contains("zstd"), cfg!(feature = "zstd"));
        for token in offered.split(", ") {
            assert!(layers(Some(token), false).is_ok(), "{token}");
        }
    }

    #[test]
    fn a_coding_left_out_names_its_feature() {
        let br = layers(Some("br"), false);
        assert_eq!(br.is_ok(), cfg!(feature = "brotli"));
        if let Err(reason) = br {
            assert!(reason.contains("`brotli` feature"), "{reason}");
        }
        let zstd = layers(Some("zstd"), false);
        assert_eq!(zstd.is_ok(), cfg!(feature = "zstd"));
        if let Err(reason) = zstd {
            assert!(reason.contains("`zstd` feature"), "{reason}");
        }
    }
}
