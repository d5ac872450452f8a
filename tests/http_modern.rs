//! Streamable HTTP in 2026-07-28 against a server written here: the
//! headers mirroring the body (`MCP-Protocol-Version`, `Mcp-Method`,
//! `Mcp-Name`, base64-encoded when not plain ASCII), `Mcp-Param-*` from
//! `x-mcp-header` annotations (a tool with an invalid one is dropped from
//! the list), static headers, and
//! cancellation by closing the request's stream instead of posting
//! `notifications/cancelled`.

mod common;
mod http_common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_common::fake::{self, End, Reply, Req};
use serde_json::{json, Value};
use switchboard::{CallOptions, Client, Error, ProtocolVersion, Source};

#[derive(Default)]
struct Seen {
    /// (method, headers) of every POST.
    posts: Vec<(String, HashMap<String, String>)>,
    hang_closed: Arc<AtomicBool>,
}

type Shared = Arc<Mutex<Seen>>;

fn handle(seen: &Shared, req: Req) -> Reply {
    if req.method != "POST" {
        return Reply::status(405, "text/plain", "");
    }
    let body = req.json();
    let method = body["method"].as_str().unwrap_or_default().to_owned();
    seen.lock()
        .unwrap()
        .posts
        .push((method.clone(), req.headers.clone()));
    let Some(id) = body.get("id").cloned() else {
        return Reply::status(202, "text/plain", "");
    };
    let ok = |result: Value| {
        Reply::json(
            200,
            json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(),
        )
    };
    match method.as_str() {
        "server/discover" => ok(json!({
            "supportedVersions": ["2026-07-28"],
            "capabilities": {"tools": {}},
            "resultType": "complete",
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "modern-fake", "version": "1.0.0"}}
        })),
        "tools/list" => ok(json!({"resultType": "complete", "tools": [
            {"name": "deploy", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "count": {"type": "integer", "x-mcp-header": "Count"}}}},
            {"name": "broken", "inputSchema": {"type": "object", "properties": {
                "ratio": {"type": "number", "x-mcp-header": "Ratio"}}}},
            {"name": "plain", "inputSchema": {"type": "object"}}
        ]})),
        "tools/call" => match body["params"]["name"].as_str() {
            Some("hang") => Reply::Sse {
                headers: vec![],
                chunks: vec![": working\n\n".into()],
                end: End::UntilClientCloses(seen.lock().unwrap().hang_closed.clone()),
            },
            Some(name) => ok(json!({
                "content": [{"type": "text", "text": format!("called {name}")}],
                "resultType": "complete"
            })),
            None => ok(json!({})),
        },
        _ => ok(json!({"resultType": "complete"})),
    }
}

fn last_post<'a>(seen: &'a Seen, method: &str) -> &'a HashMap<String, String> {
    &seen
        .posts
        .iter()
        .rev()
        .find(|(m, _)| m == method)
        .unwrap_or_else(|| panic!("no {method} POST"))
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modern_headers_and_cancellation_by_closing_the_stream() {
    common::bounded(async {
        let seen: Shared = Arc::default();
        let s = seen.clone();
        let port = fake::serve(Arc::new(move |req| handle(&s, req))).await;
        let url = format!("http://127.0.0.1:{port}/mcp");
        let client = Client::builder(Source::http_with_headers(
            &url,
            [("Authorization", "Bearer test-token")],
        ))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect");
        assert_eq!(
            client.protocol_version(),
            Some(ProtocolVersion::V2026_07_28)
        );

        let out = client.call_tool("plain", json!({})).await.expect("call");
        assert_eq!(out.text(), "called plain");
        let out = client.call_tool("wörld", json!({})).await.expect("call");
        assert_eq!(out.text(), "called wörld");
        {
            let s = seen.lock().unwrap();
            let discover = last_post(&s, "server/discover");
            assert_eq!(discover["mcp-method"], "server/discover");
            assert_eq!(discover["mcp-protocol-version"], "2026-07-28");
            assert_eq!(discover["authorization"], "Bearer test-token");
            assert_eq!(discover["accept"], "application/json, text/event-stream");
            let call = last_post(&s, "tools/call");
            assert_eq!(call["mcp-method"], "tools/call");
            assert_eq!(call["mcp-name"], "=?base64?d8O2cmxk?=");
            assert_eq!(call["mcp-protocol-version"], "2026-07-28");
            assert!(!call.contains_key("mcp-session-id"));
            let first_call = &s.posts.iter().find(|(m, _)| m == "tools/call").unwrap().1;
            assert_eq!(first_call["mcp-name"], "plain");
        }

        let names: Vec<String> = client
            .list_tools()
            .await
            .expect("tools/list")
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(
            names,
            ["deploy", "plain"],
            "the invalid annotation drops `broken`"
        );
        client
            .call_tool("deploy", json!({"region": "eu-west", "count": 3}))
            .await
            .expect("deploy");
        {
            let s = seen.lock().unwrap();
            let call = last_post(&s, "tools/call");
            assert_eq!(call["mcp-param-region"], "eu-west");
            assert_eq!(call["mcp-param-count"], "3");
        }

        // The caller gives up: the stream is closed, nothing is posted.
        let e = client
            .call_tool_with(
                "hang",
                json!({}),
                CallOptions::new().timeout(Duration::from_millis(300)),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        let closed = seen.lock().unwrap().hang_closed.clone();
        common::eventually(
            "the hung request's stream closed",
            Duration::from_secs(3),
            || {
                let closed = closed.clone();
                async move { closed.load(Ordering::SeqCst).then_some(()) }
            },
        )
        .await;
        let out = client.call_tool("after", json!({})).await.expect("usable");
        assert_eq!(out.text(), "called after");
        let s = seen.lock().unwrap();
        assert!(
            !s.posts.iter().any(|(m, _)| m == "notifications/cancelled"),
            "no notifications/cancelled over HTTP in 2026-07-28"
        );
        assert_eq!(s.posts.iter().filter(|(m, _)| m == "tools/call").count(), 5);
    })
    .await;
}
