//! The content codings, the Unix socket, pinned names and bandwidth caps against a real
//! nginx, checked from what the client got and from what nginx logged.
//!
//! `conformance/nginx/run.sh` starts nginx (with Debian's brotli filter module) from a
//! config of its own and runs this against it, once as built by default and once built
//! with `--no-default-features`:
//!
//! ```sh
//! cargo run --example nginx_check -- DIR PORT TLS_PORT
//! ```
//!
//! `DIR` is the server's folder: the files it serves in `www/` (`big.txt`, `small.json`,
//! `2m.bin`), its Unix socket `nginx.sock`, the CA of its certificate `tls/ca.pem`, and one
//! access log per listener (`tcp.log`, `unix.log`, `tls.log`) in the format `check`:
//! `$request_uri|$connection|$connection_requests|$host|$http_host|$http_accept_encoding|$sent_http_content_encoding|$status|$body_bytes_sent`.
//! `PORT` is plain http on 127.0.0.1, where `/br/`, `/gzip/` and `/both/` serve `www/`
//! with the brotli filter, the gzip filter and both; `TLS_PORT` is https, with a
//! certificate for `nginx.test` only. The socket serves `www/` unencoded, and answers
//! `/moved?check=NAME` with a 302 to `/small.json?check=NAME-followed`.
//!
//! Each check prints a line, `ok` or `FAIL` and why; the exit status is 1 if any failed,
//! 2 for bad arguments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use asynchttp::{
    Error, Http, HttpBuilder, LazyContent, LazyResponse, ProxyInfo, Request, Response,
};

/// Limits every wait of the checks: a request that hangs fails its check instead.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The `max_body_size` of the check that a br body past it fails: below `big.txt`, above
/// what nginx sends of it in br or gzip, so that only the decoded bytes pass it.
const BODY_LIMIT: u64 = 2 << 20;
/// The download cap of the bandwidth check, and the body it caps (`2m.bin`).
const CAP: u64 = 1 << 20;
const CAPPED_BYTES: usize = 2 << 20;

type Outcome = Result<String, String>;

struct Server {
    dir: PathBuf,
    port: u16,
    tls_port: u16,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, port, tls_port] = args.as_slice() else {
        eprintln!("usage: nginx_check DIR PORT TLS_PORT");
        return ExitCode::from(2);
    };
    let (Ok(port), Ok(tls_port)) = (port.parse(), tls_port.parse()) else {
        eprintln!("nginx_check: PORT and TLS_PORT are port numbers");
        return ExitCode::from(2);
    };
    let server = Server {
        dir: PathBuf::from(dir),
        port,
        tls_port,
    };
    println!(
        "client: brotli {}, zstd {}; Accept-Encoding: {}",
        on_off(cfg!(feature = "brotli")),
        on_off(cfg!(feature = "zstd")),
        offered()
    );

    let mut failed = Vec::new();
    let mut run = |name: &str, outcome: Outcome| match outcome {
        Ok(detail) => println!("ok   {name}: {detail}"),
        Err(why) => {
            println!("FAIL {name}: {why}");
            failed.push(name.to_owned());
        }
    };
    for location in ["br", "gzip", "both"] {
        for file in ["big.txt", "small.json"] {
            run(
                &format!("/{location}/{file} whole"),
                whole(&server, location, file),
            );
            run(
                &format!("/{location}/{file} streamed"),
                streamed(&server, location, file),
            );
        }
    }
    run("past max_body_size", too_large(&server));
    run(
        "unix socket: HttpBuilder::unix_socket",
        unix_builder(&server),
    );
    run("unix socket: Request::unix_socket", unix_request(&server));
    run("unix socket: redirect", unix_redirect(&server));
    run("unix socket: one connection", unix_one_connection(&server));
    run("unix socket: missing", unix_missing(&server));
    run("resolve: http", pinned_http(&server));
    run("resolve: https", pinned_https(&server));
    run("bandwidth cap", capped(&server));

    if failed.is_empty() {
        println!("all checks passed");
        ExitCode::SUCCESS
    } else {
        println!("{} failed: {}", failed.len(), failed.join(", "));
        ExitCode::from(1)
    }
}

/// The query that marks a request, to find its line in nginx's log: `check=`, this run's
/// process id (which keeps one run's lines from another's) and `name`.
fn check(name: &str) -> String {
    format!("check={}-{name}", std::process::id())
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// The `Accept-Encoding` the client sends: the codings built in.
fn offered() -> String {
    let mut codings = vec!["gzip", "deflate"];
    if cfg!(feature = "brotli") {
        codings.push("br");
    }
    if cfg!(feature = "zstd") {
        codings.push("zstd");
    }
    codings.join(", ")
}

/// The coding nginx should apply under `location` to a client offering [`offered`]: br
/// where its filter is on and the client offers it (nginx prefers br to gzip), else gzip
/// where gzip is on, else none.
fn expected_coding(location: &str) -> Option<&'static str> {
    let br = cfg!(feature = "brotli");
    match location {
        "br" if br => Some("br"),
        "gzip" => Some("gzip"),
        "both" => Some(if br { "br" } else { "gzip" }),
        _ => None,
    }
}

fn client() -> HttpBuilder {
    Http::builder().timeout(TIMEOUT)
}

fn build(builder: HttpBuilder) -> Result<Http, String> {
    builder.build().map_err(|e| format!("build: {e}"))
}

/// Sends `req` and waits for the whole answer.
fn fetch(http: &Http, req: Request) -> Result<(Response, Vec<u8>), Error> {
    answer(http.send(req))
}

/// A request's pair, waited for.
fn answer((response, content): (LazyResponse, LazyContent)) -> Result<(Response, Vec<u8>), Error> {
    let response = LazyResponse::into_result(response)?;
    Ok((response, LazyContent::into_result(content)?))
}

fn fetch_ok(http: &Http, req: Request) -> Result<(Response, Vec<u8>), String> {
    ok(answer(http.send(req)))
}

/// A 200 and its body, or why not.
fn ok(answer: Result<(Response, Vec<u8>), Error>) -> Result<(Response, Vec<u8>), String> {
    let (response, body) = answer.map_err(|e| chain(&e))?;
    if response.status != 200 {
        return Err(format!("status {}, want 200", response.status));
    }
    Ok((response, body))
}

/// An error with its sources, as one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn served(server: &Server, file: &str) -> Result<Vec<u8>, String> {
    let path = server.dir.join("www").join(file);
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
}

fn same_bytes(got: &[u8], want: &[u8]) -> Result<(), String> {
    if got == want {
        return Ok(());
    }
    let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
    Err(format!(
        "{} bytes where the file has {}, first difference at byte {at}",
        got.len(),
        want.len()
    ))
}

/// The client's view of the coding: decoded, the server's header kept as
/// `-content-encoding`, `content-encoding` gone.
fn decoded_from(response: &Response, coding: Option<&str>) -> Result<(), String> {
    let got = response.get("-content-encoding");
    if got != coding || response.contains_key("content-encoding") {
        return Err(format!(
            "-content-encoding {got:?} and content-encoding {:?}, want {coding:?} and none",
            response.get("content-encoding")
        ));
    }
    Ok(())
}

/// One request's line in an access log.
#[derive(Debug)]
struct Logged {
    connection: String,
    requests: String,
    host: String,
    http_host: String,
    accept_encoding: String,
    content_encoding: String,
    body_bytes: u64,
}

/// The line of the request whose query is [`check`]`(mark)` in `log`, waited for: nginx writes
/// it just after the response, which the client may have read first.
fn logged(server: &Server, log: &str, mark: &str) -> Result<Logged, String> {
    let path = server.dir.join(log);
    let give_up = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(line) = find_line(&path, mark) {
            let f: Vec<&str> = line.split('|').collect();
            if f.len() != 9 {
                return Err(format!("{log}: unexpected line {line:?}"));
            }
            return Ok(Logged {
                connection: f[1].to_owned(),
                requests: f[2].to_owned(),
                host: f[3].to_owned(),
                http_host: f[4].to_owned(),
                accept_encoding: f[5].to_owned(),
                content_encoding: f[6].to_owned(),
                body_bytes: f[8].parse().unwrap_or_default(),
            });
        }
        if Instant::now() > give_up {
            return Err(format!("no line for {} in {log}", check(mark)));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn find_line(path: &Path, mark: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let query = check(mark);
    text.lines()
        .find(|line| {
            let uri = line.split('|').next().unwrap_or_default();
            uri.split_once('?').map(|(_, q)| q) == Some(query.as_str())
        })
        .map(str::to_owned)
}

/// What nginx logged of a coded answer: the client's `Accept-Encoding` and the coding.
fn logged_coding(line: &Logged, coding: Option<&str>) -> Result<(), String> {
    let want = coding.unwrap_or("-");
    if line.accept_encoding != offered() || line.content_encoding != want {
        return Err(format!(
            "nginx saw Accept-Encoding {:?} and sent Content-Encoding {:?}, want {:?} and {want:?}",
            line.accept_encoding,
            line.content_encoding,
            offered()
        ));
    }
    Ok(())
}

fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / f64::from(1 << 20))
}

/// 1: the file read whole with `Http::send`, decoded byte for byte, and the coding nginx
/// applied in both the response and nginx's log.
fn whole(server: &Server, location: &str, file: &str) -> Outcome {
    let want = served(server, file)?;
    let coding = expected_coding(location);
    let mark = format!("whole-{location}-{file}");
    let http = build(client())?;
    let url = format!(
        "http://127.0.0.1:{}/{location}/{file}?{}",
        server.port,
        check(&mark)
    );
    let (response, body) = ok(answer(http.request(&url)))?;
    same_bytes(&body, &want)?;
    decoded_from(&response, coding)?;
    let length = response.get("content-length").unwrap_or_default();
    if length != want.len().to_string() {
        return Err(format!(
            "content-length {length}, want the decoded {}",
            want.len()
        ));
    }
    let line = logged(server, "tcp.log", &mark)?;
    logged_coding(&line, coding)?;
    Ok(format!(
        "{} bytes in {}, {} bytes on the wire",
        want.len(),
        coding.unwrap_or("identity"),
        line.body_bytes
    ))
}

/// 1: the same, streamed to a file with `Http::download`.
fn streamed(server: &Server, location: &str, file: &str) -> Outcome {
    let want = served(server, file)?;
    let coding = expected_coding(location);
    let mark = format!("streamed-{location}-{file}");
    let out = server.dir.join("out");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let path = out.join(format!("{location}-{file}"));
    let http = build(client())?;
    let url = format!(
        "http://127.0.0.1:{}/{location}/{file}?{}",
        server.port,
        check(&mark)
    );
    let done = http
        .download(&url, &path)
        .into_result()
        .map_err(|e| chain(&e))?;
    if done.response.status != 200 || done.bytes != want.len() as u64 {
        return Err(format!(
            "status {}, {} bytes written, want 200 and {}",
            done.response.status,
            done.bytes,
            want.len()
        ));
    }
    let written = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    same_bytes(&written, &want)?;
    decoded_from(&done.response, coding)?;
    logged_coding(&logged(server, "tcp.log", &mark)?, coding)?;
    Ok(format!("{} bytes to {}", done.bytes, path.display()))
}

/// 1: a br body (gzip without the brotli feature) that decodes past `max_body_size` fails
/// with `Error::BodyTooLarge`, though nginx sends fewer bytes than that (as logged for
/// the whole read of the same file).
fn too_large(server: &Server) -> Outcome {
    let location = if cfg!(feature = "brotli") {
        "br"
    } else {
        "gzip"
    };
    let http = build(client().max_body_size(BODY_LIMIT))?;
    let url = format!("http://127.0.0.1:{}/{location}/big.txt", server.port);
    let wire = logged(server, "tcp.log", &format!("whole-{location}-big.txt"))?.body_bytes;
    if wire >= BODY_LIMIT {
        return Err(format!(
            "nginx sent {wire} bytes of it, want fewer than the limit"
        ));
    }
    match fetch(&http, Request::get(url)) {
        Err(Error::BodyTooLarge { limit, .. }) if limit == BODY_LIMIT => Ok(format!(
            "big.txt, {} in {location}, past max_body_size {} once decoded: BodyTooLarge",
            mib(wire),
            mib(BODY_LIMIT)
        )),
        Err(e) => Err(format!("want BodyTooLarge, got {}", chain(&e))),
        Ok((r, body)) => Err(format!(
            "want BodyTooLarge, got {} with {} bytes",
            r.status,
            body.len()
        )),
    }
}

fn socket(server: &Server) -> PathBuf {
    server.dir.join("nginx.sock")
}

/// 2: a client whose every request goes over the socket.
fn unix_builder(server: &Server) -> Outcome {
    let http = build(client().unix_socket(socket(server)))?;
    let (_, body) = fetch_ok(
        &http,
        Request::get(format!(
            "http://localhost/small.json?{}",
            check("unix-builder")
        )),
    )?;
    same_bytes(&body, &served(server, "small.json")?)?;
    let line = logged(server, "unix.log", "unix-builder")?;
    if line.http_host != "localhost" {
        return Err(format!(
            "nginx saw Host {:?}, want \"localhost\"",
            line.http_host
        ));
    }
    Ok(format!("{} bytes, Host: localhost", body.len()))
}

/// 2: one request over the socket, from a client that otherwise goes over TCP.
fn unix_request(server: &Server) -> Outcome {
    let http = build(client())?;
    let req = Request::get(format!(
        "http://localhost/small.json?{}",
        check("unix-request")
    ))
    .unix_socket(socket(server));
    let (_, body) = fetch_ok(&http, req)?;
    same_bytes(&body, &served(server, "small.json")?)?;
    logged(server, "unix.log", "unix-request")?;
    Ok(format!("{} bytes", body.len()))
}

/// 2: nginx's 302 followed, over the socket.
fn unix_redirect(server: &Server) -> Outcome {
    let http = build(client().unix_socket(socket(server)))?;
    let (response, body) = fetch_ok(
        &http,
        Request::get(format!("http://localhost/moved?{}", check("redirect"))),
    )?;
    same_bytes(&body, &served(server, "small.json")?)?;
    let Some(previous) = response.previous.as_deref().filter(|p| p.status == 302) else {
        return Err("no 302 before the answer".into());
    };
    logged(server, "unix.log", "redirect")?;
    logged(server, "unix.log", "redirect-followed")?;
    Ok(format!(
        "302 to {:?}, then 200 at {}",
        previous.get("location").unwrap_or_default(),
        response.url
    ))
}

/// 2: three requests of one client, one after the other, on one connection: nginx's
/// connection serial number the same for all three, and its count of requests on it 1, 2, 3.
fn unix_one_connection(server: &Server) -> Outcome {
    let http = build(client().unix_socket(socket(server)))?;
    let mut lines = Vec::new();
    for i in 1..=3 {
        let mark = format!("keep-alive-{i}");
        fetch_ok(
            &http,
            Request::get(format!("http://localhost/small.json?{}", check(&mark))),
        )?;
        lines.push(logged(server, "unix.log", &mark)?);
    }
    let connections: Vec<&str> = lines.iter().map(|l| l.connection.as_str()).collect();
    let requests: Vec<&str> = lines.iter().map(|l| l.requests.as_str()).collect();
    if connections.iter().any(|c| *c != connections[0]) || requests != ["1", "2", "3"] {
        return Err(format!(
            "connections {connections:?}, requests on each {requests:?}; want one connection, 1 2 3"
        ));
    }
    Ok(format!(
        "connection {} served requests 1, 2, 3",
        connections[0]
    ))
}

/// 2: a socket that is not there fails with `Error::Connect`, naming it.
fn unix_missing(server: &Server) -> Outcome {
    let missing = server.dir.join("missing.sock");
    let http = build(client().unix_socket(&missing))?;
    match fetch(&http, Request::get("http://localhost/small.json")) {
        Err(Error::Connect { to: Some(to), .. }) if to == format!("unix:{}", missing.display()) => {
            Ok(format!("Connect to {to}"))
        }
        Err(e) => Err(format!(
            "want Error::Connect to the socket, got {}",
            chain(&e)
        )),
        Ok((r, _)) => Err(format!("want Error::Connect, got {}", r.status)),
    }
}

/// 3: `http://nginx.test:PORT/` pinned to 127.0.0.1; nginx sees the name in `Host`.
fn pinned_http(server: &Server) -> Outcome {
    let http = build(
        client()
            .resolve("nginx.test", server.port, ["127.0.0.1"])
            .proxy_info(ProxyInfo::none()),
    )?;
    let url = format!(
        "http://nginx.test:{}/small.json?{}",
        server.port,
        check("pinned")
    );
    fetch_ok(&http, Request::get(url))?;
    let line = logged(server, "tcp.log", "pinned")?;
    host_is(&line, &format!("nginx.test:{}", server.port))
}

fn host_is(line: &Logged, want: &str) -> Outcome {
    if line.http_host != want || line.host != "nginx.test" {
        return Err(format!(
            "nginx saw Host {:?} (host {:?}), want {want:?}",
            line.http_host, line.host
        ));
    }
    Ok(format!("nginx saw Host: {want}"))
}

/// 3: https by name through `resolve`, the certificate checked against `ca_certs`; a name
/// not on the certificate, pinned to the same address, fails with `Error::Tls` and sends
/// nothing; without the CA, the name on the certificate fails too.
fn pinned_https(server: &Server) -> Outcome {
    let port = server.tls_port;
    let pinned = |builder: HttpBuilder| {
        builder
            .resolve("nginx.test", port, ["127.0.0.1"])
            .resolve("other.test", port, ["127.0.0.1"])
            .proxy_info(ProxyInfo::none())
    };
    let url = |host: &str, mark: &str| format!("https://{host}:{port}/small.json?{}", check(mark));
    let http = build(pinned(client()).ca_certs(server.dir.join("tls/ca.pem")))?;
    let (_, body) = fetch_ok(&http, Request::get(url("nginx.test", "tls")))?;
    same_bytes(&body, &served(server, "small.json")?)?;
    let trusted = host_is(
        &logged(server, "tls.log", "tls")?,
        &format!("nginx.test:{port}"),
    )?;

    let other = tls_refused(&http, &url("other.test", "tls-other"), "NotValidForName")?;
    let untrusted = build(pinned(client()))?;
    let unknown = tls_refused(
        &untrusted,
        &url("nginx.test", "tls-untrusted"),
        "UnknownIssuer",
    )?;
    // A request after the refused ones is logged: theirs would be before it.
    fetch_ok(&http, Request::get(url("nginx.test", "tls-after")))?;
    logged(server, "tls.log", "tls-after")?;
    let tls_log = server.dir.join("tls.log");
    if find_line(&tls_log, "tls-other").is_some() || find_line(&tls_log, "tls-untrusted").is_some()
    {
        return Err("a request whose certificate check failed reached nginx".into());
    }
    Ok(format!(
        "{trusted}; other.test: {other}; without the CA: {unknown}"
    ))
}

/// `url` fails with `Error::Tls`, its reason naming `why`.
fn tls_refused(http: &Http, url: &str, why: &str) -> Outcome {
    match fetch(http, Request::get(url)) {
        Err(Error::Tls {
            reason: Some(reason),
            ..
        }) if reason.contains(why) => Ok(reason),
        Err(e) => Err(format!(
            "{url}: want Error::Tls for {why}, got {}",
            chain(&e)
        )),
        Ok((r, _)) => Err(format!(
            "{url}: want Error::Tls for {why}, got {}",
            r.status
        )),
    }
}

/// 4: 2 MiB at 1 MiB/s takes at least 1.5 s, and uncapped at most a quarter of that.
fn capped(server: &Server) -> Outcome {
    let url = |mark: &str| format!("http://127.0.0.1:{}/2m.bin?{}", server.port, check(mark));
    let timed = |http: &Http, mark: &str| -> Result<Duration, String> {
        let started = Instant::now();
        let (_, body) = fetch_ok(http, Request::get(url(mark)))?;
        if body.len() != CAPPED_BYTES {
            return Err(format!("{} bytes, want {CAPPED_BYTES}", body.len()));
        }
        Ok(started.elapsed())
    };
    let uncapped = timed(&build(client())?, "uncapped")?;
    let capped = timed(&build(client().max_download_speed(CAP))?, "capped")?;
    let figures = format!(
        "{} at {}/s in {capped:.2?}, uncapped in {uncapped:.2?}",
        mib(CAPPED_BYTES as u64),
        mib(CAP)
    );
    if capped < Duration::from_millis(1500) || uncapped * 4 > capped {
        return Err(format!(
            "{figures}: want at least 1.5 s capped, and 4 times less uncapped"
        ));
    }
    Ok(figures)
}
