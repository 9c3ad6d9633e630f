//! The builder's bandwidth caps: how fast a request's body may go out and its response's
//! body come in.

use super::HttpBuilder;

impl HttpBuilder {
    /// Caps how fast each response's body is received, in bytes a second, as curl's
    /// `--limit-rate` (which caps both ways: [`max_upload_speed`](Self::max_upload_speed)
    /// is the other). For a large download that must leave room to the rest of a link.
    /// Default: no cap; 0 is none too.
    ///
    /// Each body is paced on its own: a cap of 1 MiB/s lets ten requests at once take
    /// 10 MiB/s together. A tenth of a second's worth (64 KiB at most) goes at once, then
    /// no more than the cap allows since the first byte; the body is read no faster, so
    /// the server meets TCP's back-pressure, and a capped body holds no thread while it
    /// waits. A 2 MiB body capped at 1 MiB/s took 2.0 s, against 0.06 s uncapped
    /// (tests/it/rate.rs). The crate paces it rather than libcurl, whose cap starts afresh
    /// each time isahc pauses and resumes a transfer, which it does whenever its buffer
    /// fills.
    ///
    /// The time a capped body takes counts against the request's timeout as any other: a
    /// download of 100 MiB at 1 MiB/s needs more than the default 30 seconds (see
    /// [`idle_timeout`](Self::idle_timeout)). A [`min_speed`](Self::min_speed) above the
    /// cap fails every transfer that lasts its period.
    ///
    /// [`Request::max_download_speed`](crate::Request::max_download_speed) sets it for one
    /// request, in place of the client's; 0 there lifts the client's cap for it.
    ///
    /// ```
    /// // At most 2 MiB a second for each download, as `curl --limit-rate 2m`.
    /// let http = asynchttp::Http::builder().max_download_speed(2 << 20).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn max_download_speed(mut self, bytes_per_second: u64) -> Self {
        self.connect.rates.download = Some(bytes_per_second);
        self
    }

    /// Caps how fast each request's body is sent, in bytes a second: the upload half of
    /// curl's `--limit-rate`, as [`max_download_speed`](Self::max_download_speed) is for
    /// the other way, with the same rules: a body is handed to libcurl no faster than its
    /// cap. Bodies held in memory and bodies read as they are sent
    /// ([`guide::uploads`](crate::guide::uploads)) alike; a capped body in memory goes as
    /// a body read as it is sent does, on a connection of its own (libcurl could not send
    /// it again on a new one). Default: no cap; 0 is none too.
    ///
    /// [`Request::max_upload_speed`](crate::Request::max_upload_speed) sets it for one
    /// request, in place of the client's; 0 there lifts the client's cap for it.
    ///
    /// ```
    /// // Backups go out at 512 KiB a second at most.
    /// let http = asynchttp::Http::builder().max_upload_speed(512 << 10).build()?;
    /// # drop(http);
    /// # Ok::<(), asynchttp::Error>(())
    /// ```
    pub fn max_upload_speed(mut self, bytes_per_second: u64) -> Self {
        self.connect.rates.upload = Some(bytes_per_second);
        self
    }
}
