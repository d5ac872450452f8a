//! The clients people run, through `switchboard gateway`, against real
//! upstreams of three projects (server-everything, a FastMCP server, an
//! MCP Python SDK server): the fastmcp `Client` and the MCP Python SDK
//! client (2026-07-28 by default, and in the handshake era) and the
//! official TypeScript SDK client each list, call with progress, answer a
//! sampling and an elicitation round of each kind of upstream, read and
//! get a prompt (`tests/peers/py_gateway_client.py`,
//! `tests/peers/ts_gateway_rounds.mjs`).
//!
//! server-everything speaks the handshake era and asks mid-call: to a
//! 2026-07-28 client the gateway passes its ask as an input-required round
//! and holds the upstream call until the retry brings the answer.

mod common;

use std::time::Duration;

use common::gateway::GatewayProcess;
use serde_json::{json, Value};

fn gateway(marker: &str) -> GatewayProcess {
    let env = json!({ common::MARKER_VAR: marker });
    let python = common::python();
    GatewayProcess::start(
        json!({
            "everything": {"command": "node", "args": [common::everything_js(), "stdio"], "env": env},
            "fastmcp": {"command": python, "args": [common::peer_script("fastmcp_server.py")], "env": env},
            "rounds": {"command": python, "args": [common::peer_script("rounds_server.py")], "env": env},
        }),
        &[],
        &[],
    )
}

/// Runs one client script to its end (60 s at most): its JSON line.
async fn run(mut command: tokio::process::Command, what: &str) -> Value {
    let out = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: no JSON line ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{what} failed: {v}");
    v
}

/// What every client must have seen through the gateway.
fn assert_all_relayed(what: &str, v: &Value, version: &str) {
    assert_eq!(v["protocolVersion"], version, "{what}: {v}");
    assert_eq!(v["errors"], json!([]), "{what}: {v}");
    assert_eq!(v["serverInfo"]["name"], "switchboard-gateway", "{what}");
    let tools = v["tools"].as_array().expect("tools");
    for name in ["everything_echo", "fastmcp_add", "rounds_ask_sampling"] {
        assert!(tools.iter().any(|t| t == name), "{what}: no {name}: {v}");
    }
    let progress: Vec<f64> = v["progress"]
        .as_array()
        .map(|p| p.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    assert_eq!(progress, [1.0, 2.0, 3.0], "{what}: progress relayed: {v}");
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    // A handshake-era upstream's mid-call asks, answered by this client.
    assert!(
        text("sampling").contains("sampled: Resource trigger-sampling-request context: ping"),
        "{what}: {}",
        text("sampling")
    );
    assert!(
        text("elicitation").contains("User provided the requested information")
            && text("elicitation").contains("Name: Ada"),
        "{what}: {}",
        text("elicitation")
    );
    // A 2026-07-28 upstream's input-required rounds, answered by it.
    assert_eq!(text("rounds_sampling"), "sampled: What is 6 x 7?", "{what}");
    assert_eq!(
        text("rounds_elicitation"),
        "accepted: name=Ada age=1",
        "{what}"
    );
    assert_eq!(
        v["rounds_roots"],
        json!(["file:///tmp/switchboard-root"]),
        "{what}"
    );
    assert_eq!(v["fastmcp_structured"], json!({"sum": 5}), "{what}");
    assert!(
        text("resource_text").starts_with("# Everything Server"),
        "{what}"
    );
    assert_eq!(text("fastmcp_resource_text"), "hello", "{what}");
    assert_eq!(
        text("args_prompt_text"),
        "What's weather in Paris?",
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_typescript_clients_get_every_relay_through_the_gateway() {
    common::within(Duration::from_secs(240), async {
        let marker = common::marker("gateway-clients");
        let gw = gateway(&marker);
        for (flavor, version) in [
            ("fastmcp", "2026-07-28"),
            ("mcp", "2026-07-28"),
            ("fastmcp-legacy", "2025-11-25"),
            ("mcp-legacy", "2025-11-25"),
        ] {
            let mut command = tokio::process::Command::new(common::python());
            command
                .arg(common::peer_script("py_gateway_client.py"))
                .arg(&gw.url)
                .arg(flavor);
            let v = run(command, flavor).await;
            assert_all_relayed(flavor, &v, version);
        }
        let mut command = tokio::process::Command::new("node");
        command
            .arg(common::peer_script("ts_gateway_rounds.mjs"))
            .arg(&gw.url)
            .env("SWITCHBOARD_NODE_MODULES", common::node_modules());
        let v = run(command, "the TypeScript SDK client").await;
        assert_all_relayed("ts-sdk", &v, "2025-11-25");
        drop(gw);
        common::assert_no_process(&marker, Duration::from_secs(15)).await;
    })
    .await
}

/// A raw 2026-07-28 `tools/call` from a client that can sample: the reply.
async fn call(url: &str, name: &str, arguments: Value, extra: Value) -> Value {
    let mut params = json!({"name": name, "arguments": arguments,
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {"sampling": {}}}});
    if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    common::gateway::post_modern(url, "tools/call", Some(name), params).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_call_is_answered_on_its_own_replica_and_refused_plainly_elsewhere() {
    common::within(Duration::from_secs(60), async {
        let marker = common::marker("gateway-held");
        let env = json!({ common::MARKER_VAR: marker });
        let servers = json!({"everything": {"command": "node", "args": [common::everything_js(), "stdio"], "env": env}});
        let key = [("SWITCHBOARD_GATEWAY_KEY", "shared")];
        let a = GatewayProcess::start(servers.clone(), &[], &key);
        let b = GatewayProcess::start(servers, &[], &key);
        let tool = "everything_trigger-sampling-request";
        let args = json!({"prompt": "held", "maxTokens": 5});

        let first = call(&a.url, tool, args.clone(), json!({})).await;
        let round = &first["result"];
        assert_eq!(round["resultType"], "input_required", "{first}");
        let (key, ask) = round["inputRequests"]
            .as_object()
            .and_then(|m| m.iter().next())
            .expect("one ask");
        assert_eq!(ask["method"], "sampling/createMessage", "{first}");
        let asked = ask["params"]["messages"][0]["content"]["text"].as_str().unwrap_or_default();
        assert!(asked.contains("held"), "{first}");
        let state = round["requestState"].as_str().unwrap().to_owned();
        let answer = json!({"role": "assistant", "model": "m",
                            "content": {"type": "text", "text": "answered on A"}});
        let retry = json!({"inputResponses": {key.clone(): answer}, "requestState": state});

        // Replica B shares the key but not the held call: a plain -32602.
        let elsewhere = call(&b.url, tool, args.clone(), retry.clone()).await;
        assert_eq!(elsewhere["error"]["code"], -32602, "{elsewhere}");
        let message = elsewhere["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("same gateway replica"), "{message}");

        // On A the upstream call goes on with the answer.
        let done = call(&a.url, tool, args.clone(), retry.clone()).await;
        let text = done["result"]["content"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("answered on A"), "{done}");
        // A held call is answered once.
        let again = call(&a.url, tool, args, retry).await;
        assert_eq!(again["error"]["code"], -32602, "{again}");
    })
    .await
}
