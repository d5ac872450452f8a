//! Tasks: a request the server answers with a handle to poll instead of
//! its result. Two wire forms, one set of types:
//!
//! - 2026-07-28, the extension `io.modelcontextprotocol/tasks` (SEP-2663):
//!   the client declares the extension; the server alone decides to answer
//!   a `tools/call` with a flat [`CreateTaskResult`] (`resultType: "task"`);
//!   `tasks/get` returns the task with its `result`, `error` or
//!   `inputRequests` inlined ([`GetTaskResult`]); `tasks/update` answers
//!   its input requests; `tasks/cancel` acknowledges with an empty result.
//! - 2025-11-25, core tasks (SEP-1686): the client asks for a task with
//!   `params.task` ([`TaskMetadata`]) on a tool whose
//!   `execution.taskSupport` allows it; the result nests the task
//!   (`{task: {..}}`, [`LegacyCreateTaskResult`]); `tasks/get` returns the
//!   bare task, `tasks/result` the tool's result, `tasks/cancel` the task.
//!
//! [`Task`] reads both (`ttl`/`pollInterval` are the older names of
//! `ttlMs`/`pollIntervalMs`, both milliseconds) and writes the new one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{string_enum, Meta};
use super::input_required::InputRequest;
use super::jsonrpc::ErrorObject;
use super::result::ResultType;
use super::tools::CallToolResult;

/// The tasks extension's identifier (2026-07-28), the key under
/// `capabilities.extensions` on both sides.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// The `resultType` of a [`CreateTaskResult`].
pub const TASK_RESULT_TYPE: &str = "task";

string_enum! {
    /// Where a task is in its life.
    pub enum TaskStatus {
        /// Running.
        Working = "working",
        /// Waiting for the client's answers (`tasks/update`, or in
        /// 2025-11-25 the server's own requests).
        InputRequired = "input_required",
        /// Done: the result is ready.
        Completed = "completed",
        /// Ended by a protocol-level error (a tool that ran and reported
        /// an error is `Completed` with `isError`).
        Failed = "failed",
        /// Cancelled.
        Cancelled = "cancelled",
    }
}

impl TaskStatus {
    /// True for the statuses a task never leaves: completed, failed,
    /// cancelled.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

/// A task as the server reports it (the fields both eras share).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// The server's id for the task.
    pub task_id: String,
    /// Its status.
    pub status: TaskStatus,
    /// What the server says about its progress, for a human.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When it was created (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// When it last changed (ISO 8601).
    #[serde(default)]
    pub last_updated_at: String,
    /// How long the server keeps it, in milliseconds from creation;
    /// `None` (or `null`): no limit given. (2025-11-25: `ttl`.)
    #[serde(alias = "ttl", default)]
    pub ttl_ms: Option<u64>,
    /// How often the server would like to be polled, in milliseconds.
    /// (2025-11-25: `pollInterval`.)
    #[serde(
        alias = "pollInterval",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub poll_interval_ms: Option<u64>,
}

impl Task {
    /// A new task: `working`, created and updated `now` (ISO 8601).
    pub fn working(task_id: impl Into<String>, now: impl Into<String>) -> Self {
        let now = now.into();
        Task {
            task_id: task_id.into(),
            status: TaskStatus::Working,
            status_message: None,
            created_at: now.clone(),
            last_updated_at: now,
            ttl_ms: None,
            poll_interval_ms: None,
        }
    }
}

/// The answer to a `tools/call` the server runs as a task (2026-07-28):
/// the task's fields at the top level, `resultType: "task"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTaskResult {
    /// `"task"`.
    pub result_type: ResultType,
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl CreateTaskResult {
    /// The result that announces `task`.
    pub fn new(task: Task) -> Self {
        CreateTaskResult {
            result_type: ResultType::Other(TASK_RESULT_TYPE.into()),
            task,
            meta: None,
        }
    }
}

/// The answer to a task-augmented `tools/call` in 2025-11-25: the task,
/// nested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegacyCreateTaskResult {
    /// The task.
    pub task: Task,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// `params.task` of a task-augmented request (2025-11-25).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskMetadata {
    /// How long the server should keep the task, in milliseconds. Default:
    /// the server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

/// `tools/call` params as a 2025-11-25 sender writes them to ask for a
/// task: [`CallToolParams`](super::CallToolParams) with `task`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TaskCallToolParams<'a, A> {
    /// The tool name.
    pub name: &'a str,
    /// The arguments: anything that serializes to a JSON object.
    pub arguments: A,
    /// The task it asks for.
    pub task: &'a TaskMetadata,
}

impl<A: Serialize> super::request::Encodes<super::request::CallTool> for TaskCallToolParams<'_, A> {}

/// Params of `tasks/get`, `tasks/cancel` and (2025-11-25) `tasks/result`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskIdParams {
    /// The task.
    pub task_id: String,
}

impl TaskIdParams {
    /// Params naming `task_id`.
    pub fn new(task_id: impl Into<String>) -> Self {
        TaskIdParams {
            task_id: task_id.into(),
        }
    }
}

/// Params of `tasks/update` (2026-07-28): answers to the task's input
/// requests, under the keys `tasks/get` gave.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTaskParams {
    /// The task.
    pub task_id: String,
    /// The answers, by key: an [`InputResponse`](super::InputResponse)
    /// each, kept as written (a key the task does not wait for is ignored
    /// whatever it holds, so it is not checked here).
    #[serde(default)]
    pub input_responses: Map<String, Value>,
}

/// The answer to `tasks/get`: the task, with what it ended with inlined
/// (2026-07-28). A 2025-11-25 server sends the bare task: the payload
/// fields are then absent and the result comes from `tasks/result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskResult {
    /// `"complete"` (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// `completed`: the result of the request that made the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<CallToolResult>,
    /// `failed`: the JSON-RPC error it ended with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// `input_required`: what it waits for, by key (answer with
    /// `tasks/update`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<BTreeMap<String, InputRequest>>,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl GetTaskResult {
    /// The task with nothing inlined.
    pub fn of(task: Task) -> Self {
        GetTaskResult {
            result_type: None,
            task,
            result: None,
            error: None,
            input_requests: None,
            meta: None,
        }
    }
}

/// The answer to `tasks/cancel` in either era: 2026-07-28 sends an empty
/// acknowledgement, 2025-11-25 the task; whatever came is kept.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelTaskResult {
    /// `"complete"` (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The task's fields, when the server sent them (2025-11-25).
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}
