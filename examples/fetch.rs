//! Fetches many URLs at once and sums them up: a batch, its progress, and its results.
//!
//! ```sh
//! cargo run --example fetch -- -w 16 https://example.com/ https://example.org/
//! cargo run --example fetch -- -w 32 -i urls.txt -o bodies/
//! cat urls.txt | cargo run --example fetch
//! cargo run --example fetch -- -T video.mp4 https://example.com/videos/
//! ```
//!
//! On a terminal a progress bar runs on stderr; otherwise each finished request is one
//! line on stdout. Either way it ends with a summary: status counts, failures with their
//! reasons, p50/p99 latency (the time each request took on its worker) and requests per
//! second; without `-o`, the five slowest hosts too, by p99 (`Batch::hosts`). The exit status is 0 when every request got a response (of any status), 1 when
//! some failed, 2 for bad arguments.
//!
//! `-T FILE URL` uploads the file with a PUT instead, as `curl -T` does (a URL ending in
//! `/` gets the file's name), read as it is sent, with a progress bar of its bytes
//! (`Body::file`, `Body::monitor`).
//!
//! `--netrc`, `--netrc-file FILE` and `--netrc-optional` send the user names and passwords
//! of a `.netrc` file, as curl's flags of the same names do (`HttpBuilder::netrc`,
//! `HttpBuilder::netrc_file`).
//!
//! Where and how fast to connect take curl's options, spelled as curl spells them
//! (`--resolve`, `--connect-to`, `--unix-socket`, `--limit-rate`, `-4`, `-6`; see
//! `guide::connect`):
//!
//! ```sh
//! cargo run --example fetch -- --resolve shop.test:443:127.0.0.1 https://shop.test/
//! cargo run --example fetch -- --unix-socket /var/run/docker.sock http://localhost/_ping
//! cargo run --example fetch -- --limit-rate 512k -o isos/ https://example.com/big.iso
//! ```

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use asynchttp::{Body, Download, HostLimits, Http, Request, Retry};
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

#[path = "fetch/connect.rs"]
mod connect;
#[path = "fetch/summary.rs"]
mod summary;

use summary::{Summary, record};

const USAGE: &str = "\
usage: fetch [-w WORKERS] [-t SECONDS] [--idle-timeout SECONDS] [-r RETRIES]
             [--per-host N] [--rate R] [CREDENTIALS] [CONNECTING] [-i FILE] [-o DIR]
             [URL...]
       fetch [-t SECONDS] [--idle-timeout SECONDS] [-r RETRIES] [CREDENTIALS]
             [CONNECTING] -T FILE URL

CREDENTIALS is one of -n/--netrc, --netrc-file and --netrc-optional, and
CONNECTING any of --resolve, --connect-to, --unix-socket, --limit-rate, -4 and
-6, as curl takes them.

  -w, --workers N     requests at once (default 8)
  -t, --timeout S     seconds one request may take, retries included (default
                      30, and none for a body streamed with -o)
      --idle-timeout S
                      seconds a request may receive nothing (default none, and
                      30 for a body streamed with -o)
  -r, --retries N     send a request again up to N times after a failure to
                      connect, a timeout, a cut body or a 429/502/503/504,
                      waiting out Retry-After up to 60 s (default 0); a body
                      streamed with -o is not sent again
      --per-host N    at most N requests at once to any one host
      --rate R        at most R requests a second to any one host, halved
                      while it answers 429 or 503 (and paused for its
                      Retry-After), restored as it recovers
  -i, --input FILE    read URLs from FILE, one per line; - is stdin
  -o, --output DIR    stream each body into a file of DIR
  -T, --upload-file FILE
                      PUT FILE to URL, read as it is sent (a URL ending in /
                      gets the file's name, as curl -T does); a retry sends
                      the file again from its start
  -n, --netrc         send each host its user name and password from the file
                      NETRC names, else ~/.netrc (none there: nothing sent); a
                      file with a mistake is an error, with its line
      --netrc-file FILE
                      the same from FILE, which must be there
      --netrc-optional
                      as --netrc, but a file that cannot be read or has a
                      mistake is only a warning, and nothing is sent
{CONNECT}
  -h, --help          this text

With no URL and no --input, URLs are read from stdin. Blank lines and lines
starting with # are skipped.";

struct Options {
    workers: usize,
    /// Where and how fast to connect.
    connect: connect::Connect,
    /// As the library has it when not given: 30 s, or none for a download.
    timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    retries: u32,
    per_host: HostLimits,
    urls: Vec<String>,
    output: Option<PathBuf>,
    /// The file to upload, with `-T`.
    upload: Option<PathBuf>,
    /// Whether a `.netrc` is read, and which.
    netrc: Netrc,
}

/// Which `.netrc` is read, as curl's flags say.
#[derive(Default)]
struct Netrc {
    /// `--netrc`, `--netrc-optional` or `--netrc-file`.
    wanted: bool,
    /// `--netrc-file`'s, in place of `NETRC`'s or `~/.netrc`.
    file: Option<PathBuf>,
    /// `--netrc-optional`: a file that cannot be used is a warning, not an error.
    optional: bool,
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fetch: {message}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &options.output {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("fetch: cannot create {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let mut builder = options
        .connect
        .apply(Http::builder())
        .workers(options.workers)
        .retry(Retry::new(options.retries))
        .per_host(options.per_host.clone());
    if let Some(timeout) = options.timeout {
        builder = builder.timeout(timeout);
    }
    if let Some(idle) = options.idle_timeout {
        builder = builder.idle_timeout(idle);
    }
    let netrc = &options.netrc;
    let with_netrc = match &netrc.file {
        Some(file) => builder.clone().netrc_file(file),
        None if netrc.wanted => builder.clone().netrc(),
        None => builder.clone(),
    };
    let built = match with_netrc.build() {
        Err(e) if netrc.optional => {
            eprintln!("fetch: warning: {}; going on without it", e.chain());
            builder.build()
        }
        built => built,
    };
    let http = match built {
        Ok(http) => http,
        Err(e) => {
            eprintln!("fetch: {}", e.chain());
            return ExitCode::from(2);
        }
    };
    let summary = run(&http, &options);
    summary.print();
    if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The usage text, with the options of `connect` in their place.
fn usage() -> String {
    USAGE.replace("{CONNECT}", connect::USAGE)
}

/// A number of seconds above zero, as an option's value.
fn seconds(name: &str, seconds: &str) -> Result<Duration, String> {
    seconds
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|t| !t.is_zero())
        .ok_or(format!("{name} takes seconds above 0, not {seconds:?}"))
}

/// `Ok(None)` when help was asked for.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        workers: 8,
        connect: connect::Connect::default(),
        timeout: None,
        idle_timeout: None,
        retries: 0,
        per_host: HostLimits::new(),
        urls: Vec::new(),
        output: None,
        upload: None,
        netrc: Netrc::default(),
    };
    let mut input = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        if options.connect.take(&arg, &mut value)? {
            continue;
        }
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "-w" | "--workers" => {
                options.workers = match value(&arg)?.parse() {
                    Ok(n) if n > 0 => n,
                    _ => return Err("--workers takes a whole number of at least 1".into()),
                }
            }
            "-t" | "--timeout" => options.timeout = Some(seconds("--timeout", &value(&arg)?)?),
            "--idle-timeout" => {
                options.idle_timeout = Some(seconds("--idle-timeout", &value(&arg)?)?);
            }
            "-r" | "--retries" => {
                options.retries = value(&arg)?
                    .parse()
                    .map_err(|_| "--retries takes a whole number".to_owned())?;
            }
            "--per-host" => {
                let n = match value(&arg)?.parse() {
                    Ok(n) if n > 0 => n,
                    _ => return Err("--per-host takes a whole number of at least 1".into()),
                };
                options.per_host = options.per_host.in_flight(n);
            }
            "--rate" => {
                let rate = value(&arg)?;
                let per_second = rate
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r > 0.0)
                    .ok_or(format!(
                        "--rate takes requests a second above 0, not {rate:?}"
                    ))?;
                options.per_host = options.per_host.rate(per_second, 1).adaptive(true);
            }
            "-i" | "--input" => input = Some(value(&arg)?),
            "-o" | "--output" => options.output = Some(PathBuf::from(value(&arg)?)),
            "-T" | "--upload-file" => options.upload = Some(PathBuf::from(value(&arg)?)),
            "-n" | "--netrc" => options.netrc.wanted = true,
            "--netrc-optional" => {
                options.netrc.wanted = true;
                options.netrc.optional = true;
            }
            "--netrc-file" => {
                options.netrc.wanted = true;
                options.netrc.file = Some(PathBuf::from(value(&arg)?));
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!("unknown option {flag}"));
            }
            _ => options.urls.push(arg),
        }
    }
    if options.upload.is_some() {
        if options.urls.len() != 1 || input.is_some() || options.output.is_some() {
            return Err("-T takes one URL, and neither -i nor -o".into());
        }
        return Ok(Some(options));
    }
    let from = match input.as_deref() {
        Some("-") => Some(None),
        Some(file) => Some(Some(file)),
        None if options.urls.is_empty() => Some(None),
        None => None,
    };
    if let Some(file) = from {
        options.urls.extend(read_urls(file)?);
    }
    if options.urls.is_empty() {
        return Err("no URLs given".into());
    }
    Ok(Some(options))
}

/// URLs from a file, or from stdin for `None`.
fn read_urls(file: Option<&str>) -> Result<Vec<String>, String> {
    let reader: Box<dyn BufRead> = match file {
        Some(path) => match std::fs::File::open(path) {
            Ok(f) => Box::new(io::BufReader::new(f)),
            Err(e) => return Err(format!("cannot read {path}: {e}")),
        },
        None if io::stdin().is_terminal() => {
            return Err("no URLs given (and stdin is a terminal)".into());
        }
        None => Box::new(io::stdin().lock()),
    };
    let mut urls = Vec::new();
    for line in reader.lines() {
        let line = line.map_err(|e| format!("cannot read the URL list: {e}"))?;
        let line = line.trim();
        if !line.is_empty() && !line.starts_with('#') {
            urls.push(line.to_owned());
        }
    }
    Ok(urls)
}

fn run(http: &Http, options: &Options) -> Summary {
    match (&options.upload, &options.output) {
        (Some(file), _) => upload(http, file, &options.urls[0]),
        (None, Some(dir)) => download(http, &options.urls, dir),
        (None, None) => fetch(http, &options.urls),
    }
}

/// `file` PUT to `url` as curl's `-T` does, read as it is sent, with a bar of its bytes on
/// a terminal.
fn upload(http: &Http, file: &Path, url: &str) -> Summary {
    let started = Instant::now();
    let url = upload_url(url, file);
    let mut body = Body::file(file);
    let sent = body.monitor();
    let (response, content) = http.put(&url, body);
    let bar = io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::no_length();
        let style = ProgressStyle::with_template(
            "{bar:40.cyan/blue} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("a valid template");
        bar.set_style(style.progress_chars("=> "));
        bar
    });
    let mut seen = sent.progress();
    while !seen.done {
        seen = sent.wait_progress_every(seen.bytes, Duration::from_millis(100));
        if let Some(bar) = &bar {
            if let Some(total) = seen.total {
                bar.set_length(total);
            }
            bar.set_position(seen.bytes);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut summary = Summary {
        total: 1,
        uploaded: true,
        ..Summary::default()
    };
    match record(&mut summary, &url, &response, &content) {
        Ok(_) => {
            summary.bytes = seen.bytes;
            let status = response.status;
            let took = response.elapsed.as_secs_f64() * 1e3;
            println!(
                "{status} {url} {} sent in {took:.1} ms",
                HumanBytes(seen.bytes)
            );
        }
        Err(reason) => summary.failures.push((url, reason)),
    }
    summary.wall = started.elapsed();
    summary
}

/// Where `-T` puts `file`: `url` as it is, or with the file's name after it when it ends
/// in `/` (or has no path at all), as curl does.
fn upload_url(url: &str, file: &Path) -> String {
    let bare = url.split_once("://").map_or(url, |(_, rest)| rest);
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    match bare.find('/') {
        None => format!("{url}/{encoded}"),
        Some(_) if url.ends_with('/') => format!("{url}{encoded}"),
        Some(_) => url.to_owned(),
    }
}

/// A progress bar on a terminal, none when piped.
fn progress_bar(len: usize) -> Option<ProgressBar> {
    io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(len as u64);
        let style = ProgressStyle::with_template(
            "{bar:40.cyan/blue} {pos}/{len} {per_sec} eta {eta} {msg}",
        )
        .expect("a valid template");
        bar.set_style(style.progress_chars("=> "));
        bar
    })
}

/// Each URL streamed into a file of `dir` as it arrives: a body never has to fit in
/// memory. Reported in the order given.
fn download(http: &Http, urls: &[String], dir: &Path) -> Summary {
    let started = Instant::now();
    let downloads: Vec<(&str, Download)> = urls
        .iter()
        .map(|url| (url.as_str(), http.download(url, dir.join(file_name(url)))))
        .collect();
    let bar = progress_bar(downloads.len());
    let mut summary = Summary {
        total: downloads.len(),
        ..Summary::default()
    };
    for (url, download) in &downloads {
        let line = match saved(&mut summary, url, download, dir) {
            Ok(line) => line,
            Err(reason) => {
                let line = format!("ERR {url}: {reason}");
                summary.failures.push(((*url).to_owned(), reason));
                line
            }
        };
        match &bar {
            Some(bar) => {
                bar.set_message(format!(
                    "{} failed, {}",
                    summary.failures.len(),
                    HumanBytes(summary.bytes)
                ));
                bar.inc(1);
            }
            None => println!("{line}"),
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary.wall = started.elapsed();
    summary
}

/// Counts one finished download; its line, or why it failed. A body that was not 2xx
/// did not go to the file: it is written there now, as the server sent it.
fn saved(
    summary: &mut Summary,
    url: &str,
    download: &Download,
    dir: &Path,
) -> Result<String, String> {
    let done = download.wait().map_err(|e| e.chain())?;
    let response = &done.response;
    *summary.statuses.entry(response.status).or_default() += 1;
    summary.latencies.push(response.elapsed);
    let bytes = match &done.path {
        Some(_) => done.bytes,
        None => {
            let path = dir.join(file_name(url));
            std::fs::write(&path, &done.content).map_err(|e| {
                format!(
                    "got {}, cannot write {}: {e}",
                    response.status,
                    path.display()
                )
            })?;
            done.content.len() as u64
        }
    };
    summary.bytes += bytes;
    Ok(format!(
        "{} {url} {} {:.1} ms",
        response.status,
        HumanBytes(bytes),
        response.elapsed.as_secs_f64() * 1e3
    ))
}

/// Every URL in one batch, the bodies in memory, reported as they complete.
fn fetch(http: &Http, urls: &[String]) -> Summary {
    let started = Instant::now();
    let batch = http.batch(urls.iter().map(Request::get));
    let bar = progress_bar(batch.len());
    let mut summary = Summary {
        total: batch.len(),
        ..Summary::default()
    };
    for (request, response, content) in batch.as_completed() {
        let url = request.uri();
        let line = match record(&mut summary, url, response, content) {
            Ok(line) => line,
            Err(reason) => {
                let line = format!("ERR {url}: {reason}");
                summary.failures.push((url.to_owned(), reason));
                line
            }
        };
        match &bar {
            Some(bar) => {
                let p = batch.progress();
                bar.set_message(format!("{} failed, {}", p.failed, HumanBytes(p.bytes)));
                bar.inc(1);
            }
            None => println!("{line}"),
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary.wall = started.elapsed();
    let progress = batch.progress();
    summary.bytes = progress.bytes;
    summary.retries = progress.retries;
    summary.hosts = batch.hosts();
    summary
}

/// A file name for a URL's body: its portable characters, and a hash of the whole URL when
/// they are cut short or changed, so that different URLs never share a file.
fn file_name(url: &str) -> String {
    let bare = url.split_once("://").map_or(url, |(_, rest)| rest);
    let mut name: String = bare
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
            _ => '_',
        })
        .take(96)
        .collect();
    if name != bare || name.starts_with('.') {
        let mut hasher = DefaultHasher::new();
        url.hash(&mut hasher);
        name = format!("{name}-{:016x}", hasher.finish());
    }
    name
}
