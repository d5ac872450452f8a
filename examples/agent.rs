//! How do I run an LLM agent (a tool loop) over MCP servers?
//!
//! An [`Agent`] is a model, a system prompt, a [`Fleet`] of servers and
//! limits. Each turn the model sees the fleet's tools (namespaced
//! `<server>_<tool>`); the calls it asks for run in parallel through the
//! fleet and their results go back to it, until it answers or a limit
//! stops the run. The [`Transcript`] records every step.
//!
//! Three ways to run it:
//!
//! ```text
//! cargo run --example agent                                 # offline: a scripted planner plays the model
//! SWITCHBOARD_MODEL=gpt-4o-mini OPENAI_API_KEY=... cargo run --example agent -- "Add 2 and 40"
//! cargo run --example agent -- agents/researcher.toml "What is MCP?"   # an agent definition
//! ```
//!
//! - Offline (default): two built-in servers in this process, and the
//!   deterministic [`Planner`] as the model: it asks for a fixed plan of
//!   tool calls (three in parallel, then two that make the server ask us
//!   for sampling and for a form), then answers with what came back.
//! - `SWITCHBOARD_MODEL` set: a real OpenAI-compatible model plans
//!   (`OPENAI_BASE_URL`, `OPENAI_API_KEY`), and answers the servers'
//!   sampling too.
//! - A `.toml` agent definition as the first argument: its servers, tools,
//!   limits and model. If it names no model and `SWITCHBOARD_MODEL` is
//!   unset, the planner stands in (it then only lists the tools it was
//!   offered). A definition that runs offline:
//!
//!   ```toml
//!   name = "offline"
//!   [model]
//!   provider = "planner"
//!   [servers.notes]
//!   url = "memory://demo"
//!   ```
//!
//! Any further arguments are the prompt.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchboard::agent::{
    model_for, Agent, AgentDefinition, ChatModel, Limits, ModelSettings, PlannedCall, Planner,
    Provider, RunObserver, ToolCallRecord, Transcript,
};
use switchboard::model::ModelClient;
use switchboard::policy::PolicyConfig;
use switchboard::sampling::{ModelConfig, SamplingBackend};
use switchboard::testing::demo_server;
use switchboard::{Client, Fleet, Member, Policy, Sampler, Source};

const DEFAULT_PROMPT: &str = "Add 2 and 40, echo a greeting, count two slow steps, \
then summarize what MCP is and confirm the deploy.";

/// The offline model: a fixed plan over the fleet's namespaced tools.
fn planner() -> Planner {
    Planner::new()
        // Step 1: three calls at once (they run in parallel).
        .step([
            PlannedCall::new("calc_add", json!({"a": 2, "b": 40})),
            PlannedCall::new("notes_echo", json!({"text": "hello from the agent"})),
            PlannedCall::new("notes_slow", json!({"steps": 2, "ms": 100})),
        ])
        // Step 2: tools that ask us things back: sampling (answered by
        // the Sampler) and a form (answered by the Policy's rule).
        .step([
            PlannedCall::new(
                "notes_summarize",
                json!({"text": "The Model Context Protocol connects models to tools and data."}),
            ),
            PlannedCall::new("notes_confirm", json!({"action": "deploy"})),
        ])
}

/// Prints tool calls as they finish (the transcript has them all too).
struct Live;

impl RunObserver for Live {
    fn step_started(&self, index: u32, tools_offered: usize) {
        println!("  step {index}: the model sees {tools_offered} tools");
    }
    fn tool_finished(&self, call: &ToolCallRecord) {
        println!(
            "    {} {} ({} ms)",
            if call.is_error { "✗" } else { "✓" },
            call.name,
            call.ms
        );
    }
}

fn real_model_configured() -> bool {
    std::env::var("SWITCHBOARD_MODEL").is_ok_and(|m| !m.trim().is_empty())
}

/// The agent over built-in servers, with the planner or a real model.
async fn built_in_agent() -> Result<Agent, Box<dyn Error>> {
    let (model, sampling): (Arc<dyn ChatModel>, SamplingBackend) = if real_model_configured() {
        // The model settings of an agent file, all from the environment.
        let model = model_for(&ModelSettings::default(), |k| std::env::var(k).ok())?;
        let endpoint = ModelConfig::default().endpoint(&|k| std::env::var(k).ok())?;
        let sampling = SamplingBackend::model(ModelClient::new(endpoint)?);
        (model, sampling)
    } else {
        let sampling = SamplingBackend::Text(
            "MCP lets a model use tools, data and prompts from any server through one protocol."
                .into(),
        );
        (Arc::new(planner()), sampling)
    };
    println!("model: {}", model.name());

    // Forms: the deploy confirmation is accepted by a rule, anything else
    // declined (see the elicitation_to_a_human example for asking a person).
    let policy_config: PolicyConfig = serde_json::from_value(json!({
        "elicitation": {
            "rules": [{"message": "*deploy*", "action": "accept", "values": {"confirm": true}}],
            "default": "decline"
        }
    }))?;
    let fleet = Fleet::builder()
        .member(Member::new("notes", || {
            Client::builder(Source::memory(demo_server()))
        }))
        .member(Member::new("calc", || {
            Client::builder(Source::memory(demo_server()))
        }))
        .sampling(Sampler::builder(sampling).start()?)
        .elicitation(Policy::new(policy_config)?)
        .build()
        .await?;
    Ok(Agent::builder_arc(fleet, model)
        .name("example")
        .system_prompt(
            "You run tasks with the tools you are given. Call independent tools together.",
        )
        .limits(Limits {
            max_steps: 6,
            deadline: Duration::from_secs(120),
            ..Limits::default()
        })
        .build())
}

/// The agent a definition file describes.
async fn agent_from_file(path: &str) -> Result<Agent, Box<dyn Error>> {
    let definition = AgentDefinition::from_path(path)?;
    println!(
        "agent {:?} from {}: servers {}",
        definition.name,
        definition.origin,
        definition.servers.names().collect::<Vec<_>>().join(", ")
    );
    let has_model = definition.model.provider == Provider::Planner
        || definition.model.model.is_some()
        || real_model_configured();
    let agent = if has_model {
        // Its model from the file and the environment.
        Agent::from_definition(&definition).await?
    } else {
        println!("no model named (file or SWITCHBOARD_MODEL): the planner stands in");
        Agent::from_definition_with_model(&definition, Arc::new(Planner::new())).await?
    };
    Ok(agent)
}

fn print_transcript(t: &Transcript) {
    println!(
        "\ntranscript: agent {}, model {}, {} step(s), {} ms, {} tokens",
        t.agent,
        t.model,
        t.steps.len(),
        t.ms,
        t.tokens.total
    );
    for step in &t.steps {
        println!(
            "  step {} (model {} ms, tools {} ms):",
            step.index, step.model_ms, step.tools_ms
        );
        if step.tool_calls.is_empty() {
            println!("    no tool calls: the model answers");
        } else if !step.text.trim().is_empty() {
            println!("    says: {}", step.text.trim());
        }
        for call in &step.tool_calls {
            let first: String = call
                .output
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(80)
                .collect();
            println!(
                "    {} {}({}) -> {first}",
                if call.is_error { "✗" } else { "✓" },
                call.name,
                call.arguments
            );
        }
    }
    println!("stop: {}", t.stop);
    println!(
        "answer:\n{}",
        t.answer.as_deref().unwrap_or("(no final answer)")
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let definition = match args.first() {
        Some(first) if first.ends_with(".toml") => Some(args.remove(0)),
        _ => None,
    };
    let prompt = if args.is_empty() {
        DEFAULT_PROMPT.to_owned()
    } else {
        args.join(" ")
    };

    let agent = match &definition {
        Some(path) => agent_from_file(path).await?,
        None => built_in_agent().await?,
    };
    println!("prompt: {prompt}");

    // Ctrl-C cancels the run (the model request and every tool call in
    // flight); the agent's limits bound it otherwise.
    let transcript = agent
        .run_with(&prompt, &Live, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    print_transcript(&transcript);

    for h in agent.fleet().health() {
        println!(
            "server {}: {}, {} call(s), {} error(s)",
            h.name, h.state, h.calls, h.errors
        );
    }
    agent.close().await?;
    Ok(())
}
