//! Real Redis servers for the tests of the `redis` feature (and for `examples/fleet`):
//! `redis-server` processes on 127.0.0.1 and free ports, with no persistence and their files
//! in a folder of their own, that a test can stop, freeze and start again, and a Redis
//! Cluster of three masters made of them with `redis-cli --cluster create`. Each process is
//! killed, and its folder removed, when its value drops. Also a client of Redis's protocol
//! small enough to watch what the client under test wrote: [`command`], [`Subscription`].
//!
//! `redis-server` and `redis-cli` come from PATH; when missing, `conformance/redis/run.sh
//! --install` installs Debian's package (root and apt), once per test binary.
//!
//! It stands alone (no `support`), so that `examples/fleet` can include it too.

#![allow(dead_code)] // examples/fleet uses only RedisServer

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to start, or a cluster to agree.
const BOUND: Duration = Duration::from_secs(20);

/// A `redis-server` process, or the port and folder of a stopped one.
pub struct RedisServer {
    pub port: u16,
    /// The cluster bus port, for a cluster node.
    cluster_port: Option<u16>,
    /// Removed on drop.
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// A server on a free port.
    pub fn start(name: &str) -> RedisServer {
        RedisServer::spawn(name, None)
    }

    /// A server that can join a cluster (`cluster-enabled yes`), not yet in one.
    fn start_node(name: &str) -> RedisServer {
        RedisServer::spawn(name, Some(free_port()))
    }

    fn spawn(name: &str, cluster_port: Option<u16>) -> RedisServer {
        let dir =
            std::env::temp_dir().join(format!("asynchttp-redis-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = RedisServer {
            port: free_port(),
            cluster_port,
            dir,
            child: None,
        };
        server.run();
        server
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// One command, the first line of its answer.
    pub fn command(&self, args: &[&str]) -> String {
        command(self.port, args).unwrap_or_else(|e| panic!("{args:?} on {}: {e}", self.port))
    }

    /// A connection of the test's own, for looking at what the store wrote.
    pub fn connection(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).unwrap();
        let connection = client.get_connection_with_timeout(BOUND).unwrap();
        connection.set_read_timeout(Some(BOUND)).unwrap();
        connection
    }

    /// Kills the server: its port refuses connections until [`RedisServer::run`], and what
    /// it held is gone (no persistence).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections are still accepted by the kernel, but
    /// nothing is answered until [`RedisServer::thaw`].
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self
            .child
            .as_ref()
            .expect("a running server")
            .id()
            .to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success(), "kill {signal} {pid}");
    }

    /// Starts the server on its port, and waits until it answers `PING`.
    pub fn run(&mut self) {
        assert!(self.child.is_none(), "already running");
        let port = self.port.to_string();
        let mut args = vec![
            "--bind",
            "127.0.0.1",
            "--port",
            &port,
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            "redis.log",
        ];
        let cluster_port = self.cluster_port.map(|p| p.to_string());
        if let Some(bus) = &cluster_port {
            args.extend(["--cluster-enabled", "yes", "--cluster-port", bus]);
            args.extend(["--cluster-config-file", "nodes.conf"]);
        }
        let child = Command::new(tool("redis-server"))
            .args(&args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let start = Instant::now();
        loop {
            let client = redis::Client::open(self.url()).unwrap();
            let answered = client
                .get_connection_with_timeout(Duration::from_secs(1))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            if answered.is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("redis-server exited ({status}): {}", self.log());
            }
            assert!(
                start.elapsed() < BOUND,
                "redis-server did not answer: {}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A frozen server dies of SIGKILL all the same.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis Cluster of three masters, no replicas, every slot covered.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start(name: &str) -> RedisCluster {
        let nodes: Vec<_> = (0..3)
            .map(|i| RedisServer::start_node(&format!("{name}-{i}")))
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let made = Command::new(tool("redis-cli"))
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli --cluster create");
        assert!(
            made.status.success(),
            "redis-cli --cluster create: {}{}",
            String::from_utf8_lossy(&made.stdout),
            String::from_utf8_lossy(&made.stderr)
        );
        // Each node says ok once it knows every slot's master.
        let start = Instant::now();
        for node in &nodes {
            loop {
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query(&mut node.connection())
                    .unwrap();
                if info.contains("cluster_state:ok") {
                    break;
                }
                assert!(start.elapsed() < BOUND, "cluster not ok: {info}");
                thread::sleep(Duration::from_millis(50));
            }
        }
        RedisCluster { nodes }
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}

/// A port nothing listens on now (the server binding it later may lose a race, and then
/// fails to start, loudly).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The path of `redis-server` or `redis-cli`, installed first when missing.
fn tool(name: &str) -> PathBuf {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if on_path("redis-server").is_some() && on_path("redis-cli").is_some() {
            return;
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance/redis/run.sh");
        let installed = Command::new("bash").arg(&script).arg("--install").status();
        assert!(
            installed.is_ok_and(|s| s.success()),
            "redis-server is missing and {} --install could not install it",
            script.display()
        );
    });
    on_path(name).unwrap_or_else(|| panic!("{name} not found on PATH"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// One command in Redis's protocol to the server on `port`: the first line of its answer (a
/// bulk answer's body).
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
        let confirmed = subscription.next(BOUND);
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
