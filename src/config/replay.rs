//! A server's `replay` setting: which tool calls cut by a restart are sent
//! again (see [`ReplayPolicy`]).
//!
//! ```toml
//! [mcpServers.db]
//! command = "db-mcp"
//! replay = "safe"                  # "never" | "safe" (the default) | "always"
//! replay_allow = ["lookup_*"]      # replayed under "safe" whatever the annotations say
//! replay_deny = ["*_payment"]      # never replayed
//! ```
//!
//! or as one table: `replay = { mode = "safe", allow = [...], deny = [...] }`;
//! `replay = false` is `"never"`, `true` is `"safe"`.

use serde_json::Value;

use super::fields::{describe, Ctx, Fields, Split};
use crate::client::{Replay, ReplayPolicy};
use crate::Error;

/// The `replay` fields of a server entry or of `defaults`, as written:
/// a mode left `None` is not configured.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ReplayConfig {
    /// `replay` (or `replay.mode`).
    pub mode: Option<Replay>,
    /// `replay_allow` (or `replay.allow`): globs of tool names.
    pub allow: Vec<String>,
    /// `replay_deny` (or `replay.deny`): globs of tool names.
    pub deny: Vec<String>,
}

impl ReplayConfig {
    /// The policy of a server with these fields over `defaults`: its mode,
    /// else the default's, else [`Replay::Safe`]; its `deny` added to the
    /// default `deny`; its non-empty `allow` replacing the default `allow`
    /// (as for the `tools` filter).
    pub fn resolve(&self, defaults: &ReplayConfig) -> ReplayPolicy {
        let allow = if self.allow.is_empty() {
            &defaults.allow
        } else {
            &self.allow
        };
        ReplayPolicy::new(self.mode.or(defaults.mode).unwrap_or_default())
            .allow(allow.iter().cloned())
            .deny(defaults.deny.iter().chain(&self.deny).cloned())
    }
}

/// Takes `replay`, `replay_allow` and `replay_deny` out of `f`.
pub(crate) fn read(ctx: &Ctx<'_>, f: &mut Fields) -> Result<ReplayConfig, Error> {
    let mut config = ReplayConfig::default();
    match f.take("replay") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(on)) => {
            config.mode = Some(if on { Replay::Safe } else { Replay::Never });
        }
        Some(Value::Object(m)) => {
            let (mut t, _) = Fields::new(m);
            if let Some(v) = t.take("mode") {
                config.mode = Some(mode(ctx, "replay.mode", &v)?);
            }
            if let Some(v) = t.take("allow") {
                config.allow = ctx.list("replay.allow", &v, Split::Comma)?;
            }
            if let Some(v) = t.take("deny") {
                config.deny = ctx.list("replay.deny", &v, Split::Comma)?;
            }
            for key in t.rest().keys() {
                tracing::warn!(
                    origin = ctx.origin,
                    server = ctx.server,
                    key = key.as_str(),
                    "unknown field in \"replay\" (it takes \"mode\", \"allow\" and \"deny\"); ignored"
                );
            }
        }
        Some(v) => config.mode = Some(mode(ctx, "replay", &v)?),
    }
    if let Some(v) = f.take("replay_allow") {
        config
            .allow
            .extend(ctx.list("replay_allow", &v, Split::Comma)?);
    }
    if let Some(v) = f.take("replay_deny") {
        config
            .deny
            .extend(ctx.list("replay_deny", &v, Split::Comma)?);
    }
    Ok(config)
}

fn mode(ctx: &Ctx<'_>, field: &str, v: &Value) -> Result<Replay, Error> {
    match v {
        // A string also from an environment override, so `false`/`true` too.
        Value::String(_) => match ctx.text(field, v, false)?.trim() {
            "false" => Ok(Replay::Never),
            "true" => Ok(Replay::Safe),
            text => text.parse::<Replay>().map_err(|e| ctx.error(field, e)),
        },
        other => Err(ctx.error(
            field,
            format!(
                "expected \"never\", \"safe\" or \"always\", got {}",
                describe(other, false)
            ),
        )),
    }
}
