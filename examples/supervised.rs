//! How do I keep a long-lived integration up when its server process
//! crashes?
//!
//! Give the client a [`RestartPolicy`]: a server that exits, is killed or
//! stops answering health probes is restarted with backoff and jitter;
//! calls that were in flight fail with [`Error::ServerRestarted`] (their
//! outcome is unknown, so they are never replayed behind your back); calls
//! made while it restarts wait for it; a server that keeps failing opens a
//! circuit breaker. [`Client::health`] tells you where it stands.
//!
//! To crash a server on demand, this example runs the switchboard binary's
//! own stdio server, `switchboard serve-test --crash-tool`, whose `crash`
//! tool ends the process at once.
//!
//! ```text
//! cargo build && cargo run --example supervised
//! cargo run --example supervised -- /path/to/switchboard
//! ```
//!
//! Without an argument the binary is looked for next to this example
//! (`target/<profile>/switchboard`, built by `cargo build`). If it is not
//! there, the example says so and shows the same thing on an in-memory
//! server whose `crash` tool drops the connection instead.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::testing::{demo_builder, text_result, Fault, ToolDef};
use switchboard::{Client, Error, HealthState, RestartPolicy, Source};

/// The switchboard binary: the argument, or `../switchboard` relative to
/// this example's executable (`target/<profile>/examples/supervised`), or
/// the other profile's.
fn find_switchboard() -> Result<PathBuf, String> {
    if let Some(path) = std::env::args().nth(1) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{} is not a file", path.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let name = format!("switchboard{}", std::env::consts::EXE_SUFFIX);
    let profile_dir = exe.parent().and_then(|examples| examples.parent());
    let target_dir = profile_dir.and_then(|p| p.parent());
    let candidates: Vec<PathBuf> = profile_dir
        .map(|p| p.join(&name))
        .into_iter()
        .chain(
            ["debug", "release"]
                .iter()
                .filter_map(|profile| target_dir.map(|t| t.join(profile).join(&name))),
        )
        .collect();
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            format!("not found (looked at {})", looked.join(", "))
        })
}

/// Fast restarts for a demo; the defaults (100 ms doubling to 30 s,
/// probes every 30 s) suit production.
fn policy() -> RestartPolicy {
    RestartPolicy {
        backoff_initial: Duration::from_millis(100),
        backoff_max: Duration::from_secs(2),
        min_uptime: Duration::from_millis(200),
        breaker_threshold: 5,
        breaker_cooldown: Duration::from_secs(5),
        health_interval: Some(Duration::from_secs(1)),
        health_timeout: Duration::from_secs(1),
        max_restarts: Some(10),
        restart_window: Duration::from_secs(60),
        ..RestartPolicy::default()
    }
}

#[tokio::main]
async fn main() -> switchboard::Result<()> {
    let source = match find_switchboard() {
        Ok(bin) => {
            println!(
                "server: {} serve-test --eras handshake --crash-tool (a child process)",
                bin.display()
            );
            Source::stdio(
                bin.to_string_lossy(),
                ["serve-test", "--eras", "handshake", "--crash-tool"],
            )
        }
        Err(why) => {
            println!("the switchboard binary: {why}.");
            println!(
                "Build it with `cargo build` (or pass its path) to crash a real process; \
                 meanwhile, the same on an in-memory server whose `crash` drops the connection.\n"
            );
            let server = demo_builder()
                .tool(
                    ToolDef::new("crash").description("Drops the connection"),
                    |_ctx, _args| async move { Ok(text_result("not reached")) },
                )
                .tool_fault("crash", Fault::CloseConnection)
                .build();
            Source::memory(server)
        }
    };

    let client = Client::builder(source)
        .name("worker")
        .restart(policy())
        .timeout(Duration::from_secs(10))
        .connect()
        .await?;
    let started = Instant::now();

    // Health over time: a task samples it and prints every change.
    let watcher = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut last = None;
            loop {
                let h = client.health();
                let now = (h.state, h.restarts);
                if last != Some(now) {
                    println!(
                        "  [health {:>5} ms] {:?}, {} restart(s){}",
                        started.elapsed().as_millis(),
                        h.state,
                        h.restarts,
                        h.last_error
                            .map(|e| format!(", last error: {e}"))
                            .unwrap_or_default()
                    );
                    last = Some(now);
                }
                if h.state == HealthState::Closed {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let out = client.call_tool("echo", json!({"text": "before"})).await?;
    println!("echo -> {}", out.text());

    // A long call in flight, then the crash.
    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call_tool("slow", json!({"steps": 20, "ms": 100}))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("calling crash while `slow` is in flight...");
    report("crash", client.call_tool("crash", json!({})).await);
    match tokio::time::timeout(Duration::from_secs(15), slow).await {
        Ok(Ok(outcome)) => report("slow", outcome),
        Ok(Err(e)) => println!("slow: the task failed: {e}"),
        Err(_) => println!("slow: no outcome in 15 s"),
    }

    // A new call waits for the restart (up to the connect deadline) and
    // goes to the new server.
    let asked = Instant::now();
    let out = client.call_tool("echo", json!({"text": "after"})).await?;
    println!(
        "echo -> {} (answered {} ms after asking, by the restarted server)",
        out.text(),
        asked.elapsed().as_millis()
    );
    for i in 1..=3 {
        let out = client.call_tool("add", json!({"a": i, "b": 100})).await?;
        println!("add({i}, 100) -> {}", out.text());
    }

    // A long-lived program would keep going; the health checks (every
    // second here) would catch a server that hangs instead of exiting.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let h = client.health();
    println!(
        "health now: {:?}, {} restart(s), last probe {:?}",
        h.state, h.restarts, h.last_probe_latency
    );
    if !h.stderr_tail.is_empty() {
        println!("the crashed server's last stderr lines:");
        for line in &h.stderr_tail {
            println!("  | {line}");
        }
    }

    client.close().await?;
    if tokio::time::timeout(Duration::from_secs(2), watcher)
        .await
        .is_err()
    {
        println!("(the health watcher did not see the close)");
    }
    Ok(())
}

fn report(name: &str, outcome: switchboard::Result<switchboard::ToolOutput>) {
    match outcome {
        // The server died with the call in flight: it may or may not have
        // run. Retrying is the caller's decision (safe here; not for a
        // payment).
        Err(Error::ServerRestarted) => {
            println!("{name}: Error::ServerRestarted (outcome unknown, not replayed)")
        }
        Err(e) => println!("{name}: failed otherwise: {e}"),
        Ok(out) => println!("{name}: answered: {}", out.text()),
    }
}
