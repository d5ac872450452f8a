//! Streamable HTTP against a misbehaving server written here (127.0.0.1
//! only): a stream dropped mid-response, 500/502, malformed SSE, a stall,
//! an oversized body, an expired session, a stream resumed with
//! `Last-Event-ID`, a legacy HTTP+SSE server behind a plain URL, a refused
//! connection. Each ends in a typed error within its deadline (or the
//! documented recovery), the client stays usable, nothing is sent twice.

mod common;
mod http_common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_common::fake::{self, End, Reply, Req};
use serde_json::{json, Value};
use switchboard::transport::HttpConfig;
use switchboard::{Client, Error, Source};
use tokio::sync::mpsc;

/// What the fake server saw.
#[derive(Default)]
struct Seen {
    initializes: usize,
    /// tools/call count per tool name.
    calls: HashMap<String, usize>,
    /// Sessions the server has forgotten.
    expired: Vec<String>,
    current_session: String,
    /// `Last-Event-ID` headers of GETs.
    last_event_ids: Vec<String>,
    /// The id of the call waiting to be resumed.
    resume_id: Option<Value>,
    /// Headers of the latest tools/call.
    call_headers: HashMap<String, String>,
    /// Where the legacy SSE stream's messages go.
    legacy: Option<mpsc::UnboundedSender<String>>,
    deletes: usize,
}

type Shared = Arc<Mutex<Seen>>;

fn result(id: &Value, result: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string()
}

fn text(id: &Value, t: &str) -> String {
    result(id, json!({"content": [{"type": "text", "text": t}]}))
}

const TOOLS: [&str; 10] = [
    "ok",
    "drop",
    "e500",
    "e502json",
    "malformed",
    "stall",
    "resume",
    "expire",
    "big",
    "sse_ok",
];

/// The answer of a well-behaved handshake-era server, if `method` is one
/// it knows (shared by the Streamable HTTP and the legacy SSE fakes).
fn plain_answer(seen: &Shared, method: &str, id: &Value) -> Option<(String, Option<String>)> {
    match method {
        "initialize" => {
            let mut s = seen.lock().unwrap();
            s.initializes += 1;
            s.current_session = format!("session-{}", s.initializes);
            let body = result(
                id,
                json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                       "serverInfo": {"name": "fake", "version": "1.0.0"}}),
            );
            Some((body, Some(s.current_session.clone())))
        }
        "tools/list" => {
            let tools: Vec<Value> = TOOLS
                .iter()
                .map(|n| json!({"name": n, "inputSchema": {"type": "object"}}))
                .collect();
            Some((result(id, json!({"tools": tools})), None))
        }
        "ping" => Some((result(id, json!({})), None)),
        _ => None,
    }
}

fn handle(seen: &Shared, req: Req) -> Reply {
    if req.method == "DELETE" {
        seen.lock().unwrap().deletes += 1;
        return Reply::status(200, "text/plain", "");
    }
    if req.method == "GET" {
        let last = req.header("last-event-id").map(str::to_owned);
        let mut s = seen.lock().unwrap();
        match last {
            Some(last) => {
                s.last_event_ids.push(last.clone());
                let id = s.resume_id.take().unwrap_or(Value::Null);
                return Reply::Sse {
                    headers: vec![],
                    chunks: vec![format!("id: e2\ndata: {}\n\n", text(&id, "resumed"))],
                    end: End::Finish,
                };
            }
            None => return Reply::status(405, "text/plain", "no GET stream"),
        }
    }
    let body = req.json();
    let method = body["method"].as_str().unwrap_or_default().to_owned();
    let id = body.get("id").cloned();
    if let Some(sid) = req.header("mcp-session-id") {
        if seen.lock().unwrap().expired.iter().any(|e| e == sid) {
            return Reply::json(
                404,
                r#"{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}"#,
            );
        }
    }
    let Some(id) = id else {
        return Reply::status(202, "text/plain", "");
    };
    if method == "server/discover" {
        return Reply::json(
            400,
            r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}"#,
        );
    }
    if let Some((body, session)) = plain_answer(seen, &method, &id) {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(s) = session {
            headers.push(("mcp-session-id".into(), s));
        }
        return Reply::Json {
            status: 200,
            headers,
            body,
        };
    }
    if method != "tools/call" {
        return Reply::json(
            200,
            json!({"jsonrpc":"2.0","id":id,"error":{"code":-32601,"message":"Method not found"}})
                .to_string(),
        );
    }
    let name = body["params"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    {
        let mut s = seen.lock().unwrap();
        *s.calls.entry(name.clone()).or_default() += 1;
        s.call_headers = req.headers.clone();
    }
    let log = r#"data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"working"}}"#;
    match name.as_str() {
        "ok" => Reply::json(200, text(&id, "ok")),
        "sse_ok" => Reply::Sse {
            headers: vec![],
            chunks: vec![
                ": keep-alive\n\n".into(),
                format!("{log}\n\n"),
                format!("data: {}\n\n", text(&id, "streamed")),
            ],
            end: End::Finish,
        },
        "drop" => Reply::Sse {
            headers: vec![],
            chunks: vec![format!("{log}\n\n")],
            end: End::Drop,
        },
        "e500" => Reply::status(500, "text/plain", "boom: the database is on fire"),
        "e502json" => Reply::json(
            502,
            json!({"jsonrpc":"2.0","id":id,"error":{"code":-32050,"message":"upstream down"}})
                .to_string(),
        ),
        "malformed" => Reply::Sse {
            headers: vec![],
            chunks: vec![
                "data: {not json at all\n\n".into(),
                "garbage line\n\n".into(),
            ],
            end: End::Finish,
        },
        "stall" => Reply::Stall,
        "resume" => {
            seen.lock().unwrap().resume_id = Some(id);
            Reply::Sse {
                headers: vec![],
                chunks: vec!["id: e1\nretry: 100\ndata: \n\n".into()],
                end: End::Finish,
            }
        }
        "expire" => {
            let mut s = seen.lock().unwrap();
            let current = s.current_session.clone();
            s.expired.push(current);
            Reply::json(200, text(&id, "expired now"))
        }
        "big" => {
            let pad = "x".repeat(200_000);
            Reply::json(200, text(&id, &pad))
        }
        _ => Reply::json(500, "unknown tool"),
    }
}

async fn start() -> (Shared, String) {
    let seen: Shared = Arc::default();
    let s = seen.clone();
    let port = fake::serve(Arc::new(move |req| handle(&s, req))).await;
    (seen, format!("http://127.0.0.1:{port}/mcp"))
}

async fn connect(url: &str) -> Client {
    Client::builder(Source::http(url))
        .timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_secs(5))
        .max_message_size(64 * 1024)
        .connect()
        .await
        .expect("connect to the fake server")
}

fn transport_error(e: Error) -> (Option<u16>, String) {
    match e {
        Error::Transport(t) => (t.status(), t.to_string()),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

fn protocol_error(e: Error) -> (i64, String) {
    match e {
        Error::Protocol { code, message, .. } => (code, message),
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

async fn assert_usable(client: &Client) {
    let out = client
        .call_tool("ok", json!({}))
        .await
        .expect("the client stays usable");
    assert_eq!(out.text(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_and_refused_responses_become_typed_errors() {
    common::bounded(async {
        let (seen, url) = start().await;
        let client = connect(&url).await;
        assert_eq!(seen.lock().unwrap().initializes, 1);

        let out = client.call_tool("sse_ok", json!({})).await.expect("sse_ok");
        assert_eq!(out.text(), "streamed");

        let (status, msg) = transport_error(client.call_tool("drop", json!({})).await.unwrap_err());
        assert_eq!(status, None);
        assert!(msg.contains("broke"), "{msg}");
        assert_usable(&client).await;

        let (status, msg) = transport_error(client.call_tool("e500", json!({})).await.unwrap_err());
        assert_eq!(status, Some(500));
        assert!(
            msg.contains("500") && msg.contains("database is on fire"),
            "{msg}"
        );

        let (code, msg) =
            protocol_error(client.call_tool("e502json", json!({})).await.unwrap_err());
        assert_eq!((code, msg.as_str()), (-32050, "upstream down"));

        let (_, msg) = transport_error(client.call_tool("malformed", json!({})).await.unwrap_err());
        assert!(msg.contains("ended the response stream"), "{msg}");

        let e = client.call_tool("big", json!({})).await.unwrap_err();
        assert!(
            !matches!(e, Error::Timeout { .. }),
            "oversized must fail fast: {e:?}"
        );
        assert_usable(&client).await;

        let started = Instant::now();
        let e = client.call_tool("stall", json!({})).await.unwrap_err();
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_usable(&client).await;

        // Nothing was sent twice.
        {
            let s = seen.lock().unwrap();
            for name in ["drop", "e500", "e502json", "malformed", "big", "stall"] {
                assert_eq!(s.calls.get(name), Some(&1), "{name} posted once");
            }
            assert_eq!(s.initializes, 1);
        }
        client.close().await.expect("close");
        common::eventually("DELETE on close", Duration::from_secs(3), || async {
            (seen.lock().unwrap().deletes == 1).then_some(())
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transport_idle_deadline_fails_a_stalled_post() {
    common::bounded(async {
        let (_seen, url) = start().await;
        let source = Source::Http(HttpConfig::new(&url).idle_timeout(Duration::from_millis(300)));
        let client = Client::builder(source)
            .timeout(Duration::from_secs(10))
            .connect()
            .await
            .expect("connect");
        let started = Instant::now();
        let (_, msg) = transport_error(client.call_tool("stall", json!({})).await.unwrap_err());
        assert!(msg.contains("no HTTP response"), "{msg}");
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_usable(&client).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_closed_before_its_reply_resumes_with_last_event_id() {
    common::bounded(async {
        let (seen, url) = start().await;
        let client = connect(&url).await;
        let out = client
            .call_tool("resume", json!({}))
            .await
            .expect("resumed");
        assert_eq!(out.text(), "resumed");
        let s = seen.lock().unwrap();
        assert_eq!(s.last_event_ids, ["e1"]);
        assert_eq!(s.calls.get("resume"), Some(&1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_renewed() {
    common::bounded(async {
        let (seen, url) = start().await;
        let client = connect(&url).await;
        client.call_tool("expire", json!({})).await.expect("expire");

        // Not a tools/call: renewed and re-sent transparently.
        let tools = client.list_tools().await.expect("tools/list after expiry");
        assert_eq!(tools.len(), TOOLS.len());
        assert_eq!(seen.lock().unwrap().initializes, 2);

        // A tools/call is not re-sent (it may have run): a clear error.
        client
            .call_tool("expire", json!({}))
            .await
            .expect("expire again");
        let (_, msg) = transport_error(client.call_tool("ok", json!({})).await.unwrap_err());
        assert!(
            msg.contains("session expired") && msg.contains("not re-sent"),
            "{msg}"
        );
        assert_eq!(seen.lock().unwrap().initializes, 3);
        assert_usable(&client).await;
        assert_eq!(
            seen.lock()
                .unwrap()
                .call_headers
                .get("mcp-session-id")
                .map(String::as_str),
            Some("session-3")
        );
    })
    .await;
}

/// A legacy HTTP+SSE server at a URL that does not end in `/sse`.
fn handle_legacy(seen: &Shared, req: Req) -> Reply {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/mcp") => {
            let (tx, rx) = mpsc::unbounded_channel();
            tx.send("event: endpoint\ndata: /messages?session=1\n\n".into())
                .unwrap();
            seen.lock().unwrap().legacy = Some(tx);
            Reply::SseChannel(rx)
        }
        ("POST", "/mcp") => Reply::status(405, "text/plain", "Method Not Allowed"),
        ("POST", p) if p.starts_with("/messages") => {
            let body = req.json();
            let method = body["method"].as_str().unwrap_or_default().to_owned();
            if let Some(id) = body.get("id") {
                let answer = match plain_answer(seen, &method, id) {
                    Some((b, _)) => b,
                    None if method == "tools/call" => text(id, "legacy ok"),
                    None => {
                        json!({"jsonrpc":"2.0","id":id,"error":{"code":-32601,"message":"nope"}})
                            .to_string()
                    }
                };
                if let Some(tx) = &seen.lock().unwrap().legacy {
                    let _ = tx.send(format!("event: message\ndata: {answer}\n\n"));
                }
            }
            Reply::status(202, "text/plain", "Accepted")
        }
        _ => Reply::status(404, "text/plain", "not found"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_sse_server_behind_a_plain_url_is_found() {
    common::bounded(async {
        let seen: Shared = Arc::default();
        let s = seen.clone();
        let port = fake::serve(Arc::new(move |req| handle_legacy(&s, req))).await;
        let client = connect(&format!("http://127.0.0.1:{port}/mcp")).await;
        assert_eq!(client.server_info().unwrap().name, "fake");
        let out = client.call_tool("anything", json!({})).await.expect("call");
        assert_eq!(out.text(), "legacy ok");
        client.close().await.expect("close");
        // The SSE stream is gone with the client: writes to it fail.
        let tx = seen.lock().unwrap().legacy.clone().expect("stream opened");
        common::eventually("the SSE stream closed", Duration::from_secs(3), || {
            let _ = tx.send(": ping\n\n".into());
            let closed = tx.is_closed();
            async move { closed.then_some(()) }
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_fails_fast() {
    common::bounded(async {
        let port = http_common::free_port();
        let started = Instant::now();
        let e = Client::builder(Source::http(format!("http://127.0.0.1:{port}/mcp")))
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect_err("nothing listens there");
        assert!(started.elapsed() < Duration::from_secs(3), "{e:?}");
        assert!(
            matches!(e, Error::Connect { .. } | Error::Transport(_)),
            "{e:?}"
        );
        let text = e.to_string();
        assert!(text.contains("refused"), "{text}");
    })
    .await;
}

/// A legacy HTTP+SSE server whose stream opens but never names its
/// endpoint: connecting fails at the client's connect deadline (2 s), not
/// at the transport's own 30 s default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_sse_stream_without_endpoint_fails_at_the_connect_deadline() {
    common::bounded(async {
        let port = fake::serve(Arc::new(|req: Req| match req.method.as_str() {
            "GET" => Reply::Sse {
                headers: vec![],
                chunks: vec![": no endpoint event, ever\n\n".into()],
                end: End::Stall,
            },
            _ => Reply::status(404, "text/plain", "not found"),
        }))
        .await;
        let source = Source::Http(
            HttpConfig::new(format!("http://127.0.0.1:{port}/sse"))
                .mode(switchboard::transport::HttpMode::LegacySse),
        );
        let started = Instant::now();
        let e = Client::builder(source)
            .connect_timeout(Duration::from_secs(2))
            .connect()
            .await
            .expect_err("no endpoint event");
        let took = started.elapsed();
        assert!(
            matches!(&e, Error::Timeout { method, .. } if method == Error::CONNECT),
            "{e:?}"
        );
        assert!(
            took >= Duration::from_millis(1900) && took < Duration::from_secs(3),
            "took {took:?}: {e}"
        );
    })
    .await;
}

/// A GET stream that sets `retry: 0` and an `id:` and ends at once is not
/// reopened hundreds of times a second: the wait has a floor and backs off,
/// and after `max_reconnects` (5) reopenings in a row without a message
/// the stream stays closed. Requests go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_get_stream_with_retry_zero_is_not_reopened_in_a_spin() {
    common::bounded(async {
        let seen: Shared = Arc::default();
        let gets = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (s, g) = (seen.clone(), gets.clone());
        let port = fake::serve(Arc::new(move |req: Req| {
            if req.method == "GET" {
                g.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                return Reply::Sse {
                    headers: vec![],
                    chunks: vec!["retry: 0\nid: e1\n\n".into()],
                    end: End::Finish,
                };
            }
            handle(&s, req)
        }))
        .await;
        let client = connect(&format!("http://127.0.0.1:{port}/mcp")).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let in_two_seconds = gets.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            (1..=6).contains(&in_two_seconds),
            "{in_two_seconds} GETs in 2 s"
        );
        assert_usable(&client).await;
        // 100 ms, doubling (plus at most 25 %), five times: closed by ~4 s.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let total = gets.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(total, 6, "the first GET and 5 reconnects, then none");
        assert_usable(&client).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_instead_of_an_mcp_endpoint_fails_at_once_saying_so() {
    common::bounded(async {
        let page =
            "<!doctype html>\n<html><head><title>Welcome</title></head><body>Sign in</body></html>";
        let port = fake::serve(Arc::new(move |_req: Req| {
            Reply::status(200, "text/html; charset=utf-8", page)
        }))
        .await;
        let started = Instant::now();
        let err = Client::builder(Source::http(format!("http://127.0.0.1:{port}/")))
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(20))
            .connect()
            .await
            .expect_err("a web page is not an MCP server");
        let elapsed = started.elapsed();
        let text = err.to_string();
        assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}: {text}");
        assert!(
            text.contains("not an MCP endpoint") && text.contains("text/html"),
            "{text}"
        );
        assert!(
            text.contains("<!doctype html>"),
            "says what came back: {text}"
        );
    })
    .await;
}
