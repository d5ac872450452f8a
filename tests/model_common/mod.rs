//! An OpenAI-compatible chat endpoint served by the test itself (axum on
//! 127.0.0.1, an ephemeral port), for any test that needs a model:
//!
//! ```ignore
//! mod model_common;
//! use model_common::{ModelServer, Step, text_completion};
//!
//! let server = ModelServer::start(vec![Step::json(text_completion("m", "hi", 3, 1))]).await;
//! // point a ModelEndpoint at server.base_url() ("http://127.0.0.1:PORT/v1")
//! let seen = server.requests(); // headers + JSON body of every request
//! ```
//!
//! It serves `POST /v1/chat/completions` and `POST /chat/completions`,
//! records each request as it arrives (before any scripted delay, so "the
//! endpoint received nothing" is checkable), and answers each request with
//! the next [`Step`] of its script: a JSON completion, an HTTP status with a
//! body, a delay before another step, garbage bytes, or an SSE stream. When
//! the script runs out it repeats the fallback step (set with
//! [`ModelServer::start_repeating`]), else answers 500.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Step {
    /// 200 with this JSON body.
    Json(Value),
    /// This status with this body (`application/json` if it parses, else
    /// `text/plain`).
    Status(u16, String),
    /// Wait, then answer with the inner step.
    Delay(Duration, Box<Step>),
    /// 200 `application/json` with these bytes (not JSON).
    Garbage(Vec<u8>),
    /// 200 `text/event-stream` with one `data:` event per item.
    Sse(Vec<String>),
}

impl Step {
    /// A 200 JSON answer.
    pub fn json(v: Value) -> Step {
        Step::Json(v)
    }
    /// Delays another step.
    pub fn delay(ms: u64, then: Step) -> Step {
        Step::Delay(Duration::from_millis(ms), Box::new(then))
    }
}

/// One request the endpoint received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Value::String` of the raw text if it was not).
    pub body: Value,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Step>>,
    fallback: Mutex<Option<Step>>,
    seen: Mutex<Vec<Recorded>>,
}

/// The endpoint; stops when dropped.
pub struct ModelServer {
    shared: Arc<Shared>,
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ModelServer {
    /// Serves this script.
    pub async fn start(steps: Vec<Step>) -> ModelServer {
        let shared = Arc::new(Shared::default());
        shared.script.lock().unwrap().extend(steps);
        let app = Router::new()
            .route("/v1/chat/completions", post(answer))
            .route("/chat/completions", post(answer))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ModelServer { shared, port, task }
    }

    /// Answers every request with `step`.
    pub async fn start_repeating(step: Step) -> ModelServer {
        let s = Self::start(Vec::new()).await;
        *s.shared.fallback.lock().unwrap() = Some(step);
        s
    }

    /// The API base to configure: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// The root URL without `/v1`.
    pub fn root_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Appends steps to the script.
    pub fn push(&self, step: Step) {
        self.shared.script.lock().unwrap().push_back(step);
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body_json = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    shared.seen.lock().unwrap().push(Recorded {
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body_json,
    });
    let step = shared.script.lock().unwrap().pop_front();
    let step = step.or_else(|| shared.fallback.lock().unwrap().clone());
    let step = step.unwrap_or(Step::Status(500, "script exhausted".into()));
    play(step).await
}

async fn play(mut step: Step) -> Response {
    loop {
        match step {
            Step::Delay(d, next) => {
                tokio::time::sleep(d).await;
                step = *next;
            }
            Step::Json(v) => return respond(200, "application/json", v.to_string().into_bytes()),
            Step::Status(code, body) => {
                let kind = if serde_json::from_str::<Value>(&body).is_ok() {
                    "application/json"
                } else {
                    "text/plain"
                };
                return respond(code, kind, body.into_bytes());
            }
            Step::Garbage(bytes) => return respond(200, "application/json", bytes),
            Step::Sse(events) => {
                let mut out = String::new();
                for e in events {
                    out.push_str("data: ");
                    out.push_str(&e);
                    out.push_str("\n\n");
                }
                return respond(200, "text/event-stream", out.into_bytes());
            }
        }
    }
}

fn respond(code: u16, content_type: &str, body: Vec<u8>) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("a valid response")
}

/// A chat completion with text, finish reason `stop` and usage.
pub fn text_completion(
    model: &str,
    text: &str,
    prompt_tokens: u64,
    completion_tokens: u64,
) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop",
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    })
}

/// A chat completion calling tools: `(id, name, arguments JSON string)`.
pub fn tool_call_completion(model: &str, calls: &[(&str, &str, &str)]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, args)| {
            json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}})
        })
        .collect();
    json!({
        "id": "chatcmpl-tools",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": null, "tool_calls": calls},
            "finish_reason": "tool_calls",
        }],
        "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30},
    })
}
