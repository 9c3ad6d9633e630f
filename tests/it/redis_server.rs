//! A redis-server of the test's own, and a Redis Cluster of three: on 127.0.0.1, a free
//! port each, no persistence, in a temporary folder removed at the end. `redis-server` is
//! found on the PATH or in /usr/bin, and installed from Debian's `redis-server` package
//! (as root, with apt) when it is missing; no service is started.

#![allow(dead_code)] // the tests and examples/fleet.rs each use a part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a server may take to start or a cluster to agree.
const STARTING: Duration = Duration::from_secs(20);

/// The `redis-server` binary (and `redis-cli` beside it), installed if missing.
pub fn redis_binary(name: &str) -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _one = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = find(name) {
        return found;
    }
    eprintln!("{name}: installing redis-server from Debian");
    let apt = |args: &[&str]| {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .expect("run apt-get (redis-server is missing: install it)");
        assert!(status.success(), "apt-get {args:?} failed");
    };
    apt(&["update", "-qq"]);
    apt(&["install", "-y", "-qq", "redis-server"]);
    find(name).unwrap_or_else(|| panic!("{name} not found after installing redis-server"))
}

fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.local_addr().unwrap().port()
}

/// One command in Redis's protocol, its first line of answer (and a bulk answer's body).
pub fn command(port: u16, args: &[&str]) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut out = format!("*{}\r\n", args.len());
    for arg in args {
        out.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(out.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if let Some(len) = line
        .strip_prefix('$')
        .and_then(|n| n.trim().parse::<usize>().ok())
    {
        let mut body = vec![0; len + 2];
        reader.read_exact(&mut body)?;
        line = String::from_utf8_lossy(&body[..len]).into_owned();
    }
    Ok(line.trim_end().to_owned())
}

/// A subscription to one channel, on a connection of its own.
pub struct Subscription {
    reader: BufReader<TcpStream>,
}

impl Subscription {
    pub fn new(port: u16, channel: &str) -> Subscription {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
        let out = format!(
            "*2\r\n$9\r\nSUBSCRIBE\r\n${}\r\n{channel}\r\n",
            channel.len()
        );
        stream.write_all(out.as_bytes()).unwrap();
        let mut subscription = Subscription {
            reader: BufReader::new(stream),
        };
        // The confirmation: ["subscribe", channel, 1].
        let confirmed = subscription.next(STARTING);
        assert_eq!(
            confirmed.as_deref(),
            Some("subscribe"),
            "SUBSCRIBE {channel}"
        );
        subscription
    }

    /// The next message's payload (or the first element of another push), waiting `within`
    /// at most.
    pub fn next(&mut self, within: Duration) -> Option<String> {
        self.reader
            .get_ref()
            .set_read_timeout(Some(within))
            .unwrap();
        let mut items = Vec::new();
        let mut line = String::new();
        self.reader.read_line(&mut line).ok()?;
        let count: usize = line.trim().strip_prefix('*')?.parse().ok()?;
        for _ in 0..count {
            line.clear();
            self.reader.read_line(&mut line).ok()?;
            let item = match line.trim().strip_prefix('$') {
                Some(len) => {
                    let mut body = vec![0; len.parse::<usize>().ok()? + 2];
                    self.reader.read_exact(&mut body).ok()?;
                    String::from_utf8_lossy(&body[..body.len() - 2]).into_owned()
                }
                None => line.trim().to_owned(),
            };
            items.push(item);
        }
        match items.first().map(String::as_str) {
            Some("message") => items.pop(),
            _ => items.into_iter().next(),
        }
    }
}

/// A redis-server of its own; stopped (SIGKILL) when dropped.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    dir: PathBuf,
    cluster: bool,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        RedisServer::spawn(free_port(), false)
    }

    fn spawn(port: u16, cluster: bool) -> RedisServer {
        let dir =
            std::env::temp_dir().join(format!("asynchttp-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("redis folder");
        let mut server = RedisServer {
            port,
            child: None,
            dir,
            cluster,
        };
        server.restart();
        server
    }

    /// Starts it again, on the same port, empty: after [`stop`](Self::stop), a Redis
    /// that restarted and forgot everything.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "running already");
        let port = self.port.to_string();
        let mut args = vec![
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ];
        if self.cluster {
            args.extend(["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"]);
        }
        let child = Command::new(redis_binary("redis-server"))
            .args(&args)
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let started = Instant::now();
        while command(self.port, &["PING"]).ok().as_deref() != Some("+PONG") {
            assert!(
                started.elapsed() < STARTING,
                "redis-server did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it at once (SIGKILL): what a crash or a cut cable looks like to a client.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// One command, its first line of answer.
    pub fn command(&self, args: &[&str]) -> String {
        command(self.port, args).unwrap_or_else(|e| panic!("{args:?} on {}: {e}", self.port))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Three masters, no replicas, made with `redis-cli --cluster create`.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start() -> RedisCluster {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| RedisServer::spawn(free_port(), true))
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let made = Command::new(redis_binary("redis-cli"))
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .expect("run redis-cli --cluster create");
        assert!(made.success(), "redis-cli --cluster create failed");
        let started = Instant::now();
        let ok = |node: &RedisServer| {
            command(node.port, &["CLUSTER", "INFO"])
                .is_ok_and(|info| info.contains("cluster_state:ok"))
        };
        while !nodes.iter().all(ok) {
            assert!(started.elapsed() < STARTING, "the cluster did not agree");
            std::thread::sleep(Duration::from_millis(50));
        }
        RedisCluster { nodes }
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}
