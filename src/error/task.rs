//! A task (the tasks extension, or 2025-11-25 core tasks) that did not end
//! with a result.

use serde_json::Value;

/// Why a task gave no result. Every variant names the server and the
/// task, so the caller can report it or look again.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task ended `failed`: the server reports a protocol-level
    /// error (a tool that ran and failed is a result with `isError`).
    #[error("task {task_id} on {server} failed: error {code}: {message}")]
    Failed {
        /// The server's name.
        server: String,
        /// The task.
        task_id: String,
        /// The JSON-RPC error code the task ended with.
        code: i64,
        /// Its message.
        message: String,
        /// Its data, if any.
        data: Option<Value>,
    },
    /// The task ended `cancelled` (by this client or by the server).
    #[error("task {task_id} on {server} was cancelled")]
    Cancelled {
        /// The server's name.
        server: String,
        /// The task.
        task_id: String,
    },
    /// The task cannot be followed any more: the connection it belonged to
    /// was replaced by a restart and the server does not keep tasks across
    /// connections, or the server no longer knows the id (it restarted and
    /// forgot it, or the task expired).
    #[error("task {task_id} on {server} is lost: {reason}")]
    Lost {
        /// The server's name.
        server: String,
        /// The task.
        task_id: String,
        /// What happened.
        reason: String,
    },
    /// The task waits for input this client cannot give in a poll loop
    /// (`input_required` with no handler able to answer, or in 2025-11-25,
    /// where the server asks with its own requests, for too long).
    #[error("task {task_id} on {server} needs input: {message}")]
    InputRequired {
        /// The server's name.
        server: String,
        /// The task.
        task_id: String,
        /// What is missing.
        message: String,
    },
}

impl TaskError {
    /// The task's id.
    pub fn task_id(&self) -> &str {
        match self {
            TaskError::Failed { task_id, .. }
            | TaskError::Cancelled { task_id, .. }
            | TaskError::Lost { task_id, .. }
            | TaskError::InputRequired { task_id, .. } => task_id,
        }
    }
}
