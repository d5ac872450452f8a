//! A gateway's health in `sb_health` (`switchboard gateway --nats URL`):
//! `gateway.<id>` with its URL and how many of its servers are ready, and
//! `fleet.<id>.<server>` for each, written by the workers' publisher
//! ([`super::health::publish_node`]): at once on a change, else every
//! [`GATEWAY_HEALTH_EVERY`]. A gateway that dies vanishes after the
//! bucket's `max_age`; one that stops withdraws at once.

use std::time::Duration;

use async_nats::jetstream::kv;
use serde::{Deserialize, Serialize};

use super::client::{bucket, Client};
use super::error::DistResult;
use super::health::{member_key, publish_node, Node, NodeFleet};
use super::ids;
use super::journal::key_part;
use super::protocol::{encode, HEALTH_BUCKET, VERSION};
use crate::fleet::{Fleet, ServerState};

/// How often a gateway writes its health when nothing changes (at most a
/// third of the bucket's `max_age`).
pub const GATEWAY_HEALTH_EVERY: Duration = Duration::from_secs(10);

/// A gateway, as it last said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayHealth {
    /// Payload version.
    pub v: u32,
    /// The gateway's id.
    pub gateway: String,
    /// Where clients reach it (its public URL, or `http://LISTEN/mcp`;
    /// `stdio` when it serves over stdio).
    pub url: String,
    /// Its servers that are ready.
    pub ready: usize,
    /// All its servers.
    pub total: usize,
    /// Switchboard's version.
    pub version: String,
    /// When it started (RFC 3339).
    pub since: String,
    /// When it wrote this (RFC 3339).
    pub at: String,
}

struct GatewayNode {
    id: String,
    url: String,
    fleet: Fleet,
    since: String,
}

impl Node for GatewayNode {
    fn id(&self) -> &str {
        &self.id
    }
    fn own(&self, at: &str, fleets: &[NodeFleet]) -> (String, Vec<u8>) {
        let health: Vec<_> = fleets.iter().flat_map(|f| f.fleet.health()).collect();
        let me = GatewayHealth {
            v: VERSION,
            gateway: self.id.clone(),
            url: self.url.clone(),
            ready: health
                .iter()
                .filter(|h| h.state == ServerState::Ready)
                .count(),
            total: health.len(),
            version: env!("CARGO_PKG_VERSION").into(),
            since: self.since.clone(),
            at: at.to_owned(),
        };
        (gateway_key(&self.id), encode(&me))
    }
    fn is_gateway(&self) -> bool {
        true
    }
    async fn fleets(&self) -> Vec<NodeFleet> {
        vec![NodeFleet {
            agent: None,
            fleet: self.fleet.clone(),
        }]
    }
}

fn gateway_key(id: &str) -> String {
    format!("gateway.{}", key_part(id))
}

/// A gateway's health being published; stops when dropped. Made by
/// [`Client::publish_gateway_health`].
#[derive(Debug)]
pub struct GatewayHealthPublisher {
    task: tokio::task::JoinHandle<()>,
    store: kv::Store,
    id: String,
    fleet: Fleet,
}

impl GatewayHealthPublisher {
    /// The gateway's id in `sb_health`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Stops publishing and removes the gateway's entries at once (a
    /// gateway that stops cleanly; a dead one expires instead). Each
    /// delete is bounded by the client's request timeout.
    pub async fn withdraw(self) {
        self.task.abort();
        let _ = self.store.delete(gateway_key(&self.id)).await;
        for h in self.fleet.health() {
            let _ = self.store.delete(member_key(&self.id, None, &h.name)).await;
        }
    }
}

impl Drop for GatewayHealthPublisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Client {
    /// Publishes the health of a gateway `id` reached at `url`, serving
    /// `fleet`, to `sb_health` until the returned handle is dropped or
    /// withdrawn. Fails only when the bucket is missing (`dist init`);
    /// NATS lost later is waited out (the writes resume after the
    /// reconnect).
    pub async fn publish_gateway_health(
        &self,
        id: &str,
        url: &str,
        fleet: Fleet,
    ) -> DistResult<GatewayHealthPublisher> {
        let store = bucket(&self.js, HEALTH_BUCKET).await?;
        let node = GatewayNode {
            id: id.to_owned(),
            url: url.to_owned(),
            fleet: fleet.clone(),
            since: ids::now_rfc3339(),
        };
        let task = tokio::spawn(publish_node(store.clone(), node, GATEWAY_HEALTH_EVERY));
        Ok(GatewayHealthPublisher {
            task,
            store,
            id: id.to_owned(),
            fleet,
        })
    }
}

/// A gateway id when none is given: `gw-` and 8 random characters.
pub fn new_gateway_id() -> String {
    let id = ids::new_run_id();
    format!("gw-{}", id[id.len() - 8..].to_ascii_lowercase())
}
