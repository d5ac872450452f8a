//! The CLI over an `mcpServers` config file: a fleet. Tool and prompt names
//! are prefixed with the server's name; `--server NAME` narrows to one
//! server and then every single-server command works as usual.

mod inspect;
mod open;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::args::{Command, Global};
use super::arguments::{self, ArgTypes};
use super::commands::{one, print_prompt, print_resource, print_tool_output};
use super::output;
use super::shutdown::outln;
use crate::{Error, Result};

pub(super) use open::{build_with, open, Opened};

pub(super) async fn run(command: Command, global: &Global, path: &Path) -> Result<u8> {
    // Fail before any server starts when the command cannot work on a
    // whole file.
    if global.server.is_none() {
        if let Command::Templates { .. } = command {
            return Err(needs_one_server());
        }
    }
    // A prompt's prefixed name says which server to start.
    let named = match (&global.server, &command) {
        (None, Command::Prompt { name, .. }) => Some(name.as_str()),
        _ => None,
    };
    let opened = open(global, path, named).await?;
    let fleet = &opened.fleet;
    let outcome = match &global.server {
        Some(name) => match fleet.client(name).await {
            Ok(client) => one(command, global, &client).await,
            Err(e) => Err(e),
        },
        None => merged(command, global, &opened).await,
    };
    // Bounded: a stuck server must not keep the command from exiting.
    let _ = tokio::time::timeout(Duration::from_secs(10), fleet.close()).await;
    outcome
}

fn needs_one_server() -> Error {
    Error::invalid_argument("this command needs one server of the config: add --server NAME")
}

async fn merged(command: Command, global: &Global, opened: &Opened) -> Result<u8> {
    let fleet = &opened.fleet;
    match command {
        Command::Inspect { .. } => inspect::inspect(global, opened).await,
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
            task,
            ..
        } => {
            let tools = if args.is_empty() && !task {
                Vec::new()
            } else {
                fleet.list_tools().await
            };
            let schema = tools
                .iter()
                .find(|t| t.name == tool)
                .map(|t| &t.input_schema);
            let arguments = arguments::parse(json_args.as_deref(), &args, ArgTypes::Tool(schema))?;
            if task {
                // The task is the server's: followed on its own client.
                let Some((server, own)) = fleet.resolve_tool(&tool) else {
                    return Err(Error::not_found(crate::NotFoundKind::Tool, tool, None));
                };
                let client = fleet.client(&server).await?;
                return super::task::call(global, &client, &own, Value::Object(arguments)).await;
            }
            let (options, bar) = super::progress::call_options(super::style::live(global), &tool);
            let out = fleet
                .call_tool_with(&tool, Value::Object(arguments), options)
                .await;
            if let Some(bar) = bar {
                bar.finish();
            }
            Ok(print_tool_output(global, &out?))
        }
        Command::Prompt {
            name,
            json_args,
            args,
            ..
        } => {
            // The prefixed name `prompts FILE` printed: from the one
            // server it names when that server lists it, else the fleet.
            let arguments = Value::Object(arguments::parse(
                json_args.as_deref(),
                &args,
                ArgTypes::Prompt,
            )?);
            let listed = async |c: &crate::Client| {
                Ok(c.list_prompts()
                    .await?
                    .into_iter()
                    .map(|p| p.name)
                    .collect())
            };
            let result = match opened.owner_of(&name, listed).await {
                Some((client, own)) => client.get_prompt(&own, arguments).await?,
                None => fleet.get_prompt(&name, arguments).await?,
            };
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
        _ => Err(needs_one_server()),
    }
}
