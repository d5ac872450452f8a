//! A config file's fleet for a command: loaded with the command line's
//! settings over the file's, its servers started in parallel (one line
//! each on a terminal), or only the one a prefixed name names.

use std::path::Path;
use std::time::Duration;

use crate::cli::args::Global;
use crate::cli::modes::{ElicitationMode, SamplingMode};
use crate::config::{FleetConfig, LoadOptions};
use crate::{Error, Fleet, Result, VersionChoice};

/// A config file's fleet, opened for a command, with the file's servers
/// in the order it lists them.
pub(in crate::cli) struct Opened {
    pub(in crate::cli) fleet: Fleet,
    /// Every server of the file, in file order, and whether it is disabled.
    pub(super) servers: Vec<(String, bool)>,
    /// The one server whose prefix the name given to [`open`] has, if
    /// exactly one has it: only that one was started.
    owner: Option<String>,
}

impl Opened {
    /// The owner's client and the name without its prefix, when the
    /// owner lists a tool (or prompt) by that name; else `None`, and the
    /// caller asks the whole fleet.
    pub(in crate::cli) async fn owner_of(
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
pub(in crate::cli) async fn open(
    global: &Global,
    path: &Path,
    named: Option<&str>,
) -> Result<Opened> {
    crate::cli::source::existing_file(
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
    let fleet = with_handlers(global, config, |b| b).await?;
    crate::cli::connect_lines::start(&fleet, &eager, crate::cli::style::live(global)).await;
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
/// settings over the file's (and only `--server`'s entry, when given),
/// the builder finished by `finish` (a gateway's relay).
pub(in crate::cli) async fn build_with(
    global: &Global,
    path: &Path,
    finish: impl FnOnce(crate::FleetBuilder) -> crate::FleetBuilder,
) -> Result<Fleet> {
    crate::cli::source::existing_file(path, "config file")?;
    let mut config = FleetConfig::load(path, &load_options(global)?)?;
    command_line_wins(&mut config, global)?;
    with_handlers(global, config, finish).await
}

async fn with_handlers(
    global: &Global,
    config: FleetConfig,
    finish: impl FnOnce(crate::FleetBuilder) -> crate::FleetBuilder,
) -> Result<Fleet> {
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
    crate::cli::child_env::apply_to_fleet(config, global)?;
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
