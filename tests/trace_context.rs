//! SEP-414 trace context against the MCP Python SDK 2.3.0, which extracts
//! W3C `traceparent`/`tracestate` from every request's `_meta` into its
//! OpenTelemetry context and injects the current one into what it sends
//! (`tests/peers/trace_peer.py`):
//! - our client's requests carry the current context (a `trace::scope`, or
//!   `CallOptions::trace_context`) in both eras, and none outside one;
//! - a Python SDK client's trace crosses the gateway (our server core
//!   extracts it, the upstream call on its own task carries it on) to a
//!   Python SDK server, in both eras.

mod common;

use std::time::Duration;

use common::gateway::GatewayProcess;
use serde_json::{json, Value};
use switchboard::protocol::{Era, ProtocolVersion, TraceContext};
use switchboard::{trace, CallOptions, Client, Source, VersionChoice};

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn peer(marker: &str, choice: VersionChoice) -> switchboard::ClientBuilder {
    let src = Source::stdio(
        common::python().to_string_lossy(),
        [
            common::peer_script("trace_peer.py")
                .to_string_lossy()
                .into_owned(),
            "server".into(),
        ],
    );
    common::tune(src, marker).name("tracepeer").protocol(choice)
}

/// What the peer's handler saw as its current trace.
async fn seen(client: &Client, options: CallOptions) -> Value {
    let out = client
        .call_tool_with("trace_seen", json!({}), options)
        .await
        .expect("trace_seen");
    let text = out.text();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test]
async fn our_requests_carry_the_current_trace_to_the_python_sdk_in_both_eras() {
    common::bounded(async {
        for (choice, era) in [
            (VersionChoice::Auto, Era::Modern),
            (
                VersionChoice::Exact(ProtocolVersion::V2025_11_25),
                Era::Handshake,
            ),
        ] {
            let marker = common::marker("trace-client");
            let client = peer(&marker, choice).connect().await.expect("connect");
            assert_eq!(client.era(), Some(era));
            let ctx = TraceContext::parse(PARENT)
                .expect("valid")
                .with_tracestate(Some("congo=t61rcWkgMzE"));

            let inside = trace::scope(Some(ctx.clone()), seen(&client, CallOptions::new())).await;
            assert_eq!(
                inside["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
                "{era:?}"
            );
            assert_eq!(inside["span_id"], "00f067aa0ba902b7", "{era:?}");
            assert_eq!(inside["sampled"], true, "{era:?}");
            assert_eq!(inside["tracestate"], "congo=t61rcWkgMzE", "{era:?}");

            // Outside any scope: no context invented, none left over.
            let outside = seen(&client, CallOptions::new()).await;
            assert_eq!(outside["trace_id"], "", "{era:?}: {outside}");

            // Given for one call (a call on a task of its own).
            let root = trace::new_root(false).expect("randomness");
            let given = seen(&client, CallOptions::new().trace_context(root.clone())).await;
            assert_eq!(given["trace_id"], root.trace_id_hex(), "{era:?}");
            assert_eq!(given["sampled"], false, "{era:?}");

            // A caller's own `traceparent` in `_meta` wins over the scope's.
            let mut meta = serde_json::Map::new();
            meta.insert("traceparent".into(), root.traceparent().into());
            let own = trace::scope(Some(ctx), seen(&client, CallOptions::new().meta(meta))).await;
            assert_eq!(own["trace_id"], root.trace_id_hex(), "{era:?}");
            let _ = client.close().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_python_sdk_clients_trace_crosses_the_gateway_to_a_python_sdk_server() {
    common::bounded(async {
        let marker = common::marker("trace-gateway");
        let python = common::python();
        let gateway = GatewayProcess::start(
            json!({"tracepeer": {
                "command": python,
                "args": [common::peer_script("trace_peer.py"), "server"],
                "env": {common::MARKER_VAR: marker},
            }}),
            &[],
            &[],
        );
        for mode in ["auto", "legacy"] {
            let out = tokio::time::timeout(
                Duration::from_secs(30),
                tokio::process::Command::new(&python)
                    .arg(common::peer_script("trace_peer.py"))
                    .args([
                        "client",
                        &gateway.url,
                        PARENT,
                        "congo=t61rcWkgMzE",
                        "user=ada",
                    ])
                    .args([mode, "tracepeer_trace_seen"])
                    .output(),
            )
            .await
            .expect("the Python client hung")
            .expect("run the Python client");
            let line: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "{mode}: {e}: {}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            });
            assert_eq!(line["ok"], true, "{mode}: {line}");
            let text = line["text"].as_str().expect("text");
            let far: Value = serde_json::from_str(text).expect("JSON");
            assert_eq!(
                far["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
                "{mode}: {far}"
            );
            // Without the `otel` feature the gateway records no span of its
            // own: the far end's parent is the client's span.
            assert_eq!(far["span_id"], "00f067aa0ba902b7", "{mode}: {far}");
            assert_eq!(far["tracestate"], "congo=t61rcWkgMzE", "{mode}: {far}");
        }
        drop(gateway);
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await;
}
