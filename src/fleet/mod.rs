//! `Fleet`: one handle for many servers.
//!
//! Each server is a supervised [`Client`] (its own actor, restarts, breaker).
//! The fleet's control plane is the router actor (`actors/router.rs`): it
//! owns the membership (servers added and removed at runtime, eager ones
//! started at once, lazy ones on first use) and the merged tables: tool
//! and prompt lists under namespaced names (`<server>_<name>`, see
//! [`names`]), published as an immutable snapshot that the handle reads
//! without a mailbox hop. When a server says a list changed, the router
//! waits a short debounce window (a burst costs one refetch), refetches and
//! republishes, so the next list call is served warm; lists also expire
//! after a TTL.
//!
//! Calls do not pass through the router: [`Fleet::call_tool`] resolves the
//! name in the snapshot and calls the member's client directly, within a
//! concurrency limit per server. A server that is down is reported in
//! [`Fleet::health`] and never blocks the others.
//!
//! A list call that finds a server's list stale (never fetched, past its
//! TTL, taken before the server last restarted, or announced changed and
//! not refetched yet, even while the router's debounced refetch is
//! pending) fetches that list itself, in
//! parallel with the other stale ones, and hands the results to the router
//! to merge: it never waits out a debounce window and never returns a list
//! the server said has changed. The router's pending refetch then finds
//! nothing left to do.

mod builder;
mod fan_out;
mod health;
mod lookup;
pub(crate) mod member;
pub mod names;
mod router;
pub(crate) mod snapshot;

pub use builder::FleetBuilder;
pub use fan_out::{FanOut, FanOutResult, DEFAULT_FAN_OUT_DEADLINE};
pub use health::{ServerHealth, ServerState};
pub use member::{BuilderFactory, Member};

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use crate::error::NotFoundKind;
use crate::fleet::router::{Router, RouterSettings};
use crate::protocol::{GetPromptResult, Prompt, ReadResourceResult, Resource, Tool};
use crate::{CallOptions, Client, Error, Result, ToolOutput};
use lookup::Looked;
use member::Server;
use snapshot::{Kind, Snapshot};

/// How long a snapshot of a server's lists is trusted without a change
/// notification, by default.
pub const DEFAULT_SNAPSHOT_TTL: Duration = Duration::from_secs(60);
/// How long the router waits after a `list_changed` for more before it
/// refetches, by default.
pub const DEFAULT_LIST_DEBOUNCE: Duration = Duration::from_millis(75);

/// Many servers behind one handle. Cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Fleet {
    inner: Arc<FleetInner>,
}

struct FleetInner {
    router: Router,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    settings: RouterSettings,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("servers", &self.server_names())
            .finish()
    }
}

impl Fleet {
    /// A fleet of these members. Eager members start now, in parallel; one
    /// that fails to start is reported in [`Fleet::health`] and retried on
    /// use, and never fails the fleet.
    pub async fn new(members: impl IntoIterator<Item = Member>) -> Result<Fleet> {
        let settings = RouterSettings {
            debounce: DEFAULT_LIST_DEBOUNCE,
            ttl: DEFAULT_SNAPSHOT_TTL,
        };
        Fleet::with_settings(members.into_iter().collect(), settings).await
    }

    pub(crate) async fn with_settings(
        members: Vec<Member>,
        settings: RouterSettings,
    ) -> Result<Fleet> {
        let (router, snapshots) = Router::start(settings)?;
        let fleet = Fleet {
            inner: Arc::new(FleetInner {
                router,
                snapshots,
                settings,
            }),
        };
        fleet.inner.router.add(members).await?;
        Ok(fleet)
    }

    /// A fleet from an `mcpServers` file (JSON or TOML; see
    /// [`crate::config`]): every enabled server, lazy where configured,
    /// with its tool allow/deny lists, timeouts and restart policy.
    pub async fn from_config(path: impl AsRef<std::path::Path>) -> Result<Fleet> {
        let config = crate::config::FleetConfig::from_path(path)?;
        Fleet::from_fleet_config(&config, None).await
    }

    /// A fleet from a loaded config, optionally narrowed to one server.
    pub async fn from_fleet_config(
        config: &crate::config::FleetConfig,
        only: Option<&str>,
    ) -> Result<Fleet> {
        let builder = Fleet::builder();
        match only {
            Some(name) => builder.config_server(config.clone(), name),
            None => builder.config(config.clone()),
        }
        .build()
        .await
    }

    /// Starts building a fleet: servers, and the handlers they share.
    pub fn builder() -> FleetBuilder {
        FleetBuilder::default()
    }

    /// The router's latest snapshot.
    fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.snapshots.borrow().clone()
    }

    /// A snapshot whose lists of this kind are fresh: stale ones are
    /// fetched now (in parallel) and merged by the router. Servers that
    /// are down are left out.
    async fn fresh(&self, kind: Kind) -> Arc<Snapshot> {
        let snapshot = self.snapshot();
        let stale = snapshot.stale(kind, self.inner.settings.ttl);
        if stale.is_empty() {
            return snapshot;
        }
        let fetches = join_all(stale.into_iter().map(|s| s.fetch(kind, true))).await;
        match self.inner.router.integrate(fetches).await {
            Ok(snapshot) => snapshot,
            Err(e) => {
                tracing::warn!("the fleet's lists could not be merged: {e}");
                self.snapshot()
            }
        }
    }

    /// Adds a server at runtime (started at once unless lazy).
    pub async fn add_server(&self, member: Member) -> Result<()> {
        self.inner.router.add(vec![member]).await
    }

    /// Removes a server and closes its connection.
    pub async fn remove_server(&self, name: &str) -> Result<()> {
        self.inner.router.remove(name).await
    }

    /// The servers' names, sorted.
    pub fn server_names(&self) -> Vec<String> {
        self.snapshot().entries.keys().cloned().collect()
    }

    fn server(&self, name: &str) -> Result<Arc<Server>> {
        self.snapshot()
            .server(name)
            .cloned()
            .ok_or_else(|| Error::not_found(NotFoundKind::Server, name, None))
    }

    /// One server's client (started if needed), for anything the fleet has
    /// no call for.
    pub async fn client(&self, server: &str) -> Result<Client> {
        self.server(server)?.client().await
    }

    /// Every tool of every reachable server, under namespaced names
    /// (`<server>_<tool>`). Servers that are down are left out (see
    /// [`Fleet::health`]).
    pub async fn list_tools(&self) -> Vec<Tool> {
        self.fresh(Kind::Tools).await.tools.clone()
    }

    /// Every prompt of every reachable server, namespaced like tools.
    pub async fn list_prompts(&self) -> Vec<Prompt> {
        self.fresh(Kind::Prompts).await.prompts.clone()
    }

    /// Every resource of every reachable server, with the server's name.
    pub async fn list_resources(&self) -> Vec<(String, Resource)> {
        self.fresh(Kind::Resources).await.resources.clone()
    }

    /// The servers that list resource `uri` (several when they share it),
    /// in server order, from fresh lists: one lookup, whatever the size
    /// of the catalog.
    pub async fn resource_owners(&self, uri: &str) -> Vec<String> {
        self.fresh(Kind::Resources).await.owners_of(uri)
    }

    /// The tool listed under `namespaced`, from the last lists seen
    /// (no fetch).
    pub fn tool(&self, namespaced: &str) -> Option<Tool> {
        self.snapshot()
            .tools
            .iter()
            .find(|t| t.name == namespaced)
            .cloned()
    }

    /// The namespaced name of `server`'s own tool `tool`, from the last
    /// lists seen.
    pub fn tool_name(&self, server: &str, tool: &str) -> Option<String> {
        self.snapshot().tool_name(server, tool)
    }

    /// Resolves a namespaced prompt name to (server, prompt).
    pub fn resolve_prompt(&self, namespaced: &str) -> Option<(String, String)> {
        self.snapshot().resolve_prompt(namespaced)
    }

    /// Resolves a namespaced tool name to (server, tool).
    pub fn resolve_tool(&self, namespaced: &str) -> Option<(String, String)> {
        self.snapshot().resolve_tool(namespaced)
    }

    /// Calls a tool by its namespaced name (as [`Fleet::list_tools`] gave it).
    pub async fn call_tool(
        &self,
        namespaced: &str,
        arguments: impl Serialize,
    ) -> Result<ToolOutput> {
        self.call_tool_with(namespaced, arguments, CallOptions::new())
            .await
    }

    /// [`Fleet::call_tool`] with per-call options: progress, deadlines.
    pub async fn call_tool_with(
        &self,
        namespaced: &str,
        arguments: impl Serialize,
        options: CallOptions,
    ) -> Result<ToolOutput> {
        let arguments =
            serde_json::to_value(arguments).map_err(|e| Error::Encode(e.to_string()))?;
        // One snapshot for the name and the server: no mailbox hop.
        let mut snapshot = self.snapshot();
        let (server, tool) = match snapshot.resolve_tool(namespaced) {
            Some(found) => found,
            None => {
                // Names not listed yet: refresh once, then resolve.
                snapshot = self.fresh(Kind::Tools).await;
                snapshot
                    .resolve_tool(namespaced)
                    .ok_or_else(|| lookup::not_found(&snapshot, Looked::Tool, namespaced))?
            }
        };
        let server = snapshot
            .server(&server)
            .ok_or_else(|| Error::not_found(NotFoundKind::Server, &server, None))?
            .clone();
        drop(snapshot);
        server.call_with(&tool, &arguments, options).await
    }

    /// Calls `tool` on one server by its own (not namespaced) name.
    pub async fn call_tool_on(
        &self,
        server: &str,
        tool: &str,
        arguments: impl Serialize,
    ) -> Result<ToolOutput> {
        self.call_tool_on_with(server, tool, arguments, CallOptions::new())
            .await
    }

    /// [`Fleet::call_tool_on`] with per-call options (the server's tool
    /// filter and concurrency limit apply as for any call).
    pub async fn call_tool_on_with(
        &self,
        server: &str,
        tool: &str,
        arguments: impl Serialize,
        options: CallOptions,
    ) -> Result<ToolOutput> {
        let arguments =
            serde_json::to_value(arguments).map_err(|e| Error::Encode(e.to_string()))?;
        self.server(server)?
            .call_with(tool, &arguments, options)
            .await
    }

    /// [`Fleet::call_tool_on_with`] as a task where the server supports one
    /// ([`Client::call_tool_as_task`]); the tool filter and the concurrency
    /// limit apply while the task is started.
    pub async fn call_tool_as_task_on(
        &self,
        server: &str,
        tool: &str,
        arguments: impl Serialize,
        options: CallOptions,
    ) -> Result<crate::TaskStart> {
        let arguments =
            serde_json::to_value(arguments).map_err(|e| Error::Encode(e.to_string()))?;
        self.server(server)?
            .call_as_task(tool, &arguments, options)
            .await
    }

    /// Calls the same tool on every server that has it, in parallel;
    /// returns each server's outcome.
    pub async fn call_all(
        &self,
        tool: &str,
        arguments: impl Serialize,
    ) -> Vec<(String, Result<ToolOutput>)> {
        let arguments = match serde_json::to_value(arguments) {
            Ok(v) => v,
            Err(e) => return vec![(String::new(), Err(Error::Encode(e.to_string())))],
        };
        let targets = self.fresh(Kind::Tools).await.servers_with_tool(tool);
        let results = join_all(targets.iter().map(|s| s.call(tool, &arguments))).await;
        targets
            .iter()
            .map(|s| s.name().to_owned())
            .zip(results)
            .collect()
    }

    /// Many calls at once (each `(namespaced tool, arguments)`), in
    /// parallel, respecting each server's concurrency limit.
    pub async fn call_many(&self, calls: Vec<(String, Value)>) -> Vec<Result<ToolOutput>> {
        join_all(
            calls
                .into_iter()
                .map(|(name, args)| async move { self.call_tool(&name, args).await }),
        )
        .await
    }

    /// Reads a resource from one server.
    pub async fn read_resource(&self, server: &str, uri: &str) -> Result<ReadResourceResult> {
        self.server(server)?
            .client()
            .await?
            .read_resource(uri)
            .await
    }

    /// Renders a prompt by its namespaced name.
    pub async fn get_prompt(
        &self,
        namespaced: &str,
        arguments: impl Serialize + Sync,
    ) -> Result<GetPromptResult> {
        let (server, prompt) = match self.snapshot().resolve_prompt(namespaced) {
            Some(r) => r,
            None => {
                let snapshot = self.fresh(Kind::Prompts).await;
                snapshot
                    .resolve_prompt(namespaced)
                    .ok_or_else(|| lookup::not_found(&snapshot, Looked::Prompt, namespaced))?
            }
        };
        self.server(&server)?
            .client()
            .await?
            .get_prompt(&prompt, arguments)
            .await
    }

    /// A watch on the fleet's tables, for a process that republishes the
    /// fleet (a gateway) and must tell its own clients what changed.
    pub fn watch(&self) -> FleetWatch {
        let mut rx = self.inner.snapshots.clone();
        rx.borrow_and_update();
        FleetWatch(rx)
    }

    /// Every server's health.
    pub fn health(&self) -> Vec<ServerHealth> {
        self.snapshot().servers().map(|s| s.health()).collect()
    }

    /// Closes every server.
    pub async fn close(&self) -> Result<()> {
        for server in self.snapshot().servers() {
            if let Some(client) = server.take_client().await {
                let _ = client.close().await;
            }
        }
        Ok(())
    }
}

/// Tells when a fleet's tables change: a server added, removed, started or
/// restarted, or a list refetched. From [`Fleet::watch`].
pub struct FleetWatch(watch::Receiver<Arc<Snapshot>>);

impl std::fmt::Debug for FleetWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetWatch").finish_non_exhaustive()
    }
}

impl FleetWatch {
    /// Waits for the next change since the last call (or since the watch
    /// was made); `false` once the fleet is gone.
    pub async fn changed(&mut self) -> bool {
        self.0.changed().await.is_ok()
    }
}

/// A source that is a configuration error: connecting to it fails with
/// [`Error::Config`] and the problem.
struct Unstartable(crate::ConfigError);

impl crate::IntoSource for Unstartable {
    fn into_source(self) -> Result<crate::Source> {
        Err(Error::Config(self.0))
    }
}

/// The members for the enabled servers of a config (or the one named
/// `only`): lazy where configured, with their tool allow/deny lists,
/// timeouts and restart policy.
pub(crate) fn config_members(
    config: &crate::config::FleetConfig,
    only: Option<&str>,
) -> Result<Vec<Member>> {
    let mut members = Vec::new();
    for server in config.enabled() {
        if only.is_some_and(|o| o != server.name) {
            continue;
        }
        // Surface config errors (bad source) now, not on first use.
        server.client_builder()?;
        let cfg = server.clone();
        let mut member = Member::new(server.name.clone(), move || match cfg.client_builder() {
            Ok(b) => b,
            // Validated above; a later failure shows up as a start error.
            Err(Error::Config(problem)) => Client::builder(Unstartable(problem)),
            Err(e) => Client::builder(Unstartable(crate::ConfigError::new(e.to_string()))),
        });
        member.lazy = server.lazy;
        member.tool_filter = server.tools.clone();
        members.push(member);
    }
    // A server missing a value fails alone: named with --server, at once;
    // in the fleet, as a member that cannot start (reported in health).
    for server in config.unresolved.iter().filter(|s| !s.disabled) {
        match only {
            Some(o) if o != server.name => continue,
            Some(_) => return Err(server.error()),
            None => {}
        }
        let problem = server.problem.clone();
        members.push(Member::new(server.name.clone(), move || {
            Client::builder(Unstartable(problem.clone()))
        }));
    }
    if let Some(name) = only {
        if members.is_empty() {
            let hint = format!(
                "{} has the servers {}",
                config.origin,
                config.names().collect::<Vec<_>>().join(", ")
            );
            return Err(Error::not_found(NotFoundKind::Server, name, Some(hint)));
        }
    }
    Ok(members)
}
