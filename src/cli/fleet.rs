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

/// A config file's fleet, opened for a command, with the file's servers
/// in the order it lists them.
pub(super) struct Opened {
    pub(super) fleet: Fleet,
    /// Every server of the file, in file order, and whether it is disabled.
    servers: Vec<(String, bool)>,
    /// The one server whose prefix the name given to [`open`] has, if
    /// exactly one has it: only that one was started.
    owner: Option<String>,
}

impl Opened {
    /// The owner's client and the name without its prefix, when the
    /// owner lists a tool (or prompt) by that name; else `None`, and the
    /// caller asks the whole fleet.
    pub(super) async fn owner_of(
        &self,
        prefixed: &str,
        lists: impl AsyncFnOnce(&crate::Client) -> Result<Vec<String>>,
    ) -> Option<(crate::Client, String)> {
        let owner = self.owner.as_deref()?;
        let own = prefixed.strip_prefix(owner)?.strip_prefix('_')?.to_owned();
        let client = self.fleet.client(owner).await.ok()?;
        let names = lists(&client).await.ok()?;
        names.contains(&own).then_some((client, own))
    }
}

/// Loads the file and starts its servers (those not `lazy`), in
/// parallel; given a prefixed tool or prompt name that only one server's
/// prefix fits, only that server. On a terminal each server gets a line
/// as it connects (or fails); piped or with `--json`, nothing is printed.
pub(super) async fn open(global: &Global, path: &Path, named: Option<&str>) -> Result<Opened> {
    super::source::existing_file(
        path,
        "SOURCE, read as a config file for its .json/.toml name",
    )?;
    let mut config = FleetConfig::load(path, &load_options(global)?)?;
    command_line_wins(&mut config, global)?;
    let owner = named.and_then(|named| owner(&config, named));
    let disabled = |name: &str| {
        config.servers.iter().any(|s| s.name == name && s.disabled)
            || config
                .unresolved
                .iter()
                .any(|s| s.name == name && s.disabled)
    };
    let servers: Vec<(String, bool)> = config
        .names()
        .map(|n| (n.to_owned(), disabled(n)))
        .collect();
    // The fleet starts nothing; the servers to start now are started
    // below, one line each.
    let mut eager = Vec::new();
    for server in config.servers.iter_mut().filter(|s| !s.disabled) {
        let wanted = match &owner {
            Some(owner) => *owner == server.name,
            None => global.server.as_ref().is_none_or(|n| *n == server.name),
        };
        if !server.lazy && wanted {
            eager.push(server.name.clone());
        }
        server.lazy = true;
    }
    eager.extend(
        config
            .unresolved
            .iter()
            .filter(|s| owner.is_none() && !s.disabled)
            .filter(|s| global.server.as_ref().is_none_or(|n| *n == s.name))
            .map(|s| s.name.clone()),
    );
    let fleet = with_handlers(global, config).await?;
    super::connect_lines::start(&fleet, &eager, super::style::live(global)).await;
    Ok(Opened {
        fleet,
        servers,
        owner,
    })
}

/// The one enabled server whose `NAME_` prefix `named` has, if exactly
/// one has it.
fn owner(config: &FleetConfig, named: &str) -> Option<String> {
    let mut fits = config.enabled().map(|s| s.name.as_str()).filter(|n| {
        named
            .strip_prefix(n)
            .is_some_and(|rest| rest.starts_with('_'))
    });
    let first = fits.next()?;
    fits.next().is_none().then(|| first.to_owned())
}

/// The fleet of the config file at `path`, with the command line's
/// settings over the file's (and only `--server`'s entry, when given).
pub(super) async fn build(global: &Global, path: &Path) -> Result<Fleet> {
    super::source::existing_file(path, "config file")?;
    let mut config = FleetConfig::load(path, &load_options(global)?)?;
    command_line_wins(&mut config, global)?;
    with_handlers(global, config).await
}

async fn with_handlers(global: &Global, config: FleetConfig) -> Result<Fleet> {
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
    builder.build().await
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

async fn merged(command: Command, global: &Global, opened: &Opened) -> Result<u8> {
    let fleet = &opened.fleet;
    match command {
        Command::Inspect { .. } => inspect(global, opened).await,
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

/// `inspect FILE`: every server of the file in file order (disabled ones
/// as `disabled`), then the merged lists. Exits 3 when a server is down
/// or its breaker open, so it works as a health check.
async fn inspect(global: &Global, opened: &Opened) -> Result<u8> {
    let fleet = &opened.fleet;
    let tools = fleet.list_tools().await;
    let prompts = fleet.list_prompts().await;
    let resources = fleet.list_resources().await;
    let health = fleet.health();
    let failed = health
        .iter()
        .any(|h| matches!(h.state, ServerState::Down | ServerState::BreakerOpen));
    let code = if failed { super::EXIT_CONNECT } else { 0 };
    if global.json {
        let servers: Vec<Value> = opened
            .servers
            .iter()
            .map(|(name, disabled)| match health.iter().find(|h| &h.name == name) {
                Some(h) => json!(h),
                None => json!({"name": name, "state": if *disabled { "disabled" } else { "not_started" }}),
            })
            .collect();
        let resources: Vec<Value> = resources
            .iter()
            .map(|(s, r)| json!({"server": s, "resource": r}))
            .collect();
        output::json(&json!({
            "servers": servers,
            "tools": tools,
            "prompts": prompts,
            "resources": resources,
        }));
        return Ok(code);
    }
    let rows: Vec<Vec<String>> = opened
        .servers
        .iter()
        .map(
            |(name, disabled)| match health.iter().find(|h| &h.name == name) {
                Some(h) => vec![
                    h.name.clone(),
                    h.state.to_string(),
                    h.restarts.to_string(),
                    // One row per server: the error's first line.
                    output::first_line(h.last_error.as_deref()),
                ],
                None => vec![
                    name.clone(),
                    if *disabled { "disabled" } else { "not_started" }.to_owned(),
                    "0".to_owned(),
                    String::new(),
                ],
            },
        )
        .collect();
    output::table(&["SERVER", "STATE", "RESTARTS", "LAST ERROR"], &rows);
    let described = |name: &str, description: Option<&str>| {
        vec![name.to_owned(), output::first_line(description)]
    };
    outln!("\n{} tools", tools.len());
    output::list(
        &tools
            .iter()
            .map(|t| described(&t.name, t.description.as_deref()))
            .collect::<Vec<_>>(),
    );
    outln!("\n{} prompts", prompts.len());
    output::list(
        &prompts
            .iter()
            .map(|p| described(&p.name, p.description.as_deref()))
            .collect::<Vec<_>>(),
    );
    outln!("\n{} resources", resources.len());
    output::list(
        &resources
            .iter()
            .map(|(server, r)| vec![r.uri.clone(), format!("{} ({server})", r.name)])
            .collect::<Vec<_>>(),
    );
    Ok(code)
}
