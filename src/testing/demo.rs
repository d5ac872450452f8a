//! The ready-made demo server: a few tools, resources and prompts that show
//! (and exercise) every feature a client handles, in either era.

use crate::testing::TestServerBuilder;
use std::time::Duration;

use serde_json::{json, Value};

use super::{
    structured_result, text_result, CompletionRef, LogLevel, PromptDef, ResourceBody, ResourceDef,
    TemplateDef, TestServer, ToolDef,
};

/// The first bytes of a PNG file: a small binary resource.
const LOGO: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn number(args: &Value, key: &str) -> Result<f64, String> {
    args.get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("argument {key:?} must be a number"))
}

/// A server named `switchboard-demo` with:
///
/// - tools `echo` (text), `add` (with `outputSchema` and
///   `structuredContent`), `slow` (progress), `summarize` (asks for
///   sampling), `confirm` (elicits), `roots` (lists the client's roots),
///   `log` (logs at several levels);
/// - resources `config://app` (text) and `data://logo.png` (blob), and the
///   template `greet://{name}`;
/// - prompts `review` (`code` required, `language` completable) and
///   `greeting` (`name`).
pub fn demo_server() -> TestServer {
    demo_builder().build()
}

/// The builder behind [`demo_server`], to change it before building (e.g.
/// its [`crate::testing::Eras`]).
pub fn demo_builder() -> TestServerBuilder {
    TestServer::builder("switchboard-demo")
        .version(env!("CARGO_PKG_VERSION"))
        .instructions("A demo server: try `add`, `echo` or the `review` prompt.")
        .tool(
            ToolDef::new("echo")
                .description("Echoes its text back")
                .input_schema(json!({
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                })),
            |_ctx, args| async move {
                let text = args.get("text").and_then(Value::as_str).unwrap_or("");
                Ok(text_result(text))
            },
        )
        .tool(
            ToolDef::new("add")
                .description("Adds two numbers")
                .input_schema(json!({
                    "type": "object",
                    "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                    "required": ["a", "b"],
                }))
                .output_schema(json!({
                    "type": "object",
                    "properties": {"sum": {"type": "number"}},
                    "required": ["sum"],
                }))
                .annotations(json!({"readOnlyHint": true, "idempotentHint": true})),
            |_ctx, args| async move {
                let sum = number(&args, "a")? + number(&args, "b")?;
                Ok(structured_result(json!({ "sum": sum })))
            },
        )
        .tool(
            ToolDef::new("slow")
                .description("Counts `steps` steps of `ms` milliseconds, reporting progress")
                .input_schema(json!({
                    "type": "object",
                    "properties": {"steps": {"type": "integer"}, "ms": {"type": "integer"}},
                })),
            |ctx, args| async move {
                let steps = args.get("steps").and_then(Value::as_u64).unwrap_or(3);
                let ms = args.get("ms").and_then(Value::as_u64).unwrap_or(100);
                for step in 1..=steps {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    let message = format!("step {step} of {steps}");
                    ctx.progress(step as f64, Some(steps as f64), Some(&message));
                }
                Ok(text_result(format!("done after {steps} steps")))
            },
        )
        .tool(
            ToolDef::new("summarize")
                .description("Asks the client's LLM to summarize a text (sampling)")
                .input_schema(json!({
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                })),
            |ctx, args| async move {
                let text = args.get("text").and_then(Value::as_str).unwrap_or("");
                let reply = ctx
                    .sample(json!({
                        "messages": [{"role": "user", "content": {
                            "type": "text", "text": format!("Summarize in one sentence:\n{text}"),
                        }}],
                        "maxTokens": 200,
                    }))
                    .await?;
                let summary = reply
                    .pointer("/content/text")
                    .and_then(Value::as_str)
                    .unwrap_or("(no text in the reply)");
                Ok(text_result(summary))
            },
        )
        .tool(
            ToolDef::new("confirm")
                .description("Asks the user to confirm an action (elicitation)")
                .input_schema(json!({
                    "type": "object",
                    "properties": {"action": {"type": "string"}},
                })),
            |ctx, args| async move {
                let action = args
                    .get("action")
                    .and_then(Value::as_str)
                    .unwrap_or("proceed");
                let answer = ctx
                    .elicit(json!({
                        "mode": "form",
                        "message": format!("Really {action}?"),
                        "requestedSchema": {
                            "type": "object",
                            "properties": {"confirm": {"type": "boolean", "default": false}},
                            "required": ["confirm"],
                        },
                    }))
                    .await?;
                let verdict = match answer.get("action").and_then(Value::as_str) {
                    Some("accept") => {
                        let yes = answer
                            .pointer("/content/confirm")
                            .and_then(Value::as_bool)
                            .unwrap_or(false);
                        if yes { "confirmed" } else { "not confirmed" }
                    }
                    Some("decline") => "declined",
                    _ => "cancelled",
                };
                Ok(text_result(format!("{action}: {verdict}")))
            },
        )
        .tool(
            ToolDef::new("roots").description("Lists the client's roots"),
            |ctx, _args| async move {
                let roots = ctx.list_roots().await?;
                Ok(structured_result(roots))
            },
        )
        .tool(
            ToolDef::new("log")
                .description("Logs a message at debug, info and warning levels")
                .input_schema(json!({
                    "type": "object",
                    "properties": {"message": {"type": "string"}},
                })),
            |ctx, args| async move {
                let message = args
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("hello");
                for level in [LogLevel::Debug, LogLevel::Info, LogLevel::Warning] {
                    ctx.log(level, json!({"message": message}));
                }
                Ok(text_result("logged"))
            },
        )
        .resource_with(
            ResourceDef::new("config://app")
                .name("app-config")
                .mime_type("text/plain")
                .description("The application's configuration"),
            ResourceBody::Text("mode = demo\nretries = 3\n".into()),
        )
        .resource_with(
            ResourceDef::new("data://logo.png")
                .name("logo")
                .mime_type("image/png"),
            ResourceBody::Blob(LOGO.to_vec()),
        )
        .template_with(
            TemplateDef::new("greet://{name}", "greeting")
                .mime_type("text/plain")
                .description("A greeting for anyone"),
            |_uri, vars| async move {
                let name = vars.get("name").cloned().unwrap_or_default();
                Ok(ResourceBody::Text(format!("Hello, {name}!")))
            },
        )
        .completion_values(
            CompletionRef::resource("greet://{name}"),
            "name",
            ["Ada", "Alan", "Grace", "Linus"],
        )
        .prompt(
            PromptDef::new("review")
                .description("Review a piece of code")
                .argument_described("code", true, "The code to review")
                .argument_described("language", false, "Its language"),
            |args| async move {
                let code = args.get("code").cloned().unwrap_or_default();
                let language = args.get("language").map(String::as_str).unwrap_or("code");
                Ok(json!([{"role": "user", "content": {
                    "type": "text",
                    "text": format!("Please review this {language}:\n\n{code}"),
                }}]))
            },
        )
        .completion_values(
            CompletionRef::prompt("review"),
            "language",
            ["c", "go", "javascript", "python", "rust", "typescript"],
        )
        .prompt(
            PromptDef::new("greeting")
                .description("Greet someone")
                .argument("name", true),
            |args| async move {
                let name = args.get("name").cloned().unwrap_or_default();
                Ok(json!([
                    {"role": "user", "content": {"type": "text", "text": format!("Greet {name}.")}},
                    {"role": "assistant", "content": {"type": "text", "text": format!("Hello, {name}!")}},
                ]))
            },
        )
}
