//! [`Client`]: a connection to NATS JetStream and the buckets Switchboard uses.

use std::time::Duration;

use async_nats::jetstream::{self, kv, object_store::ObjectStore};
use bytes::Bytes;
use futures_util::StreamExt;

use super::error::{DistError, DistResult};
use super::handle::RunHandle;
use super::protocol::*;
use super::submit::Submit;

/// The NATS URL when none is given: `$SWITCHBOARD_NATS`, else this.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// A connection to NATS JetStream: submit runs, follow them, cancel them,
/// push definitions. Cheap to clone (async-nats' client is a handle).
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) nats: async_nats::Client,
    pub(crate) js: jetstream::Context,
    url: String,
}

/// The KV store `bucket`, or [`DistError::NotInitialised`].
pub(crate) async fn bucket(js: &jetstream::Context, bucket: &str) -> DistResult<kv::Store> {
    js.get_key_value(bucket)
        .await
        .map_err(|_| DistError::NotInitialised(format!("bucket {bucket}")))
}

/// A KV entry that holds a value (not a delete marker).
pub(crate) async fn entry(store: &kv::Store, key: &str) -> DistResult<Option<kv::Entry>> {
    let e = store
        .entry(key)
        .await
        .map_err(|e| DistError::nats("reading a KV entry", e))?;
    Ok(e.filter(|e| e.operation == kv::Operation::Put))
}

impl Client {
    /// Connects to `url` (`nats://host:port`; the connect deadline is 10 s;
    /// async-nats reconnects by itself after that).
    pub async fn connect(url: &str) -> DistResult<Client> {
        let nats = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(10))
            .name("switchboard")
            .max_reconnects(None)
            .connect(url);
        let nats = tokio::time::timeout(Duration::from_secs(10), nats)
            .await
            .map_err(|_| DistError::Connect {
                url: redact(url),
                message: "no answer within 10 s".into(),
            })?
            .map_err(|e| DistError::Connect {
                url: redact(url),
                message: e.to_string(),
            })?;
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(10))
            .max_ack_inflight(1024)
            .backpressure_on_inflight(true)
            .build(nats.clone());
        Ok(Client {
            nats,
            js,
            url: redact(url),
        })
    }

    /// The server's URL (credentials removed).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The core NATS client (for what this API does not cover).
    pub fn nats(&self) -> &async_nats::Client {
        &self.nats
    }

    /// The JetStream context (for what this API does not cover).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Creates or updates the streams, the pool's consumer and the buckets.
    pub async fn init(&self, setup: &super::Setup) -> DistResult<()> {
        super::setup::init(&self.js, setup).await
    }

    /// Submits `prompt` to `agent` (finish with `.await`; see [`Submit`]).
    pub fn submit(&self, agent: &str, prompt: &str) -> Submit {
        Submit::new(self.clone(), agent, prompt)
    }

    /// The handle of an existing run (not checked; see [`RunHandle::record`]).
    pub fn run(&self, run_id: &str) -> RunHandle {
        RunHandle::new(self.clone(), run_id.to_owned())
    }

    /// Validates a definition (TOML) and stores it as `sb_agents/<name>`;
    /// returns its name and revision. Secrets stay out of it
    /// (`api_key_env`, `${VAR}` are expanded on the worker, so a variable
    /// unset where it is pushed is no error here).
    pub async fn push_agent(&self, toml: &str) -> DistResult<(String, u64)> {
        let definition = crate::agent::AgentDefinition::check_for_elsewhere(toml)?;
        if !valid_token(&definition.name) {
            return Err(DistError::InvalidArgument(format!(
                "agent name {:?} must be letters, digits, - and _ to be a subject token",
                definition.name
            )));
        }
        let agents = bucket(&self.js, AGENTS_BUCKET).await?;
        let rev = agents
            .put(&definition.name, Bytes::copy_from_slice(toml.as_bytes()))
            .await
            .map_err(|e| DistError::nats("storing the definition", e))?;
        Ok((definition.name, rev))
    }

    /// The newest revision of `agent` and its definition text.
    pub async fn agent(&self, agent: &str) -> DistResult<(u64, String)> {
        let agents = bucket(&self.js, AGENTS_BUCKET).await?;
        let e = entry(&agents, agent)
            .await?
            .ok_or_else(|| DistError::AgentNotFound(agent.to_owned()))?;
        Ok((e.revision, String::from_utf8_lossy(&e.value).into_owned()))
    }

    /// Every run record (newest state), optionally only those in `state`;
    /// sorted by run id (so by submission time, for ULIDs).
    pub async fn list_runs(&self, state: Option<RunState>) -> DistResult<Vec<RunRecord>> {
        let runs = bucket(&self.js, RUNS_BUCKET).await?;
        let mut keys = runs
            .keys()
            .await
            .map_err(|e| DistError::nats("listing runs", e))?;
        let mut out = Vec::new();
        while let Some(key) = keys.next().await {
            let key = key.map_err(|e| DistError::nats("listing runs", e))?;
            if let Some(e) = entry(&runs, &key).await? {
                let record: RunRecord = decode(&e.value, "run record")?;
                if state.is_none_or(|s| s == record.state) {
                    out.push(record);
                }
            }
        }
        out.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        Ok(out)
    }

    pub(crate) async fn transcripts(&self) -> DistResult<ObjectStore> {
        self.js
            .get_object_store(TRANSCRIPTS_BUCKET)
            .await
            .map_err(|_| DistError::NotInitialised(format!("object store {TRANSCRIPTS_BUCKET}")))
    }
}

/// `url` without a `user:password@`.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
