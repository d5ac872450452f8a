//! Supervision policy: when to restart a server, how long to wait, when to
//! stop trying for a while (the circuit breaker), and the health a caller
//! can read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How a supervised server is restarted.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartPolicy {
    /// First delay before restarting after a failure.
    pub backoff_initial: Duration,
    /// Longest delay between attempts.
    pub backoff_max: Duration,
    /// Random spread applied to each delay, as a fraction (0.2 = ±20%).
    pub jitter: f64,
    /// A run shorter than this counts as a failed start (a server that
    /// starts and dies at once must not be respawned in a hot loop).
    pub min_uptime: Duration,
    /// Consecutive failures that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long the breaker stays open before one probe is let through.
    pub breaker_cooldown: Duration,
    /// Probe the server this often (ping, or `server/discover` in
    /// 2026-07-28); `None` turns health checks off.
    pub health_interval: Option<Duration>,
    /// Deadline of one health probe; two misses in a row restart the server.
    pub health_timeout: Duration,
    /// Most restarts within [`RestartPolicy::restart_window`]; one more
    /// failure after that gives the server up for good (calls fail with
    /// `NotConnected` naming the last error). `None`: no limit (the
    /// breaker still slows a server that keeps failing).
    pub max_restarts: Option<u32>,
    /// The window `max_restarts` counts in.
    pub restart_window: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            jitter: 0.2,
            min_uptime: Duration::from_secs(1),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
            health_interval: Some(Duration::from_secs(30)),
            health_timeout: Duration::from_secs(5),
            max_restarts: None,
            restart_window: Duration::from_secs(60),
        }
    }
}

impl RestartPolicy {
    /// The delay before attempt number `failures` (0 = first restart).
    pub fn delay(&self, failures: u32, seed: u64) -> Duration {
        let base = self.backoff_initial.as_secs_f64() * 2f64.powi(failures.min(30) as i32);
        let base = base.min(self.backoff_max.as_secs_f64());
        let spread = self.jitter.clamp(0.0, 1.0);
        // A unit value in [-1, 1) from the seed (splitmix64).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let unit = (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
        Duration::from_secs_f64((base * (1.0 + spread * unit)).max(0.0))
    }
}

/// Where a server stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// Connecting for the first time.
    Starting,
    /// Connected and negotiated.
    Ready,
    /// The connection was lost; a restart is pending or under way.
    Restarting,
    /// Too many failures in a row: calls fail fast until a probe succeeds.
    BreakerOpen,
    /// Closed by the client, or lost with no supervision.
    Closed,
}

/// A snapshot of a server's health.
#[derive(Debug, Clone)]
pub struct Health {
    /// The state.
    pub state: HealthState,
    /// Successful restarts so far.
    pub restarts: u32,
    /// Failures since the last good run.
    pub consecutive_failures: u32,
    /// The most recent failure, if any.
    pub last_error: Option<String>,
    /// The server's last stderr lines when it last failed.
    pub stderr_tail: Vec<String>,
    /// Latency of the last health probe.
    pub last_probe_latency: Option<Duration>,
    /// When the state last changed.
    pub since: Instant,
}

/// A server's health, written by its actor and read by its handles; every
/// change of [`HealthState`] is published to watchers
/// ([`crate::Client::health_changes`]).
#[derive(Clone)]
pub(crate) struct HealthCell(Arc<watch::Sender<Health>>);

impl HealthCell {
    pub(crate) fn new() -> Self {
        HealthCell(Arc::new(watch::channel(Health::starting()).0))
    }

    /// A copy of the current health.
    pub(crate) fn get(&self) -> Health {
        self.0.borrow().clone()
    }

    /// Reads one thing from the current health without copying it.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Health) -> R) -> R {
        f(&self.0.borrow())
    }

    /// Changes the health; watchers wake when the state changed.
    pub(crate) fn update(&self, f: impl FnOnce(&mut Health)) {
        self.0.send_if_modified(|h| {
            let before = h.state;
            f(h);
            h.state != before
        });
    }

    /// A receiver that wakes on every state change.
    pub(crate) fn watch(&self) -> watch::Receiver<Health> {
        self.0.subscribe()
    }
}

impl Health {
    pub(crate) fn starting() -> Self {
        Health {
            state: HealthState::Starting,
            restarts: 0,
            consecutive_failures: 0,
            last_error: None,
            stderr_tail: Vec::new(),
            last_probe_latency: None,
            since: Instant::now(),
        }
    }

    pub(crate) fn set(&mut self, state: HealthState) {
        if self.state != state {
            self.state = state;
            self.since = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let p = RestartPolicy {
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            jitter: 0.2,
            ..RestartPolicy::default()
        };
        for seed in 0..200u64 {
            let d0 = p.delay(0, seed).as_secs_f64();
            assert!((0.08..=0.12).contains(&d0), "{d0}");
            let d3 = p.delay(3, seed).as_secs_f64();
            assert!((0.64..=0.96).contains(&d3), "{d3}");
            let d20 = p.delay(20, seed).as_secs_f64();
            assert!((1.6..=2.4).contains(&d20), "{d20}");
        }
        let spread: std::collections::BTreeSet<u64> =
            (0..50).map(|s| p.delay(0, s).as_micros() as u64).collect();
        assert!(spread.len() > 40, "jitter spreads restarts");
    }
}
