//! Sampling answered by an OpenAI-compatible endpoint that the test serves
//! on 127.0.0.1 (`model_common`): the exact chat request each MCP sampling
//! shape becomes, the MCP result each reply becomes (checked against the
//! 2025-11-25 schema), refusals that never reach the model, failures of the
//! endpoint, budgets, approval, concurrency, and the whole path through a
//! real `Client` in both protocol eras.

mod model_common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use model_common::{text_completion, tool_call_completion, ModelServer, Step};
use serde_json::{json, Value};
use switchboard::model::{MaxTokensField, ModelClient, ModelEndpoint};
use switchboard::protocol::{
    CreateMessageResult, Era, ProtocolVersion, SamplingContent, SamplingMessageContent, StopReason,
    VersionChoice,
};
use switchboard::sampling::{
    Approval, ApprovalRequest, Budget, ModelCandidate, ModelChoice, SamplingBackend, SamplingConfig,
};
use switchboard::testing::{structured_result, TestServer, ToolDef};
use switchboard::{Client, HandlerError, RequestContext, Sampler, SamplingHandler, Source};

const KEY: &str = "sk-test-key-123";

fn endpoint(server: &ModelServer) -> ModelEndpoint {
    ModelEndpoint::new(server.base_url(), "default-model")
        .api_key(KEY)
        .timeout(Duration::from_secs(5))
}

fn model_backend(server: &ModelServer) -> SamplingBackend {
    SamplingBackend::model(ModelClient::new(endpoint(server)).unwrap())
}

fn sampler(server: &ModelServer) -> Sampler {
    Sampler::builder(model_backend(server)).start().unwrap()
}

fn ctx(server: &str) -> RequestContext {
    RequestContext {
        server: server.into(),
        era: Era::Handshake,
    }
}

async fn sample(
    s: &Sampler,
    server: &str,
    params: Value,
) -> Result<CreateMessageResult, HandlerError> {
    let params = serde_json::from_value(params).expect("valid sampling params");
    tokio::time::timeout(
        Duration::from_secs(20),
        s.create_message(params, ctx(server)),
    )
    .await
    .expect("sampling exceeded the test's deadline")
}

fn hello(max_tokens: u64) -> Value {
    json!({"messages": [{"role": "user", "content": {"type": "text", "text": "Hello"}}], "maxTokens": max_tokens})
}

/// Serialises the result and validates it against 2025-11-25's
/// `CreateMessageResult`.
fn assert_schema_valid(result: &CreateMessageResult) -> Value {
    static DEFS: OnceLock<Value> = OnceLock::new();
    let defs = DEFS.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/spec/schema-2025-11-25.json"
        );
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        schema["$defs"].clone()
    });
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/$defs/CreateMessageResult",
        "$defs": defs,
    });
    let instance = serde_json::to_value(result).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{instance:#}");
    instance
}

#[tokio::test]
async fn system_prompt_and_text_become_the_exact_chat_request() {
    let server = ModelServer::start(vec![Step::json(text_completion(
        "answering-model",
        "Hi there.",
        9,
        3,
    ))])
    .await;
    let s = sampler(&server);
    let result = sample(
        &s,
        "srv",
        json!({
            "systemPrompt": "You are terse.",
            "messages": [{"role": "user", "content": {"type": "text", "text": "Hello"}}],
            "maxTokens": 100,
            "includeContext": "thisServer",
        }),
    )
    .await
    .unwrap();

    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(
        seen[0].header("authorization"),
        Some("Bearer sk-test-key-123")
    );
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(
        seen[0].body,
        json!({
            "model": "default-model",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hello"},
            ],
            "max_tokens": 100,
        })
    );
    assert_eq!(
        assert_schema_valid(&result),
        json!({"role": "assistant", "content": {"type": "text", "text": "Hi there."},
               "model": "answering-model", "stopReason": "endTurn"})
    );
    let usage = s.usage("srv").await.unwrap();
    assert_eq!(
        (usage.requests, usage.tokens, usage.reserved_tokens),
        (1, 12, 0)
    );
}

#[tokio::test]
async fn images_and_audio_become_content_parts() {
    let server =
        ModelServer::start_repeating(Step::json(text_completion("m", "a cat", 1, 1))).await;
    let s = sampler(&server);
    sample(
        &s,
        "srv",
        json!({
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
                {"type": "audio", "data": "UklGRiQ=", "mimeType": "audio/wav"},
                {"type": "audio", "data": "SUQz", "mimeType": "audio/mpeg"},
            ]}],
            "maxTokens": 50,
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        server.requests()[0].body["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "input_audio", "input_audio": {"data": "UklGRiQ=", "format": "wav"}},
            {"type": "input_audio", "input_audio": {"data": "SUQz", "format": "mp3"}},
        ]}])
    );

    // Audio the API cannot take is refused here, not sent to fail there.
    let err = sample(
        &s,
        "srv",
        json!({"messages": [{"role": "user", "content": {"type": "audio", "data": "T2dn", "mimeType": "audio/ogg"}}],
               "maxTokens": 5}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, -32602, "{err}");
    assert!(err.message.contains("audio/ogg"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn limits_temperature_and_stop_sequences_use_the_configured_fields() {
    let server = ModelServer::start_repeating(Step::json(text_completion("m", "ok", 1, 1))).await;
    let client =
        ModelClient::new(endpoint(&server).max_tokens_field(MaxTokensField::MaxCompletionTokens))
            .unwrap();
    let s = Sampler::builder(SamplingBackend::model(client))
        .start()
        .unwrap();
    sample(
        &s,
        "srv",
        json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": "Count"}}],
            "maxTokens": 42,
            "temperature": 0.25,
            "stopSequences": ["\n\n", "END"],
            "metadata": {"trace": "x"},
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        server.requests()[0].body,
        json!({
            "model": "default-model",
            "messages": [{"role": "user", "content": "Count"}],
            "temperature": 0.25,
            "max_completion_tokens": 42,
            "stop": ["\n\n", "END"],
        })
    );
}

#[tokio::test]
async fn model_preferences_choose_the_model() {
    let server = ModelServer::start_repeating(Step::json(text_completion("m", "ok", 1, 1))).await;
    let client = ModelClient::new(endpoint(&server)).unwrap();
    let choice = ModelChoice {
        default: "default-model".into(),
        candidates: vec![
            ModelCandidate::new("small-fast", 0.1, 0.9, 0.3),
            ModelCandidate::new("big-smart", 0.9, 0.2, 1.0),
        ],
    };
    let s = Sampler::builder(SamplingBackend::Model { client, choice })
        .start()
        .unwrap();
    let cases = [
        (
            json!({"hints": [{"name": "gemini"}, {"name": "SMART"}]}),
            "big-smart",
        ),
        (
            json!({"hints": [{"name": "claude"}], "speedPriority": 1.0}),
            "small-fast",
        ),
        (
            json!({"costPriority": 0.2, "intelligencePriority": 0.9}),
            "big-smart",
        ),
        (json!({"hints": [{"name": "default"}]}), "default-model"),
        (json!({}), "default-model"),
    ];
    for (prefs, _) in &cases {
        let mut params = hello(5);
        params["modelPreferences"] = prefs.clone();
        sample(&s, "srv", params).await.unwrap();
    }
    let models: Vec<Value> = server
        .requests()
        .iter()
        .map(|r| r.body["model"].clone())
        .collect();
    let want: Vec<Value> = cases.iter().map(|(_, m)| json!(m)).collect();
    assert_eq!(models, want);
}

fn tool_conversation(result_id: &str) -> Value {
    json!({
        "messages": [
            {"role": "user", "content": {"type": "text", "text": "Weather in Paris and Lyon?"}},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Lyon"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "toolUseId": "call_1", "content": [{"type": "text", "text": "18C"}]},
                {"type": "tool_result", "toolUseId": result_id, "content": [], "structuredContent": {"c": 21}, "isError": false},
            ]},
        ],
        "tools": [{"name": "get_weather", "description": "Weather for a city",
                   "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
        "toolChoice": {"mode": "required"},
        "maxTokens": 200,
    })
}

#[tokio::test]
async fn tools_and_tool_history_map_both_ways() {
    let server = ModelServer::start(vec![
        Step::json(tool_call_completion(
            "tool-model",
            &[("call_3", "get_weather", "{\"city\":\"Nice\"}")],
        )),
        Step::json(tool_call_completion(
            "tool-model",
            &[("call_4", "get_weather", "[1,2]")],
        )),
    ])
    .await;
    let s = sampler(&server);
    assert!(s.supports_tools());
    let result = sample(&s, "srv", tool_conversation("call_2"))
        .await
        .unwrap();
    assert_eq!(
        server.requests()[0].body,
        json!({
            "model": "default-model",
            "messages": [
                {"role": "user", "content": "Weather in Paris and Lyon?"},
                {"role": "assistant", "content": "Checking.", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"}},
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
                {"role": "tool", "tool_call_id": "call_2", "content": "{\"c\":21}"},
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
            "tool_choice": "required",
            "max_tokens": 200,
        })
    );
    assert_eq!(
        assert_schema_valid(&result),
        json!({"role": "assistant", "model": "tool-model", "stopReason": "toolUse",
               "content": {"type": "tool_use", "id": "call_3", "name": "get_weather", "input": {"city": "Nice"}}})
    );
    assert_eq!(result.stop_reason, Some(StopReason::ToolUse));

    // Arguments that are not a JSON object are an error, not a panic.
    let err = sample(&s, "srv", hello(5)).await.unwrap_err();
    assert_eq!(err.code, -32603, "{err}");
    assert!(err.message.contains("not a JSON object"), "{err}");
}

#[tokio::test]
async fn mismatched_tool_ids_are_refused_before_the_model_is_asked() {
    let server = ModelServer::start_repeating(Step::json(text_completion("m", "x", 1, 1))).await;
    let s = sampler(&server);
    let err = sample(&s, "srv", tool_conversation("call_9"))
        .await
        .unwrap_err();
    assert_eq!(err.code, -32602, "{err}");
    assert!(err.message.contains("call_9"), "{err}");

    // A tool_use left unanswered is named too.
    let mut params = tool_conversation("call_2");
    params["messages"][2]["content"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    let err = sample(&s, "srv", params).await.unwrap_err();
    assert_eq!(err.code, -32602);
    assert!(err.message.contains("call_2"), "{err}");

    // A result with no tool_use before it at all.
    let err = sample(
        &s,
        "srv",
        json!({"messages": [{"role": "user", "content": {"type": "tool_result", "toolUseId": "ghost", "content": []}}],
               "maxTokens": 5}),
    )
    .await
    .unwrap_err();
    assert!(err.message.contains("ghost"), "{err}");
    assert!(server.requests().is_empty(), "nothing may reach the model");
}

/// Everything `tracing` writes on this thread while the guard lives.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn endpoint_failures_reach_the_server_as_a_generic_refusal() {
    // The endpoint's words can echo the key and internal addresses: the
    // untrusted MCP server gets none of them, our log gets them redacted.
    let server = ModelServer::start(vec![
        Step::Status(500, "{\"error\":{\"message\":\"model overloaded\"}}".into()),
        Step::Garbage(b"\x00\x01 not json at all".to_vec()),
        Step::Status(
            401,
            format!("bad key {KEY} at http://10.1.2.3:8000/internal"),
        ),
    ])
    .await;
    let s = sampler(&server);
    let (logs, _guard) = Logs::capture();
    for _ in 0..3 {
        let err = sample(&s, "srv", hello(5)).await.unwrap_err();
        assert_eq!(
            err.message,
            "sampling failed: the model could not answer this request"
        );
    }
    // No hidden retries: one request per sampling.
    assert_eq!(server.requests().len(), 3);
    let logged = logs.text();
    for detail in ["model overloaded", "malformed", "401", "10.1.2.3"] {
        assert!(logged.contains(detail), "{detail} not logged: {logged}");
    }
    assert!(!logged.contains(KEY), "the key was logged: {logged}");
}

#[tokio::test]
async fn a_hanging_endpoint_fails_within_the_deadline() {
    let server = ModelServer::start_repeating(Step::delay(30_000, Step::json(json!({})))).await;
    let client = ModelClient::new(endpoint(&server).timeout(Duration::from_millis(400))).unwrap();
    let s = Sampler::builder(SamplingBackend::model(client))
        .start()
        .unwrap();
    let started = Instant::now();
    let err = sample(&s, "srv", hello(5)).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        err.message,
        "sampling failed: the model did not answer in time"
    );
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    // The reservation was released and the request counted.
    let usage = s.usage("srv").await.unwrap();
    assert_eq!((usage.requests, usage.reserved_tokens), (1, 0));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = ModelClient::new(ModelEndpoint::new(
        format!("http://127.0.0.1:{port}/v1"),
        "m",
    ))
    .unwrap();
    let err = client
        .chat(&switchboard::model::ChatRequest::new("m"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "model_connect", "{err}");
    let err: switchboard::Error = err.into();
    assert!(matches!(err, switchboard::Error::Model(_)));
}

#[tokio::test]
async fn budgets_refuse_once_spent() {
    let server = ModelServer::start_repeating(Step::json(text_completion("m", "ok", 50, 10))).await;
    let s = Sampler::builder(model_backend(&server))
        .budget(Budget {
            requests: Some(2),
            tokens: None,
        })
        .start()
        .unwrap();
    sample(&s, "a", hello(10)).await.unwrap();
    sample(&s, "a", hello(10)).await.unwrap();
    let err = sample(&s, "a", hello(10)).await.unwrap_err();
    assert_eq!(err.code, -1, "{err}");
    assert!(err.message.contains("budget"), "{err}");
    // Budgets are per server.
    sample(&s, "b", hello(10)).await.unwrap();
    assert_eq!(server.requests().len(), 3);

    let server = ModelServer::start_repeating(Step::json(text_completion("m", "ok", 50, 10))).await;
    let s = Sampler::builder(model_backend(&server))
        .budget(Budget {
            requests: None,
            tokens: Some(100),
        })
        .start()
        .unwrap();
    // Each call is estimated at 2 + 10 tokens and uses 60.
    sample(&s, "a", hello(10)).await.unwrap();
    sample(&s, "a", hello(10)).await.unwrap();
    let err = sample(&s, "a", hello(10)).await.unwrap_err();
    assert!(err.message.contains("token budget"), "{err}");
    assert_eq!(server.requests().len(), 2);
    let usage = s.usage("a").await.unwrap();
    assert_eq!((usage.tokens, usage.refused), (120, 1));
    // A request whose own limit cannot fit is refused up front.
    let err = sample(&s, "fresh", hello(500)).await.unwrap_err();
    assert!(err.message.contains("token budget"), "{err}");
}

#[tokio::test]
async fn the_approval_hook_sees_every_request_first() {
    let server = ModelServer::start_repeating(Step::json(text_completion("m", "ok", 1, 1))).await;
    let reviewed = Arc::new(AtomicUsize::new(0));
    let r = reviewed.clone();
    let s = Sampler::builder(model_backend(&server))
        .approval(move |req: ApprovalRequest| {
            r.fetch_add(1, Ordering::SeqCst);
            async move {
                if req.server.as_ref() == "trusted" {
                    Approval::Approve
                } else {
                    Approval::Deny(format!("{} may not sample", req.server))
                }
            }
        })
        .start()
        .unwrap();
    let err = sample(&s, "shady", hello(5)).await.unwrap_err();
    assert_eq!(err.code, -1);
    assert!(err.message.contains("shady may not sample"), "{err}");
    assert!(server.requests().is_empty());
    sample(&s, "trusted", hello(5)).await.unwrap();
    assert_eq!(server.requests().len(), 1);
    assert_eq!(reviewed.load(Ordering::SeqCst), 2);

    // A hook that never answers refuses within its deadline.
    let s = Sampler::builder(model_backend(&server))
        .approval(|_req: ApprovalRequest| std::future::pending::<Approval>())
        .approval_timeout(Duration::from_millis(200))
        .start()
        .unwrap();
    let err = sample(&s, "x", hello(5)).await.unwrap_err();
    assert!(err.message.contains("not approved"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn the_budget_is_checked_before_anyone_is_asked_and_denials_cost_nothing() {
    let server = ModelServer::start_repeating(Step::json(text_completion("m", "ok", 1, 1))).await;
    let reviewed = Arc::new(AtomicUsize::new(0));
    let r = reviewed.clone();
    let s = Sampler::builder(model_backend(&server))
        .budget(Budget {
            requests: Some(1),
            tokens: None,
        })
        .approval(move |req: ApprovalRequest| {
            r.fetch_add(1, Ordering::SeqCst);
            async move {
                if req.params.messages[0].content.text() == "deny me" {
                    Approval::Deny("no".into())
                } else {
                    Approval::Approve
                }
            }
        })
        .start()
        .unwrap();
    let deny_me = json!({"messages": [{"role": "user", "content": {"type": "text", "text": "deny me"}}], "maxTokens": 5});
    // Denied: it spends none of the one request the budget allows.
    sample(&s, "a", deny_me).await.unwrap_err();
    sample(&s, "a", hello(5)).await.unwrap();
    assert_eq!(reviewed.load(Ordering::SeqCst), 2);
    // Spent: refused without bothering the approver.
    let err = sample(&s, "a", hello(5)).await.unwrap_err();
    assert!(err.message.contains("budget"), "{err}");
    assert_eq!(
        reviewed.load(Ordering::SeqCst),
        2,
        "the approver was not asked"
    );
    let usage = s.usage("a").await.unwrap();
    assert_eq!((usage.requests, usage.denied, usage.refused), (1, 1, 1));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_run_in_parallel() {
    let server = ModelServer::start_repeating(Step::delay(
        300,
        Step::json(text_completion("m", "ok", 1, 1)),
    ))
    .await;
    let s = sampler(&server);
    // Warm the connection pool and the actor.
    sample(&s, "srv", hello(5)).await.unwrap();
    let started = Instant::now();
    let calls = (0..4).map(|i| {
        let s = s.clone();
        async move { sample(&s, &format!("srv{}", i % 2), hello(5)).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let elapsed = started.elapsed();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(elapsed < Duration::from_millis(800), "took {elapsed:?}");
}

#[tokio::test]
async fn deterministic_backends_answer_without_a_model() {
    let text = Sampler::builder(SamplingBackend::Text("fixed".into()))
        .start()
        .unwrap();
    let r = sample(&text, "srv", hello(5)).await.unwrap();
    assert_eq!(r.content.text(), "fixed");
    assert!(!text.supports_tools());

    let scripted = Sampler::builder(SamplingBackend::Scripted(vec![
        serde_json::from_value(json!("one")).unwrap(),
        serde_json::from_value(
            json!({"role": "assistant", "model": "scripted-x", "stopReason": "toolUse",
            "content": {"type": "tool_use", "id": "t1", "name": "f", "input": {}}}),
        )
        .unwrap(),
    ]))
    .start()
    .unwrap();
    assert_eq!(
        sample(&scripted, "s", hello(5))
            .await
            .unwrap()
            .content
            .text(),
        "one"
    );
    let second = sample(&scripted, "s", hello(5)).await.unwrap();
    assert!(matches!(
        second.content,
        SamplingMessageContent::Single(SamplingContent::ToolUse(_))
    ));
    let err = sample(&scripted, "s", hello(5)).await.unwrap_err();
    assert!(err.message.contains("no replies left"), "{err}");

    let reject = Sampler::builder(SamplingBackend::Reject("not today".into()))
        .start()
        .unwrap();
    let err = sample(&reject, "s", hello(5)).await.unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (-1, "not today"));
}

#[tokio::test]
async fn a_config_section_builds_a_working_sampler() {
    let server = ModelServer::start_repeating(Step::json(text_completion("m", "ok", 1, 1))).await;
    let config: SamplingConfig = serde_json::from_value(json!({
        "mode": "model",
        "base_url": server.root_url(),
        "api_key_env": "SWITCHBOARD_TEST_NO_SUCH_KEY_VAR",
        "model": "configured-model",
        "models": [{"name": "configured-model-mini", "cost": 0.1, "speed": 1, "intelligence": 0.2}],
        "max_tokens_field": "max_completion_tokens",
        "timeout_secs": 2,
        "budget": {"requests": 1},
    }))
    .unwrap();
    let s = Sampler::from_config(&config).unwrap();
    let mut params = hello(7);
    params["modelPreferences"] = json!({"hints": [{"name": "mini"}]});
    sample(&s, "srv", params).await.unwrap();
    let seen = server.requests();
    assert_eq!(seen[0].path, "/chat/completions");
    assert_eq!(seen[0].header("authorization"), None, "no key configured");
    assert_eq!(seen[0].body["model"], "configured-model-mini");
    assert_eq!(seen[0].body["max_completion_tokens"], 7);
    assert!(sample(&s, "srv", hello(7))
        .await
        .unwrap_err()
        .message
        .contains("budget"));
}

/// A server whose `ask` tool samples with the params it is given and
/// returns the client's answer as structured content.
fn asking_server() -> TestServer {
    TestServer::builder("asker")
        .tool(ToolDef::new("ask"), |ctx, args| async move {
            let reply = ctx.sample(args).await?;
            Ok(structured_result(reply))
        })
        .build()
}

#[tokio::test]
async fn a_real_client_answers_its_server_in_both_eras() {
    let eras = [
        (VersionChoice::Auto, ProtocolVersion::V2026_07_28),
        (
            VersionChoice::Exact(ProtocolVersion::V2025_11_25),
            ProtocolVersion::V2025_11_25,
        ),
    ];
    for (choice, version) in eras {
        let server = ModelServer::start(vec![
            Step::json(text_completion("era-model", "the answer", 4, 2)),
            Step::json(tool_call_completion(
                "era-model",
                &[("call_7", "lookup", "{\"q\":\"x\"}")],
            )),
        ])
        .await;
        let s = sampler(&server);
        let client = Client::builder(Source::memory(asking_server()))
            .name("asker")
            .protocol(choice)
            .timeout(Duration::from_secs(10))
            .sampling(s.clone())
            .connect()
            .await
            .unwrap();
        assert_eq!(client.protocol_version(), Some(version));
        let out = client
            .call_tool(
                "ask",
                json!({"systemPrompt": "Be brief.", "maxTokens": 30,
                       "messages": [{"role": "user", "content": {"type": "text", "text": "Question?"}}]}),
            )
            .await
            .unwrap();
        assert_eq!(
            out.structured().unwrap(),
            &json!({"role": "assistant", "content": {"type": "text", "text": "the answer"},
                    "model": "era-model", "stopReason": "endTurn"}),
            "{version:?}"
        );
        let out = client
            .call_tool(
                "ask",
                json!({"maxTokens": 30, "tools": [{"name": "lookup", "inputSchema": {"type": "object"}}],
                       "messages": [{"role": "user", "content": {"type": "text", "text": "Look it up"}}]}),
            )
            .await
            .unwrap();
        assert_eq!(
            out.structured().unwrap()["content"],
            json!({"type": "tool_use", "id": "call_7", "name": "lookup", "input": {"q": "x"}}),
            "{version:?}"
        );
        let seen = server.requests();
        assert_eq!(seen.len(), 2, "{version:?}");
        assert_eq!(
            seen[0].body["messages"],
            json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Question?"}])
        );
        assert_eq!(seen[1].body["tools"][0]["function"]["name"], "lookup");
        let usage = s.usage("asker").await.unwrap();
        assert_eq!((usage.requests, usage.tokens), (2, 36), "{version:?}");
        client.close().await.unwrap();
    }
}
