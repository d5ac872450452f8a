//! 2026-07-28 over Streamable HTTP, recovering from what the spec expects
//! a client to recover from, against a server written here (127.0.0.1):
//! a -32020 HeaderMismatch from stale tool definitions (one refetch, one
//! retry, no loop), and a response stream cut before its reply (a safe
//! request is re-sent once under a new id; a `tools/call` is not), and the
//! era remembered per origin (no second probe of a handshake-era server,
//! a re-probe when the remembered era fails).

mod common;
mod http_common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_common::fake::{self, End, Reply, Req};
use serde_json::{json, Value};
use switchboard::protocol::Era;
use switchboard::{Client, Error, Source};

/// What the server saw: (method, id, headers) of every POST.
#[derive(Default)]
struct Seen {
    posts: Vec<(String, Value, Req)>,
}

type Shared = Arc<Mutex<Seen>>;

impl Seen {
    fn count(&self, method: &str) -> usize {
        self.posts.iter().filter(|(m, _, _)| m == method).count()
    }
    fn ids(&self, method: &str) -> Vec<Value> {
        self.posts
            .iter()
            .filter(|(m, _, _)| m == method)
            .map(|(_, id, _)| id.clone())
            .collect()
    }
}

fn ok(id: &Value, result: Value) -> Reply {
    Reply::json(
        200,
        json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(),
    )
}

fn text(id: &Value, t: &str) -> Reply {
    ok(
        id,
        json!({"content": [{"type": "text", "text": t}], "resultType": "complete"}),
    )
}

fn discover(id: &Value) -> Reply {
    ok(
        id,
        json!({
            "supportedVersions": ["2026-07-28"],
            "capabilities": {"tools": {}},
            "resultType": "complete",
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "recovering-fake", "version": "1.0.0"}}
        }),
    )
}

fn mismatch(id: &Value) -> Reply {
    Reply::json(
        400,
        json!({"jsonrpc": "2.0", "id": id, "error": {
            "code": -32020, "message": "Mcp-Param-Zone does not match the body"}})
        .to_string(),
    )
}

/// Records the POST; returns (method, id) or `None` for a notification.
fn record(seen: &Shared, req: &Req) -> Option<(String, Value)> {
    let body = req.json();
    let method = body["method"].as_str().unwrap_or_default().to_owned();
    let id = body.get("id").cloned().unwrap_or(Value::Null);
    seen.lock()
        .unwrap()
        .posts
        .push((method.clone(), id.clone(), req.clone()));
    (!id.is_null()).then_some((method, id))
}

/// The deploy tool's region is mirrored into a header whose name changed:
/// the first tools/list still says `Region`, later ones say `Zone`, and the
/// server only accepts `Mcp-Param-Zone`.
fn header_server(seen: &Shared, req: Req) -> Reply {
    let Some((method, id)) = record(seen, &req) else {
        return Reply::status(202, "text/plain", "");
    };
    let body = req.json();
    match method.as_str() {
        "server/discover" => discover(&id),
        "tools/list" => {
            let header = if seen.lock().unwrap().count("tools/list") == 1 {
                "Region"
            } else {
                "Zone"
            };
            ok(
                &id,
                json!({"resultType": "complete", "tools": [
                    {"name": "deploy", "inputSchema": {"type": "object", "properties": {
                        "region": {"type": "string", "x-mcp-header": header}}}},
                    {"name": "stubborn", "inputSchema": {"type": "object", "properties": {
                        "region": {"type": "string", "x-mcp-header": header}}}}
                ]}),
            )
        }
        "tools/call" => {
            let region = body["params"]["arguments"]["region"].as_str();
            match body["params"]["name"].as_str() {
                Some("deploy") if req.header("mcp-param-zone") == region => text(&id, "deployed"),
                _ => mismatch(&id),
            }
        }
        _ => ok(&id, json!({"resultType": "complete"})),
    }
}

async fn connect(url: &str) -> Client {
    Client::builder(Source::http(url))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_mismatch_refetches_the_tools_and_retries_once() {
    common::bounded(async {
        let seen: Shared = Arc::default();
        let s = seen.clone();
        let port = fake::serve(Arc::new(move |req| header_server(&s, req))).await;
        let client = connect(&format!("http://127.0.0.1:{port}/mcp")).await;

        client.list_tools().await.expect("tools/list");
        let out = client
            .call_tool("deploy", json!({"region": "eu-west"}))
            .await
            .expect("the retry with fresh definitions succeeds");
        assert_eq!(out.text(), "deployed");
        {
            let s = seen.lock().unwrap();
            assert_eq!(s.count("tools/list"), 2, "exactly one refetch");
            assert_eq!(s.count("tools/call"), 2, "exactly one retry");
            let calls: Vec<&Req> = s
                .posts
                .iter()
                .filter(|(m, _, _)| m == "tools/call")
                .map(|(_, _, r)| r)
                .collect();
            assert_eq!(calls[0].header("mcp-param-region"), Some("eu-west"));
            assert_eq!(calls[1].header("mcp-param-zone"), Some("eu-west"));
            assert_eq!(calls[1].header("mcp-param-region"), None);
        }

        // A server that always answers -32020: one refetch, one retry, then
        // the typed error.
        let e = client
            .call_tool("stubborn", json!({"region": "eu-west"}))
            .await
            .unwrap_err();
        assert!(matches!(&e, Error::Protocol { code: -32020, .. }), "{e:?}");
        let s = seen.lock().unwrap();
        assert_eq!(s.count("tools/list"), 3);
        assert_eq!(s.count("tools/call"), 4);
    })
    .await;
}

/// The first tools/list and every `cut` call get a stream that breaks
/// before the reply.
fn cutting_server(seen: &Shared, req: Req) -> Reply {
    let Some((method, id)) = record(seen, &req) else {
        return Reply::status(202, "text/plain", "");
    };
    let cut = || Reply::Sse {
        headers: vec![],
        chunks: vec![": working\n\n".into()],
        end: End::Drop,
    };
    let body = req.json();
    match method.as_str() {
        "server/discover" => discover(&id),
        "tools/list" if seen.lock().unwrap().count("tools/list") == 1 => cut(),
        "tools/list" => ok(
            &id,
            json!({"resultType": "complete", "tools": [
                {"name": "cut", "inputSchema": {"type": "object"}}]}),
        ),
        "tools/call" if body["params"]["name"] == "cut" => cut(),
        "tools/call" => text(&id, "fine"),
        _ => ok(&id, json!({"resultType": "complete"})),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_stream_is_reissued_under_a_new_id_unless_it_is_a_call() {
    common::bounded(async {
        let seen: Shared = Arc::default();
        let s = seen.clone();
        let port = fake::serve(Arc::new(move |req| cutting_server(&s, req))).await;
        let client = connect(&format!("http://127.0.0.1:{port}/mcp")).await;

        let tools = client.list_tools().await.expect("re-issued tools/list");
        assert_eq!(tools.len(), 1);
        assert_eq!(tools[0].name, "cut");
        {
            let s = seen.lock().unwrap();
            let ids = s.ids("tools/list");
            assert_eq!(ids.len(), 2, "one re-send");
            assert_ne!(ids[0], ids[1], "under a new id");
        }

        let e = client.call_tool("cut", json!({})).await.unwrap_err();
        match &e {
            Error::Transport(t) => {
                let message = t.to_string();
                assert!(
                    message.contains("unknown") && message.contains("not re-sent"),
                    "{message}"
                )
            }
            other => panic!("expected a transport error, got {other:?}"),
        }
        assert_eq!(seen.lock().unwrap().count("tools/call"), 1, "not re-sent");

        let out = client.call_tool("other", json!({})).await.expect("usable");
        assert_eq!(out.text(), "fine");
    })
    .await;
}

/// Handshake-only until `modern` is set, then modern-only (initialize is
/// "method not found").
fn switching_server(seen: &Shared, modern: &AtomicBool, req: Req) -> Reply {
    if req.method != "POST" {
        return Reply::status(405, "text/plain", "");
    }
    let Some((method, id)) = record(seen, &req) else {
        return Reply::status(202, "text/plain", "");
    };
    let not_found = || {
        Reply::json(
            404,
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "Method not found"}})
                .to_string(),
        )
    };
    let modern = modern.load(Ordering::SeqCst);
    match method.as_str() {
        "server/discover" if modern => discover(&id),
        "initialize" if !modern => ok(
            &id,
            json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                   "serverInfo": {"name": "old", "version": "1.0.0"}}),
        ),
        "server/discover" | "initialize" => not_found(),
        _ => ok(&id, json!({})),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_era_is_remembered_per_origin_and_reprobed_when_it_fails() {
    common::bounded(async {
        let seen: Shared = Arc::default();
        let modern = Arc::new(AtomicBool::new(false));
        let (s, m) = (seen.clone(), modern.clone());
        let port = fake::serve(Arc::new(move |req| switching_server(&s, &m, req))).await;
        let url = format!("http://127.0.0.1:{port}/mcp");
        let counts = || {
            let s = seen.lock().unwrap();
            (s.count("server/discover"), s.count("initialize"))
        };

        let first = connect(&url).await;
        assert_eq!(first.era(), Some(Era::Handshake));
        assert_eq!(counts(), (1, 1), "probed, then the handshake");
        first.close().await.expect("close");

        let second = connect(&url).await;
        assert_eq!(second.era(), Some(Era::Handshake));
        assert_eq!(counts(), (1, 2), "straight to initialize");
        second.close().await.expect("close");

        // The server now speaks only 2026-07-28: the cached choice fails,
        // is forgotten, and the server is probed again.
        modern.store(true, Ordering::SeqCst);
        let third = connect(&url).await;
        assert_eq!(third.era(), Some(Era::Modern));
        assert_eq!(counts(), (2, 3));
        third.close().await.expect("close");

        let fourth = connect(&url).await;
        assert_eq!(fourth.era(), Some(Era::Modern));
        assert_eq!(counts(), (3, 3), "discover only, no initialize probe");
    })
    .await;
}
