//! Where cached responses are kept: httplib2's memcache-like interface (get, set and delete
//! of bytes by key), a directory with one file per entry, and memory.
//!
//! [`FileCache`] is safe to share between workers and processes: an entry is written to a
//! temporary file and renamed into place, so a reader sees the old entry or the new one,
//! never half of one; each file carries a checksum, so a truncated, corrupt or foreign
//! file reads as a miss, and is deleted.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use sha2::{Digest as _, Sha256};

/// Storage for cached responses, by key (httplib2's `cache` object: `get`, `set`,
/// `delete`). Implementations must be safe to call from every worker at once.
pub trait Cache: Send + Sync {
    /// The bytes stored under `key`, if any.
    fn get(&self, key: &str) -> Option<Vec<u8>>;

    /// Stores `value` under `key`, replacing what was there.
    ///
    /// # Errors
    ///
    /// The storage's own error; a client logs it and goes on without the entry.
    fn set(&self, key: &str, value: &[u8]) -> io::Result<()>;

    /// Removes the entry under `key`, if there is one.
    fn delete(&self, key: &str);
}

/// A directory with one file per entry (httplib2's `FileCache`).
///
/// File names are made from the key: its portable characters, then a SHA-256 of the whole
/// key, so any URL maps to a name inside the directory, at most 100 bytes long, and
/// distinct keys to distinct files.
///
/// ```
/// use asynchttp::{Cache, FileCache};
///
/// let dir = std::env::temp_dir().join(format!("asynchttp-doc-{}", std::process::id()));
/// let cache = FileCache::new(&dir)?;
/// cache.set("http://example.com/a", b"entry")?;
/// assert_eq!(cache.get("http://example.com/a").as_deref(), Some(&b"entry"[..]));
/// cache.delete("http://example.com/a");
/// assert_eq!(cache.get("http://example.com/a"), None);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct FileCache {
    dir: PathBuf,
}

/// Files start with this, then the SHA-256 of the rest, then the rest.
const MAGIC: &[u8; 8] = b"AHCACHE1";
const HEADER_LEN: usize = MAGIC.len() + 32;
/// Readable characters of the key kept at the front of a file name.
const NAME_PREFIX_MAX: usize = 32;

static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

impl FileCache {
    /// A cache in `dir`, created if missing.
    ///
    /// # Errors
    ///
    /// The directory cannot be created, or a file that is not a directory is in the way.
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        if !fs::metadata(&dir)?.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        Ok(FileCache { dir })
    }

    /// The directory the entries are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(file_name(key))
    }
}

impl Cache for FileCache {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        let path = self.path(key);
        let bytes = fs::read(&path).ok()?;
        match unframe(&bytes) {
            Some(value) => Some(value.to_vec()),
            None => {
                log::warn!("cache: {} is damaged; deleting it", path.display());
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    fn set(&self, key: &str, value: &[u8]) -> io::Result<()> {
        let path = self.path(key);
        // Unique per process and call, in the same directory, so the rename is atomic.
        let temp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            file_name(key),
            std::process::id(),
            NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            // No fsync: an entry cut short by a crash fails its checksum and reads as a miss.
            let mut file = fs::File::create(&temp)?;
            file.write_all(&frame(value))?;
            fs::rename(&temp, &path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }

    fn delete(&self, key: &str) {
        let _ = fs::remove_file(self.path(key));
    }
}

impl fmt::Debug for FileCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileCache").field("dir", &self.dir).finish()
    }
}

/// Entries in memory, for one process.
///
/// ```
/// use asynchttp::{Cache, MemoryCache};
///
/// let cache = MemoryCache::new();
/// cache.set("k", b"v")?;
/// assert_eq!(cache.get("k").as_deref(), Some(&b"v"[..]));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryCache {
    entries: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryCache {
    /// An empty cache.
    pub fn new() -> Self {
        MemoryCache::default()
    }
}

impl Cache for MemoryCache {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).cloned()
    }

    fn set(&self, key: &str, value: &[u8]) -> io::Result<()> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.remove(key);
    }
}

/// A file name for a key: up to 32 portable characters of it after the scheme, a `-`, and
/// the SHA-256 of the whole key in hex. Never `..`, a separator, a control character, a
/// reserved Windows name or a trailing dot or space.
pub(crate) fn file_name(key: &str) -> String {
    let readable: String = key
        .split_once("://")
        .map_or(key, |(_, rest)| rest)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(NAME_PREFIX_MAX)
        .collect();
    let digest = Sha256::digest(key.as_bytes());
    let mut name = readable;
    name.push('-');
    for b in digest {
        name.push_str(&format!("{b:02x}"));
    }
    name
}

fn frame(value: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + value.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&Sha256::digest(value));
    bytes.extend_from_slice(value);
    bytes
}

/// The value of a framed file, if it is whole and ours.
fn unframe(bytes: &[u8]) -> Option<&[u8]> {
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

    #[test]
    fn names_are_portable_and_bounded() {
        let name = file_name("http://example.com/a/b?c=d#e");
        assert!(name.starts_with("examplecomabcde-"), "{name}");
        assert_eq!(name.len(), "examplecomabcde-".len() + 64);
        assert_ne!(file_name("http://h/a"), file_name("http://h/A"));
        assert_ne!(file_name("http://h/a?"), file_name("http://h/a"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Any key: a name that stays in the directory, portable, at most 100 bytes, not
        /// reserved, no trailing dot or space, the same every time.
        #[test]
        fn any_key_gives_a_safe_name(key in "\\PC{0,200}|(\\.\\./|%2e%2e%2f|\\.\\.\\\\|CON|aux\\.txt|\\x00| \\.){1,20}") {
            let name = file_name(&key);
            proptest::prop_assert!(name.len() <= 100);
            proptest::prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            proptest::prop_assert!(!name.ends_with('.') && !name.ends_with(' '));
            let upper = name.to_ascii_uppercase();
            let stem = upper.split('.').next().unwrap_or_default();
            proptest::prop_assert!(!["CON", "PRN", "AUX", "NUL", "COM1", "LPT1"].contains(&stem));
            proptest::prop_assert_eq!(file_name(&key), name);
        }

        /// Distinct keys, distinct names.
        #[test]
        fn distinct_keys_distinct_names(a in "\\PC{0,60}", b in "\\PC{0,60}") {
            if a != b {
                proptest::prop_assert_ne!(file_name(&a), file_name(&b));
            }
        }

        /// Arbitrary file contents never panic and are never taken for an entry unless
        /// they were framed.
        #[test]
        fn arbitrary_files_are_misses(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            if !bytes.starts_with(MAGIC) {
                proptest::prop_assert!(unframe(&bytes).is_none());
            }
        }
    }
}
