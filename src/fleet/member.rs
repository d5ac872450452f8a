//! One server of a fleet: how it takes part ([`Member`]) and its live
//! state (`Server`): the client slot (started on first use, or by the
//! router for eager members), the failure memory that makes a down server
//! fail fast, the concurrency limit, call counters, and the change counters
//! its `list_changed` notifications bump.
//!
//! Calls go straight from the `Fleet` handle to `Server::call`, never
//! through the router's mailbox.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Semaphore;

use super::health::{ServerHealth, ServerState};
use super::snapshot::{Kind, Lists};
use crate::config::ToolFilter;
use crate::error::NotFoundKind;
use crate::{
    CallOptions, Client, ClientBuilder, Error, HealthState, Result, TaskStart, ToolOutput,
};

/// Makes a server's client builder (again, for each start attempt).
pub type BuilderFactory = Arc<dyn Fn() -> ClientBuilder + Send + Sync>;

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
    /// Which of its tools are exposed: `allow` globs minus `deny` globs
    /// (default: every tool). The same filter as a config file's `tools`
    /// table.
    pub tool_filter: ToolFilter,
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
            tool_filter: ToolFilter::default(),
        }
    }
}

/// After a failed start, how long calls fail fast before another attempt.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// Told (with the server's name) when a server's list changed and no
/// earlier change is waiting to be picked up.
pub(crate) type ChangeSignal = Arc<dyn Fn(&str) + Send + Sync>;

/// What a server's notifications bump, shared with its client's hook.
struct Changes {
    /// Per [`Kind`]: how many `list_changed` notifications (and restarts)
    /// so far. A list fetched when the count was `n` is stale once the
    /// count passes `n`.
    counts: [AtomicU64; 3],
    /// Set by a notification, cleared by the router when it looks: gates
    /// the signal, so a burst sends the router one message, not N.
    raised: AtomicBool,
    signal: ChangeSignal,
}

impl Changes {
    fn bump(&self, server: &str, kind: Kind) {
        self.counts[kind.index()].fetch_add(1, Ordering::AcqRel);
        if !self.raised.swap(true, Ordering::AcqRel) {
            (self.signal)(server);
        }
    }
}

/// One server's live state. Shared (`Arc`) by the router's tables and the
/// fleet's snapshots.
pub(crate) struct Server {
    pub(crate) member: Member,
    /// Unique within the process: tells a re-added server of the same name
    /// from the one removed before it.
    pub(crate) id: u64,
    client: tokio::sync::Mutex<Option<Client>>,
    last_failure: Mutex<Option<(Instant, String, Vec<String>)>>,
    limit: Semaphore,
    changes: Arc<Changes>,
    removed: AtomicBool,
    calls: AtomicU64,
    errors: AtomicU64,
    /// Total latency of all calls, in microseconds.
    latency_us: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The outcome of fetching one list of one server.
pub(crate) struct Fetch {
    pub(crate) server: Arc<Server>,
    pub(crate) kind: Kind,
    /// The change count when the fetch began.
    pub(crate) seen: u64,
    /// The client's restart count when the fetch began (`None`: no
    /// client).
    pub(crate) restarts: Option<u32>,
    /// When the fetch began (the TTL counts from here).
    pub(crate) taken: Instant,
    pub(crate) result: Result<Lists>,
}

impl Server {
    pub(crate) fn new(member: Member, signal: ChangeSignal) -> Arc<Self> {
        static IDS: AtomicU64 = AtomicU64::new(1);
        let limit = Semaphore::new(member.max_concurrency.max(1));
        Arc::new(Server {
            member,
            id: IDS.fetch_add(1, Ordering::Relaxed),
            client: tokio::sync::Mutex::new(None),
            last_failure: Mutex::new(None),
            limit,
            changes: Arc::new(Changes {
                counts: Default::default(),
                raised: AtomicBool::new(false),
                signal,
            }),
            removed: AtomicBool::new(false),
            calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            latency_us: AtomicU64::new(0),
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.member.name
    }

    /// How many changes of this kind the server has announced.
    pub(crate) fn changes(&self, kind: Kind) -> u64 {
        self.changes.counts[kind.index()].load(Ordering::Acquire)
    }

    /// Re-arms the change signal (the router is looking now).
    pub(crate) fn take_raised(&self) -> bool {
        self.changes.raised.swap(false, Ordering::AcqRel)
    }

    /// Marks the server as gone from the fleet: a start still under way
    /// closes what it opened.
    pub(crate) fn mark_removed(&self) {
        self.removed.store(true, Ordering::Release);
    }

    /// The server's client, starting it if needed. Only one start runs at a
    /// time; after a failure, callers fail fast for a while.
    pub(crate) async fn client(&self) -> Result<Client> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        if self.removed.load(Ordering::Acquire) {
            return Err(Error::NotConnected(format!(
                "server {} was removed from the fleet",
                self.name()
            )));
        }
        if let Some((at, error, _)) = lock(&self.last_failure).as_ref() {
            if at.elapsed() < RETRY_AFTER {
                return Err(Error::Connect {
                    message: format!("server {} is down: {error}", self.name()),
                    stderr_tail: Vec::new(),
                });
            }
        }
        let changes = self.changes.clone();
        let name = self.name().to_owned();
        let builder = (self.member.factory)()
            .name(self.name().to_owned())
            .supervised_by_default()
            .first_hears(move |n| {
                let kind = match n.method.as_str() {
                    "notifications/tools/list_changed" => Kind::Tools,
                    "notifications/prompts/list_changed" => Kind::Prompts,
                    "notifications/resources/list_changed" => Kind::Resources,
                    _ => return,
                };
                changes.bump(&name, kind);
            });
        match builder.connect().await {
            Ok(client) => {
                if self.removed.load(Ordering::Acquire) {
                    let _ = client.close().await;
                    return Err(Error::NotConnected(format!(
                        "server {} was removed from the fleet",
                        self.name()
                    )));
                }
                *lock(&self.last_failure) = None;
                // A new connection may list other things than the last one.
                for count in &self.changes.counts {
                    count.fetch_add(1, Ordering::AcqRel);
                }
                *slot = Some(client.clone());
                Ok(client)
            }
            Err(e) => {
                let tail = e.stderr_tail().to_vec();
                tracing::warn!(server = %self.name(), "could not start: {e}");
                *lock(&self.last_failure) = Some((Instant::now(), e.to_string(), tail));
                Err(e)
            }
        }
    }

    /// Takes the client out (it is closed by the caller).
    pub(crate) async fn take_client(&self) -> Option<Client> {
        self.client.lock().await.take()
    }

    pub(crate) fn allows(&self, tool: &str) -> bool {
        self.member.tool_filter.allows(tool)
    }

    /// Fetches one of the server's lists; tools pass the member's filter.
    /// With `start`, a server not running is started first (a list call
    /// on the caller's behalf); without, it is not (a background refetch
    /// must never bring back a server that was closed).
    pub(crate) async fn fetch(self: Arc<Self>, kind: Kind, start: bool) -> Fetch {
        let taken = Instant::now();
        // Start first: a new connection bumps the counts, and the list
        // fetched from it must not look stale at once.
        let client = if start {
            self.client().await
        } else {
            let running = self.client.lock().await.clone();
            running.ok_or_else(|| {
                Error::NotConnected(format!("server {} is not running", self.name()))
            })
        };
        let seen = self.changes(kind);
        let restarts = client.as_ref().ok().map(Client::restarts);
        let result = match client {
            Ok(client) => self.list(&client, kind).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            tracing::debug!(server = %self.name(), ?kind, "could not list: {e}");
        }
        Fetch {
            server: self,
            kind,
            seen,
            restarts,
            taken,
            result,
        }
    }

    /// The running client's restart count, if it can be read without
    /// waiting (`None` while a start holds the slot, or with no client).
    pub(crate) fn restarts(&self) -> Option<u32> {
        let slot = self.client.try_lock().ok()?;
        slot.as_ref().map(Client::restarts)
    }

    async fn list(&self, client: &Client, kind: Kind) -> Result<Lists> {
        let caps = client.capabilities();
        Ok(match kind {
            Kind::Tools => Lists::Tools(
                client
                    .list_tools()
                    .await?
                    .into_iter()
                    .filter(|t| self.allows(&t.name))
                    .collect(),
            ),
            Kind::Prompts if caps.as_ref().is_some_and(|c| c.has_prompts()) => {
                Lists::Prompts(client.list_prompts().await?)
            }
            Kind::Prompts => Lists::Prompts(Vec::new()),
            Kind::Resources if caps.as_ref().is_some_and(|c| c.has_resources()) => {
                Lists::Resources(client.list_resources().await?)
            }
            Kind::Resources => Lists::Resources(Vec::new()),
        })
    }

    pub(crate) async fn call(&self, tool: &str, arguments: &Value) -> Result<ToolOutput> {
        self.call_with(tool, arguments, CallOptions::new()).await
    }

    pub(crate) async fn call_with(
        &self,
        tool: &str,
        arguments: &Value,
        options: CallOptions,
    ) -> Result<ToolOutput> {
        self.guarded(tool, |client| async move {
            client.call_tool_with(tool, arguments, options).await
        })
        .await
    }

    /// [`Server::call_with`] as a task where the server supports one
    /// ([`Client::call_tool_as_task`]): the tool filter and the concurrency
    /// limit apply while the task is started, not for its whole life.
    pub(crate) async fn call_as_task(
        &self,
        tool: &str,
        arguments: &Value,
        options: CallOptions,
    ) -> Result<TaskStart> {
        self.guarded(tool, |client| async move {
            client.call_tool_as_task(tool, arguments, options).await
        })
        .await
    }

    /// Runs `call` on this server's client for `tool`: refused when the
    /// tool filter does not allow it, under the concurrency limit, counted
    /// in the call, latency and error counters.
    async fn guarded<T, F, Fut>(&self, tool: &str, call: F) -> Result<T>
    where
        F: FnOnce(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        if !self.allows(tool) {
            let hint = format!(
                "server {} has it, but its tool filter does not allow it",
                self.name()
            );
            return Err(Error::not_found(NotFoundKind::Tool, tool, Some(hint)));
        }
        let _permit = self
            .limit
            .acquire()
            .await
            .map_err(|_| Error::NotConnected("the fleet is closed".into()))?;
        let client = self.client().await?;
        let start = Instant::now();
        let out = call(client).await;
        let us = start.elapsed().as_micros() as u64;
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.latency_us.fetch_add(us, Ordering::Relaxed);
        // A round handed to the caller (a gateway relaying it) is no failure.
        if out
            .as_ref()
            .is_err_and(|e| !matches!(e, Error::InputRequired { .. }))
        {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        out
    }

    pub(crate) fn health(&self) -> ServerHealth {
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
                // The live tail while it runs (the last run's when it is
                // between runs), so a status page shows what it says now.
                (state, h.restarts, h.last_error, c.stderr_tail())
            }
            (None, Some((_, error, tail))) => (ServerState::Down, 0, Some(error), tail),
            (None, None) => (ServerState::NotStarted, 0, None, Vec::new()),
        };
        let calls = self.calls.load(Ordering::Relaxed);
        ServerHealth {
            name: self.name().to_owned(),
            state,
            restarts,
            last_error,
            stderr_tail,
            calls,
            errors: self.errors.load(Ordering::Relaxed),
            mean_latency_us: self
                .latency_us
                .load(Ordering::Relaxed)
                .checked_div(calls)
                .unwrap_or(0),
        }
    }
}
