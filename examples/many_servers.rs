//! How do I use many MCP servers at once, from an `mcpServers` config file
//! (the JSON Claude Desktop, Cursor and others use)?
//!
//! A [`Fleet`] starts every server of the config (in parallel, each one
//! supervised), merges their tools under namespaced names
//! (`<server>_<tool>`), routes a call by that name, fans one tool out to
//! every server that has it (`call_all`), reports each server's health,
//! and lets one [`MessageHandler`] hear every server's logs and progress,
//! told which server said what.
//!
//! ```text
//! cargo run --example many_servers                    # a temporary config of built-in servers
//! cargo run --example many_servers -- mcp.json        # your own config
//! cargo run --example many_servers -- mcp.json github_search_repositories '{"query":"mcp"}'
//! ```
//!
//! With no argument, the example writes a temporary config whose two
//! servers are the built-in demo server (`"url": "memory://demo"` runs it
//! in this process), so it needs no network and no other program. With a
//! config of your own, it lists the fleet's tools and, if you name one
//! (namespaced) with JSON arguments, calls it on its server and on every
//! other server that has a tool of the same name.

use std::error::Error;
use std::time::Duration;

use serde_json::{json, Value};
use switchboard::config::FleetConfig;
use switchboard::protocol::{LoggingMessageNotificationParams, ProgressNotificationParams};
use switchboard::{Fleet, ListKind, MessageHandler};

/// The config written when none is given: the same built-in server twice,
/// under two names, with different log levels and tool filters.
const BUILT_IN_CONFIG: &str = r#"{
  "mcpServers": {
    "alpha": { "url": "memory://demo", "log_level": "info" },
    "beta": {
      "url": "memory://demo",
      "log_level": "debug",
      "tools": { "deny": ["summarize", "confirm", "roots"] }
    }
  },
  "defaults": { "timeout": 20 }
}"#;

/// Hears every message of every server of the fleet, with the server's
/// name. Methods run on the connection's reader: keep them quick.
struct WhoSaidWhat;

impl MessageHandler for WhoSaidWhat {
    fn on_log(&self, server: &str, log: &LoggingMessageNotificationParams) {
        println!("    [{server}] log {:?}: {}", log.level, log.data);
    }

    fn on_progress(&self, server: &str, p: &ProgressNotificationParams) {
        println!(
            "    [{server}] progress {}/{}: {}",
            p.progress,
            p.total.map(|t| t.to_string()).unwrap_or_else(|| "?".into()),
            p.message.as_deref().unwrap_or("")
        );
    }

    fn on_list_changed(&self, server: &str, list: ListKind) {
        println!("    [{server}] its {list:?} list changed");
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();

    // The config: the one given, or a temporary file of built-in servers
    // (deleted when `_temp` is dropped).
    let (path, _temp) = match args.first() {
        Some(path) => (std::path::PathBuf::from(path), None),
        None => {
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("mcp.json");
            std::fs::write(&path, BUILT_IN_CONFIG)?;
            (path, Some(dir))
        }
    };
    let built_in = args.is_empty();
    println!("config: {}", path.display());

    // Load it, and start the fleet with one message handler for all.
    // (`Fleet::from_config(path)` is the one-liner without handlers.)
    let config = FleetConfig::from_path(&path)?;
    let fleet = Fleet::builder()
        .config(config)
        .message_handler(WhoSaidWhat)
        .build()
        .await?;
    println!("servers: {}", fleet.server_names().join(", "));

    // One merged list, namespaced `<server>_<tool>`. beta's filter hides
    // three of its tools.
    let tools = fleet.list_tools().await;
    println!("{} tools:", tools.len());
    for tool in &tools {
        println!(
            "  {:<18} {}",
            tool.name,
            tool.description.as_deref().unwrap_or("")
        );
    }

    if built_in {
        // Route a call by its namespaced name.
        let out = fleet
            .call_tool("alpha_add", json!({"a": 2, "b": 40}))
            .await?;
        println!(
            "alpha_add(2, 40) -> {}",
            show(out.structured(), &out.text())
        );

        // The same tool on every server that has it, in parallel.
        println!("call_all(\"echo\"):");
        for (server, outcome) in fleet.call_all("echo", json!({"text": "hi"})).await {
            match outcome {
                Ok(out) => println!("  {server}: {}", out.text()),
                Err(e) => println!("  {server}: failed: {e}"),
            }
        }

        // Logs and progress come back through the handler, named by
        // server: alpha asked for `info` and up, beta for `debug` and up.
        println!("call_all(\"log\"), each server logging at three levels:");
        for (server, outcome) in fleet.call_all("log", json!({"message": "hello"})).await {
            println!("  {server}: {}", outcome.map(|o| o.text())?);
        }
        println!("beta_slow, which reports progress:");
        let out = fleet
            .call_tool("beta_slow", json!({"steps": 3, "ms": 30}))
            .await?;
        println!("  beta_slow -> {}", out.text());

        // A filtered tool is simply not there.
        match fleet
            .call_tool("beta_summarize", json!({"text": "x"}))
            .await
        {
            Ok(_) => println!("beta_summarize ran (unexpected)"),
            Err(e) => println!("beta_summarize: {e}"),
        }
    } else if let Some(name) = args.get(1) {
        // Your own config: call the tool you named, then fan it out.
        let arguments: Value = match args.get(2) {
            Some(text) => serde_json::from_str(text)?,
            None => json!({}),
        };
        let out = fleet.call_tool(name, arguments.clone()).await?;
        println!("{name} -> {}", show(out.structured(), &out.text()));
        if let Some((_, plain)) = fleet.resolve_tool(name) {
            println!("call_all({plain:?}):");
            for (server, outcome) in fleet.call_all(&plain, arguments).await {
                match outcome {
                    Ok(out) => println!("  {server}: {}", first_line(&out.text())),
                    Err(e) => println!("  {server}: failed: {e}"),
                }
            }
        }
    }

    // Health of every server: state, restarts, calls, errors, latency. A
    // server that failed to start is reported here, not as an error of
    // the whole fleet.
    // (Notifications are delivered as they arrive; give the last ones a
    // moment before the summary.)
    tokio::time::sleep(Duration::from_millis(50)).await;
    println!("health:");
    for h in fleet.health() {
        println!(
            "  {:<6} {:<8} restarts={} calls={} errors={} mean={} µs{}",
            h.name,
            h.state,
            h.restarts,
            h.calls,
            h.errors,
            h.mean_latency_us,
            h.last_error
                .map(|e| format!(" last error: {e}"))
                .unwrap_or_default()
        );
    }
    fleet.close().await?;
    Ok(())
}

fn show(structured: Option<&Value>, text: &str) -> String {
    structured
        .map(Value::to_string)
        .unwrap_or_else(|| first_line(text))
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(100)
        .collect()
}
