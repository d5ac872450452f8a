//! `switchboard gateway` as a child process over a config file written
//! for the test: started on a free 127.0.0.1 port, its URL read from its
//! first line, killed (only it) when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// A running gateway.
pub struct GatewayProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl GatewayProcess {
    /// Serves the `mcpServers` table `servers` with the extra `args` and
    /// environment `env`; waits up to 60 s for it to listen.
    pub fn start(servers: Value, args: &[&str], env: &[(&str, &str)]) -> GatewayProcess {
        GatewayProcess::start_with_stderr(servers, args, env, Stdio::inherit())
    }

    /// [`GatewayProcess::start`] with its stderr sent to `stderr` (a file,
    /// to read its logs).
    pub fn start_with_stderr(
        servers: Value,
        args: &[&str],
        env: &[(&str, &str)],
        stderr: Stdio,
    ) -> GatewayProcess {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = dir.path().join("mcp.json");
        let file = serde_json::json!({ "mcpServers": servers });
        std::fs::write(&config, file.to_string()).expect("write the config");
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        command
            .arg("gateway")
            .arg(&config)
            .args(["--listen", "127.0.0.1:0", "--drain-secs", "2"])
            .args(args)
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start the gateway");
        let stdout = child.stdout.take().expect("its stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut gateway = GatewayProcess {
            child,
            url: String::new(),
            _dir: dir,
        };
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the gateway did not say where it listens within 60 s");
        gateway.url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        gateway
    }

    /// Kills it at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A raw 2026-07-28 request to `url` (`Mcp-Method`, and `Mcp-Name` when
/// given, as SEP-2243 wants): the JSON-RPC reply, from a JSON body or the
/// last event of a stream.
pub async fn post_modern(url: &str, method: &str, name: Option<&str>, params: Value) -> Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(name) = name {
        request = request.header("mcp-name", name);
    }
    let text = request
        .body(body.to_string())
        .send()
        .await
        .expect("POST to the gateway")
        .text()
        .await
        .expect("its body");
    let json = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("data:"))
        .unwrap_or(&text)
        .trim()
        .to_owned();
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {text}"))
}
