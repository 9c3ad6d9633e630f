//! The builder's settings for credentials read from a `.netrc` file, as curl's `--netrc`
//! and Python requests read it.

use std::path::PathBuf;

use super::HttpBuilder;
use crate::netrc::Source;

impl HttpBuilder {
    /// Use the user names and passwords of the user's `.netrc` file: the file the `NETRC`
    /// environment variable names, else `.netrc` in the home directory (`$HOME`; on Windows
    /// `_netrc` there too, as curl looks for it). Off by default. A missing file is not an
    /// error: the client has no entries to use.
    ///
    /// The file is read once, by [`build`](Self::build), never per request; a file that
    /// cannot be read or has a mistake makes `build` fail with [`Error::Init`], naming the
    /// file, the line and what is wrong:
    ///
    /// ```text
    /// could not set up the client: netrc file /home/me/.netrc: line 3: password at the end of the file, without a value
    /// ```
    ///
    /// Which requests get an entry, and how:
    ///
    /// - Only a request for which the caller gave no credentials: none added with
    ///   [`Http::add_credentials`](crate::Http::add_credentials) applies to the URL, and
    ///   the request sets no `Authorization` header of its own.
    /// - A `machine` entry goes to its host on any port (curl does not compare the port),
    ///   the host compared without regard to case; the first entry for the host that has
    ///   a login or a password wins. A `default` entry goes only where no `machine` entry
    ///   does, and only to the origin of the URL the request was made for, as a credential
    ///   added with an empty domain: a redirect to another host gets that host's own
    ///   `machine` entry, or nothing.
    /// - It is sent up front, as `Authorization: Basic`, as curl and requests send it:
    ///   APIs that answer 404 rather than 401 to a request without credentials need it
    ///   there. A 401 that offers Digest is answered with the same entry, as an added
    ///   credential would be, and the accepted Digest authorization is kept for next time.
    ///   Over plain `http`, Basic is readable by anyone on the path, as with curl: name
    ///   `https` hosts in the file.
    ///
    /// The grammar is curl's and Python's (`machine`, `default`, `login`, `password`,
    /// `account`, `macdef`, `#` comments, quoted values with `\"`, `\\`, `\n`, `\r`, `\t`),
    /// and where they part, the stricter: a word that is not a keyword is a mistake
    /// (curl skips it). A file that holds passwords and that others may read (Unix mode
    /// `& 0o077`) is used, with a warning in the log. A symbolic link is followed; a FIFO,
    /// a device or a directory is refused, and so is a file over 128 KiB. The guide has
    /// the whole story: [`guide::port`](crate::guide::port), "Credentials from a .netrc".
    ///
    /// A client with entries to use runs every request on a worker thread, as a client
    /// with credentials does (a Digest answer may wait for its nonce).
    ///
    /// ```no_run
    /// let http = asynchttp::Http::builder().netrc().build()?;
    /// let (response, _) = http.request("https://api.example.com/private");
    /// println!("{}", response.status); // sent with the file's entry for api.example.com
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    ///
    /// [`Error::Init`]: crate::Error::Init
    pub fn netrc(mut self) -> Self {
        self.netrc = Some(Source::Default);
        self
    }

    /// Use the user names and passwords of this `.netrc` file, as curl's `--netrc-file`:
    /// the rules of [`netrc`](Self::netrc), except that the file must be there: a missing
    /// file makes [`build`](Self::build) fail with [`Error::Init`](crate::Error::Init).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("netrc-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("netrc");
    /// std::fs::write(&path, "machine api.example.com login bot password t0ken\n")?;
    /// let http = asynchttp::Http::builder().netrc_file(&path).build()?;
    ///
    /// let missing = asynchttp::Http::builder().netrc_file(dir.join("nothing")).build();
    /// assert!(matches!(missing, Err(asynchttp::Error::Init { .. })));
    /// # drop(http);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn netrc_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.netrc = Some(Source::File(path.into()));
        self
    }
}
