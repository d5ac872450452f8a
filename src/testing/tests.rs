//! Driving the server over a raw channel pair, frame by frame, as a client
//! of either era would.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::*;
use crate::protocol::codes;
use crate::transport::{InProcessServer, ServerEnd};

const WAIT: Duration = Duration::from_secs(5);

/// A raw client: sends JSON, reads frames, keeps notifications aside.
struct Peer {
    tx: mpsc::Sender<Bytes>,
    rx: mpsc::Receiver<Bytes>,
    notes: Vec<Value>,
    _task: JoinHandle<()>,
}

impl Peer {
    fn connect(server: &TestServer) -> Peer {
        let (tx, incoming) = mpsc::channel(64);
        let (outgoing, rx) = mpsc::channel(64);
        let task = tokio::spawn(server.serve(ServerEnd { incoming, outgoing }));
        Peer {
            tx,
            rx,
            notes: Vec::new(),
            _task: task,
        }
    }

    async fn send(&self, message: Value) {
        self.tx
            .send(Bytes::from(message.to_string()))
            .await
            .expect("server gone");
    }

    /// The next frame, `None` when the server closed the connection.
    async fn frame(&mut self) -> Option<Bytes> {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("no frame within the deadline")
    }

    async fn next(&mut self) -> Value {
        let frame = self.frame().await.expect("connection closed");
        serde_json::from_slice(&frame).expect("frame is not JSON")
    }

    /// Asserts nothing arrives for a while.
    async fn silence(&mut self, how_long: Duration) {
        if let Ok(Some(f)) = tokio::time::timeout(how_long, self.rx.recv()).await {
            panic!("unexpected frame {}", String::from_utf8_lossy(&f));
        }
    }

    /// Reads until the reply to `id`, keeping notifications in `notes`.
    async fn reply(&mut self, id: Value) -> Value {
        loop {
            let msg = self.next().await;
            if msg.get("method").is_some() {
                assert!(msg.get("id").is_none(), "unexpected request {msg}");
                self.notes.push(msg);
            } else {
                assert_eq!(msg["id"], id, "reply to another id: {msg}");
                return msg;
            }
        }
    }

    async fn call(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        self.reply(json!(id)).await
    }

    async fn result(&mut self, id: i64, method: &str, params: Value) -> Value {
        let reply = self.call(id, method, params).await;
        assert!(reply.get("error").is_none(), "{method} failed: {reply}");
        reply["result"].clone()
    }

    async fn error_code(&mut self, id: i64, method: &str, params: Value) -> i64 {
        let reply = self.call(id, method, params).await;
        reply["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("{method} did not fail: {reply}"))
    }

    async fn handshake(&mut self, capabilities: Value) -> Value {
        let result = self
            .result(
                0,
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": capabilities,
                       "clientInfo": {"name": "t", "version": "0"}}),
            )
            .await;
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        result
    }
}

/// Modern params: `params` plus the required `_meta`.
fn modern(mut params: Value, capabilities: Value, extra_meta: Value) -> Value {
    let mut meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
    });
    if let (Some(m), Some(extra)) = (meta.as_object_mut(), extra_meta.as_object()) {
        m.extend(extra.clone());
    }
    params["_meta"] = meta;
    params
}

fn plain(params: Value) -> Value {
    modern(params, json!({}), json!({}))
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or("")
}

// ---- lifecycle -----------------------------------------------------------

#[tokio::test]
async fn discover_answers_with_the_modern_shape() {
    let mut p = Peer::connect(&demo_server());
    let r = p.result(1, "server/discover", plain(json!({}))).await;
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["supportedVersions"], json!(["2026-07-28"]));
    assert_eq!(r["cacheScope"], "public");
    assert!(r["ttlMs"].as_u64().is_some());
    assert!(r["capabilities"]["tools"].is_object());
    assert!(r["instructions"].is_string());
    assert_eq!(
        r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "switchboard-demo"
    );
}

#[tokio::test]
async fn modern_requests_need_meta_and_a_known_version() {
    let mut p = Peer::connect(&demo_server());
    let code = p.error_code(1, "tools/list", json!({})).await;
    assert_eq!(code, codes::INVALID_PARAMS);
    let params = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}});
    assert_eq!(
        p.error_code(2, "tools/list", params).await,
        codes::INVALID_PARAMS
    );
    let mut params = plain(json!({}));
    params["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let reply = p.call(3, "server/discover", params).await;
    assert_eq!(reply["error"]["code"], codes::UNSUPPORTED_PROTOCOL_VERSION);
    assert_eq!(reply["error"]["data"]["supported"], json!(["2026-07-28"]));
    assert_eq!(reply["error"]["data"]["requested"], "2099-01-01");
    assert_eq!(
        p.error_code(4, "no/such", plain(json!({}))).await,
        codes::METHOD_NOT_FOUND
    );
}

#[tokio::test]
async fn handshake_negotiates_and_requires_initialized() {
    let server = TestServer::builder("legacy")
        .eras(Eras::HandshakeOnly)
        .tool(ToolDef::new("t"), |_c, _a| async { Ok(json!("ok")) })
        .build();
    let mut p = Peer::connect(&server);
    assert_eq!(
        p.error_code(1, "server/discover", plain(json!({}))).await,
        codes::METHOD_NOT_FOUND
    );
    assert_eq!(
        p.error_code(2, "tools/list", json!({})).await,
        codes::INVALID_REQUEST
    );
    assert_eq!(p.result(3, "ping", json!({})).await, json!({}));
    let r = p
        .result(
            4,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}}),
        )
        .await;
    assert_eq!(r["protocolVersion"], "2025-06-18");
    assert_eq!(r["serverInfo"]["name"], "legacy");
    assert!(r.get("resultType").is_none());
    // Not yet `initialized`.
    assert_eq!(
        p.error_code(5, "tools/list", json!({})).await,
        codes::INVALID_REQUEST
    );
    p.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    let tools = p.result(6, "tools/list", json!({})).await;
    assert_eq!(tools["tools"][0]["name"], "t");
    assert!(tools.get("ttlMs").is_none());

    let mut q = Peer::connect(&server);
    let r = q
        .result(1, "initialize", json!({"protocolVersion": "1999-01-01"}))
        .await;
    assert_eq!(r["protocolVersion"], "2025-11-25");
}

#[tokio::test]
async fn modern_only_refuses_initialize_listing_its_versions() {
    let server = TestServer::builder("new").eras(Eras::ModernOnly).build();
    let mut p = Peer::connect(&server);
    let reply = p
        .call(
            1,
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}}),
        )
        .await;
    assert_eq!(reply["error"]["code"], codes::UNSUPPORTED_PROTOCOL_VERSION);
    assert_eq!(reply["error"]["data"]["supported"], json!(["2026-07-28"]));
}

// ---- lists -----------------------------------------------------------------

#[tokio::test]
async fn lists_paginate_in_both_eras() {
    let mut builder = TestServer::builder("many").page_size(2);
    for i in 0..5 {
        builder = builder.tool(ToolDef::new(format!("t{i}")), |_c, _a| async {
            Ok(json!("x"))
        });
    }
    let server = builder.build();

    let mut p = Peer::connect(&server);
    let mut names = Vec::new();
    let mut cursor = Value::Null;
    for id in 1.. {
        let mut params = plain(json!({}));
        if !cursor.is_null() {
            params["cursor"] = cursor.clone();
        }
        let page = p.result(id, "tools/list", params).await;
        assert_eq!(page["resultType"], "complete");
        assert_eq!(page["cacheScope"], "public");
        names.extend(
            page["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].clone()),
        );
        cursor = page.get("nextCursor").cloned().unwrap_or(Value::Null);
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(names, vec!["t0", "t1", "t2", "t3", "t4"]);
    let bad = plain(json!({"cursor": "not-a-cursor"}));
    assert_eq!(
        p.error_code(99, "tools/list", bad).await,
        codes::INVALID_PARAMS
    );

    let mut q = Peer::connect(&server);
    q.handshake(json!({})).await;
    let page = q.result(1, "tools/list", json!({})).await;
    assert_eq!(page["tools"].as_array().unwrap().len(), 2);
    let next = q
        .result(2, "tools/list", json!({"cursor": page["nextCursor"]}))
        .await;
    assert_eq!(next["tools"][0]["name"], "t2");
}

#[tokio::test]
async fn resources_templates_prompts_and_completion() {
    let mut p = Peer::connect(&demo_server());
    let text = p
        .result(1, "resources/read", plain(json!({"uri": "config://app"})))
        .await;
    assert!(text["contents"][0]["text"]
        .as_str()
        .unwrap()
        .contains("demo"));
    assert!(text["ttlMs"].is_u64());
    let blob = p
        .result(
            2,
            "resources/read",
            plain(json!({"uri": "data://logo.png"})),
        )
        .await;
    assert!(blob["contents"][0]["blob"]
        .as_str()
        .unwrap()
        .starts_with("iVBORw0KGgo"));
    assert_eq!(blob["contents"][0]["mimeType"], "image/png");
    let greet = p
        .result(
            3,
            "resources/read",
            plain(json!({"uri": "greet://Ada%20L"})),
        )
        .await;
    assert_eq!(greet["contents"][0]["text"], "Hello, Ada L!");
    assert_eq!(greet["contents"][0]["uri"], "greet://Ada%20L");
    let missing = plain(json!({"uri": "nope://x"}));
    assert_eq!(
        p.error_code(4, "resources/read", missing).await,
        codes::INVALID_PARAMS
    );
    let templates = p
        .result(5, "resources/templates/list", plain(json!({})))
        .await;
    assert_eq!(
        templates["resourceTemplates"][0]["uriTemplate"],
        "greet://{name}"
    );

    let prompt = p
        .result(
            6,
            "prompts/get",
            plain(
                json!({"name": "review", "arguments": {"code": "fn x() {}", "language": "rust"}}),
            ),
        )
        .await;
    assert!(prompt["messages"][0]["content"]["text"]
        .as_str()
        .unwrap()
        .contains("review this rust"));
    let missing_arg = plain(json!({"name": "review", "arguments": {}}));
    assert_eq!(
        p.error_code(7, "prompts/get", missing_arg).await,
        codes::INVALID_PARAMS
    );
    let done = p
        .result(
            8,
            "completion/complete",
            plain(json!({"ref": {"type": "ref/prompt", "name": "review"},
                         "argument": {"name": "language", "value": "py"}})),
        )
        .await;
    assert_eq!(done["completion"]["values"], json!(["python"]));
    let done = p
        .result(
            9,
            "completion/complete",
            plain(
                json!({"ref": {"type": "ref/resource", "uri": "greet://{name}"},
                         "argument": {"name": "name", "value": "A"}}),
            ),
        )
        .await;
    assert_eq!(done["completion"]["values"], json!(["Ada", "Alan"]));

    let mut q = Peer::connect(&demo_server());
    q.handshake(json!({})).await;
    assert_eq!(
        q.error_code(1, "resources/read", json!({"uri": "nope://x"}))
            .await,
        codes::RESOURCE_NOT_FOUND_LEGACY
    );
}

// ---- tools -------------------------------------------------------------------

#[tokio::test]
async fn tool_results_errors_and_unknown_tools() {
    let server = TestServer::builder("t")
        .tool(ToolDef::new("fail"), |_c, _a| async {
            Err("it broke".into())
        })
        .build();
    let mut p = Peer::connect(&server);
    let r = p
        .result(1, "tools/call", plain(json!({"name": "fail"})))
        .await;
    assert_eq!(r["isError"], true);
    assert_eq!(text_of(&r), "it broke");
    assert_eq!(
        p.error_code(2, "tools/call", plain(json!({"name": "nope"})))
            .await,
        codes::INVALID_PARAMS
    );
    // No resources registered: the capability is not advertised.
    assert_eq!(
        p.error_code(3, "resources/list", plain(json!({}))).await,
        codes::METHOD_NOT_FOUND
    );

    let mut d = Peer::connect(&demo_server());
    let add = d
        .result(
            1,
            "tools/call",
            plain(json!({"name": "add", "arguments": {"a": 2, "b": 3}})),
        )
        .await;
    assert_eq!(add["structuredContent"], json!({"sum": 5.0}));
    assert_eq!(add["resultType"], "complete");
}

#[tokio::test]
async fn modern_call_reports_progress_and_logs_at_the_requested_level() {
    let mut p = Peer::connect(&demo_server());
    let meta = json!({"progressToken": "tok", "io.modelcontextprotocol/logLevel": "info"});
    let r = p
        .result(
            1,
            "tools/call",
            modern(
                json!({"name": "slow", "arguments": {"steps": 2, "ms": 1}}),
                json!({}),
                meta,
            ),
        )
        .await;
    assert_eq!(text_of(&r), "done after 2 steps");
    let progress: Vec<_> = p
        .notes
        .iter()
        .filter(|n| n["method"] == "notifications/progress")
        .map(|n| n["params"]["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(progress, vec![1.0, 2.0]);
    assert!(p
        .notes
        .iter()
        .all(|n| n["params"]["progressToken"] == "tok"));

    p.notes.clear();
    let meta = json!({"io.modelcontextprotocol/logLevel": "info"});
    p.result(
        2,
        "tools/call",
        modern(json!({"name": "log"}), json!({}), meta),
    )
    .await;
    let levels: Vec<_> = p
        .notes
        .iter()
        .map(|n| n["params"]["level"].clone())
        .collect();
    assert_eq!(levels, vec!["info", "warning"]);

    // Without logLevel in _meta: no log messages at all.
    p.notes.clear();
    p.result(3, "tools/call", plain(json!({"name": "log"})))
        .await;
    assert!(p.notes.is_empty());
}

#[tokio::test]
async fn handshake_call_honours_set_level_and_progress() {
    let mut p = Peer::connect(&demo_server());
    p.handshake(json!({})).await;
    p.result(1, "logging/setLevel", json!({"level": "warning"}))
        .await;
    p.result(
        2,
        "tools/call",
        json!({"name": "log", "_meta": {"progressToken": 7}}),
    )
    .await;
    let levels: Vec<_> = p
        .notes
        .iter()
        .map(|n| n["params"]["level"].clone())
        .collect();
    assert_eq!(levels, vec!["warning"]);
    p.notes.clear();
    p.result(
        3,
        "tools/call",
        json!({"name": "slow", "arguments": {"steps": 1, "ms": 1}, "_meta": {"progressToken": 7}}),
    )
    .await;
    assert_eq!(p.notes[0]["method"], "notifications/progress");
    assert_eq!(p.notes[0]["params"]["progressToken"], 7);
    assert_eq!(
        p.error_code(4, "logging/setLevel", json!({"level": "loud"}))
            .await,
        codes::INVALID_PARAMS
    );
}

// ---- asks --------------------------------------------------------------------

#[tokio::test]
async fn modern_input_required_round_trip() {
    let mut p = Peer::connect(&demo_server());
    let caps = json!({"sampling": {}});
    let params = json!({"name": "summarize", "arguments": {"text": "long story"}});
    let first = p
        .result(
            1,
            "tools/call",
            modern(params.clone(), caps.clone(), json!({})),
        )
        .await;
    assert_eq!(first["resultType"], "input_required");
    let ask = &first["inputRequests"]["sample-0"];
    assert_eq!(ask["method"], "sampling/createMessage");
    assert!(ask["params"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap()
        .contains("long story"));
    let state = first["requestState"].clone();
    assert!(state.is_string());

    let mut retry = params.clone();
    retry["inputResponses"] = json!({"sample-0": {
        "role": "assistant", "content": {"type": "text", "text": "A story."}, "model": "m"}});
    retry["requestState"] = state;
    let done = p
        .result(
            2,
            "tools/call",
            modern(retry.clone(), caps.clone(), json!({})),
        )
        .await;
    assert_eq!(done["resultType"], "complete");
    assert_eq!(text_of(&done), "A story.");

    retry["requestState"] = json!("forged");
    assert_eq!(
        p.error_code(3, "tools/call", modern(retry, caps, json!({})))
            .await,
        codes::INVALID_PARAMS
    );

    // Without the sampling capability: -32021 naming it.
    let reply = p
        .call(4, "tools/call", modern(params, json!({}), json!({})))
        .await;
    assert_eq!(
        reply["error"]["code"],
        codes::MISSING_REQUIRED_CLIENT_CAPABILITY
    );
    assert!(reply["error"]["data"]["requiredCapabilities"]["sampling"].is_object());
}

#[tokio::test]
async fn modern_rounds_accumulate_answers_in_request_state() {
    let server = TestServer::builder("two-asks")
        .tool(ToolDef::new("both"), |ctx, _a| async move {
            let roots = ctx.list_roots().await?;
            let answer = ctx.elicit(json!({"message": "ok?"})).await?;
            Ok(json!(format!(
                "{} roots, {}",
                roots["roots"].as_array().map_or(0, Vec::len),
                answer["action"].as_str().unwrap_or("?")
            )))
        })
        .build();
    let mut p = Peer::connect(&server);
    let caps = json!({"roots": {}, "elicitation": {}});
    let call = |extra: Value| {
        let mut params = json!({"name": "both"});
        if let (Some(o), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        modern(params, caps.clone(), json!({}))
    };
    let r1 = p.result(1, "tools/call", call(json!({}))).await;
    assert!(r1["inputRequests"]["roots-0"].is_object());
    let r2 = p
        .result(
            2,
            "tools/call",
            call(
                json!({"inputResponses": {"roots-0": {"roots": [{"uri": "file:///a"}]}},
                        "requestState": r1["requestState"]}),
            ),
        )
        .await;
    assert_eq!(
        r2["inputRequests"]["elicit-1"]["method"],
        "elicitation/create"
    );
    let r3 = p
        .result(
            3,
            "tools/call",
            call(
                json!({"inputResponses": {"elicit-1": {"action": "accept", "content": {}}},
                        "requestState": r2["requestState"]}),
            ),
        )
        .await;
    assert_eq!(text_of(&r3), "1 roots, accept");
}

#[tokio::test]
async fn handshake_sampling_is_a_server_request_on_the_same_connection() {
    let mut p = Peer::connect(&demo_server());
    p.handshake(json!({"sampling": {}})).await;
    p.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                  "params": {"name": "summarize", "arguments": {"text": "abc"}}}))
        .await;
    let ask = p.next().await;
    assert_eq!(ask["method"], "sampling/createMessage");
    assert_eq!(ask["id"], "srv-1");
    // The connection keeps serving while the tool waits.
    assert_eq!(p.result(2, "ping", json!({})).await, json!({}));
    p.send(json!({"jsonrpc": "2.0", "id": "srv-1", "result": {
        "role": "assistant", "content": {"type": "text", "text": "Short."}, "model": "m"}}))
        .await;
    let done = p.reply(json!(1)).await;
    assert_eq!(text_of(&done["result"]), "Short.");

    // A refusal from the client becomes an isError result.
    p.send(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                  "params": {"name": "summarize", "arguments": {"text": "abc"}}}))
        .await;
    let ask = p.next().await;
    p.send(json!({"jsonrpc": "2.0", "id": ask["id"], "error": {"code": -1, "message": "no"}}))
        .await;
    let refused = p.reply(json!(3)).await;
    assert_eq!(refused["result"]["isError"], true);

    // Without the capability the server never asks.
    let mut q = Peer::connect(&demo_server());
    q.handshake(json!({})).await;
    let r = q
        .result(
            1,
            "tools/call",
            json!({"name": "summarize", "arguments": {"text": "abc"}}),
        )
        .await;
    assert_eq!(r["isError"], true);
    assert!(text_of(&r).contains("sampling"));
}

// ---- cancellation and subscriptions ---------------------------------------

#[tokio::test]
async fn cancelled_calls_never_reply() {
    for handshake in [false, true] {
        let mut p = Peer::connect(&demo_server());
        let params = json!({"name": "slow", "arguments": {"steps": 1, "ms": 60_000}});
        let params = if handshake {
            p.handshake(json!({})).await;
            params
        } else {
            plain(params)
        };
        p.send(json!({"jsonrpc": "2.0", "id": "c1", "method": "tools/call", "params": params}))
            .await;
        p.send(
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                      "params": {"requestId": "c1", "reason": "bored"}}),
        )
        .await;
        p.silence(Duration::from_millis(200)).await;
        // Still serving: ping in the handshake era, a list in 2026-07-28
        // (which removed ping).
        if handshake {
            p.result(2, "ping", json!({})).await;
        } else {
            p.result(2, "tools/list", plain(json!({}))).await;
        }
    }
}

#[tokio::test]
async fn modern_listen_acknowledges_delivers_and_ends_on_cancel() {
    let server = demo_server();
    let mut p = Peer::connect(&server);
    let params = plain(json!({"notifications": {
        "toolsListChanged": true, "resourceSubscriptions": ["config://app"]}}));
    p.send(json!({"jsonrpc": "2.0", "id": 9, "method": "subscriptions/listen", "params": params}))
        .await;
    let ack = p.next().await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        9
    );
    assert_eq!(ack["params"]["notifications"]["toolsListChanged"], true);
    assert!(ack["params"]["notifications"]
        .get("promptsListChanged")
        .is_none());

    server.notify_tools_changed();
    server.notify_prompts_changed(); // not asked for
    server.notify_resource_updated("config://app");
    let n = p.next().await;
    assert_eq!(n["method"], "notifications/tools/list_changed");
    assert_eq!(
        n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        9
    );
    let n = p.next().await;
    assert_eq!(n["method"], "notifications/resources/updated");
    assert_eq!(n["params"]["uri"], "config://app");

    p.send(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                  "params": {"requestId": 9}}),
    )
    .await;
    // The cancel has been processed once a later request is answered.
    p.result(1, "tools/list", plain(json!({}))).await;
    server.notify_tools_changed();
    p.silence(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn handshake_clients_get_list_changes_and_subscribed_updates() {
    let server = demo_server();
    let mut p = Peer::connect(&server);
    p.handshake(json!({})).await;
    p.result(1, "resources/subscribe", json!({"uri": "config://app"}))
        .await;
    server.notify_resource_updated("data://logo.png"); // not subscribed
    server.notify_resource_updated("config://app");
    server.notify_tools_changed();
    let n = p.next().await;
    assert_eq!(n["method"], "notifications/resources/updated");
    assert_eq!(n["params"]["uri"], "config://app");
    assert_eq!(p.next().await["method"], "notifications/tools/list_changed");
    assert_eq!(server.connections(), 1);
}

// ---- faults --------------------------------------------------------------------

fn faulty(fault: Fault) -> TestServer {
    TestServer::builder("faulty")
        .tool(ToolDef::new("t"), |_c, _a| async { Ok(json!("fine")) })
        .tool_fault("t", fault)
        .build()
}

#[tokio::test]
async fn fault_hang_never_replies_but_the_connection_lives() {
    let mut p = Peer::connect(&faulty(Fault::Hang));
    p.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                  "params": plain(json!({"name": "t"}))}))
        .await;
    p.silence(Duration::from_millis(100)).await;
    p.result(2, "tools/list", plain(json!({}))).await;
}

#[tokio::test]
async fn fault_close_connection_makes_the_server_vanish() {
    let mut p = Peer::connect(&faulty(Fault::CloseConnection));
    p.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                  "params": plain(json!({"name": "t"}))}))
        .await;
    assert!(p.frame().await.is_none());
}

#[tokio::test]
async fn fault_garbage_sends_one_non_json_frame() {
    let mut p = Peer::connect(&faulty(Fault::Garbage));
    p.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                  "params": plain(json!({"name": "t"}))}))
        .await;
    let frame = p.frame().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&frame).is_err());
    p.silence(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn fault_wrong_id_answers_someone_else() {
    let mut p = Peer::connect(&faulty(Fault::WrongId));
    p.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                  "params": plain(json!({"name": "t"}))}))
        .await;
    let reply = p.next().await;
    assert_ne!(reply["id"], 1);
    assert_eq!(text_of(&reply["result"]), "fine");
}

#[tokio::test]
async fn fault_oversized_pads_a_valid_result() {
    let mut p = Peer::connect(&faulty(Fault::Oversized(100_000)));
    p.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                  "params": plain(json!({"name": "t"}))}))
        .await;
    let frame = p.frame().await.unwrap();
    assert!(
        frame.len() >= 100_000 && frame.len() < 100_100,
        "{}",
        frame.len()
    );
    let reply: Value = serde_json::from_slice(&frame).unwrap();
    assert_eq!(reply["id"], 1);
    assert_eq!(text_of(&reply["result"]), "fine");
}

#[tokio::test]
async fn fault_delay_and_limited_faults() {
    let mut p = Peer::connect(&faulty(Fault::Delay(Duration::from_millis(150))));
    let start = Instant::now();
    p.result(1, "tools/call", plain(json!({"name": "t"}))).await;
    assert!(start.elapsed() >= Duration::from_millis(150));

    let server = TestServer::builder("once")
        .tool(ToolDef::new("t"), |_c, _a| async { Ok(json!("fine")) })
        .tool_fault_times("t", Fault::CloseConnection, 1)
        .method_fault("server/discover", Fault::Hang)
        .build();
    let mut p = Peer::connect(&server);
    p.send(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                  "params": plain(json!({"name": "t"}))}))
        .await;
    assert!(p.frame().await.is_none());
    let mut q = Peer::connect(&server);
    let r = q.result(1, "tools/call", plain(json!({"name": "t"}))).await;
    assert_eq!(text_of(&r), "fine");
    q.send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "server/discover",
                  "params": plain(json!({}))}),
    )
    .await;
    q.silence(Duration::from_millis(100)).await;
}

// ---- framing -------------------------------------------------------------------

#[tokio::test]
async fn malformed_frames_get_parse_errors() {
    let mut p = Peer::connect(&demo_server());
    p.tx.send(Bytes::from_static(b"{not json")).await.unwrap();
    let reply = p.next().await;
    assert_eq!(reply["error"]["code"], codes::PARSE_ERROR);
    assert_eq!(reply["id"], Value::Null);
}

#[tokio::test]
async fn serves_newline_delimited_json_over_a_byte_stream() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (client, server_io) = tokio::io::duplex(1 << 16);
    let (server_read, server_write) = tokio::io::split(server_io);
    let serving = tokio::spawn(demo_server().serve_io(server_read, server_write));
    let (client_read, mut client_write) = tokio::io::split(client);
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                         "params": plain(json!({"name": "echo", "arguments": {"text": "hi"}}))});
    client_write
        .write_all(format!("{request}\n\n").as_bytes())
        .await
        .unwrap();
    let mut lines = BufReader::new(client_read).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let reply: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(text_of(&reply["result"]), "hi");
    client_write.shutdown().await.unwrap();
    drop(client_write);
    tokio::time::timeout(WAIT, serving)
        .await
        .expect("serve_io did not end with its input")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn server_side_teardown_answers_the_listen_request() {
    let server = demo_server();
    let mut p = Peer::connect(&server);
    let params = plain(json!({"notifications": {"promptsListChanged": true}}));
    p.send(
        json!({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen", "params": params}),
    )
    .await;
    assert_eq!(
        p.next().await["method"],
        "notifications/subscriptions/acknowledged"
    );
    server.end_subscriptions();
    let end = p.reply(json!("L")).await;
    assert_eq!(end["result"]["resultType"], "complete");
    assert_eq!(
        end["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "L"
    );
}

#[tokio::test]
async fn a_panicking_tool_is_a_failed_call_not_a_dead_server() {
    let server = TestServer::builder("p")
        .tool(ToolDef::new("boom"), |_c, _a| async { panic!("kaboom") })
        .build();
    let mut p = Peer::connect(&server);
    let r = p
        .result(1, "tools/call", plain(json!({"name": "boom"})))
        .await;
    assert_eq!(r["isError"], true);
    p.result(2, "tools/list", plain(json!({}))).await;
}

#[tokio::test]
async fn works_behind_the_in_memory_transport() {
    use std::sync::Arc;

    use crate::transport::{Inbound, InboundSink, Source};

    struct Collect(mpsc::UnboundedSender<Inbound>);
    impl InboundSink for Collect {
        fn deliver(&self, event: Inbound) {
            let _ = self.0.send(event);
        }
    }
    let server = TestServer::builder("m")
        .tool(ToolDef::new("big"), |_c, _a| async { Ok(json!("x")) })
        .tool_fault("big", Fault::Oversized(4096))
        .build();
    let transport = Source::memory(server).into_transport(1024).unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = transport.start(Arc::new(Collect(tx))).await.unwrap();
    let discover = json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover",
                          "params": plain(json!({}))});
    handle
        .outbound
        .send(Bytes::from(discover.to_string()))
        .await
        .unwrap();
    match rx.recv().await {
        Some(Inbound::Frame(f)) => {
            let v: Value = serde_json::from_slice(&f).unwrap();
            assert_eq!(v["result"]["supportedVersions"][0], "2026-07-28");
        }
        other => panic!("unexpected {other:?}"),
    }
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": plain(json!({"name": "big"}))});
    handle
        .outbound
        .send(Bytes::from(call.to_string()))
        .await
        .unwrap();
    assert!(matches!(
        rx.recv().await,
        Some(Inbound::Oversized { size, .. }) if size >= 4096
    ));
    handle.control.close().await;
}
