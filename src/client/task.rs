//! A tool call the server runs as a task: [`ToolTask`], the handle that
//! polls it (at the server's `pollIntervalMs`), answers what it asks,
//! cancels it, and turns its end into a [`ToolOutput`] or a typed
//! [`TaskError`].
//!
//! Both wire forms (see [`crate::protocol::tasks`]): in 2026-07-28 the
//! result comes inlined in `tasks/get` and `input_required` is answered
//! with `tasks/update`; in 2025-11-25 a `completed` task's result is read
//! with `tasks/result` (and the server asks with its own requests, which
//! the session answers as always).
//!
//! Restarts: a supervised server that restarts gets a new connection. A
//! 2026-07-28 task belongs to the server, not to a connection (the
//! extension is stateless by design), so the handle goes on polling on
//! the new one, as long as the server still declares the extension; if
//! the server no longer knows the task, the handle ends with
//! [`TaskError::Lost`]. A 2025-11-25 task lives on its connection (that
//! revision has no way to say otherwise): a restart ends it with
//! [`TaskError::Lost`] at the next poll. A connection that dies for good
//! does the same, at once.

use std::time::Duration;

use tokio::time::Instant;

use super::{Client, ToolOutput};
use crate::error::TaskError;
use crate::protocol::{
    codes, CallToolResult, Era, GetTaskResult, Task, TaskStatus, TASKS_EXTENSION,
};
use crate::session::{CallOptions, Session};
use crate::{Error, Result};

/// The poll interval when the server gives none.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Polls never come closer than this, whatever the server asks.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);
/// Polls never wait longer than this, whatever the server asks.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// What [`Client::call_tool_as_task`] started: a task to follow, or the
/// result itself when the server answered at once (it decides: a fast
/// call, a tool that does not run as a task, a server without tasks).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per call, moved once
pub enum TaskStart {
    /// The server runs the call as a task.
    Task(ToolTask),
    /// The server answered with the result.
    Done(ToolOutput),
}

impl TaskStart {
    /// Waits for the result: the task's ([`ToolTask::wait`]) or the one
    /// already there.
    pub async fn wait(self) -> Result<ToolOutput> {
        match self {
            TaskStart::Task(task) => task.wait().await,
            TaskStart::Done(output) => Ok(output),
        }
    }
}

/// A tool call running as a task on the server. Poll it with
/// [`ToolTask::poll`], wait for its result with [`ToolTask::wait`], stop it
/// with [`ToolTask::cancel`]. Dropping the handle leaves the task running
/// on the server (use [`ToolTask::cancel`] to stop it).
pub struct ToolTask {
    client: Client,
    tool: String,
    era: Era,
    /// The connection the task was made on, or was last polled on.
    session_id: usize,
    last: GetTaskResult,
    options: CallOptions,
    /// The hard deadline of [`ToolTask::wait`], and the cap it came from.
    deadline: Instant,
    cap: Duration,
}

impl std::fmt::Debug for ToolTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolTask")
            .field("server", &self.client.inner.name)
            .field("tool", &self.tool)
            .field("era", &self.era)
            .field("task", &self.last.task)
            .finish_non_exhaustive()
    }
}

impl ToolTask {
    pub(super) fn new(
        client: Client,
        session: &Session,
        tool: String,
        task: Task,
        options: CallOptions,
    ) -> Self {
        // The whole task is one call, under the hard cap of one request.
        let cap = session.hard_cap(Some(&options));
        let era = session.era().unwrap_or(Era::Modern);
        let task = ToolTask {
            client,
            tool,
            era,
            session_id: session.id(),
            last: GetTaskResult::of(task),
            options,
            deadline: Instant::now() + cap,
            cap,
        };
        task.report();
        task
    }

    /// The server's id for the task.
    pub fn id(&self) -> &str {
        &self.last.task.task_id
    }

    /// The tool that was called.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The task as last seen (at creation, or at the last poll).
    pub fn task(&self) -> &Task {
        &self.last.task
    }

    /// How long to wait between polls: the server's `pollIntervalMs`
    /// (kept between [`MIN_POLL_INTERVAL`] and [`MAX_POLL_INTERVAL`]), or
    /// [`DEFAULT_POLL_INTERVAL`].
    pub fn poll_interval(&self) -> Duration {
        self.last
            .task
            .poll_interval_ms
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_POLL_INTERVAL)
            .clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL)
    }

    /// Asks the server once how the task is doing (`tasks/get`). In
    /// 2026-07-28 a task waiting for input is answered here, through the
    /// client's handlers (or the call's own), with `tasks/update`.
    pub async fn poll(&mut self) -> Result<&Task> {
        // A connection lost under a supervisor comes back: one more go on
        // the new one (tasks/get is safe to repeat).
        let got = match self.get().await {
            Err(Error::ServerRestarted) => self.get().await,
            other => other,
        }?;
        let changed = got.task.status != self.last.task.status
            || got.task.status_message != self.last.task.status_message;
        self.last = got;
        if changed {
            self.report();
        }
        if self.last.task.status == TaskStatus::InputRequired && self.era == Era::Modern {
            self.answer_input().await?;
        }
        Ok(&self.last.task)
    }

    /// Polls until the task ends, at the server's interval, and returns
    /// its result. The wait is one call: it ends at the call's hard cap
    /// ([`CallOptions::max_time`], else the client's `max_request_time`)
    /// with [`Error::Timeout`] (the task is left running). A task that
    /// failed, was cancelled or was lost is a [`TaskError`].
    pub async fn wait(mut self) -> Result<ToolOutput> {
        loop {
            if self.last.task.status.is_terminal() {
                return self.finish().await;
            }
            if self.last.task.status == TaskStatus::InputRequired && self.era == Era::Handshake {
                // 2025-11-25: the server delivers its asks while
                // `tasks/result` waits (the session answers them through
                // the handlers), and that call ends with the result.
                return match tokio::time::timeout_at(self.deadline, self.payload()).await {
                    Ok(out) => out,
                    Err(_) => Err(self.timeout()),
                };
            }
            let next = Instant::now() + self.poll_interval();
            if next >= self.deadline {
                tokio::time::sleep_until(self.deadline).await;
                return Err(self.timeout());
            }
            tokio::time::sleep_until(next).await;
            match tokio::time::timeout_at(self.deadline, self.poll()).await {
                Ok(polled) => {
                    polled?;
                }
                Err(_) => return Err(self.timeout()),
            }
        }
    }

    /// Asks the server to cancel the task (`tasks/cancel`). Cooperative:
    /// the next poll shows whether it took (`cancelled`, or the status it
    /// reached first).
    pub async fn cancel(&self) -> Result<()> {
        let session = self.session().await?;
        session
            .cancel_task(self.id(), None)
            .await
            .map_err(|e| self.lost_on(e))
    }

    /// The session to poll on, by the rule of the module's docs.
    async fn session(&self) -> Result<Session> {
        let session = self.client.ready().await.map_err(|e| self.lost_on(e))?;
        if session.id() == self.session_id {
            return Ok(session);
        }
        if self.era == Era::Handshake {
            return Err(self.lost(
                "the server restarted; a 2025-11-25 task lives on the connection that made it",
            ));
        }
        let declared = session
            .server_state()
            .is_some_and(|s| s.capabilities.extension(TASKS_EXTENSION).is_some());
        if !declared {
            return Err(self.lost("the server restarted without the tasks extension"));
        }
        Ok(session)
    }

    async fn get(&mut self) -> Result<GetTaskResult> {
        let session = self.session().await?;
        self.session_id = session.id();
        match session.get_task(self.id(), Some(&self.options)).await {
            Ok(got) => Ok(got),
            Err(Error::ServerRestarted) => Err(Error::ServerRestarted),
            Err(Error::Protocol { code, message, .. }) if code == codes::INVALID_PARAMS => {
                Err(self.lost(format!("the server does not know it any more ({message})")))
            }
            Err(e) => Err(self.lost_on(e)),
        }
    }

    async fn answer_input(&mut self) -> Result<()> {
        let Some(asks) = self.last.input_requests.take().filter(|a| !a.is_empty()) else {
            return Ok(());
        };
        let session = self.session().await?;
        let answers = session
            .answer_task_input("tools/call", asks, Some(&self.options))
            .await
            .map_err(|e| {
                Error::Task(TaskError::InputRequired {
                    server: self.client.inner.name.clone(),
                    task_id: self.id().to_owned(),
                    message: e.to_string(),
                })
            })?;
        session
            .update_task(self.id(), answers, Some(&self.options))
            .await
            .map_err(|e| self.lost_on(e))
    }

    /// The end of a terminal task.
    async fn finish(mut self) -> Result<ToolOutput> {
        let server = self.client.inner.name.clone();
        let task_id = self.id().to_owned();
        match self.last.task.status {
            TaskStatus::Completed => {
                let result = match self.last.result.take() {
                    Some(result) => result,
                    None if self.era == Era::Handshake => return self.payload().await,
                    None => {
                        return Err(Error::InvalidMessage(format!(
                            "tasks/get: task {task_id} is completed but carries no result"
                        )))
                    }
                };
                self.client.output(&self.tool, result).await
            }
            TaskStatus::Failed => {
                let (code, message, data) = match self.last.error.take() {
                    Some(e) => (e.code, e.message, e.data),
                    None => (
                        codes::INTERNAL_ERROR,
                        self.last
                            .task
                            .status_message
                            .clone()
                            .unwrap_or_else(|| "no error given".into()),
                        None,
                    ),
                };
                Err(Error::Task(TaskError::Failed {
                    server,
                    task_id,
                    code,
                    message,
                    data,
                }))
            }
            _ => Err(Error::Task(TaskError::Cancelled { server, task_id })),
        }
    }

    /// `tasks/result` (2025-11-25): the result of the task, once it ends.
    async fn payload(&self) -> Result<ToolOutput> {
        let session = self.session().await?;
        let result = session
            .task_payload(self.id(), Some(&self.options))
            .await
            .map_err(|e| self.lost_on(e))?;
        self.client.output(&self.tool, result).await
    }

    fn report(&self) {
        if let Some(on_task) = self.options.rare().and_then(|r| r.on_task.as_ref()) {
            on_task(&self.last.task);
        }
    }

    fn timeout(&self) -> Error {
        Error::Timeout {
            method: format!("tools/call {} (task {})", self.tool, self.id()),
            elapsed: self.cap,
            hint: Some(format!(
                "the task was still {} (left running on the server)",
                self.last.task.status.as_str()
            )),
        }
    }

    fn lost(&self, reason: impl Into<String>) -> Error {
        Error::Task(TaskError::Lost {
            server: self.client.inner.name.clone(),
            task_id: self.id().to_owned(),
            reason: reason.into(),
        })
    }

    /// A failure of the connection is the task's loss; others stay.
    fn lost_on(&self, e: Error) -> Error {
        match e {
            Error::ConnectionClosed { .. }
            | Error::NotConnected(_)
            | Error::ServerRestarted
            | Error::Transport(_)
            | Error::CircuitOpen { .. } => self.lost(e.to_string()),
            other => other,
        }
    }
}

impl Client {
    /// `tasks/get` of a task of this server by its id, as the server
    /// answers it (2026-07-28: the result, error or input requests
    /// inlined): for a caller that follows a task itself, such as a
    /// gateway passing it on. [`ToolTask`] does the following for a task
    /// this client made.
    pub async fn get_task(&self, task_id: &str, options: CallOptions) -> Result<GetTaskResult> {
        self.ready().await?.get_task(task_id, Some(&options)).await
    }

    /// `tasks/update` (2026-07-28): answers to a task's input requests, by
    /// the keys `tasks/get` gave.
    pub async fn update_task(
        &self,
        task_id: &str,
        answers: serde_json::Map<String, serde_json::Value>,
        options: CallOptions,
    ) -> Result<()> {
        self.ready()
            .await?
            .update_task(task_id, answers, Some(&options))
            .await
    }

    /// `tasks/cancel` of a task of this server by its id.
    pub async fn cancel_task(&self, task_id: &str, options: CallOptions) -> Result<()> {
        self.ready()
            .await?
            .cancel_task(task_id, Some(&options))
            .await
    }

    /// Turns a tool's result into its output, its structured content
    /// checked against the tool's `outputSchema`.
    pub(super) async fn output(&self, name: &str, result: CallToolResult) -> Result<ToolOutput> {
        if let Some(structured) = super::output_to_check(&result) {
            self.validate_output(name, structured).await?;
        }
        Ok(ToolOutput::new(name.to_owned(), result))
    }
}

/// Cancels a task when the call that waits for it transparently goes away
/// before its end (deadline, caller gave up), as a plain call sends
/// `notifications/cancelled`.
pub(super) struct CancelOnDrop {
    pub(super) client: Client,
    pub(super) task_id: Option<String>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(task_id) = self.task_id.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let client = self.client.clone();
        runtime.spawn(async move {
            if let Some(session) = client.current() {
                if let Err(e) = session.cancel_task(&task_id, None).await {
                    tracing::debug!(server = %client.inner.name, %task_id, "could not cancel the task: {e}");
                }
            }
        });
    }
}
