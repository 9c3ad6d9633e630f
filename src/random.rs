//! Random tokens, for values another party must not guess or meet by chance: a Digest
//! client nonce, a multipart form's boundary.

use std::time::{SystemTime, UNIX_EPOCH};

/// 128 random bits as 32 lowercase hex digits, from the system's randomness; without any,
/// from the clock, which still varies from one call to the next.
pub(crate) fn token() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    format!("{:032x}", u128::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_32_hex_digits_and_differs_each_time() {
        let (a, b) = (token(), token());
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }
}
