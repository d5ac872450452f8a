//! `mcpServers` config files: the JSON that Claude Desktop, Cursor and
//! fastmcp already use, read as-is, and the same shape in TOML.
//!
//! ```json
//! {
//!   "mcpServers": {
//!     "github": {
//!       "command": "npx",
//!       "args": ["-y", "@modelcontextprotocol/server-github"],
//!       "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_TOKEN}" },
//!       "tools": { "allow": ["search_*", "get_*"], "deny": ["*delete*"] },
//!       "timeout": 30
//!     },
//!     "docs": {
//!       "url": "https://docs.example.com/mcp",
//!       "headers": { "X-Team": "core" },
//!       "auth": "${DOCS_TOKEN}",
//!       "lazy": true
//!     }
//!   },
//!   "defaults": { "connect_timeout": 20, "restart": { "max_restarts": 3 } }
//! }
//! ```
//!
//! ```no_run
//! # fn main() -> switchboard::Result<()> {
//! let fleet = switchboard::config::FleetConfig::from_path("mcp.json")?;
//! for server in fleet.enabled() {
//!     println!("{} -> {:?}", server.name, server.to_source()?);
//! }
//! # Ok(()) }
//! ```
//!
//! # The file
//!
//! The servers live under `mcpServers` (Claude Desktop, Cursor, fastmcp),
//! or `servers` (VS Code's `mcp.json`), or `mcp_servers` (Codex's TOML); a
//! file with more than one of these is an error. Other top-level keys are
//! ignored, so a whole Claude Desktop config can be read. Servers keep the
//! order they are written in. `defaults` (a Switchboard extension) holds
//! values every server gets unless it sets its own: `lazy`, `timeout`,
//! `max_request_time`, `connect_timeout`, `protocol`, `roots`, `tools`,
//! `restart`, `health_check_secs`, `inherit_env`, `max_message_size`.
//!
//! # A server
//!
//! Either a program to run:
//! - `command` (required), `args` (a list, or one string split as a shell
//!   would), `env` (a table), `cwd` (relative to the file's directory),
//!   `inherit_env` (pass the whole environment, not just the allowlist);
//!
//! or a remote server:
//! - `url` (also `serverUrl`, and `httpUrl` which implies Streamable HTTP),
//!   `headers` (a table), `transport` or `type` (`"http"`,
//!   `"streamable-http"`, `"sse"`; `"stdio"` is accepted on a `command`
//!   server), `auth` (a bearer token string, `"oauth"`, or
//!   `{"type": "bearer", "token": ...}` / `{"type": "oauth", ...}`).
//!
//! A server with both `command` and a URL, or neither, is an error.
//!
//! Switchboard extensions, all optional:
//! - `disabled` (or `enabled: false`): listed, never started
//!   ([`FleetConfig::enabled`] skips it);
//! - `lazy`: start on first use;
//! - `timeout`, `max_request_time`, `connect_timeout`, `health_check_secs`:
//!   seconds, as a number or a string (`"30"`, `"500ms"`, `"2m"`);
//! - `protocol`: `"auto"` or a revision such as `"2025-06-18"`;
//! - `roots`: URIs (a plain path becomes a `file://` URI);
//! - `tools`: `{ "allow": [globs], "deny": [globs] }` with `*` and `?`;
//!   deny wins, an empty allow list allows all. The aliases
//!   `allowedTools`, `includeTools`, `enabledTools` (allow) and
//!   `disabledTools`, `excludeTools` (deny), seen in other clients' files,
//!   add to these lists;
//! - `restart`: `{ max_restarts, window_secs, backoff_initial_ms,
//!   backoff_max_ms, breaker_threshold, breaker_cooldown_secs }`, or
//!   `false` for never;
//! - `max_message_size`: bytes.
//!
//! Field names match with case, `_` and `-` ignored (`maxRequestTime` is
//! `max_request_time`). Unknown fields are kept in [`ServerConfig::extra`]
//! and logged (by name only): the file is shared with other tools, so they
//! never fail a load.
//!
//! # `${VAR}`
//!
//! Every string the server entry is read from (command, args, env values,
//! url, headers, auth, cwd, roots, and numbers or flags written as strings)
//! expands `${VAR}` from the environment, `${VAR:-default}` with a literal
//! fallback when `VAR` is unset or empty, and `${env:VAR}` like `${VAR}`.
//! `$$` is a literal `$`; any other `$` is kept. An unset variable without a
//! default is an error naming the file, the server and the field.
//!
//! # Environment overrides
//!
//! - `SWITCHBOARD__SERVERS__<NAME>__<FIELD>=value` sets a field of the
//!   server `<NAME>`, e.g. `SWITCHBOARD__SERVERS__GITHUB__TIMEOUT=90`;
//! - `SWITCHBOARD__SERVERS__<NAME>__<FIELD>__<KEY>=value` sets one key of a
//!   table field: `ENV__<VAR>` (the variable name keeps its case),
//!   `HEADERS__<Header>`, `RESTART__MAX_RESTARTS`, `TOOLS__DENY`, ...;
//! - `SWITCHBOARD__DEFAULTS__<FIELD>[__<KEY>]=value` sets a default (read
//!   through the `config` crate's environment source).
//!
//! `<NAME>` matches a server's name ignoring case, with `-`, `.` and spaces
//! written as `_` (`brave-search` is `BRAVE_SEARCH`); a name that could mean
//! two servers is an error, a name that means none is logged and ignored.
//! Overrides never add a server. Values are strings, read like strings in
//! the file: numbers and flags parse, lists take a JSON array
//! (`'["-y","pkg"]'`) or a shell-split string (`args`) or a comma-separated
//! one (`roots`, globs). Errors in an overridden field name the variable.
//!
//! # Secrets
//!
//! Values of `env`, `headers` and `auth`, and URLs (which may carry a key),
//! are never logged, never in error messages, and redacted from `Debug`.

mod expand;
mod fields;
mod glob;
mod order;
mod overrides;
mod parse;
pub(crate) use parse::root_uri;
mod server;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

pub use glob::glob_match;
pub use server::{
    AuthConfig, RemoteServer, RemoteTransport, RestartConfig, ServerConfig, ServerDefaults,
    ServerKind, StdioServer, ToolFilter,
};

use crate::{Error, Result};
use fields::Ctx;

/// The top-level keys that hold the servers, in the order they are tried.
const SERVER_TABLES: &[&str] = &["mcpServers", "servers", "mcp_servers"];

/// A config file's syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// JSON (`.json`).
    Json,
    /// TOML (`.toml`).
    Toml,
}

impl Format {
    /// The format a path's extension names, if any (`.json`, `.toml`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }
}

/// Every server of an `mcpServers` file, in file order.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FleetConfig {
    /// Where it was read from (the path as given, or `<json>`/`<toml>`).
    pub origin: String,
    /// The servers, in the order the file lists them, disabled ones too.
    pub servers: Vec<ServerConfig>,
    /// The file's `defaults` table (already applied to every server).
    pub defaults: ServerDefaults,
    /// The top-level `sampling` table, as written: how every server's
    /// sampling requests are answered (see [`crate::sampling`]).
    pub sampling: Option<Value>,
    /// The top-level `elicitation` table, as written: the rules that
    /// answer every server's elicitation requests (see [`crate::policy`]).
    pub elicitation: Option<Value>,
}

impl FleetConfig {
    /// Reads a `.json` or `.toml` file, expanding `${VAR}` and applying
    /// `SWITCHBOARD__...` overrides from this process's environment.
    pub fn from_path(path: impl AsRef<Path>) -> Result<FleetConfig> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let format = Format::from_path(path).ok_or_else(|| {
            Error::Config(format!(
                "{origin}: unknown config format; expected a .json or .toml file"
            ))
        })?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("{origin}: cannot read: {e}")))?;
        load(&text, format, &origin, &process_env(), path.parent())
    }

    /// Reads JSON text, with this process's environment.
    pub fn from_json_str(text: &str) -> Result<FleetConfig> {
        load(text, Format::Json, "<json>", &process_env(), None)
    }

    /// Reads TOML text, with this process's environment.
    pub fn from_toml_str(text: &str) -> Result<FleetConfig> {
        load(text, Format::Toml, "<toml>", &process_env(), None)
    }

    /// Reads text with an explicit environment (for `${VAR}` and overrides)
    /// and the name errors should use for it. Relative paths stay relative.
    pub fn parse_with_env(
        text: &str,
        format: Format,
        origin: &str,
        env: &HashMap<String, String>,
    ) -> Result<FleetConfig> {
        load(text, format, origin, env, None)
    }

    /// Reads an agent file's servers (its `servers` table, `defaults`,
    /// `sampling` and `elicitation`), with this process's environment.
    pub(crate) fn parse_agent_file(
        text: &str,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<FleetConfig> {
        load(text, Format::Toml, origin, &process_env(), base_dir)
    }

    /// The server called `name`, disabled or not.
    pub fn server(&self, name: &str) -> Option<&ServerConfig> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// The servers that are not `disabled`, in file order.
    pub fn enabled(&self) -> impl Iterator<Item = &ServerConfig> {
        self.servers.iter().filter(|s| !s.disabled)
    }

    /// Every server's name, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.servers.iter().map(|s| s.name.as_str())
    }
}

/// This process's environment, skipping what is not Unicode.
fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

fn load(
    text: &str,
    format: Format,
    origin: &str,
    env: &HashMap<String, String>,
    base_dir: Option<&Path>,
) -> Result<FleetConfig> {
    if text.trim().is_empty() {
        return Err(Error::Config(format!(
            "{origin}: the file is empty; expected a \"mcpServers\" table"
        )));
    }
    let tree = read_tree(text, format, origin, env)?;
    let Value::Object(mut top) = tree else {
        return Err(Error::Config(format!(
            "{origin}: expected a table at the top level"
        )));
    };

    let present: Vec<&str> = SERVER_TABLES
        .iter()
        .copied()
        .filter(|k| top.contains_key(*k))
        .collect();
    let table_key = match present.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::Config(format!(
                "{origin}: no servers: expected a \"mcpServers\" table (or \"servers\")"
            )))
        }
        several => {
            return Err(Error::Config(format!(
                "{origin}: both {} are present; keep one",
                several
                    .iter()
                    .map(|k| format!("{k:?}"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )))
        }
    };
    let mut servers = match top.remove(table_key) {
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(Error::Config(format!(
                "{origin}: \"{table_key}\" must be a table of servers, got {}",
                fields::describe(&other, false)
            )))
        }
        None => serde_json::Map::new(),
    };
    if servers.is_empty() {
        return Err(Error::Config(format!(
            "{origin}: \"{table_key}\" is empty: no servers configured"
        )));
    }

    let no_overrides = BTreeMap::new();
    let defaults_ctx = Ctx {
        origin,
        server: None,
        vars: env,
        from_env: &no_overrides,
    };
    let defaults = parse::defaults(
        &defaults_ctx,
        top.remove("defaults").unwrap_or(Value::Null),
        base_dir,
    )?;
    let sampling = top.remove("sampling");
    let elicitation = top.remove("elicitation");
    for key in top.keys() {
        tracing::debug!(origin, key = key.as_str(), "top-level key ignored");
    }

    let set_by = overrides::apply(origin, &mut servers, env)?;

    let mut order = order::server_order(text, format, table_key);
    order.retain(|name| servers.contains_key(name));
    let mut rest: Vec<String> = servers
        .keys()
        .filter(|k| !order.contains(k))
        .cloned()
        .collect();
    rest.sort();
    order.extend(rest);

    let mut parsed = Vec::with_capacity(order.len());
    for name in order {
        let Some(value) = servers.remove(&name) else {
            continue;
        };
        let ctx = Ctx {
            origin,
            server: Some(&name),
            vars: env,
            from_env: set_by.get(&name).unwrap_or(&no_overrides),
        };
        parsed.push(parse::server(&ctx, &name, value, &defaults, base_dir)?);
    }
    Ok(FleetConfig {
        origin: origin.to_owned(),
        servers: parsed,
        defaults,
        sampling,
        elicitation,
    })
}

/// The file through the `config` crate, layered with the
/// `SWITCHBOARD__DEFAULTS__...` variables, as a JSON tree.
fn read_tree(
    text: &str,
    format: Format,
    origin: &str,
    env: &HashMap<String, String>,
) -> Result<Value> {
    let file_format = match format {
        Format::Json => config::FileFormat::Json,
        Format::Toml => config::FileFormat::Toml,
    };
    let defaults_env: config::Map<String, String> = env
        .iter()
        .filter(|(k, _)| {
            overrides::strip_prefix_ci(k, overrides::PREFIX)
                .and_then(|r| overrides::strip_prefix_ci(r, overrides::DEFAULTS))
                .is_some_and(|r| !r.is_empty())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let built = config::Config::builder()
        .add_source(config::File::from_str(text, file_format))
        .add_source(
            config::Environment::with_prefix("SWITCHBOARD")
                .prefix_separator("__")
                .separator("__")
                .source(Some(defaults_env)),
        )
        .build()
        .map_err(|e| Error::Config(format!("{origin}: {e}")))?;
    built
        .try_deserialize::<Value>()
        .map_err(|e| Error::Config(format!("{origin}: {e}")))
}
