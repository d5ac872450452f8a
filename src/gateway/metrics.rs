//! What the gateway counts, for `/metrics` in the Prometheus text format:
//! per upstream server its calls, errors, a latency histogram, restarts
//! and state; for the gateway its requests by method and era and the
//! calls in flight. Counting is a few relaxed atomic adds per request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::fleet::{ServerHealth, ServerState};
use crate::protocol::Era;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One upstream server's calls through the gateway.
#[derive(Default)]
pub(crate) struct ServerCalls {
    calls: AtomicU64,
    errors: AtomicU64,
    /// Counts per bucket (not cumulative), the last for +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    /// Total latency in microseconds.
    sum_us: AtomicU64,
}

impl ServerCalls {
    pub(crate) fn record(&self, took: Duration, failed: bool) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }
}

impl ServerCalls {
    /// Calls and failed calls so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.calls.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
        )
    }

    /// The `q` quantile (0 to 1) of the latencies so far, in seconds,
    /// interpolated within its histogram bucket; `None` before any call.
    /// Past the last bound it is that bound (the histogram says no more).
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut below = 0u64;
        for (i, &n) in counts.iter().enumerate() {
            if n > 0 && (below + n) as f64 >= rank {
                let Some(&upper) = BUCKETS.get(i) else {
                    return BUCKETS.last().copied();
                };
                let lower = if i == 0 { 0.0 } else { BUCKETS[i - 1] };
                let within = (rank - below as f64) / n as f64;
                return Some(lower + (upper - lower) * within.clamp(0.0, 1.0));
            }
            below += n;
        }
        BUCKETS.last().copied()
    }
}

/// Everything the gateway counts.
#[derive(Default)]
pub(crate) struct Metrics {
    servers: Mutex<BTreeMap<String, Arc<ServerCalls>>>,
    /// Requests served by the handler, by (method, era).
    requests: Mutex<BTreeMap<(String, &'static str), u64>>,
    in_flight: AtomicI64,
}

/// Decrements the in-flight gauge however a call ends (even dropped).
pub(crate) struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn era_label(era: Era) -> &'static str {
    match era {
        Era::Modern => "2026-07-28",
        Era::Handshake => "handshake",
    }
}

impl Metrics {
    /// Counts one request the handler serves.
    pub(crate) fn request(&self, method: &str, era: Era) {
        let mut requests = crate::session::lock(&self.requests);
        match requests.get_mut(&(method.to_owned(), era_label(era))) {
            Some(n) => *n += 1,
            None => {
                requests.insert((method.to_owned(), era_label(era)), 1);
            }
        }
    }

    /// A call starts; the guard ends it.
    pub(crate) fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// The counters of `server`.
    pub(crate) fn server(&self, server: &str) -> Arc<ServerCalls> {
        let mut servers = crate::session::lock(&self.servers);
        if let Some(s) = servers.get(server) {
            return s.clone();
        }
        let s = Arc::new(ServerCalls::default());
        servers.insert(server.to_owned(), s.clone());
        s
    }

    /// Calls in flight now.
    pub(crate) fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The counters of `server`, if it had calls.
    pub(crate) fn server_if_any(&self, server: &str) -> Option<Arc<ServerCalls>> {
        crate::session::lock(&self.servers).get(server).cloned()
    }

    /// The exposition, with the fleet's `health` for restarts and states.
    pub(crate) fn render(&self, health: &[ServerHealth]) -> String {
        let mut out = String::with_capacity(4096);
        let servers = crate::session::lock(&self.servers).clone();
        out.push_str("# HELP switchboard_upstream_calls_total Tool calls sent to each server.\n");
        out.push_str("# TYPE switchboard_upstream_calls_total counter\n");
        for (name, s) in &servers {
            let n = s.calls.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "switchboard_upstream_calls_total{{server=\"{}\"}} {n}",
                esc(name)
            );
        }
        out.push_str("# HELP switchboard_upstream_errors_total Tool calls that failed (not isError results).\n");
        out.push_str("# TYPE switchboard_upstream_errors_total counter\n");
        for (name, s) in &servers {
            let n = s.errors.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "switchboard_upstream_errors_total{{server=\"{}\"}} {n}",
                esc(name)
            );
        }
        out.push_str(
            "# HELP switchboard_upstream_call_seconds Tool call latency through the gateway.\n",
        );
        out.push_str("# TYPE switchboard_upstream_call_seconds histogram\n");
        for (name, s) in &servers {
            let name = esc(name);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "switchboard_upstream_call_seconds_bucket{{server=\"{name}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += s.buckets[BUCKETS.len()].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "switchboard_upstream_call_seconds_bucket{{server=\"{name}\",le=\"+Inf\"}} {cumulative}"
            );
            let sum = s.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "switchboard_upstream_call_seconds_sum{{server=\"{name}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "switchboard_upstream_call_seconds_count{{server=\"{name}\"}} {cumulative}"
            );
        }
        out.push_str("# HELP switchboard_upstream_restarts_total Restarts of each server.\n");
        out.push_str("# TYPE switchboard_upstream_restarts_total counter\n");
        for h in health {
            let _ = writeln!(
                out,
                "switchboard_upstream_restarts_total{{server=\"{}\"}} {}",
                esc(&h.name),
                h.restarts
            );
        }
        out.push_str(
            "# HELP switchboard_upstream_state Each server's state (1 for the current one).\n",
        );
        out.push_str("# TYPE switchboard_upstream_state gauge\n");
        for h in health {
            for state in [
                ServerState::Starting,
                ServerState::Ready,
                ServerState::Restarting,
                ServerState::BreakerOpen,
                ServerState::Down,
                ServerState::NotStarted,
            ] {
                let on = u8::from(h.state == state);
                let _ = writeln!(
                    out,
                    "switchboard_upstream_state{{server=\"{}\",state=\"{}\"}} {on}",
                    esc(&h.name),
                    state.as_str()
                );
            }
        }
        out.push_str(
            "# HELP switchboard_gateway_requests_total Requests served, by method and era.\n",
        );
        out.push_str("# TYPE switchboard_gateway_requests_total counter\n");
        for ((method, era), n) in crate::session::lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "switchboard_gateway_requests_total{{method=\"{}\",era=\"{era}\"}} {n}",
                esc(method)
            );
        }
        out.push_str("# HELP switchboard_gateway_in_flight Tool calls in flight.\n");
        out.push_str("# TYPE switchboard_gateway_in_flight gauge\n");
        let _ = writeln!(
            out,
            "switchboard_gateway_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        out
    }
}

/// A label value escaped as the text format wants.
fn esc(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_labels_are_escaped() {
        let m = Metrics::default();
        let s = m.server("a\"b");
        s.record(Duration::from_micros(500), false);
        s.record(Duration::from_millis(30), true);
        s.record(Duration::from_secs(60), false);
        m.request("tools/call", Era::Modern);
        m.request("tools/call", Era::Modern);
        let text = m.render(&[]);
        assert!(
            text.contains("switchboard_upstream_calls_total{server=\"a\\\"b\"} 3"),
            "{text}"
        );
        assert!(text.contains("switchboard_upstream_errors_total{server=\"a\\\"b\"} 1"));
        assert!(text.contains("le=\"0.001\"} 1\n"));
        assert!(text.contains("le=\"0.05\"} 2\n"));
        assert!(text.contains("le=\"10\"} 2\n"));
        assert!(text.contains("le=\"+Inf\"} 3\n"));
        assert!(text.contains(
            "switchboard_gateway_requests_total{method=\"tools/call\",era=\"2026-07-28\"} 2"
        ));
        // The median falls in the first bucket, p99 in the last.
        let p50 = s.quantile(0.5).unwrap();
        assert!(p50 > 0.001 && p50 <= 0.05, "{p50}");
        assert_eq!(s.quantile(0.99), Some(10.0));
        assert_eq!(m.server("idle").quantile(0.5), None);
        let guard = m.start();
        assert!(m.render(&[]).contains("switchboard_gateway_in_flight 1"));
        drop(guard);
        assert!(m.render(&[]).contains("switchboard_gateway_in_flight 0"));
    }
}
