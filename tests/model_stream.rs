//! `ModelClient::chat_stream` against an endpoint served on 127.0.0.1:
//! the request asks for a stream with usage, text deltas arrive in order,
//! tool calls and usage are assembled, and failures stay typed.

mod model_common;

use std::time::{Duration, Instant};

use model_common::{text_completion, ModelServer, Step};
use serde_json::json;
use switchboard::model::{ChatMessage, ChatRequest, ModelClient, ModelEndpoint, ModelError};

fn client(server: &ModelServer, timeout: Duration) -> ModelClient {
    ModelClient::new(
        ModelEndpoint::new(server.base_url(), "stream-model")
            .api_key("sk-stream")
            .timeout(timeout),
    )
    .unwrap()
}

fn request() -> ChatRequest {
    let mut r = ChatRequest::new("stream-model").message(ChatMessage::user("Hi"));
    r.max_tokens = Some(20);
    r
}

#[tokio::test]
async fn deltas_arrive_and_the_reply_is_assembled() {
    let chunks = [
        json!({"model": "served-model", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]}),
        json!({"choices": [{"index": 0, "delta": {"content": "lo!"}}]}),
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
            "function": {"name": "lookup", "arguments": "{\"q\":"}}]}}]}),
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"x\"}"}}]}}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9}}),
    ];
    let mut events: Vec<String> = chunks.iter().map(|c| c.to_string()).collect();
    events.push("[DONE]".into());
    let server = ModelServer::start(vec![Step::Sse(events)]).await;
    let mut deltas = Vec::new();
    let reply = client(&server, Duration::from_secs(5))
        .chat_stream(&request(), |t| deltas.push(t.to_owned()))
        .await
        .unwrap();
    assert_eq!(deltas, ["Hel", "lo!"]);
    assert_eq!(reply.text, "Hello!");
    assert_eq!(reply.model, "served-model");
    assert_eq!(reply.tool_calls[0].name, "lookup");
    assert_eq!(reply.tool_calls[0].parsed, Some(json!({"q": "x"})));
    assert_eq!(reply.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(reply.usage.unwrap().total_tokens, 9);
    let seen = server.requests();
    assert_eq!(
        seen[0].body,
        json!({"model": "stream-model", "messages": [{"role": "user", "content": "Hi"}],
               "max_tokens": 20, "stream": true, "stream_options": {"include_usage": true}})
    );
    assert_eq!(seen[0].header("authorization"), Some("Bearer sk-stream"));
}

#[tokio::test]
async fn a_plain_json_answer_is_accepted_and_failures_stay_typed() {
    let server = ModelServer::start(vec![
        Step::json(text_completion("m", "whole", 1, 1)),
        Step::Status(503, "busy".into()),
        Step::Sse(vec![
            "{\"choices\": [{\"delta\": {\"content\": \"cut\"}}]}".into()
        ]),
        Step::delay(10_000, Step::Sse(vec!["[DONE]".into()])),
    ])
    .await;
    let c = client(&server, Duration::from_millis(500));
    let mut deltas = Vec::new();
    let reply = c
        .chat_stream(&request(), |t| deltas.push(t.to_owned()))
        .await
        .unwrap();
    assert_eq!((reply.text.as_str(), deltas.len()), ("whole", 1));
    let err = c.chat_stream(&request(), |_| {}).await.unwrap_err();
    assert!(
        matches!(err, ModelError::Http { status: 503, .. }),
        "{err:?}"
    );
    let err = c.chat_stream(&request(), |_| {}).await.unwrap_err();
    assert!(matches!(err, ModelError::Malformed { .. }), "{err:?}");
    let started = Instant::now();
    let err = c.chat_stream(&request(), |_| {}).await.unwrap_err();
    assert!(matches!(err, ModelError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}
