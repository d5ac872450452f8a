//! Fleet scale figures (a measurement program, not a timed test):
//! - connecting N stdio servers at once vs the slowest single start;
//! - fan-out of one call to N servers vs the slowest single call;
//! - memory per connected server (the client's RSS, not the children's).
//!
//! Run: `cargo bench --bench fleet_scale` (N = 100 for connect/memory,
//! 50 for fan-out; override with FLEET_N / FANOUT_N).

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::{Client, Fleet, Member, Source};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

mod common;
use common::rss_kib;

fn member(i: usize) -> Member {
    Member::new(format!("s{i:03}"), || {
        Client::builder(Source::stdio(BIN, ["serve-echo"]))
    })
}

/// A server that takes `START_DELAY` to come up, like real ones do (npx,
/// Python imports): what matters is that starts overlap. The server waits
/// in-process (`serve-echo --start-delay-ms`), as a real server is one
/// process; a `sh -c "sleep ..; exec .."` wrapper would start three
/// processes per server, and on a 2-core VM every process start costs
/// about a millisecond of CPU in the dynamic loader alone.
fn slow_start_member(i: usize) -> Member {
    Member::new(format!("s{i:03}"), || {
        let delay = START_DELAY.as_millis().to_string();
        Client::builder(Source::stdio(
            BIN,
            ["serve-echo", "--start-delay-ms", delay.as_str()],
        ))
    })
}

/// A server whose tool takes time (`slow` of the built-in test server).
fn test_member(i: usize) -> Member {
    Member::new(format!("t{i:03}"), || {
        Client::builder(Source::stdio(BIN, ["serve-test"]))
    })
}

const START_DELAY: Duration = Duration::from_millis(500);

/// Starts `n` slow-start servers with plain pipes (no client), asks each
/// `server/discover`, and returns when the last has answered.
fn bare_parallel_start(n: usize) -> Duration {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let request = br#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}"#;
    let delay = START_DELAY.as_millis().to_string();
    let t = Instant::now();
    let mut children: Vec<_> = (0..n)
        .map(|_| {
            let mut child = Command::new(BIN)
                .args(["serve-echo", "--start-delay-ms", delay.as_str()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn serve-echo");
            let stdin = child.stdin.as_mut().expect("stdin");
            stdin.write_all(request).expect("write");
            stdin.write_all(b"\n").expect("write");
            child
        })
        .collect();
    for child in &mut children {
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        assert!(line.contains("supportedVersions"), "{line}");
    }
    let elapsed = t.elapsed();
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    elapsed
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not: then
    // run a small smoke version so the code is exercised in CI.
    let full = std::env::args().any(|a| a == "--bench");
    let env_or = |key: &str, full_default: usize| {
        std::env::var(key)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if full { full_default } else { 4 })
    };
    let n = env_or("FLEET_N", 100);
    let fan = env_or("FANOUT_N", 50);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // The slowest of several single starts (connect + negotiate).
        let mut single = Duration::ZERO;
        for i in 0..3 {
            let t = Instant::now();
            let f = Fleet::new([slow_start_member(i)]).await.expect("connect");
            single = single.max(t.elapsed());
            f.close().await.ok();
        }
        // The same n servers started at once with no client at all: spawn
        // them, send each the discover request, wait for every answer. On
        // a 2-core machine their process starts compete for the CPU, so
        // this is the slowest server's start when n start together.
        let bare = tokio::task::spawn_blocking(move || bare_parallel_start(n))
            .await
            .expect("bare start");
        let t = Instant::now();
        let fleet = Fleet::new((0..n).map(slow_start_member)).await.expect("fleet");
        let all = t.elapsed();
        let ready = fleet.health().iter().filter(|h| h.state == "ready").count();
        fleet.close().await.ok();
        println!(
            "connect {n} servers that each take {START_DELAY:?} to start, at once: {:.1} ms ({ready} ready); slowest single start: {:.1} ms alone (ratio {:.2}), {:.1} ms when {n} start at once without a client (ratio {:.2})",
            all.as_secs_f64() * 1e3,
            single.as_secs_f64() * 1e3,
            all.as_secs_f64() / single.as_secs_f64(),
            bare.as_secs_f64() * 1e3,
            all.as_secs_f64() / bare.as_secs_f64()
        );

        let mut single = Duration::ZERO;
        for _ in 0..5 {
            let t = Instant::now();
            let c = Client::connect(Source::stdio(BIN, ["serve-echo"])).await.expect("connect");
            single = single.max(t.elapsed());
            c.close().await.ok();
        }
        let before = rss_kib();
        let t = Instant::now();
        let fleet = Fleet::new((0..n).map(member)).await.expect("fleet");
        let all = t.elapsed();
        let ready = fleet.health().iter().filter(|h| h.state == "ready").count();
        // Let buffers settle, then measure.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_kib();
        println!(
            "connect {n} instant-start servers at once (process spawning is CPU-bound on this machine): {:.1} ms ({ready} ready); slowest single start: {:.1} ms; ratio {:.2}",
            all.as_secs_f64() * 1e3,
            single.as_secs_f64() * 1e3,
            all.as_secs_f64() / single.as_secs_f64()
        );
        println!(
            "client memory per connected server: {:.0} KiB (RSS {before} KiB -> {after} KiB)",
            (after.saturating_sub(before)) as f64 / n as f64
        );
        fleet.close().await.ok();

        let fleet = Fleet::new((0..fan).map(member)).await.expect("fleet");
        fleet.list_tools().await;
        let client = fleet.client("s000").await.expect("client");
        let mut slowest_single = Duration::ZERO;
        for i in 0..fan {
            let c = fleet.client(&format!("s{i:03}")).await.expect("client");
            let t = Instant::now();
            c.call_tool("echo", json!({"text": "x"})).await.expect("call");
            slowest_single = slowest_single.max(t.elapsed());
        }
        let mut best_fan = Duration::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let results = fleet.call_all("echo", json!({"text": "x"})).await;
            assert_eq!(results.len(), fan);
            assert!(results.iter().all(|(_, r)| r.is_ok()));
            best_fan = best_fan.min(t.elapsed());
        }
        drop(client);
        println!(
            "fan-out of one echo call to {fan} servers (CPU-bound): {:.2} ms; slowest single call: {:.2} ms; ratio {:.2}",
            best_fan.as_secs_f64() * 1e3,
            slowest_single.as_secs_f64() * 1e3,
            best_fan.as_secs_f64() / slowest_single.as_secs_f64()
        );
        fleet.close().await.ok();

        // The same fan-out where each call takes 50 ms on the server.
        let fleet = Fleet::new((0..fan).map(test_member)).await.expect("fleet");
        fleet.list_tools().await;
        let args = json!({"steps": 1, "ms": 50});
        let mut slowest_single = Duration::ZERO;
        for i in 0..fan {
            let c = fleet.client(&format!("t{i:03}")).await.expect("client");
            let t = Instant::now();
            c.call_tool("slow", &args).await.expect("call");
            slowest_single = slowest_single.max(t.elapsed());
        }
        let mut best_fan = Duration::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let results = fleet.call_all("slow", &args).await;
            assert_eq!(results.len(), fan);
            assert!(results.iter().all(|(_, r)| r.is_ok()));
            best_fan = best_fan.min(t.elapsed());
        }
        println!(
            "fan-out of a 50 ms call to {fan} servers: {:.1} ms; slowest single call: {:.1} ms; ratio {:.2}",
            best_fan.as_secs_f64() * 1e3,
            slowest_single.as_secs_f64() * 1e3,
            best_fan.as_secs_f64() / slowest_single.as_secs_f64()
        );
        fleet.close().await.ok();
    });
}
