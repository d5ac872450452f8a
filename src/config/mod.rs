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
//! The servers live under `mcpServers` (Claude Desktop, Claude Code,
//! Cursor, Windsurf, Cline, fastmcp), or `servers` (VS Code's `mcp.json`),
//! or `mcp_servers` (Codex's TOML); a
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
//!   `inherit_env` (pass the whole environment, not just the allowlist),
//!   `envFile` (VS Code, Cursor: a dotenv file whose variables go under
//!   `env`, which wins; relative to the workspace folder; see
//!   [`EnvFileError`] for the syntax errors);
//!
//! or a remote server:
//! - `url` (also `serverUrl`, and `httpUrl` which implies Streamable HTTP),
//!   `headers` (a table), `transport`, `type` or Cline's `transportType`
//!   (`"http"`, `"streamable-http"`, `"streamableHttp"`, `"sse"`;
//!   `"stdio"` is accepted on a `command` server), `auth` (a bearer token
//!   string, `"oauth"`, or
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
//! url, headers, auth, cwd, envFile, roots, and numbers or flags written as
//! strings) expands `${VAR}` from the environment, `${VAR:-default}` with a
//! literal fallback when `VAR` is unset or empty, and `${env:VAR}` like
//! `${VAR}`. `$$` is a literal `$`; any other `$` is kept. VS Code's and
//! Cursor's placeholders work too:
//! - `${input:ID}`: one of the top-level `inputs` (VS Code: `{"type":
//!   "promptString", "id", "description", "password", "default"}`), valued
//!   by [`LoadOptions::input`] (`--input ID=VALUE`), else the environment
//!   variable [`input_env_var`] names (`SWITCHBOARD_INPUT_<ID>`), else
//!   [`LoadOptions::prompt`] (only for servers that will be started), else
//!   its `default`;
//! - `${workspaceFolder}`: the parent of the file's folder when that folder
//!   is `.vscode` or `.cursor`, else the file's own folder (absolute; see
//!   [`LoadOptions::workspace_folder`]); `${workspaceFolderBasename}`,
//!   `${userHome}`, `${pathSeparator}` and `${/}`.
//!
//! A placeholder without a value (or an unreadable `envFile`) fails only
//! the server that uses it: it is listed in [`FleetConfig::unresolved`] with
//! an error naming the file, the server, the field and how to give the
//! value (in syntax the file's owner reads too), and the other servers load.
//! A syntax error (`${` unclosed) is the file's.
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

mod dialect;
mod env_file;
mod expand;
mod fields;
mod glob;
mod inputs;
mod options;
mod order;
mod overrides;
mod parse;
pub(crate) use parse::root_uri;
mod prompt;
mod server;
mod unresolved;
mod vars;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use env_file::EnvFileError;
pub use glob::glob_match;
pub use inputs::{env_var as input_env_var, InputSpec, INPUT_ENV_PREFIX};
pub use options::{LoadOptions, Prompt};
pub use prompt::terminal_prompt;
pub use server::{
    AuthConfig, RemoteServer, RemoteTransport, RestartConfig, ServerConfig, ServerDefaults,
    ServerKind, StdioServer, ToolFilter,
};
pub use unresolved::{Unresolved, UnresolvedServer};

use crate::{Error, Result};
use dialect::Dialect;
use fields::Ctx;
use vars::Vars;

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
    /// The servers that could not be completed (a placeholder without a
    /// value, an unreadable `envFile`), in file order: each fails alone
    /// when started.
    pub unresolved: Vec<UnresolvedServer>,
    /// The file's `inputs` (VS Code), as declared.
    pub inputs: Vec<InputSpec>,
    /// What `${workspaceFolder}` was (see [`LoadOptions::workspace_folder`]).
    pub workspace_folder: Option<PathBuf>,
    /// The file's `defaults` table (already applied to every server).
    pub defaults: ServerDefaults,
    /// The top-level `sampling` table, as written: how every server's
    /// sampling requests are answered (see [`crate::sampling`]).
    pub sampling: Option<Value>,
    /// The top-level `elicitation` table, as written: the rules that
    /// answer every server's elicitation requests (see [`crate::policy`]).
    pub elicitation: Option<Value>,
}

/// Where a text came from.
struct Origin<'a> {
    /// For error messages.
    name: &'a str,
    /// The file, when read from one.
    path: Option<&'a Path>,
    /// Relative `cwd` and `roots` are resolved against this.
    base_dir: Option<&'a Path>,
}

impl FleetConfig {
    /// Reads a `.json` or `.toml` file, expanding `${VAR}` and applying
    /// `SWITCHBOARD__...` overrides from this process's environment, with
    /// the default [`LoadOptions`] (inputs from the environment only).
    pub fn from_path(path: impl AsRef<Path>) -> Result<FleetConfig> {
        FleetConfig::load(path, &LoadOptions::default())
    }

    /// Reads a `.json` or `.toml` file like [`FleetConfig::from_path`],
    /// with input values, the servers to be started and a prompt from
    /// `options`.
    pub fn load(path: impl AsRef<Path>, options: &LoadOptions) -> Result<FleetConfig> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let format = Format::from_path(path).ok_or_else(|| {
            Error::Config(format!(
                "{origin}: unknown config format; expected a .json or .toml file"
            ))
        })?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("{origin}: cannot read: {e}")))?;
        let from = Origin {
            name: &origin,
            path: Some(path),
            base_dir: path.parent(),
        };
        match &options.env {
            Some(env) => load(&text, format, &from, env, options),
            None => load(&text, format, &from, &process_env(), options),
        }
    }

    /// Reads JSON text, with this process's environment.
    pub fn from_json_str(text: &str) -> Result<FleetConfig> {
        FleetConfig::parse_with(
            text,
            Format::Json,
            "<json>",
            &process_env(),
            &LoadOptions::default(),
        )
    }

    /// Reads TOML text, with this process's environment.
    pub fn from_toml_str(text: &str) -> Result<FleetConfig> {
        FleetConfig::parse_with(
            text,
            Format::Toml,
            "<toml>",
            &process_env(),
            &LoadOptions::default(),
        )
    }

    /// Reads text with an explicit environment (for `${VAR}`, input
    /// variables and overrides) and the name errors should use for it.
    /// Relative paths stay relative.
    pub fn parse_with_env(
        text: &str,
        format: Format,
        origin: &str,
        env: &HashMap<String, String>,
    ) -> Result<FleetConfig> {
        FleetConfig::parse_with(text, format, origin, env, &LoadOptions::default())
    }

    /// [`FleetConfig::parse_with_env`] with [`LoadOptions`].
    pub fn parse_with(
        text: &str,
        format: Format,
        origin: &str,
        env: &HashMap<String, String>,
        options: &LoadOptions,
    ) -> Result<FleetConfig> {
        let from = Origin {
            name: origin,
            path: None,
            base_dir: None,
        };
        load(text, format, &from, env, options)
    }

    /// Reads an agent file's servers (its `servers` table, `defaults`,
    /// `sampling` and `elicitation`), with this process's environment.
    pub(crate) fn parse_agent_file(
        text: &str,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<FleetConfig> {
        let from = Origin {
            name: origin,
            path: None,
            base_dir,
        };
        load(
            text,
            Format::Toml,
            &from,
            &process_env(),
            &LoadOptions::default(),
        )
    }

    /// The server called `name`, disabled or not (not an unresolved one).
    pub fn server(&self, name: &str) -> Option<&ServerConfig> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// The unresolved server called `name`, if it is one.
    pub fn unresolved(&self, name: &str) -> Option<&UnresolvedServer> {
        self.unresolved.iter().find(|s| s.name == name)
    }

    /// The servers that are not `disabled`, in file order (unresolved ones
    /// are not among them).
    pub fn enabled(&self) -> impl Iterator<Item = &ServerConfig> {
        self.servers.iter().filter(|s| !s.disabled)
    }

    /// Every server's name: the loaded ones in file order, then the
    /// unresolved ones.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.servers
            .iter()
            .map(|s| s.name.as_str())
            .chain(self.unresolved.iter().map(|s| s.name.as_str()))
    }
}

/// This process's environment, skipping what is not Unicode.
fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// What `${workspaceFolder}` is for a file at `path`: the folder holding
/// `.vscode/` (or `.cursor/`) when the file is in one, else the file's own
/// folder; absolute.
fn workspace_folder(path: &Path) -> Option<PathBuf> {
    let path = std::path::absolute(path).ok()?;
    let dir = path.parent()?;
    match dir.file_name().and_then(|n| n.to_str()) {
        Some(".vscode" | ".cursor") => dir.parent().map(Path::to_path_buf),
        _ => Some(dir.to_path_buf()),
    }
}

fn load(
    text: &str,
    format: Format,
    from: &Origin<'_>,
    env: &HashMap<String, String>,
    options: &LoadOptions,
) -> Result<FleetConfig> {
    let origin = from.name;
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

    let dialect = Dialect::detect(from.path, format, table_key);
    let workspace = options
        .workspace_folder
        .clone()
        .or_else(|| from.path.and_then(workspace_folder));
    let specs = inputs::parse_specs(origin, top.remove("inputs"));
    let declared: Vec<String> = specs.iter().map(|s| s.id.clone()).collect();
    let mut resolver = inputs::Resolver::new(&specs, options, env);

    let no_overrides = BTreeMap::new();
    let no_inputs = BTreeMap::new();
    let defaults_vars = Vars {
        env,
        inputs: &no_inputs,
        workspace: workspace.as_deref(),
        declared: &declared,
    };
    let defaults_ctx = Ctx {
        origin,
        server: None,
        vars: &defaults_vars,
        from_env: &no_overrides,
        dialect,
        unresolved: RefCell::new(None),
    };
    let defaults = parse::defaults(
        &defaults_ctx,
        top.remove("defaults").unwrap_or(Value::Null),
        from.base_dir,
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
    let mut unresolved = Vec::new();
    for name in order {
        let Some(value) = servers.remove(&name) else {
            continue;
        };
        let disabled = raw_disabled(&value);
        let mut used = Vec::new();
        strings_in(&value, &mut |s| expand::inputs_in(s, &mut used));
        resolver.resolve(&used, !disabled && options.selects(&name));
        let vars = Vars {
            env,
            inputs: resolver.values(),
            workspace: workspace.as_deref(),
            declared: &declared,
        };
        let ctx = Ctx {
            origin,
            server: Some(&name),
            vars: &vars,
            from_env: set_by.get(&name).unwrap_or(&no_overrides),
            dialect,
            unresolved: RefCell::new(None),
        };
        match parse::server(&ctx, &name, value, &defaults, from.base_dir) {
            Ok(server) => parsed.push(server),
            Err(e) => match ctx.unresolved.take() {
                Some((field, reason)) => {
                    if options.selects(&name) && !disabled {
                        tracing::debug!(origin, server = name.as_str(), "unresolved: {e}");
                    }
                    unresolved.push(UnresolvedServer {
                        name,
                        field,
                        reason,
                        disabled,
                        message: match e {
                            Error::Config(m) => m,
                            other => other.to_string(),
                        },
                    });
                }
                None => return Err(e),
            },
        }
    }
    Ok(FleetConfig {
        origin: origin.to_owned(),
        servers: parsed,
        unresolved,
        inputs: specs,
        workspace_folder: workspace,
        defaults,
        sampling,
        elicitation,
    })
}

/// Every string in a value tree.
fn strings_in(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|i| strings_in(i, f)),
        Value::Object(m) => m.values().for_each(|i| strings_in(i, f)),
        _ => {}
    }
}

/// Whether an entry, as written, says `disabled: true` or `enabled: false`
/// (read before its placeholders are filled in: a disabled server is never
/// asked for).
fn raw_disabled(v: &Value) -> bool {
    let Value::Object(m) = v else {
        return false;
    };
    m.iter().any(|(k, v)| {
        let flag = match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Some(true),
                "false" | "no" | "off" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        };
        match fields::norm(k).as_str() {
            "disabled" => flag == Some(true),
            "enabled" => flag == Some(false),
            _ => false,
        }
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
