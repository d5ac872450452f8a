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
    /// Warm-up calls made before the measured ones (not in `calls`,
    /// `seconds` or the latencies).
    pub warmup_calls: usize,
    /// Their wall time.
    pub warmup_seconds: f64,
}

/// How many warm-up calls precede `calls` measured ones: the first calls
/// pay for lazy work on both sides (at most 50, at most `calls`).
pub fn warmup_calls(calls: usize) -> usize {
    calls.min(50)
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
        // Only the server the prefixed name names is started, when one
        // server's prefix fits and it lists the tool.
        let named = global.server.is_none().then_some(tool);
        let opened = super::fleet::open(global, std::path::Path::new(source.trim()), named).await?;
        let listed = async |c: &crate::Client| {
            Ok(c.list_tools().await?.into_iter().map(|t| t.name).collect())
        };
        let owned = match named {
            Some(tool) => opened.owner_of(tool, listed).await,
            None => None,
        };
        let fleet = opened.fleet;
        let (client, own) = match (owned, &global.server) {
            (Some(found), _) => found,
            (None, Some(server)) => (fleet.client(server).await?, tool.to_owned()),
            (None, None) => {
                fleet.list_tools().await;
                let (server, own) = fleet.resolve_tool(tool).ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "no server of {source} lists a tool {tool:?}: give its prefixed name \
                         (`switchboard tools {source}`) or --server NAME"
                    ))
                })?;
                (fleet.client(&server).await?, own)
            }
        };
        (client, own, Some(fleet))
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
    let live = super::style::live(global);
    // Warm up: the first calls pay for lazy work on both sides. Reported
    // apart, never counted in the measured calls or their wall time.
    let warmup = warmup_calls(calls);
    let warmup_start = Instant::now();
    if live {
        ticker::line(&format!("bench {tool}: {warmup} warm-up calls..."));
    }
    for _ in 0..warmup {
        client.call_tool(tool, arguments).await?.into_result()?;
    }
    let warmup_seconds = warmup_start.elapsed().as_secs_f64();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let ticking = live.then(|| ticker::spawn(tool, calls, done.clone(), start));
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let client = client.clone();
        let next = next.clone();
        let done = done.clone();
        let arguments = arguments.clone();
        let tool = tool.to_owned();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                let t = Instant::now();
                client.call_tool(&tool, &arguments).await?.into_result()?;
                latencies.push(t.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, Error>(latencies)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(calls);
    for w in workers {
        latencies.extend(w.await.map_err(|e| Error::NotConnected(e.to_string()))??);
    }
    let seconds = start.elapsed().as_secs_f64();
    drop(ticking);
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
        warmup_calls: warmup,
        warmup_seconds,
    };
    if global.json {
        output::json(&json!(report));
    } else {
        outln!(
            "{} calls, {} in flight: {:.0} calls/s, p50 {:.3} ms, p99 {:.3} ms ({:.2} s; \
             after {} warm-up calls in {:.2} s, not counted)",
            report.calls,
            report.concurrency,
            report.calls_per_sec,
            report.p50_us as f64 / 1000.0,
            report.p99_us as f64 / 1000.0,
            report.seconds,
            report.warmup_calls,
            report.warmup_seconds
        );
    }
    Ok(0)
}

/// The live bench line on stderr (only when [`super::style::live`]).
mod ticker {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// How often the line is redrawn.
    const EVERY: Duration = Duration::from_millis(100);

    /// Draws `text` over the current line.
    pub(super) fn line(text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{text}");
        let _ = err.flush();
    }

    /// The line being redrawn; dropping it stops and clears it (a failed
    /// call included).
    pub(super) struct Running(tokio::task::JoinHandle<()>);

    impl Drop for Running {
        fn drop(&mut self) {
            self.0.abort();
            line("");
        }
    }

    /// Redraws `bench TOOL: done/calls calls, N calls/s, S s` until aborted.
    pub(super) fn spawn(
        tool: &str,
        calls: usize,
        done: Arc<AtomicUsize>,
        start: Instant,
    ) -> Running {
        // Short enough that the line never wraps an 80-column terminal.
        let tool: String = tool.chars().take(24).collect();
        Running(tokio::spawn(async move {
            let mut every = tokio::time::interval(EVERY);
            loop {
                every.tick().await;
                let n = done.load(Ordering::Relaxed);
                let secs = start.elapsed().as_secs_f64();
                let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
                line(&format!(
                    "bench {tool}: {n}/{calls} calls, {rate:.0} calls/s, {secs:.1} s"
                ));
            }
        }))
    }
}
