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
    }
}

const fn post(id: &'static str, title: &'static str, concurrency: usize) -> Scenario {
    Scenario {
        post: true,
        ..scenario(id, title, "/post", 100, concurrency, 10_000, 1_000)
    }
}

/// The scenarios, in the order they run and are reported.
pub const SCENARIOS: [Scenario; 9] = [
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
