//! Real peers over the network transports: server-everything over
//! Streamable HTTP (`/mcp`) and legacy HTTP+SSE (`/sse`), and the FastMCP
//! peer over Streamable HTTP in 2026-07-28 (auto) and forced 2025-11-25.
//! The same core operations run on each: tools (echo, get-sum, structured
//! content), resources, prompts, a sampling request answered by our
//! handler, elicitation, progress.

mod common;
mod http_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map};
use switchboard::protocol::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, Era,
};
use switchboard::{
    CallOptions, Client, ClientBuilder, ProtocolVersion, RequestContext, Source, VersionChoice,
};

const SAMPLED: &str = "sampled over http";

fn tuned(source: Source) -> ClientBuilder {
    Client::builder(source)
        .timeout(Duration::from_secs(15))
        .max_request_time(Duration::from_secs(25))
        .connect_timeout(Duration::from_secs(15))
        .probe_timeout(Duration::from_secs(10))
}

/// A client answering sampling and elicitation, recording the sampling asks.
fn everything_client(url: &str, sampled: &Arc<Mutex<Vec<u64>>>) -> ClientBuilder {
    let seen = sampled.clone();
    tuned(Source::http(url))
        .name("everything-http")
        .sampling(move |p: CreateMessageRequestParams, ctx: RequestContext| {
            assert_eq!(ctx.era, Era::Handshake);
            seen.lock().unwrap().push(p.max_tokens);
            async { Ok(CreateMessageResult::text("test-model", SAMPLED)) }
        })
        .elicitation(|p: ElicitRequestParams, _ctx: RequestContext| async move {
            let answer = match p {
                ElicitRequestParams::Form(_) => {
                    let mut v = Map::new();
                    v.insert("name".into(), json!("Ada"));
                    v.insert("check".into(), json!(true));
                    v.insert("email".into(), json!("ada@example.com"));
                    v.insert("integer".into(), json!(7));
                    ElicitResult::accept(v)
                }
                _ => ElicitResult::decline(),
            };
            Ok(answer)
        })
        .roots(["file:///tmp/switchboard-http"])
}

#[derive(Debug, Deserialize, PartialEq)]
struct Weather {
    temperature: f64,
    conditions: String,
    humidity: f64,
}

/// The core operations against server-everything, whatever the transport.
async fn exercise_everything(client: &Client, sampled: &Arc<Mutex<Vec<u64>>>) {
    assert_eq!(
        client.protocol_version(),
        Some(ProtocolVersion::V2025_11_25)
    );
    assert_eq!(client.server_info().unwrap().name, "mcp-servers/everything");

    // The gated tools register after `initialized` (their list_changed
    // notifications travel on the GET stream / the SSE stream).
    let tools = common::eventually("gated tools", Duration::from_secs(10), || async {
        let tools = client.list_tools().await.expect("list_tools");
        tools
            .iter()
            .any(|t| t.name == "trigger-sampling-request")
            .then_some(tools)
    })
    .await;
    assert!(tools.iter().any(|t| t.name == "echo"));

    let out = client
        .call_tool("echo", json!({"message": "over the wire"}))
        .await
        .expect("echo");
    assert_eq!(out.text(), "Echo: over the wire");

    let out = client
        .call_tool("get-sum", json!({"a": 40, "b": 2}))
        .await
        .expect("get-sum");
    assert_eq!(out.text(), "The sum of 40 and 2 is 42.");

    let out = client
        .call_tool("get-structured-content", json!({"location": "Chicago"}))
        .await
        .expect("structured");
    let w: Weather = out.data().expect("typed structured content");
    assert_eq!(w.conditions, "Light rain / drizzle");

    let uri = "demo://resource/static/document/features.md";
    let read = client.read_resource(uri).await.expect("read resource");
    assert!(read.contents[0].as_text().is_some_and(|t| !t.is_empty()));

    let prompt = client
        .get_prompt("args-prompt", json!({"city": "Paris"}))
        .await
        .expect("prompt");
    assert_eq!(
        prompt.messages[0].content.as_text(),
        Some("What's weather in Paris?")
    );

    // A server request in the middle of a call, answered by our handler.
    let out = client
        .call_tool(
            "trigger-sampling-request",
            json!({"prompt": "six times seven?", "maxTokens": 21}),
        )
        .await
        .expect("sampling");
    assert!(out.text().contains(SAMPLED), "{}", out.text());
    assert_eq!(*sampled.lock().unwrap(), [21]);

    let out = client
        .call_tool("trigger-elicitation-request", json!({}))
        .await
        .expect("elicitation");
    assert!(out.text().contains("Ada"), "{}", out.text());

    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = progress.clone();
    client
        .call_tool_with(
            "trigger-long-running-operation",
            json!({"duration": 1, "steps": 3}),
            CallOptions::new().on_progress(move |p| sink.lock().unwrap().push(p.progress)),
        )
        .await
        .expect("long running operation");
    assert_eq!(progress.lock().unwrap().len(), 3);

    // Concurrent calls are correlated.
    let calls = (0..20).map(|i| {
        let c = client.clone();
        async move {
            let out = c
                .call_tool("get-sum", json!({"a": i, "b": 1}))
                .await
                .expect("concurrent get-sum");
            assert_eq!(out.text(), format!("The sum of {i} and 1 is {}.", i + 1));
        }
    });
    futures_util::future::join_all(calls).await;
    client.ping().await.expect("ping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_over_streamable_http() {
    common::bounded(async {
        let peer = http_common::everything(&common::everything_js(), "streamableHttp").await;
        let sampled = Arc::new(Mutex::new(Vec::new()));
        let client = everything_client(&peer.url("/mcp"), &sampled)
            .connect()
            .await
            .expect("connect over Streamable HTTP");
        exercise_everything(&client, &sampled).await;
        client.close().await.expect("close");
        assert!(client.is_closed());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_over_legacy_sse() {
    common::bounded(async {
        let peer = http_common::everything(&common::everything_js(), "sse").await;
        let sampled = Arc::new(Mutex::new(Vec::new()));
        let client = everything_client(&peer.url("/sse"), &sampled)
            .connect()
            .await
            .expect("connect over HTTP+SSE");
        exercise_everything(&client, &sampled).await;
        client.close().await.expect("close");
    })
    .await;
}

async fn exercise_fastmcp(client: &Client) {
    let names: Vec<String> = client
        .list_tools()
        .await
        .expect("list_tools")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(names.iter().any(|n| n == "add"), "{names:?}");
    let out = client
        .call_tool("add", json!({"a": 20, "b": 22}))
        .await
        .expect("add");
    assert_eq!(out.structured(), Some(&json!({"sum": 42})));
    let out = client
        .call_tool("echo", json!({"text": "héllo wörld"}))
        .await
        .expect("echo");
    assert_eq!(out.text(), "héllo wörld");
    let out = client
        .call_tool("fail", json!({"message": "boom"}))
        .await
        .expect("fail is a tool result");
    assert!(out.is_error());
    let progress = Arc::new(Mutex::new(0usize));
    let p = progress.clone();
    client
        .call_tool_with(
            "slow",
            json!({"steps": 3}),
            CallOptions::new().on_progress(move |_| *p.lock().unwrap() += 1),
        )
        .await
        .expect("slow");
    assert_eq!(*progress.lock().unwrap(), 3);
    let read = client
        .read_resource("data://greeting")
        .await
        .expect("read greeting");
    assert!(read.contents[0].as_text().is_some());
    client.ping().await.expect("ping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fastmcp_over_http_modern() {
    common::bounded(async {
        let peer =
            http_common::fastmcp(&common::python(), &common::peer_script("fastmcp_server.py"))
                .await;
        let client = tuned(Source::http(peer.url("/mcp")))
            .connect()
            .await
            .expect("connect FastMCP over HTTP");
        assert_eq!(
            client.protocol_version(),
            Some(ProtocolVersion::V2026_07_28)
        );
        exercise_fastmcp(&client).await;
        client.close().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fastmcp_over_http_forced_2025_11_25() {
    common::bounded(async {
        let peer =
            http_common::fastmcp(&common::python(), &common::peer_script("fastmcp_server.py"))
                .await;
        let client = tuned(Source::http(peer.url("/mcp")))
            .protocol(VersionChoice::Exact(ProtocolVersion::V2025_11_25))
            .connect()
            .await
            .expect("connect FastMCP over HTTP, handshake era");
        assert_eq!(
            client.protocol_version(),
            Some(ProtocolVersion::V2025_11_25)
        );
        exercise_fastmcp(&client).await;
        client.close().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_gets_a_new_session() {
    common::bounded(async {
        let js = common::everything_js();
        let peer = http_common::everything(&js, "streamableHttp").await;
        let port = peer.port;
        let client = tuned(Source::http(peer.url("/mcp")))
            .connect()
            .await
            .expect("connect");
        let out = client
            .call_tool("echo", json!({"message": "before"}))
            .await
            .expect("echo before the restart");
        assert_eq!(out.text(), "Echo: before");

        // The server restarts and forgets the session; the next request
        // (not a tools/call) renews it transparently.
        drop(peer);
        let _peer = http_common::everything_on(&js, "streamableHttp", port).await;
        let tools = client
            .list_tools()
            .await
            .expect("tools/list after the restart");
        assert!(tools.iter().any(|t| t.name == "echo"));
        let out = client
            .call_tool("echo", json!({"message": "after"}))
            .await
            .expect("echo after the restart");
        assert_eq!(out.text(), "Echo: after");
        client.close().await.expect("close");
    })
    .await;
}
