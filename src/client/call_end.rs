//! What a `tools/call` hands back to whoever asked: [`Client::call_tool_with`]
//! wants the output (a task the server made of the call is followed to
//! its end), [`Client::call_tool_as_task`] the task itself. One call path
//! (`Client::start_call`) serves both, generic over this, so that a plain
//! call is one future, not a future inside another that takes its answer
//! apart.

use futures_util::future::BoxFuture;

use super::{Client, TaskStart, ToolOutput, ToolTask};
use crate::Result;

/// The end of a call: from its output, or from the task it became.
pub(super) trait CallEnd: Sized + Send {
    /// The server answered with the result.
    fn output(output: ToolOutput) -> Self;
    /// The server runs the call as a task (boxed: a plain call never
    /// takes this path).
    fn task(client: &Client, task: ToolTask) -> BoxFuture<'_, Result<Self>>;
}

/// `call_tool_with`: a task is waited for, cancelled if the wait is given
/// up before its end.
impl CallEnd for ToolOutput {
    fn output(output: ToolOutput) -> Self {
        output
    }

    fn task(client: &Client, task: ToolTask) -> BoxFuture<'_, Result<Self>> {
        Box::pin(client.follow(task))
    }
}

/// `call_tool_as_task`: the task comes back at once.
impl CallEnd for TaskStart {
    fn output(output: ToolOutput) -> Self {
        TaskStart::Done(output)
    }

    fn task(_: &Client, task: ToolTask) -> BoxFuture<'_, Result<Self>> {
        Box::pin(std::future::ready(Ok(TaskStart::Task(task))))
    }
}
