//! Load: `tools/list` latency (median and 99th percentile of sequential
//! round trips) and a burst of 32 concurrent calls that must all be
//! answered.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{json, Value};

use super::checker::Checker;
use super::probe::{received, Probe};
use super::report::{Figures, Finding};

/// Sequential `tools/list` round trips measured.
const ROUND_TRIPS: usize = 40;
/// Calls in the burst.
pub(super) const BURST: usize = 32;
/// A median past this is worth a warning.
const SLOW_P50: Duration = Duration::from_millis(500);

/// Measures latency and the burst into `figures`.
pub(super) async fn check(p: &Probe, c: &mut Checker, tools: &[Value], figures: &mut Figures) {
    latency(p, c, figures).await;
    burst(p, c, tools, figures).await;
}

async fn latency(p: &Probe, c: &mut Checker, figures: &mut Figures) {
    c.ran("load.latency");
    let mut took = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        let x = p.ask("tools/list", json!({})).await;
        if x.reply.is_err() {
            c.skip("load.latency", "tools/list fails");
            return;
        }
        took.push(x.elapsed);
    }
    took.sort();
    let p50 = took[took.len() / 2];
    let p99 = took[(took.len() * 99 / 100).min(took.len() - 1)];
    figures.tools_list_p50_us = Some(p50.as_micros() as u64);
    figures.tools_list_p99_us = Some(p99.as_micros() as u64);
    if p50 > SLOW_P50 {
        c.find(
            Finding::warning(
                "load.latency",
                format!("tools/list takes {} ms (median)", p50.as_millis()),
            )
            .rule("hosts list tools on every turn: a slow list is a slow agent")
            .fix("build the tool list once and answer from memory"),
        );
    }
}

async fn burst(p: &Probe, c: &mut Checker, tools: &[Value], figures: &mut Figures) {
    c.ran("load.burst");
    let tool = tools.iter().find(|t| super::tools::safe_to_call(t));
    let (method, params) = match tool {
        Some(t) => (
            "tools/call",
            json!({"name": t.get("name"), "arguments": super::calls::arguments_for(t)}),
        ),
        None => ("tools/list", json!({})),
    };
    let start = Instant::now();
    let replies = join_all((0..BURST).map(|_| p.ask(method, params.clone()))).await;
    let took = start.elapsed();
    let failed: Vec<_> = replies
        .iter()
        .filter(|x| x.reply.as_ref().is_err_and(|e| e.code().is_none()))
        .collect();
    match failed.first() {
        None => figures.burst_ms = Some(took.as_secs_f64() * 1000.0),
        Some(x) => c.find(
            Finding::error(
                "load.burst",
                format!(
                    "{} of {BURST} concurrent {method} calls got no answer",
                    failed.len()
                ),
            )
            .sent(x.sent.clone())
            .received(received(&x.reply))
            .rule("basic/transports: requests may be in flight at once; each gets its response")
            .fix("serve requests concurrently (or queue them), and never drop one"),
        ),
    }
}
