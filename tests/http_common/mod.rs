//! Helpers for the HTTP tests: free ports, peers started as HTTP servers on
//! 127.0.0.1 (killed when the guard drops), waiting for a port to listen.

#![allow(dead_code)]

use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = StdListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// A peer server process; killed (and reaped) on drop.
pub struct Peer {
    child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// Waits until something accepts connections on `port`.
pub async fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "nothing listened on port {port} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn spawn(mut cmd: Command, port: u16) -> Peer {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    Peer { child, port }
}

/// Tests in one binary run in parallel: picking a free port and starting a
/// server on it must not interleave, or two servers race for one port and
/// a test talks to the other test's server.
static STARTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// server-everything in `mode` (`streamableHttp` or `sse`), ready.
pub async fn everything(everything_js: &Path, mode: &str) -> Peer {
    let _one_at_a_time = STARTING.lock().await;
    everything_on(everything_js, mode, free_port()).await
}

/// server-everything on a given port (e.g. restarted where it was).
pub async fn everything_on(everything_js: &Path, mode: &str, port: u16) -> Peer {
    let mut cmd = Command::new("node");
    cmd.arg(everything_js)
        .arg(mode)
        .env("PORT", port.to_string());
    let peer = spawn(cmd, port);
    wait_for_port(port, Duration::from_secs(15)).await;
    peer
}

/// The FastMCP peer over Streamable HTTP (`/mcp`), ready.
pub async fn fastmcp(python: &Path, script: &Path) -> Peer {
    let _one_at_a_time = STARTING.lock().await;
    let port = free_port();
    let mut cmd = Command::new(python);
    cmd.arg(script).arg("--http").arg(port.to_string());
    let peer = spawn(cmd, port);
    wait_for_port(port, Duration::from_secs(20)).await;
    peer
}
pub mod fake;

/// The tasks extension's server (`tasks_server.py`, fastmcp-tasks) over
/// Streamable HTTP (`/mcp`), writing its tasks' events to `events`, ready.
pub async fn tasks(python: &Path, script: &Path, events: &Path) -> Peer {
    let _one_at_a_time = STARTING.lock().await;
    let port = free_port();
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg("--events")
        .arg(events)
        .arg("--http")
        .arg(port.to_string());
    let peer = spawn(cmd, port);
    wait_for_port(port, Duration::from_secs(20)).await;
    peer
}
