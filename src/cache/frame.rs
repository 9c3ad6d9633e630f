//! A stored value framed with a checksum, so that a store can tell a whole value of its own
//! from a damaged, truncated or foreign one: `"AHCACHE1"`, the SHA-256 of the value, then the
//! value. [`FileCache`](super::FileCache) frames its files (a crash may cut one short);
//! `RedisCache` its Redis values (another program may write under the same key).

use sha2::{Digest as _, Sha256};

/// A framed value starts with this, then the SHA-256 of the rest, then the rest.
const MAGIC: &[u8; 8] = b"AHCACHE1";
pub(crate) const HEADER_LEN: usize = MAGIC.len() + 32;

/// `value`, framed.
pub(crate) fn frame(value: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + value.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&Sha256::digest(value));
    bytes.extend_from_slice(value);
    bytes
}

/// The value of framed bytes, if they are whole and ours.
pub(crate) fn unframe(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (checksum, value) = rest.split_at_checked(32)?;
    (Sha256::digest(value).as_slice() == checksum).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_reject_damage() {
        let framed = frame(b"a cached response");
        assert_eq!(unframe(&framed), Some(&b"a cached response"[..]));
        assert_eq!(unframe(&framed[..framed.len() - 1]), None);
        assert_eq!(unframe(b""), None);
        assert_eq!(unframe(b"status: 200\r\n\r\nforeign"), None);
        let mut flipped = framed.clone();
        flipped[HEADER_LEN] ^= 1;
        assert_eq!(unframe(&flipped), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Arbitrary bytes never panic and are never taken for a value unless they were
        /// framed.
        #[test]
        fn arbitrary_bytes_are_not_values(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            if !bytes.starts_with(MAGIC) {
                proptest::prop_assert!(unframe(&bytes).is_none());
            }
        }
    }
}
