//! The tasks extension's fixtures (SEP-2663, the 0.2.0 suite's `tasks-*`
//! server scenarios), on [`Registry::task_tool`]: the core turns a call of
//! a task tool into a task once the tool first waits, keeps it, and serves
//! `tasks/get`, `tasks/update` and `tasks/cancel`.
//!
//! - `greet`: a plain tool, `Hello, {name}!`;
//! - `slow_compute` (optional): sleeps `seconds` (0 for the immediate
//!   path), cancelled by `tasks/cancel` while it sleeps;
//! - `failing_job` (required): a tool error (`isError`) after about 1 s;
//! - `protocol_error_job` (optional): a protocol error (-32603) after
//!   200 ms, so the task ends `failed`;
//! - `confirm_delete` (optional): waits 200 ms, then asks to confirm
//!   (`input_required` on the task, answered with `tasks/update`);
//! - `multi_input` (optional): waits 200 ms, then asks two things at once;
//! - `test_tool_with_task` (required): asks the user's name first (an
//!   input-required round of the call itself), then works 1 s as a task
//!   whose result names them.

use std::time::Duration;

use serde_json::{json, Value};
use switchboard::protocol::{CallToolResult, JsonObject, TaskSupport};
use switchboard::server::{Registry, ServerError};

use super::{bare, elicit_form, name_schema, string_arg, tool};

fn confirm_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"confirm": {"type": "boolean"}},
        "required": ["confirm"]
    })
}

fn seconds(args: &JsonObject) -> f64 {
    args.get("seconds")
        .and_then(Value::as_f64)
        .unwrap_or(1.0)
        .clamp(0.0, 600.0)
}

pub(super) fn task_tools(registry: Registry) -> Registry {
    registry
        .tool(
            tool(
                "greet",
                "Greets someone (never a task)",
                json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
            ),
            |_cx, args| async move {
                let name = string_arg(&args, "name")?;
                Ok(CallToolResult::from_text(format!("Hello, {name}!")))
            },
        )
        .task_tool(
            tool(
                "slow_compute",
                "Sleeps `seconds`, then answers (a task for a client that accepts one)",
                json!({"type": "object", "properties": {
                    "seconds": {"type": "number"}, "label": {"type": "string"}
                }}),
            ),
            TaskSupport::Optional,
            |_cx, args| async move {
                let secs = seconds(&args);
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                let label = args.get("label").and_then(Value::as_str).unwrap_or("");
                Ok(CallToolResult::from_text(format!(
                    "slow_compute {label} done after {secs}s"
                )))
            },
        )
        .task_tool(
            bare("failing_job", "Fails as a tool (isError) after about 1 s; only as a task"),
            TaskSupport::Required,
            |_cx, _args| async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok(CallToolResult::error("failing_job failed, as it always does"))
            },
        )
        .task_tool(
            bare("protocol_error_job", "Fails with a protocol error after 200 ms"),
            TaskSupport::Optional,
            |_cx, _args| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Err::<CallToolResult, _>(ServerError::internal(
                    "protocol_error_job: an internal failure",
                ))
            },
        )
        .task_tool(
            tool(
                "confirm_delete",
                "Asks to confirm the deletion of `filename`",
                json!({"type": "object", "properties": {"filename": {"type": "string"}}}),
            ),
            TaskSupport::Optional,
            |cx, args| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let file = args.get("filename").and_then(Value::as_str).unwrap_or("the file");
                let (action, content) =
                    elicit_form(&cx, &format!("Delete {file}?"), confirm_schema()).await?;
                let confirmed = action == "accept" && content.get("confirm") == Some(&Value::Bool(true));
                Ok(CallToolResult::from_text(if confirmed {
                    format!("Deleted {file}")
                } else {
                    format!("Kept {file}")
                }))
            },
        )
        .task_tool(
            bare("multi_input", "Asks two things at once"),
            TaskSupport::Optional,
            |cx, _args| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let (name, confirm) = futures_util::join!(
                    elicit_form(&cx, "Your name?", name_schema()),
                    elicit_form(&cx, "Go ahead?", confirm_schema()),
                );
                let ((_, name), (_, confirm)) = (name?, confirm?);
                Ok(CallToolResult::from_text(format!(
                    "multi_input: name {name}, confirm {confirm}"
                )))
            },
        )
        .task_tool(
            bare(
                "test_tool_with_task",
                "Asks the user's name, then works 1 s as a task; only as a task",
            ),
            TaskSupport::Required,
            |cx, _args| async move {
                let (_, content) = elicit_form(&cx, "What is your name?", name_schema()).await?;
                let name = content
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("stranger")
                    .to_owned();
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok(CallToolResult::from_text(format!("Hello, {name}! (from a task)")))
            },
        )
}
