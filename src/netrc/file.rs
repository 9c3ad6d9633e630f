//! Which `.netrc` file a client reads, and reading it safely.
//!
//! [`HttpBuilder::netrc`](crate::HttpBuilder::netrc) reads the file `NETRC` names, else
//! `.netrc` in the home directory (`$HOME`, else the account's), and on Windows `_netrc`
//! there when `.netrc` is missing, as curl does. A missing file is no error there: there
//! is nothing to use, as in curl's `--netrc-optional` and in requests.
//! [`HttpBuilder::netrc_file`](crate::HttpBuilder::netrc_file) reads the file given, which
//! must be there.
//!
//! A symbolic link is followed, as curl and Python follow it: the name is the user's own
//! (their home, their `NETRC`, their argument), not one a server or another user chose,
//! and dotfiles kept in a repository are linked into the home directory. What the name
//! leads to must be a regular file: it is opened without waiting (`files::open`), so a
//! FIFO, a device, a socket or a directory is refused at once, and at most 128 KiB of it is
//! read (curl's limit), so `/dev/zero` or a huge file costs nothing.
//!
//! A file that others may read (Unix mode `& 0o077`) and holds a password is used, with a
//! warning: curl uses it silently, Python's `netrc` refuses it. A client built from a file
//! another program wrote should not stop working for its mode, and the warning says what
//! to do.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{Netrc, parse};
use crate::files::{self, Links};
use crate::logs;

/// The largest file read, curl's `MAX_NETRC_FILE`: more is refused, not cut.
const MAX_FILE: u64 = 128 * 1024;

/// Which `.netrc` a client reads, as its builder was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The file `NETRC` names, else the home directory's; none there is fine.
    Default,
    /// This file, which must be there.
    File(PathBuf),
}

impl Source {
    /// The file read; `None` when the default file is missing. `Err` says which file,
    /// and what is wrong with it (with the line, for a mistake in it).
    pub(crate) fn read(&self) -> Result<Option<Netrc>, String> {
        match self {
            Source::File(path) => match read(path)? {
                Some(netrc) => Ok(Some(netrc)),
                None => Err(format!("netrc file {}: no such file", path.display())),
            },
            Source::Default => {
                let candidates = default_files(std::env::var_os("NETRC"), home());
                for path in &candidates {
                    if let Some(netrc) = read(path)? {
                        return Ok(Some(netrc));
                    }
                }
                logs::debug!("netrc: no file at {candidates:?}; none is used");
                Ok(None)
            }
        }
    }
}

/// The files [`Source::Default`] tries in turn, from the value of `NETRC` and the home
/// directory: the file `NETRC` names, when it is set (even to nothing, which names no
/// file); else `.netrc` in `home`, and on Windows `_netrc` after it.
fn default_files(netrc: Option<OsString>, home: Option<PathBuf>) -> Vec<PathBuf> {
    if let Some(named) = netrc {
        return vec![PathBuf::from(named)];
    }
    let Some(home) = home else {
        return Vec::new();
    };
    let mut files = vec![home.join(".netrc")];
    if cfg!(windows) {
        files.push(home.join("_netrc"));
    }
    files
}

/// `$HOME` when set and not empty, else the account's home directory.
// `home_dir` is deprecated before Rust 1.86, for what it made of Windows's HOME, which is
// looked at first here.
#[allow(deprecated)]
fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .or_else(std::env::home_dir)
}

/// The entries of the file at `path`; `None` when there is no file there.
fn read(path: &Path) -> Result<Option<Netrc>, String> {
    let failed = |what: String| format!("netrc file {}: {what}", path.display());
    let file = match files::open(path, Links::Follow) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failed(format!("cannot be opened: {e}"))),
    };
    // The opened file's own metadata: the name may have been replaced since the open.
    let meta = file
        .metadata()
        .map_err(|e| failed(format!("cannot be read: {e}")))?;
    if !meta.is_file() {
        let kind = files::kind_of(&meta.file_type());
        return Err(failed(format!("{kind}, not a regular file")));
    }
    let mut text = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut text)
        .map_err(|e| failed(format!("cannot be read: {e}")))?;
    if text.len() as u64 > MAX_FILE {
        return Err(failed(format!(
            "larger than {MAX_FILE} bytes, curl's limit"
        )));
    }
    let entries = parse::parse(&text).map_err(|malformed| failed(malformed.to_string()))?;
    let netrc = Netrc::new(path, entries);
    warn_if_open_to_others(path, &meta, &netrc);
    logs::debug!(
        "netrc: {} read, {} entries used",
        path.display(),
        netrc.len()
    );
    Ok(Some(netrc))
}

/// The warning for passwords in a file that the group or others may read or write.
#[cfg(unix)]
fn warn_if_open_to_others(path: &Path, meta: &fs::Metadata, netrc: &Netrc) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 && netrc.has_password() {
        logs::warning!(
            "netrc file {} holds passwords and its mode is {mode:03o}: others on this \
             machine may read them; `chmod 600` it (Python's netrc refuses such a file)",
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_open_to_others(_path: &Path, _meta: &fs::Metadata, _netrc: &Netrc) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netrc_names_the_file_else_the_home_directory_has_it() {
        let home = || Some(PathBuf::from("/home/u"));
        assert_eq!(
            default_files(Some("/etc/my-netrc".into()), home()),
            [PathBuf::from("/etc/my-netrc")]
        );
        // Set to nothing, it names no file: nothing is read, as in curl and requests.
        assert_eq!(default_files(Some("".into()), home()), [PathBuf::new()]);
        let mut expected = vec![PathBuf::from("/home/u/.netrc")];
        if cfg!(windows) {
            expected.push(PathBuf::from("/home/u/_netrc"));
        }
        assert_eq!(default_files(None, home()), expected);
        assert!(default_files(None, None).is_empty());
    }

    #[test]
    fn a_missing_default_file_is_nothing_and_a_missing_given_one_an_error() {
        let missing = std::env::temp_dir().join(format!(
            "asynchttp-netrc-missing-{}/.netrc",
            std::process::id()
        ));
        assert!(read(&missing).unwrap().is_none());
        let e = Source::File(missing.clone()).read().unwrap_err();
        assert_eq!(e, format!("netrc file {}: no such file", missing.display()));
    }
}
