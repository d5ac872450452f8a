//! Against a real model: llama.cpp's server with SmolLM2-135M (see
//! `tests/llama/mod.rs`), each test with its own server on 127.0.0.1.
//! Answer quality is not the point; the wire is: real streamed chunks,
//! real usage counts, real error bodies, real latency. Covered: the model
//! client streamed and not; `--sampling model` answering a real server's
//! sampling request in both eras (server-everything's
//! `trigger-sampling-request` in 2025-11-25, the MCP SDK peer's
//! input-required `ask_sampling` in 2026-07-28) through the sampling actor;
//! a sampling budget in 2026-07-28 rounds; the agent loop through
//! `switchboard run` and through the library over real MCP servers; token
//! budgets and deadlines against the slow model; a model that dies
//! mid-stream.

mod common;
mod llama;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use llama::{Llama, MODEL};
use serde_json::{json, Value};
use switchboard::agent::{Agent, Limits, StopReason, ToolRules, Unstreamed};
use switchboard::model::{
    ChatMessage, ChatRequest, ChatToolChoice, ModelClient, ModelEndpoint, ModelError,
};
use switchboard::protocol::Era;
use switchboard::sampling::{Budget, ModelChoice, Sampler, SamplingBackend};
use switchboard::{Fleet, Member};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Every test's own bound (model load, generation on two shared cores).
const LIMIT: Duration = Duration::from_secs(150);

fn client(llama: &Llama, timeout: Duration) -> ModelClient {
    ModelClient::new(ModelEndpoint::new(&llama.base_url, MODEL).timeout(timeout)).unwrap()
}

fn ask(text: &str, max_tokens: u64) -> ChatRequest {
    let mut r = ChatRequest::new(MODEL).message(ChatMessage::user(text));
    r.max_tokens = Some(max_tokens);
    r.temperature = Some(0.0);
    r
}

/// Runs `switchboard` with the model's environment, bounded.
async fn switchboard(args: &[String], llama: &Llama) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .env("OPENAI_BASE_URL", &llama.base_url)
        .env("SWITCHBOARD_MODEL", MODEL)
        .env_remove("OPENAI_API_KEY")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("switchboard finished in time")
        .expect("run switchboard")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reads_real_replies_streamed_and_not_and_real_error_bodies() {
    common::within(LIMIT, async {
        let llama = Llama::start().await;
        let model = client(&llama, Duration::from_secs(60));

        let started = Instant::now();
        let reply = model.chat(&ask("Say hello.", 8)).await.expect("chat");
        let whole = started.elapsed();
        let usage = reply.usage.expect("llama.cpp reports usage");
        assert_eq!(usage.completion_tokens, 8, "{reply:?}");
        assert!(usage.prompt_tokens > 0);
        assert_eq!(usage.total_tokens, usage.prompt_tokens + 8);
        assert_eq!(reply.finish_reason.as_deref(), Some("length"));
        assert!(!reply.text.is_empty());

        let mut deltas = Vec::new();
        let mut first = None;
        let started = Instant::now();
        let streamed = model
            .chat_stream(&ask("Say hello.", 8), |d| {
                first.get_or_insert_with(|| started.elapsed());
                deltas.push(d.to_owned());
            })
            .await
            .expect("chat_stream");
        let stream_total = started.elapsed();
        assert!(deltas.len() > 1, "real deltas: {deltas:?}");
        assert_eq!(deltas.concat(), streamed.text);
        assert_eq!(streamed.usage.expect("usage in the last chunk").completion_tokens, 8);
        assert_eq!(streamed.text, reply.text, "temperature 0: the same text");
        eprintln!(
            "8 tokens: {whole:?} whole; streamed first delta after {:?}, all after {stream_total:?}",
            first.unwrap_or_default()
        );

        // A real 4xx: its status and body are kept.
        let mut bad = ask("x", 4);
        bad.extra.insert("n_probs".into(), json!("not a number"));
        match model.chat(&bad).await {
            Err(ModelError::Http { status, body }) => {
                assert_eq!(status, 400);
                assert!(body.contains("n_probs"), "{body}");
            }
            other => panic!("expected HTTP 400, got {other:?}"),
        }
        // The same to a streamed request (answered with plain JSON).
        match model.chat_stream(&bad, |_| {}).await {
            Err(ModelError::Http { status: 400, body }) => assert!(body.contains("n_probs")),
            other => panic!("expected HTTP 400, got {other:?}"),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_dies_mid_stream_is_an_error() {
    common::within(LIMIT, async {
        let mut llama = Llama::start().await;
        let model = client(&llama, Duration::from_secs(60));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut tx = Some(tx);
        let heard = Arc::new(Mutex::new(String::new()));
        let h = heard.clone();
        let call = tokio::spawn(async move {
            model
                .chat_stream(
                    &ask("Write a long story about a lighthouse.", 400),
                    move |d| {
                        h.lock().unwrap().push_str(d);
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(());
                        }
                    },
                )
                .await
        });
        tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .expect("a first delta")
            .expect("the stream started");
        llama.kill().await;
        let out = tokio::time::timeout(Duration::from_secs(30), call)
            .await
            .expect("the call ends once the server is gone")
            .unwrap();
        match out {
            Err(ModelError::Malformed { detail }) => eprintln!("cut stream: {detail}"),
            other => panic!("a cut stream must be an error, got {other:?}"),
        }
        assert!(!heard.lock().unwrap().is_empty());
    })
    .await
}

/// `switchboard call ... --sampling model` with the model from the
/// environment: the sampling actor asks the real model.
async fn sampling_call(llama: &Llama, server: String, tool: &str, args: Value) -> Value {
    let started = Instant::now();
    let out = switchboard(
        &[
            "call".into(),
            server,
            tool.into(),
            args.to_string(),
            "--sampling".into(),
            "model".into(),
            "--json".into(),
        ],
        llama,
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "--sampling model {tool}: {:?} end to end",
        started.elapsed()
    );
    common::stdout_json(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_model_answers_server_everything_in_2025_11_25() {
    common::within(LIMIT, async {
        let llama = Llama::start().await;
        let everything = format!("node {} stdio", common::everything_js().display());
        let result = sampling_call(
            &llama,
            everything,
            "trigger-sampling-request",
            json!({"prompt": "Say hello.", "maxTokens": 8}),
        )
        .await;
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        // server-everything echoes the sampling result it got: the model's.
        assert!(text.contains("LLM sampling result"), "{result}");
        assert!(text.contains(MODEL) || text.contains("gguf"), "{result}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_model_answers_input_required_rounds_in_2026_07_28() {
    common::within(LIMIT, async {
        let llama = Llama::start().await;
        let rounds = format!(
            "{} {}",
            common::python().display(),
            common::peer_script("rounds_server.py").display()
        );
        let result = sampling_call(&llama, rounds, "ask_sampling", json!({})).await;
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(!text.trim().is_empty(), "the model's text: {result}");
        assert_ne!(result["isError"], true, "{result}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sampling_budget_holds_in_2026_07_28_rounds_with_a_real_model() {
    common::within(LIMIT, async {
        let llama = Llama::start().await;
        let marker = common::marker("real-budget");
        let sampler = Sampler::builder(SamplingBackend::Model {
            client: client(&llama, Duration::from_secs(60)),
            choice: ModelChoice {
                default: MODEL.into(),
                candidates: Vec::new(),
            },
        })
        .budget(Budget {
            requests: Some(1),
            tokens: None,
        })
        .start()
        .unwrap();
        let client = common::rounds(&marker)
            .sampling(sampler.clone())
            .connect()
            .await
            .expect("connect");
        assert_eq!(client.era(), Some(Era::Modern));
        let first = client.call_tool("ask_sampling", ()).await.expect("first");
        assert!(!first.is_error() && !first.text().is_empty(), "{first:?}");
        let second = client.call_tool("ask_sampling", ()).await;
        let usage = sampler.usage("rounds").await.unwrap();
        match &second {
            Err(e) => assert!(e.to_string().contains("budget"), "{e}"),
            Ok(out) => panic!("a second request passed a one-request budget: {out:?} {usage:?}"),
        }
        assert_eq!((usage.requests, usage.refused), (1, 1), "{usage:?}");
        assert!(usage.tokens > 0, "real usage counted: {usage:?}");
        let _ = client.close().await;
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await
}

fn agent_file(dir: &std::path::Path, llama: &Llama) -> std::path::PathBuf {
    let path = dir.join("real.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "real-agent"
system_prompt = "Use the tools."

[model]
model = "{MODEL}"
base_url = "{}"
temperature = 0
max_tokens = 160
tool_choice = "required"
extra = {{ parallel_tool_calls = false, logit_bias = [["{{", 10]] }}

[servers.demo]
command = "{BIN}"
args = ["serve-test", "--eras", "handshake"]

[tools]
allow = ["demo_add"]

[limits]
max_steps = 2
"#,
            llama.base_url
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switchboard_run_drives_real_tools_with_the_real_model() {
    common::within(LIMIT, async {
        let llama = Llama::start().await;
        let dir = tempfile::tempdir().unwrap();
        let agent = agent_file(dir.path(), &llama);
        let started = Instant::now();
        let out = switchboard(
            &[
                "run".into(),
                agent.display().to_string(),
                "Add 20 and 22.".into(),
                "--json".into(),
            ],
            &llama,
        )
        .await;
        eprintln!("switchboard run, 2 steps: {:?}", started.elapsed());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "max_steps is a limit: {err}");
        let t = common::stdout_json(&out);
        assert_eq!(t["agent"], "real-agent");
        let steps = t["steps"].as_array().expect("steps");
        assert_eq!(steps.len(), 2, "{t}");
        for step in steps {
            let call = &step["tool_calls"][0];
            let name = call["name"].as_str().unwrap_or_default();
            assert_eq!(name, "demo_add", "a real tool of the demo server: {t}");
            assert!(
                call["output"].as_str().is_some_and(|o| !o.is_empty()),
                "{t}"
            );
        }
        assert!(t["tokens"]["total"].as_u64().unwrap_or(0) > 0, "{t}");
    })
    .await
}

/// The 135M model calls no tool on its own. With `tool_choice: "required"`
/// and `parallel_tool_calls: false` llama.cpp constrains its reply to one
/// call, but lets it write text first (as long as it likes); a bias
/// towards `{` makes the call start at once. (Tools with number arguments
/// only: inside a string the bias would write braces.)
fn forced_call() -> serde_json::Map<String, Value> {
    serde_json::Map::from_iter([
        ("parallel_tool_calls".to_owned(), json!(false)),
        ("logit_bias".to_owned(), json!([["{", 10]])),
    ])
}

/// A fleet of real MCP servers: server-everything and the FastMCP peer.
async fn real_fleet(marker: &str) -> Fleet {
    let (m1, m2) = (marker.to_owned(), marker.to_owned());
    Fleet::builder()
        .member(Member::new("everything", move || common::everything(&m1)))
        .member(Member::new("fastmcp", move || common::fastmcp(&m2)))
        .build()
        .await
        .expect("fleet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_agent_calls_real_servers_streamed_and_not() {
    common::within(LIMIT, async {
        let llama = Llama::start().await;
        let marker = common::marker("real-agent");
        let adders = ToolRules {
            allow: vec!["everything_get-sum".into(), "fastmcp_add".into()],
            ..ToolRules::default()
        };
        for streamed in [true, false] {
            let fleet = real_fleet(&marker).await;
            let model = client(&llama, Duration::from_secs(60));
            let builder = if streamed {
                Agent::builder(fleet, model)
            } else {
                Agent::builder(fleet, Unstreamed(model))
            };
            let agent = builder
                .system_prompt("Use the tools.")
                .tools(adders.clone())
                .tool_choice(ChatToolChoice::Required)
                .request_extra(forced_call())
                .temperature(0.0)
                .max_tokens(160)
                .limits(Limits {
                    max_steps: 2,
                    ..Limits::default()
                })
                .build();
            let started = Instant::now();
            let t = agent.run("Add 20 and 22.").await;
            eprintln!(
                "library agent (streamed={streamed}), 2 steps: {:?}, {} tokens",
                started.elapsed(),
                t.tokens.total
            );
            assert_eq!(t.stop, StopReason::MaxSteps(2), "{t:?}");
            for call in t.tool_calls() {
                assert!(
                    call.name.starts_with("everything_") || call.name.starts_with("fastmcp_"),
                    "{call:?}"
                );
                assert!(!call.output.is_empty(), "{call:?}");
            }
            assert_eq!(t.tool_calls().count(), 2, "{t:?}");
            assert!(t.tokens.total > 0);
            agent.close().await.expect("close");
        }
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_budgets_and_deadlines_stop_a_real_slow_model() {
    common::within(LIMIT, async {
        let llama = Llama::start().await;
        let marker = common::marker("real-limits");

        // The deadline: a long answer at tens of tokens a second passes 1.5 s.
        let fleet = real_fleet(&marker).await;
        let agent = Agent::builder(fleet, client(&llama, Duration::from_secs(60)))
            .tools(ToolRules {
                deny: vec!["*".into()],
                ..ToolRules::default()
            })
            .max_tokens(600)
            .limits(Limits {
                deadline: Duration::from_millis(1500),
                ..Limits::default()
            })
            .build();
        let started = Instant::now();
        let t = agent.run("Write a very long story about the sea.").await;
        let took = started.elapsed();
        assert_eq!(t.stop, StopReason::Deadline(1500), "{t:?}");
        assert!(
            took < Duration::from_secs(5),
            "stopped at the deadline: {took:?}"
        );
        agent.close().await.expect("close");

        // The token budget: real usage spends 40 tokens in the first step.
        let fleet = real_fleet(&marker).await;
        let agent = Agent::builder(fleet, client(&llama, Duration::from_secs(60)))
            .system_prompt("Use the tools.")
            .tools(ToolRules {
                allow: vec!["fastmcp_add".into()],
                ..ToolRules::default()
            })
            .temperature(0.0)
            .tool_choice(ChatToolChoice::Required)
            .request_extra(forced_call())
            .max_tokens(160)
            .limits(Limits {
                token_budget: Some(40),
                ..Limits::default()
            })
            .build();
        let t = agent.run("Add 20 and 22.").await;
        assert_eq!(t.stop, StopReason::TokenBudget(40), "{t:?}");
        assert_eq!(t.steps.len(), 1, "{t:?}");
        assert!(t.tokens.total > 40, "real usage: {:?}", t.tokens);
        agent.close().await.expect("close");
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await
}
