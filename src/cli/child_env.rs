//! What environment the CLI's stdio servers get: the allowlist
//! ([`INHERITED_ENV`](crate::transport::stdio::INHERITED_ENV)) by default, plus `--env KEY=VALUE` and `--env KEY`
//! (passed through from ours), or everything with `--inherit-env`. When a
//! server fails to start or closes early, the variables it did not get are
//! named, so a missing token is a one-line fix instead of a mystery.

use crate::config::{FleetConfig, ServerKind};
use crate::transport::stdio::is_inherited;
use crate::{Error, Result, Source};

use super::args::Global;

/// Most withheld names listed in the note.
const NAMES_SHOWN: usize = 12;

/// Shell and terminal bookkeeping nobody means to pass to a server.
const NOISE: &[&str] = &[
    "PWD",
    "OLDPWD",
    "SHLVL",
    "_",
    "LS_COLORS",
    "COLORTERM",
    "TERM_PROGRAM",
    "TERM_PROGRAM_VERSION",
    "HOSTNAME",
    "MAIL",
    "MOTD_SHOWN",
    "XDG_SESSION_ID",
    "XDG_RUNTIME_DIR",
    "DBUS_SESSION_BUS_ADDRESS",
    "SSH_TTY",
    "SSH_CONNECTION",
    "SSH_CLIENT",
    "WINDOWID",
    "DISPLAY",
];

/// The `--env` flags as (key, value) pairs; `--env KEY` takes our value.
pub(super) fn pairs(global: &Global) -> Result<Vec<(String, String)>> {
    global
        .env
        .iter()
        .map(|spec| match spec.split_once('=') {
            Some((key, value)) => Ok((checked_key(key, spec)?.to_owned(), value.to_owned())),
            None => {
                let key = checked_key(spec, spec)?;
                std::env::var(key)
                    .map(|v| (key.to_owned(), v))
                    .map_err(|_| {
                        Error::invalid_argument(format!(
                        "--env {key}: {key} is not set here (use --env {key}=VALUE to give a value)"
                    ))
                    })
            }
        })
        .collect()
}

fn checked_key<'a>(key: &'a str, spec: &str) -> Result<&'a str> {
    let valid = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(key)
    } else {
        Err(Error::invalid_argument(format!(
            "--env {spec:?}: expected KEY=VALUE or KEY, with KEY made of letters, digits and _"
        )))
    }
}

/// Applies `--env` and `--inherit-env` to one server's source: a stdio
/// server gets them; for any other server they are a usage error (they
/// would be silently ignored otherwise).
pub(super) fn apply(source: Source, global: &Global) -> Result<Source> {
    let pairs = pairs(global)?;
    if pairs.is_empty() && !global.inherit_env {
        return Ok(source);
    }
    match source {
        Source::Stdio(mut cfg) => {
            cfg.env.extend(pairs);
            cfg.inherit_env |= global.inherit_env;
            Ok(Source::Stdio(cfg))
        }
        _ => Err(Error::invalid_argument(
            "--env and --inherit-env set a stdio server's environment; SOURCE is not one",
        )),
    }
}

/// Applies `--env` and `--inherit-env` to every stdio server of a config
/// file; the command line's values win over the file's.
pub(super) fn apply_to_fleet(config: &mut FleetConfig, global: &Global) -> Result<()> {
    let pairs = pairs(global)?;
    for server in &mut config.servers {
        if let ServerKind::Stdio(stdio) = &mut server.kind {
            stdio
                .env
                .retain(|(k, _)| !pairs.iter().any(|(p, _)| p == k));
            stdio.env.extend(pairs.iter().cloned());
            stdio.inherit_env |= global.inherit_env;
        }
    }
    Ok(())
}

/// For a stdio server that failed to start or closed: the variables of
/// ours it did not get, and how to pass them. `None` when it got everything
/// or nothing was withheld.
pub(super) fn withheld_note(global: &Global) -> Option<String> {
    if global.inherit_env {
        return None;
    }
    let passed: Vec<String> = pairs(global)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut withheld: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| !is_inherited(k) && !NOISE.contains(&k.as_str()) && !passed.contains(k))
        .collect();
    if withheld.is_empty() {
        return None;
    }
    // Credentials first: they are what a server most often misses.
    withheld.sort_by_key(|k| (!looks_like_credential(k), k.clone()));
    let more = withheld.len().saturating_sub(NAMES_SHOWN);
    withheld.truncate(NAMES_SHOWN);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Some(format!(
        "the server got only the allowlisted environment; not passed: {}{more} \
         (pass one with --env NAME, or everything with --inherit-env)",
        withheld.join(", ")
    ))
}

fn looks_like_credential(name: &str) -> bool {
    const HINTS: &[&str] = &[
        "TOKEN",
        "KEY",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "AUTH",
        "CREDENTIAL",
        "_PAT",
    ];
    let upper = name.to_ascii_uppercase();
    HINTS.iter().any(|h| upper.contains(h))
}

/// True for the failures a missing variable can cause: the server would
/// not start, or closed on us.
pub(super) fn may_be_missing_env(e: &Error) -> bool {
    matches!(e, Error::Connect { .. } | Error::ConnectionClosed { .. })
}
