//! `Client`: the handle for one server.

mod builder;
mod call_end;
pub(crate) mod glob;
mod list_cache;
mod list_limits;
mod param_headers;
mod replay;
pub mod skills;
mod source;
mod supervision;
pub(crate) mod supervisor;
mod task;
mod tool_arguments;
mod tool_output;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::watch;

pub use builder::ClientBuilder;
pub use list_cache::Freshness;
pub use replay::{Replay, ReplayPolicy};
pub use source::{is_config_path, IntoSource};
pub use supervision::{Health, HealthState, RestartPolicy};
pub use task::{TaskStart, ToolTask, DEFAULT_POLL_INTERVAL, MAX_POLL_INTERVAL, MIN_POLL_INTERVAL};
pub use tool_output::ToolOutput;

use crate::actor_system::ActorRuntime;
use crate::protocol::request::{
    CallTool, Complete, GetPrompt, ListPrompts, ListResourceTemplates, ListResources, ListTools,
    ReadResource,
};
use crate::protocol::{
    codes, Cacheable, CallToolParams, CompleteContext, CompleteRequestParams, CompleteResult, Era,
    GetPromptRequestParams, GetPromptResult, Implementation, LegacyCreateTaskResult, LoggingLevel,
    Page, PaginatedRequestParams, Prompt, ProtocolVersion, ReadResourceRequestParams,
    ReadResourceResult, Reference, Request, Resource, ResourceTemplate, ServerCapabilities,
    TaskCallToolParams, TaskMetadata, TaskSupport, Tool,
};
use crate::session::{Answered, CallOptions, Session, Subscription, Target};
use crate::{Error, Result};
use call_end::CallEnd;
use futures_util::future::BoxFuture;
use supervision::HealthCell;
use supervisor::{Close, Restore, ServerActor, Slot, Spec, Start};
use tool_arguments::ToolArguments;

/// A connection to one MCP server.
///
/// Cheap to clone and safe to share across tasks: every clone talks over
/// the same connection, and calls run concurrently. The connection closes
/// when [`Client::close`] is called or the last clone is dropped (a stdio
/// server's whole process group is killed then, so nothing is orphaned).
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    name: String,
    slot: watch::Receiver<Slot>,
    actor: actix::Addr<ServerActor>,
    tools: RwLock<HashMap<String, Arc<KnownTool>>>,
    health: HealthCell,
    restore: Arc<Restore>,
    wait_limit: Duration,
    supervised: bool,
    /// Which calls cut by a restart are sent again.
    replay: ReplayPolicy,
    list_cache: Arc<list_cache::ListCache>,
}

struct KnownTool {
    validator: Option<jsonschema::Validator>,
    /// Its `x-mcp-header` annotations (only learnt where headers are sent).
    param_headers: Vec<param_headers::ParamHeader>,
    /// Its behaviour hints, as last listed (for the replay policy).
    annotations: Option<crate::protocol::ToolAnnotations>,
    /// Its `execution.taskSupport` (2025-11-25).
    task_support: Option<TaskSupport>,
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        // The last handle is gone without close(): nobody can use the
        // connection any more, so kill the server (its whole process group)
        // now rather than leave it to whenever the runtime gets around to it.
        if let Slot::Ready(session) = &*self.slot.borrow() {
            if !session.is_closed() {
                session.kill();
            }
        }
        self.actor.do_send(Close);
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.inner.name)
            .field("transport", &self.current().map(|s| s.describe()))
            .field("version", &self.protocol_version())
            .finish()
    }
}

/// The item of the list that the request `R` pages through.
type ListItem<R> = <<R as Request>::Result as Page>::Item;

impl Client {
    /// Starts building a client for `source`: a command line, a script
    /// path (`.py`, `.js`), a URL, or a [`crate::Source`].
    pub fn builder(source: impl IntoSource) -> ClientBuilder {
        ClientBuilder::new(source)
    }

    /// Connects with default settings.
    pub async fn connect(source: impl IntoSource) -> Result<Client> {
        Client::builder(source).connect().await
    }

    async fn connect_with(
        builder: ClientBuilder,
        runtime: tokio::runtime::Handle,
    ) -> Result<Client> {
        let (source, builder) = builder.into_source()?;
        // List results are cached by their ttlMs until a list_changed says
        // otherwise.
        let list_cache = Arc::new(list_cache::ListCache::default());
        let cache = list_cache.clone();
        let builder = builder.first_hears(move |n| cache.invalidate_for(&n.method));
        let supervised = builder.restart.is_some();
        let replay = builder.replay.clone();
        let name = builder.options.server_name.clone();
        let wait_limit = builder.options.connect_timeout;
        let (slot_tx, slot) = watch::channel(Slot::Starting);
        let health = HealthCell::new();
        let restore = Arc::new(Restore::default());
        *crate::session::lock(&restore.log_level) = builder.log_level;
        let spec = Spec {
            source,
            options: builder.options,
            handlers: builder.handlers,
            negotiate: builder.auto_initialize,
            policy: builder.restart,
            runtime,
        };
        let actors = ActorRuntime::get()?;
        let actor = actors.start(ServerActor::new(
            spec,
            slot_tx,
            health.clone(),
            restore.clone(),
        ));
        actor
            .send(Start)
            .await
            .map_err(|e| Error::NotConnected(format!("server actor unavailable: {e}")))??;
        Ok(Client {
            inner: Arc::new(ClientInner {
                name,
                slot,
                actor,
                tools: RwLock::new(HashMap::new()),
                health,
                restore,
                wait_limit,
                supervised,
                replay,
                list_cache,
            }),
        })
    }

    /// The session in use right now, if there is one.
    fn current(&self) -> Option<Session> {
        match &*self.inner.slot.borrow() {
            Slot::Ready(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// The session to use, waiting (up to the connect deadline) while a
    /// supervised server restarts.
    async fn session(&self) -> Result<Session> {
        if let Some(session) = self.live_session() {
            return Ok(session);
        }
        let supervised = self.inner.supervised;
        let mut slot = self.inner.slot.clone();
        // Wait while (re)starting, and, when supervised, while the current
        // session is already dead but the supervisor has not said so yet:
        // a new call should wait for the restart, not fail with the old
        // connection.
        let settled = tokio::time::timeout(
            self.inner.wait_limit,
            slot.wait_for(|s| match s {
                Slot::Starting | Slot::Restarting => false,
                Slot::Ready(session) => !(supervised && session.is_closed()),
                _ => true,
            }),
        )
        .await;
        let state = match settled {
            Ok(Ok(state)) => state.clone(),
            Ok(Err(_)) => return Err(Error::NotConnected("the connection is gone".into())),
            Err(_) => {
                return Err(Error::Timeout {
                    method: "waiting for the server to restart".into(),
                    elapsed: self.inner.wait_limit,
                    hint: self.inner_health().last_error,
                })
            }
        };
        match state {
            Slot::Ready(s) => Ok(s),
            Slot::BreakerOpen { until, last_error } => Err(Error::CircuitOpen {
                server: self.inner.name.clone(),
                retry_in: until.saturating_duration_since(std::time::Instant::now()),
                last_error,
            }),
            Slot::Closed(reason) => Err(Error::NotConnected(reason)),
            Slot::Starting | Slot::Restarting => {
                Err(Error::NotConnected("still connecting".into()))
            }
        }
    }

    /// The common case of [`Client::session`], without waiting machinery:
    /// a live session.
    fn live_session(&self) -> Option<Session> {
        match &*self.inner.slot.borrow() {
            Slot::Ready(session) if !(self.inner.supervised && session.is_closed()) => {
                Some(session.clone())
            }
            _ => None,
        }
    }

    /// The session, negotiated.
    async fn ready(&self) -> Result<Session> {
        let session = match self.live_session() {
            Some(session) => session,
            // Boxed: the wait (and its timer) is no part of a call's
            // future unless it happens.
            None => Box::pin(self.session()).await?,
        };
        if session.server_state().is_none() {
            return Err(Error::NotConnected(
                "not initialized: call initialize() first".into(),
            ));
        }
        Ok(session)
    }

    fn inner_health(&self) -> Health {
        self.inner.health.get()
    }

    /// Successful restarts so far (cheaper than [`Client::health`]).
    pub(crate) fn restarts(&self) -> u32 {
        self.inner.health.read(|h| h.restarts)
    }

    /// Wakes on every change of this server's [`HealthState`] (starting,
    /// ready, restarting, breaker open, closed); `borrow()` gives the whole
    /// [`Health`] as it is then. Nothing to poll: a program or an agent can
    /// wait for the server to come back, or log each transition.
    ///
    /// ```no_run
    /// # async fn demo(client: switchboard::Client) {
    /// let mut changes = client.health_changes();
    /// while changes.changed().await.is_ok() {
    ///     let h = changes.borrow().clone();
    ///     println!("{:?} after {} restarts", h.state, h.restarts);
    /// }
    /// # }
    /// ```
    pub fn health_changes(&self) -> watch::Receiver<Health> {
        self.inner.health.watch()
    }

    /// This server's health: state, restarts, last error and stderr lines.
    pub fn health(&self) -> Health {
        let mut h = self.inner_health();
        if h.state == HealthState::Ready && self.current().is_some_and(|s| s.is_closed()) {
            h.state = HealthState::Closed;
        }
        h
    }

    /// Negotiates the protocol, for clients built with
    /// `auto_initialize(false)`. Idempotent.
    pub async fn initialize(&self) -> Result<()> {
        let session = self.session().await?;
        if session.server_state().is_none() {
            session.negotiate().await?;
        }
        Ok(())
    }

    /// Like [`Client::initialize`], with its own deadline.
    pub async fn initialize_with_timeout(&self, timeout: Duration) -> Result<()> {
        tokio::time::timeout(timeout, self.initialize())
            .await
            .map_err(|_| Error::Timeout {
                method: "initialize".into(),
                elapsed: timeout,
                hint: None,
            })?
    }

    /// The server's name and version, once negotiated.
    pub fn server_info(&self) -> Option<Implementation> {
        self.current()?
            .server_state()
            .map(|s| s.server_info.clone())
    }

    /// The server's capabilities, once negotiated.
    pub fn capabilities(&self) -> Option<ServerCapabilities> {
        self.current()?
            .server_state()
            .map(|s| s.capabilities.clone())
    }

    /// The server's instructions for the model, if it gave any.
    pub fn instructions(&self) -> Option<String> {
        self.current()?
            .server_state()
            .and_then(|s| s.instructions.clone())
    }

    /// The negotiated protocol revision.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.current()?.server_state().map(|s| s.version)
    }

    /// The negotiated era.
    pub fn era(&self) -> Option<Era> {
        self.current()?.era()
    }

    /// The last lines the server wrote to stderr (stdio servers).
    pub fn stderr_tail(&self) -> Vec<String> {
        match self.current() {
            Some(s) => s.stderr_tail(),
            None => self.inner_health().stderr_tail,
        }
    }

    /// True once the connection is gone.
    pub fn is_closed(&self) -> bool {
        match &*self.inner.slot.borrow() {
            Slot::Ready(s) => s.is_closed() && !self.inner.supervised,
            Slot::Closed(_) => true,
            _ => false,
        }
    }

    async fn list_all<R>(&self) -> Result<Vec<ListItem<R>>>
    where
        R: Request<Params = PaginatedRequestParams>,
        R::Result: Page + Cacheable,
        ListItem<R>: Clone + Send + Sync + 'static,
    {
        let method = R::METHOD;
        let session = self.ready().await?;
        if let Some(cached) = self
            .inner
            .list_cache
            .get::<ListItem<R>>(session.id(), method)
        {
            return Ok(cached);
        }
        let mut budget =
            list_limits::ListBudget::new(method, session.max_pages(), session.max_message_size());
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        let mut ttl: Option<i64> = None;
        let mut public = true;
        while budget.may_fetch() {
            let params = PaginatedRequestParams::new(cursor.clone());
            let (page, bytes) = session.send_sized::<R, _>(&params, None).await?;
            let (next, page_ttl) = (page.next_cursor().map(str::to_owned), page.ttl_ms());
            public &= page.cache_scope() != Some(&crate::protocol::CacheScope::Private);
            let items = page.into_items();
            budget.add(items.len(), bytes)?;
            all.extend(items);
            // The whole list is as fresh as its stalest page.
            ttl = match (ttl, page_ttl) {
                (None, t) if cursor.is_none() => t,
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => Some(0),
            };
            match next {
                None => {
                    self.inner.list_cache.put(session.id(), method, ttl, &all);
                    let freshness = list_cache::Freshness {
                        ttl_ms: ttl,
                        public,
                    };
                    self.inner.list_cache.set_freshness(method, freshness);
                    return Ok(all);
                }
                Some(next) if cursor.as_deref() == Some(next.as_str()) => {
                    return Err(Error::InvalidMessage(format!(
                        "{method}: the server returned the same cursor twice ({next:?})"
                    )))
                }
                Some(next) => cursor = Some(next),
            }
        }
        Err(budget.too_many_pages())
    }

    /// Every tool the server offers (all pages). Over Streamable HTTP in
    /// 2026-07-28, a tool whose `x-mcp-header` annotations are invalid is
    /// left out (with a warning), as the spec says; the others' annotations
    /// are remembered for the `Mcp-Param-*` headers of their calls.
    pub async fn list_tools(&self) -> Result<Vec<Tool>> {
        let tools: Vec<Tool> = self.list_all::<ListTools>().await?;
        let learned = if mirrors_params(&self.ready().await?) {
            param_headers::learn(tools)
        } else {
            tools.into_iter().map(|t| (t, Vec::new())).collect()
        };
        let mut known = HashMap::with_capacity(learned.len());
        let mut tools = Vec::with_capacity(learned.len());
        for (tool, param_headers) in learned {
            let validator = tool.output_schema.as_ref().and_then(|schema| {
                jsonschema::validator_for(&Value::Object(schema.clone()))
                    .map_err(|e| tracing::warn!(tool = %tool.name, "unusable outputSchema, not validating: {e}"))
                    .ok()
            });
            let entry = KnownTool {
                validator,
                param_headers,
                annotations: tool.annotations.clone(),
                task_support: tool.execution.as_ref().and_then(|e| e.task_support.clone()),
            };
            known.insert(tool.name.clone(), Arc::new(entry));
            tools.push(tool);
        }
        *self.inner.tools.write().unwrap_or_else(|p| p.into_inner()) = known;
        Ok(tools)
    }

    /// The `Mcp-Param-*` headers of a call of `name` (none unless the
    /// transport sends headers and the listed tool has annotations).
    fn param_headers(
        &self,
        session: &Session,
        name: &str,
        arguments: &(impl Serialize + ?Sized),
    ) -> Result<Vec<(String, String)>> {
        if !mirrors_params(session) {
            return Ok(Vec::new());
        }
        let Some(known) = self
            .known_tool(name)
            .filter(|k| !k.param_headers.is_empty())
        else {
            return Ok(Vec::new());
        };
        let arguments =
            serde_json::to_value(arguments).map_err(|e| Error::Encode(e.to_string()))?;
        Ok(param_headers::for_call(&known.param_headers, &arguments))
    }

    /// Calls a tool. `arguments` is any serializable object (`json!({...})`,
    /// a struct, or `()` for none). An `isError` result is returned, not
    /// raised: see [`ToolOutput::is_error`] and [`ToolOutput::into_result`].
    pub fn call_tool<'a>(
        &'a self,
        name: &'a str,
        arguments: impl Serialize + Sync + 'a,
    ) -> impl Future<Output = Result<ToolOutput>> + 'a {
        self.call_tool_with(name, arguments, CallOptions::new())
    }

    /// Calls a tool with per-call options (deadline, progress callback).
    ///
    /// A call cut by a restart of a supervised server is sent again once,
    /// within its own deadline, when the client's [`ReplayPolicy`] allows
    /// it (by default: tools whose last listed annotations say
    /// `readOnlyHint` or `idempotentHint`); otherwise it fails with
    /// [`Error::ServerRestarted`].
    /// A call the server runs as a task (the tasks extension, or a
    /// 2025-11-25 tool whose `execution.taskSupport` is `required`) is
    /// polled to its end under the call's deadlines and cancelled if the
    /// call is given up; its status changes reach
    /// [`CallOptions::on_task`].
    pub fn call_tool_with<'a>(
        &'a self,
        name: &'a str,
        arguments: impl Serialize + Sync + 'a,
        options: CallOptions,
    ) -> impl Future<Output = Result<ToolOutput>> + 'a {
        self.start_call(name, arguments, options, false)
    }

    /// Waits for the task a call became, cancelling it if the wait is
    /// given up before its end.
    async fn follow(&self, task: ToolTask) -> Result<ToolOutput> {
        let mut guard = task::CancelOnDrop {
            client: self.clone(),
            task_id: Some(task.id().to_owned()),
        };
        let outcome = task.wait().await;
        if !matches!(outcome, Err(Error::Timeout { .. })) {
            guard.task_id = None;
        }
        outcome
    }

    /// Calls a tool asking for a task where the server offers one: the
    /// handle comes back at once, to poll, wait on or cancel (see
    /// [`ToolTask`]). In 2026-07-28 the server decides (the tasks extension
    /// is always declared), and may answer at once with the result
    /// ([`TaskStart::Done`]); in 2025-11-25 the call asks for a task when
    /// the server accepts task-augmented `tools/call` and the tool does not
    /// forbid it. A call cut by a restart is sent again as
    /// [`Client::call_tool_with`] says.
    pub fn call_tool_as_task<'a>(
        &'a self,
        name: &'a str,
        arguments: impl Serialize + Sync + 'a,
        options: CallOptions,
    ) -> impl Future<Output = Result<TaskStart>> + 'a {
        self.start_call(name, arguments, options, true)
    }

    /// Sends a `tools/call` (with `params.task` in 2025-11-25 when asked
    /// for, `want_task`, or required by the tool), once more after a
    /// header mismatch or a restart (see [`Client::call_again`]).
    async fn start_call<A: Serialize + Sync, E: CallEnd>(
        &self,
        name: &str,
        arguments: A,
        options: CallOptions,
        want_task: bool,
    ) -> Result<E> {
        let started = std::time::Instant::now();
        let session = self.ready().await?;
        if session.accepts_tool_tasks() && Box::pin(self.as_legacy_task(name, want_task)).await? {
            let task =
                Box::pin(self.start_legacy_task(&session, name, &arguments, options)).await?;
            return E::task(self, task).await;
        }
        let params = CallToolParams {
            name,
            arguments: ToolArguments::new(&arguments)?,
        };
        // The first send, written out here rather than through
        // `send_call`: one future fewer around the request.
        let headers = self.param_headers(&session, name, &arguments)?;
        let target = Target {
            name: Some(name),
            headers: &headers,
        };
        let first = session
            .send_with_rounds_or_task::<CallTool, _>(target, &params, Some(&options))
            .await;
        // The common end (a result with nothing to validate) is taken
        // apart here; every other one is boxed, so that this future and
        // its answer stay the size of a plain call's.
        let rest: BoxFuture<'_, Result<E>> = match first {
            Ok(Answered::Complete(result)) if output_to_check(&result).is_none() => {
                return Ok(E::output(ToolOutput::new(name.to_owned(), result)));
            }
            Ok(answered) => self.end_call(name, session, options, answered),
            Err(error) => {
                let again = Again {
                    session,
                    options,
                    started,
                };
                Box::pin(self.call_again(error, again, &params))
            }
        };
        rest.await
    }

    /// A call's answer, as its caller wants it ([`CallEnd`]): a result's
    /// structured content is checked against the tool's `outputSchema`; a
    /// task is followed or handed back.
    fn end_call<'a, E: CallEnd + 'a>(
        &'a self,
        name: &'a str,
        session: Session,
        options: CallOptions,
        answered: Answered<crate::protocol::CallToolResult>,
    ) -> BoxFuture<'a, Result<E>> {
        Box::pin(async move {
            match answered {
                Answered::Complete(result) => self.output(name, result).await.map(E::output),
                Answered::Task(created) => {
                    let task = ToolTask::new(
                        self.clone(),
                        &session,
                        name.to_owned(),
                        created.task,
                        options,
                    );
                    E::task(self, task).await
                }
            }
        })
    }

    /// Whether a 2025-11-25 call of `name` is task-augmented.
    async fn as_legacy_task(&self, name: &str, want_task: bool) -> Result<bool> {
        Ok(match self.task_support(name).await? {
            Some(TaskSupport::Required) => true,
            Some(TaskSupport::Forbidden) => false,
            _ => want_task,
        })
    }

    /// The first send of a `tools/call` failed with `error`: on a header
    /// mismatch, sends it once more with fresh headers; when cut by a
    /// restart, sends it again once as the replay policy allows (with one
    /// more header retry). Ends the call as its caller wants it.
    async fn call_again<A: Serialize + Sync, E: CallEnd>(
        &self,
        error: Error,
        again: Again,
        params: &CallToolParams<'_, ToolArguments<'_, A>>,
    ) -> Result<E> {
        let Again {
            session,
            options,
            started,
        } = again;
        match self.after_mismatch(error, &session, params, &options).await {
            Err(Error::ServerRestarted) => {
                let cap = session.hard_cap(Some(&options));
                let (session, options) = self
                    .prepare_replay(params.name, &options, started, cap)
                    .await?;
                let answered = match self.send_call(&session, params, &options).await {
                    Err(error) => {
                        self.after_mismatch(error, &session, params, &options)
                            .await?
                    }
                    Ok(answered) => answered,
                };
                self.end_call(params.name, session, options, answered).await
            }
            outcome => self.end_call(params.name, session, options, outcome?).await,
        }
    }

    /// 2026-07-28: a call failed because its `Mcp-Param-*` headers did
    /// not match what the server expects, so our tool definitions are
    /// stale: refetch them (learning the new annotations) and send it once
    /// more with the new headers; a second mismatch is the caller's. Any
    /// other `error` is returned.
    async fn after_mismatch<A: Serialize + Sync>(
        &self,
        error: Error,
        session: &Session,
        params: &CallToolParams<'_, ToolArguments<'_, A>>,
        options: &CallOptions,
    ) -> Result<Answered<crate::protocol::CallToolResult>> {
        match error {
            Error::Protocol { code, message, .. } if code == codes::HEADER_MISMATCH => {
                tracing::debug!(server = %self.inner.name, tool = %params.name, %message, "header mismatch: refetching tools/list and retrying once");
                self.inner.list_cache.invalidate("tools/list");
                self.list_tools().await?;
                self.send_call(session, params, options).await
            }
            other => Err(other),
        }
    }

    /// A 2025-11-25 task-augmented `tools/call`.
    async fn start_legacy_task<A: Serialize + Sync>(
        &self,
        session: &Session,
        name: &str,
        arguments: &A,
        options: CallOptions,
    ) -> Result<ToolTask> {
        let metadata = TaskMetadata::default();
        let params = TaskCallToolParams {
            name,
            arguments: ToolArguments::new(arguments)?,
            task: &metadata,
        };
        let created: LegacyCreateTaskResult = session
            .request_to(
                CallTool::METHOD,
                Target::named(name),
                &params,
                Some(&options),
            )
            .await?;
        Ok(ToolTask::new(
            self.clone(),
            session,
            name.to_owned(),
            created.task,
            options,
        ))
    }

    /// A 2025-11-25 tool's `execution.taskSupport`, from its listing
    /// (listing the tools once if it was not seen yet).
    async fn task_support(&self, name: &str) -> Result<Option<TaskSupport>> {
        if let Some(known) = self.known_tool(name) {
            return Ok(known.task_support.clone());
        }
        self.list_tools().await?;
        Ok(self.known_tool(name).and_then(|k| k.task_support.clone()))
    }

    /// Sends one `tools/call` on `session`, with the `Mcp-Param-*` headers
    /// of the tool as last listed: its result, or the task the server runs
    /// it as.
    async fn send_call<A: Serialize + Sync>(
        &self,
        session: &Session,
        params: &CallToolParams<'_, ToolArguments<'_, A>>,
        options: &CallOptions,
    ) -> Result<Answered<crate::protocol::CallToolResult>> {
        let headers = self.param_headers(session, params.name, &params.arguments)?;
        let target = Target {
            name: Some(params.name),
            headers: &headers,
        };
        session
            .send_with_rounds_or_task::<CallTool, _>(target, params, Some(options))
            .await
    }

    async fn validate_output(&self, name: &str, structured: &Value) -> Result<()> {
        let known = self.known_tool(name);
        let known = match known {
            Some(k) => Some(k),
            None => {
                // First structured result from a tool we have not listed:
                // fetch its schema once (boxed: rare, and a large future).
                Box::pin(self.list_tools()).await?;
                self.known_tool(name)
            }
        };
        if let Some(validator) = known.as_ref().and_then(|k| k.validator.as_ref()) {
            let errors: Vec<String> = validator
                .iter_errors(structured)
                .map(|e| e.to_string())
                .take(5)
                .collect();
            if !errors.is_empty() {
                return Err(Error::OutputValidation {
                    tool: name.to_owned(),
                    message: format!(
                        "does not match the tool's outputSchema: {}",
                        errors.join("; ")
                    ),
                });
            }
        }
        Ok(())
    }

    fn known_tool(&self, name: &str) -> Option<Arc<KnownTool>> {
        self.inner
            .tools
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// How long and how widely the last full list of `method`
    /// (`tools/list`, `prompts/list`, `resources/list`,
    /// `resources/templates/list`) may be kept, as the server said; `None`
    /// before one was fetched.
    pub fn list_freshness(&self, method: &str) -> Option<Freshness> {
        self.inner.list_cache.freshness(method)
    }

    /// Every resource the server lists (all pages).
    pub async fn list_resources(&self) -> Result<Vec<Resource>> {
        self.list_all::<ListResources>().await
    }

    /// Every resource template (all pages).
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>> {
        self.list_all::<ListResourceTemplates>().await
    }

    /// Reads a resource by URI (a listed one or one a template matches).
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult> {
        self.read_resource_with(uri, CallOptions::new()).await
    }

    /// Reads a resource with per-call options.
    pub async fn read_resource_with(
        &self,
        uri: &str,
        options: CallOptions,
    ) -> Result<ReadResourceResult> {
        let session = self.ready().await?;
        session
            .send_with_rounds::<ReadResource, _>(
                Target::named(uri),
                &ReadResourceRequestParams::new(uri),
                Some(&options),
            )
            .await
    }

    /// Every prompt (all pages).
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>> {
        self.list_all::<ListPrompts>().await
    }

    /// Renders a prompt. `arguments` is an object of strings (other JSON
    /// values are converted to their JSON text), or `()` for none.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: impl Serialize + Sync,
    ) -> Result<GetPromptResult> {
        self.get_prompt_with(name, arguments, CallOptions::new())
            .await
    }

    /// Renders a prompt with per-call options.
    pub async fn get_prompt_with(
        &self,
        name: &str,
        arguments: impl Serialize + Sync,
        options: CallOptions,
    ) -> Result<GetPromptResult> {
        let session = self.ready().await?;
        let arguments = normalize_arguments(arguments)?;
        let params = GetPromptRequestParams::new(name, Some(as_strings(arguments)));
        session
            .send_with_rounds::<GetPrompt, _>(Target::named(name), &params, Some(&options))
            .await
    }

    /// Asks for completions of a prompt or resource-template argument.
    /// `reference` is `{"type":"ref/prompt","name":..}` or
    /// `{"type":"ref/resource","uri":..}`; `context` holds arguments already
    /// chosen.
    pub async fn complete(
        &self,
        reference: Value,
        argument: &str,
        value: &str,
        context: Option<Map<String, Value>>,
    ) -> Result<CompleteResult> {
        let session = self.ready().await?;
        let reference: Reference = serde_json::from_value(reference).map_err(|e| {
            Error::invalid_argument(format!(
                "completion reference: expected {{\"type\":\"ref/prompt\",\"name\":..}} or \
                 {{\"type\":\"ref/resource\",\"uri\":..}}: {e}"
            ))
        })?;
        let mut params = CompleteRequestParams::new(reference, argument, value);
        params.context = context.map(|ctx| CompleteContext {
            arguments: Some(as_strings(ctx)),
        });
        session.send::<Complete, _>(&params, None).await
    }

    /// Checks the server is alive: `ping` in the handshake era; in
    /// 2026-07-28, which has no ping, a `server/discover` round trip.
    pub async fn ping(&self) -> Result<()> {
        self.ready().await?.probe(None).await
    }

    /// Sets the level of log messages the server sends. Handshake era:
    /// `logging/setLevel`; 2026-07-28: the level rides in each request's
    /// `_meta` from now on.
    pub async fn set_log_level(&self, level: LoggingLevel) -> Result<()> {
        self.ready().await?.set_log_level(level).await?;
        // A restarted server gets the same level.
        *crate::session::lock(&self.inner.restore.log_level) = Some(level);
        Ok(())
    }

    /// Subscribes to updates of a resource (handshake era:
    /// `resources/subscribe`; 2026-07-28: the client's `subscriptions/listen`
    /// is renewed with the URI added). Updates arrive through
    /// `on_notification`.
    pub async fn subscribe_resource(&self, uri: &str) -> Result<()> {
        self.resource_subscription(true, uri).await
    }

    /// The current 2026-07-28 subscription (`subscriptions/listen`): what
    /// was asked for and, once the server acknowledged it, what it agreed
    /// to. A server may agree to a subset (an unknown resource URI, a
    /// notification it does not send); [`Subscription::omitted`](crate::Subscription::omitted) says what
    /// will not come. `None` in the handshake era, before any subscription,
    /// or while the server restarts.
    pub fn subscription(&self) -> Option<Subscription> {
        self.current().and_then(|s| s.subscription())
    }

    /// Ends a subscription made with [`Client::subscribe_resource`].
    pub async fn unsubscribe_resource(&self, uri: &str) -> Result<()> {
        self.resource_subscription(false, uri).await
    }

    async fn resource_subscription(&self, subscribe: bool, uri: &str) -> Result<()> {
        let session = self.ready().await?;
        let mut all = crate::session::lock(&self.inner.restore.subscriptions).clone();
        if subscribe {
            all.insert(uri.to_owned());
        } else {
            all.remove(uri);
        }
        session
            .change_subscription(uri, subscribe, all.iter().cloned().collect())
            .await?;
        // A restarted server gets the same subscriptions.
        *crate::session::lock(&self.inner.restore.subscriptions) = all;
        Ok(())
    }

    /// Replaces the roots offered with [`ClientBuilder::roots`]. In the
    /// handshake era the server is told (`notifications/roots/list_changed`);
    /// in 2026-07-28 it sees them on its next ask.
    pub async fn set_roots<I, S>(&self, uris: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let session = self.session().await?;
        let listed = session.listed_roots().ok_or_else(|| {
            Error::invalid_argument(
                "set_roots needs a client built with .roots(...) (not a custom roots handler)",
            )
        })?;
        listed.set(
            uris.into_iter()
                .map(|u| crate::protocol::Root::new(u.into()))
                .collect(),
        );
        if session.era() == Some(Era::Handshake) {
            session
                .notify::<Value>("notifications/roots/list_changed", None)
                .await?;
        }
        Ok(())
    }

    /// Sends any request and decodes its result: an escape hatch for
    /// methods this client has no call for.
    pub async fn request<R: DeserializeOwned>(
        &self,
        method: &str,
        params: impl Serialize + Sync,
    ) -> Result<R> {
        let params = normalize_arguments(params)?;
        self.ready().await?.request(method, &params, None).await
    }

    /// Closes the connection: stdio servers get stdin closed, then SIGTERM,
    /// then SIGKILL, each step bounded. Other clones see the connection
    /// closed.
    pub async fn close(&self) -> Result<()> {
        let current = self.current();
        let _ = self.inner.actor.send(Close).await;
        // The actor may already be gone (closed before); close directly too.
        if let Some(session) = current {
            session.close().await;
        }
        Ok(())
    }
}

/// True if the session's transport sends headers that mirror requests
/// (Streamable HTTP) and the era has `x-mcp-header` (2026-07-28).
fn mirrors_params(session: &Session) -> bool {
    session.transport_wants_meta() && session.era() == Some(Era::Modern)
}

/// The structured content of a result that is to be checked against the
/// tool's `outputSchema` (none for an `isError` result).
fn output_to_check(result: &crate::protocol::CallToolResult) -> Option<&Value> {
    result
        .structured_content
        .as_ref()
        .filter(|_| result.is_error != Some(true))
}

/// What a `tools/call` whose first send failed carries into
/// [`Client::call_again`]: the session and options it was sent with, and
/// when the call started (the replay's deadline runs from there).
struct Again {
    session: Session,
    options: CallOptions,
    started: std::time::Instant,
}

/// Prompt and completion arguments, which are strings: other JSON values
/// become their JSON text.
fn as_strings(arguments: Map<String, Value>) -> BTreeMap<String, String> {
    arguments
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

/// Arguments as a JSON object: `()`/`null` → `{}`, objects as they are,
/// anything else refused.
fn normalize_arguments(arguments: impl Serialize) -> Result<Map<String, Value>> {
    match serde_json::to_value(arguments).map_err(|e| Error::Encode(e.to_string()))? {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        other => Err(Error::invalid_argument(format!(
            "arguments must be a JSON object, not {other}"
        ))),
    }
}
