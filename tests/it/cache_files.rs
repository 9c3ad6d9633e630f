//! What else can be under an entry's name in a cache directory (Unix): a FIFO never blocks
//! `request()`, a symbolic link never serves a file from outside the directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;

use crate::support::*;

/// The one file in `dir`: the entry a request stored.
#[track_caller]
fn the_entry(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn get(http: &Http, url: &str) -> (Response, Vec<u8>) {
    let (response, content) = http.request(url);
    (wait(&response).unwrap().clone(), body(&content).to_vec())
}

/// A server that counts its answers in their bodies, each cacheable for ten minutes.
fn counting_server() -> Server {
    let count = Arc::new(AtomicUsize::new(0));
    Server::start(move |_| {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        Reply::ok(format!("answer {n}")).header("Cache-Control", "max-age=600")
    })
}

#[test]
fn a_fifo_under_an_entry_name_never_blocks_request() {
    init_logging();
    let dir = TempDir::new("fifo");
    let server = counting_server();
    let url = server.url("/fifo");
    let http = Http::builder().cache(&dir.0).build().unwrap();
    assert_eq!(get(&http, &url).1, b"answer 1");
    let entry = the_entry(&dir.0);
    fs::remove_file(&entry).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&entry).status();
    assert!(made.unwrap().success(), "mkfifo");

    // The fresh-entry check runs on the calling thread: call from one the test can give up on.
    let (tx, rx) = mpsc::channel();
    let (caller, asked) = (http.clone(), url.clone());
    thread::spawn(move || tx.send(caller.request(&asked)));
    let (response, content) = match rx.recv_timeout(BOUND) {
        Ok(pair) => pair,
        Err(_) => {
            // Opening the FIFO's writing end lets the blocked reader go, so that thread ends.
            thread::spawn(move || fs::OpenOptions::new().write(true).open(entry));
            panic!("request() did not return within {BOUND:?}: blocked on a FIFO");
        }
    };
    let response = wait(&response).unwrap();
    assert!(!response.from_cache);
    assert_eq!(body(&content), b"answer 2", "from the network");
    assert_eq!(server.hits(), 2);
    let stored = fs::symlink_metadata(&entry).unwrap();
    assert!(stored.is_file(), "the FIFO was replaced by the new entry");
    let (again, content) = get(&http, &url);
    assert!(again.from_cache);
    assert_eq!(content, b"answer 2");
}

#[test]
fn a_link_to_another_caches_entry_is_not_served() {
    init_logging();
    let (dir, elsewhere) = (TempDir::new("link"), TempDir::new("link-elsewhere"));
    let server = counting_server();
    let url = server.url("/linked");
    // A real entry for the same URL, whole and framed, in another cache's directory.
    let other = Http::builder().cache(&elsewhere.0).build().unwrap();
    assert_eq!(get(&other, &url).1, b"answer 1");
    let target = the_entry(&elsewhere.0);
    let link = dir.0.join(target.file_name().unwrap());
    fs::create_dir_all(&dir.0).unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let http = Http::builder().cache(&dir.0).build().unwrap();
    let (response, content) = get(&http, &url);
    assert!(!response.from_cache, "the linked entry was served");
    assert_eq!(content, b"answer 2");
    assert_eq!(server.hits(), 2);
    assert!(
        fs::symlink_metadata(&link).unwrap().is_file(),
        "the link was replaced by this cache's own entry"
    );
    let (theirs, content) = get(&other, &url);
    assert!(theirs.from_cache, "the link's target is untouched");
    assert_eq!(content, b"answer 1");
}
