//! Opening a file that the crate reads by name (a cache entry, a `.netrc`) without waiting
//! on what it finds there, and naming what it found when that is not a regular file.
//!
//! A FIFO's open would block until some writer opened it, so files are opened with
//! `O_NONBLOCK` (on a regular file it changes nothing); the opened handle's own metadata
//! then says what it is, and only a regular file is read. Whether a symbolic link is
//! followed is each reader's choice ([`Links`]).

use std::fs;
use std::io;
use std::path::Path;

/// Whether a symbolic link at the path is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Links {
    /// Followed to its target, as any program opening the name would.
    Follow,
    /// Refused: the open fails (`O_NOFOLLOW`), whatever the link points to.
    Refuse,
}

/// Opens `path` for reading without waiting for a FIFO's writer, following a symbolic link
/// or not as `links` says.
#[cfg(unix)]
pub(crate) fn open(path: &Path, links: Links) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let nofollow = match links {
        Links::Follow => 0,
        Links::Refuse => libc::O_NOFOLLOW,
    };
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(nofollow | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
pub(crate) fn open(path: &Path, _links: Links) -> io::Result<fs::File> {
    fs::File::open(path)
}

/// What a file that is not a regular one is, for messages: `"a FIFO"`, `"a directory"`.
pub(crate) fn kind_of(kind: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}
