//! One process of the fleet: fetches its URLs with one host limited, the limits shared
//! through Redis (or, with `--local`, its own alone), and prints one line of figures.
//!
//! ```sh
//! fleet member --redis redis://127.0.0.1:6379/ --limited 127.0.0.1:8080 \
//!     --in-flight 2 --rate 10 --adaptive URL...
//! fleet member --redis-cluster redis://127.0.0.1:7000/,redis://127.0.0.1:7001/ ...
//! ```
//!
//! Every URL is requested at once, as a batch (`--sequential`: one after the other, each
//! timed), and the line says how many got a 2xx, another status, or an error, how long the
//! URLs of the other hosts took, and with `--sequential`, each request's p50 and p99.

use std::time::{Duration, Instant};

use asynchttp::{HostLimits, Http, LazyResponse, RedisLimits};

/// What a member is told on its command line.
pub struct Orders {
    /// A Redis URL, or a Redis Cluster's nodes' URLs, comma-separated, with `cluster`.
    pub redis: Option<String>,
    pub cluster: bool,
    pub prefix: String,
    pub lease: Option<Duration>,
    pub limited: String,
    pub in_flight: usize,
    pub rate: f64,
    pub adaptive: bool,
    pub sequential: bool,
    pub urls: Vec<String>,
}

impl Orders {
    /// The arguments after `member`.
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Orders, String> {
        let mut orders = Orders {
            redis: None,
            cluster: false,
            prefix: "fleet".to_owned(),
            lease: None,
            limited: String::new(),
            in_flight: 2,
            rate: 10.0,
            adaptive: false,
            sequential: false,
            urls: Vec::new(),
        };
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
            match arg.as_str() {
                "--redis" => orders.redis = Some(value("--redis")?),
                "--redis-cluster" => {
                    orders.redis = Some(value("--redis-cluster")?);
                    orders.cluster = true;
                }
                "--prefix" => orders.prefix = value("--prefix")?,
                "--lease-ms" => {
                    let ms = value("--lease-ms")?
                        .parse()
                        .map_err(|e| format!("--lease-ms: {e}"))?;
                    orders.lease = Some(Duration::from_millis(ms));
                }
                "--limited" => orders.limited = value("--limited")?,
                "--in-flight" => {
                    orders.in_flight = value("--in-flight")?
                        .parse()
                        .map_err(|e| format!("--in-flight: {e}"))?;
                }
                "--rate" => {
                    orders.rate = value("--rate")?
                        .parse()
                        .map_err(|e| format!("--rate: {e}"))?
                }
                "--adaptive" => orders.adaptive = true,
                "--sequential" => orders.sequential = true,
                "--local" => orders.redis = None,
                url if !url.starts_with("--") => orders.urls.push(url.to_owned()),
                other => return Err(format!("unknown option {other}")),
            }
        }
        if orders.limited.is_empty() {
            return Err("--limited HOST:PORT is required".to_owned());
        }
        Ok(orders)
    }

    /// As arguments again, for a child process.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "member".to_owned(),
            "--prefix".to_owned(),
            self.prefix.clone(),
        ];
        if let Some(redis) = &self.redis {
            let flag = if self.cluster {
                "--redis-cluster"
            } else {
                "--redis"
            };
            args.extend([flag.to_owned(), redis.clone()]);
        }
        if let Some(lease) = self.lease {
            args.extend(["--lease-ms".to_owned(), lease.as_millis().to_string()]);
        }
        args.extend([
            "--limited".to_owned(),
            self.limited.clone(),
            "--in-flight".to_owned(),
            self.in_flight.to_string(),
            "--rate".to_owned(),
            self.rate.to_string(),
        ]);
        if self.adaptive {
            args.push("--adaptive".to_owned());
        }
        if self.sequential {
            args.push("--sequential".to_owned());
        }
        args.extend(self.urls.iter().cloned());
        args
    }

    /// The client: 16 requests at once, one host limited, through Redis if given.
    fn client(&self) -> Result<Http, asynchttp::Error> {
        let limited = HostLimits::new()
            .in_flight(self.in_flight)
            .rate(self.rate, 1)
            .adaptive(self.adaptive);
        let mut limits = HostLimits::new().host(&self.limited, limited);
        if let Some(url) = &self.redis {
            let redis = if self.cluster {
                RedisLimits::cluster(url.split(','))
            } else {
                RedisLimits::new(url)
            };
            let mut redis = redis.prefix(&self.prefix);
            if let Some(lease) = self.lease {
                redis = redis.lease(lease);
            }
            limits = limits.shared(redis);
        }
        Http::builder().workers(16).per_host(limits).build()
    }
}

/// Runs the orders and prints the member's line.
pub fn run(orders: &Orders) -> Result<(), asynchttp::Error> {
    let http = orders.client()?;
    let is_limited = |url: &str| url.contains(&format!("//{}/", orders.limited));
    let (mut ok, mut other, mut failed) = (0, 0, 0);
    let mut count = |result: Result<&asynchttp::Response, asynchttp::Error>| match result {
        Ok(r) if (200..300).contains(&r.status) => ok += 1,
        Ok(_) => other += 1,
        Err(e) => {
            eprintln!("member: {e}");
            failed += 1;
        }
    };
    let started = Instant::now();
    let mut others_took = Duration::ZERO;
    let mut latencies = Vec::new();
    if orders.sequential {
        for url in &orders.urls {
            let sent = Instant::now();
            let (response, _) = http.request(url);
            count(LazyResponse::wait(&response));
            latencies.push(sent.elapsed());
        }
        others_took = started.elapsed();
    } else {
        let batch = http.batch(orders.urls.iter().cloned());
        let mut others_left = orders.urls.iter().filter(|u| !is_limited(u)).count();
        for (request, response, _) in batch.as_completed() {
            count(LazyResponse::wait(response));
            if !is_limited(request.uri()) {
                others_left -= 1;
                if others_left == 0 {
                    others_took = started.elapsed();
                }
            }
        }
    }
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
    };
    let micros = |d: Option<&Duration>| d.map_or(0, |d| d.as_micros());
    println!(
        "ok={ok} other={other} failed={failed} others_us={} p50_us={} p99_us={}",
        others_took.as_micros(),
        micros(pick(0.5)),
        micros(pick(0.99)),
    );
    Ok(())
}
