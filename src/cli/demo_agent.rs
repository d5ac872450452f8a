//! `switchboard demo`: an agent over built-in servers, with no network and
//! no key. One server runs in this process (in-memory transport, 2026-07-28),
//! one is a real child process spawned from this binary (stdio, handshake
//! era). A deterministic planner plays the model; it asks for tool calls in
//! parallel, crashes the child (its supervisor restarts it), and calls
//! tools that make the servers ask us for sampling (answered by the
//! sampling actor) and for a form (answered by the policy's rules).
//!
//! With `SWITCHBOARD_MODEL` set (and `OPENAI_BASE_URL`, `OPENAI_API_KEY`),
//! a real model plans instead, and answers the servers' sampling too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::args::Global;
use super::live::LiveView;
use super::shutdown::outln;
use crate::agent::{Agent, ChatModel, Limits, PlannedCall, Planner, StopReason};
use crate::sampling::{ModelChoice, ModelConfig, SamplingBackend};
use crate::testing::demo_server;
use crate::{Client, Error, Fleet, Member, RestartPolicy, Result, Sampler, Source};

const PROMPT: &str = "Add 2 and 40, say hello from the child process, count three slow \
steps, then restart the worker, summarize what MCP does, and confirm the deploy.";

pub(super) async fn run(global: &Global) -> Result<u8> {
    let started = Instant::now();
    let exe = std::env::current_exe().map_err(Error::Io)?;
    let exe = exe.to_string_lossy().into_owned();
    let real_model = std::env::var("SWITCHBOARD_MODEL").is_ok_and(|m| !m.trim().is_empty());

    let (model, sampler): (Arc<dyn ChatModel>, Sampler) = if real_model {
        let endpoint = ModelConfig::default()
            .endpoint(&|name| std::env::var(name).ok())
            .map_err(|e| {
                // One "configuration:" label, not two.
                let reason = e
                    .as_config()
                    .map_or_else(|| e.to_string(), |c| c.reason.clone());
                Error::config(format!("demo (SWITCHBOARD_MODEL is set): {reason}"))
            })?;
        let client = crate::model::ModelClient::new(endpoint.clone())?;
        let sampler = Sampler::builder(SamplingBackend::Model {
            client: client.clone(),
            choice: ModelChoice {
                default: endpoint.model.clone(),
                candidates: Vec::new(),
            },
        })
        .start()?;
        (Arc::new(client), sampler)
    } else {
        let sampler = Sampler::builder(SamplingBackend::Text(
            "MCP lets a model use tools, data and prompts from any server through one protocol."
                .into(),
        ))
        .start()?;
        (Arc::new(planner()), sampler)
    };

    // With --json, stdout carries only the transcript.
    let json = global.json;
    macro_rules! say {
        ($($arg:tt)*) => {
            if json { eprintln!($($arg)*) } else { outln!($($arg)*) }
        };
    }
    say!("Switchboard demo: an agent over two built-in MCP servers.");
    say!(
        "  model:   {}",
        if real_model {
            format!("{} (from SWITCHBOARD_MODEL)", model.name())
        } else {
            "the built-in deterministic planner (no network, no API key)".into()
        }
    );
    say!("  notes:   an in-process server (in-memory transport)");
    say!(
        "  worker:  a child process, `{} serve-test --eras handshake`, supervised",
        short(&exe)
    );
    say!("  prompt:  {PROMPT}\n");

    let policy = demo_policy()?;
    let worker_exe = exe.clone();
    let fleet = Fleet::builder()
        .member(Member::new("notes", || {
            Client::builder(Source::memory(demo_server()))
        }))
        .member(Member::new("worker", move || {
            Client::builder(Source::stdio(
                worker_exe.clone(),
                ["serve-test", "--eras", "handshake", "--crash-tool"],
            ))
            .restart(RestartPolicy {
                backoff_initial: Duration::from_millis(50),
                ..RestartPolicy::default()
            })
        }))
        .sampling(sampler.clone())
        .elicitation(policy.clone())
        .roots_handler(policy)
        .build()
        .await?;
    let agent = Agent::builder_arc(fleet, model)
        .name("demo")
        .system_prompt(
            "You run tasks with the tools you are given. Call independent tools together.",
        )
        .limits(Limits {
            max_steps: 8,
            deadline: global
                .timeout()
                .clamp(Duration::from_secs(5), Duration::from_secs(600)),
            ..Limits::default()
        })
        .build();

    let view = LiveView::new(!global.json);
    let transcript = agent
        .run_with(PROMPT, &view, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;

    let health = agent.fleet().health();
    agent.close().await?;
    if global.json {
        super::output::json(&transcript);
    } else {
        outln!("\nWhat happened:");
        for step in &transcript.steps {
            if step.tool_calls.is_empty() {
                continue;
            }
            let parallel = if step.tool_calls.len() > 1 {
                format!("{} calls in parallel", step.tool_calls.len())
            } else {
                "1 call".into()
            };
            outln!("  step {} ({parallel}, {} ms):", step.index, step.tools_ms);
            for call in &step.tool_calls {
                let first: String = call
                    .output
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(90)
                    .collect();
                outln!(
                    "    {} {} -> {first}",
                    if call.is_error { "✗" } else { "✓" },
                    call.name
                );
            }
        }
        for h in &health {
            outln!(
                "  server {}: {} after {} restart(s), {} calls",
                h.name,
                h.state,
                h.restarts,
                h.calls
            );
        }
        if let Ok(usage) = sampler.usage("notes").await {
            outln!(
                "  sampling: {} request(s) from notes answered by the sampling actor",
                usage.requests
            );
        }
        outln!(
            "\nDone in {:.2} s ({}). Every server is shut down; no process is left behind.",
            started.elapsed().as_secs_f64(),
            transcript.stop
        );
    }
    Ok(match transcript.stop {
        StopReason::FinalAnswer => 0,
        _ => super::EXIT_TOOL_ERROR,
    })
}

/// The planner's script for the demo's prompt.
fn planner() -> Planner {
    Planner::new()
        .step([
            PlannedCall::new("notes_add", json!({"a": 2, "b": 40})),
            PlannedCall::new("worker_echo", json!({"text": "hello from a child process"})),
            PlannedCall::new("notes_slow", json!({"steps": 3, "ms": 150})),
        ])
        .step([PlannedCall::new("worker_crash", json!({}))])
        .step([
            PlannedCall::new("worker_echo", json!({"text": "back after the restart"})),
            PlannedCall::new(
                "notes_summarize",
                json!({"text": "The Model Context Protocol connects models to tools and data."}),
            ),
            PlannedCall::new("worker_confirm", json!({"action": "deploy"})),
        ])
}

fn short(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The demo's policy: the worker's deploy confirmation is accepted by a
/// rule; any other form is declined; every server sees one root.
fn demo_policy() -> Result<crate::Policy> {
    let config: crate::policy::PolicyConfig = serde_json::from_value(json!({
        "elicitation": {
            "rules": [{"server": "worker", "message": "*deploy*", "action": "accept",
                       "values": {"confirm": true}}],
            "default": "decline",
        },
        "roots": {"*": ["file:///tmp/switchboard-demo"]},
    }))
    .map_err(|e| Error::config(format!("demo policy: {e}")))?;
    crate::Policy::new(config).map_err(|e| Error::config(format!("demo policy: {e}")))
}
