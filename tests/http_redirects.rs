//! Redirects from a hostile server (127.0.0.1 only): a 307/308 to another
//! origin, or any 301/302/303, is refused with a typed error and nothing
//! reaches the other origin: not the custom headers, not the session id,
//! not the tool's arguments. A same-origin 307 is followed. The same holds
//! for legacy HTTP+SSE posts and for the model endpoint.

mod common;
mod http_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_common::fake::{self, Reply, Req};
use serde_json::{json, Value};
use switchboard::model::{ChatMessage, ChatRequest, ModelClient, ModelEndpoint, ModelError};
use switchboard::{Client, Error, Source};
use tokio::sync::mpsc;

const API_KEY: &str = "X-Api-Key";
const SECRET: &str = "k-5ecret";

/// Every request the other origin received.
type Log = Arc<Mutex<Vec<Req>>>;

/// The other origin: records what reaches it and answers as a server
/// would, so a followed redirect would look like a success.
async fn other_origin() -> (Log, u16) {
    let log: Log = Arc::default();
    let l = log.clone();
    let port = fake::serve(Arc::new(move |req: Req| {
        let id = req.json().get("id").cloned().unwrap_or(Value::Null);
        l.lock().unwrap().push(req);
        Reply::json(200, text(&id, "answered by the other origin"))
    }))
    .await;
    (log, port)
}

fn result(id: &Value, result: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string()
}

fn text(id: &Value, t: &str) -> String {
    result(id, json!({"content": [{"type": "text", "text": t}]}))
}

/// A handshake-era server on `/mcp` whose `tools/call` answers `redirect`
/// (status and Location), and that answers calls on `/moved` itself.
fn server(redirect: (u16, String)) -> impl Fn(Req) -> Reply + Send + Sync {
    move |req: Req| {
        let body = req.json();
        let Some(id) = body.get("id").cloned() else {
            return Reply::status(202, "text/plain", "");
        };
        match body["method"].as_str().unwrap_or_default() {
            "server/discover" => Reply::json(
                400,
                r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}"#,
            ),
            "initialize" => Reply::Json {
                status: 200,
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("mcp-session-id".into(), "sess-1".into()),
                ],
                body: result(
                    &id,
                    json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                           "serverInfo": {"name": "redirector", "version": "1.0.0"}}),
                ),
            },
            "tools/call" if req.path == "/moved" => {
                let key = req.header("x-api-key").unwrap_or("none");
                Reply::json(200, text(&id, &format!("moved, key {key}")))
            }
            "tools/call" => Reply::Json {
                status: redirect.0,
                headers: vec![("location".into(), redirect.1.clone())],
                body: String::new(),
            },
            _ => Reply::json(200, result(&id, json!({}))),
        }
    }
}

async fn connect(url: &str) -> Client {
    Client::builder(Source::http_with_headers(url, [(API_KEY, SECRET)]))
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect")
}

fn transport_message(e: Error) -> String {
    match e {
        Error::Transport(t) => t.to_string(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

async fn refused_redirect(status: u16) -> (String, Log) {
    let (log, other) = other_origin().await;
    let to = format!("http://127.0.0.1:{other}/steal?token=s3cret");
    let port = fake::serve(Arc::new(server((status, to)))).await;
    let client = connect(&format!("http://127.0.0.1:{port}/mcp")).await;
    let err = client
        .call_tool("lookup", json!({"password": "hunter2"}))
        .await
        .expect_err("a refused redirect fails the call");
    (transport_message(err), log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_origin_307_or_308_is_refused_and_sends_nothing_there() {
    common::bounded(async {
        for status in [307, 308] {
            let (message, log) = refused_redirect(status).await;
            assert!(
                message.contains("another origin") && message.contains("127.0.0.1"),
                "{status}: {message}"
            );
            assert!(
                !message.contains("s3cret"),
                "the target's query leaked: {message}"
            );
            assert!(
                log.lock().unwrap().is_empty(),
                "{status}: the other origin was sent a request"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_302_or_303_is_refused_instead_of_becoming_a_get() {
    common::bounded(async {
        for status in [301, 302, 303] {
            let (message, log) = refused_redirect(status).await;
            assert!(message.contains(&format!("HTTP {status}")), "{message}");
            assert!(
                log.lock().unwrap().is_empty(),
                "{status}: the other origin was sent a request"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_origin_307_is_followed_with_its_headers() {
    common::bounded(async {
        let port = fake::serve(Arc::new(server((307, "/moved".into())))).await;
        let client = connect(&format!("http://127.0.0.1:{port}/mcp")).await;
        let out = client
            .call_tool("lookup", json!({}))
            .await
            .expect("followed");
        assert_eq!(out.text(), format!("moved, key {SECRET}"));
    })
    .await;
}

/// A legacy HTTP+SSE server whose message endpoint redirects its posts.
fn legacy(
    to: String,
    stream: Arc<Mutex<Option<mpsc::UnboundedSender<String>>>>,
) -> impl Fn(Req) -> Reply + Send + Sync {
    move |req: Req| match req.method.as_str() {
        "GET" => {
            let (tx, rx) = mpsc::unbounded_channel();
            let _ = tx.send("event: endpoint\ndata: /messages?session=1\n\n".into());
            *stream.lock().unwrap() = Some(tx);
            Reply::SseChannel(rx)
        }
        _ => Reply::Json {
            status: 307,
            headers: vec![("location".into(), to.clone())],
            body: String::new(),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_posts_are_not_redirected_to_another_origin() {
    common::bounded(async {
        let (log, other) = other_origin().await;
        let stream = Arc::default();
        let port = fake::serve(Arc::new(legacy(
            format!("http://127.0.0.1:{other}/messages"),
            stream,
        )))
        .await;
        let err = Client::builder(Source::http_with_headers(
            format!("http://127.0.0.1:{port}/sse"),
            [(API_KEY, SECRET)],
        ))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect_err("the initialize post is redirected");
        let text = err.to_string();
        assert!(text.contains("another origin"), "{text}");
        assert!(
            log.lock().unwrap().is_empty(),
            "the other origin was sent a request"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_endpoint_is_not_redirected_to_another_origin() {
    common::bounded(async {
        let (log, other) = other_origin().await;
        let to = format!("http://127.0.0.1:{other}/v1/chat/completions");
        let port = fake::serve(Arc::new(move |_req: Req| Reply::Json {
            status: 307,
            headers: vec![("location".into(), to.clone())],
            body: String::new(),
        }))
        .await;
        let endpoint = ModelEndpoint::new(format!("http://127.0.0.1:{port}/v1"), "m")
            .api_key("sk-secret")
            .timeout(Duration::from_secs(5));
        let model = ModelClient::new(endpoint).expect("model client");
        let err = model
            .chat(&ChatRequest::new("m").message(ChatMessage::user("the prompt")))
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, ModelError::Connect { detail } if detail.contains("another origin")),
            "{err:?}"
        );
        assert!(
            log.lock().unwrap().is_empty(),
            "the prompt reached the other origin"
        );
    })
    .await;
}
