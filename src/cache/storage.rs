//! Where cached responses are kept: httplib2's memcache-like interface (get, set and delete
//! of bytes by key), a directory with one file per entry, and memory.
//!
//! [`FileCache`] is safe to share between workers and processes: an entry is written to a
//! temporary file and renamed into place, so a reader sees the old entry or the new one,
//! never half of one; each file carries a checksum, so a truncated, corrupt or foreign
//! file reads as a miss, and is deleted. Only regular files are read: on Unix a symbolic
//! link, a FIFO or a directory under an entry's name is a miss, opened without following
//! the link and without waiting for a FIFO's writer, so a lookup never blocks on the
//! directory and never serves a file from outside it.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::frame::{frame, unframe};
use crate::files::{self, Links};
use crate::logs;
use crate::sync;
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

    /// Stores `value` under `key` as [`set`](Self::set) does, and says how long it is of
    /// use: `Some(keep)` when after `keep` it can answer no request (it is stale beyond
    /// what `stale-while-revalidate` and `stale-if-error` allow, or the client's
    /// [`stale_if_error`](crate::HttpBuilder::stale_if_error), and has no `ETag` or
    /// `Last-Modified` to be revalidated with), `None` when it stays of use (it can be
    /// revalidated, or is a permanent redirect). The client stores every entry through
    /// this method.
    ///
    /// A store that forgets entries by itself, such as `RedisCache` (feature `redis`),
    /// lets them expire then; one that
    /// keeps entries until they are replaced, such as [`FileCache`] and [`MemoryCache`],
    /// need not implement it: by default it is `set`.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    fn set_for(&self, key: &str, value: &[u8], keep: Option<Duration>) -> io::Result<()> {
        let _ = keep;
        self.set(key, value)
    }

    /// Removes the entry under `key`, if there is one.
    fn delete(&self, key: &str);
}

/// A directory with one file per entry (httplib2's `FileCache`).
///
/// File names are made from the key: its portable characters, then a SHA-256 of the whole
/// key, so any URL maps to a name inside the directory, at most 100 bytes long, and
/// distinct keys to distinct files.
///
/// Only regular files are entries. On Unix an entry's file is opened without following a
/// symbolic link and without waiting for a FIFO's writer, so a lookup, which for a fresh
/// GET runs on the thread that calls [`Http::request`](crate::Http::request), never blocks
/// on the directory and never serves a file from outside it. A link, a FIFO or another
/// special file under an entry's name is a miss and is deleted (the name, never what a
/// link points to); a directory there is a miss and is left alone.
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
        let bytes = match read_entry(&path) {
            Found::Bytes(bytes) => bytes,
            Found::Nothing => return None,
            Found::Directory => {
                // Removing it could remove files that are not ours.
                logs::warning!("cache: {} is a directory, not an entry", path.display());
                return None;
            }
            Found::Other(what) => {
                logs::warning!(
                    "cache: {} is {what}, not an entry; deleting it",
                    path.display()
                );
                // Unlinks the name only: a link's target is never touched.
                let _ = fs::remove_file(&path);
                return None;
            }
        };
        match unframe(&bytes) {
            Some(value) => Some(value.to_vec()),
            None => {
                logs::warning!("cache: {} is damaged; deleting it", path.display());
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
        // Whatever is already at the temporary name is not ours: an error, left in place.
        let mut file = create_new(&temp)?;
        // No fsync: an entry cut short by a crash fails its checksum and reads as a miss.
        let written = file.write_all(&frame(value)).and_then(|()| {
            drop(file);
            fs::rename(&temp, &path)
        });
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
        let entries = sync::lock(&self.entries);
        entries.get(key).cloned()
    }

    fn set(&self, key: &str, value: &[u8]) -> io::Result<()> {
        let mut entries = sync::lock(&self.entries);
        entries.insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) {
        let mut entries = sync::lock(&self.entries);
        entries.remove(key);
    }
}

/// What is under an entry's name.
enum Found {
    /// A regular file, read whole.
    Bytes(Vec<u8>),
    /// No file, or one that cannot be opened or read (permissions, I/O): a plain miss.
    Nothing,
    /// A directory.
    Directory,
    /// Something else that is not a regular file, e.g. `"a symbolic link"`.
    Other(&'static str),
}

/// Reads the regular file at `path`; anything else is not read at all.
fn read_entry(path: &Path) -> Found {
    let mut file = match files::open(path, Links::Refuse) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Found::Nothing,
        // A link refused by O_NOFOLLOW fails with an errno that differs between systems
        // (ELOOP, EMLINK, EFTYPE), a socket with ENXIO; the name itself, looked at without
        // following, says what it is.
        Err(_) => {
            return match fs::symlink_metadata(path) {
                Ok(meta) if !meta.is_file() && !meta.is_dir() => {
                    Found::Other(files::kind_of(&meta.file_type()))
                }
                _ => Found::Nothing,
            };
        }
    };
    // The opened file's own metadata: the name may have been replaced since the open.
    let Ok(meta) = file.metadata() else {
        return Found::Nothing;
    };
    if meta.is_dir() {
        return Found::Directory;
    }
    if !meta.is_file() {
        return Found::Other(files::kind_of(&meta.file_type()));
    }
    let mut bytes = Vec::new();
    // Room for the whole file at once when the allocator grants it, as `fs::read` does.
    let _ = bytes.try_reserve_exact(usize::try_from(meta.len()).unwrap_or(0));
    match file.read_to_end(&mut bytes) {
        Ok(_) => Found::Bytes(bytes),
        Err(_) => Found::Nothing,
    }
}

/// Creates a file that did not exist: an existing name, a symbolic link included (even
/// one to nowhere), is an error and is never followed.
fn create_new(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_portable_and_bounded() {
        let name = file_name("http://example.com/a/b?c=d#e");
        assert!(name.starts_with("examplecomabcde-"), "{name}");
        assert_eq!(name.len(), "examplecomabcde-".len() + 64);
        assert_ne!(file_name("http://h/a"), file_name("http://h/A"));
        assert_ne!(file_name("http://h/a?"), file_name("http://h/a"));
    }

    /// Files under an entry's name that are not regular files (Unix: links, FIFOs).
    #[cfg(unix)]
    mod not_regular {
        use std::os::unix::fs::symlink;
        use std::sync::mpsc;
        use std::time::Duration;

        use super::*;

        /// A directory of this test's own, removed at the end.
        struct TempDir(PathBuf);

        impl TempDir {
            fn new(name: &str) -> TempDir {
                let dir = std::env::temp_dir()
                    .join(format!("asynchttp-unit-{name}-{}", std::process::id()));
                let _ = fs::remove_dir_all(&dir);
                fs::create_dir_all(&dir).unwrap();
                TempDir(dir)
            }
        }

        impl Drop for TempDir {
            fn drop(&mut self) {
                let _ = fs::remove_dir_all(&self.0);
            }
        }

        const KEY: &str = "http://127.0.0.1/entry";

        /// A valid entry for `KEY` in a directory of its own, with this value.
        fn entry_elsewhere(dir: &TempDir, value: &[u8]) -> PathBuf {
            let other = FileCache::new(&dir.0).unwrap();
            other.set(KEY, value).unwrap();
            other.path(KEY)
        }

        fn is_gone(path: &Path) -> bool {
            fs::symlink_metadata(path).is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
        }

        #[test]
        fn a_link_to_a_valid_entry_elsewhere_is_a_miss_and_only_the_link_goes() {
            let (dir, outside) = (TempDir::new("link"), TempDir::new("link-outside"));
            let target = entry_elsewhere(&outside, b"not from this cache");
            let cache = FileCache::new(&dir.0).unwrap();
            symlink(&target, cache.path(KEY)).unwrap();
            assert_eq!(cache.get(KEY), None);
            assert!(is_gone(&cache.path(KEY)), "the link is deleted");
            let other = FileCache::new(&outside.0).unwrap();
            assert_eq!(
                other.get(KEY).as_deref(),
                Some(&b"not from this cache"[..]),
                "its target is untouched"
            );
        }

        #[test]
        fn a_dangling_link_or_a_link_to_a_directory_is_a_miss() {
            let (dir, outside) = (TempDir::new("dangling"), TempDir::new("dangling-outside"));
            let cache = FileCache::new(&dir.0).unwrap();
            for target in [outside.0.join("nothing"), outside.0.clone()] {
                symlink(&target, cache.path(KEY)).unwrap();
                assert_eq!(cache.get(KEY), None);
                assert!(is_gone(&cache.path(KEY)));
            }
            assert!(outside.0.is_dir());
        }

        #[test]
        fn a_fifo_is_a_miss_at_once_and_is_deleted() {
            let dir = TempDir::new("fifo");
            let cache = FileCache::new(&dir.0).unwrap();
            let path = cache.path(KEY);
            let made = std::process::Command::new("mkfifo").arg(&path).status();
            assert!(made.unwrap().success(), "mkfifo");
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || tx.send(cache.get(KEY)));
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(got) => assert_eq!(got, None),
                Err(_) => {
                    // Lets the blocked reader go (opening the writing end pairs with it),
                    // so the thread ends with the test.
                    std::thread::spawn(move || fs::OpenOptions::new().write(true).open(path));
                    panic!("get blocked on a FIFO");
                }
            }
            assert!(is_gone(&path), "the FIFO is deleted");
        }

        #[test]
        fn a_directory_is_a_miss_and_is_left_alone() {
            let dir = TempDir::new("dir");
            let cache = FileCache::new(&dir.0).unwrap();
            fs::create_dir(cache.path(KEY)).unwrap();
            fs::write(cache.path(KEY).join("someone's"), b"file").unwrap();
            assert_eq!(cache.get(KEY), None);
            assert_eq!(
                fs::read(cache.path(KEY).join("someone's")).unwrap(),
                b"file"
            );
        }

        #[test]
        fn set_replaces_a_link_at_the_entry_name_not_its_target() {
            let (dir, outside) = (TempDir::new("set-link"), TempDir::new("set-link-outside"));
            let precious = outside.0.join("precious");
            fs::write(&precious, b"keep me").unwrap();
            let cache = FileCache::new(&dir.0).unwrap();
            symlink(&precious, cache.path(KEY)).unwrap();
            cache.set(KEY, b"new entry").unwrap();
            assert_eq!(fs::read(&precious).unwrap(), b"keep me");
            assert!(fs::symlink_metadata(cache.path(KEY)).unwrap().is_file());
            assert_eq!(cache.get(KEY).as_deref(), Some(&b"new entry"[..]));
        }

        #[test]
        fn a_temporary_file_is_never_opened_through_a_link() {
            let (dir, outside) = (TempDir::new("temp-link"), TempDir::new("temp-link-outside"));
            let precious = outside.0.join("precious");
            fs::write(&precious, b"keep me").unwrap();
            let temp = dir.0.join(".planted.tmp");
            for target in [precious.clone(), outside.0.join("nothing")] {
                let _ = fs::remove_file(&temp);
                symlink(&target, &temp).unwrap();
                let refused = create_new(&temp).map(drop).unwrap_err();
                assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
            }
            assert_eq!(fs::read(&precious).unwrap(), b"keep me");
            assert!(
                is_gone(&outside.0.join("nothing")),
                "nothing made through the link"
            );
        }
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
    }
}
