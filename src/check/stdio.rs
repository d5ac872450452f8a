//! Hygiene of a stdio server, over a raw connection of our own: nothing
//! but JSON-RPC on stdout, how much it writes to stderr, how long it takes
//! to start, its memory at rest, a cancellation of an unknown request
//! ignored, and whether it exits when stdin closes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use super::checker::Checker;
use super::lines::each_line;
use super::raw::{self, FUTURE};
use super::report::{Figures, Finding};
use crate::protocol::ProtocolVersion;
use crate::transport::StdioConfig;

/// The longest stdout line read whole (longer ones count as not JSON-RPC).
const MAX_LINE: usize = 32 * 1024 * 1024;
/// How long the server gets to exit once stdin is closed.
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// A start-up slower than this is worth a warning (hosts give up).
const SLOW_START: Duration = Duration::from_secs(10);
/// More stderr lines than this while idle is noise worth a note.
const NOISY: usize = 20;

/// What the raw connection saw on stdout that was not JSON-RPC.
#[derive(Default)]
struct Stdout {
    junk: usize,
    first_junk: Option<String>,
}

struct Raw {
    child: Child,
    /// The child's pid, which is its process group's id.
    pid: Option<u32>,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<Value>,
    stdout: Arc<Mutex<Stdout>>,
    stderr: Arc<AtomicUsize>,
}

fn spawn(cfg: &StdioConfig) -> std::io::Result<Raw> {
    let mut cmd = Command::new(&cfg.program);
    cmd.args(&cfg.args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &cfg.cwd {
        cmd.current_dir(dir);
    }
    if !cfg.inherit_env {
        cmd.env_clear();
        cmd.envs(std::env::vars().filter(|(k, _)| crate::transport::stdio::is_inherited(k)));
    }
    cmd.envs(cfg.env.iter().map(|(k, v)| (k, v)));
    let mut child = cmd.spawn()?;
    let stdin = child.stdin.take();
    let (tx, lines) = mpsc::channel(256);
    let stdout = Arc::new(Mutex::new(Stdout::default()));
    if let Some(out) = child.stdout.take() {
        let seen = stdout.clone();
        tokio::spawn(each_line(out, MAX_LINE, move |line| {
            let text = String::from_utf8_lossy(line);
            let text = text.trim();
            match serde_json::from_str::<Value>(text) {
                Ok(v) if v.get("jsonrpc").and_then(Value::as_str) == Some("2.0") => {
                    let _ = tx.try_send(v);
                }
                _ if text.is_empty() => {}
                _ => {
                    let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
                    s.junk += 1;
                    s.first_junk.get_or_insert(text.chars().take(200).collect());
                }
            }
        }));
    }
    let stderr = Arc::new(AtomicUsize::new(0));
    if let Some(err) = child.stderr.take() {
        let count = stderr.clone();
        tokio::spawn(each_line(err, 1024, move |_| {
            count.fetch_add(1, Ordering::Relaxed);
        }));
    }
    Ok(Raw {
        pid: child.id(),
        child,
        stdin,
        lines,
        stdout,
        stderr,
    })
}

impl Raw {
    async fn send(&mut self, message: &Value) -> bool {
        let Some(stdin) = self.stdin.as_mut() else {
            return false;
        };
        let mut line = message.to_string();
        line.push('\n');
        stdin.write_all(line.as_bytes()).await.is_ok() && stdin.flush().await.is_ok()
    }

    /// The reply to `id`, within `deadline` (other messages are skipped).
    async fn reply(&mut self, id: i64, deadline: Duration) -> Option<Value> {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let message = tokio::time::timeout_at(until, self.lines.recv())
                .await
                .ok()??;
            if message.get("id").and_then(Value::as_i64) == Some(id)
                && message.get("method").is_none()
            {
                return Some(message);
            }
        }
    }

    /// Ends the whole group (what a server started and left behind too).
    fn kill(&mut self) {
        if let Some(pid) = self.pid {
            // SAFETY: killpg sends a signal; the group is the child's own.
            unsafe { libc::killpg(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

fn opening(handshake: bool) -> Value {
    if handshake {
        raw::initialize(1, FUTURE)
    } else {
        raw::modern(1, "server/discover", ProtocolVersion::LATEST.as_str())
    }
}

/// A 2026-07-28 request in a version nobody speaks, on a connection of
/// its own (a connection that began `initialize` stays in that era).
async fn modern_fallback(cfg: &StdioConfig, timeout: Duration, c: &mut Checker) {
    let Ok(mut raw) = spawn(cfg) else { return };
    let sent = raw::modern(1, "tools/list", FUTURE);
    raw.send(&sent).await;
    let reply = raw.reply(1, timeout).await;
    raw::modern_fallback(c, &sent, reply.as_ref());
    raw.kill();
    let _ = tokio::time::timeout(EXIT_GRACE, raw.child.wait()).await;
}

/// Runs the stdio hygiene checks, knowing which eras the server speaks
/// (handshake, 2026-07-28).
pub(super) async fn check(
    cfg: &StdioConfig,
    (handshake, modern): (bool, bool),
    timeout: Duration,
    c: &mut Checker,
    figures: &mut Figures,
) {
    for check in [
        "stdio.startup",
        "stdio.stdout",
        "stdio.stderr",
        "stdio.memory",
        "stdio.exit",
    ] {
        c.ran(check);
    }
    let start = Instant::now();
    let mut raw = match spawn(cfg) {
        Ok(raw) => raw,
        Err(e) => {
            c.find(
                Finding::error(
                    "stdio.startup",
                    format!("cannot start {}: {e}", cfg.program),
                )
                .fix("check the command line, and that the program is installed"),
            );
            return;
        }
    };
    let open = opening(handshake);
    raw.send(&open).await;
    match raw.reply(1, timeout).await {
        None => c.find(
            Finding::error(
                "stdio.startup",
                format!(
                    "no reply to the first request within {} s",
                    timeout.as_secs_f64()
                ),
            )
            .sent(open.clone())
            .rule(
                "basic/lifecycle: the server answers initialize (or server/discover) once started",
            )
            .fix("start faster (defer imports and connections), and answer the first request"),
        ),
        Some(reply) => {
            let took = start.elapsed();
            figures.startup_ms = Some(took.as_secs_f64() * 1000.0);
            if took > SLOW_START {
                c.find(
                    Finding::warning(
                        "stdio.startup",
                        format!("first reply after {:.1} s", took.as_secs_f64()),
                    )
                    .rule("hosts wait a few seconds for a server to start")
                    .fix("start faster: defer heavy imports and connections to the first call"),
                );
            }
            if handshake {
                raw::handshake_fallback(c, &open, &reply);
                raw.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
                    .await;
                stray_cancel(&mut raw, c, timeout).await;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    figures.rss_kib = raw.pid.and_then(group_rss_kib);
    let stderr_lines = raw.stderr.load(Ordering::Relaxed);
    figures.stderr_lines = Some(stderr_lines);
    if stderr_lines > NOISY {
        c.find(
            Finding::note(
                "stdio.stderr",
                format!("{stderr_lines} lines on stderr while starting and idle"),
            )
            .rule("basic/transports (stdio): stderr is for logs; hosts may show or keep them")
            .fix("log less by default; more with a flag or the logging capability"),
        );
    }
    raw.stdin = None;
    let closed = Instant::now();
    match tokio::time::timeout(EXIT_GRACE, raw.child.wait()).await {
        Ok(_) => {
            figures.exit_ms = Some(closed.elapsed().as_secs_f64() * 1000.0);
            raw.kill();
        }
        Err(_) => {
            raw.kill();
            c.find(
                Finding::warning("stdio.exit", format!("still running {} s after stdin closed", EXIT_GRACE.as_secs()))
                    .rule("basic/transports (stdio), shutdown: the client closes stdin and waits for the server to exit, then sends SIGTERM")
                    .fix("exit when stdin reaches end of file"),
            );
        }
    }
    if modern {
        modern_fallback(cfg, timeout, c).await;
    }
    let seen = raw.stdout.lock().unwrap_or_else(|p| p.into_inner());
    if seen.junk > 0 {
        c.find(
            Finding::error("stdio.stdout", format!("{} lines on stdout are not JSON-RPC", seen.junk))
                .received(json!(seen.first_junk))
                .rule("basic/transports (stdio): the server MUST NOT write anything to stdout that is not a valid MCP message")
                .fix("send logs and prints to stderr (print(..., file=sys.stderr), console.error)"),
        );
    }
}

/// A cancellation of a request that does not exist is ignored.
async fn stray_cancel(raw: &mut Raw, c: &mut Checker, timeout: Duration) {
    c.ran("stdio.cancel-unknown");
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 987_654_321, "reason": "switchboard check"}});
    raw.send(&cancel).await;
    raw.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
        .await;
    if raw.reply(2, timeout).await.is_none() {
        c.find(
            Finding::error("stdio.cancel-unknown", "after a cancellation of an unknown request the server stops answering")
                .sent(cancel)
                .rule("basic/utilities/cancellation: receivers ignore a cancellation of an unknown or finished request")
                .fix("treat notifications/cancelled for an id you do not know as nothing to do"),
        );
    }
}

/// The resident memory of every process in the group `pgid`, in KiB.
#[cfg(target_os = "linux")]
fn group_rss_kib(pgid: u32) -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let path = entry.path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces and parens.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if after
            .split_whitespace()
            .nth(2)
            .and_then(|g| g.parse::<u32>().ok())
            != Some(pgid)
        {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        total += status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
    }
    (total > 0).then_some(total)
}

#[cfg(not(target_os = "linux"))]
fn group_rss_kib(_pgid: u32) -> Option<u64> {
    None
}
