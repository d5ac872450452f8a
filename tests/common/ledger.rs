//! The ledger peer (`tests/peers/ledger_server.py`, FastMCP 4): a stdio
//! source for it and its ledger file, which records every call it starts,
//! finishes or has cancelled, across its restarts.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use switchboard::transport::StdioConfig;

use super::{peer_script, processes_with_marker, python, MARKER_VAR};

/// The ledger server as a stdio source named `ledger`, tagged with `tag`.
pub fn ledger_source(ledger: &Path, tag: &str) -> StdioConfig {
    ledger_server(ledger, tag, "ledger", &[])
}

/// The ledger server named `name`, with more flags (`--delay-ms N`,
/// `--fail`), tagged with `tag`.
pub fn ledger_server(ledger: &Path, tag: &str, name: &str, flags: &[&str]) -> StdioConfig {
    let mut args = vec![
        peer_script("ledger_server.py")
            .to_string_lossy()
            .into_owned(),
        "--ledger".to_owned(),
        ledger.to_string_lossy().into_owned(),
        "--name".to_owned(),
        name.to_owned(),
    ];
    args.extend(flags.iter().map(|f| (*f).to_owned()));
    StdioConfig::new(python().to_string_lossy().into_owned(), args).env(MARKER_VAR, tag)
}

/// A ledger file in a temporary directory of its own.
pub struct Ledger {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Ledger {
    pub fn new() -> Ledger {
        let dir = tempfile::tempdir().expect("a temporary directory");
        Ledger {
            path: dir.path().join("ledger.txt"),
            _dir: dir,
        }
    }

    pub fn lines(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .map(|l| l.split(' ').map(str::to_owned).collect())
            .collect()
    }

    /// How many `event` lines name `tool` and `key`.
    pub fn count(&self, event: &str, tool: &str, key: &str) -> usize {
        self.servers_with(event, tool, key).len()
    }

    /// The servers (by `--name`) of the `event` lines naming `tool` and
    /// `key`, in order.
    pub fn servers_with(&self, event: &str, tool: &str, key: &str) -> Vec<String> {
        self.lines()
            .iter()
            .filter(|w| w.len() >= 4 && w[0] == event && w[2] == tool && w[3] == key)
            .map(|w| w[1].clone())
            .collect()
    }

    /// The pids of the `boot` lines, in order.
    pub fn boots(&self) -> Vec<i32> {
        self.lines()
            .iter()
            .filter(|w| w.len() == 3 && w[0] == "boot")
            .filter_map(|w| w[2].parse().ok())
            .collect()
    }

    /// Waits until every `(tool, key)` has `n` `start` lines.
    pub async fn wait_started(&self, calls: &[(&str, &str)], n: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if calls.iter().all(|(t, k)| self.count("start", t, k) >= n) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "calls {calls:?} not started {n} time(s) within 20 s; ledger: {:?}",
                self.lines()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Kills the server process that booted last: our own child (its
    /// environment carries `tag`), by PID.
    pub fn kill_current(&self, tag: &str) -> i32 {
        let pid = *self.boots().last().expect("the server booted");
        let ours: Vec<i32> = processes_with_marker(tag)
            .iter()
            .map(|(p, _)| *p as i32)
            .collect();
        assert!(ours.contains(&pid), "pid {pid} is not our child ({ours:?})");
        // SAFETY: kill(2) on a pid we just checked is our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        pid
    }

    /// Runs `calls` and, once each of `started` has begun on the server,
    /// kills it ([`Ledger::kill_current`]): what the calls return, and the
    /// pid killed.
    pub async fn kill_once_started<F: std::future::Future>(
        &self,
        tag: &str,
        started: &[(&str, &str)],
        calls: F,
    ) -> (F::Output, i32) {
        let killer = async {
            self.wait_started(started, 1).await;
            self.kill_current(tag)
        };
        tokio::join!(calls, killer)
    }
}
