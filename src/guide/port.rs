//! From asynchttp and httplib2: the pair, taking values, errors, callbacks, credentials (and
//! requests' and curl's `.netrc`), TLS and proxies, and shutdown, each beside the Python it
//! replaces.
//!
//! The other chapters keep the same shape: [async code](super::async_code) for asyncio and
//! aiohttp, [batches](super::batches) for requests-toolbelt, [retries](super::retries) for
//! urllib3's `Retry`, [downloads](super::downloads) for `stream=True`, [uploads](super::uploads)
//! for `data=open(f, "rb")` and toolbelt's `MultipartEncoderMonitor`, [cookies](super::cookies)
//! for requests' `Session`, [the cache](super::cache) for `Http(".cache")` and
//! `cache=memcache.Client(...)`,
//! [testing](super::testing) for httpx's `MockTransport`, `responses` and `requests-mock`,
//! [hooks](super::hooks) for requests' and httpx's event hooks, [forms](super::forms) for
//! `files=`, `data=`, `params=`, `json=` and toolbelt's `MultipartEncoder`.
//! [Differences](super::differences) lists what behaves otherwise, on purpose.
//!
//! # The pair
//!
//! | Python (asynchttp / httplib2) | Rust |
//! |---|---|
//! | `http = asynchttp.Http()` (5 workers) | `let http = Http::new();` (5 workers) |
//! | `asynchttp.Http(max_workers=8, timeout=5)` | `Http::builder().workers(8).timeout(Duration::from_secs(5)).build()?` |
//! | `response, content = http.request(url)` | `let (response, content) = http.request(url);` |
//! | `http.request(url, "POST", body, headers)` | `http.request_with(url, "POST", body, &[("Content-Type", "text/plain")])` |
//! | `http.request(url, "POST", urlencode(data), {"Content-Type": "application/x-www-form-urlencoded"})` | `http.send(Request::new("POST", url).form(data))` ([forms](super::forms)) |
//! | `http.request(url + "?" + urlencode(params))` | `http.send(Request::get(url).query(params))` |
//! | `http.request(url, "POST", json.dumps(v), {"Content-Type": "application/json"})` | `http.send(Request::new("POST", url).json(&v))` (the `json` feature) |
//! | `m = MultipartEncoder(fields)`, `http.request(url, "POST", m.to_string(), {"Content-Type": m.content_type})` | `http.send(Request::new("POST", url).multipart(form))`, files streamed ([`Form`](crate::Form)) |
//! | `response.status`, `response.reason` | `response.status`, `response.reason` |
//! | `response['content-type']` | `response["content-type"]` (panics when absent, like a dict) or `response.get("content-type")` |
//! | (none: httplib2 only joins repeated headers) | `response.get_all("set-cookie")` (each field line's value apart, in order; `get` joins them with `", "`) |
//! | `'etag' in response` | `response.contains_key("etag")` |
//! | `response['status']` | `response["status"]` (`"200"`) |
//! | `response.fromcache`, `response.previous` | `response.from_cache`, `response.previous` |
//! | `httplib2.Http(cache=memcache.Client(["10.0.0.5:11211"]))` | `Http::builder().cache_store(Arc::new(RedisCache::new("redis://10.0.0.5:6379/")?)).build()?` (the `redis` feature; [a shared cache](super::cache#sharing-a-cache-across-processes-with-redis)) |
//! | `str(content)` | `content.to_string()` or `format!("{content}")` |
//! | `len(content)`, `content[:10]` | `content.len()`, `&content[..10]` (derefs to `[u8]`) |
//! | `response.done()` | `LazyResponse::is_ready(&response)` |
//! | `response.wait()` | `LazyResponse::wait(&response)` → `Result<&Response, Error>` |
//! | (none) | `LazyResponse::wait_timeout(&response, Duration::from_secs(1))` |
//! | `requests.put(url, data=open(f, "rb"))` | `http.put(url, Body::file(f))`: read as it is sent ([uploads](super::uploads)) |
//! | `MultipartEncoderMonitor(encoder, callback)` | `let upload = body.monitor();`, then `upload.wait_progress_every(..)` |
//! | `curl -T FILE URL` | `fetch -T FILE URL` |
//!
//! The lazy types' own operations are associated functions (`LazyResponse::wait(&r)`), so that
//! `response.something` always reaches the [`Response`] itself (method forms: [taking
//! values](#taking-values)).
//!
//! ```no_run
//! use asynchttp::{Http, LazyResponse};
//!
//! let http = Http::new();
//! let pairs: Vec<_> = ["http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b"]
//!     .iter()
//!     .map(|url| http.request(url))
//!     .collect(); // both run at once
//! for (response, content) in &pairs {
//!     match LazyResponse::wait(response) {
//!         Ok(r) => println!("{} {} bytes", r.status, content.len()),
//!         Err(e) => eprintln!("failed: {e}"),
//!     }
//! }
//! ```
//!
//! # Taking values
//!
//! `wait` and `Deref` lend the outcome; these give it:
//!
//! ```python
//! pages = [json.loads(content) for response, content in pairs]  # plain values, kept
//! ```
//!
//! ```no_run
//! use asynchttp::prelude::*; // method forms: .wait(), .into_result(), .into_inner()
//! use asynchttp::{Error, Http, Lazy, Request};
//!
//! struct Page {
//!     words: usize,
//! } // built on the worker, and not Clone
//!
//! let http = Http::new();
//! let (response, content) = http.request("http://127.0.0.1:8080/report.csv");
//! let status = response.into_result()?.status; // a Response (cloned: the body half lives)
//! let body: Vec<u8> = content.into_result()?;    // moved out, no copy: the last handle
//!
//! let pages: Vec<Lazy<Page>> = (1..=3)
//!     .map(|n| {
//!         let req = Request::get(format!("http://127.0.0.1:8080/page/{n}"));
//!         http.send_map(req, |_, body| Ok::<_, Error>(Page { words: body.split(|b| *b == b' ').count() }))
//!     })
//!     .collect();
//! let pages: Vec<Page> = pages
//!     .into_iter()
//!     .map(|page| page.into_inner().expect("one handle each"))
//!     .collect::<Result<_, _>>()?;
//! println!("{status}: {} bytes, {} words", body.len(), pages.iter().map(|p| p.words).sum::<usize>());
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! | call | gives |
//! |---|---|
//! | `LazyResponse::into_result(r)`, `r.into_result()` | `Result<Response, Error>`: moved out from the last handle, cloned otherwise |
//! | `LazyContent::into_result(c)`, `c.into_result()` | `Result<Vec<u8>, Error>`, the same way |
//! | `Lazy::into_result(l)`, `l.into_result()` | `Result<T, Error>` for `T: Clone`, the same way |
//! | `Lazy::into_inner(l)`, `l.into_inner()` | `Some(Result<T, Error>)` from the last handle, for any `T`; `None` at once if a clone lives, as `Arc::into_inner` |
//!
//! Each blocks until the request is done, as `wait` does. The method forms come from the
//! [`prelude`]'s trait [`LazyExt`]; the associated functions work without it.
//!
//! # Errors and panics
//!
//! As in asynchttp, `request()` never raises: a failure is stored once and surfaces when the
//! pair is read, on every access; nothing is retried by reading it again. In Rust there are
//! two ways to read it. [`LazyResponse::wait`], [`LazyContent::wait`] and [`Lazy::wait`]
//! return `Result<&T, Error>`: the robust path.
//!
//! ```python
//! try:
//!     print(response.status)
//! except httplib2.ServerNotFoundError as e:
//!     print("failed:", e)
//! ```
//!
//! ```no_run
//! # let http = asynchttp::Http::new();
//! # let (response, _content) = http.request("http://127.0.0.1:8080/");
//! use asynchttp::{Error, LazyResponse};
//!
//! match LazyResponse::wait(&response) {
//!     Ok(r) => println!("{}", r.status),
//!     Err(Error::ServerNotFound { host, .. }) => println!("no such host {host}"),
//!     Err(Error::Timeout { after, .. }) => println!("timed out after {after:?}"),
//!     Err(e) => println!("failed: {}", e.chain()),
//! }
//! ```
//!
//! Dereferencing (`response.status`, `&*content`) and `Display` are the httplib2-like path: on
//! a failed request they panic, as the Python attribute access raises, and the panic points at
//! the line that read it. The message names the method, the URL, the error chain and the line
//! that made the request:
//!
//! ```text
//! asynchttp: GET http://127.0.0.1:9/ failed: could not connect to 127.0.0.1:9: ... (request made at src/main.rs:12:27)
//! ```
//!
//! `Debug` never blocks. 4xx and 5xx statuses are responses, not errors, as in httplib2.
//! [`Error`] lists what can fail:
//!
//! | httplib2 exception | `asynchttp::Error` |
//! |---|---|
//! | `RelativeURIError` | `RelativeUri` |
//! | `ServerNotFoundError` | `ServerNotFound` |
//! | `ConnectionRefusedError`, `socket.error` | `Connect` |
//! | `socket.timeout` | `Timeout` |
//! | `ssl.SSLError` | `Tls` |
//! | (a proxy refusing the tunnel, as with 407) | `Proxy` |
//! | `RedirectLimit`, `RedirectMissingLocation` | `RedirectLimit`, `RedirectMissingLocation` |
//! | (a redirect to `file:` and the like) | `RedirectRefused` |
//! | `FailedToDecompressContent` | `Decompress` |
//! | `DecodeLimitError` | `BodyTooLarge` |
//! | `http.client.IncompleteRead` | `BodyIncomplete` |
//! | `OSError` reading `data=open(f)` (requests) | `Body` |
//! | an exception in the callback | `Callback` |
//! | an exception in an event hook (requests, httpx) | `Hook` |
//! | (bad header or method) | `InvalidRequest` |
//! | (request after shutdown) | `Closed` |
//!
//! # Callbacks
//!
//! asynchttp called `callback(promise)` on the worker; here a callback gets the response and
//! the body, may change both, and its error or panic becomes the request's
//! [`Error::Callback`]: it fails only its own request, and the worker goes on. It runs only
//! for requests that succeeded.
//!
//! ```python
//! def decode(promise):
//!     promise.response.data = json.loads(promise.content)
//! response, content = http.request(url, callback=decode)
//! ```
//!
//! ```no_run
//! use asynchttp::{Http, Request};
//!
//! let http = Http::new();
//! let (response, content) = http.send(
//!     Request::get("http://127.0.0.1:8080/data").callback(|response, body| {
//!         response.insert("x-body-length", body.len().to_string());
//!         body.make_ascii_uppercase();
//!         Ok::<(), std::io::Error>(())
//!     }),
//! );
//! println!("{} {}", &response["x-body-length"], content);
//!
//! // To keep a value built on the worker (parsed JSON, say), use send_map:
//! let length = http.send_map(Request::get("http://127.0.0.1:8080/data"), |_response, body| {
//!     Ok::<usize, std::io::Error>(body.len())
//! });
//! println!("{} bytes", *length);
//! ```
//!
//! With the `json` feature, `LazyContent::json::<T>(&content)` decodes a body with serde, and
//! `http.send_json::<T>(request)` decodes it on the worker, as requests-futures users parse JSON
//! in a background callback; `send_json_with_response` keeps the response beside the value. A
//! body that is not the JSON expected fails with `Error::Json { status, .. }`, so a 404 page is
//! told from a malformed success. `cargo doc --features json --open` shows these items (docs.rs
//! marks them "Available on crate feature json only").
//!
//! For code that runs on every request of a client rather than one, requests'
//! `hooks={'response': f}`, httpx's `event_hooks={'request': [..], 'response': [..]}` and
//! requests-futures' `background_callback` map to a [`Hook`](crate::Hook) on the builder:
//! `on_finish` for the response hook and the background callback, `before_send` and
//! `on_response` for httpx's two lists; see [`guide::hooks`](super::hooks).
//!
//! A callback may itself make requests on the same `Http` and wait for them, and never
//! deadlocks for want of a free worker: on a worker thread, an untimed wait runs the awaited
//! request right there if no worker has started it yet, so even a pool of one worker does not
//! deadlock. A `wait_timeout` never does that: it returns within its timeout, on any thread.
//! Two callbacks that wait on each other's requests still deadlock, as any two threads that
//! wait on each other do.
//!
//! # Credentials
//!
//! ```python
//! http = httplib2.Http()
//! http.add_credentials("alice", "s3cret")
//! response, content = http.request("https://api.example.com/private")
//! ```
//!
//! ```no_run
//! let http = asynchttp::Http::new();
//! http.add_credentials("alice", "s3cret", ""); // "" = the origin of each request's URL
//! http.add_credentials("bot", "t0ken", "api.example.com"); // only this host
//! let (response, _) = http.request("https://api.example.com/private");
//! println!("{}", response.status);
//! ```
//!
//! On a 401, the credentials that apply are tried in the order added, Digest (RFC 7616: MD5,
//! SHA-256, their `-sess` forms, `qop=auth`) before Basic. An accepted credential is then sent up
//! front to the same origin and path prefix.
//!
//! Digest with concurrent requests: a server that checks nonce counts (Apache's
//! `AuthDigestNcCheck On`) refuses a count that arrives after a higher one, and Apache counts per
//! client, refusing a client's older nonces once a newer one is used. So each nonce the server
//! accepted is sent up front by one request at a time, its counts in order; a request that finds
//! every such nonce in use goes without, and the server's challenge gives it one of its own (with
//! Apache, a client of its own), kept for later requests. The first requests that run at once
//! cost one more round trip each; after that each has a nonce to itself. Against Apache 2.4.71,
//! 25 rounds of 8 concurrent GETs on one `Http` all end in 200, 208 requests in all
//! (`conformance/apache2/run.sh`). A server that gives every challenge the same nonce has it
//! shared, each request with its own count; one refused there for a late count answers once more,
//! alone with the nonce the server gave.
//!
//! What one request costs at most: the request; after a 401, one answer per credential and scheme
//! that applies; and once, a Digest answer sent again, after a `stale` nonce or such a refusal. A
//! wrong password alone with its nonce ends in its 401 after one answer; a server that keeps
//! saying `stale` with Basic beside sees four requests. Unlike httplib2:
//!
//! - credentials with an empty domain go only to the origin (scheme, host, port) of the URL the
//!   request was made for, never to a host a redirect leads to (httplib2 sends them to any host);
//! - `add_credentials` accumulates, as in httplib2 (asynchttp kept only the last call);
//! - an `Authorization` header you set yourself wins over credentials;
//! - `close()` keeps credentials (httplib2's clears them); `clear_credentials()` forgets them.
//!
//! # Credentials from a .netrc
//!
//! requests reads `~/.netrc` for any host you give no `auth=` for, and `curl --netrc` does
//! the same; httplib2 never reads it. Here it is asked for on the builder:
//! [`netrc()`](crate::HttpBuilder::netrc) reads the file `NETRC` names, else `~/.netrc` (on
//! Windows `_netrc` too), and a missing file is no error; [`netrc_file(path)`](crate::HttpBuilder::netrc_file)
//! reads that file, which must be there. Either is read once, when the client is built.
//!
//! ```python
//! session = requests.Session()          # trust_env: ~/.netrc is read
//! response = session.get("https://api.example.com/private")
//! ```
//!
//! ```
//! use asynchttp::{Http, MockResponse, MockTransport};
//!
//! # let dir = std::env::temp_dir().join(format!("netrc-guide-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("netrc");
//! std::fs::write(&path, r#"
//! ## The bot's token, for the API only
//! machine api.example.com
//!     login bot
//!     password "t0ken with \"quotes\" and spaces"
//! default login anonymous password guest@example.com
//! "#)?;
//! // A mock in place of the servers, to see what goes out.
//! let mock = MockTransport::new(|_| MockResponse::ok("hello"));
//! let http = Http::builder().netrc_file(&path).mock(mock.clone()).build()?;
//! http.request("https://api.example.com/private").1.to_string();
//! http.request("https://other.example.com/").1.to_string();
//! let sent = mock.requests();
//! assert_eq!(
//!     sent[0].header("authorization"),
//!     Some("Basic Ym90OnQwa2VuIHdpdGggInF1b3RlcyIgYW5kIHNwYWNlcw==") // bot's password
//! );
//! assert_eq!(
//!     sent[1].header("authorization"),
//!     Some("Basic YW5vbnltb3VzOmd1ZXN0QGV4YW1wbGUuY29t") // default's
//! );
//!
//! // A mistake stops the build, naming the file, its line and what is wrong.
//! std::fs::write(&path, "machine api.example.com\nlogin bot\npasword t0ken\n")?;
//! let refused = Http::builder().netrc_file(&path).build().unwrap_err();
//! assert!(refused.to_string().ends_with(
//!     "netrc: line 3: a word where a keyword belongs (machine, default, login, password, \
//!      account or macdef)"
//! ));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Which requests get an entry:
//!
//! - Only those the caller gave no credentials for: no credential added with
//!   [`add_credentials`](crate::Http::add_credentials) applies to the URL, and the request
//!   has no `Authorization` header of its own. Credentials added for another host leave the
//!   file's in place.
//! - A `machine` entry goes to its host, on any port, as curl has it (`machine h:8080` or a
//!   URL matches nothing, in curl too: such an entry is left out, with a warning); the
//!   first entry for a host wins, and the host is compared without regard to case.
//!   `default` goes where no `machine` entry does, and only to the origin of the URL the
//!   request was made for: on a redirect to another host, that host's own `machine` entry
//!   goes there, or nothing. A password never goes to a host the file did not name for it.
//! - The entry goes up front as `Authorization: Basic`, as curl and requests send it: an API
//!   such as GitHub's answers 404, not 401, to a request without credentials, so waiting
//!   for a challenge would never send them. A 401 offering Digest is answered with the same
//!   entry. Basic over plain `http` is readable on the path, as with curl: prefer `https`
//!   hosts in the file. A redirect from `https` to `http` never carries an entry up front,
//!   even to its own host (curl sends it): that host gets it only by answering 401.
//!
//! The file's grammar is curl's and Python's: `machine`, `default`, `login` (or `user`),
//! `password`, `account` (read and not used), `macdef` (its macro skipped to the next empty
//! line), `#` comment lines and `#` comments after an entry's words, values quoted with
//! `\"`, `\\`, `\n`, `\r` and `\t` escapes. Where the two part, the stricter: a word that is
//! not a keyword is a mistake (curl skips it), and so is a quote left open at the end of
//! its line. A mistake never shows the text it found, which may be a password. The file
//! must be a regular file of at most 128 KiB (curl's limit): a FIFO, a device or a
//! directory is refused at once, never waited on; a symbolic link is followed, as curl and
//! Python follow it, since the name is the user's own. A file with passwords that the group
//! or others may read is used, with a warning in the log (Python refuses it, curl says
//! nothing): `chmod 600 ~/.netrc`.
//!
//! [`clear_credentials`](crate::Http::clear_credentials) forgets what was added and what
//! servers accepted; the file's entries stay for the client's life. The `fetch` example
//! takes curl's flags: `--netrc`, `--netrc-file FILE`, `--netrc-optional`.
//!
//! # TLS and proxies
//!
//! | httplib2 | Rust |
//! |---|---|
//! | `Http(ca_certs="ca.pem")` | `Http::builder().ca_certs("ca.pem")` |
//! | `Http(disable_ssl_certificate_validation=True)` | `.disable_ssl_certificate_validation(true)` |
//! | `Http(tls_minimum_version="TLSv1_3")` | `.tls_minimum_version(TlsVersion::Tls13)` |
//! | `http.add_certificate(key, cert, domain)` | `http.add_certificate(key, cert, domain)` |
//! | `Http(proxy_info=ProxyInfo(...))` | `.proxy_info(ProxyInfo::from_url("http://user:pass@proxy:3128")?)` |
//! | `proxy_info_from_environment` (the default) | `ProxyInfo::from_environment()` (the default) |
//! | `Http(proxy_info=None)` | `.proxy_info(ProxyInfo::none())` |
//!
//! A failed verification is `Error::Tls`, every time: a connection whose handshake failed is never
//! pooled. Its message says why, in libcurl's words (`TLS failure: invalid peer certificate:
//! UnknownIssuer`, `...: NotValidForName`, `...: Expired`). isahc keeps only libcurl's error code,
//! which is the same for all three, so the handshake is made once more, without sending anything,
//! to read the reason. A proxy that answers an https request's `CONNECT` with an error status is
//! `Error::Proxy`, naming the proxy and the status (`the proxy 10.0.0.1:3128 refused the tunnel
//! to example.com:443: 407 Proxy Authentication Required`); it too is asked once more for it. A
//! plain http request gets such an answer as a response. A proxy that cannot be reached is
//! `Error::Connect`, which names it. Proxy credentials go to the proxy only. A proxy taken from
//! the environment is not used for loopback hosts (`localhost`, `127.0.0.0/8`, `::1`); one given
//! with `from_url` is.
//!
//! # Shared workers and shutdown
//!
//! ```no_run
//! use asynchttp::{Http, WorkerPool};
//!
//! let pool = WorkerPool::new(8); // like a requests-futures executor shared by sessions
//! let api = Http::builder().pool(pool.clone()).build()?;
//! let cdn = Http::builder().pool(pool.clone()).build()?;
//! let (a, _) = api.request("http://127.0.0.1:8080/a");
//! let (b, _) = cdn.request("http://127.0.0.1:8081/b");
//! println!("{} {}", a.status, b.status);
//! api.shutdown(); // later api requests fail with Error::Closed; the pool serves cdn on
//! # Ok::<(), asynchttp::Error>(())
//! ```
//!
//! [`Http::shutdown`], or dropping the last clone of an [`Http`], stops it: later requests
//! fail with [`Error::Closed`], queued requests still run, and the call returns once they
//! are done and the workers have been joined. Every pair is filled; none waits forever.
//! Dropped on a worker thread (inside a callback), the client stops without waiting, since
//! a worker cannot join itself. Dropped on a thread that has awaited a pair or a [`Lazy`],
//! which the crate takes for an async executor's thread, it never waits either: it closes
//! there, and a thread of its own (`asynchttp-release`) waits for the requests in flight
//! and joins the client's threads; those requests still complete, unless the process exits
//! first, so await what you need before it does. Dropping a pair early cancels nothing: the
//! request still runs, as in httplib2; [`LazyResponse::cancel`] stops one that is still
//! queued.
//!
//! # Tests without a server
//!
//! | Python | Rust |
//! |---|---|
//! | `httpx.Client(transport=httpx.MockTransport(handler))` | `Http::builder().mock(MockTransport::new(handler)).build()?`: `handler(&MockRequest) -> MockResponse` |
//! | `responses.add(...)`, `requests_mock.get(url, text=...)` | a `match` on `req.method()` and `req.path()` in the handler, answering `MockResponse::ok(text)` |
//! | `responses.calls`, `requests_mock.request_history` | `mock.requests()`, `mock.count()` |
//! | `raise httpx.ConnectError`, `ConnectTimeout`, `ReadTimeout` | `MockResponse::connection_refused()`, `connect_timeout()`, `timeout()` |
//!
//! The recipes are in [testing](super::testing).
//!
//! [`Error`]: crate::Error
//! [`Error::Callback`]: crate::Error::Callback
//! [`Error::Closed`]: crate::Error::Closed
//! [`Http`]: crate::Http
//! [`Http::shutdown`]: crate::Http::shutdown
//! [`Lazy`]: crate::Lazy
//! [`Lazy::wait`]: crate::Lazy::wait
//! [`LazyContent::wait`]: crate::LazyContent::wait
//! [`LazyExt`]: crate::LazyExt
//! [`LazyResponse::cancel`]: crate::LazyResponse::cancel
//! [`LazyResponse::wait`]: crate::LazyResponse::wait
//! [`prelude`]: crate::prelude
//! [`Response`]: crate::Response
