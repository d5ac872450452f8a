//! What each command does.

use std::time::Duration;

use serde_json::{json, Value};

use super::args::{Cli, Command, Global};
use super::arguments::{self, ArgTypes};
use super::shutdown::outln;
use super::style::{self, Paint};
use super::{bench, child_env, connect, demo, exit_code, output, EXIT_TOOL_ERROR, EXIT_USAGE};
use crate::protocol::{ContentBlock, ResourceContents};
use crate::{Client, Error, Result};

/// Runs one command; returns the exit code.
pub async fn run(cli: Cli) -> u8 {
    let global = cli.global;
    super::shutdown::set_json_output(global.json);
    let stdio_source = matches!(
        super::source::server(source_of(&cli.command)),
        Ok(crate::Source::Stdio(_))
    );
    let outcome = match cli.command {
        Command::Check { source, era } => super::check::run(&global, &source, &era).await,
        Command::Record {
            source,
            out,
            command,
        } => super::record::run(&global, &source, &out, &command).await,
        Command::Demo { tour: true } => demo::run(&global).await,
        Command::Demo { tour: false } => super::demo_agent::run(&global).await,
        Command::Run { agent, prompt } => super::run::run(&global, &agent, &prompt).await,
        Command::Gateway {
            config,
            listen,
            stdio,
            drain_secs,
            unprefixed,
            ready_min,
            auth,
            #[cfg(feature = "distributed")]
            nats,
        } => {
            // Before any server starts: NATS unreachable fails fast.
            #[cfg(feature = "distributed")]
            let health = match nats.connect().await {
                Ok(health) => health,
                Err(code) => return code,
            };
            let serving = super::gateway::Serving {
                listen: &listen,
                stdio,
                drain: Duration::from_secs(drain_secs),
                unprefixed,
                ready_min,
                auth,
                #[cfg(feature = "distributed")]
                health,
            };
            super::gateway::run(&global, &config, serving).await
        }
        Command::ServeEcho { start_delay_ms } => super::serve_echo::serve(start_delay_ms)
            .map_err(Error::Io)
            .map(|_| 0),
        Command::ServeTest { eras, crash_tool } => demo::serve_test(&eras, crash_tool).await,
        Command::Bench {
            source,
            tool,
            args,
            calls,
            concurrency,
        } => bench::run(&source, &global, &tool, &args, calls, concurrency).await,
        #[cfg(feature = "distributed")]
        Command::Dist(command) => Ok(super::dist::run(&global, command).await),
        command => with_client(command, &global).await,
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            style::report("error", Paint::Red, &e.to_string());
            for note in super::hints::notes(&e, &global) {
                style::report("note", Paint::Dim, &note);
            }
            if stdio_source && child_env::may_be_missing_env(&e) {
                if let Some(note) = child_env::withheld_note(&global) {
                    style::report("note", Paint::Dim, &note);
                }
            }
            exit_code(&e)
        }
    }
}

fn source_of(command: &Command) -> &str {
    match command {
        Command::Inspect { source }
        | Command::Tools { source }
        | Command::Call { source, .. }
        | Command::Resources { source }
        | Command::Templates { source }
        | Command::Read { source, .. }
        | Command::Prompts { source }
        | Command::Prompt { source, .. }
        | Command::Ping { source }
        | Command::Bench { source, .. }
        | Command::Check { source, .. }
        | Command::Record { source, .. } => source,
        Command::Demo { .. }
        | Command::ServeEcho { .. }
        | Command::ServeTest { .. }
        | Command::Gateway { .. }
        | Command::Run { .. } => "",
        #[cfg(feature = "distributed")]
        Command::Dist(_) => "",
    }
}

async fn with_client(command: Command, global: &Global) -> Result<u8> {
    let source = source_of(&command);
    if crate::client::is_config_path(source) {
        let path = std::path::PathBuf::from(source.trim());
        return super::fleet::run(command, global, &path).await;
    }
    if global.server.is_some() {
        return Err(Error::invalid_argument(
            "--server picks a server of an mcpServers config file; SOURCE is not one",
        ));
    }
    if !global.inputs.is_empty() {
        return Err(Error::invalid_argument(
            "--input fills a config file's ${input:ID}; SOURCE is not a config file",
        ));
    }
    let client = connect(source, global).await?;
    let outcome = one(command, global, &client).await;
    let _ = client.close().await;
    outcome
}

pub(super) async fn one(command: Command, global: &Global, client: &Client) -> Result<u8> {
    match command {
        Command::Inspect { .. } => inspect(global, client).await,
        Command::Tools { .. } => {
            let tools = client.list_tools().await?;
            if global.json {
                output::json(&tools);
            } else {
                let rows = tools
                    .iter()
                    .map(|t| vec![t.name.clone(), output::first_line(t.description.as_deref())])
                    .collect::<Vec<_>>();
                output::table(&["TOOL", "DESCRIPTION"], &rows);
            }
            Ok(0)
        }
        Command::Call {
            tool,
            json_args,
            args,
            task,
            ..
        } => {
            // The schema says how to read `--arg` values: fetched (and
            // cached for the call) only when there are some.
            let tools = if args.is_empty() {
                Vec::new()
            } else {
                client.list_tools().await?
            };
            let schema = tools
                .iter()
                .find(|t| t.name == tool)
                .map(|t| &t.input_schema);
            let arguments = arguments::parse(json_args.as_deref(), &args, ArgTypes::Tool(schema))?;
            if task {
                return super::task::call(global, client, &tool, Value::Object(arguments)).await;
            }
            let (options, bar) = super::progress::call_options(style::live(global), &tool);
            let out = client
                .call_tool_with(&tool, Value::Object(arguments), options)
                .await;
            if let Some(bar) = bar {
                bar.finish();
            }
            Ok(print_tool_output(global, &out?))
        }
        Command::Resources { .. } => {
            let resources = client.list_resources().await?;
            if global.json {
                output::json(&resources);
            } else {
                let rows = resources
                    .iter()
                    .map(|r| {
                        vec![
                            r.uri.clone(),
                            r.name.clone(),
                            r.mime_type.clone().unwrap_or_default(),
                        ]
                    })
                    .collect::<Vec<_>>();
                output::table(&["URI", "NAME", "MIME"], &rows);
            }
            Ok(0)
        }
        Command::Templates { .. } => {
            let templates = client.list_resource_templates().await?;
            if global.json {
                output::json(&templates);
            } else {
                let rows = templates
                    .iter()
                    .map(|t| {
                        vec![
                            t.uri_template.clone(),
                            t.name.clone(),
                            output::first_line(t.description.as_deref()),
                        ]
                    })
                    .collect::<Vec<_>>();
                output::table(&["URI TEMPLATE", "NAME", "DESCRIPTION"], &rows);
            }
            Ok(0)
        }
        Command::Read { uri, .. } => {
            let result = client.read_resource(&uri).await?;
            print_resource(global, &result);
            Ok(0)
        }
        Command::Prompts { .. } => {
            let prompts = client.list_prompts().await?;
            if global.json {
                output::json(&prompts);
            } else {
                let rows = prompts
                    .iter()
                    .map(|p| {
                        let args = p
                            .arguments
                            .iter()
                            .flatten()
                            .map(|a| {
                                if a.required == Some(true) {
                                    a.name.clone()
                                } else {
                                    format!("[{}]", a.name)
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(" ");
                        vec![
                            p.name.clone(),
                            args,
                            output::first_line(p.description.as_deref()),
                        ]
                    })
                    .collect::<Vec<_>>();
                output::table(&["PROMPT", "ARGUMENTS", "DESCRIPTION"], &rows);
            }
            Ok(0)
        }
        Command::Prompt {
            name,
            json_args,
            args,
            ..
        } => {
            let arguments = arguments::parse(json_args.as_deref(), &args, ArgTypes::Prompt)?;
            let result = client.get_prompt(&name, Value::Object(arguments)).await?;
            print_prompt(global, &result);
            Ok(0)
        }
        Command::Ping { .. } => {
            let start = std::time::Instant::now();
            client.ping().await?;
            let us = start.elapsed().as_micros();
            if global.json {
                output::json(&json!({"ok": true, "latency_us": us}));
            } else {
                outln!("ok ({:.2} ms)", us as f64 / 1000.0);
            }
            Ok(0)
        }
        Command::Bench { .. }
        | Command::Check { .. }
        | Command::Record { .. }
        | Command::Demo { .. }
        | Command::ServeEcho { .. }
        | Command::ServeTest { .. }
        | Command::Gateway { .. }
        | Command::Run { .. } => Ok(EXIT_USAGE),
        #[cfg(feature = "distributed")]
        Command::Dist(_) => Ok(EXIT_USAGE),
    }
}

/// Prints a read resource (`--json`: the MCP result object).
pub(super) fn print_resource(global: &Global, result: &crate::protocol::ReadResourceResult) {
    if global.json {
        output::json(result);
        return;
    }
    for c in &result.contents {
        match c {
            ResourceContents::Text(t) => outln!("{}", t.text),
            ResourceContents::Blob(b) => outln!(
                "<{} bytes of base64 {}>",
                b.blob.len(),
                b.mime_type.as_deref().unwrap_or("binary")
            ),
        }
    }
}

/// Prints a rendered prompt (`--json`: the MCP result object).
pub(super) fn print_prompt(global: &Global, result: &crate::protocol::GetPromptResult) {
    if global.json {
        output::json(result);
        return;
    }
    for m in &result.messages {
        let role = serde_json::to_value(m.role).unwrap_or(Value::Null);
        outln!("[{}]", role.as_str().unwrap_or("?"));
        print_content(std::slice::from_ref(&m.content));
    }
}

/// Prints a tool's result (`--json`: the MCP result object) and returns the
/// exit code: 1 when the tool answered `isError`.
pub(super) fn print_tool_output(global: &Global, out: &crate::ToolOutput) -> u8 {
    if global.json {
        output::json(&**out);
    } else {
        print_content(&out.content);
        if let Some(structured) = out.structured() {
            outln!(
                "structured: {}",
                serde_json::to_string_pretty(structured).unwrap_or_default()
            );
        }
    }
    if out.is_error() {
        if !global.json {
            style::report("error", Paint::Red, "the tool reported an error");
            if let Some(note) = super::hints::tool_error(&out.text()) {
                style::report("note", Paint::Dim, &note);
            }
        }
        EXIT_TOOL_ERROR
    } else {
        0
    }
}

fn print_content(content: &[ContentBlock]) {
    for block in content {
        match block {
            ContentBlock::Text(t) => outln!("{}", t.text),
            ContentBlock::Image(i) => {
                outln!("<image {} ({} base64 bytes)>", i.mime_type, i.data.len())
            }
            ContentBlock::Audio(a) => {
                outln!("<audio {} ({} base64 bytes)>", a.mime_type, a.data.len())
            }
            ContentBlock::ResourceLink(l) => outln!("<link {} {}>", l.name, l.uri),
            ContentBlock::Resource(r) => match &r.resource {
                ResourceContents::Text(t) => outln!("<resource {}>\n{}", t.uri, t.text),
                ResourceContents::Blob(b) => {
                    outln!("<resource {} ({} base64 bytes)>", b.uri, b.blob.len())
                }
            },
        }
    }
}

async fn inspect(global: &Global, client: &Client) -> Result<u8> {
    let caps = client.capabilities().unwrap_or_default();
    let tools = client.list_tools().await?;
    let resources = if caps.resources.is_some() {
        client.list_resources().await?
    } else {
        Vec::new()
    };
    let templates = if caps.resources.is_some() {
        client.list_resource_templates().await?
    } else {
        Vec::new()
    };
    let prompts = if caps.prompts.is_some() {
        client.list_prompts().await?
    } else {
        Vec::new()
    };
    let version = client.protocol_version().map(|v| v.as_str()).unwrap_or("?");
    if global.json {
        output::json(&json!({
            "serverInfo": client.server_info(),
            "protocolVersion": version,
            "capabilities": caps,
            "instructions": client.instructions(),
            "tools": tools,
            "resources": resources,
            "resourceTemplates": templates,
            "prompts": prompts,
        }));
        return Ok(0);
    }
    if let Some(info) = client.server_info() {
        outln!("server:    {} {}", info.name, info.version);
    }
    outln!("protocol:  {version}");
    outln!(
        "capabilities: {}",
        serde_json::to_string(&caps).unwrap_or_default()
    );
    if let Some(i) = client.instructions() {
        outln!("instructions: {}", output::first_line(Some(&i)));
    }
    output::section(
        "tools",
        tools
            .iter()
            .map(|t| output::described(&t.name, t.description.as_deref())),
    );
    output::section(
        "resources",
        resources
            .iter()
            .map(|r| vec![r.uri.clone(), r.name.clone()]),
    );
    output::section(
        "resource templates",
        templates
            .iter()
            .map(|t| vec![t.uri_template.clone(), t.name.clone()]),
    );
    output::section(
        "prompts",
        prompts
            .iter()
            .map(|p| output::described(&p.name, p.description.as_deref())),
    );
    Ok(0)
}
