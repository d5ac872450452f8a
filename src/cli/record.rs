//! `switchboard record SOURCE --out FILE -- COMMAND ARGS...`: runs one
//! command against SOURCE (as `switchboard COMMAND SOURCE ARGS...` would)
//! over a recorded connection ([`crate::transport::Source::record`]), so
//! `switchboard COMMAND replay://FILE ARGS...` later prints the same with
//! the server gone.

use std::path::Path;

use clap::Parser;

use super::args::{Cli, Global};
use crate::{Error, Result};

/// The commands `record` runs: those of one server's client.
const RECORDED: [&str; 9] = [
    "inspect",
    "tools",
    "call",
    "resources",
    "templates",
    "read",
    "prompts",
    "prompt",
    "ping",
];

/// Runs `command` against `source`, recording to `out`.
pub(super) async fn run(
    global: &Global,
    source: &str,
    out: &Path,
    command: &[String],
) -> Result<u8> {
    if crate::client::is_config_path(source) {
        return Err(Error::invalid_argument(
            "record takes one server (a command line, a script or a URL), not a config file",
        ));
    }
    // SOURCE goes after the command's name (the first word naming one
    // of the commands recorded; flags may come before it).
    let at = command
        .iter()
        .position(|w| RECORDED.contains(&w.as_str()))
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "record needs one of {} after --, e.g. -- call add '{{\"a\":1}}'",
                RECORDED.join(", ")
            ))
        })?;
    let mut argv = vec!["switchboard".to_owned()];
    argv.extend(command[..=at].iter().cloned());
    argv.push(source.to_owned());
    argv.extend(command[at + 1..].iter().cloned());
    let inner = Cli::try_parse_from(argv).map_err(|e| {
        let said = e.to_string();
        let first = said
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ");
        Error::invalid_argument(format!("record -- {}: {first}", command.join(" ")))
    })?;
    let global = merged(global, &inner.global);
    super::shutdown::set_json_output(global.json);
    let client = super::builder(source, &global)?
        .record(out)
        .connect()
        .await?;
    let outcome = super::commands::one(inner.command, &global, &client).await;
    let _ = client.close().await;
    outcome
}

/// The flags given before `record`, with those given after `--` on top.
fn merged(outer: &Global, inner: &Global) -> Global {
    let mut global = outer.clone();
    global.json |= inner.json;
    global.timeout = inner.timeout.or(outer.timeout);
    if inner.protocol != "auto" {
        global.protocol = inner.protocol.clone();
    }
    global.roots.extend(inner.roots.iter().cloned());
    global.env.extend(inner.env.iter().cloned());
    global.inherit_env |= inner.inherit_env;
    global.sampling = inner.sampling.clone().or(outer.sampling.clone());
    global.elicitation = inner.elicitation.clone().or(outer.elicitation.clone());
    global
}
