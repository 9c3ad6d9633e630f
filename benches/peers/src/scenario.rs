//! What is measured: the scenarios, and the clients that take part in each.

use std::fmt;

/// One workload: a request repeated `requests` times with `concurrency` in flight.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The name on the command line and in the child's arguments.
    pub id: &'static str,
    /// The heading in the results.
    pub title: &'static str,
    /// `/100`, `/64k`, ... on the nginx that run.sh starts.
    pub path: &'static str,
    /// POST with `POST_BODY`, or GET.
    pub post: bool,
    /// The response body's length; any other length counts as a failed request.
    pub response_len: usize,
    pub concurrency: usize,
    pub requests: usize,
    /// `--quick`: enough to see every client run, not to measure.
    pub quick_requests: usize,
    /// Every request is made at once and every result kept until all are read: asynchttp's
    /// 100,000 pairs. Its latency percentiles are time in the queue, so they are not shown.
    pub all_at_once: bool,
    /// Plain http, or which of nginx's TLS servers, and so which HTTP version every answer
    /// must come in.
    pub transport: Transport,
    /// Of an HTTP/2 scenario, the same one over HTTP/1.1, for the ratio under its table.
    pub h1_twin: Option<&'static str>,
}

/// Where a scenario's requests go, and over which HTTP version they must be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `--base`: plain http, HTTP/1.1.
    Plain,
    /// `--tls-base`: https on a port whose ALPN offers only `http/1.1`.
    TlsH1,
    /// `--h2-base`: https on a port whose ALPN offers `h2`, which every client here prefers.
    TlsH2,
}

impl Transport {
    /// The HTTP version every response must come in, as a [`version`] bit.
    pub fn expected_version(self) -> u8 {
        match self {
            Transport::Plain | Transport::TlsH1 => version::HTTP_11,
            Transport::TlsH2 => version::HTTP_2,
        }
    }

    pub fn is_tls(self) -> bool {
        self != Transport::Plain
    }
}

/// HTTP versions as bits, so that a run can say every version its responses came in.
pub mod version {
    pub const HTTP_10: u8 = 1;
    pub const HTTP_11: u8 = 2;
    pub const HTTP_2: u8 = 4;
    pub const OTHER: u8 = 8;
    const NAMES: [(u8, &str); 4] = [
        (HTTP_10, "1.0"),
        (HTTP_11, "1.1"),
        (HTTP_2, "2"),
        (OTHER, "other"),
    ];

    /// asynchttp's `Response::version`: 10, 11, 20, ...
    pub fn from_asynchttp(version: u8) -> u8 {
        match version {
            10 => HTTP_10,
            11 => HTTP_11,
            20 => HTTP_2,
            _ => OTHER,
        }
    }

    /// The `http` crate's, which isahc, ureq and reqwest share.
    pub fn from_http(version: isahc::http::Version) -> u8 {
        use isahc::http::Version;
        match version {
            Version::HTTP_10 => HTTP_10,
            Version::HTTP_11 => HTTP_11,
            Version::HTTP_2 => HTTP_2,
            _ => OTHER,
        }
    }

    /// `1.1`, `2`, `1.1+2`; empty for none.
    pub fn names(bits: u8) -> String {
        let names: Vec<&str> = NAMES
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, name)| *name)
            .collect();
        names.join("+")
    }

    /// The inverse of [`names`]; `None` for a name it does not know.
    pub fn parse(text: &str) -> Option<u8> {
        text.split('+')
            .filter(|n| !n.is_empty())
            .try_fold(0, |bits, name| {
                NAMES
                    .iter()
                    .find(|(_, n)| *n == name)
                    .map(|(bit, _)| bits | bit)
            })
    }
}

/// What a POST sends: 100 bytes.
pub const POST_BODY: &[u8; 100] = &[b'p'; 100];

const fn scenario(
    id: &'static str,
    title: &'static str,
    path: &'static str,
    response_len: usize,
    concurrency: usize,
    requests: usize,
    quick_requests: usize,
) -> Scenario {
    Scenario {
        id,
        title,
        path,
        post: false,
        response_len,
        concurrency,
        requests,
        quick_requests,
        all_at_once: false,
        transport: Transport::Plain,
        h1_twin: None,
    }
}

/// A GET over TLS; an HTTP/2 one names its HTTP/1.1 twin.
const fn tls(get: Scenario, transport: Transport, h1_twin: Option<&'static str>) -> Scenario {
    Scenario {
        transport,
        h1_twin,
        ..get
    }
}

const fn post(id: &'static str, title: &'static str, concurrency: usize) -> Scenario {
    Scenario {
        post: true,
        ..scenario(id, title, "/post", 100, concurrency, 10_000, 1_000)
    }
}

/// The scenarios, in the order they run and are reported.
pub const SCENARIOS: [Scenario; 13] = [
    scenario(
        "seq",
        "Sequential GET, 100 B body, concurrency 1",
        "/100",
        100,
        1,
        5_000,
        500,
    ),
    scenario(
        "get-c8",
        "GET, 100 B body, concurrency 8",
        "/100",
        100,
        8,
        20_000,
        2_000,
    ),
    scenario(
        "get-c32",
        "GET, 100 B body, concurrency 32",
        "/100",
        100,
        32,
        20_000,
        2_000,
    ),
    scenario(
        "get-c128",
        "GET, 100 B body, concurrency 128",
        "/100",
        100,
        128,
        20_000,
        2_000,
    ),
    post("post-c8", "POST, 100 B body each way, concurrency 8", 8),
    post("post-c32", "POST, 100 B body each way, concurrency 32", 32),
    scenario(
        "get64k-c8",
        "GET, 64 KiB body, concurrency 8",
        "/64k",
        64 * 1024,
        8,
        5_000,
        500,
    ),
    scenario(
        "get1m-c8",
        "GET, 1 MiB body, concurrency 8",
        "/1m",
        1024 * 1024,
        8,
        500,
        50,
    ),
    Scenario {
        all_at_once: true,
        ..scenario(
            "all-at-once",
            "GETs made all at once, 8 workers or threads, 5 B body",
            "/5",
            5,
            8,
            100_000,
            10_000,
        )
    },
    tls(
        scenario(
            "tls-h1-c32",
            "GET, 100 B body, concurrency 32, HTTP/1.1 over TLS",
            "/100",
            100,
            32,
            20_000,
            2_000,
        ),
        Transport::TlsH1,
        None,
    ),
    tls(
        scenario(
            "tls-h2-c32",
            "GET, 100 B body, concurrency 32, HTTP/2 over TLS",
            "/100",
            100,
            32,
            20_000,
            2_000,
        ),
        Transport::TlsH2,
        Some("tls-h1-c32"),
    ),
    tls(
        scenario(
            "tls-h1-64k-c8",
            "GET, 64 KiB body, concurrency 8, HTTP/1.1 over TLS",
            "/64k",
            64 * 1024,
            8,
            5_000,
            500,
        ),
        Transport::TlsH1,
        None,
    ),
    tls(
        scenario(
            "tls-h2-64k-c8",
            "GET, 64 KiB body, concurrency 8, HTTP/2 over TLS",
            "/64k",
            64 * 1024,
            8,
            5_000,
            500,
        ),
        Transport::TlsH2,
        Some("tls-h1-64k-c8"),
    ),
];

pub fn scenario_by_id(id: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.id == id)
}

/// The clients compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    /// `Http::builder().workers(c)`: one calling thread keeps `c` pairs in flight.
    Asynchttp,
    /// isahc's blocking `send` from `c` threads sharing one `HttpClient`.
    IsahcBlocking,
    /// isahc's `send_async` from one thread, `c` futures over one `HttpClient`.
    IsahcAsync,
    /// isahc's `send_async` from two threads, each with an `HttpClient` of its own and
    /// half of the `c` futures: the shape of a two-driver engine.
    IsahcAsync2,
    /// ureq 3 from `c` threads sharing one `Agent`.
    Ureq,
    /// reqwest's blocking client from `c` threads sharing one `Client`.
    Reqwest,
    /// Python's httplib2 from `c` threads, each with its own `httplib2.Http()`.
    Httplib2,
}

impl Client {
    pub const ALL: [Client; 7] = [
        Client::Asynchttp,
        Client::IsahcBlocking,
        Client::IsahcAsync,
        Client::IsahcAsync2,
        Client::Ureq,
        Client::Reqwest,
        Client::Httplib2,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Client::Asynchttp => "asynchttp",
            Client::IsahcBlocking => "isahc",
            Client::IsahcAsync => "isahc-async",
            Client::IsahcAsync2 => "isahc-async2",
            Client::Ureq => "ureq",
            Client::Reqwest => "reqwest",
            Client::Httplib2 => "httplib2",
        }
    }

    pub fn by_id(id: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.id() == id)
    }

    /// How it is driven at concurrency `c`, for the notes under the results.
    pub fn how(self) -> &'static str {
        match self {
            Client::Asynchttp => {
                "`Http::builder().workers(c)`, cache off (the default); one calling thread \
                 keeps c pairs in flight: it submits until c are outstanding, then reads the \
                 oldest pair before submitting the next"
            }
            Client::IsahcBlocking => {
                "c threads sharing one `HttpClient` set up as asynchttp sets up its own (no \
                 redirects, no automatic decompression, no `Expect`, c connections, the same \
                 request headers)"
            }
            Client::IsahcAsync => {
                "the same `HttpClient`, one thread, c futures of `send_async` joined \
                 (`futures::executor::block_on`)"
            }
            Client::IsahcAsync2 => {
                "two threads, each with an `HttpClient` of its own (c/2 connections) and half \
                 of the c futures; the 100,000 split between them"
            }
            Client::Ureq => {
                "c threads sharing one `Agent`, its idle pool raised to c, timeouts per phase"
            }
            Client::Reqwest => "c threads sharing one `blocking::Client`",
            Client::Httplib2 => "c threads, each with its own `httplib2.Http()`; GET only",
        }
    }

    /// Whether it runs over `transport`: over TLS, the clients that can be given the CA
    /// file, and over HTTP/2 those that speak it (ureq does not; httplib2 is left out of TLS).
    pub fn speaks(self, transport: Transport) -> bool {
        match (self, transport) {
            (_, Transport::Plain) => true,
            (Client::Httplib2, _) | (Client::Ureq, Transport::TlsH2) => false,
            _ => true,
        }
    }

    /// Its TLS stack and how it is told to trust the CA, for the notes on the TLS
    /// scenarios; `None` where it does not take part.
    pub fn tls_how(self) -> Option<&'static str> {
        match self {
            Client::Asynchttp => Some(
                "`Http::builder().ca_certs(file)`; its first request to an https origin goes \
                 alone, and an origin that answers over HTTP/2 gets one multiplexed connection \
                 (over HTTP/1.1 that first connection stays open beside the c others)",
            ),
            Client::IsahcBlocking | Client::IsahcAsync | Client::IsahcAsync2 => Some(
                "`TlsConfig::builder().trust_store(TrustStore::from_file(file))`, version \
                 negotiation isahc's default; libcurl multiplexes only on a connection that is \
                 up, so requests started together before one is up may each open their own \
                 (see conns)",
            ),
            Client::Ureq => Some(
                "rustls with aws-lc-rs, `RootCerts::Specific` with the CA; HTTP/1.1 only, \
                 so not in the HTTP/2 tables",
            ),
            Client::Reqwest => Some(
                "hyper-rustls (aws-lc-rs) with `tls_certs_only` the CA, features `rustls` \
                 and `http2`; ALPN offers h2 and http/1.1",
            ),
            Client::Httplib2 => None,
        }
    }

    /// How it is driven in the 100,000 scenario, where the others differ from asynchttp.
    pub fn all_at_once_how(self) -> &'static str {
        match self {
            Client::Asynchttp => "every `request()` pair made at once, then read in order",
            Client::IsahcAsync => "a `send_async` future per request, all joined at once",
            Client::IsahcAsync2 => "half the futures on each of two threads and clients",
            Client::Httplib2 => "8 threads, each with its own `Http`, every response kept",
            _ => "8 threads sharing one client, every response kept",
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Client::Asynchttp => "asynchttp",
            Client::IsahcBlocking => "isahc (blocking, threads)",
            Client::IsahcAsync => "isahc (async, 1 thread)",
            Client::IsahcAsync2 => "isahc (async, 2 threads)",
            Client::Ureq => "ureq (threads)",
            Client::Reqwest => "reqwest blocking (threads)",
            Client::Httplib2 => "Python httplib2 (threads)",
        };
        f.write_str(name)
    }
}
