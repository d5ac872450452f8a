//! `switchboard call ... --task`: the call as a task where the server
//! offers one (the tasks extension; 2025-11-25 task-augmented calls). Its
//! status shows live on stderr, one line redrawn in place on a terminal,
//! one line per change otherwise; Ctrl-C cancels the task on the server
//! (`tasks/cancel`), shows how it ended and exits 130.

use std::io::Write;

use serde_json::Value;

use super::args::Global;
use super::commands::print_tool_output;
use super::style::{self, Paint};
use crate::protocol::{Task, TaskStatus};
use crate::{CallOptions, Client, Result, TaskStart};

/// Exit code after Ctrl-C, as a shell reports SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

/// How long a cancelled task is polled for its last status.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

/// One status line: `task ID: working: the server's message`.
fn status_line(task: &Task) -> String {
    let mut line = format!("task {}: {}", short(&task.task_id), task.status.as_str());
    if let Some(message) = task.status_message.as_deref().filter(|m| !m.is_empty()) {
        line.push_str(": ");
        line.push_str(message);
    }
    line
}

/// A long id cut for the status line (the whole id is printed once).
fn short(id: &str) -> String {
    if id.chars().count() <= 16 {
        return id.to_owned();
    }
    let head: String = id.chars().take(12).collect();
    format!("{head}…")
}

fn show(live: bool, task: &Task) {
    let line = status_line(task);
    let line = super::output::terminal_safe(&line);
    let mut err = std::io::stderr().lock();
    let _ = if live {
        write!(err, "\r\x1b[2K{line}")
    } else {
        writeln!(err, "{line}")
    };
    let _ = err.flush();
}

fn clear(live: bool) {
    if live {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

/// Calls `tool` as a task on `client` and follows it to its end.
pub(super) async fn call(
    global: &Global,
    client: &Client,
    tool: &str,
    arguments: Value,
) -> Result<u8> {
    let live = style::live(global);
    let options = CallOptions::new().on_task(move |t| show(live, t));
    let task = match client.call_tool_as_task(tool, arguments, options).await? {
        TaskStart::Done(out) => return Ok(print_tool_output(global, &out)),
        TaskStart::Task(task) => task,
    };
    let id = task.id().to_owned();
    if !global.json {
        style::report("task", Paint::Dim, &format!("{id} (Ctrl-C cancels it)"));
    }
    let outcome = tokio::select! {
        out = task.wait() => Some(out),
        _ = tokio::signal::ctrl_c() => None,
    };
    clear(live);
    match outcome {
        Some(out) => Ok(print_tool_output(global, &out?)),
        None => {
            cancel(client, &id).await;
            Ok(EXIT_INTERRUPTED)
        }
    }
}

/// Cancels task `id` and reports the status it settles in.
async fn cancel(client: &Client, id: &str) {
    if let Err(e) = client.cancel_task(id, CallOptions::new()).await {
        style::report(
            "error",
            Paint::Red,
            &format!("could not cancel task {id}: {e}"),
        );
        return;
    }
    let settled = tokio::time::timeout(SETTLE, async {
        loop {
            match client.get_task(id, CallOptions::new()).await {
                Ok(got) if got.task.status.is_terminal() => return Some(got.task),
                Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                Err(_) => return None,
            }
        }
    })
    .await
    .ok()
    .flatten();
    let status = settled
        .as_ref()
        .map_or("asked to cancel", |t| match t.status {
            TaskStatus::Cancelled => "cancelled",
            _ => t.status.as_str(),
        });
    style::report("task", Paint::Yellow, &format!("{id}: {status}"));
}
