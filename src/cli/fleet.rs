//! The CLI over an `mcpServers` config file: a fleet. Tool and prompt names
//! are prefixed with the server's name; `--server NAME` narrows to one
//! server and then every single-server command works as usual.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::args::{Command, Global};
use super::arguments::{self, ArgTypes};
use super::commands::{one, print_prompt, print_resource, print_tool_output};
use super::modes::{ElicitationMode, SamplingMode};
use super::output;
use super::shutdown::outln;
use crate::config::{FleetConfig, LoadOptions};
use crate::fleet::ServerState;
use crate::{Error, Fleet, Result, VersionChoice};

pub(super) async fn run(command: Command, global: &Global, path: &Path) -> Result<u8> {
    let fleet = build(global, path).await?;
    let outcome = match &global.server {
        Some(name) => match fleet.client(name).await {
            Ok(client) => one(command, global, &client).await,
            Err(e) => Err(e),
        },
        None => merged(command, global, &fleet).await,
    };
    // Bounded: a stuck server must not keep the command from exiting.
    let _ = tokio::time::timeout(Duration::from_secs(10), fleet.close()).await;
    outcome
}

/// The fleet of the config file at `path`, with the command line's
/// settings over the file's (and only `--server`'s entry, when given).
pub(super) async fn build(global: &Global, path: &Path) -> Result<Fleet> {
    build_with(global, path, |b| b).await
}

/// [`build`], the builder finished by `finish` (a gateway's relay).
pub(super) async fn build_with(
    global: &Global,
    path: &Path,
    finish: impl FnOnce(crate::FleetBuilder) -> crate::FleetBuilder,
) -> Result<Fleet> {
    let mut config = FleetConfig::load(path, &load_options(global)?)?;
    command_line_wins(&mut config, global)?;
    let mut builder = match &global.server {
        Some(name) => Fleet::builder().config_server(config, name.clone()),
        None => Fleet::builder().config(config),
    };
    // The command line's answers win over the file's tables.
    if let Some(mode) = &global.sampling {
        builder = builder.sampling(SamplingMode::parse(mode)?.sampler()?);
    }
    if let Some(mode) = &global.elicitation {
        builder = builder.elicitation(ElicitationMode::parse(mode)?.policy()?);
    }
    if !global.roots.is_empty() {
        let roots = global
            .roots
            .iter()
            .map(|r| crate::protocol::Root::new(r.clone()));
        builder = builder.roots_handler(crate::ListedRoots::new(roots.collect()));
    }
    finish(builder).build().await
}

/// `--env`, `--inherit-env`, `--timeout` and `--protocol` given on the
/// command line apply to every server of the file, over its own settings.
fn command_line_wins(config: &mut FleetConfig, global: &Global) -> Result<()> {
    super::child_env::apply_to_fleet(config, global)?;
    let version: VersionChoice = global.protocol.parse()?;
    for server in &mut config.servers {
        if let Some(timeout) = global.timeout {
            server.timeout = Some(timeout);
            server.connect_timeout = Some(timeout.max(Duration::from_secs(1)));
        }
        if version != VersionChoice::Auto {
            server.protocol = version;
        }
    }
    Ok(())
}

/// `--input ID=VALUE` values, `--server`, and a prompt on the terminal
/// for inputs still missing.
fn load_options(global: &Global) -> Result<LoadOptions> {
    let mut options = LoadOptions::new().prompt(crate::config::terminal_prompt);
    for pair in &global.inputs {
        match pair.split_once('=') {
            Some((id, value)) if !id.trim().is_empty() => {
                options = options.input(id.trim(), value);
            }
            // Not echoed: the value may be a secret.
            _ => {
                return Err(Error::invalid_argument(
                    "--input expects ID=VALUE (an id, \"=\", then the value)",
                ))
            }
        }
    }
    if let Some(name) = &global.server {
        options = options.only(name.clone());
    }
    Ok(options)
}

async fn merged(command: Command, global: &Global, fleet: &Fleet) -> Result<u8> {
    match command {
        Command::Inspect { .. } => {
            let tools = fleet.list_tools().await;
            let prompts = fleet.list_prompts().await;
            let health = fleet.health();
            if global.json {
                output::json(&json!({"servers": health, "tools": tools, "prompts": prompts}));
            } else {
                let rows: Vec<Vec<String>> = health
                    .iter()
                    .map(|h| {
                        vec![
                            h.name.clone(),
                            h.state.to_string(),
                            h.restarts.to_string(),
                            // One row per server: the error's first line.
                            output::first_line(h.last_error.as_deref()),
                        ]
                    })
                    .collect();
                output::table(&["SERVER", "STATE", "RESTARTS", "LAST ERROR"], &rows);
                outln!(
                    "\n{} tools, {} prompts across {} servers",
                    tools.len(),
                    prompts.len(),
                    health.len()
                );
            }
            // A health check in a script: any server down is a failure.
            let failed = health
                .iter()
                .any(|h| matches!(h.state, ServerState::Down | ServerState::BreakerOpen));
            Ok(if failed { super::EXIT_CONNECT } else { 0 })
        }
        Command::Tools { .. } => {
            let tools = fleet.list_tools().await;
            if global.json {
                output::json(&tools);
            } else {
                let rows: Vec<Vec<String>> = tools
                    .iter()
                    .map(|t| vec![t.name.clone(), output::first_line(t.description.as_deref())])
                    .collect();
                output::table(&["TOOL", "DESCRIPTION"], &rows);
            }
            Ok(0)
        }
        Command::Prompts { .. } => {
            let prompts = fleet.list_prompts().await;
            if global.json {
                output::json(&prompts);
            } else {
                let rows: Vec<Vec<String>> = prompts
                    .iter()
                    .map(|p| vec![p.name.clone(), output::first_line(p.description.as_deref())])
                    .collect();
                output::table(&["PROMPT", "DESCRIPTION"], &rows);
            }
            Ok(0)
        }
        Command::Resources { .. } => {
            let resources = fleet.list_resources().await;
            if global.json {
                let list: Vec<Value> = resources
                    .iter()
                    .map(|(s, r)| json!({"server": s, "resource": r}))
                    .collect();
                output::json(&list);
            } else {
                let rows: Vec<Vec<String>> = resources
                    .iter()
                    .map(|(s, r)| vec![s.clone(), r.uri.clone(), r.name.clone()])
                    .collect();
                output::table(&["SERVER", "URI", "NAME"], &rows);
            }
            Ok(0)
        }
        Command::Call {
            tool,
            json_args,
            args,
            ..
        } => {
            let tools = if args.is_empty() {
                Vec::new()
            } else {
                fleet.list_tools().await
            };
            let schema = tools
                .iter()
                .find(|t| t.name == tool)
                .map(|t| &t.input_schema);
            let arguments = arguments::parse(json_args.as_deref(), &args, ArgTypes::Tool(schema))?;
            let out = fleet.call_tool(&tool, Value::Object(arguments)).await?;
            Ok(print_tool_output(global, &out))
        }
        Command::Prompt {
            name,
            json_args,
            args,
            ..
        } => {
            // The prefixed name `prompts FILE` printed.
            let arguments = arguments::parse(json_args.as_deref(), &args, ArgTypes::Prompt)?;
            let result = fleet.get_prompt(&name, Value::Object(arguments)).await?;
            print_prompt(global, &result);
            Ok(0)
        }
        Command::Read { uri, .. } => {
            // The server that lists the URI (`resources FILE` shows which).
            let listed = fleet.list_resources().await;
            let Some((server, _)) = listed.iter().find(|(_, r)| r.uri == uri) else {
                return Err(Error::not_found(
                    crate::error::NotFoundKind::Resource,
                    &uri,
                    Some("no server of the config lists it; name one with --server NAME".into()),
                ));
            };
            let result = fleet.read_resource(server, &uri).await?;
            print_resource(global, &result);
            Ok(0)
        }
        Command::Ping { .. } => {
            let mut down = 0;
            for name in fleet.server_names() {
                let ok = match fleet.client(&name).await {
                    Ok(c) => c.ping().await.is_ok(),
                    Err(_) => false,
                };
                down += usize::from(!ok);
                if !global.json {
                    outln!("{name}: {}", if ok { "ok" } else { "down" });
                }
            }
            if global.json {
                output::json(&fleet.health());
            }
            Ok(if down == 0 { 0 } else { super::EXIT_CONNECT })
        }
        _ => Err(Error::invalid_argument(
            "this command needs one server of the config: add --server NAME",
        )),
    }
}
