//! What `switchboard gateway` relays between its clients and real
//! upstreams besides calls: a handshake-era upstream's asks
//! (server-everything's sampling and elicitation tools) reach the client
//! of the call and only it, as requests or (2026-07-28) rounds; a 2026-07-28 upstream's input-required round
//! (the conformance server over stdio) is passed on with its state sealed
//! so that the retry may land on another replica sharing the key, and
//! nowhere else; log messages reach the caller that asked for them.

mod common;

use std::time::Duration;

use common::gateway::GatewayProcess;
use serde_json::{json, Value};
use switchboard::protocol::{
    CreateMessageResult, ElicitResult, LoggingLevel, ProtocolVersion, VersionChoice,
};
use switchboard::{CallOptions, Client, Source};

const HANDSHAKE: VersionChoice = VersionChoice::Exact(ProtocolVersion::V2025_11_25);

fn everything_gateway(marker: &str) -> GatewayProcess {
    let env = json!({ common::MARKER_VAR: marker });
    GatewayProcess::start(
        json!({"everything": {"command": "node", "args": [common::everything_js(), "stdio"], "env": env}}),
        &[],
        &[],
    )
}

fn client(url: &str, version: VersionChoice) -> switchboard::ClientBuilder {
    Client::builder(Source::http(url))
        .protocol(version)
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(15))
}

/// The text of a call's outcome, error or not.
fn outcome_text(outcome: switchboard::Result<switchboard::ToolOutput>) -> String {
    match outcome {
        Ok(out) => out.text(),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_upstreams_asks_reach_the_client_of_the_call_and_no_other() {
    common::within(Duration::from_secs(60), async {
        let marker = common::marker("gateway-asks");
        let gw = everything_gateway(&marker);
        let asker = client(&gw.url, HANDSHAKE)
            .sampling(
                |params: switchboard::protocol::CreateMessageRequestParams, _cx| async move {
                    let asked = params
                        .messages
                        .first()
                        .map(|m| m.content.text())
                        .unwrap_or_default();
                    Ok(CreateMessageResult::text(
                        "downstream-model",
                        format!("downstream saw: {asked}"),
                    ))
                },
            )
            .elicitation(|_params, _cx| async {
                let content = json!({"name": "Ada Lovelace", "check": true});
                Ok(ElicitResult::accept(
                    content.as_object().cloned().unwrap_or_default(),
                ))
            })
            .connect()
            .await
            .expect("connect to the gateway");
        let sampled = asker
            .call_tool(
                "everything_trigger-sampling-request",
                json!({"prompt": "ping", "maxTokens": 5}),
            )
            .await
            .expect("the sampling tool");
        assert!(
            sampled
                .text()
                .contains("downstream saw: Resource trigger-sampling-request context: ping"),
            "the upstream's sampling request reached the caller's model: {}",
            sampled.text()
        );
        let elicited = asker
            .call_tool("everything_trigger-elicitation-request", json!({}))
            .await
            .expect("the elicitation tool");
        assert!(
            elicited.text().contains("Ada Lovelace"),
            "the caller's answer reached the upstream: {}",
            elicited.text()
        );

        // A client that declared neither is not asked (nor is anyone
        // else): the upstream is refused, with the reason.
        let plain = client(&gw.url, HANDSHAKE).connect().await.unwrap();
        let refused = outcome_text(
            plain
                .call_tool(
                    "everything_trigger-sampling-request",
                    json!({"prompt": "x"}),
                )
                .await,
        );
        assert!(
            refused.contains("no client of the gateway can answer")
                && refused.contains("sampling/createMessage"),
            "{refused}"
        );
        assert!(!refused.contains("downstream saw"), "{refused}");

        // A 2026-07-28 client is asked with an input-required round while
        // the gateway holds the upstream's call; its answer goes on.
        let modern = client(&gw.url, VersionChoice::Auto)
            .sampling(|_p, _cx| async { Ok(CreateMessageResult::text("m", "answered in a round")) })
            .connect()
            .await
            .unwrap();
        assert_eq!(
            modern.protocol_version(),
            Some(ProtocolVersion::V2026_07_28)
        );
        let held = outcome_text(
            modern
                .call_tool(
                    "everything_trigger-sampling-request",
                    json!({"prompt": "x"}),
                )
                .await,
        );
        assert!(held.contains("answered in a round"), "{held}");
        drop(gw);
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await
}

/// A gateway in front of the conformance server (2026-07-28 over stdio),
/// its names unprefixed, sealing with `key`.
fn conformance_gateway(key: &str) -> GatewayProcess {
    let upstream = common::example_binary("conformance_server");
    GatewayProcess::start(
        json!({"conformance": {"command": upstream, "args": ["--stdio"]}}),
        &["--unprefixed"],
        &[("SWITCHBOARD_GATEWAY_KEY", key)],
    )
}

/// The conformance server over HTTP (one process, shared by replicas);
/// killed when dropped.
struct SharedUpstream {
    child: std::process::Child,
    url: String,
}

impl Drop for SharedUpstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shared_upstream() -> SharedUpstream {
    use std::io::BufRead;
    let mut child = std::process::Command::new(common::example_binary("conformance_server"))
        .arg("0")
        .env("RUST_LOG", "error")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the conformance server");
    let stdout = child.stdout.take().expect("its stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut upstream = SharedUpstream {
        child,
        url: String::new(),
    };
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the conformance server did not listen within 20 s");
    upstream.url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    upstream
}

/// A replica in front of the shared upstream, sealing with `key`.
fn replica(upstream: &SharedUpstream, key: &str) -> GatewayProcess {
    GatewayProcess::start(
        json!({"conformance": {"url": upstream.url}}),
        &["--unprefixed"],
        &[("SWITCHBOARD_GATEWAY_KEY", key)],
    )
}

/// A raw 2026-07-28 `tools/call` of `test_elicitation`; `extra` is merged
/// into its params (`inputResponses`, `requestState`).
async fn call_elicitation(url: &str, extra: Value) -> Value {
    let mut params = json!({"name": "test_elicitation", "arguments": {"message": "who are you?"},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}});
    if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    common::gateway::post_modern(url, "tools/call", Some("test_elicitation"), params).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_round_is_retried_on_another_replica_and_only_where_the_key_is_shared() {
    common::within(Duration::from_secs(60), async {
        // Replicas behind a load balancer, in front of one upstream: the
        // upstream's own state redeems wherever the retry comes from.
        let upstream = shared_upstream();
        let a = replica(&upstream, "replicas share this");
        let b = replica(&upstream, "replicas share this");
        let stranger = replica(&upstream, "another key");

        let first = call_elicitation(&a.url, json!({})).await;
        let result = &first["result"];
        assert_eq!(result["resultType"], "input_required", "{first}");
        let asks = result["inputRequests"]
            .as_object()
            .expect("the upstream's asks");
        let (key, ask) = asks.iter().next().expect("one ask");
        assert_eq!(ask["method"], "elicitation/create", "{first}");
        assert_eq!(ask["params"]["message"], "who are you?", "{first}");
        let state = result["requestState"]
            .as_str()
            .expect("a requestState")
            .to_owned();
        // A round passed on is no failure of the upstream.
        let metrics = reqwest::Client::new()
            .get(a.url.replace("/mcp", "/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("switchboard_upstream_errors_total{server=\"conformance\"} 0"),
            "{metrics}"
        );

        let answer =
            json!({"action": "accept", "content": {"username": "ada", "email": "ada@example.com"}});
        let retry = json!({"inputResponses": {key.clone(): answer}, "requestState": state});
        let done = call_elicitation(&b.url, retry.clone()).await;
        let text = done["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(
            text.contains("action=accept") && text.contains("ada@example.com"),
            "the retry on the other replica completed the upstream's call: {done}"
        );

        // Another key does not redeem it; an altered token is refused.
        let refused = call_elicitation(&stranger.url, retry).await;
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
        let mut altered = state.clone().into_bytes();
        let at = altered.len() / 3;
        altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        let tampered = json!({"inputResponses": {key.clone(): {"action": "accept", "content": {}}},
                              "requestState": altered});
        let refused = call_elicitation(&b.url, tampered).await;
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_log_messages_reach_the_caller_that_asked_in_both_eras() {
    common::within(Duration::from_secs(60), async {
        let gw = conformance_gateway("logs");
        for version in [VersionChoice::Auto, HANDSHAKE] {
            let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let heard = logs.clone();
            let c = client(&gw.url, version)
                .on_log(move |log| heard.lock().unwrap().push(log.data.clone()))
                .connect()
                .await
                .unwrap();
            c.set_log_level(LoggingLevel::Debug).await.unwrap();
            let out = c
                .call_tool_with("test_tool_with_logging", json!({}), CallOptions::new())
                .await
                .unwrap();
            assert!(!out.is_error(), "{version:?}: {}", out.text());
            let logs = logs.lock().unwrap().clone();
            assert!(
                logs.len() >= 3,
                "{version:?}: the upstream's three log messages were relayed: {logs:?}"
            );
            c.close().await.unwrap();
        }
    })
    .await
}
