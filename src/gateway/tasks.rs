//! Tasks through the gateway (the tasks extension, SEP-2663): a 2026-07-28
//! client that declares the extension has its `tools/call` passed on as a
//! task-accepting call, and an upstream's task comes back to it under an id
//! the gateway seals: the upstream's name and its task id, signed with the
//! state key (HMAC-SHA256, as `requestState` is), so `tasks/get`,
//! `tasks/update` and `tasks/cancel` may land on any replica sharing the
//! key and reach the same upstream, and a forged or altered id is -32602.
//!
//! What follows a task across replicas is the upstream: one every replica
//! reaches (over HTTP) that keeps its tasks beyond a connection, as the
//! extension intends. A client that does not declare the extension has
//! its calls passed on without it (a tool that needs a task is refused
//! with -32021, as the upstream says); a handshake-era client, which
//! cannot declare it, gets the result: the gateway follows the task.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::Gateway;
use crate::client::TaskStart;
use crate::protocol::{
    CallToolRequestParams, CancelTaskResult, CreateTaskResult, EmptyResult, Era, GetTaskResult,
    Task, TaskIdParams, UpdateTaskParams, TASKS_EXTENSION,
};
use crate::server::{Context, ServerError, ToolCall};
use crate::CallOptions;

/// How long a sealed id opens when the upstream gave its task no ttl: a
/// day.
const UNBOUNDED_TASK_ID_TTL: Duration = Duration::from_secs(86_400);

/// What a sealed task id stands for.
#[derive(Serialize, Deserialize)]
struct SealedTask {
    /// The upstream server.
    s: String,
    /// Its task id.
    t: String,
}

/// Whether the request `cx` declares the tasks extension.
pub(super) fn accepts_tasks(cx: &Context) -> bool {
    cx.era() == Era::Modern && cx.client_capabilities().has_extension(TASKS_EXTENSION)
}

impl Gateway {
    /// `tools/call` from a client that accepts tasks: passed on so that the
    /// upstream may answer with a task (a 2026-07-28 upstream), whose id is
    /// sealed; any other call as [`ServerHandler::call_tool`] does.
    ///
    /// [`ServerHandler::call_tool`]: crate::server::ServerHandler::call_tool
    pub(super) async fn call_tool_or_task_upstream(
        &self,
        cx: Context,
        params: CallToolRequestParams,
    ) -> Result<ToolCall, ServerError> {
        let target = match &self.inner.only {
            Some(only) => Some((only.clone(), params.name.clone())),
            None => self.inner.fleet.resolve_tool(&params.name),
        };
        let Some((server, own)) = target else {
            return self
                .call_tool_plain(cx, params)
                .await
                .map(ToolCall::Complete);
        };
        if self.upstream_era(&server).await != Some(Era::Modern) {
            return self
                .call_tool_plain(cx, params)
                .await
                .map(ToolCall::Complete);
        }
        let relayed = self.relayed(&cx, &server)?;
        if relayed.as_ref().is_some_and(|r| r.h.is_some()) {
            return self
                .call_tool_plain(cx, params)
                .await
                .map(ToolCall::Complete);
        }
        self.count(&cx);
        let _in_flight = self.inner.metrics.start();
        let started = std::time::Instant::now();
        let options = self.upstream_options(&cx, relayed);
        let arguments = params.arguments.map(Value::Object).unwrap_or(json!({}));
        let outcome = {
            let _route = self.relay().enter(&server, &cx);
            self.inner
                .fleet
                .call_tool_as_task_on(&server, &own, arguments, options)
                .await
        };
        let failed = outcome
            .as_ref()
            .is_err_and(|e| !matches!(e, crate::Error::InputRequired { .. }));
        self.inner
            .metrics
            .server(&server)
            .record(started.elapsed(), failed);
        match outcome {
            Ok(TaskStart::Done(out)) => Ok(ToolCall::Complete(out.into_inner())),
            Ok(TaskStart::Task(task)) => {
                let sealed = self.seal(&cx, &server, task.task().clone());
                Ok(ToolCall::Task(CreateTaskResult::new(sealed)))
            }
            Err(e) => Err(self.failed(&cx, &server, e)),
        }
    }

    /// `task`, its id replaced by the sealed one.
    fn seal(&self, cx: &Context, server: &str, mut task: Task) -> Task {
        let ttl = task
            .ttl_ms
            .map(Duration::from_millis)
            .unwrap_or(UNBOUNDED_TASK_ID_TTL);
        let sealed = SealedTask {
            s: server.to_owned(),
            t: std::mem::take(&mut task.task_id),
        };
        task.task_id = cx.seal_task_id(
            serde_json::to_value(sealed).unwrap_or(Value::Null),
            // A little past the task's own end, so the client sees the
            // upstream say it expired rather than a refused id.
            ttl + Duration::from_secs(60),
        );
        task
    }

    /// The upstream and its task id behind a sealed id.
    fn open(&self, cx: &Context, task_id: &str) -> Result<(String, String), ServerError> {
        let value = cx.open_task_id(task_id)?;
        let sealed: SealedTask = serde_json::from_value(value)
            .map_err(|_| ServerError::invalid_params("invalid task id: not the gateway's"))?;
        Ok((sealed.s, sealed.t))
    }

    /// The upstream's client, for a request about one of its tasks.
    async fn task_client(&self, server: &str) -> Result<crate::Client, ServerError> {
        self.inner
            .fleet
            .client(server)
            .await
            .map_err(|e| self.upstream_error(Some(server), e))
    }

    /// `tasks/get` of a sealed id: the upstream's answer, under the id.
    pub(super) async fn get_task_upstream(
        &self,
        cx: Context,
        params: TaskIdParams,
    ) -> Result<GetTaskResult, ServerError> {
        self.count(&cx);
        let (server, upstream_id) = self.open(&cx, &params.task_id)?;
        let client = self.task_client(&server).await?;
        let mut got = client
            .get_task(&upstream_id, CallOptions::new())
            .await
            .map_err(|e| self.upstream_error(Some(&server), e))?;
        got.task.task_id = params.task_id;
        got.meta = None;
        got.result_type = None;
        Ok(got)
    }

    /// `tasks/update` of a sealed id, passed on.
    pub(super) async fn update_task_upstream(
        &self,
        cx: Context,
        params: UpdateTaskParams,
    ) -> Result<EmptyResult, ServerError> {
        self.count(&cx);
        let (server, upstream_id) = self.open(&cx, &params.task_id)?;
        let client = self.task_client(&server).await?;
        client
            .update_task(&upstream_id, params.input_responses, CallOptions::new())
            .await
            .map_err(|e| self.upstream_error(Some(&server), e))?;
        Ok(EmptyResult::default())
    }

    /// `tasks/cancel` of a sealed id, passed on.
    pub(super) async fn cancel_task_upstream(
        &self,
        cx: Context,
        params: TaskIdParams,
    ) -> Result<CancelTaskResult, ServerError> {
        self.count(&cx);
        let (server, upstream_id) = self.open(&cx, &params.task_id)?;
        let client = self.task_client(&server).await?;
        client
            .cancel_task(&upstream_id, CallOptions::new())
            .await
            .map_err(|e| self.upstream_error(Some(&server), e))?;
        Ok(CancelTaskResult::default())
    }
}
