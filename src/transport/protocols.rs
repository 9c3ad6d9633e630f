//! Which https origins speak HTTP/2, learnt from their answers, so that the requests of a
//! burst to one of them share one multiplexed connection.
//!
//! libcurl multiplexes a request on an HTTP/2 connection only once that connection is up;
//! a request started while the first one is still in its TLS handshake opens a connection
//! of its own (curl waits instead with `CURLOPT_PIPEWAIT`, which isahc does not set). So
//! the first request to an https origin goes alone, as a probe, and the others wait for its
//! answer. An origin that answered over HTTP/2 is then served by a client that allows one
//! connection per host (two past 100 workers, libcurl's limit of streams per connection):
//! libcurl queues a burst behind that one connection and multiplexes it. Any other origin
//! stays on the client that keeps a connection per worker, as HTTP/1.1 needs.
//!
//! The wait is for the probe's head only, and holds no thread; a probe that fails lets the
//! next request probe. Plain http never negotiates HTTP/2 here.

use std::collections::HashMap;
use std::sync::Mutex;

use event_listener::Event;
use url::Url;

use crate::{origin, sync};

/// Origins remembered at most; past that the memory starts again, and each origin is
/// probed once more.
const REMEMBERED: usize = 4096;

/// Which of the transport's clients a request goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// One connection per worker, kept alive: HTTP/1.1, and plain http.
    Kept,
    /// One connection per host, multiplexed: an origin that speaks HTTP/2, and the probe
    /// of an unknown https origin (its connection is the one to share if it does).
    Multiplexed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Probing,
    Http2,
    Http1,
}

#[derive(Debug, Default)]
pub(crate) struct Protocols {
    origins: Mutex<HashMap<String, Known>>,
    learnt: Event,
}

/// The probe of an unknown origin: while it lives, other requests to the origin wait.
/// Dropped without an answer (the request failed), it lets the next one probe.
#[derive(Debug)]
pub(crate) struct Probe<'a> {
    protocols: &'a Protocols,
    key: String,
}

impl Protocols {
    /// The route for a request to `url`, and the probe it is, if it is one. A request to an
    /// origin being probed waits for the probe's answer, as a future: it holds no thread.
    /// The probe ends within its own deadline, answered or failed.
    pub(crate) async fn route(&self, url: &Url) -> (Route, Option<Probe<'_>>) {
        if url.scheme() != "https" {
            return (Route::Kept, None);
        }
        let key = origin::key(url);
        loop {
            let answered = {
                let mut origins = sync::lock(&self.origins);
                match origins.get(&key) {
                    Some(Known::Http2) => return (Route::Multiplexed, None),
                    Some(Known::Http1) => return (Route::Kept, None),
                    // Listening under the lock: the probe's news cannot slip past.
                    Some(Known::Probing) => self.learnt.listen(),
                    None => {
                        if origins.len() >= REMEMBERED {
                            origins.retain(|_, known| *known == Known::Probing);
                        }
                        origins.insert(key.clone(), Known::Probing);
                        let probe = Probe {
                            protocols: self,
                            key,
                        };
                        return (Route::Multiplexed, Some(probe));
                    }
                }
            };
            answered.await;
        }
    }

    /// An answer from `url` came over HTTP `version` (20 for HTTP/2, as `Response`
    /// says); whoever waits on its origin goes on.
    pub(crate) fn learn(&self, url: &Url, version: u8) {
        if url.scheme() != "https" {
            return;
        }
        let known = if version == 20 {
            Known::Http2
        } else {
            Known::Http1
        };
        let mut origins = sync::lock(&self.origins);
        if origins.insert(origin::key(url), known) != Some(known) {
            self.learnt.notify(usize::MAX);
        }
    }
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        let mut origins = sync::lock(&self.protocols.origins);
        if origins.get(&self.key) == Some(&Known::Probing) {
            origins.remove(&self.key);
            self.protocols.learnt.notify(usize::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::thread;
    use std::time::Duration;

    use futures_lite::future::block_on;

    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn plain_http_is_never_probed() {
        let protocols = Protocols::default();
        let (route, probe) = block_on(protocols.route(&url("http://a/")));
        assert_eq!(route, Route::Kept);
        assert!(probe.is_none());
    }

    #[test]
    fn the_first_request_probes_and_the_answer_routes_the_rest() {
        let protocols = Protocols::default();
        let a = url("https://a/x");
        let (route, probe) = block_on(protocols.route(&a));
        assert_eq!(route, Route::Multiplexed);
        assert!(probe.is_some());
        protocols.learn(&a, 20);
        drop(probe);
        let (route, probe) = block_on(protocols.route(&url("https://a:443/y")));
        assert_eq!((route, probe.is_none()), (Route::Multiplexed, true));
        protocols.learn(&a, 11);
        let (route, _) = block_on(protocols.route(&a));
        assert_eq!(
            route,
            Route::Kept,
            "an answer over HTTP/1.1 demotes the origin"
        );
        let (route, probe) = block_on(protocols.route(&url("https://b/")));
        assert_eq!((route, probe.is_some()), (Route::Multiplexed, true));
    }

    #[test]
    fn a_failed_probe_lets_the_next_request_probe() {
        let protocols = Protocols::default();
        let a = url("https://a/");
        let (_, probe) = block_on(protocols.route(&a));
        drop(probe);
        let (_, probe) = block_on(protocols.route(&a));
        assert!(probe.is_some());
    }

    #[test]
    fn others_wait_for_the_probe_and_go_where_it_says() {
        let protocols = Arc::new(Protocols::default());
        let a = url("https://a/");
        let (_, probe) = block_on(protocols.route(&a));
        let waiter = {
            let protocols = protocols.clone();
            let a = a.clone();
            thread::spawn(move || {
                let (route, probe) = block_on(protocols.route(&a));
                (route, probe.is_some())
            })
        };
        thread::sleep(Duration::from_millis(50));
        protocols.learn(&a, 20);
        drop(probe);
        assert_eq!(waiter.join().unwrap(), (Route::Multiplexed, false));
    }
}
