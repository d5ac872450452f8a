//! The `otel` feature end to end: a Python SDK client (in a trace of its
//! own) calls through `switchboard gateway` to a Python SDK server, with the
//! gateway exporting to an OTLP/HTTP receiver that decodes the official
//! protobuf messages (`tests/peers/otlp_receiver.py`). The gateway's span
//! for the call is the client's span's child, the far server's parent, and
//! reaches the receiver by the time the gateway has stopped (SIGTERM
//! flushes the batch).
//!
//! Run with `cargo test --features otel --test trace_otel`.
#![cfg(feature = "otel")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::gateway::GatewayProcess;
use serde_json::{json, Value};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

/// The receiver: its port, and its span lines as they come.
fn receiver() -> (std::process::Child, u16, mpsc::Receiver<Value>) {
    let mut child = Command::new(common::python())
        .arg(common::peer_script("otlp_receiver.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the OTLP receiver (bash .ci/install-peers.sh installs opentelemetry-proto)");
    let stdout = child.stdout.take().expect("its stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the receiver's port line");
    let port = first["port"].as_u64().expect("a port") as u16;
    (child, port, rx)
}

#[tokio::test]
async fn the_gateway_exports_its_span_between_the_callers_and_the_upstreams() {
    let (mut otlp, port, spans) = receiver();
    let marker = common::marker("trace-otel");
    let python = common::python();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut gateway = GatewayProcess::start(
        json!({"tracepeer": {
            "command": python,
            "args": [common::peer_script("trace_peer.py"), "server"],
            "env": {common::MARKER_VAR: marker},
        }}),
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SERVICE_NAME", "gateway-under-test"),
        ],
    );
    let parent = format!("00-{TRACE}-{CLIENT_SPAN}-01");
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(&python)
            .arg(common::peer_script("trace_peer.py"))
            .args(["client", &gateway.url, &parent, "", "", "auto"])
            .arg("tracepeer_trace_seen")
            .output(),
    )
    .await
    .expect("the Python client hung")
    .expect("run the Python client");
    let line: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(line["ok"], true, "{line}");
    let far: Value = serde_json::from_str(line["text"].as_str().expect("text")).expect("JSON");
    assert_eq!(far["trace_id"], TRACE, "{far}");
    let gateway_span = far["span_id"].as_str().expect("span id").to_owned();
    assert_ne!(
        gateway_span, CLIENT_SPAN,
        "the gateway recorded no span of its own: {far}"
    );

    // A graceful stop flushes the batch still queued.
    // SAFETY: signals only the gateway child this test started.
    unsafe { libc::kill(gateway.child.id() as libc::pid_t, libc::SIGTERM) };
    let started = Instant::now();
    let mut seen = Vec::new();
    let found = loop {
        let left = Duration::from_secs(20).saturating_sub(started.elapsed());
        match spans.recv_timeout(left) {
            Ok(span) if span["span_id"] == gateway_span.as_str() => break span,
            Ok(other) => seen.push(other),
            Err(_) => panic!("no span {gateway_span} exported within 20 s; got {seen:?}"),
        }
    };
    assert_eq!(found["name"], "tools/call", "{found}");
    assert_eq!(found["kind"], "SPAN_KIND_SERVER", "{found}");
    assert_eq!(found["trace_id"], TRACE, "{found}");
    assert_eq!(found["parent_span_id"], CLIENT_SPAN, "{found}");
    assert_eq!(found["service"], "gateway-under-test", "{found}");
    assert_eq!(
        found["attributes"]["mcp.method.name"], "tools/call",
        "{found}"
    );
    gateway.kill();
    drop(otlp.stdin.take());
    let _ = otlp.kill();
    let _ = otlp.wait();
}
