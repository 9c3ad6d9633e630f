//! Cache storage (RELIABILITY.md C1-C3, C6): FileCache under concurrent writers, damaged and
//! foreign files, hostile keys, an unusable directory; MemoryCache.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use asynchttp::{Cache, FileCache, MemoryCache};

/// A directory of this test's own, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("asynchttp-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn files_in(dir: &PathBuf) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn c1_concurrent_writers_never_leave_a_torn_entry() {
    let dir = TempDir::new("c1");
    let cache = Arc::new(FileCache::new(&dir.0).unwrap());
    let key = "http://127.0.0.1/contended";
    // Each writer's value is one byte repeated: a torn read would mix bytes.
    let values: Vec<Vec<u8>> = (0..8u8).map(|i| vec![b'a' + i; 256 * 1024]).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (cache, stop) = (cache.clone(), stop.clone());
            thread::spawn(move || {
                let mut reads = 0;
                while !stop.load(Ordering::SeqCst) {
                    if let Some(v) = cache.get(key) {
                        assert_eq!(v.len(), 256 * 1024);
                        assert!(v.iter().all(|&b| b == v[0]), "a torn entry");
                        reads += 1;
                    }
                }
                reads
            })
        })
        .collect();
    let writers: Vec<_> = values
        .into_iter()
        .map(|value| {
            let cache = cache.clone();
            thread::spawn(move || {
                for _ in 0..20 {
                    cache.set(key, &value).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let reads: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(reads > 0);
    assert_eq!(files_in(&dir.0).len(), 1, "no temporary file left behind");
}

#[test]
fn c2_damaged_or_foreign_files_are_misses_and_are_deleted() {
    let dir = TempDir::new("c2");
    let cache = FileCache::new(&dir.0).unwrap();
    let key = "http://127.0.0.1/entry";
    let damage: [&[u8]; 5] = [
        b"",
        b"AHCACHE1",
        b"status: 200\r\ncontent-type: text/plain\r\n\r\nan httplib2 entry",
        &[0xff; 100],
        b"AHCACHE1\x00\x01\x02 a checksum that does not match anything at all",
    ];
    for bytes in damage {
        cache.set(key, b"good entry").unwrap();
        let path = files_in(&dir.0).pop().unwrap();
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(cache.get(key), None, "{:?}", String::from_utf8_lossy(bytes));
        assert!(!path.exists(), "a damaged file is deleted");
    }
    // A truncated write of a real entry.
    cache.set(key, &vec![7u8; 10_000]).unwrap();
    let path = files_in(&dir.0).pop().unwrap();
    let whole = std::fs::read(&path).unwrap();
    std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
    assert_eq!(cache.get(key), None);
}

#[test]
fn c3_hostile_keys_stay_inside_the_directory_as_distinct_files() {
    let dir = TempDir::new("c3");
    let cache = FileCache::new(&dir.0).unwrap();
    let long = format!("http://127.0.0.1/{}", "x".repeat(10_000));
    let keys = [
        "http://127.0.0.1/../../etc/passwd",
        "http://127.0.0.1/%2e%2e%2f%2e%2e%2f",
        "http://127.0.0.1/..\\..\\windows",
        "http://127.0.0.1/a\0b",
        long.as_str(),
        "http://xn--bcher-kva.example/ü",
        "CON",
        "aux.txt",
        "http://127.0.0.1/trailing. ",
    ];
    for (i, key) in keys.iter().enumerate() {
        cache.set(key, format!("entry {i}").as_bytes()).unwrap();
    }
    let files = files_in(&dir.0);
    assert_eq!(files.len(), keys.len());
    for file in &files {
        assert_eq!(file.parent().unwrap(), dir.0);
        assert!(file.file_name().unwrap().len() <= 255);
    }
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(cache.get(key), Some(format!("entry {i}").into_bytes()));
    }
    for key in keys {
        cache.delete(key);
    }
    assert!(files_in(&dir.0).is_empty());
}

#[test]
fn c6_a_file_in_the_way_is_an_error_at_creation() {
    let dir = TempDir::new("c6");
    std::fs::write(&dir.0, b"not a directory").unwrap();
    assert!(FileCache::new(&dir.0).is_err());
    std::fs::remove_file(&dir.0).unwrap();
}

#[test]
fn memory_cache_is_shared_between_threads() {
    let cache = Arc::new(MemoryCache::new());
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let cache = cache.clone();
            thread::spawn(move || cache.set(&format!("k{i}"), &[i as u8]).unwrap())
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    for i in 0..8u8 {
        assert_eq!(cache.get(&format!("k{i}")), Some(vec![i]));
    }
    cache.delete("k0");
    assert_eq!(cache.get("k0"), None);
}

/// A store that panics on every call.
struct Exploding;

impl Cache for Exploding {
    fn get(&self, _: &str) -> Option<Vec<u8>> {
        panic!("store broken")
    }
    fn set(&self, _: &str, _: &[u8]) -> std::io::Result<()> {
        panic!("store broken")
    }
    fn delete(&self, _: &str) {
        panic!("store broken")
    }
}

/// A panic on the worker outside any callback (here the caller's own cache store) fails
/// only that request, as a worker failure, not a setup error; the worker goes on.
#[test]
fn a_store_that_panics_fails_its_request_as_a_worker_failure() {
    use crate::support::*;
    let server = Server::start(|_| Reply::ok("x"));
    let http = Http::builder()
        .workers(1)
        .cache_store(Arc::new(Exploding))
        .build()
        .unwrap();
    // A POST does not read the store before it is sent, so it reaches the worker.
    for _ in 0..2 {
        let (response, _) = http.post(&server.url("/"), "a=1");
        match wait(&response) {
            Err(Error::Worker { reason, .. }) => assert!(reason.contains("panicked"), "{reason}"),
            other => panic!("expected a worker failure, got {other:?}"),
        }
    }
    // Its one worker lives on: a client without the store, on the same pool, is served.
    let pool = http.pool().clone();
    let plain = Http::builder().pool(pool).build().unwrap();
    assert_eq!(body(&plain.request(&server.url("/")).1), b"x");
}

#[test]
fn stores_that_keep_entries_until_replaced_ignore_how_long_they_are_of_use() {
    let dir = TempDir::new("set-for");
    let stores: [Box<dyn Cache>; 2] = [
        Box::new(FileCache::new(&dir.0).unwrap()),
        Box::new(MemoryCache::new()),
    ];
    for store in stores {
        let key = "http://127.0.0.1/of-no-more-use";
        store
            .set_for(key, b"kept", Some(std::time::Duration::ZERO))
            .unwrap();
        assert_eq!(store.get(key).as_deref(), Some(&b"kept"[..]));
        store.set_for(key, b"replaced", None).unwrap();
        assert_eq!(store.get(key).as_deref(), Some(&b"replaced"[..]));
    }
}
