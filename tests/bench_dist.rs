//! Benches of the distributed runtime (the design's T11 and T12), not
//! timed tests: they print figures and assert only that every run
//! finished. Run them with
//!
//! ```text
//! cargo test --release --features distributed --test bench_dist -- --ignored --nocapture --test-threads 1
//! ```
//!
//! T11: runs/s of 1-step runs (the planner: no model latency, no tool),
//! the protocol's overhead, with 1, 2 and 4 workers of 8 slots.
//! T12: runs/s of I/O-bound runs (two 100 ms model turns and a tool call)
//! with 1, 2 and 4 workers of 8 slots, against the ideal (8 runs per 200 ms
//! per worker).
//! T9 (latency part): event latency from the worker to a live follower.

#![cfg(feature = "distributed")]

mod common;
mod dist_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dist_common::Cluster;
use futures_util::StreamExt;
use tokio::sync::Semaphore;

/// Submits `n` runs of `agent` with `prompt(i)` (64 in flight) and waits
/// for `n` final events; returns the runs per second.
async fn throughput(c: &Cluster, agent: &str, n: usize, prompt: impl Fn(usize) -> String) -> f64 {
    let d = c.client().await;
    let mut finals = d.nats().subscribe("sb.v1.run.*.ev").await.unwrap();
    d.nats().flush().await.unwrap();
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(64));
    let mut submits = Vec::new();
    for i in 0..n {
        let d = d.clone();
        let p = prompt(i);
        let agent = agent.to_owned();
        let permit = gate.clone().acquire_owned().await.unwrap();
        submits.push(tokio::spawn(async move {
            d.submit(&agent, &p).await.expect("submit");
            drop(permit);
        }));
    }
    let mut done = 0;
    common::within(Duration::from_secs(300), async {
        while done < n {
            let m = finals.next().await.expect("events");
            if is_final(&m.payload) {
                done += 1;
            }
        }
    })
    .await;
    for s in submits {
        s.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Whether an event payload is a final event.
fn is_final(payload: &[u8]) -> bool {
    payload.windows(17).any(|w| w == b"\"kind\":\"finished\"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a bench: run with --ignored --nocapture"]
async fn t11_protocol_overhead_runs_per_second() {
    for workers in [1, 2, 4] {
        let mut c = Cluster::start(&[]).await;
        c.push(&c.planner_definition("hello")).await;
        for w in 0..workers {
            c.worker(&format!("w{w}"), 8);
        }
        // Warm-up: every worker builds its agent.
        throughput(&c, "hello", 8 * workers, |_| "hi".into()).await;
        let n = 1000;
        let rate = throughput(&c, "hello", n, |_| "hi".into()).await;
        eprintln!("T11 1-step runs, {workers} worker(s) x 8 slots: {rate:.0} runs/s ({n} runs)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a bench: run with --ignored --nocapture"]
async fn t12_io_bound_runs_scale_with_workers() {
    for workers in [1usize, 2, 4] {
        let mut c = Cluster::start(&[]).await;
        for w in 0..workers {
            c.worker(&format!("w{w}"), 8);
        }
        throughput(&c, "fx", 8 * workers, |i| format!("PLAN read warm{i} 0")).await;
        let n = 120 * workers;
        let rate = throughput(&c, "fx", n, |i| format!("PLAN read io{i} 0 DELAY 100")).await;
        let ideal = workers as f64 * 8.0 / 0.2;
        eprintln!(
            "T12 I/O-bound runs (2 x 100 ms turns), {workers} worker(s) x 8 slots: {rate:.1} runs/s = {:.0}% of ideal {ideal:.0} ({n} runs)",
            100.0 * rate / ideal
        );
    }
}

/// Milliseconds of the UTC day in an RFC 3339 time (`...THH:MM:SS.mmmZ`).
fn ms_of_day(t: &str) -> Option<f64> {
    let time = t.split('T').nth(1)?.trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(((h * 60.0 + m) * 60.0 + s) * 1000.0)
}

fn now_ms_of_day() -> f64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_millis() % 86_400_000) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a bench: run with --ignored --nocapture"]
async fn t9_event_latency_from_the_worker_to_a_follower() {
    let mut c = Cluster::start(&[]).await;
    c.worker("w0", 8);
    let d = c.client().await;
    throughput(&c, "fx", 8, |i| format!("PLAN read warm{i} 0")).await;
    let mut sub = d.nats().subscribe("sb.v1.run.*.ev").await.unwrap();
    d.nats().flush().await.unwrap();
    let n = 200;
    // Submitted from a task of its own, so events are read as they come.
    let submitter = {
        let d = d.clone();
        tokio::spawn(async move {
            for i in 0..n {
                d.submit("fx", &format!("PLAN read ev{i} 0")).await.unwrap();
            }
        })
    };
    let mut latencies = Vec::new();
    let mut finals = 0;
    common::within(Duration::from_secs(120), async {
        while finals < n {
            let m = sub.next().await.unwrap();
            let now = now_ms_of_day();
            let e: switchboard::dist::Event = serde_json::from_slice(&m.payload).unwrap();
            if let Some(t) = ms_of_day(&e.t) {
                latencies.push(now - t);
            }
            if is_final(&m.payload) {
                finals += 1;
            }
        }
    })
    .await;
    submitter.await.unwrap();
    latencies.sort_by(f64::total_cmp);
    let p = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    eprintln!(
        "T9 event latency, worker to a live follower: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} events, ms clock)",
        p(0.5),
        p(0.99),
        p(1.0),
        latencies.len()
    );
}
