//! Shared health (`sb_health`, entries expire after 30 s, so dead workers
//! vanish): every worker writes `worker.<id>` and, for each server of each
//! agent it has built, `fleet.<worker>.<agent>.<server>`, every
//! [`HEALTH_EVERY`]. `switchboard status` reads them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::agents::AgentCache;
use super::client::{bucket, entry, Client};
use super::error::{DistError, DistResult};
use super::ids;
use super::journal::key_part;
use super::protocol::{decode, encode, HEALTH_BUCKET, VERSION};

/// How often a worker writes its health (the bucket keeps entries 30 s).
pub const HEALTH_EVERY: Duration = Duration::from_secs(2);

/// A worker, as it last said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerHealth {
    /// Payload version.
    pub v: u32,
    /// The worker's id.
    pub worker: String,
    /// Its pool.
    pub pool: String,
    /// Its slots (runs at once).
    pub slots: usize,
    /// Runs going now.
    pub running: usize,
    /// Switchboard's version.
    pub version: String,
    /// When it started (RFC 3339).
    pub since: String,
    /// When it wrote this (RFC 3339).
    pub at: String,
}

/// One server of one agent on one worker (no stderr: it may hold secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberHealth {
    /// Payload version.
    pub v: u32,
    /// The worker.
    pub worker: String,
    /// The agent (name@revision).
    pub agent: String,
    /// The server's name.
    pub server: String,
    /// Its state (`ready`, `starting`, `restarting`, `breaker_open`, `down`, `not_started`).
    pub state: String,
    /// Restarts so far.
    pub restarts: u32,
    /// Calls made, and of which failed.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// The last failure, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it was written (RFC 3339).
    pub at: String,
}

/// Everything in `sb_health`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Workers alive (written within 30 s), by id.
    pub workers: Vec<WorkerHealth>,
    /// Their servers.
    pub servers: Vec<MemberHealth>,
}

impl Client {
    /// The shared health: every live worker and each of its servers.
    pub async fn status(&self) -> DistResult<Status> {
        let store = bucket(&self.js, HEALTH_BUCKET).await?;
        let mut keys = store
            .keys()
            .await
            .map_err(|e| DistError::nats("listing health", e))?;
        let mut status = Status::default();
        while let Some(key) = keys.next().await {
            let key = key.map_err(|e| DistError::nats("listing health", e))?;
            let Some(e) = entry(&store, &key).await? else {
                continue;
            };
            if key.starts_with("worker.") {
                status.workers.push(decode(&e.value, "worker health")?);
            } else if key.starts_with("fleet.") {
                status.servers.push(decode(&e.value, "server health")?);
            }
        }
        status.workers.sort_by(|a, b| a.worker.cmp(&b.worker));
        status.servers.sort_by(|a, b| {
            (&a.worker, &a.agent, &a.server).cmp(&(&b.worker, &b.agent, &b.server))
        });
        Ok(status)
    }
}

/// Writes a worker's health until aborted.
pub(crate) async fn publish(
    store: kv::Store,
    worker: String,
    pool: String,
    slots: usize,
    running: Arc<AtomicUsize>,
    agents: AgentCache,
) {
    let since = ids::now_rfc3339();
    let mut tick = tokio::time::interval(HEALTH_EVERY);
    loop {
        tick.tick().await;
        let at = ids::now_rfc3339();
        let me = WorkerHealth {
            v: VERSION,
            worker: worker.clone(),
            pool: pool.clone(),
            slots,
            running: running.load(Ordering::SeqCst),
            version: env!("CARGO_PKG_VERSION").into(),
            since: since.clone(),
            at: at.clone(),
        };
        let key = format!("worker.{}", key_part(&worker));
        if let Err(e) = store.put(&key, Bytes::from(encode(&me))).await {
            tracing::debug!("cannot write health: {e}");
            continue;
        }
        for ((agent, rev), a) in agents.snapshot().await {
            for h in a.fleet().health() {
                let member = MemberHealth {
                    v: VERSION,
                    worker: worker.clone(),
                    agent: format!("{agent}@{rev}"),
                    server: h.name.clone(),
                    state: serde_json::to_value(h.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    restarts: h.restarts,
                    calls: h.calls,
                    errors: h.errors,
                    last_error: h.last_error.clone(),
                    at: at.clone(),
                };
                let key = format!(
                    "fleet.{}.{}.{}",
                    key_part(&worker),
                    key_part(&format!("{agent}-{rev}")),
                    key_part(&h.name)
                );
                let _ = store.put(&key, Bytes::from(encode(&member))).await;
            }
        }
    }
}

/// Removes a stopping worker's own entry (its servers expire).
pub(crate) async fn withdraw(store: &kv::Store, worker: &str) {
    let _ = store.delete(format!("worker.{}", key_part(worker))).await;
}
