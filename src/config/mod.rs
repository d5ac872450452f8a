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
//! `restart`, `replay`, `health_check_secs`, `inherit_env`,
//! `max_message_size`.
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
//! - `replay`: `"never"`, `"safe"` (the default) or `"always"`, with
//!   `replay_allow` and `replay_deny` globs (or one table `{ "mode",
//!   "allow", "deny" }`): which tool calls cut by a restart are sent again,
//!   once (see [`ReplayConfig`] and [`crate::ReplayPolicy`]);
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
mod inputs;
mod load;
mod options;
mod order;
mod overrides;
mod parse;
#[cfg(feature = "agent")]
pub(crate) use parse::root_uri;
mod prompt;
mod replay;
mod server;
pub(crate) mod toml_depth;
mod unresolved;
mod vars;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use crate::client::glob::glob_match;
pub use env_file::EnvFileError;
pub use inputs::{env_var as input_env_var, InputSpec, INPUT_ENV_PREFIX};
pub use options::{LoadOptions, Prompt};
pub use prompt::{restore_terminal, terminal_prompt};
pub use replay::ReplayConfig;
pub use server::{
    AuthConfig, RemoteServer, RemoteTransport, RestartConfig, ServerConfig, ServerDefaults,
    ServerKind, StdioServer, ToolFilter,
};
pub use unresolved::{Unresolved, UnresolvedServer};

use crate::{ConfigError, Error, Result};
pub(crate) use load::{load, Origin};

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
    /// Every server's name (loaded, unresolved, disabled) in the order the
    /// file lists them.
    pub order: Vec<String>,
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
            Error::Config(
                ConfigError::new("unknown config format; expected a .json or .toml file")
                    .in_file(&*origin),
            )
        })?;
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(ConfigError::new(format!("cannot read: {e}")).in_file(&*origin))
        })?;
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
    #[cfg(feature = "agent")]
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

    /// Every server's name, loaded, unresolved and disabled ones alike, in
    /// file order ([`FleetConfig::order`]; servers added in code after it
    /// come last, removed ones are left out).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let present = |name: &str| {
            self.servers.iter().any(|s| s.name == name)
                || self.unresolved.iter().any(|s| s.name == name)
        };
        let listed = |name: &str| self.order.iter().any(|n| n == name);
        let in_order = self.order.iter().map(String::as_str);
        let added = self
            .servers
            .iter()
            .map(|s| s.name.as_str())
            .chain(self.unresolved.iter().map(|s| s.name.as_str()))
            .filter(move |n| !listed(n));
        in_order.filter(move |n| present(n)).chain(added)
    }
}

/// This process's environment, skipping what is not Unicode.
fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}
