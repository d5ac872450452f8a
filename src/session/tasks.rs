//! The requests that follow a task, in the form of the session's era:
//! `tasks/get`, `tasks/update` and `tasks/cancel` of the tasks extension
//! (2026-07-28, each naming its task in `Mcp-Name` over HTTP), and
//! `tasks/get`, `tasks/result` and `tasks/cancel` of 2025-11-25 core tasks.
//! The poll loop itself lives with the client (`client/task.rs`), which
//! can see restarts.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{CallOptions, Session, Target};
use crate::protocol::request::{CancelTask, GetTask, TaskPayload, UpdateTask};
use crate::protocol::{
    CallToolResult, Era, GetTaskResult, InputRequest, TaskIdParams, UpdateTaskParams,
};
use crate::Result;

impl Session {
    /// `tasks/get`: the task as the server sees it now (2026-07-28: with
    /// its result, error or input requests inlined).
    pub(crate) async fn get_task(
        &self,
        task_id: &str,
        call: Option<&CallOptions>,
    ) -> Result<GetTaskResult> {
        self.send_to::<GetTask, _>(Target::named(task_id), &TaskIdParams::new(task_id), call)
            .await
    }

    /// `tasks/cancel`. Cooperative: the task's status tells when it took.
    pub(crate) async fn cancel_task(
        &self,
        task_id: &str,
        call: Option<&CallOptions>,
    ) -> Result<()> {
        self.send_to::<CancelTask, _>(Target::named(task_id), &TaskIdParams::new(task_id), call)
            .await
            .map(drop)
    }

    /// `tasks/update` (2026-07-28): answers to the task's input requests.
    pub(crate) async fn update_task(
        &self,
        task_id: &str,
        answers: Map<String, Value>,
        call: Option<&CallOptions>,
    ) -> Result<()> {
        let params = UpdateTaskParams {
            task_id: task_id.to_owned(),
            input_responses: answers,
        };
        self.send_to::<UpdateTask, _>(Target::named(task_id), &params, call)
            .await
            .map(drop)
    }

    /// `tasks/result` (2025-11-25): the result of a completed task.
    pub(crate) async fn task_payload(
        &self,
        task_id: &str,
        call: Option<&CallOptions>,
    ) -> Result<CallToolResult> {
        self.send_to::<TaskPayload, _>(Target::named(task_id), &TaskIdParams::new(task_id), call)
            .await
    }

    /// Answers a task's input requests (2026-07-28) through the client's
    /// handlers, or the call's own.
    pub(crate) async fn answer_task_input(
        &self,
        method: &str,
        asks: BTreeMap<String, InputRequest>,
        call: Option<&CallOptions>,
    ) -> Result<Map<String, Value>> {
        let own = call
            .and_then(CallOptions::rare)
            .and_then(|r| r.handlers.as_deref());
        self.fulfil(method, asks, own).await
    }

    /// Whether a 2025-11-25 server accepts task-augmented `tools/call`
    /// (`capabilities.tasks.requests.tools.call`).
    pub(crate) fn accepts_tool_tasks(&self) -> bool {
        let Some(state) = self.server_state() else {
            return false;
        };
        state.version.era() == Era::Handshake
            && state
                .capabilities
                .tasks
                .as_ref()
                .and_then(|t| t.requests.as_ref())
                .and_then(|r| r.tools.as_ref())
                .is_some_and(|t| t.call.is_some())
    }
}
