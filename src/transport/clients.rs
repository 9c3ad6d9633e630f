//! The isahc clients of a transport that goes over the network, and how each is made: one
//! that keeps a connection per worker and host, one that multiplexes an HTTP/2 origin on
//! one connection (see `protocols`), and one that never reuses a connection.

use std::sync::RwLock;

use isahc::HttpClient;
use isahc::config::{Configurable, ExpectContinue, RedirectPolicy};
use once_cell::sync::OnceCell;

use super::Settings;
use super::protocols::Route;
use crate::{Error, logs, sync};

/// The isahc clients of one `Http`.
pub(super) struct Clients {
    /// Replaced by [`Clients::close`].
    kept: RwLock<Connections>,
    /// Never reuses a connection, for requests that must not be sent twice and have no
    /// body to refuse a rewind with; made on first use.
    unpooled: OnceCell<HttpClient>,
}

/// The isahc clients whose connections are kept alive, replaced whole to close the idle
/// ones.
struct Connections {
    /// A connection per worker and host, for HTTP/1.1 and plain http.
    per_worker: HttpClient,
    /// One connection per host, for origins that speak HTTP/2; made on first use.
    multiplexed: OnceCell<HttpClient>,
}

impl Connections {
    fn new(settings: &Settings) -> Result<Self, Error> {
        Ok(Connections {
            per_worker: client(settings, Kind::PerWorker)?,
            multiplexed: OnceCell::new(),
        })
    }
}

impl Clients {
    pub(super) fn new(settings: &Settings) -> Result<Self, Error> {
        Ok(Clients {
            kept: RwLock::new(Connections::new(settings)?),
            unpooled: OnceCell::new(),
        })
    }

    /// Closes idle kept-alive connections: later requests open new ones, requests in
    /// flight finish on theirs (the old client goes when its last request finishes).
    pub(super) fn close(&self, settings: &Settings) {
        match Connections::new(settings) {
            Ok(fresh) => {
                *sync::write(&self.kept) = fresh;
                logs::debug!("idle connections closed");
            }
            Err(e) => logs::warning!("close: {}", e.chain()),
        }
    }

    /// The client that gives each request a connection of its own.
    pub(super) fn unpooled(&self, settings: &Settings) -> HttpClient {
        self.unpooled
            .get_or_try_init(|| client(settings, Kind::Unpooled))
            .cloned()
            // A client that cannot be made now was made once already with these very
            // settings (the kept one): this does not happen, and the kept one serves.
            .unwrap_or_else(|_| sync::read(&self.kept).per_worker.clone())
    }

    /// The client that keeps connections for `route`.
    pub(super) fn routed(&self, route: Route, settings: &Settings) -> HttpClient {
        let clients = sync::read(&self.kept);
        match route {
            Route::Kept => clients.per_worker.clone(),
            Route::Multiplexed => clients
                .multiplexed
                .get_or_try_init(|| client(settings, Kind::Multiplexed))
                .cloned()
                .unwrap_or_else(|_| clients.per_worker.clone()),
        }
    }
}

/// How an isahc client uses its connections.
#[derive(Clone, Copy)]
enum Kind {
    /// Kept alive, up to one per worker for each host.
    PerWorker,
    /// Kept alive, one per host (two past 100 workers: libcurl carries at most 100
    /// streams on one), so that libcurl queues a burst to an HTTP/2 origin behind it.
    Multiplexed,
    /// Closed after each request.
    Unpooled,
}

/// Builds an isahc client with these settings.
fn client(settings: &Settings, kind: Kind) -> Result<HttpClient, Error> {
    // The resolve map and the DNS cache's lifetime, which isahc sets on clients alone.
    let builder = settings
        .connect
        .client(HttpClient::builder().tls_config(settings.tls.config(None)));
    let per_host = match kind {
        Kind::Multiplexed if settings.connections > 100 => 2,
        Kind::Multiplexed => 1,
        Kind::PerWorker | Kind::Unpooled => settings.connections,
    };
    let builder = match kind {
        Kind::Unpooled => builder.connection_cache_size(0),
        Kind::PerWorker | Kind::Multiplexed => builder,
    };
    builder
        // Our own redirect loop decides what follows a 3xx: isahc's would leak credentials
        // and resend POST bodies across origins.
        .redirect_policy(RedirectPolicy::None)
        // Decoding is ours, so the body limit counts decoded bytes.
        .automatic_decompression(false)
        .expect_continue(ExpectContinue::disabled())
        .connect_timeout(settings.connect_timeout)
        .max_connections(settings.connections)
        .max_connections_per_host(per_host)
        // A progress callback on every transfer: only when asked for (see `timed`).
        .metrics(settings.timings)
        .build()
        .map_err(|e| Error::Init {
            reason: format!("HTTP client: {e}"),
        })
}
