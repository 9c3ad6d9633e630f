//! Real Redis servers for the tests of the `redis` feature: `redis-server` processes on
//! 127.0.0.1 and free ports, with no persistence and their files in a folder of their own,
//! that a test can stop, freeze and start again, and a Redis Cluster of three masters made
//! of them with `redis-cli --cluster create`. Each process is killed when its value drops.
//!
//! `redis-server` and `redis-cli` come from PATH; when missing, `conformance/redis/run.sh
//! --install` installs Debian's package (root and apt), once per test binary.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{BOUND, TempDir};

/// A `redis-server` process, or the port and folder of a stopped one.
pub struct RedisServer {
    pub port: u16,
    /// The cluster bus port, for a cluster node.
    cluster_port: Option<u16>,
    dir: TempDir,
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
        let dir = TempDir::new(&format!("redis-{name}"));
        std::fs::create_dir_all(&dir.0).unwrap();
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
            .current_dir(&self.dir.0)
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
        std::fs::read_to_string(self.dir.0.join("redis.log")).unwrap_or_default()
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
