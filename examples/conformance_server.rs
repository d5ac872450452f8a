//! The server the official MCP conformance suite tests
//! (`@modelcontextprotocol/conformance`, `server --url ...`): every fixture
//! its server scenarios call, on [`Registry`] and the public API only,
//! written once for both protocol eras (the `initialize` handshake of
//! 2025-11-25 and the stateless 2026-07-28 with input-required rounds).
//!
//! - tools: `test_simple_text`, `test_image_content`, `test_audio_content`,
//!   `test_embedded_resource`, `test_multiple_content_types`,
//!   `test_tool_with_logging`, `test_tool_with_progress`,
//!   `test_error_handling`, `test_sampling`, `test_elicitation`,
//!   `test_elicitation_sep1034_defaults`, `test_elicitation_sep1330_enums`,
//!   `test_reconnection`, `json_schema_2020_12_tool`, `test_header_param`
//!   (an `x-mcp-header` parameter, SEP-2243); for 2026-07-28
//!   (`server-stateless`) `test_missing_capability`,
//!   `test_streaming_elicitation`, `test_logging_tool`,
//!   `test_trigger_tool_change`, `test_trigger_prompt_change`; the
//!   input-required tools `test_input_required_result_*`; the tasks
//!   extension's `greet`, `slow_compute`, `failing_job`,
//!   `protocol_error_job`, `confirm_delete`, `multi_input` and
//!   `test_tool_with_task` (`conformance/tasks.rs`);
//! - resources `test://static-text`, `test://static-binary`,
//!   `test://watched-resource`, the template `test://template/{id}/data`,
//!   and the `SKILL.md` of one skill (the skills extension, SEP-2640);
//! - prompts `test_simple_prompt`, `test_prompt_with_arguments`,
//!   `test_prompt_with_embedded_resource`, `test_prompt_with_image`,
//!   `test_input_required_result_prompt`; completions for the prompt's
//!   `arg1` and the template's `id`.
//!
//! Asks (sampling, elicitation, roots) go through [`Context`], so they are
//! server-to-client requests in the handshake era and input-required
//! rounds in 2026-07-28. One fixture needs what [`Context`] cannot do yet:
//! `test_input_required_result_elicitation` must name its ask `user_name`
//! (the suite answers that key, even on a first call), and the core names
//! asks itself (`elicit-0`); its 2026-07-28 form is answered by an
//! [`Interceptor`] ([`NamedAsk`] below), its handshake form by the registry.
//!
//! It serves Streamable HTTP at `http://127.0.0.1:PORT/mcp` (port 0, the
//! default, picks a free one; the URL is printed once it listens), or one
//! client on stdin and stdout with `--stdio`.
//!
//! ```text
//! cargo run --example conformance_server -- 3000
//! node .../conformance/dist/index.js server --url http://127.0.0.1:3000/mcp --scenario tools-call-simple-text
//! cargo run --example conformance_server -- --stdio
//! ```

#[path = "conformance/tasks.rs"]
mod tasks;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Map, Value};
use switchboard::protocol::{
    BlobResourceContents, CallToolResult, ContentBlock, CreateMessageRequestParams,
    EmbeddedResource, GetPromptResult, Implementation, JsonObject, LoggingLevel, Prompt,
    PromptArgument, PromptMessage, ReadResourceResult, Resource, ResourceContents,
    ResourceTemplate, Role, SamplingMessage, Skill, SkillFile, SkillResources,
    TextResourceContents, Tool,
};
use switchboard::server::http::HttpOptions;
use switchboard::server::{
    AskError, AskKind, CompletionRef, Context, Interceptor, Registry, RequestHead, Server,
    ServerError, Verdict,
};
use switchboard::skills::sha256_digest;

/// A 1x1 red PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A WAV header with no samples (44 bytes, 16-bit mono at 44.1 kHz).
const WAV: &str = "UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=";

const SKILL_NAME: &str = "conformance-greeting";
const SKILL_URI: &str = "skill://conformance-greeting/SKILL.md";
const SKILL_DESCRIPTION: &str = "Greets the user by name, politely.";
const SKILL_MD: &str = "---\nname: conformance-greeting\ndescription: Greets the user by name, politely.\n---\n\n# Greeting\n\nAsk for the user's name, then greet them with it.\nSee [the phrases](references/phrases.md).\n";
const PHRASES_URI: &str = "skill://conformance-greeting/references/phrases.md";
const PHRASES_MD: &str = "# Phrases\n\n- Hello, NAME!\n- Good to see you, NAME.\n";

const SERVER_NAME: &str = "switchboard-conformance-server";

/// The tool whose 2026-07-28 ask must carry the key `user_name`.
const NAMED_ASK_TOOL: &str = "test_input_required_result_elicitation";

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let server = server();
    if args.iter().any(|a| a == "--stdio") {
        if let Err(e) = server.serve_stdio().await {
            eprintln!("conformance server: {e}");
            std::process::exit(1);
        }
        return;
    }
    let port = match args.first().map(|p| p.parse::<u16>()) {
        None => 0,
        Some(Ok(port)) => port,
        Some(Err(e)) => {
            eprintln!("usage: conformance_server [PORT] | --stdio: {e}");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("conformance server: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}/mcp"),
        Err(e) => {
            eprintln!("conformance server: {e}");
            std::process::exit(1);
        }
    }
    // The core checks the SEP-2243 headers, Mcp-Param-* included (from the
    // tools' x-mcp-header annotations).
    let router = server.http_router(HttpOptions::default());
    if let Err(e) = axum::serve(listener, router).await {
        eprintln!("conformance server: {e}");
        std::process::exit(1);
    }
}

/// The conformance server: the registry, and the interceptor for the one
/// ask the core cannot name.
pub fn server() -> Server {
    Server::builder(registry()).interceptor(NamedAsk).build()
}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn tool(name: &str, description: &str, input_schema: Value) -> Tool {
    Tool {
        name: name.into(),
        description: Some(description.into()),
        input_schema: object(input_schema),
        ..Default::default()
    }
}

/// A tool without arguments.
fn bare(name: &str, description: &str) -> Tool {
    tool(
        name,
        description,
        json!({"type": "object", "properties": {}}),
    )
}

fn text_contents(uri: &str, mime: &str, text: &str) -> ResourceContents {
    ResourceContents::Text(TextResourceContents {
        uri: uri.into(),
        mime_type: Some(mime.into()),
        text: text.into(),
        ..Default::default()
    })
}

fn embedded(uri: &str, mime: &str, text: &str) -> ContentBlock {
    ContentBlock::Resource(EmbeddedResource {
        resource: text_contents(uri, mime, text),
        annotations: None,
        meta: None,
        extra: Map::new(),
    })
}

fn resource(uri: &str, name: &str, description: &str, mime: &str) -> Resource {
    Resource {
        uri: uri.into(),
        name: name.into(),
        description: Some(description.into()),
        mime_type: Some(mime.into()),
        ..Default::default()
    }
}

fn argument(name: &str, description: &str) -> PromptArgument {
    PromptArgument {
        name: name.into(),
        title: None,
        description: Some(description.into()),
        required: Some(true),
        extra: Map::new(),
    }
}

fn prompt(name: &str, description: &str, arguments: Vec<PromptArgument>) -> Prompt {
    Prompt {
        name: name.into(),
        description: Some(description.into()),
        arguments: (!arguments.is_empty()).then_some(arguments),
        ..Default::default()
    }
}

fn messages(messages: Vec<PromptMessage>) -> GetPromptResult {
    GetPromptResult {
        messages,
        ..Default::default()
    }
}

fn user(content: ContentBlock) -> PromptMessage {
    PromptMessage::new(Role::User, content)
}

fn sampling(text: &str, max_tokens: u64) -> CreateMessageRequestParams {
    CreateMessageRequestParams {
        messages: vec![SamplingMessage::text(Role::User, text)],
        max_tokens,
        ..Default::default()
    }
}

fn string_arg(args: &JsonObject, name: &str) -> Result<String, ServerError> {
    args.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ServerError::invalid_params(format!("{name} (a string) is required")))
}

/// An elicitation form with exactly this schema (the SEP-1330 enum forms
/// are kept verbatim); the answer as `(action, content)`.
async fn elicit_form(
    cx: &Context,
    message: &str,
    schema: Value,
) -> Result<(String, Value), ServerError> {
    let answer = bounded_ask(cx.ask_json(
        AskKind::Elicitation,
        json!({"message": message, "requestedSchema": schema}),
    ))
    .await?;
    let action = answer
        .get("action")
        .and_then(Value::as_str)
        .ok_or_else(|| ServerError::invalid_params("the elicitation answer has no action"))?
        .to_owned();
    let content = answer.get("content").cloned().unwrap_or(Value::Null);
    Ok((action, content))
}

/// How long a tool waits for the client to answer one ask (in the
/// handshake era: in 2026-07-28 an ask ends the round at once).
const ASK_LIMIT: Duration = Duration::from_secs(60);

/// The client's answer to an ask, waited for at most [`ASK_LIMIT`].
async fn bounded_ask<T>(ask: impl Future<Output = Result<T, AskError>>) -> Result<T, ServerError> {
    match tokio::time::timeout(ASK_LIMIT, ask).await {
        Ok(answer) => answer.map_err(ServerError::from),
        Err(_) => Err(ServerError::internal(format!(
            "the client did not answer within {ASK_LIMIT:?}"
        ))),
    }
}

fn name_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"]
    })
}

fn sampled_text(result: &switchboard::protocol::CreateMessageResult) -> String {
    result.content.text()
}

/// Every fixture of the suite's server scenarios.
fn registry() -> Registry {
    let registry = Registry::new(Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION")))
        .instructions("The fixtures of the MCP conformance suite's server scenarios.");
    let registry = content_tools(registry);
    let registry = interaction_tools(registry);
    let registry = stateless_tools(registry);
    let registry = input_required_tools(registry);
    let registry = tasks::task_tools(registry);
    let registry = resources(registry);
    let registry = prompts(registry);
    skills(registry)
}

/// Tools that return one kind of content each, and the schema fixture.
fn content_tools(registry: Registry) -> Registry {
    registry
        .tool(
            bare("test_simple_text", "Returns simple text content"),
            |_cx, _args| async {
                Ok(CallToolResult::from_text(
                    "This is a simple text response for testing.",
                ))
            },
        )
        .tool(
            bare("test_image_content", "Returns a PNG image"),
            |_cx, _args| async {
                Ok(CallToolResult::from_content(vec![ContentBlock::image(
                    PNG,
                    "image/png",
                )]))
            },
        )
        .tool(
            bare("test_audio_content", "Returns a WAV sound"),
            |_cx, _args| async {
                Ok(CallToolResult::from_content(vec![ContentBlock::audio(
                    WAV,
                    "audio/wav",
                )]))
            },
        )
        .tool(
            bare("test_embedded_resource", "Returns an embedded resource"),
            |_cx, _args| async {
                Ok(CallToolResult::from_content(vec![embedded(
                    "test://embedded-resource",
                    "text/plain",
                    "This is an embedded resource content.",
                )]))
            },
        )
        .tool(
            bare(
                "test_multiple_content_types",
                "Returns text, an image and a resource",
            ),
            |_cx, _args| async {
                Ok(CallToolResult::from_content(vec![
                    ContentBlock::text("Multiple content types test:"),
                    ContentBlock::image(PNG, "image/png"),
                    embedded(
                        "test://mixed-content-resource",
                        "application/json",
                        r#"{"test":"data","value":123}"#,
                    ),
                ]))
            },
        )
        .tool(
            bare("test_error_handling", "Always fails"),
            |_cx, _args| async {
                Ok(CallToolResult::error(
                    "This tool intentionally returns an error for testing",
                ))
            },
        )
        .tool(
            tool(
                "json_schema_2020_12_tool",
                "Tool with JSON Schema 2020-12 features",
                // SEP-1613's keywords, and SEP-2106's ($anchor in $defs,
                // allOf/anyOf, if/then/else).
                json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "object",
                    "$defs": {
                        "address": {
                            "$anchor": "addressDef",
                            "type": "object",
                            "properties": {
                                "street": {"type": "string"},
                                "city": {"type": "string"}
                            }
                        }
                    },
                    "properties": {
                        "name": {"type": "string"},
                        "address": {"$ref": "#/$defs/address"},
                        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                        "phone": {"type": "string"},
                        "email": {"type": "string"}
                    },
                    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
                    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
                    "then": {"required": ["phone"]},
                    "else": {"required": ["email"]},
                    "additionalProperties": false
                }),
            ),
            |_cx, args| async move {
                let name = args.get("name").and_then(Value::as_str).unwrap_or("nobody");
                Ok(CallToolResult::from_text(format!("Received {name}")))
            },
        )
}

/// Tools that log, report progress and ask the client.
fn interaction_tools(registry: Registry) -> Registry {
    registry
        .tool(
            bare("test_tool_with_logging", "Logs three messages while it runs"),
            |cx, _args| async move {
                cx.log(LoggingLevel::Info, "Tool execution started");
                tokio::time::sleep(Duration::from_millis(50)).await;
                cx.log(LoggingLevel::Info, "Tool processing data");
                tokio::time::sleep(Duration::from_millis(50)).await;
                cx.log(LoggingLevel::Info, "Tool execution completed");
                Ok(CallToolResult::from_text(
                    "Tool with logging executed successfully",
                ))
            },
        )
        .tool(
            bare("test_tool_with_progress", "Reports progress 0, 50, 100 of 100"),
            |cx, _args| async move {
                cx.progress(0.0, Some(100.0), Some("started"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                cx.progress(50.0, Some(100.0), Some("half way"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                cx.progress(100.0, Some(100.0), Some("done"));
                Ok(CallToolResult::from_text(
                    "Tool with progress executed successfully",
                ))
            },
        )
        .tool(
            tool(
                "test_sampling",
                "Asks the client's model to answer a prompt",
                json!({
                    "type": "object",
                    "properties": {"prompt": {"type": "string", "description": "The prompt to send to the LLM"}},
                    "required": ["prompt"]
                }),
            ),
            |cx, args| async move {
                let prompt = string_arg(&args, "prompt")?;
                let answer = bounded_ask(cx.sample(sampling(&prompt, 100))).await?;
                Ok(CallToolResult::from_text(format!(
                    "LLM response: {}",
                    sampled_text(&answer)
                )))
            },
        )
        .tool(
            tool(
                "test_elicitation",
                "Asks the user for a username and an email address",
                json!({
                    "type": "object",
                    "properties": {"message": {"type": "string", "description": "The message to show the user"}},
                    "required": ["message"]
                }),
            ),
            |cx, args| async move {
                let message = string_arg(&args, "message")?;
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "username": {"type": "string", "description": "User's response"},
                        "email": {"type": "string", "description": "User's email address"}
                    },
                    "required": ["username", "email"]
                });
                let (action, content) = elicit_form(&cx, &message, schema).await?;
                Ok(CallToolResult::from_text(format!(
                    "User response: action={action}, content={content}"
                )))
            },
        )
        .tool(
            bare(
                "test_elicitation_sep1034_defaults",
                "Elicits a form whose fields all have defaults (SEP-1034)",
            ),
            |cx, _args| async move {
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "default": "John Doe"},
                        "age": {"type": "integer", "default": 30},
                        "score": {"type": "number", "default": 95.5},
                        "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
                        "verified": {"type": "boolean", "default": true}
                    }
                });
                let (action, content) =
                    elicit_form(&cx, "Please review your profile", schema).await?;
                Ok(CallToolResult::from_text(format!(
                    "Elicitation completed: action={action}, content={content}"
                )))
            },
        )
        .tool(
            bare(
                "test_elicitation_sep1330_enums",
                "Elicits every enum form of SEP-1330",
            ),
            |cx, _args| async move {
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                        "titledSingle": {"type": "string", "oneOf": [
                            {"const": "value1", "title": "First Option"},
                            {"const": "value2", "title": "Second Option"},
                            {"const": "value3", "title": "Third Option"}
                        ]},
                        "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"],
                            "enumNames": ["Option One", "Option Two", "Option Three"]},
                        "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                        "titledMulti": {"type": "array", "items": {"anyOf": [
                            {"const": "value1", "title": "First Choice"},
                            {"const": "value2", "title": "Second Choice"},
                            {"const": "value3", "title": "Third Choice"}
                        ]}}
                    }
                });
                let (action, content) = elicit_form(&cx, "Pick your options", schema).await?;
                Ok(CallToolResult::from_text(format!(
                    "Elicitation completed: action={action}, content={content}"
                )))
            },
        )
        .tool(
            tool(
                "test_header_param",
                "Echoes a parameter that is also sent as the Mcp-Param-Region header (SEP-2243)",
                json!({
                    "type": "object",
                    "properties": {
                        "region": {"type": "string", "x-mcp-header": "Region", "description": "Where to run"}
                    },
                    "required": ["region"]
                }),
            ),
            |_cx, args| async move {
                let region = string_arg(&args, "region")?;
                Ok(CallToolResult::from_text(format!("region={region}")))
            },
        )
        .tool(
            bare(
                "test_reconnection",
                "Closes its response stream before answering (SEP-1699 polling)",
            ),
            |cx, _args| async move {
                // SEP-1699 polling: the response stream ends before the
                // result, which the client then gets by resuming with
                // Last-Event-ID (a no-op off handshake-era HTTP).
                cx.end_stream();
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(CallToolResult::from_text("Reconnection test completed"))
            },
        )
}

/// The diagnostic tools of `server-stateless` (2026-07-28).
fn stateless_tools(registry: Registry) -> Registry {
    registry
        .tool(
            bare(
                "test_missing_capability",
                "Samples the client's model: needs the sampling capability",
            ),
            |cx, _args| async move {
                let answer = bounded_ask(cx.sample(sampling("Say hello", 20))).await?;
                Ok(CallToolResult::from_text(sampled_text(&answer)))
            },
        )
        .tool(
            bare(
                "test_streaming_elicitation",
                "Elicits a name (an input-required round in 2026-07-28)",
            ),
            |cx, _args| async move {
                let (action, content) =
                    elicit_form(&cx, "What is your name?", name_schema()).await?;
                Ok(CallToolResult::from_text(format!(
                    "action={action}, content={content}"
                )))
            },
        )
        .tool(
            bare(
                "test_logging_tool",
                "Logs at info (heard only when the request asked for a level)",
            ),
            |cx, _args| async move {
                cx.log(LoggingLevel::Info, "test_logging_tool ran");
                Ok(CallToolResult::from_text("logged"))
            },
        )
        .tool(
            bare(
                "test_trigger_tool_change",
                "Tells the listening clients that the tool list changed",
            ),
            |cx, _args| async move {
                cx.notifier().tools_changed();
                Ok(CallToolResult::from_text("tools/list_changed sent"))
            },
        )
        .tool(
            bare(
                "test_trigger_prompt_change",
                "Tells the listening clients that the prompt list changed",
            ),
            |cx, _args| async move {
                cx.notifier().prompts_changed();
                Ok(CallToolResult::from_text("prompts/list_changed sent"))
            },
        )
}

/// The tools of the `input-required-result-*` scenarios (SEP-2322). In
/// the handshake era the same asks are requests to the client.
fn input_required_tools(registry: Registry) -> Registry {
    registry
        .tool(
            bare(NAMED_ASK_TOOL, "Asks the user's name (key user_name)"),
            |cx, _args| async move {
                let (_, content) = elicit_form(&cx, "What is your name?", name_schema()).await?;
                let name = content
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("stranger");
                Ok(CallToolResult::from_text(format!("Hello, {name}!")))
            },
        )
        .tool(
            bare(
                "test_input_required_result_sampling",
                "Asks the client's model for the capital of France",
            ),
            |cx, _args| async move {
                let answer =
                    bounded_ask(cx.sample(sampling("What is the capital of France?", 100))).await?;
                Ok(CallToolResult::from_text(sampled_text(&answer)))
            },
        )
        .tool(
            bare(
                "test_input_required_result_list_roots",
                "Asks the client for its roots",
            ),
            |cx, _args| async move {
                let roots = bounded_ask(cx.list_roots()).await?;
                let uris: Vec<&str> = roots.roots.iter().map(|r| r.uri.as_str()).collect();
                Ok(CallToolResult::from_text(format!(
                    "Client roots: {}",
                    uris.join(", ")
                )))
            },
        )
        .tool(
            bare(
                "test_input_required_result_request_state",
                "Asks for a confirmation; the retry's requestState is checked",
            ),
            |cx, _args| async move {
                let schema = json!({
                    "type": "object",
                    "properties": {"ok": {"type": "boolean"}},
                    "required": ["ok"]
                });
                let (action, content) = elicit_form(&cx, "Please confirm", schema).await?;
                // Reached in 2026-07-28 only once the core redeemed the
                // requestState it minted (a forged one is -32602).
                Ok(CallToolResult::from_text(format!(
                    "state-ok: action={action}, content={content}"
                )))
            },
        )
        .tool(
            bare(
                "test_input_required_result_multiple_inputs",
                "Asks for a name, a greeting and the roots in one round",
            ),
            |cx, _args| async move {
                // Every ask before the first `?`: one round carries all three.
                let name = elicit_form(&cx, "What is your name?", name_schema()).await;
                let greeting = bounded_ask(cx.sample(sampling("Generate a greeting", 50))).await;
                let roots = bounded_ask(cx.list_roots()).await;
                let ((_, name), greeting, roots) = (name?, greeting?, roots?);
                Ok(CallToolResult::from_text(format!(
                    "name={name}, greeting={:?}, roots={}",
                    sampled_text(&greeting),
                    roots.roots.len()
                )))
            },
        )
        .tool(
            bare(
                "test_input_required_result_multi_round",
                "Asks a name, then (next round) a favourite colour",
            ),
            |cx, _args| async move {
                let (_, name) =
                    elicit_form(&cx, "Step 1: What is your name?", name_schema()).await?;
                let color_schema = json!({
                    "type": "object",
                    "properties": {"color": {"type": "string"}},
                    "required": ["color"]
                });
                let (_, color) =
                    elicit_form(&cx, "Step 2: What is your favorite color?", color_schema).await?;
                Ok(CallToolResult::from_text(format!(
                    "name={name}, color={color}"
                )))
            },
        )
        .tool(
            bare(
                "test_input_required_result_tampered_state",
                "Asks for a confirmation; a tampered requestState is refused",
            ),
            |cx, _args| async move {
                let schema = json!({
                    "type": "object",
                    "properties": {"ok": {"type": "boolean"}},
                    "required": ["ok"]
                });
                let (action, _) = elicit_form(&cx, "Please confirm", schema).await?;
                Ok(CallToolResult::from_text(format!("confirmed: {action}")))
            },
        )
        .tool(
            bare(
                "test_input_required_result_capabilities",
                "Asks only what the client declared it can answer",
            ),
            |cx, _args| async move {
                let caps = cx.client_capabilities().clone();
                let sampled = match caps.sampling {
                    Some(_) => Some(bounded_ask(cx.sample(sampling("Say hello", 20))).await),
                    None => None,
                };
                let elicited = match caps.elicitation {
                    Some(_) => Some(elicit_form(&cx, "What is your name?", name_schema()).await),
                    None => None,
                };
                let rooted = match caps.roots {
                    Some(_) => Some(bounded_ask(cx.list_roots()).await),
                    None => None,
                };
                let mut asked = Vec::new();
                if let Some(s) = sampled {
                    asked.push(format!("sampling: {}", sampled_text(&s?)));
                }
                if let Some(e) = elicited {
                    asked.push(format!("elicitation: {}", e?.1));
                }
                if let Some(r) = rooted {
                    asked.push(format!("roots: {}", r?.roots.len()));
                }
                Ok(CallToolResult::from_text(format!(
                    "asked only what was declared: [{}]",
                    asked.join("; ")
                )))
            },
        )
}

fn resources(registry: Registry) -> Registry {
    registry
        .resource(
            resource(
                "test://static-text",
                "static-text",
                "A static text resource",
                "text/plain",
            ),
            vec![text_contents(
                "test://static-text",
                "text/plain",
                "This is the content of the static text resource.",
            )],
        )
        .resource(
            resource(
                "test://static-binary",
                "static-binary",
                "A static binary resource (a PNG)",
                "image/png",
            ),
            vec![ResourceContents::Blob(BlobResourceContents {
                uri: "test://static-binary".into(),
                mime_type: Some("image/png".into()),
                blob: PNG.into(),
                ..Default::default()
            })],
        )
        .resource(
            resource(
                "test://watched-resource",
                "watched-resource",
                "A resource to subscribe to",
                "text/plain",
            ),
            vec![text_contents(
                "test://watched-resource",
                "text/plain",
                "Watched resource content.",
            )],
        )
        .resource_template(
            ResourceTemplate {
                uri_template: "test://template/{id}/data".into(),
                name: "template-data".into(),
                description: Some("Data for an id".into()),
                mime_type: Some("application/json".into()),
                ..Default::default()
            },
            |_cx, uri, vars| async move {
                let id = vars.get("id").cloned().unwrap_or_default();
                let text =
                    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
                Ok(ReadResourceResult {
                    contents: vec![text_contents(&uri, "application/json", &text.to_string())],
                    ..Default::default()
                })
            },
        )
        .completion_values(
            CompletionRef::resource("test://template/{id}/data"),
            "id",
            ["1", "2", "3", "123"],
        )
}

fn prompts(registry: Registry) -> Registry {
    registry
        .prompt(
            prompt("test_simple_prompt", "A prompt without arguments", vec![]),
            |_cx, _args| async {
                Ok(messages(vec![user(ContentBlock::text(
                    "This is a simple prompt for testing.",
                ))]))
            },
        )
        .prompt(
            prompt(
                "test_prompt_with_arguments",
                "A prompt with two arguments",
                vec![
                    argument("arg1", "First test argument"),
                    argument("arg2", "Second test argument"),
                ],
            ),
            |_cx, args| async move {
                let arg = |name: &str| args.get(name).cloned().unwrap_or_default();
                Ok(messages(vec![user(ContentBlock::text(format!(
                    "Prompt with arguments: arg1='{}', arg2='{}'",
                    arg("arg1"),
                    arg("arg2")
                )))]))
            },
        )
        .completion_values(
            CompletionRef::prompt("test_prompt_with_arguments"),
            "arg1",
            ["paris", "park", "party", "test", "testing"],
        )
        .prompt(
            prompt(
                "test_prompt_with_embedded_resource",
                "A prompt embedding a resource",
                vec![argument("resourceUri", "URI of the resource to embed")],
            ),
            |_cx, args| async move {
                let uri = args.get("resourceUri").cloned().unwrap_or_default();
                Ok(messages(vec![
                    user(embedded(
                        &uri,
                        "text/plain",
                        "Embedded resource content for testing.",
                    )),
                    user(ContentBlock::text(
                        "Please process the embedded resource above.",
                    )),
                ]))
            },
        )
        .prompt(
            prompt("test_prompt_with_image", "A prompt with an image", vec![]),
            |_cx, _args| async {
                Ok(messages(vec![
                    user(ContentBlock::image(PNG, "image/png")),
                    user(ContentBlock::text("Please analyze the image above.")),
                ]))
            },
        )
        .prompt(
            prompt(
                "test_input_required_result_prompt",
                "A prompt that first asks the user for context",
                vec![],
            ),
            |cx, _args| async move {
                let schema = json!({
                    "type": "object",
                    "properties": {"context": {"type": "string"}},
                    "required": ["context"]
                });
                let (_, content) =
                    elicit_form(&cx, "What context should the prompt use?", schema).await?;
                let context = content.get("context").and_then(Value::as_str).unwrap_or("");
                Ok(messages(vec![user(ContentBlock::text(format!(
                    "Use this context: {context}"
                )))]))
            },
        )
}

fn skill_file(uri: &str, text: &str) -> SkillFile {
    SkillFile {
        uri: uri.into(),
        digest: sha256_digest(text.as_bytes()),
        size: text.len() as u64,
        extra: Map::new(),
    }
}

/// One skill (SEP-2640): its entry, and its files as resources.
fn skills(registry: Registry) -> Registry {
    let entry = Skill {
        uri: SKILL_URI.into(),
        frontmatter: object(json!({"name": SKILL_NAME, "description": SKILL_DESCRIPTION})),
        resources: SkillResources::Listed(vec![
            skill_file(SKILL_URI, SKILL_MD),
            skill_file(PHRASES_URI, PHRASES_MD),
        ]),
        ..Default::default()
    };
    registry
        .skill(entry)
        .resource(
            resource(SKILL_URI, SKILL_NAME, SKILL_DESCRIPTION, "text/markdown"),
            vec![text_contents(SKILL_URI, "text/markdown", SKILL_MD)],
        )
        .resource(
            resource(
                PHRASES_URI,
                "phrases",
                "Greeting phrases of the skill",
                "text/markdown",
            ),
            vec![text_contents(PHRASES_URI, "text/markdown", PHRASES_MD)],
        )
}

/// Answers the 2026-07-28 form of [`NAMED_ASK_TOOL`] itself: its ask is
/// keyed `user_name` (the core would name it `elicit-0`), a first call
/// that already carries the answer completes at once, and an answer of
/// the wrong shape is -32602. The handshake form, and everything else,
/// is served by the registry.
struct NamedAsk;

impl Interceptor for NamedAsk {
    fn on_request(&self, request: &RequestHead<'_>) -> Verdict {
        if request.method() != "tools/call" || request.name().as_deref() != Some(NAMED_ASK_TOOL) {
            return Verdict::Serve;
        }
        let params: Value = request
            .params()
            .and_then(|p| serde_json::from_slice(p).ok())
            .unwrap_or(Value::Null);
        let meta = params.get("_meta");
        let modern = meta
            .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
            .is_some();
        if !modern {
            return Verdict::Serve;
        }
        let id = serde_json::to_value(request.id()).unwrap_or(Value::Null);
        let reply = match named_ask_round(&params) {
            Ok(mut result) => {
                // Who answered, as the core says on every modern result.
                result["_meta"] = json!({"io.modelcontextprotocol/serverInfo": {
                    "name": SERVER_NAME,
                    "version": env!("CARGO_PKG_VERSION"),
                }});
                json!({"jsonrpc": "2.0", "id": id, "result": result})
            }
            Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
        };
        Verdict::Send(Bytes::from(reply.to_string()))
    }
}

/// One round of [`NAMED_ASK_TOOL`] in 2026-07-28: the result, or the
/// JSON-RPC error object.
fn named_ask_round(params: &Value) -> Result<Value, Value> {
    let invalid = |message: &str| json!({"code": -32602, "message": message});
    let declared = params
        .pointer("/_meta/io.modelcontextprotocol~1clientCapabilities/elicitation")
        .is_some();
    if !declared {
        return Err(json!({
            "code": -32021,
            "message": "this request needs the client capability elicitation",
            "data": {"requiredCapabilities": {"elicitation": {}}}
        }));
    }
    let answer = match params.get("inputResponses") {
        None => None,
        Some(Value::Object(responses)) => responses.get("user_name"),
        Some(_) => return Err(invalid("inputResponses must be an object")),
    };
    let Some(answer) = answer else {
        return Ok(json!({
            "resultType": "input_required",
            "inputRequests": {
                "user_name": {
                    "method": "elicitation/create",
                    "params": {
                        "message": "What is your name?",
                        "requestedSchema": name_schema()
                    }
                }
            }
        }));
    };
    let action = answer.get("action").and_then(Value::as_str);
    let name = answer.pointer("/content/name").and_then(Value::as_str);
    match (action, name) {
        (Some("accept"), Some(name)) => Ok(json!({
            "resultType": "complete",
            "content": [{"type": "text", "text": format!("Hello, {name}!")}]
        })),
        (Some("decline" | "cancel"), _) => Ok(json!({
            "resultType": "complete",
            "content": [{"type": "text", "text": "Hello, stranger!"}]
        })),
        _ => Err(invalid(
            "inputResponses.user_name must be an elicitation result with content.name",
        )),
    }
}
