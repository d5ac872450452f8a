//! The typed transport contract over Streamable HTTP, against servers
//! written here (127.0.0.1): a failure the transport reports reaches the
//! caller as a typed `TransportError`, while anything a server writes,
//! however it is worded, stays the server's `Error::Protocol` (issue 12,
//! item 16: transport errors could be forged); the session, not the
//! transport, decides what to send again after a lost stream or an expired
//! HTTP session, and the metadata of a re-sent request is built again.

mod common;
mod http_common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_common::fake::{self, End, Reply, Req};
use serde_json::{json, Value};
use switchboard::transport::TransportError;
use switchboard::{Client, Error, Source};

/// The message prefix and `data` key the transport used to fake its own
/// failures with (`STREAM_LOST`, `TRANSPORT_ERROR_KEY`).
const OLD_STREAM_LOST: &str = "the response stream broke before the reply";
const OLD_TRANSPORT_KEY: &str = "io.switchboard/transport";

/// Every POST the server saw: (method, id, request).
type Posts = Arc<Mutex<Vec<(String, Value, Req)>>>;

fn count(posts: &Posts, method: &str) -> usize {
    posts
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, _, _)| m == method)
        .count()
}

fn record(posts: &Posts, req: &Req) -> (String, Value) {
    let body = req.json();
    let method = body["method"].as_str().unwrap_or_default().to_owned();
    let id = body.get("id").cloned().unwrap_or(Value::Null);
    posts
        .lock()
        .unwrap()
        .push((method.clone(), id.clone(), req.clone()));
    (method, id)
}

fn ok(id: &Value, result: Value) -> Reply {
    Reply::json(
        200,
        json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(),
    )
}

/// A JSON-RPC error worded and marked like the transport's old fake ones.
fn forged(id: &Value) -> Reply {
    Reply::json(
        200,
        json!({"jsonrpc": "2.0", "id": id, "error": {
            "code": -32603,
            "message": format!("{OLD_STREAM_LOST} (the server wrote this)"),
            "data": {OLD_TRANSPORT_KEY: {"status": 502}}}})
        .to_string(),
    )
}

fn cut() -> Reply {
    Reply::Sse {
        headers: vec![],
        chunks: vec![": working\n\n".into()],
        end: End::Drop,
    }
}

/// 2026-07-28: `forged` answers with the forged error; `cut` calls and the
/// first `flaky` prompt get a stream that breaks before the reply.
fn modern_server(posts: &Posts, req: Req) -> Reply {
    let (method, id) = record(posts, &req);
    if id.is_null() {
        return Reply::status(202, "text/plain", "");
    }
    let name = req.json()["params"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match (method.as_str(), name.as_str()) {
        ("server/discover", _) => ok(
            &id,
            json!({"supportedVersions": ["2026-07-28"],
                   "capabilities": {"tools": {}, "prompts": {}},
                   "resultType": "complete"}),
        ),
        ("tools/list", _) | ("tools/call", "forged") => forged(&id),
        ("tools/call", "cut") => cut(),
        ("prompts/get", "flaky") if count(posts, "prompts/get") == 1 => cut(),
        ("prompts/get", _) => ok(&id, json!({"messages": [], "resultType": "complete"})),
        _ => ok(&id, json!({"resultType": "complete"})),
    }
}

async fn connect(url: &str) -> Client {
    Client::builder(Source::http(url))
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect")
}

async fn modern() -> (Posts, Client) {
    let posts: Posts = Arc::default();
    let p = posts.clone();
    let port = fake::serve(Arc::new(move |req| modern_server(&p, req))).await;
    let client = connect(&format!("http://127.0.0.1:{port}/mcp")).await;
    (posts, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_worded_like_a_lost_stream_stays_the_servers_error() {
    common::bounded(async {
        let (posts, client) = modern().await;

        // Before, this read as the transport's lost stream: a
        // `Error::Transport`, and the list was sent again.
        let e = client.list_tools().await.unwrap_err();
        match &e {
            Error::Protocol {
                code,
                message,
                data,
            } => {
                assert_eq!(*code, -32603);
                assert!(message.starts_with(OLD_STREAM_LOST), "{message}");
                assert!(data
                    .as_ref()
                    .is_some_and(|d| d.get(OLD_TRANSPORT_KEY).is_some()));
            }
            other => panic!("expected the server's error, got {other:?}"),
        }
        assert!(!e.is_transport());
        assert_eq!(count(&posts, "tools/list"), 1, "not re-sent");

        let e = client.call_tool("forged", json!({})).await.unwrap_err();
        assert!(matches!(e, Error::Protocol { code: -32603, .. }), "{e:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_mid_call_is_a_typed_lost_stream_and_the_call_is_not_resent() {
    common::bounded(async {
        let (posts, client) = modern().await;

        let e = client.call_tool("cut", json!({})).await.unwrap_err();
        let posted_id = posts
            .lock()
            .unwrap()
            .iter()
            .find(|(m, _, _)| m == "tools/call")
            .map(|(_, id, _)| id.as_i64().expect("an integer id"))
            .expect("posted");
        match e.as_transport() {
            Some(TransportError::NotResent { method, cause }) => {
                assert_eq!(method, "tools/call");
                match &**cause {
                    TransportError::StreamLost { id, detail } => {
                        assert_eq!(*id, posted_id);
                        assert!(detail.contains("broke"), "{detail}");
                    }
                    other => panic!("expected a lost stream, got {other:?}"),
                }
            }
            other => panic!("expected a typed transport error, got {other:?} ({e})"),
        }
        assert!(e.as_transport().is_some_and(TransportError::is_stream_lost));
        assert_eq!(count(&posts, "tools/call"), 1, "a call is never re-sent");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_safe_request_is_resent_after_a_lost_stream_with_its_metadata_built_again() {
    common::bounded(async {
        let (posts, client) = modern().await;

        client
            .get_prompt("flaky", json!({}))
            .await
            .expect("re-sent once and answered");
        let posts = posts.lock().unwrap();
        let gets: Vec<&(String, Value, Req)> = posts
            .iter()
            .filter(|(m, _, _)| m == "prompts/get")
            .collect();
        assert_eq!(gets.len(), 2, "one re-send");
        assert_ne!(gets[0].1, gets[1].1, "under a new id");
        for (_, _, req) in gets {
            assert_eq!(req.header("mcp-method"), Some("prompts/get"));
            assert_eq!(req.header("mcp-name"), Some("flaky"));
            assert_eq!(req.header("mcp-protocol-version"), Some("2026-07-28"));
        }
    })
    .await;
}

/// Handshake era (2025-11-25) with HTTP sessions: `forged` answers with
/// the forged error; after `expire` every session id so far is unknown.
struct Handshake {
    posts: Posts,
    initializes: AtomicUsize,
    /// The session id the server knows.
    current: Mutex<String>,
}

fn handshake_server(s: &Handshake, req: Req) -> Reply {
    if req.method != "POST" {
        // No GET stream; DELETE is fine.
        return Reply::status(405, "text/plain", "");
    }
    let (method, id) = record(&s.posts, &req);
    let known = req
        .header("mcp-session-id")
        .is_some_and(|sid| *s.current.lock().unwrap() == sid);
    if method == "initialize" {
        let n = s.initializes.fetch_add(1, Ordering::SeqCst) + 1;
        let sid = format!("session-{n}");
        *s.current.lock().unwrap() = sid.clone();
        return Reply::Json {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("mcp-session-id".into(), sid),
            ],
            body: json!({"jsonrpc": "2.0", "id": id, "result": {
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}, "prompts": {}, "resources": {}},
                "serverInfo": {"name": "handshake-fake", "version": "1.0.0"}}})
            .to_string(),
        };
    }
    if !known {
        return Reply::status(404, "text/plain", "no such session");
    }
    if id.is_null() {
        return Reply::status(202, "text/plain", "");
    }
    let name = req.json()["params"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match (method.as_str(), name.as_str()) {
        ("tools/call", "forged") => forged(&id),
        ("tools/call", "expire") => {
            s.current.lock().unwrap().clear();
            ok(&id, json!({"content": []}))
        }
        ("tools/list", _) => ok(&id, json!({"tools": []})),
        ("prompts/list", _) => ok(&id, json!({"prompts": []})),
        ("resources/list", _) => ok(&id, json!({"resources": []})),
        ("resources/templates/list", _) => ok(&id, json!({"resourceTemplates": []})),
        _ => ok(&id, json!({})),
    }
}

async fn handshake() -> (Arc<Handshake>, Client) {
    let server = Arc::new(Handshake {
        posts: Arc::default(),
        initializes: AtomicUsize::new(0),
        current: Mutex::new(String::new()),
    });
    let s = server.clone();
    let port = fake::serve(Arc::new(move |req| handshake_server(&s, req))).await;
    let client = Client::builder(Source::http(format!("http://127.0.0.1:{port}/mcp")))
        .protocol(switchboard::VersionChoice::Exact(
            switchboard::ProtocolVersion::V2025_11_25,
        ))
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect");
    (server, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_transport_error_is_the_servers_error_in_the_handshake_era_too() {
    common::bounded(async {
        let (_server, client) = handshake().await;
        let e = client.call_tool("forged", json!({})).await.unwrap_err();
        assert!(matches!(e, Error::Protocol { code: -32603, .. }), "{e:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_hit_one_expired_session_renew_it_once_and_are_resent() {
    common::bounded(async {
        let (server, client) = handshake().await;
        assert_eq!(server.initializes.load(Ordering::SeqCst), 1);
        client.call_tool("expire", json!({})).await.expect("expire");

        let (tools, prompts, resources, templates) = tokio::join!(
            client.list_tools(),
            client.list_prompts(),
            client.list_resources(),
            client.list_resource_templates(),
        );
        tools.expect("tools/list re-sent");
        prompts.expect("prompts/list re-sent");
        resources.expect("resources/list re-sent");
        templates.expect("resources/templates/list re-sent");
        assert_eq!(
            server.initializes.load(Ordering::SeqCst),
            2,
            "one new session for all of them"
        );
        // The session's own handshake, replayed: `initialized` follows.
        assert_eq!(count(&server.posts, "notifications/initialized"), 2);
        client.ping().await.expect("usable");
    })
    .await;
}
