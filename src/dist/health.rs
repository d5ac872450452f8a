//! Shared health (`sb_health`; entries expire after the bucket's
//! `max_age`, 30 s by default, so dead nodes vanish). Every node (a worker,
//! a gateway: see [`super::gateway_health`]) writes its own entry
//! (`worker.<id>`, `gateway.<id>`) and one per server of each fleet it
//! runs (`fleet.<worker>.<agent>.<server>`, `fleet.<gateway>.<server>`):
//! at once when a server's state, restarts or last error change (looked
//! at every [`CHECK_EVERY`], locally), and every refresh period otherwise.
//! [`publish_node`] is the one writer; `switchboard status` reads them.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::kv;
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::agents::AgentCache;
use super::client::{bucket, entry, Client};
use super::error::{DistError, DistResult};
use super::gateway_health::GatewayHealth;
use super::ids;
use super::journal::key_part;
use super::protocol::{decode, encode, HEALTH_BUCKET, VERSION};
use crate::fleet::{Fleet, ServerHealth};

/// How often a worker writes its health when nothing changes (at most a
/// third of the bucket's `max_age`).
pub const HEALTH_EVERY: Duration = Duration::from_secs(2);

/// How often a node looks at its fleets for a change to publish at once.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

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

/// One server of one fleet on one node (no stderr: it may hold secrets):
/// a worker's agent's server, or a gateway's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberHealth {
    /// Payload version.
    pub v: u32,
    /// The worker (empty for a gateway's server).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub worker: String,
    /// The gateway (none for a worker's server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// The agent (name@revision; empty for a gateway's server).
    #[serde(default, skip_serializing_if = "String::is_empty")]
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

impl MemberHealth {
    /// The node it runs on: the worker's id or the gateway's.
    pub fn node(&self) -> &str {
        self.gateway.as_deref().unwrap_or(&self.worker)
    }
}

/// Everything in `sb_health`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Workers alive (written within the bucket's `max_age`), by id.
    pub workers: Vec<WorkerHealth>,
    /// Gateways alive, by id.
    #[serde(default)]
    pub gateways: Vec<GatewayHealth>,
    /// Their servers, by node.
    pub servers: Vec<MemberHealth>,
}

impl Client {
    /// The shared health: every live worker and gateway, and each of
    /// their servers.
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
            } else if key.starts_with("gateway.") {
                status.gateways.push(decode(&e.value, "gateway health")?);
            } else if key.starts_with("fleet.") {
                status.servers.push(decode(&e.value, "server health")?);
            }
        }
        status.workers.sort_by(|a, b| a.worker.cmp(&b.worker));
        status.gateways.sort_by(|a, b| a.gateway.cmp(&b.gateway));
        status
            .servers
            .sort_by(|a, b| (a.node(), &a.agent, &a.server).cmp(&(b.node(), &b.agent, &b.server)));
        Ok(status)
    }
}

/// A fleet a node runs: on a worker, an agent's (`name@rev`); on a
/// gateway, its only one (no agent).
pub(crate) struct NodeFleet {
    pub(crate) agent: Option<(String, u64)>,
    pub(crate) fleet: Fleet,
}

/// What a node says about itself; [`publish_node`] writes it.
pub(crate) trait Node: Send + Sync {
    /// Its id (the `<node>` of its keys).
    fn id(&self) -> &str;
    /// Its own key and entry, written at `at` (RFC 3339).
    fn own(&self, at: &str, fleets: &[NodeFleet]) -> (String, Vec<u8>);
    /// Whether its servers are a gateway's.
    fn is_gateway(&self) -> bool;
    /// The fleets it runs now.
    fn fleets(&self) -> impl Future<Output = Vec<NodeFleet>> + Send;
}

/// The key of one server of a node.
pub(crate) fn member_key(node: &str, agent: Option<&(String, u64)>, server: &str) -> String {
    match agent {
        Some((agent, rev)) => format!(
            "fleet.{}.{}.{}",
            key_part(node),
            key_part(&format!("{agent}-{rev}")),
            key_part(server)
        ),
        None => format!("fleet.{}.{}", key_part(node), key_part(server)),
    }
}

/// What, changed, is published at once: per server, its state, restarts
/// and last error (not its call counts, which the refresh carries).
type Signature = Vec<(
    Option<(String, u64)>,
    String,
    &'static str,
    u32,
    Option<String>,
)>;

/// Writes `node`'s health until aborted: at once on a change, else every
/// `every` (at most a third of the bucket's `max_age`, so a live node
/// never expires). A failed write (NATS away) is tried again at the next
/// check, so publishing resumes by itself after a reconnect.
pub(crate) async fn publish_node(store: kv::Store, node: impl Node, every: Duration) {
    let refresh = match store.status().await {
        Ok(s) if !s.max_age().is_zero() => every.min(s.max_age() / 3),
        _ => every,
    }
    .max(CHECK_EVERY);
    let mut last: Option<(Instant, Signature)> = None;
    let mut failing = false;
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let fleets = node.fleets().await;
        let health: Vec<(&NodeFleet, Vec<ServerHealth>)> =
            fleets.iter().map(|f| (f, f.fleet.health())).collect();
        let signature: Signature = health
            .iter()
            .flat_map(|(f, hs)| {
                hs.iter().map(|h| {
                    let state = h.state.as_str();
                    (
                        f.agent.clone(),
                        h.name.clone(),
                        state,
                        h.restarts,
                        h.last_error.clone(),
                    )
                })
            })
            .collect();
        let due = last
            .as_ref()
            .is_none_or(|(t, s)| t.elapsed() >= refresh || *s != signature);
        if !due {
            continue;
        }
        match write(&store, &node, &fleets, &health).await {
            Ok(()) => {
                if failing {
                    tracing::info!(node = node.id(), "writing health again");
                }
                failing = false;
                last = Some((Instant::now(), signature));
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(node = node.id(), "cannot write health (trying again): {e}");
                }
                failing = true;
            }
        }
    }
}

async fn write(
    store: &kv::Store,
    node: &impl Node,
    fleets: &[NodeFleet],
    health: &[(&NodeFleet, Vec<ServerHealth>)],
) -> Result<(), kv::PutError> {
    let at = ids::now_rfc3339();
    let (key, value) = node.own(&at, fleets);
    store.put(&key, Bytes::from(value)).await?;
    for (f, hs) in health {
        for h in hs {
            let (worker, gateway) = if node.is_gateway() {
                (String::new(), Some(node.id().to_owned()))
            } else {
                (node.id().to_owned(), None)
            };
            let member = MemberHealth {
                v: VERSION,
                worker,
                gateway,
                agent: f
                    .agent
                    .as_ref()
                    .map(|(a, rev)| format!("{a}@{rev}"))
                    .unwrap_or_default(),
                server: h.name.clone(),
                state: h.state.as_str().to_owned(),
                restarts: h.restarts,
                calls: h.calls,
                errors: h.errors,
                last_error: h.last_error.clone(),
                at: at.clone(),
            };
            let key = member_key(node.id(), f.agent.as_ref(), &h.name);
            store.put(&key, Bytes::from(encode(&member))).await?;
        }
    }
    Ok(())
}

/// A worker, as [`publish_node`] writes it.
struct WorkerNode {
    worker: String,
    pool: String,
    slots: usize,
    running: Arc<AtomicUsize>,
    agents: AgentCache,
    since: String,
}

impl Node for WorkerNode {
    fn id(&self) -> &str {
        &self.worker
    }
    fn own(&self, at: &str, _fleets: &[NodeFleet]) -> (String, Vec<u8>) {
        let me = WorkerHealth {
            v: VERSION,
            worker: self.worker.clone(),
            pool: self.pool.clone(),
            slots: self.slots,
            running: self.running.load(Ordering::SeqCst),
            version: env!("CARGO_PKG_VERSION").into(),
            since: self.since.clone(),
            at: at.to_owned(),
        };
        (format!("worker.{}", key_part(&self.worker)), encode(&me))
    }
    fn is_gateway(&self) -> bool {
        false
    }
    async fn fleets(&self) -> Vec<NodeFleet> {
        self.agents
            .snapshot()
            .await
            .into_iter()
            .map(|(agent, a)| NodeFleet {
                agent: Some(agent),
                fleet: a.fleet().clone(),
            })
            .collect()
    }
}

/// Writes a worker's health until aborted (see [`publish_node`]).
pub(crate) async fn publish(
    store: kv::Store,
    worker: String,
    pool: String,
    slots: usize,
    running: Arc<AtomicUsize>,
    agents: AgentCache,
) {
    let node = WorkerNode {
        worker,
        pool,
        slots,
        running,
        agents,
        since: ids::now_rfc3339(),
    };
    publish_node(store, node, HEALTH_EVERY).await;
}

/// Removes a stopping worker's own entry (its servers expire).
pub(crate) async fn withdraw(store: &kv::Store, worker: &str) {
    let _ = store.delete(format!("worker.{}", key_part(worker))).await;
}
