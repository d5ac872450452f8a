//! `switchboard gateway`: a config file's fleet of real servers
//! (server-everything over stdio, Switchboard's built-in test server as a
//! child process) served as one MCP server over Streamable HTTP, driven by
//! Switchboard's own client in both eras and by the official TypeScript
//! SDK client; supervision showing through; SIGTERM leaving no process.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use switchboard::protocol::{ProtocolVersion, VersionChoice};
use switchboard::{CallOptions, Client, Source};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A running gateway: the child and its URL.
struct Gateway {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `switchboard gateway` over a config with the built-in test
/// server (with its `crash` tool) and server-everything, each child
/// marked with `marker`.
fn start(marker: &str) -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mcp.json");
    let env = json!({ common::MARKER_VAR: marker });
    let servers = json!({"mcpServers": {
        "demo": {"command": BIN, "args": ["serve-test", "--crash-tool"], "env": env},
        "everything": {"command": "node", "args": [common::everything_js(), "stdio"], "env": env},
    }});
    std::fs::write(&config, servers.to_string()).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "gateway",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--drain-secs",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the gateway did not say where it listens within 60 s");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Gateway {
        child,
        url,
        _dir: dir,
    }
}

fn client(url: &str, version: VersionChoice) -> switchboard::ClientBuilder {
    Client::builder(Source::http(url))
        .protocol(version)
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(15))
}

const ERAS: [VersionChoice; 2] = [
    VersionChoice::Auto,
    VersionChoice::Exact(ProtocolVersion::V2025_11_25),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_servers_behind_the_gateway_in_both_eras_and_supervision_shows() {
    common::bounded(async {
        let marker = common::marker("gateway");
        let gw = start(&marker);
        let base = gw.url.trim_end_matches("/mcp").to_owned();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let health = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let ready: Value =
            common::eventually("both servers ready", Duration::from_secs(30), || async {
                let r = http.get(format!("{base}/readyz")).send().await.ok()?;
                let v: Value = r.json().await.ok()?;
                (v["ready"] == 2).then_some(v)
            })
            .await;
        assert_eq!(ready["servers"]["demo"], "ready", "{ready}");
        for version in ERAS {
            let c = client(&gw.url, version).connect().await.unwrap();
            let era = match version {
                VersionChoice::Auto => switchboard::protocol::Era::Modern,
                _ => switchboard::protocol::Era::Handshake,
            };
            assert_eq!(c.era(), Some(era));
            assert_eq!(c.server_info().unwrap().name, "switchboard-gateway");
            let names: Vec<String> = c
                .list_tools()
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect();
            for expected in [
                "demo_echo",
                "demo_slow",
                "demo_crash",
                "everything_echo",
                "everything_get-sum",
            ] {
                assert!(
                    names.iter().any(|n| n == expected),
                    "{expected} missing from {names:?}"
                );
            }
            let echo = c
                .call_tool("everything_echo", json!({"message": "through"}))
                .await
                .unwrap();
            assert_eq!(echo.text(), "Echo: through");
            let sum = c
                .call_tool("everything_get-sum", json!({"a": 2, "b": 3}))
                .await
                .unwrap();
            assert!(sum.text().contains('5'), "{:?}", sum.text());
            // Progress from the upstream is relayed as it comes.
            let seen = Arc::new(Mutex::new(Vec::new()));
            let s = seen.clone();
            let slow = c
                .call_tool_with(
                    "demo_slow",
                    json!({"steps": 3, "ms": 30}),
                    CallOptions::new().on_progress(move |p| s.lock().unwrap().push(p.progress)),
                )
                .await
                .unwrap();
            assert_eq!(slow.text(), "done after 3 steps");
            assert_eq!(*seen.lock().unwrap(), [1.0, 2.0, 3.0], "{version:?}");
            // The upstream's isError result passes through as it was.
            let unknown = c.call_tool("nobody_echo", json!({})).await.unwrap_err();
            assert_eq!(unknown.code(), Some(-32602), "{unknown:?}");
            c.close().await.unwrap();
        }
        // An upstream that dies mid-call: the call fails naming it; the
        // others keep serving; after the restart it serves again.
        let c = client(&gw.url, VersionChoice::Auto)
            .connect()
            .await
            .unwrap();
        let err = c.call_tool("demo_crash", json!({})).await.unwrap_err();
        let Some(-32603) = err.code() else {
            panic!("expected -32603 naming the server, got {err:?}")
        };
        assert!(err.to_string().contains("server demo is"), "{err}");
        let echo = c
            .call_tool("everything_echo", json!({"message": "still"}))
            .await
            .unwrap();
        assert_eq!(echo.text(), "Echo: still");
        common::eventually(
            "demo serves again after its restart",
            Duration::from_secs(30),
            || async {
                c.call_tool("demo_echo", json!({"text": "back"}))
                    .await
                    .ok()
                    .map(|o| o.text())
            },
        )
        .await;
        c.close().await.unwrap();
        // What it counted: per server, per method and era, the restart.
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let value = |line: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
                .unwrap_or_else(|| panic!("no {line} in\n{text}"))
        };
        assert_eq!(
            value("switchboard_upstream_calls_total{server=\"everything\"}"),
            5.0
        );
        assert_eq!(
            value("switchboard_upstream_errors_total{server=\"demo\"}"),
            1.0
        );
        assert!(value("switchboard_upstream_restarts_total{server=\"demo\"}") >= 1.0);
        assert_eq!(
            value("switchboard_upstream_state{server=\"demo\",state=\"ready\"}"),
            1.0
        );
        assert!(
            value("switchboard_gateway_requests_total{method=\"tools/call\",era=\"handshake\"}")
                >= 4.0
        );
        let modern_calls =
            value("switchboard_gateway_requests_total{method=\"tools/call\",era=\"2026-07-28\"}");
        assert!(modern_calls >= 5.0, "{text}");
        assert_eq!(value("switchboard_gateway_in_flight"), 0.0);
        assert!(text.contains(
            "switchboard_upstream_call_seconds_bucket{server=\"everything\",le=\"+Inf\"} 5"
        ));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_client_lists_and_calls_through_the_gateway() {
    common::bounded(async {
        let marker = common::marker("gateway-ts");
        let gw = start(&marker);
        let script = common::peer_script("ts_gateway_client.mjs");
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::process::Command::new("node")
                .arg(script)
                .arg(&gw.url)
                .arg("demo_slow")
                .arg(r#"{"steps": 2, "ms": 20}"#)
                .env("SWITCHBOARD_NODE_MODULES", common::node_modules())
                .output(),
        )
        .await
        .expect("the TypeScript client hung")
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["text"], "done after 2 steps", "{v}");
        assert_eq!(v["progress"], json!([1, 2]), "{v}");
        assert_eq!(v["serverInfo"]["name"], "switchboard-gateway");
        let tools = v["tools"].as_array().unwrap();
        assert!(tools.iter().any(|t| t == "everything_echo"), "{v}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_leaves_no_server_running() {
    common::bounded(async {
        let marker = common::marker("gateway-term");
        let mut gw = start(&marker);
        let c = client(&gw.url, VersionChoice::Auto)
            .connect()
            .await
            .unwrap();
        c.call_tool("demo_echo", json!({"text": "x"}))
            .await
            .unwrap();
        common::wait_for_processes(&marker, 2, Duration::from_secs(30)).await;
        // SAFETY: kill(2) with our own child's pid touches no memory.
        let pid = gw.child.id() as libc::pid_t;
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let status = common::eventually("the gateway exits", Duration::from_secs(20), || {
            let s = gw.child.try_wait().unwrap();
            async move { s }
        })
        .await;
        assert_eq!(status.code(), Some(143), "{status:?}");
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_stdio_a_client_spawns_the_gateway_as_one_server() {
    common::bounded(async {
        let marker = common::marker("gateway-stdio");
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("mcp.json");
        let env = json!({ common::MARKER_VAR: marker });
        let servers = json!({"mcpServers": {
            "demo": {"command": BIN, "args": ["serve-test"], "env": env},
        }});
        std::fs::write(&config, servers.to_string()).unwrap();
        let source = Source::stdio(BIN, ["gateway", config.to_str().unwrap(), "--stdio"]);
        for version in ERAS {
            let c = common::tune(source.clone(), &marker)
                .protocol(version)
                .connect()
                .await
                .unwrap();
            let out = c
                .call_tool("demo_add", json!({"a": 1, "b": 2}))
                .await
                .unwrap();
            assert_eq!(out.structured().unwrap()["sum"], 3.0, "{version:?}");
            c.close().await.unwrap();
        }
        // Closing stdin ends the gateway and, with it, its server.
        common::assert_no_process(&marker, Duration::from_secs(15)).await;
    })
    .await
}

#[test]
fn unprefixed_names_need_exactly_one_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mcp.json");
    let servers = json!({"mcpServers": {
        "a": {"command": BIN, "args": ["serve-test"]},
        "b": {"command": BIN, "args": ["serve-test"]},
    }});
    std::fs::write(&config, servers.to_string()).unwrap();
    let out = Command::new(BIN)
        .args([
            "gateway",
            config.to_str().unwrap(),
            "--stdio",
            "--unprefixed",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("exactly one server"));
}

/// The merged lists may be kept no longer than the upstreams allow: one
/// upstream whose `tools/list` says `ttlMs: 0` (serve-echo) makes the
/// gateway's uncacheable too; alone, the built-in server's minute stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_lists_are_cached_no_longer_than_their_upstreams_allow() {
    common::bounded(async {
        let ttl_of = |url: String| async move {
            let params = json!({"_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}}});
            let v = common::gateway::post_modern(&url, "tools/list", None, params).await;
            (
                v["result"]["ttlMs"].clone(),
                v["result"]["cacheScope"].clone(),
            )
        };
        let both = common::gateway::GatewayProcess::start(
            json!({"demo": {"command": BIN, "args": ["serve-test"]},
                   "echo": {"command": BIN, "args": ["serve-echo"]}}),
            &[],
            &[],
        );
        assert_eq!(ttl_of(both.url.clone()).await, (json!(0), json!("public")));
        let alone = common::gateway::GatewayProcess::start(
            json!({"demo": {"command": BIN, "args": ["serve-test"]}}),
            &[],
            &[],
        );
        assert_eq!(
            ttl_of(alone.url.clone()).await,
            (json!(60_000), json!("public"))
        );
    })
    .await
}

/// `/readyz` answers 200 while enough servers are ready: one by default,
/// `--ready-min N` for more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_needs_as_many_ready_servers_as_asked() {
    common::bounded(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let servers = json!({"demo": {"command": BIN, "args": ["serve-test"]},
                             "broken": {"command": "/nonexistent/switchboard-test-server"}});
        let ready = |url: String| async move {
            let res = reqwest::Client::new()
                .get(url.replace("/mcp", "/readyz"))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (status, body)
        };
        let one = common::gateway::GatewayProcess::start(servers.clone(), &[], &[]);
        let (status, body) = ready(one.url.clone()).await;
        assert_eq!((status, body["ready"].clone()), (200, json!(1)), "{body}");
        let both = common::gateway::GatewayProcess::start(servers, &["--ready-min", "2"], &[]);
        let (status, body) = ready(both.url.clone()).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["needed"], 2, "{body}");
        assert_eq!(body["servers"]["broken"], "down", "{body}");
    })
    .await
}
