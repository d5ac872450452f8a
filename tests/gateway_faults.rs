//! A downstream client that goes away mid-call cancels the upstream call:
//! a 2026-07-28 client by closing its stream, a handshake-era client by
//! `notifications/cancelled` (here: its call's deadline). The upstream, a
//! server that never answers (`tests/peers/fault_server.py silent`), says
//! on stderr which cancellations reached it; the gateway's status shows
//! its stderr.

mod common;

use std::time::Duration;

use common::gateway::GatewayProcess;
use serde_json::{json, Value};
use switchboard::protocol::{ProtocolVersion, VersionChoice};
use switchboard::{CallOptions, Client, Source};

/// How many cancellations the upstream reported, per the gateway's status.
async fn cancellations(base: &str) -> usize {
    let status: Value = reqwest::Client::new()
        .get(format!("{base}/status.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    status["servers"][0]["stderr_tail"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter(|l| l.as_str().is_some_and(|l| l.contains("cancelled request")))
                .count()
        })
        .unwrap_or(0)
}

async fn wait_for_cancellations(base: &str, n: usize) {
    for _ in 0..100 {
        if cancellations(base).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the upstream did not report {n} cancellations within 5 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_mid_call_cancels_the_upstream_call() {
    common::within(Duration::from_secs(60), async {
        let marker = common::marker("gateway-cancel");
        let gw = GatewayProcess::start(
            json!({"fault": {"command": common::python(),
                             "args": [common::peer_script("fault_server.py"), "silent"],
                             "env": { common::MARKER_VAR: marker }}}),
            &[],
            &[],
        );
        let base = gw.url.trim_end_matches("/mcp").to_owned();
        let _ = rustls::crypto::ring::default_provider().install_default();
        assert_eq!(cancellations(&base).await, 0);

        // 2026-07-28: the client closes its stream (its HTTP deadline).
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "fault_bad", "arguments": {},
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {}}}});
        let gone = reqwest::Client::new()
            .post(&gw.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "fault_bad")
            .timeout(Duration::from_millis(500))
            .body(body.to_string())
            .send()
            .await;
        assert!(gone.is_err(), "the upstream never answers: {gone:?}");
        wait_for_cancellations(&base, 1).await;

        // Handshake era: the client's deadline sends notifications/cancelled.
        let c = Client::builder(Source::http(&gw.url))
            .protocol(VersionChoice::Exact(ProtocolVersion::V2025_11_25))
            .connect_timeout(Duration::from_secs(15))
            .connect()
            .await
            .unwrap();
        let timed_out = c
            .call_tool_with(
                "fault_bad",
                json!({}),
                CallOptions::new().timeout(Duration::from_millis(500)),
            )
            .await;
        assert!(timed_out.is_err());
        wait_for_cancellations(&base, 2).await;
        drop(gw);
        common::assert_no_process(&marker, Duration::from_secs(15)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_gets_an_access_log_line_when_asked_for() {
    common::within(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("gateway.log");
        let file = std::fs::File::create(&log).unwrap();
        let bin = env!("CARGO_BIN_EXE_switchboard");
        let gw = GatewayProcess::start_with_stderr(
            json!({"demo": {"command": bin, "args": ["serve-test"]}}),
            &[],
            &[("SWITCHBOARD_LOG", "switchboard::access=info")],
            std::process::Stdio::from(file),
        );
        let params = json!({"name": "demo_echo", "arguments": {"text": "logged"},
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {}}});
        let reply =
            common::gateway::post_modern(&gw.url, "tools/call", Some("demo_echo"), params).await;
        assert_eq!(reply["result"]["content"][0]["text"], "logged", "{reply}");
        let mut text = String::new();
        for _ in 0..50 {
            text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("tools/call") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let line = text
            .lines()
            .find(|l| l.contains("method=tools/call"))
            .unwrap_or_else(|| panic!("no access line for the call: {text}"));
        for field in [
            "status=200",
            "protocol=2026-07-28",
            "session=false",
            "micros=",
        ] {
            assert!(line.contains(field), "{field} in {line}");
        }
        assert!(
            !line.contains("logged"),
            "arguments stay out of the log: {line}"
        );
    })
    .await
}
