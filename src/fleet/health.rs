//! How each server of a fleet is doing.

use serde::Serialize;

/// Where a fleet's server stands. Serialized (and displayed) in
/// snake_case: `starting`, `ready`, `restarting`, `breaker_open`, `down`,
/// `not_started`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerState {
    /// Connecting.
    Starting,
    /// Connected and negotiated.
    Ready,
    /// Lost; a restart is pending or under way.
    Restarting,
    /// Failed too often in a row: calls fail fast for a while.
    BreakerOpen,
    /// Could not start, closed, or given up.
    Down,
    /// Lazy, and not used yet.
    NotStarted,
}

impl ServerState {
    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServerState::Starting => "starting",
            ServerState::Ready => "ready",
            ServerState::Restarting => "restarting",
            ServerState::BreakerOpen => "breaker_open",
            ServerState::Down => "down",
            ServerState::NotStarted => "not_started",
        }
    }
}

impl std::fmt::Display for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ServerState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One server's health as the fleet sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ServerHealth {
    /// The server's name.
    pub name: String,
    /// Where it stands.
    pub state: ServerState,
    /// Restarts so far.
    pub restarts: u32,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// The server's last stderr lines.
    pub stderr_tail: Vec<String>,
    /// Calls made through the fleet.
    pub calls: u64,
    /// Of which failed.
    pub errors: u64,
    /// Mean latency of those calls, in microseconds.
    pub mean_latency_us: u64,
}
