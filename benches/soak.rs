//! Soak: a supervised server killed every few seconds while calls stream
//! through, for SOAK_SECS seconds; prints the client's RSS and the
//! runtime's live tasks over time so a leak shows as a trend. Runs only
//! when SOAK_SECS is set: `SOAK_SECS=600 cargo bench --bench soak`
//! (`SOAK_KILL_MS`, default 3000, sets the time between kills).

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::transport::StdioConfig;
use switchboard::{Client, RestartPolicy};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

mod common;
use common::rss_kib;

fn child_pids(marker: &str) -> Vec<i32> {
    let needle = format!("SOAK_MARKER={marker}");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_string_lossy().parse().ok()?;
            let env = std::fs::read(e.path().join("environ")).ok()?;
            env.split(|b| *b == 0)
                .any(|kv| kv == needle.as_bytes())
                .then_some(pid)
        })
        .collect()
}

fn main() {
    let Some(secs) = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        eprintln!("soak: set SOAK_SECS to run (e.g. SOAK_SECS=600)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let marker = format!("soak-{}", std::process::id());
        let client =
            Client::builder(StdioConfig::new(BIN, ["serve-test"]).env("SOAK_MARKER", &marker))
                .restart(RestartPolicy {
                    backoff_initial: Duration::from_millis(20),
                    min_uptime: Duration::from_millis(50),
                    health_interval: Some(Duration::from_secs(2)),
                    ..RestartPolicy::default()
                })
                .connect()
                .await
                .expect("connect");
        let end = Instant::now() + Duration::from_secs(secs);
        let kill_every = Duration::from_millis(
            std::env::var("SOAK_KILL_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(3000),
        );
        let metrics = tokio::runtime::Handle::current().metrics();
        let callers: Vec<_> = (0..8)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(async move {
                    let (mut ok, mut cut) = (0u64, 0u64);
                    while Instant::now() < end {
                        match client
                            .call_tool("echo", json!({"text": format!("caller {i}")}))
                            .await
                        {
                            Ok(_) => ok += 1,
                            Err(_) => cut += 1,
                        }
                    }
                    (ok, cut)
                })
            })
            .collect();
        let start = Instant::now();
        let mut kills = 0;
        println!("t_s,rss_kib,restarts,tasks");
        while Instant::now() < end {
            tokio::time::sleep(kill_every).await;
            for pid in child_pids(&marker) {
                // SAFETY: kill(2) on a pid found by marker.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                kills += 1;
            }
            println!(
                "{},{},{},{}",
                start.elapsed().as_secs(),
                rss_kib(),
                client.health().restarts,
                metrics.num_alive_tasks()
            );
        }
        let (mut ok, mut cut) = (0, 0);
        for c in callers {
            let (o, x) = c.await.expect("caller");
            ok += o;
            cut += x;
        }
        println!(
            "done: {ok} calls ok, {cut} cut by restarts, {kills} kills, {} restarts",
            client.health().restarts
        );
        client.close().await.ok();
    });
}
