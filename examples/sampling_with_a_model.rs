//! How do I let a server use *my* LLM (MCP sampling), with a spending limit
//! and a look at every request before it reaches the model?
//!
//! Some tools ask the client to run a prompt through the client's model
//! (`sampling/createMessage`); the built-in demo server's `summarize` tool
//! does. A [`Sampler`] answers those requests for any number of servers:
//!
//! - its backend is a real OpenAI-compatible endpoint
//!   (`SamplingBackend::Model`) or, offline, a deterministic reply
//!   (`SamplingBackend::Text`);
//! - a [`Budget`] caps how many requests and tokens each server may spend;
//! - an approval hook sees each request the budget admits, before the
//!   model does (here it prints exactly what would reach the model, and
//!   refuses anything that looks like a secret; a refusal costs no budget).
//!
//! ```text
//! cargo run --example sampling_with_a_model
//! SWITCHBOARD_MODEL=llama3.1:8b OPENAI_BASE_URL=http://127.0.0.1:11434/v1 \
//!     cargo run --example sampling_with_a_model
//! cargo run --example sampling_with_a_model -- "python3 server.py" my_sampling_tool
//! ```
//!
//! Without `SWITCHBOARD_MODEL` nothing leaves this process. With it, the
//! endpoint is `OPENAI_BASE_URL` (default OpenAI's) and the key is
//! `OPENAI_API_KEY` (optional for local servers). A server of your own
//! and the tool that samples (called with `{"text": ...}`) may be given
//! as arguments; the default is the in-process demo server and `summarize`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchboard::model::ModelClient;
use switchboard::sampling::{
    Approval, ApprovalRequest, Budget, ModelChoice, ModelConfig, SamplingBackend,
};
use switchboard::testing::demo_server;
use switchboard::{Client, Sampler, Source};

/// Texts the tool is asked to summarize, one call each. The second one
/// carries something that must not reach a model; the last one comes after
/// the budget is spent.
const TEXTS: [&str; 4] = [
    "The Model Context Protocol lets applications give models tools, data and prompts \
     from any server, over stdio or HTTP, with one protocol.",
    "Deploy notes: the database password is hunter2, rotate it monthly.",
    "Actors keep state private and talk by messages, so one slow server never blocks another.",
    "This request comes after the budget is spent, so no model sees it.",
];

#[tokio::main]
async fn main() -> switchboard::Result<()> {
    let mut args = std::env::args().skip(1);
    let source = match args.next() {
        Some(s) => Source::infer(&s)?,
        None => Source::memory(demo_server()),
    };
    let tool = args.next().unwrap_or_else(|| "summarize".into());

    // 1. The backend: a real model when SWITCHBOARD_MODEL is set, else a
    //    fixed reply (no network, deterministic).
    let real_model = std::env::var("SWITCHBOARD_MODEL").is_ok_and(|m| !m.trim().is_empty());
    let backend = if real_model {
        // Reads SWITCHBOARD_MODEL, OPENAI_BASE_URL and OPENAI_API_KEY (the
        // same rules as a config file's `sampling` table).
        let endpoint = ModelConfig::default().endpoint(&|name| std::env::var(name).ok())?;
        println!(
            "backend: model {} at {}",
            endpoint.model,
            endpoint.chat_url()
        );
        let choice = ModelChoice::new(endpoint.model.clone());
        SamplingBackend::Model {
            client: ModelClient::new(endpoint)?,
            choice,
        }
    } else {
        println!("backend: a fixed reply (set SWITCHBOARD_MODEL to use a real model)");
        SamplingBackend::Text("A protocol that connects models to tools and data.".into())
    };

    // 2. The approval hook: sees the request as the server sent it, after
    //    the budget admitted it and before the model. A person could be
    //    asked here (never about a request the budget would refuse);
    //    this one refuses anything that mentions a password.
    let reviewed = Arc::new(AtomicUsize::new(0));
    let counter = reviewed.clone();
    let approval = move |req: ApprovalRequest| {
        let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
        async move {
            println!(
                "  approval #{n}: server {:?} ({:?} era) asks for up to {} tokens",
                req.server, req.era, req.params.max_tokens
            );
            if let Some(system) = &req.params.system_prompt {
                println!("    system: {system}");
            }
            let mut text = String::new();
            for message in &req.params.messages {
                let body = message.content.text();
                println!("    {:?}: {}", message.role, body.replace('\n', "\n      "));
                text.push_str(&body);
            }
            if text.to_lowercase().contains("password") {
                println!("    -> denied: it contains a password");
                Approval::Deny("the text contains a password".into())
            } else {
                println!("    -> approved");
                Approval::Approve
            }
        }
    };

    // 3. The sampler: backend + budget + hook. It is an actor behind a
    //    cheap handle; one sampler can serve every server of a fleet, with
    //    a budget per server.
    let sampler = Sampler::builder(backend)
        .budget(Budget {
            requests: Some(2),
            tokens: Some(20_000),
        })
        .approval(approval)
        .approval_timeout(Duration::from_secs(30))
        .start()?;

    let client = Client::builder(source)
        .name("notes")
        .sampling(sampler.clone())
        .timeout(Duration::from_secs(60))
        .connect()
        .await?;

    for text in TEXTS {
        let short: String = text.chars().take(50).collect();
        println!("call {tool}(\"{short}...\")");
        // A refused request (by the hook or the budget) is answered with an
        // error. In the handshake era the server is told and its tool
        // decides (the demo's returns a tool error); in 2026-07-28 the
        // client cannot complete the call's input round, so the call fails.
        match client.call_tool(&tool, json!({ "text": text })).await {
            Ok(out) if out.is_error() => println!("  tool error: {}", out.text()),
            Ok(out) => println!("  result: {}", out.text()),
            Err(e) => println!("  call failed: {e}"),
        }
    }

    // 4. What the server spent.
    let usage = sampler.usage("notes").await?;
    println!(
        "usage of server notes: {} request(s) admitted, {} refused by the budget, {} tokens \
         (a fixed reply counts none); {} request(s) reviewed",
        usage.requests,
        usage.refused,
        usage.tokens,
        reviewed.load(Ordering::Relaxed)
    );
    client.close().await
}
