//! The core driven frame by frame over a raw channel pair, as a client of
//! either era would: what is new in the core (capability gating, bounds,
//! asks abandoned, several asks in one round, rounds beyond tools, panics).
//! The test server's own suite (`testing/tests.rs`) covers the rest
//! through the same core.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::*;
use crate::protocol::{
    codes, CallToolResult, GetPromptResult, ListRootsResult, Prompt, PromptMessage, Role, Tool,
};

const WAIT: Duration = Duration::from_secs(5);

struct Peer {
    tx: mpsc::Sender<Bytes>,
    rx: mpsc::Receiver<Bytes>,
    _task: JoinHandle<()>,
}

impl Peer {
    fn connect(server: &Server) -> Peer {
        let (tx, incoming) = mpsc::channel(64);
        let (outgoing, rx) = mpsc::channel(64);
        let task = tokio::spawn(server.serve(ServerEnd { incoming, outgoing }));
        Peer {
            tx,
            rx,
            _task: task,
        }
    }

    async fn send_raw(&self, frame: Vec<u8>) {
        self.tx.send(Bytes::from(frame)).await.expect("server gone");
    }

    async fn send(&self, message: Value) {
        self.send_raw(message.to_string().into_bytes()).await;
    }

    async fn next(&mut self) -> Value {
        let frame = tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("no frame within the deadline")
            .expect("connection closed");
        serde_json::from_slice(&frame).expect("frame is not JSON")
    }

    /// The next message that is not a notification.
    async fn next_non_notification(&mut self) -> Value {
        loop {
            let msg = self.next().await;
            if msg.get("method").is_none() || msg.get("id").is_some() {
                return msg;
            }
        }
    }

    async fn call(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        let reply = self.next_non_notification().await;
        assert_eq!(reply["id"], id, "reply to another id: {reply}");
        reply
    }

    async fn handshake(&mut self, capabilities: Value) {
        let reply = self
            .call(
                0,
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": capabilities,
                       "clientInfo": {"name": "t", "version": "0"}}),
            )
            .await;
        assert!(reply.get("result").is_some(), "{reply}");
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
    }
}

fn modern(mut params: Value, capabilities: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
    });
    params
}

fn tool(name: &str) -> Tool {
    Tool {
        name: name.into(),
        input_schema: json!({"type": "object"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ..Default::default()
    }
}

fn registry() -> Registry {
    Registry::new(Implementation::new("core", "1"))
}

#[tokio::test]
async fn methods_whose_capability_is_not_declared_are_not_found() {
    let server = Server::new(registry().tool(tool("t"), |_cx, _a| async {
        Ok(CallToolResult::from_text("ok"))
    }));
    let mut p = Peer::connect(&server);
    for (id, method) in [
        (1, "prompts/list"),
        (2, "resources/read"),
        (3, "skills/list"),
    ] {
        let reply = p.call(id, method, modern(json!({}), json!({}))).await;
        assert_eq!(reply["error"]["code"], codes::METHOD_NOT_FOUND, "{reply}");
    }
    p.handshake(json!({})).await;
    let reply = p
        .call(4, "resources/subscribe", json!({"uri": "x://y"}))
        .await;
    assert_eq!(reply["error"]["code"], codes::METHOD_NOT_FOUND, "{reply}");
    let reply = p.call(5, "tools/list", json!({})).await;
    assert_eq!(reply["result"]["tools"][0]["name"], "t", "{reply}");
}

#[tokio::test]
async fn frames_over_the_limit_are_refused_both_ways() {
    let server = Server::builder(registry().tool(tool("big"), |_cx, _a| async {
        Ok(CallToolResult::from_text("x".repeat(1000)))
    }))
    .max_message_size(400)
    .build();
    let mut p = Peer::connect(&server);
    let mut huge = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    huge["params"] = json!({"pad": "y".repeat(500)});
    p.send(huge).await;
    let reply = p.next().await;
    assert_eq!(reply["error"]["code"], codes::INVALID_REQUEST, "{reply}");
    assert_eq!(reply["id"], Value::Null);
    let reply = p
        .call(2, "tools/call", modern(json!({"name": "big"}), json!({})))
        .await;
    assert_eq!(reply["error"]["code"], codes::INTERNAL_ERROR, "{reply}");
    assert!(reply["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("exceeds")));
    // The connection still serves.
    let reply = p.call(3, "ping", json!({})).await;
    assert_eq!(reply["result"], json!({}));
}

#[tokio::test]
async fn requests_beyond_the_in_flight_bound_are_refused_until_one_ends() {
    let server = Server::builder(registry().tool(tool("wait"), |_cx, _a| async {
        std::future::pending::<()>().await;
        Ok(CallToolResult::default())
    }))
    .max_in_flight(2)
    .build();
    let mut p = Peer::connect(&server);
    for id in [1, 2] {
        p.send(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                      "params": modern(json!({"name": "wait"}), json!({}))}))
            .await;
    }
    let reply = p
        .call(3, "tools/call", modern(json!({"name": "wait"}), json!({})))
        .await;
    assert_eq!(reply["error"]["code"], codes::INTERNAL_ERROR, "{reply}");
    assert!(reply["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("busy")));
    p.send(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                  "params": {"requestId": 1}}),
    )
    .await;
    // Once the cancelled one has left, one more fits, and no more.
    tokio::time::sleep(Duration::from_millis(50)).await;
    p.send(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                  "params": modern(json!({"name": "wait"}), json!({}))}))
        .await;
    let reply = p
        .call(5, "tools/call", modern(json!({"name": "wait"}), json!({})))
        .await;
    assert!(
        reply["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("busy")),
        "{reply}"
    );
}

#[tokio::test]
async fn an_ask_abandoned_by_cancellation_is_cancelled_at_the_client() {
    let server = Server::new(registry().tool(tool("ask"), |cx, _a| async move {
        let roots: ListRootsResult = cx.list_roots().await?;
        Ok(CallToolResult::from_text(format!(
            "{} roots",
            roots.roots.len()
        )))
    }));
    let mut p = Peer::connect(&server);
    p.handshake(json!({"roots": {}})).await;
    p.send(json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "ask"}}))
        .await;
    let ask = p.next().await;
    assert_eq!(ask["method"], "roots/list", "{ask}");
    let ask_id = ask["id"].clone();
    p.send(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                  "params": {"requestId": 7}}),
    )
    .await;
    let note = p.next().await;
    assert_eq!(note["method"], "notifications/cancelled", "{note}");
    assert_eq!(note["params"]["requestId"], ask_id);
    // A late answer is ignored, and the call never replies.
    p.send(json!({"jsonrpc": "2.0", "id": ask_id, "result": {"roots": []}}))
        .await;
    let reply = p.call(8, "ping", json!({})).await;
    assert_eq!(reply["result"], json!({}));
}

#[tokio::test]
async fn asks_made_together_in_a_modern_run_are_all_required_at_once() {
    let server = Server::new(registry().tool(tool("both"), |cx, _a| async move {
        let (roots, sampled) = tokio::join!(
            cx.list_roots(),
            cx.ask_json(AskKind::Sampling, json!({"messages": [], "maxTokens": 1}))
        );
        let (roots, sampled) = (roots?, sampled?);
        Ok(CallToolResult::from_text(format!(
            "{} roots, {}",
            roots.roots.len(),
            sampled["model"].as_str().unwrap_or("?")
        )))
    }));
    let mut p = Peer::connect(&server);
    let caps = json!({"roots": {}, "sampling": {}});
    let r1 = p
        .call(
            1,
            "tools/call",
            modern(json!({"name": "both"}), caps.clone()),
        )
        .await;
    let result = &r1["result"];
    assert_eq!(result["resultType"], "input_required", "{r1}");
    assert_eq!(result["inputRequests"]["roots-0"]["method"], "roots/list");
    assert_eq!(
        result["inputRequests"]["sample-1"]["method"],
        "sampling/createMessage"
    );
    let retry = modern(
        json!({"name": "both", "requestState": result["requestState"],
               "inputResponses": {
                   "roots-0": {"roots": [{"uri": "file:///a"}]},
                   "sample-1": {"role": "assistant", "model": "m",
                                "content": {"type": "text", "text": "hi"}}}}),
        caps,
    );
    let r2 = p.call(2, "tools/call", retry).await;
    assert_eq!(r2["result"]["content"][0]["text"], "1 roots, m", "{r2}");
    assert_eq!(r2["result"]["resultType"], "complete");
}

#[tokio::test]
async fn prompts_ask_in_rounds_too() {
    let prompt = Prompt {
        name: "p".into(),
        ..Default::default()
    };
    let server = Server::new(registry().prompt(prompt, |cx, _args| async move {
        let roots = cx.list_roots().await?;
        let text = format!("{} roots", roots.roots.len());
        Ok(GetPromptResult {
            messages: vec![PromptMessage::new(Role::User, text.as_str())],
            ..Default::default()
        })
    }));
    let mut p = Peer::connect(&server);
    let caps = json!({"roots": {}});
    let r1 = p
        .call(1, "prompts/get", modern(json!({"name": "p"}), caps.clone()))
        .await;
    assert_eq!(r1["result"]["resultType"], "input_required", "{r1}");
    let retry = modern(
        json!({"name": "p", "requestState": r1["result"]["requestState"],
               "inputResponses": {"roots-0": {"roots": []}}}),
        caps,
    );
    let r2 = p.call(2, "prompts/get", retry).await;
    assert_eq!(
        r2["result"]["messages"][0]["content"]["text"], "0 roots",
        "{r2}"
    );
    // A token from this round does not open another prompt's.
    let forged = modern(
        json!({"name": "q", "requestState": r1["result"]["requestState"]}),
        json!({}),
    );
    let r3 = p.call(3, "prompts/get", forged).await;
    assert_eq!(r3["error"]["code"], codes::INVALID_PARAMS, "{r3}");
}

#[tokio::test]
async fn a_panicking_handler_is_an_internal_error_not_a_dead_connection() {
    let server = Server::new(registry().tool(tool("boom"), |_cx, _a| async {
        if true {
            panic!("boom");
        }
        Ok(CallToolResult::default())
    }));
    let mut p = Peer::connect(&server);
    let reply = p
        .call(1, "tools/call", modern(json!({"name": "boom"}), json!({})))
        .await;
    assert_eq!(reply["error"]["code"], codes::INTERNAL_ERROR, "{reply}");
    let reply = p.call(2, "ping", json!({})).await;
    assert_eq!(reply["result"], json!({}));
}

#[tokio::test]
async fn requests_with_bad_ids_or_params_get_clear_errors() {
    let server =
        Server::new(registry().tool(tool("t"), |_cx, _a| async { Ok(CallToolResult::default()) }));
    let mut p = Peer::connect(&server);
    p.send(json!({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}))
        .await;
    let reply = p.next().await;
    assert_eq!(reply["error"]["code"], codes::INVALID_REQUEST, "{reply}");
    assert_eq!(reply["id"], 1.5);
    let reply = p
        .call(
            2,
            "tools/call",
            modern(json!({"name": "t", "arguments": 5}), json!({})),
        )
        .await;
    assert_eq!(reply["error"]["code"], codes::INVALID_PARAMS, "{reply}");
    assert!(reply["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("tools/call")));
    let reply = p
        .call(3, "tools/call", modern(json!({"name": "nope"}), json!({})))
        .await;
    assert_eq!(reply["error"]["code"], codes::INVALID_PARAMS, "{reply}");
    assert_eq!(reply["error"]["message"], "unknown tool: nope");
}

#[tokio::test]
async fn stdio_refuses_an_overlong_line_and_serves_the_next() {
    let server = Server::builder(registry()).max_message_size(64).build();
    let (client, served) = tokio::io::duplex(4096);
    let (read_half, write_half) = tokio::io::split(served);
    let task = tokio::spawn(server.serve_io(read_half, write_half));
    let (client_read, mut client_write) = tokio::io::split(client);
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let mut lines = tokio::io::BufReader::new(client_read).lines();
    let long = format!("{{\"pad\":\"{}\"}}\n", "z".repeat(200));
    client_write.write_all(long.as_bytes()).await.unwrap();
    client_write
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n")
        .await
        .unwrap();
    let first: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(first["error"]["code"], codes::INVALID_REQUEST, "{first}");
    let second: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(second["id"], 1, "{second}");
    assert_eq!(second["result"], json!({}));
    client_write.shutdown().await.unwrap();
    tokio::time::timeout(WAIT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_handler_runs_in_the_trace_its_request_carried() {
    let server = Server::new(registry().tool(tool("traced"), |cx, _a| async move {
        let given = cx.trace_context();
        let current = crate::trace::current();
        Ok(CallToolResult::from_text(format!(
            "{} {} {}",
            given.as_ref().map_or(String::new(), |t| t.traceparent()),
            given.as_ref().and_then(|t| t.baggage()).unwrap_or(""),
            current == given,
        )))
    }));
    let mut p = Peer::connect(&server);
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let traced = |meta: Value| {
        let mut params = modern(json!({"name": "traced"}), json!({}));
        for (k, v) in meta.as_object().into_iter().flatten() {
            params["_meta"][k] = v.clone();
        }
        params
    };
    let meta = json!({"traceparent": parent, "tracestate": "a=b", "baggage": "user=ada"});
    let reply = p.call(1, "tools/call", traced(meta)).await;
    let text = format!("{parent} user=ada true");
    assert_eq!(reply["result"]["content"][0]["text"], text, "{reply}");
    // A malformed traceparent is ignored, never an error.
    let meta = json!({"traceparent": "00-zz-00f067aa0ba902b7-01"});
    let reply = p.call(2, "tools/call", traced(meta)).await;
    assert_eq!(reply["result"]["content"][0]["text"], "  true", "{reply}");
}
