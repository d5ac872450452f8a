//! `Fleet`: one handle for many servers.
//!
//! Each server is a supervised [`Client`] (its own actor, restarts, breaker).
//! The fleet starts servers eagerly or on first use, merges their tool and
//! prompt lists under namespaced names (`<server>_<name>`, see [`names`]),
//! serves lists from snapshots refreshed when a server says its list
//! changed (or after a TTL), fans calls out in parallel with a concurrency
//! limit per server, and keeps going when a server is down: that server is
//! reported in [`Fleet::health`], never allowed to block the others.

mod builder;
mod health;
pub mod names;

pub use builder::FleetBuilder;
pub(crate) use builder::SharedHandlers;
pub use health::{ServerHealth, ServerState};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::protocol::{GetPromptResult, Prompt, ReadResourceResult, Resource, Tool};
use crate::{Client, ClientBuilder, Error, HealthState, Result, ToolOutput};
use names::NameTable;

/// Makes a server's client builder (again, for each start attempt).
pub type BuilderFactory = Arc<dyn Fn() -> ClientBuilder + Send + Sync>;

/// Decides which of a server's tools the fleet exposes.
pub type ToolFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// How one server takes part in a fleet.
#[derive(Clone)]
pub struct Member {
    /// Its name (the namespace prefix).
    pub name: String,
    /// How to build its client.
    pub factory: BuilderFactory,
    /// Start on first use instead of at once.
    pub lazy: bool,
    /// Most calls in flight to this server at once.
    pub max_concurrency: usize,
    /// Which of its tools are exposed (`None`: all).
    pub tool_filter: Option<ToolFilter>,
}

impl Member {
    /// A member with defaults: eager, 32 calls in flight, every tool.
    pub fn new(
        name: impl Into<String>,
        factory: impl Fn() -> ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        Member {
            name: name.into(),
            factory: Arc::new(factory),
            lazy: false,
            max_concurrency: 32,
            tool_filter: None,
        }
    }
}

struct Snapshot<T> {
    items: Vec<T>,
    taken: Instant,
}

struct Server {
    member: Member,
    client: tokio::sync::Mutex<Option<Client>>,
    last_failure: Mutex<Option<(Instant, String, Vec<String>)>>,
    limit: Semaphore,
    tools_dirty: Arc<AtomicBool>,
    prompts_dirty: Arc<AtomicBool>,
    tools: Mutex<Option<Snapshot<Tool>>>,
    prompts: Mutex<Option<Snapshot<Prompt>>>,
    calls: AtomicU64,
    errors: AtomicU64,
    /// Total latency of all calls, in microseconds.
    latency_us: AtomicU64,
}

/// How long a snapshot of a server's lists is trusted without a change
/// notification.
const SNAPSHOT_TTL: Duration = Duration::from_secs(60);
/// After a failed start, how long calls fail fast before another attempt.
const RETRY_AFTER: Duration = Duration::from_secs(2);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Server {
    fn new(member: Member) -> Arc<Self> {
        let limit = Semaphore::new(member.max_concurrency.max(1));
        Arc::new(Server {
            member,
            client: tokio::sync::Mutex::new(None),
            last_failure: Mutex::new(None),
            limit,
            tools_dirty: Arc::new(AtomicBool::new(true)),
            prompts_dirty: Arc::new(AtomicBool::new(true)),
            tools: Mutex::new(None),
            prompts: Mutex::new(None),
            calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            latency_us: AtomicU64::new(0),
        })
    }

    /// The server's client, starting it if needed. Only one start runs at a
    /// time; after a failure, callers fail fast for a while.
    async fn client(&self) -> Result<Client> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        if let Some((at, error, _)) = lock(&self.last_failure).as_ref() {
            if at.elapsed() < RETRY_AFTER {
                return Err(Error::Connect {
                    message: format!("server {} is down: {error}", self.member.name),
                    stderr_tail: Vec::new(),
                });
            }
        }
        let tools_dirty = self.tools_dirty.clone();
        let prompts_dirty = self.prompts_dirty.clone();
        let builder = (self.member.factory)()
            .name(self.member.name.clone())
            .supervised_by_default()
            .also_on_notification(move |n| match n.method.as_str() {
                "notifications/tools/list_changed" => tools_dirty.store(true, Ordering::Relaxed),
                "notifications/prompts/list_changed" => {
                    prompts_dirty.store(true, Ordering::Relaxed)
                }
                _ => {}
            });
        match builder.connect().await {
            Ok(client) => {
                *lock(&self.last_failure) = None;
                self.tools_dirty.store(true, Ordering::Relaxed);
                self.prompts_dirty.store(true, Ordering::Relaxed);
                *slot = Some(client.clone());
                Ok(client)
            }
            Err(e) => {
                let tail = e.stderr_tail().to_vec();
                tracing::warn!(server = %self.member.name, "could not start: {e}");
                *lock(&self.last_failure) = Some((Instant::now(), e.to_string(), tail));
                Err(e)
            }
        }
    }

    fn allows(&self, tool: &str) -> bool {
        self.member.tool_filter.as_ref().is_none_or(|f| f(tool))
    }

    async fn tools(&self) -> Result<Vec<Tool>> {
        let fresh = !self.tools_dirty.load(Ordering::Relaxed)
            && lock(&self.tools)
                .as_ref()
                .is_some_and(|s| s.taken.elapsed() < SNAPSHOT_TTL);
        if fresh {
            if let Some(s) = lock(&self.tools).as_ref() {
                return Ok(s.items.clone());
            }
        }
        let client = self.client().await?;
        self.tools_dirty.store(false, Ordering::Relaxed);
        let tools: Vec<Tool> = client
            .list_tools()
            .await?
            .into_iter()
            .filter(|t| self.allows(&t.name))
            .collect();
        *lock(&self.tools) = Some(Snapshot {
            items: tools.clone(),
            taken: Instant::now(),
        });
        Ok(tools)
    }

    async fn prompts(&self) -> Result<Vec<Prompt>> {
        let fresh = !self.prompts_dirty.load(Ordering::Relaxed)
            && lock(&self.prompts)
                .as_ref()
                .is_some_and(|s| s.taken.elapsed() < SNAPSHOT_TTL);
        if fresh {
            if let Some(s) = lock(&self.prompts).as_ref() {
                return Ok(s.items.clone());
            }
        }
        let client = self.client().await?;
        self.prompts_dirty.store(false, Ordering::Relaxed);
        let has_prompts = client.capabilities().is_some_and(|c| c.has_prompts());
        let prompts = if has_prompts {
            client.list_prompts().await?
        } else {
            Vec::new()
        };
        *lock(&self.prompts) = Some(Snapshot {
            items: prompts.clone(),
            taken: Instant::now(),
        });
        Ok(prompts)
    }

    async fn call(&self, tool: &str, arguments: &Value) -> Result<ToolOutput> {
        if !self.allows(tool) {
            return Err(Error::Config(format!(
                "tool {tool:?} of server {} is not allowed by its filter",
                self.member.name
            )));
        }
        let _permit = self
            .limit
            .acquire()
            .await
            .map_err(|_| Error::NotConnected("the fleet is closed".into()))?;
        let client = self.client().await?;
        let start = Instant::now();
        let out = client.call_tool(tool, arguments).await;
        let us = start.elapsed().as_micros() as u64;
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.latency_us.fetch_add(us, Ordering::Relaxed);
        if out.is_err() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        out
    }

    fn health(&self) -> ServerHealth {
        let client = self.client.try_lock().ok().and_then(|c| c.clone());
        let failure = lock(&self.last_failure).clone();
        let (state, restarts, last_error, stderr_tail) = match (&client, failure) {
            (Some(c), _) => {
                let h = c.health();
                let state = match h.state {
                    HealthState::Starting => ServerState::Starting,
                    HealthState::Ready => ServerState::Ready,
                    HealthState::Restarting => ServerState::Restarting,
                    HealthState::BreakerOpen => ServerState::BreakerOpen,
                    HealthState::Closed => ServerState::Down,
                };
                (state, h.restarts, h.last_error, h.stderr_tail)
            }
            (None, Some((_, error, tail))) => (ServerState::Down, 0, Some(error), tail),
            (None, None) => (ServerState::NotStarted, 0, None, Vec::new()),
        };
        ServerHealth {
            name: self.member.name.clone(),
            state,
            restarts,
            last_error,
            stderr_tail,
            calls: self.calls.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            mean_latency_us: self
                .latency_us
                .load(Ordering::Relaxed)
                .checked_div(self.calls.load(Ordering::Relaxed))
                .unwrap_or(0),
        }
    }
}

/// Many servers behind one handle. Cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Fleet {
    inner: Arc<FleetInner>,
}

struct FleetInner {
    servers: RwLock<BTreeMap<String, Arc<Server>>>,
    tool_names: Mutex<NameTable>,
    prompt_names: Mutex<NameTable>,
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
        let fleet = Fleet {
            inner: Arc::new(FleetInner {
                servers: RwLock::new(BTreeMap::new()),
                tool_names: Mutex::new(NameTable::new()),
                prompt_names: Mutex::new(NameTable::new()),
            }),
        };
        let mut eager = Vec::new();
        for member in members {
            let lazy = member.lazy;
            let server = fleet.insert(member)?;
            if !lazy {
                eager.push(server);
            }
        }
        join_all(eager.iter().map(|s| s.client())).await;
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

    fn insert(&self, member: Member) -> Result<Arc<Server>> {
        let mut servers = self
            .inner
            .servers
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if servers.contains_key(&member.name) {
            return Err(Error::Config(format!(
                "a server named {:?} is already in the fleet",
                member.name
            )));
        }
        let server = Server::new(member);
        servers.insert(server.member.name.clone(), server.clone());
        Ok(server)
    }

    /// Adds a server at runtime (started at once unless lazy).
    pub async fn add_server(&self, member: Member) -> Result<()> {
        let lazy = member.lazy;
        let server = self.insert(member)?;
        if !lazy {
            let _ = server.client().await;
        }
        Ok(())
    }

    /// Removes a server and closes its connection.
    pub async fn remove_server(&self, name: &str) -> Result<()> {
        let removed = self
            .inner
            .servers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        let server = removed.ok_or_else(|| Error::Config(format!("no server named {name:?}")))?;
        lock(&self.inner.tool_names).remove_server(name);
        lock(&self.inner.prompt_names).remove_server(name);
        if let Some(client) = server.client.lock().await.take() {
            client.close().await?;
        }
        Ok(())
    }

    /// The servers' names, sorted.
    pub fn server_names(&self) -> Vec<String> {
        self.inner
            .servers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    fn servers(&self) -> Vec<Arc<Server>> {
        self.inner
            .servers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    fn server(&self, name: &str) -> Result<Arc<Server>> {
        self.inner
            .servers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| Error::Config(format!("no server named {name:?} in the fleet")))
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
        let servers = self.servers();
        let lists = join_all(servers.iter().map(|s| s.tools())).await;
        let mut names = lock(&self.inner.tool_names);
        let mut all = Vec::new();
        for (server, list) in servers.iter().zip(lists) {
            for mut tool in list.unwrap_or_default() {
                tool.name = names.insert(&server.member.name, &tool.name);
                all.push(tool);
            }
        }
        all
    }

    /// Every prompt of every reachable server, namespaced like tools.
    pub async fn list_prompts(&self) -> Vec<Prompt> {
        let servers = self.servers();
        let lists = join_all(servers.iter().map(|s| s.prompts())).await;
        let mut names = lock(&self.inner.prompt_names);
        let mut all = Vec::new();
        for (server, list) in servers.iter().zip(lists) {
            for mut prompt in list.unwrap_or_default() {
                prompt.name = names.insert(&server.member.name, &prompt.name);
                all.push(prompt);
            }
        }
        all
    }

    /// Every resource of every reachable server, with the server's name.
    pub async fn list_resources(&self) -> Vec<(String, Resource)> {
        let servers = self.servers();
        let lists = join_all(servers.iter().map(|s| async move {
            let client = s.client().await?;
            if client.capabilities().is_some_and(|c| c.has_resources()) {
                client.list_resources().await
            } else {
                Ok(Vec::new())
            }
        }))
        .await;
        servers
            .iter()
            .zip(lists)
            .flat_map(|(s, l)| {
                l.unwrap_or_default()
                    .into_iter()
                    .map(|r| (s.member.name.clone(), r))
            })
            .collect()
    }

    /// Resolves a namespaced tool name to (server, tool).
    pub fn resolve_tool(&self, namespaced: &str) -> Option<(String, String)> {
        lock(&self.inner.tool_names)
            .resolve(namespaced)
            .map(|(s, t)| (s.to_owned(), t.to_owned()))
    }

    /// Calls a tool by its namespaced name (as [`Fleet::list_tools`] gave it).
    pub async fn call_tool(
        &self,
        namespaced: &str,
        arguments: impl Serialize,
    ) -> Result<ToolOutput> {
        let (server, tool) = match self.resolve_tool(namespaced) {
            Some(found) => found,
            None => {
                // Names not listed yet: refresh once, then resolve.
                self.list_tools().await;
                self.resolve_tool(namespaced).ok_or_else(|| {
                    Error::Config(format!("no tool named {namespaced:?} in the fleet"))
                })?
            }
        };
        self.call_tool_on(&server, &tool, arguments).await
    }

    /// Calls `tool` on one server by its own (not namespaced) name.
    pub async fn call_tool_on(
        &self,
        server: &str,
        tool: &str,
        arguments: impl Serialize,
    ) -> Result<ToolOutput> {
        let arguments =
            serde_json::to_value(arguments).map_err(|e| Error::Encode(e.to_string()))?;
        self.server(server)?.call(tool, &arguments).await
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
        let servers = self.servers();
        let has = join_all(servers.iter().map(|s| async move {
            s.tools()
                .await
                .is_ok_and(|t| t.iter().any(|t| t.name == tool))
        }))
        .await;
        let targets: Vec<_> = servers
            .into_iter()
            .zip(has)
            .filter(|(_, h)| *h)
            .map(|(s, _)| s)
            .collect();
        let results = join_all(targets.iter().map(|s| s.call(tool, &arguments))).await;
        targets
            .iter()
            .map(|s| s.member.name.clone())
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
        let resolved = lock(&self.inner.prompt_names)
            .resolve(namespaced)
            .map(|(s, p)| (s.to_owned(), p.to_owned()));
        let (server, prompt) = match resolved {
            Some(r) => r,
            None => {
                self.list_prompts().await;
                lock(&self.inner.prompt_names)
                    .resolve(namespaced)
                    .map(|(s, p)| (s.to_owned(), p.to_owned()))
                    .ok_or_else(|| {
                        Error::Config(format!("no prompt named {namespaced:?} in the fleet"))
                    })?
            }
        };
        self.server(&server)?
            .client()
            .await?
            .get_prompt(&prompt, arguments)
            .await
    }

    /// Every server's health.
    pub fn health(&self) -> Vec<ServerHealth> {
        self.servers().iter().map(|s| s.health()).collect()
    }

    /// Closes every server.
    pub async fn close(&self) -> Result<()> {
        for server in self.servers() {
            if let Some(client) = server.client.lock().await.take() {
                let _ = client.close().await;
            }
        }
        Ok(())
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
        let filter_cfg = server.clone();
        let mut member = Member::new(server.name.clone(), move || match cfg.client_builder() {
            Ok(b) => b,
            // Validated above; a later failure shows up as a start error.
            Err(e) => Client::builder(format!("/switchboard-config-error {e}")),
        });
        member.lazy = server.lazy;
        member.tool_filter = Some(Arc::new(move |name: &str| filter_cfg.tool_allowed(name)));
        members.push(member);
    }
    if let Some(name) = only {
        if members.is_empty() {
            return Err(Error::Config(format!(
                "{}: no enabled server named {name:?} (servers: {})",
                config.origin,
                config.names().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(members)
}
