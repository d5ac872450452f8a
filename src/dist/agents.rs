//! Agents on a worker: built lazily per (name, revision) from `sb_agents`,
//! cached and shared by the runs (an `Agent` is a cheap clone and runs
//! may go on concurrently), closed when the worker stops.

use std::collections::HashMap;
use std::sync::Arc;

use async_nats::jetstream::kv;
use tokio::sync::Mutex;

use super::error::{DistError, DistResult};
use crate::agent::{Agent, AgentDefinition};

/// The agents a worker has built.
#[derive(Default, Clone)]
pub(crate) struct AgentCache {
    built: Arc<Mutex<HashMap<(String, u64), Agent>>>,
}

impl AgentCache {
    /// The agent `name` at revision `rev`, built on first use. The lock is
    /// held while building, so two runs never start two fleets.
    pub(crate) async fn get(&self, store: &kv::Store, name: &str, rev: u64) -> DistResult<Agent> {
        let mut built = self.built.lock().await;
        if let Some(agent) = built.get(&(name.to_owned(), rev)) {
            return Ok(agent.clone());
        }
        let entry = store
            .entry_for_revision(name, rev)
            .await
            .map_err(|e| DistError::nats("reading the definition", e))?
            .filter(|e| e.operation == kv::Operation::Put && e.key == name)
            .ok_or_else(|| DistError::AgentNotFound(format!("{name}@{rev}")))?;
        let text = String::from_utf8_lossy(&entry.value);
        let definition = AgentDefinition::from_toml_str(&text)?;
        // Secrets and `${VAR}`s are expanded here, on the worker.
        let agent = Agent::from_definition(&definition).await?;
        built.insert((name.to_owned(), rev), agent.clone());
        Ok(agent)
    }

    /// The agents built so far.
    pub(crate) async fn snapshot(&self) -> Vec<((String, u64), Agent)> {
        let built = self.built.lock().await;
        built.iter().map(|(k, a)| (k.clone(), a.clone())).collect()
    }

    /// Closes every agent's servers.
    pub(crate) async fn close(&self) {
        let built = std::mem::take(&mut *self.built.lock().await);
        for agent in built.into_values() {
            let _ = agent.close().await;
        }
    }
}
