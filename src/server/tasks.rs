//! The tasks extension (SEP-2663, 2026-07-28) on the server's side: a
//! `tools/call` of a tool whose [`ServerHandler::task_support`] allows it,
//! from a request that declares the extension, runs inline for at most
//! [`ServerBuilder::task_after`] (default zero: until it first waits);
//! what finishes by then is answered as usual (a result, or an
//! `input_required` round), what does not becomes a task: the client gets
//! a [`CreateTaskResult`] and the same handler run goes on in the
//! background.
//!
//! The core keeps its tasks (this module's [`TaskStore`], one per server,
//! shared by its connections and HTTP exchanges) and answers `tasks/get`,
//! `tasks/update` and `tasks/cancel` for them. A run that ends on
//! unanswered asks leaves the task `input_required` with those asks;
//! `tasks/update` gathers the answers and, once every ask has one, runs the
//! handler again (the next leg) with all the answers so far, as a retried
//! round would. `tasks/cancel` aborts the run. Ended tasks are kept for
//! their `ttlMs` ([`ServerBuilder::task_ttl`]), then forgotten; at most
//! [`MAX_TASKS`] are kept at once. Ids the store did not mint go to the
//! handler's own `get_task`/`update_task`/`cancel_task` (a proxy's).
//!
//! [`ServerHandler::task_support`]: super::ServerHandler::task_support
//! [`ServerBuilder::task_after`]: super::ServerBuilder::task_after
//! [`ServerBuilder::task_ttl`]: super::ServerBuilder::task_ttl

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio::task::AbortHandle;

use super::conn::{lock, Conn};
use super::context::Context;
use super::error::ServerError;
use super::request::RequestInfo;
use super::rounds::Round;
use super::wire::{MetaSlot, WireResult};
use crate::protocol::time::now_rfc3339;
use crate::protocol::{
    codes, CallToolRequestParams, CallToolResult, CancelTaskResult, ClientCapabilities,
    CreateTaskResult, EmptyResult, Era, ErrorObject, GetTaskResult, InputRequest, ResultType, Task,
    TaskStatus, TASKS_EXTENSION,
};

/// Default `ttlMs` of a task: kept one hour after its creation.
pub const DEFAULT_TASK_TTL: Duration = Duration::from_secs(3600);

/// Default `pollIntervalMs` the server asks clients to keep: 500 ms.
pub const DEFAULT_TASK_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// At most this many tasks are kept at once (a `tools/call` that would
/// make one more is refused with -32603).
pub const MAX_TASKS: usize = 10_000;

/// What a `tools/call` came to, for a client that declared the tasks
/// extension: the result, or a task that will give it.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // one per call, moved once
pub enum ToolCall {
    /// The tool's result.
    Complete(CallToolResult),
    /// A task (its id the client polls with `tasks/get`).
    Task(CreateTaskResult),
}

impl Serialize for ToolCall {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolCall::Complete(r) => r.serialize(s),
            ToolCall::Task(t) => t.serialize(s),
        }
    }
}

impl WireResult for ToolCall {
    fn ready(&mut self, era: Era, ttl_ms: i64) {
        match self {
            ToolCall::Complete(r) => r.ready(era, ttl_ms),
            ToolCall::Task(_) => {}
        }
    }
    fn meta_slot(&mut self) -> MetaSlot<'_> {
        match self {
            ToolCall::Complete(r) => r.meta_slot(),
            ToolCall::Task(t) => MetaSlot::Typed(&mut t.meta),
        }
    }
    fn is_task(&self) -> bool {
        matches!(self, ToolCall::Task(_))
    }
}

impl WireResult for GetTaskResult {
    fn ready(&mut self, _era: Era, _ttl_ms: i64) {
        self.result_type.get_or_insert(ResultType::Complete);
    }
    fn meta_slot(&mut self) -> MetaSlot<'_> {
        MetaSlot::Typed(&mut self.meta)
    }
}

impl WireResult for CancelTaskResult {
    fn ready(&mut self, _era: Era, _ttl_ms: i64) {
        self.result_type.get_or_insert(ResultType::Complete);
    }
    fn meta_slot(&mut self) -> MetaSlot<'_> {
        MetaSlot::Typed(&mut self.meta)
    }
}

/// Whether the client declared the tasks extension for this request.
pub(crate) fn declared(capabilities: &ClientCapabilities) -> bool {
    capabilities.has_extension(TASKS_EXTENSION)
}

/// -32021 naming the tasks extension (SEP-2575's Missing Required Client
/// Capability, `data.requiredCapabilities` shaped like capabilities).
pub(crate) fn extension_required(what: &str) -> ErrorObject {
    ErrorObject {
        code: codes::MISSING_REQUIRED_CLIENT_CAPABILITY,
        message: format!("{what} needs the tasks extension ({TASKS_EXTENSION}), which this request does not declare"),
        data: Some(json!({"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}})),
    }
}

/// -32602 for an id no one knows.
pub(crate) fn unknown_task(task_id: &str) -> ServerError {
    ServerError::invalid_params(format!("unknown task: {task_id}"))
}

type Run = Pin<Box<dyn Future<Output = Result<CallToolResult, ServerError>> + Send + 'static>>;

/// What runs a task's next leg.
struct Leg {
    conn: Arc<Conn>,
    req: Arc<RequestInfo>,
    params: CallToolRequestParams,
}

struct Entry {
    task: Task,
    created: Instant,
    result: Option<CallToolResult>,
    error: Option<ErrorObject>,
    /// Asks without an answer, by key (`{method, params}`).
    open: Map<String, Value>,
    /// Every answer so far, by key.
    answers: Map<String, Value>,
    running: Option<AbortHandle>,
    /// What runs its next leg; dropped once it ended (it holds the
    /// connection it came by).
    leg: Option<Leg>,
}

impl Entry {
    fn touch(&mut self, status: TaskStatus) {
        if status.is_terminal() {
            self.leg = None;
        }
        self.task.status = status;
        self.task.last_updated_at = now_rfc3339();
    }
}

/// A server's tasks (see the module's docs).
pub(crate) struct TaskStore {
    tasks: Mutex<HashMap<String, Entry>>,
    ttl: Duration,
    poll_interval: Duration,
    after: Duration,
}

/// How a server's tasks behave (set on the builder).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskOptions {
    pub(crate) ttl: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) after: Duration,
}

impl Default for TaskOptions {
    fn default() -> Self {
        TaskOptions {
            ttl: DEFAULT_TASK_TTL,
            poll_interval: DEFAULT_TASK_POLL_INTERVAL,
            after: Duration::ZERO,
        }
    }
}

fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        // Never seen; still unique within the process.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[..8].copy_from_slice(&n.to_be_bytes());
        bytes[8..12].copy_from_slice(&std::process::id().to_be_bytes());
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl TaskStore {
    pub(crate) fn new(options: TaskOptions) -> Self {
        TaskStore {
            tasks: Mutex::new(HashMap::new()),
            ttl: options.ttl,
            poll_interval: options.poll_interval,
            after: options.after,
        }
    }

    /// Forgets the tasks past their ttl.
    fn sweep(&self, tasks: &mut HashMap<String, Entry>) {
        let ttl = self.ttl;
        tasks.retain(|_, e| {
            let keep = e.created.elapsed() < ttl;
            if !keep {
                if let Some(running) = &e.running {
                    running.abort();
                }
            }
            keep
        });
    }

    /// Sets the `statusMessage` of a task still running.
    pub(crate) fn status_message(&self, task_id: &str, message: String) {
        if let Some(entry) = lock(&self.tasks).get_mut(task_id) {
            if !entry.task.status.is_terminal() {
                entry.task.status_message = Some(message);
                entry.task.last_updated_at = now_rfc3339();
            }
        }
    }

    /// Whether the store minted `task_id` (and still has it).
    pub(crate) fn knows(&self, task_id: &str) -> bool {
        let mut tasks = lock(&self.tasks);
        self.sweep(&mut tasks);
        tasks.contains_key(task_id)
    }
}

/// Serves a task-supporting `tools/call` from a client that accepts tasks
/// (see the module's docs).
pub(crate) async fn call(
    store: &Arc<TaskStore>,
    conn: &Arc<Conn>,
    req: &Arc<RequestInfo>,
    cx: Context,
    params: CallToolRequestParams,
) -> Result<ToolCall, ServerError> {
    let leg = Leg {
        conn: conn.clone(),
        req: req.clone(),
        params,
    };
    let mut run = start_leg(&leg, cx.clone());
    if let Ok(outcome) = tokio::time::timeout(store.after, &mut run).await {
        return outcome.map(ToolCall::Complete);
    }
    let id = new_id();
    let mut task = Task::working(id.clone(), now_rfc3339());
    task.ttl_ms = Some(millis(store.ttl));
    task.poll_interval_ms = Some(millis(store.poll_interval));
    {
        let mut tasks = lock(&store.tasks);
        store.sweep(&mut tasks);
        if tasks.len() >= MAX_TASKS {
            return Err(ServerError::internal(format!(
                "too many tasks ({MAX_TASKS}); try again later"
            )));
        }
        tasks.insert(
            id.clone(),
            Entry {
                task: task.clone(),
                created: Instant::now(),
                result: None,
                error: None,
                open: Map::new(),
                answers: Map::new(),
                running: None,
                leg: Some(leg),
            },
        );
    }
    cx.set_task(&id);
    spawn_leg(store, &id, run, cx);
    Ok(ToolCall::Task(CreateTaskResult::new(task)))
}

/// One run of the handler for a task, owning what it borrows.
fn start_leg(leg: &Leg, cx: Context) -> Run {
    let handler = leg.conn.shared.handler.clone();
    let params = leg.params.clone();
    Box::pin(async move { handler.call_tool(cx, params).await })
}

/// Runs `run` to its end in the background and records how it ended.
fn spawn_leg(store: &Arc<TaskStore>, id: &str, run: Run, cx: Context) {
    let (store2, id2) = (store.clone(), id.to_owned());
    let handle = tokio::spawn(async move {
        let outcome = run.await;
        let round = cx.take_round();
        settle(&store2, &id2, outcome, round);
    });
    if let Some(entry) = lock(&store.tasks).get_mut(id) {
        entry.running = Some(handle.abort_handle());
    }
}

fn settle(store: &TaskStore, id: &str, outcome: Result<CallToolResult, ServerError>, round: Round) {
    let mut tasks = lock(&store.tasks);
    let Some(entry) = tasks.get_mut(id) else {
        return;
    };
    entry.running = None;
    if entry.task.status.is_terminal() {
        return;
    }
    entry.answers.extend(round.answers);
    if let Some(capability) = round.missing_capability {
        entry.error = Some(super::error::missing_capability(capability));
        entry.task.status_message = Some(format!("the client lacks the {capability} capability"));
        entry.touch(TaskStatus::Failed);
        return;
    }
    if !round.open.is_empty() {
        entry.open = round.open;
        entry.touch(TaskStatus::InputRequired);
        return;
    }
    match outcome {
        Ok(mut result) => {
            result.result_type = Some(ResultType::Complete);
            entry.result = Some(result);
            entry.touch(TaskStatus::Completed);
        }
        Err(e) => {
            let e = e.to_error_object(Era::Modern);
            entry.task.status_message = Some(e.message.clone());
            entry.error = Some(e);
            entry.touch(TaskStatus::Failed);
        }
    }
}

/// `tasks/get` of a task the store holds.
pub(crate) fn get(store: &TaskStore, task_id: &str) -> Result<GetTaskResult, ServerError> {
    let mut tasks = lock(&store.tasks);
    store.sweep(&mut tasks);
    let entry = tasks.get(task_id).ok_or_else(|| unknown_task(task_id))?;
    let mut got = GetTaskResult::of(entry.task.clone());
    match entry.task.status {
        TaskStatus::Completed => got.result = entry.result.clone(),
        TaskStatus::Failed => got.error = entry.error.clone(),
        TaskStatus::InputRequired => {
            let asks: BTreeMap<String, InputRequest> = entry
                .open
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), serde_json::from_value(v.clone()).ok()?)))
                .collect();
            got.input_requests = Some(asks);
        }
        _ => {}
    }
    Ok(got)
}

/// `tasks/update`: records the answers to open asks (unknown or already
/// answered keys are ignored); once none is open, runs the next leg.
pub(crate) fn update(
    store: &Arc<TaskStore>,
    task_id: &str,
    responses: Map<String, Value>,
) -> Result<EmptyResult, ServerError> {
    let next = {
        let mut tasks = lock(&store.tasks);
        store.sweep(&mut tasks);
        let entry = tasks
            .get_mut(task_id)
            .ok_or_else(|| unknown_task(task_id))?;
        if entry.task.status != TaskStatus::InputRequired {
            return Ok(EmptyResult::default());
        }
        for (key, answer) in responses {
            if entry.open.remove(&key).is_some() {
                entry.answers.insert(key, answer);
            }
        }
        if !entry.open.is_empty() {
            return Ok(EmptyResult::default());
        }
        let Some(leg) = &entry.leg else {
            return Ok(EmptyResult::default());
        };
        let cx = Context::new(leg.conn.clone(), leg.req.clone(), entry.answers.clone());
        cx.set_task(task_id);
        let run = start_leg(leg, cx.clone());
        entry.touch(TaskStatus::Working);
        Some((run, cx))
    };
    if let Some((run, cx)) = next {
        spawn_leg(store, task_id, run, cx);
    }
    Ok(EmptyResult::default())
}

/// `tasks/cancel`: aborts the run of a task not ended yet (an ended one
/// stays as it ended); acknowledged either way.
pub(crate) fn cancel(store: &TaskStore, task_id: &str) -> Result<CancelTaskResult, ServerError> {
    let mut tasks = lock(&store.tasks);
    store.sweep(&mut tasks);
    let entry = tasks
        .get_mut(task_id)
        .ok_or_else(|| unknown_task(task_id))?;
    if !entry.task.status.is_terminal() {
        if let Some(running) = entry.running.take() {
            running.abort();
        }
        entry.open.clear();
        entry.task.status_message = Some("cancelled by the client".into());
        entry.touch(TaskStatus::Cancelled);
    }
    Ok(CancelTaskResult::default())
}
