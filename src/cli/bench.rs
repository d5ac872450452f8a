//! `switchboard bench`: tools/call throughput and latency.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::args::Global;
use super::shutdown::outln;
use super::{connect, output};
use crate::{Error, Result};

/// What one bench run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    /// Calls made.
    pub calls: usize,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Wall time of the measured calls.
    pub seconds: f64,
    /// Throughput.
    pub calls_per_sec: f64,
    /// Median latency in microseconds.
    pub p50_us: u64,
    /// 99th percentile latency in microseconds.
    pub p99_us: u64,
}

pub(super) async fn run(
    source: &str,
    global: &Global,
    tool: &str,
    args: &str,
    calls: usize,
    concurrency: usize,
) -> Result<u8> {
    if calls == 0 || concurrency == 0 {
        return Err(Error::invalid_argument(
            "--calls and --concurrency must be at least 1",
        ));
    }
    let arguments: Value =
        serde_json::from_str(args).map_err(|e| Error::invalid_argument(format!("--args: {e}")))?;
    // A config file: one of its servers, named by --server or by the
    // tool's prefixed name (as `tools FILE` prints it).
    let (client, tool, fleet) = if crate::client::is_config_path(source) {
        let fleet = super::fleet::build(global, std::path::Path::new(source.trim())).await?;
        let (server, own) = match &global.server {
            Some(server) => (server.clone(), tool.to_owned()),
            None => {
                fleet.list_tools().await;
                fleet.resolve_tool(tool).ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "no server of {source} lists a tool {tool:?}: give its prefixed name \
                         (`switchboard tools {source}`) or --server NAME"
                    ))
                })?
            }
        };
        (fleet.client(&server).await?, own, Some(fleet))
    } else {
        (connect(source, global).await?, tool.to_owned(), None)
    };
    let outcome = measure(&client, &tool, &arguments, calls, concurrency, global).await;
    if let Some(fleet) = fleet {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), fleet.close()).await;
    } else {
        let _ = client.close().await;
    }
    outcome
}

async fn measure(
    client: &crate::Client,
    tool: &str,
    arguments: &Value,
    calls: usize,
    concurrency: usize,
    global: &Global,
) -> Result<u8> {
    // Warm up: the first calls pay for lazy work on both sides.
    for _ in 0..calls.min(50) {
        client.call_tool(tool, arguments).await?.into_result()?;
    }
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let client = client.clone();
        let next = next.clone();
        let arguments = arguments.clone();
        let tool = tool.to_owned();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                let t = Instant::now();
                client.call_tool(&tool, &arguments).await?.into_result()?;
                latencies.push(t.elapsed());
            }
            Ok::<_, Error>(latencies)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(calls);
    for w in workers {
        latencies.extend(w.await.map_err(|e| Error::NotConnected(e.to_string()))??);
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| -> u64 {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).map(|d| d.as_micros() as u64).unwrap_or(0)
    };
    let report = BenchReport {
        calls,
        concurrency,
        seconds,
        calls_per_sec: calls as f64 / seconds,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
    };
    if global.json {
        output::json(&json!(report));
    } else {
        outln!(
            "{} calls, {} in flight: {:.0} calls/s, p50 {:.3} ms, p99 {:.3} ms ({:.2} s)",
            report.calls,
            report.concurrency,
            report.calls_per_sec,
            report.p50_us as f64 / 1000.0,
            report.p99_us as f64 / 1000.0,
            report.seconds
        );
    }
    Ok(0)
}
