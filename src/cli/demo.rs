//! `switchboard demo`: the embedded default. A tour of the client against
//! built-in servers (one in this process, one a real child process spawned
//! from this binary), in both protocol eras, with sampling, elicitation and
//! roots answered by deterministic rules. No network, no API key.
//!
//! `switchboard serve-test` (hidden) serves the same built-in server over
//! stdio.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::args::Global;
use super::modes::{ElicitationMode, SamplingMode};
use super::shutdown::outln;

/// A line of the tour: on stdout, or with `--json` on stderr (stdout
/// then carries only the JSON summary).
macro_rules! say {
    ($json:expr, $($arg:tt)*) => {
        if $json { eprintln!($($arg)*) } else { outln!($($arg)*) }
    };
}
use crate::protocol::LoggingLevel;
use crate::testing::{demo_builder, demo_server, Eras};
use crate::{Client, Error, Result, Source};

pub(super) async fn serve_test(eras: &str, crash_tool: bool) -> Result<u8> {
    let eras = match eras {
        "both" => Eras::Both,
        "modern" => Eras::ModernOnly,
        "handshake" => Eras::HandshakeOnly,
        other => {
            return Err(Error::invalid_argument(format!(
                "--eras {other:?}: expected both, modern or handshake"
            )))
        }
    };
    let mut builder = demo_builder().eras(eras);
    if crash_tool {
        builder = builder.tool(
            crate::testing::ToolDef::new("crash")
                .description("Ends the server process at once, without answering"),
            |_ctx, _args| async move {
                tracing::warn!("crash tool called: exiting");
                std::process::exit(70)
            },
        );
    }
    // `touch` tells subscribers a resource changed (supervision tests use
    // it to see a subscription restored in a new process).
    let server_cell: Arc<std::sync::OnceLock<crate::testing::TestServer>> = Arc::default();
    let cell = server_cell.clone();
    builder = builder.tool(
        crate::testing::ToolDef::new("touch")
            .description("Tells subscribers that the resource `uri` changed")
            .input_schema(json!({
                "type": "object",
                "properties": {"uri": {"type": "string"}},
                "required": ["uri"],
            })),
        move |_ctx, args| {
            let cell = cell.clone();
            async move {
                let uri = args.get("uri").and_then(|u| u.as_str()).unwrap_or("");
                if let Some(server) = cell.get() {
                    server.notify_resource_updated(uri);
                }
                Ok(crate::testing::text_result(format!("touched {uri}")))
            }
        },
    );
    let server = builder.build();
    let _ = server_cell.set(server.clone());
    server.serve_stdio().await?;
    Ok(0)
}

pub(super) async fn run(global: &Global) -> Result<u8> {
    let start = Instant::now();
    let json = global.json;
    say!(
        json,
        "Switchboard demo: the client against two built-in MCP servers, no network, no API key.\n"
    );

    say!(
        json,
        "1. An in-process server over the in-memory transport (negotiates 2026-07-28):"
    );
    let memory = tour_client(
        Client::builder(Source::memory(demo_server())).name("memory"),
        global,
    )
    .await?;
    let mut servers = vec![tour(&memory, json).await?];
    memory.close().await?;

    let exe = std::env::current_exe().map_err(Error::Io)?;
    let exe = exe.to_string_lossy().into_owned();
    say!(json, "\n2. The same server as a real child process over stdio, handshake era only (`{} serve-test --eras handshake`):", short(&exe));
    let stdio = tour_client(
        Client::builder(Source::stdio(exe, ["serve-test", "--eras", "handshake"])).name("stdio"),
        global,
    )
    .await?;
    servers.push(tour(&stdio, json).await?);
    stdio.close().await?;

    say!(
        json,
        "\nDone in {:.2} s. Both servers are shut down; no process is left behind.",
        start.elapsed().as_secs_f64()
    );
    if json {
        super::output::json(&json!({
            "servers": servers,
            "seconds": start.elapsed().as_secs_f64(),
        }));
    }
    Ok(0)
}

fn short(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

async fn tour_client(builder: crate::ClientBuilder, global: &Global) -> Result<Client> {
    let json = global.json;
    let logs = Arc::new(AtomicUsize::new(0));
    let seen = logs.clone();
    builder
        .timeout(global.timeout().max(std::time::Duration::from_secs(1)))
        .sampling(
            SamplingMode::Text("A short summary from the demo's rule-based sampler.".into())
                .sampler()?,
        )
        .elicitation(
            ElicitationMode::Accept(serde_json::Map::from_iter([(
                "confirm".into(),
                json!(true),
            )]))
            .policy()?,
        )
        .roots(["file:///tmp/demo-project"])
        .on_log(move |m| {
            seen.fetch_add(1, Ordering::Relaxed);
            say!(json, "     log [{}] {}", m.level, m.data);
        })
        .connect()
        .await
}

/// Tours one server; returns what it found (the `--json` record).
async fn tour(client: &Client, json: bool) -> Result<serde_json::Value> {
    let info = client
        .server_info()
        .map(|i| format!("{} {}", i.name, i.version))
        .unwrap_or_default();
    let version = client
        .protocol_version()
        .map(|v| v.to_string())
        .unwrap_or_default();
    say!(json, "   connected to {info}, protocol {version}");

    let tools = client.list_tools().await?;
    say!(
        json,
        "   {} tools: {}",
        tools.len(),
        tools
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    #[derive(serde::Deserialize)]
    struct Sum {
        sum: f64,
    }
    let sum: Sum = client
        .call_tool("add", json!({"a": 2, "b": 40}))
        .await?
        .data()?;
    say!(
        json,
        "   add(2, 40) = {} (structured output, checked against its outputSchema)",
        sum.sum
    );

    let progress = Arc::new(AtomicUsize::new(0));
    let seen = progress.clone();
    let slow = client
        .call_tool_with(
            "slow",
            json!({"steps": 3, "ms": 30}),
            crate::CallOptions::new().on_progress(move |p| {
                seen.fetch_add(1, Ordering::Relaxed);
                say!(
                    json,
                    "     progress {}/{} {}",
                    p.progress,
                    p.total.unwrap_or(0.0),
                    p.message.as_deref().unwrap_or("")
                );
            }),
        )
        .await?;
    say!(
        json,
        "   slow: {} ({} progress updates)",
        slow.text(),
        progress.load(Ordering::Relaxed)
    );

    let summary = client
        .call_tool(
            "summarize",
            json!({"text": "MCP connects models to tools."}),
        )
        .await?;
    say!(
        json,
        "   summarize (the server asked us to sample): {}",
        summary.text()
    );

    let confirm = client
        .call_tool("confirm", json!({"action": "deploy"}))
        .await?;
    say!(
        json,
        "   confirm (the server asked us to fill a form): {}",
        confirm.text()
    );

    let roots = client.call_tool("roots", json!({})).await?;
    say!(
        json,
        "   roots (the server asked for our roots): {}",
        roots
            .structured()
            .map(|v| v.to_string())
            .unwrap_or_default()
    );

    client.set_log_level(LoggingLevel::Info).await?;
    client
        .call_tool("log", json!({"message": "hello from the demo"}))
        .await?;

    let config = client.read_resource("config://app").await?;
    let text = config
        .contents
        .first()
        .and_then(|c| c.as_text())
        .unwrap_or("")
        .replace('\n', "; ");
    say!(json, "   read config://app: {text}");
    let greeting = client.read_resource("greet://world").await?;
    say!(
        json,
        "   read greet://world (template): {}",
        greeting
            .contents
            .first()
            .and_then(|c| c.as_text())
            .unwrap_or("")
    );

    let prompt = client
        .get_prompt("review", json!({"code": "fn main() {}"}))
        .await?;
    say!(
        json,
        "   prompt review: {} message(s)",
        prompt.messages.len()
    );
    client.ping().await?;
    say!(json, "   ping ok");
    Ok(json!({
        "serverInfo": client.server_info(),
        "protocolVersion": version,
        "tools": tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        "add": sum.sum,
        "progressUpdates": progress.load(Ordering::Relaxed),
        "slow": slow.text(),
        "summarize": summary.text(),
        "confirm": confirm.text(),
        "roots": roots.structured(),
        "config": text,
        "greeting": greeting.contents.first().and_then(|c| c.as_text()),
        "promptMessages": prompt.messages.len(),
        "ping": true,
    }))
}
