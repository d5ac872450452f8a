//! The stdio transport: a child process in its own process group, speaking
//! newline-delimited JSON-RPC.
//!
//! - stdout is split into lines with a hard size limit; a longer line is
//!   discarded (its head and tail kept to find the id) instead of growing a
//!   buffer without bound;
//! - stderr is always drained (an undrained pipe can deadlock the server)
//!   into a ring buffer of recent lines and into `tracing`;
//! - shutdown closes stdin, waits, then SIGTERMs and SIGKILLs the whole
//!   process group, each step bounded; dropping the handle kills the group,
//!   so no child outlives us.

mod groups;
pub(crate) mod lines;
mod stderr;

pub use groups::{live_groups, terminate_all};

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::watch;

use super::stdin_writer::StdinWriter;
use super::{
    Closed, Inbound, InboundSink, Outbound, Transport, TransportControl, TransportHandle,
    DEFAULT_MAX_MESSAGE_SIZE,
};
use crate::{Error, Result};
use lines::LineSplitter;
use stderr::StderrRing;

/// Environment variables a child inherits unless told to inherit
/// everything: the basics a program needs to run, plus the proxy and CA
/// settings without which `npx`/`uvx` fail behind a corporate proxy. Every
/// `LC_*` variable is passed too. Nothing else: tokens and keys of ours
/// reach a server only when given to it by name.
pub const INHERITED_ENV: &[&str] = &[
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "TERM",
    "USER",
    "LANG",
    "TMPDIR",
    "TZ",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
];

/// True for the variables a child inherits by default.
pub fn is_inherited(name: &str) -> bool {
    INHERITED_ENV.contains(&name) || name.starts_with("LC_")
}

/// How to start a stdio server.
#[derive(Clone)]
pub struct StdioConfig {
    /// The program to run (looked up on `PATH`).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment, on top of the inherited allowlist.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Inherit the whole environment instead of [`INHERITED_ENV`].
    pub inherit_env: bool,
    /// Longest accepted line, in bytes.
    pub max_message_size: usize,
    /// How long each shutdown step waits (stdin close, SIGTERM).
    pub shutdown_grace: Duration,
    /// How many stderr lines to keep for error reports.
    pub stderr_lines: usize,
}

impl std::fmt::Debug for StdioConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Environment values are often secrets: names only.
        let env: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("StdioConfig")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &env)
            .field("cwd", &self.cwd)
            .field("inherit_env", &self.inherit_env)
            .field("max_message_size", &self.max_message_size)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish()
    }
}

impl StdioConfig {
    /// A config for `program args...` with defaults for the rest.
    pub fn new(
        program: impl Into<String>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        StdioConfig {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: None,
            inherit_env: false,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            shutdown_grace: Duration::from_secs(2),
            stderr_lines: 64,
        }
    }

    /// Adds an environment variable, on top of the inherited allowlist
    /// ([`INHERITED_ENV`]; default: none added).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Lets the server inherit our whole environment instead of only
    /// [`INHERITED_ENV`] (default: `false`; API keys and tokens of ours
    /// stay ours unless passed with [`StdioConfig::env`]).
    pub fn inherit_env(mut self, yes: bool) -> Self {
        self.inherit_env = yes;
        self
    }

    /// The server's working directory (default: ours).
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// The command line, for messages (environment values are never shown).
    pub fn command_line(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .map(|w| {
                shlex::try_quote(w)
                    .map(|c| c.into_owned())
                    .unwrap_or_else(|_| w.to_owned())
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub(crate) struct StdioTransport {
    config: StdioConfig,
}

impl StdioTransport {
    pub(crate) fn new(config: StdioConfig) -> Self {
        StdioTransport { config }
    }
}

struct StdioControl {
    description: String,
    pgid: Option<i32>,
    stderr: Arc<Mutex<StderrRing>>,
    stdin: Arc<StdinWriter>,
    exit: watch::Receiver<Option<ExitStatus>>,
    grace: Duration,
}

fn kill_group(pgid: Option<i32>, signal: i32) {
    if let Some(pgid) = pgid {
        groups::signal_group(pgid, signal);
    }
}

async fn wait_exit(exit: &mut watch::Receiver<Option<ExitStatus>>, limit: Duration) -> bool {
    tokio::time::timeout(limit, exit.wait_for(|s| s.is_some()))
        .await
        .is_ok()
}

impl TransportControl for StdioControl {
    fn close(&self) -> BoxFuture<'static, ()> {
        let mut exit = self.exit.clone();
        let pgid = self.pgid;
        let grace = self.grace;
        let stdin = self.stdin.clone();
        let description = self.description.clone();
        Box::pin(async move {
            stdin.close();
            if !wait_exit(&mut exit, grace).await {
                tracing::debug!(server = %description, "no exit after stdin closed; sending SIGTERM");
                kill_group(pgid, libc::SIGTERM);
                if !wait_exit(&mut exit, grace).await {
                    tracing::warn!(server = %description, "no exit after SIGTERM; sending SIGKILL");
                    kill_group(pgid, libc::SIGKILL);
                    wait_exit(&mut exit, grace).await;
                }
            }
            // The leader is gone; take down anything it left in its group.
            kill_group(pgid, libc::SIGKILL);
        })
    }

    fn kill(&self) {
        kill_group(self.pgid, libc::SIGKILL);
    }

    fn stderr_tail(&self) -> Vec<String> {
        lock(&self.stderr).lines.iter().cloned().collect()
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

impl Drop for StdioControl {
    fn drop(&mut self) {
        // Whatever state we are in, nothing of the group may outlive us,
        // and the writer task must let go of its descriptor.
        kill_group(self.pgid, libc::SIGKILL);
        if let Some(pgid) = self.pgid {
            groups::forget(pgid);
        }
        self.stdin.close();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Transport for StdioTransport {
    fn start(
        self: Box<Self>,
        sink: Arc<dyn InboundSink>,
    ) -> BoxFuture<'static, Result<TransportHandle>> {
        Box::pin(async move { spawn(self.config, sink) })
    }
}

fn spawn(config: StdioConfig, sink: Arc<dyn InboundSink>) -> Result<TransportHandle> {
    let mut cmd = Command::new(&config.program);
    cmd.args(&config.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    if !config.inherit_env {
        cmd.env_clear();
        for (key, value) in std::env::vars_os() {
            if key.to_str().is_some_and(is_inherited) {
                cmd.env(key, value);
            }
        }
    }
    cmd.envs(config.env.iter().map(|(k, v)| (k, v)));
    let command_line = config.command_line();
    if let Some(cwd) = &config.cwd {
        // Checked first: spawn would report a missing directory as a
        // missing program.
        if !cwd.is_dir() {
            return Err(Error::Connect {
                message: format!(
                    "could not start `{command_line}`: its working directory {} does not exist or is not a directory",
                    cwd.display()
                ),
                stderr_tail: Vec::new(),
            });
        }
        cmd.current_dir(cwd);
    }
    let mut child = cmd.spawn().map_err(|e| Error::Connect {
        message: format!("could not start `{command_line}`: {e}"),
        stderr_tail: Vec::new(),
    })?;
    let pid = child.id().map(|p| p as i32);
    let description = match pid {
        Some(pid) => format!("stdio: {command_line} (pid {pid})"),
        None => format!("stdio: {command_line}"),
    };
    let (stdin, stdout, stderr) =
        match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
            (Some(i), Some(o), Some(e)) => (i, o, e),
            _ => {
                return Err(Error::Connect {
                    message: format!("`{command_line}`: stdio pipes were not created"),
                    stderr_tail: Vec::new(),
                })
            }
        };

    let ring = Arc::new(Mutex::new(StderrRing::default()));
    let (exit_tx, exit_rx) = watch::channel(None);
    let stdin = stdin
        .into_owned_fd()
        .and_then(StdinWriter::new)
        .map_err(|e| Error::Connect {
            message: format!("`{command_line}`: cannot set up stdin: {e}"),
            stderr_tail: Vec::new(),
        })?;
    let (stdin, stdin_task_fd) = stdin;
    let stdin = Arc::new(stdin);

    tokio::spawn(watch_process(child, exit_tx));
    tokio::spawn(stderr::drain(
        stderr,
        ring.clone(),
        config.stderr_lines,
        description.clone(),
    ));
    tokio::spawn(stdin.clone().run(stdin_task_fd));
    tokio::spawn(read_frames(
        stdout,
        sink,
        config.max_message_size,
        exit_rx.clone(),
        ring.clone(),
        stdin.clone(),
    ));

    if let Some(pid) = pid {
        // Forgotten again when the control (which kills the group) drops.
        groups::register(pid);
    }
    tracing::debug!(server = %description, "started");
    Ok(TransportHandle {
        outbound: Outbound::stdin(stdin.clone()),
        control: Arc::new(StdioControl {
            description,
            pgid: pid,
            stderr: ring,
            stdin,
            exit: exit_rx,
            grace: config.shutdown_grace,
        }),
    })
}

async fn watch_process(mut child: Child, exit_tx: watch::Sender<Option<ExitStatus>>) {
    match child.wait().await {
        Ok(status) => {
            let _ = exit_tx.send(Some(status));
        }
        Err(e) => {
            tracing::warn!("waiting for server process failed: {e}");
        }
    }
}

async fn read_frames(
    mut stdout: ChildStdout,
    sink: Arc<dyn InboundSink>,
    limit: usize,
    mut exit: watch::Receiver<Option<ExitStatus>>,
    ring: Arc<Mutex<StderrRing>>,
    stdin: Arc<StdinWriter>,
) {
    let mut splitter = LineSplitter::new(limit);
    let mut events = Vec::new();
    let end = loop {
        if splitter.buf.capacity() - splitter.buf.len() < 8 * 1024 {
            splitter.buf.reserve(64 * 1024);
        }
        match stdout.read_buf(&mut splitter.buf).await {
            Ok(0) => break "server closed its stdout".to_owned(),
            Ok(_) => {
                splitter.drain(&mut events);
                for e in events.drain(..) {
                    sink.deliver(e);
                }
            }
            Err(e) => break format!("reading server stdout failed: {e}"),
        }
    };
    if !splitter.buf.is_empty() && splitter.discarding.is_none() {
        // A last message without its newline.
        let rest = splitter.buf.split().freeze();
        if rest.len() <= limit {
            sink.deliver(Inbound::Frame(rest));
        }
    }
    // Give the process a moment to be reaped so the reason can say how it ended.
    wait_exit(&mut exit, Duration::from_millis(500)).await;
    let reason = match *exit.borrow() {
        Some(status) => format!("{end}; the server process exited ({status})"),
        None => end,
    };
    // Let stderr's last words arrive before reporting them.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let stderr_tail = lock(&ring).lines.iter().cloned().collect();
    sink.deliver(Inbound::Closed(Closed {
        reason,
        stderr_tail,
    }));
    // Only now (the session knows it is over): nothing more can be said to
    // a server whose stdout is gone.
    stdin.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_environment_values() {
        let cfg = StdioConfig::new("server", ["--x"]).env("API_TOKEN", "s3cr3t");
        let shown = format!("{cfg:?}");
        assert!(
            shown.contains("API_TOKEN") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }
}
