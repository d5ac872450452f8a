//! The server core over Streamable HTTP on 127.0.0.1 (`Server::serve_http`),
//! driven by Switchboard's own client in both eras and by raw requests for
//! what the transport itself promises: JSON or events per request, the
//! SEP-2243 headers, status codes by error, sessions and their end,
//! resumption with `Last-Event-ID`, cancellation by closing a stream, DNS
//! rebinding protection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use switchboard::protocol::{
    CallToolResult, CreateMessageResult, ElicitRequestParams, ElicitResult, Era, Implementation,
    ProtocolVersion, Tool, VersionChoice,
};
use switchboard::server::{Registry, Server};
use switchboard::testing::demo_server;
use switchboard::{CallOptions, Client, Source};

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test exceeded its deadline")
}

/// Serves `server` on a free 127.0.0.1 port; the URL of its endpoint.
async fn serve(server: Server) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(server.serve_http(listener));
    url
}

const ERAS: [(VersionChoice, Era); 2] = [
    (VersionChoice::Auto, Era::Modern),
    (
        VersionChoice::Exact(ProtocolVersion::V2025_11_25),
        Era::Handshake,
    ),
];

#[tokio::test]
async fn the_client_does_everything_over_http_in_both_eras() {
    within(async {
        let demo = demo_server();
        let url = serve(demo.server().clone()).await;
        for (choice, era) in ERAS {
            let sampled = Arc::new(AtomicUsize::new(0));
            let s = sampled.clone();
            let client = Client::builder(Source::http(&url))
                .protocol(choice)
                .timeout(Duration::from_secs(5))
                .sampling(move |_p, _c| {
                    s.fetch_add(1, Ordering::SeqCst);
                    async { Ok(CreateMessageResult::text("m", "a summary")) }
                })
                .elicitation(|p: ElicitRequestParams, _c| async move {
                    assert!(p.message().contains("Really ship?"));
                    Ok(ElicitResult::accept(serde_json::Map::from_iter([(
                        "confirm".to_string(),
                        json!(true),
                    )])))
                })
                .roots(["file:///work/a"])
                .connect()
                .await
                .unwrap();
            assert_eq!(client.era(), Some(era));
            let names: Vec<String> = client
                .list_tools()
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect();
            assert_eq!(names[..3], ["echo", "add", "slow"], "{era:?}");
            let echo = client
                .call_tool("echo", json!({"text": "hé"}))
                .await
                .unwrap();
            assert_eq!(echo.text(), "hé");
            // Progress arrives as events on the request's own stream.
            let seen = Arc::new(Mutex::new(Vec::new()));
            let p = seen.clone();
            let slow = client
                .call_tool_with(
                    "slow",
                    json!({"steps": 3, "ms": 20}),
                    CallOptions::new().on_progress(move |n| p.lock().unwrap().push(n.progress)),
                )
                .await
                .unwrap();
            assert_eq!(slow.text(), "done after 3 steps");
            assert_eq!(*seen.lock().unwrap(), [1.0, 2.0, 3.0], "{era:?}");
            // Asks: a pushed request on the POST stream (handshake), an
            // input-required round (2026-07-28).
            let summary = client
                .call_tool("summarize", json!({"text": "t"}))
                .await
                .unwrap();
            assert_eq!(summary.text(), "a summary");
            assert_eq!(sampled.load(Ordering::SeqCst), 1);
            let confirm = client
                .call_tool("confirm", json!({"action": "ship"}))
                .await
                .unwrap();
            assert_eq!(confirm.text(), "ship: confirmed");
            let roots = client.call_tool("roots", json!({})).await.unwrap();
            assert!(roots
                .structured()
                .unwrap()
                .to_string()
                .contains("file:///work/a"));
            let hello = client.read_resource("greet://Ada").await.unwrap();
            assert_eq!(hello.contents[0].as_text(), Some("Hello, Ada!"));
            let review = client
                .get_prompt("review", json!({"code": "fn x() {}"}))
                .await
                .unwrap();
            assert!(serde_json::to_string(&review.messages)
                .unwrap()
                .contains("fn x()"));
            let unknown = client.call_tool("nope", json!({})).await.unwrap_err();
            assert_eq!(unknown.code(), Some(-32602), "{era:?}");
            // 32 calls in flight on one client.
            let calls = (0..32).map(|i| {
                let client = client.clone();
                tokio::spawn(async move {
                    let out = client
                        .call_tool("echo", json!({"text": format!("n{i}")}))
                        .await
                        .unwrap();
                    assert_eq!(out.text(), format!("n{i}"));
                })
            });
            for c in calls.collect::<Vec<_>>() {
                c.await.unwrap();
            }
            client.close().await.unwrap();
        }
    })
    .await
}

#[tokio::test]
async fn list_changes_reach_handshake_sessions_and_modern_listeners() {
    within(async {
        let demo = demo_server();
        let url = serve(demo.server().clone()).await;
        for (choice, era) in ERAS {
            let changed = Arc::new(AtomicUsize::new(0));
            let c = changed.clone();
            let client = Client::builder(Source::http(&url))
                .protocol(choice)
                .on_notification(move |n| {
                    if n.method == "notifications/tools/list_changed" {
                        c.fetch_add(1, Ordering::SeqCst);
                    }
                })
                .connect()
                .await
                .unwrap();
            client.list_tools().await.unwrap();
            // The GET stream (handshake) or the listen (2026-07-28) is up
            // once the server counts the client as connected.
            for _ in 0..100 {
                if demo.connections() > 0 && changed.load(Ordering::SeqCst) == 0 {
                    demo.notify_tools_changed();
                }
                if changed.load(Ordering::SeqCst) > 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(
                changed.load(Ordering::SeqCst) > 0,
                "{era:?}: no list_changed"
            );
            client.close().await.unwrap();
        }
    })
    .await
}

/// A plain HTTP client (reqwest is built without a default TLS provider).
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A raw POST: the status, the content type and the body.
async fn post(url: &str, headers: &[(&str, &str)], body: Value) -> (u16, String, String) {
    let http = http();
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.body(body.to_string()).send().await.unwrap();
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, res.text().await.unwrap())
}

fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

const MODERN: (&str, &str) = ("mcp-protocol-version", "2026-07-28");

#[tokio::test]
async fn modern_requests_are_checked_against_their_headers_and_statuses_follow_codes() {
    within(async {
        let url = serve(demo_server().server().clone()).await;
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "x"}, "_meta": modern_meta()}});
        let (status, ctype, body) = post(
            &url,
            &[MODERN, ("mcp-method", "tools/call"), ("mcp-name", "echo")],
            call.clone(),
        )
        .await;
        assert_eq!((status, ctype.as_str()), (200, "application/json"), "{body}");
        assert!(body.contains(r#""text":"x""#), "{body}");
        for bad in [
            vec![MODERN, ("mcp-name", "echo")],
            vec![MODERN, ("mcp-method", "tools/list"), ("mcp-name", "echo")],
            vec![MODERN, ("mcp-method", "tools/call")],
            vec![MODERN, ("mcp-method", "tools/call"), ("mcp-name", "add")],
            vec![("mcp-method", "tools/call"), ("mcp-name", "echo")],
        ] {
            let (status, _, body) = post(&url, &bad, call.clone()).await;
            assert_eq!(status, 400, "{bad:?}: {body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["error"]["code"], -32020, "{bad:?}: {body}");
            assert_eq!(v["id"], 1, "the error keeps the request's id");
        }
        // An unknown method is 404; a removed one (ping) too; missing _meta 400.
        for (method, params, expected) in [
            ("no/such", json!({"_meta": modern_meta()}), (404, -32601)),
            ("ping", json!({"_meta": modern_meta()}), (404, -32601)),
            ("tools/list", json!({}), (400, -32602)),
        ] {
            let (status, _, body) = post(
                &url,
                &[MODERN, ("mcp-method", method)],
                json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}),
            )
            .await;
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!((status, v["error"]["code"].as_i64().unwrap()), (expected.0, expected.1 as i64), "{method}: {body}");
        }
        // Progress first: an event stream ending with the reply.
        let (status, ctype, body) = post(
            &url,
            &[MODERN, ("mcp-method", "tools/call"), ("mcp-name", "slow")],
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
                "name": "slow", "arguments": {"steps": 2, "ms": 10},
                "_meta": {"progressToken": "p", "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                          "io.modelcontextprotocol/clientCapabilities": {}}}}),
        )
        .await;
        assert_eq!((status, ctype.as_str()), (200, "text/event-stream"));
        let data: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
        assert_eq!(data.len(), 3, "{body}");
        assert!(data[0].contains("notifications/progress") && data[2].contains("done after 2 steps"));
        assert!(!body.contains("id: "), "2026-07-28 streams carry no event ids: {body}");
        // Not JSON, a batch, the wrong media types.
        let http = http();
        let res = http.post(&url).header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream").body("{nope").send().await.unwrap();
        assert_eq!(res.status(), 400);
        assert!(res.text().await.unwrap().contains("-32700"));
        let (status, _, _) = post(&url, &[MODERN], json!([call])).await;
        assert_eq!(status, 400);
        let res = http.post(&url).header("content-type", "text/plain")
            .header("accept", "application/json, text/event-stream").body("{}").send().await.unwrap();
        assert_eq!(res.status(), 415);
        let res = http.post(&url).header("content-type", "application/json")
            .header("accept", "application/json").body(call.to_string()).send().await.unwrap();
        assert_eq!(res.status(), 406);
    })
    .await
}

#[tokio::test]
async fn loopback_servers_refuse_other_hosts_and_origins() {
    within(async {
        let url = serve(demo_server().server().clone()).await;
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
        let (status, _, body) = post(&url, &[("host", "evil.example.com")], init.clone()).await;
        assert_eq!(status, 403, "{body}");
        let (status, _, _) = post(&url, &[("origin", "http://evil.example.com")], init.clone()).await;
        assert_eq!(status, 403);
        let (status, _, _) = post(&url, &[("origin", "http://localhost:3000")], init).await;
        assert_eq!(status, 200);
    })
    .await
}

/// A server with a tool that ends its stream before answering, and one
/// that waits until cancelled, counting how many were dropped.
fn stream_server(dropped: Arc<AtomicUsize>) -> Server {
    let tool = |name: &str| Tool {
        name: name.into(),
        input_schema: json!({"type": "object"}).as_object().cloned().unwrap(),
        ..Default::default()
    };
    struct Count(Arc<AtomicUsize>);
    impl Drop for Count {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    Server::new(
        Registry::new(Implementation::new("streams", "1.0.0"))
            .tool(tool("reconnect"), |cx, _| async move {
                cx.log(
                    switchboard::protocol::LoggingLevel::Info,
                    "before the break",
                );
                cx.end_stream();
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(CallToolResult::from_text("after the break"))
            })
            .tool(tool("hang"), move |cx, _| {
                let guard = Count(dropped.clone());
                async move {
                    cx.log(switchboard::protocol::LoggingLevel::Info, "started");
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    drop(guard);
                    Ok(CallToolResult::from_text("never"))
                }
            }),
    )
}

async fn initialize(url: &str) -> String {
    let http = http();
    let res = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let sid = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    assert_eq!(sid.len(), 32, "128 random bits: {sid}");
    let (status, _, _) = post(
        url,
        &[("mcp-session-id", &sid)],
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);
    sid
}

#[tokio::test]
async fn a_stream_ended_early_resumes_with_last_event_id_and_delete_ends_the_session() {
    within(async {
        let url = serve(stream_server(Arc::new(AtomicUsize::new(0)))).await;
        let sid = initialize(&url).await;
        let (status, ctype, body) = post(&url, &[("mcp-session-id", &sid)],
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "reconnect", "arguments": {}}})).await;
        assert_eq!((status, ctype.as_str()), (200, "text/event-stream"));
        // The priming event (id, retry, empty data), the log, then the end.
        let priming: Vec<&str> = body.split("\n\n").next().unwrap().lines().collect();
        assert!(priming.len() == 3 && priming[0].starts_with("id: ") && priming[0].ends_with(".0"), "{body}");
        assert_eq!(priming[1..], ["retry: 1000", "data: "], "{body}");
        assert!(body.contains("before the break") && !body.contains("after the break"), "{body}");
        let last = body.lines().filter_map(|l| l.strip_prefix("id: ")).next_back().unwrap().to_owned();
        let http = http();
        let res = http.get(&url).header("accept", "text/event-stream")
            .header("mcp-session-id", &sid).header("last-event-id", &last).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let rest = res.text().await.unwrap();
        assert!(rest.contains("after the break") && !rest.contains("before the break"), "{rest}");
        // DELETE ends the session; it is unknown afterwards.
        let res = http.delete(&url).header("mcp-session-id", &sid).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let (status, _, _) = post(&url, &[("mcp-session-id", &sid)],
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})).await;
        assert_eq!(status, 404);
    })
    .await
}

#[tokio::test]
async fn closing_a_modern_stream_cancels_the_handler() {
    within(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        let url = serve(stream_server(dropped.clone())).await;
        let http = http();
        let mut res = http
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "hang")
            .body(
                json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                "name": "hang", "arguments": {},
                "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                          "io.modelcontextprotocol/clientCapabilities": {},
                          "io.modelcontextprotocol/logLevel": "info"}}})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        let first = res.chunk().await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&first).contains("started"));
        assert_eq!(dropped.load(Ordering::SeqCst), 0);
        drop(res);
        for _ in 0..100 {
            if dropped.load(Ordering::SeqCst) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the handler was not dropped"
        );
    })
    .await
}

/// A server whose `roots` tool asks the client for its roots, signing
/// `requestState` with `key`.
fn roots_server(key: &[u8]) -> Server {
    let tool = Tool {
        name: "roots".into(),
        input_schema: json!({"type": "object"}).as_object().cloned().unwrap(),
        ..Default::default()
    };
    let registry =
        Registry::new(Implementation::new("replica", "1.0.0")).tool(tool, |cx, _| async move {
            let roots = cx.list_roots().await?;
            Ok(CallToolResult::from_text(format!(
                "{} roots",
                roots.roots.len()
            )))
        });
    Server::builder(registry).state_key(key.to_vec()).build()
}

async fn call_roots(url: &str, extra: Value) -> Value {
    let mut params = json!({"name": "roots", "arguments": {}, "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"roots": {}}}});
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (_, _, body) = post(
        url,
        &[MODERN, ("mcp-method", "tools/call"), ("mcp-name", "roots")],
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}),
    )
    .await;
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn an_input_required_retry_may_land_on_any_replica_with_the_key() {
    within(async {
        let a = serve(roots_server(b"one key for every replica")).await;
        let b = serve(roots_server(b"one key for every replica")).await;
        let stranger = serve(roots_server(b"another key")).await;
        let first = call_roots(&a, json!({})).await;
        assert_eq!(first["result"]["resultType"], "input_required", "{first}");
        let state = first["result"]["requestState"].as_str().unwrap().to_owned();
        let (key, ask) = first["result"]["inputRequests"]
            .as_object()
            .unwrap()
            .iter()
            .next()
            .unwrap();
        assert_eq!(ask["method"], "roots/list");
        let retry = json!({"requestState": state, "inputResponses": {
            key.clone(): {"roots": [{"uri": "file:///a"}, {"uri": "file:///b"}]}}});
        let done = call_roots(&b, retry.clone()).await;
        assert_eq!(done["result"]["content"][0]["text"], "2 roots", "{done}");
        let refused = call_roots(&stranger, retry).await;
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
        assert!(refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requestState"));
    })
    .await
}

#[tokio::test]
async fn a_version_asked_by_name_does_not_decide_the_era_of_later_auto_connections() {
    within(async {
        let tool = Tool {
            name: "era".into(),
            input_schema: json!({"type": "object"}).as_object().cloned().unwrap(),
            ..Default::default()
        };
        let registry = Registry::new(Implementation::new("eras", "1.0.0"))
            .tool(tool, |cx, _| async move {
                Ok(CallToolResult::from_text(format!("{:?}", cx.era())))
            });
        let url = serve(Server::new(registry)).await;
        let era_seen = |version: VersionChoice| {
            let url = url.clone();
            async move {
                let c = Client::builder(Source::http(&url))
                    .protocol(version)
                    .connect()
                    .await
                    .unwrap();
                let seen = c.call_tool("era", json!({})).await.unwrap().text();
                c.close().await.unwrap();
                seen
            }
        };
        let handshake = VersionChoice::Exact(ProtocolVersion::V2025_11_25);
        assert_eq!(era_seen(handshake).await, "Handshake");
        // The server speaks both: an auto connection still probes and
        // gets 2026-07-28.
        assert_eq!(era_seen(VersionChoice::Auto).await, "Modern");
    })
    .await
}

#[tokio::test]
async fn a_cancelled_request_ends_its_stream_and_its_handler() {
    within(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        let url = serve(stream_server(dropped.clone())).await;
        let sid = initialize(&url).await;
        let http = http();
        let mut res = http
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &sid)
            .body(
                json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                "params": {"name": "hang", "arguments": {}}})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        let first = res.chunk().await.unwrap().unwrap();
        assert!(
            String::from_utf8_lossy(&first).contains("id: "),
            "the priming event"
        );
        let (status, _, _) = post(
            &url,
            &[("mcp-session-id", &sid)],
            json!({"jsonrpc": "2.0",
            "method": "notifications/cancelled", "params": {"requestId": 9, "reason": "bored"}}),
        )
        .await;
        assert_eq!(status, 202);
        // The stream ends (no reply will come) and the handler is dropped.
        let rest = tokio::time::timeout(Duration::from_secs(5), async {
            let mut rest = Vec::new();
            while let Some(chunk) = res.chunk().await.unwrap() {
                rest.extend_from_slice(&chunk);
            }
            rest
        })
        .await
        .expect("the cancelled request's stream stayed open");
        assert!(!String::from_utf8_lossy(&rest).contains("never"));
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
    })
    .await
}
