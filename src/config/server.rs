//! One server's configuration, as read from a file and resolved against the
//! file's `defaults`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::client::glob::glob_match;
use crate::protocol::{LoggingLevel, VersionChoice};
use crate::transport::{HttpConfig, HttpMode, Source, StdioConfig};
use crate::{Client, ClientBuilder, ConfigError, Error, ReplayPolicy, RestartPolicy, Result};

/// One entry of `mcpServers`, with the file's `defaults` already applied.
///
/// `Option` fields left `None` mean "not configured": the library default
/// applies (see [`ClientBuilder`]).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The server's key in `mcpServers`.
    pub name: String,
    /// How to reach it: a program to run or a URL.
    pub kind: ServerKind,
    /// `disabled: true` (or `enabled: false`): listed but never started.
    pub disabled: bool,
    /// `lazy: true`: start on first use instead of when the fleet starts.
    pub lazy: bool,
    /// `timeout` (seconds): idle deadline of each request; progress resets it.
    pub timeout: Option<Duration>,
    /// `max_request_time` (seconds): hard cap on each request.
    pub max_request_time: Option<Duration>,
    /// `connect_timeout` (seconds): deadline for starting and negotiating.
    pub connect_timeout: Option<Duration>,
    /// `protocol`: `"auto"` (the default) or an exact revision.
    pub protocol: VersionChoice,
    /// `roots`: URIs offered to the server (plain paths become `file://`).
    pub roots: Vec<String>,
    /// `tools`: which of the server's tools are exposed.
    pub tools: ToolFilter,
    /// `restart`: how the server is restarted when it dies.
    pub restart: RestartConfig,
    /// `replay`, `replay_allow`, `replay_deny`: which tool calls cut by a
    /// restart are sent again (default: read-only and idempotent tools;
    /// see [`ReplayConfig`](super::ReplayConfig)).
    pub replay: ReplayPolicy,
    /// `health_check_secs`: how often the server is probed; `Some(ZERO)`
    /// turns probes off.
    pub health_check: Option<Duration>,
    /// `max_message_size` (bytes): largest message accepted.
    pub max_message_size: Option<usize>,
    /// `log_level`: asked of the server at connect and after restarts
    /// (`debug`, `info`, `notice`, `warning`, `error`, `critical`,
    /// `alert`, `emergency`).
    pub log_level: Option<LoggingLevel>,
    /// Keys Switchboard does not know, kept as written (other tools share
    /// these files). Values are never logged or Debug-printed.
    pub extra: BTreeMap<String, Value>,
}

/// How a server is reached.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub enum ServerKind {
    /// A program speaking MCP on stdio (`command`).
    Stdio(StdioServer),
    /// A remote server (`url`).
    Remote(RemoteServer),
}

/// A server run as a child process.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct StdioServer {
    /// `command`: the program (looked up on `PATH`).
    pub command: String,
    /// `args`.
    pub args: Vec<String>,
    /// `env`: extra environment, sorted by name. Values may be secrets and
    /// are never logged or Debug-printed.
    pub env: Vec<(String, String)>,
    /// `cwd`: working directory (relative to the config file's directory
    /// when read from a file).
    pub cwd: Option<PathBuf>,
    /// `inherit_env`: pass the whole environment instead of the allowlist
    /// in [`crate::transport::stdio::INHERITED_ENV`].
    pub inherit_env: bool,
}

/// A server reached over the network.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct RemoteServer {
    /// `url` (also read from `serverUrl` and `httpUrl`).
    pub url: String,
    /// `headers` sent with every request, sorted by name. Values are never
    /// logged or Debug-printed.
    pub headers: Vec<(String, String)>,
    /// `transport` (or `type`): which HTTP flavour to speak.
    pub transport: RemoteTransport,
    /// `auth`: how to authenticate, if at all.
    pub auth: Option<AuthConfig>,
}

/// Which HTTP transport a remote server speaks.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub enum RemoteTransport {
    /// Not said: Streamable HTTP, falling back to legacy SSE (a URL path
    /// ending in `/sse` goes straight to SSE).
    #[default]
    Auto,
    /// `"http"` or `"streamable-http"`.
    StreamableHttp,
    /// `"sse"`: the legacy HTTP+SSE transport.
    Sse,
}

/// How to authenticate to a remote server.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum AuthConfig {
    /// `"auth": "TOKEN"` or `{"type": "bearer", "token": "TOKEN"}`: sent as
    /// `Authorization: Bearer TOKEN`.
    Bearer(String),
    /// `"auth": "oauth"` or `{"type": "oauth", ...}`: the OAuth flow, with
    /// the object's other keys kept as written.
    OAuth(BTreeMap<String, Value>),
}

/// Which tools of a server are exposed: `allow` globs (empty: all) minus
/// `deny` globs. Deny wins.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ToolFilter {
    /// Globs of tool names to expose; empty means every tool.
    pub allow: Vec<String>,
    /// Globs of tool names never to expose, even when allowed.
    pub deny: Vec<String>,
}

impl ToolFilter {
    /// Whether the tool `name` passes the filter (see [`glob_match`]).
    pub fn allows(&self, name: &str) -> bool {
        !self.deny.iter().any(|p| glob_match(p, name))
            && (self.allow.is_empty() || self.allow.iter().any(|p| glob_match(p, name)))
    }
}

/// The `restart` table: how a dead server is restarted. Fields left `None`
/// keep the supervisor's defaults.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct RestartConfig {
    /// `max_restarts`: restarts allowed within `window`; `0` never restarts.
    pub max_restarts: Option<u32>,
    /// `window_secs`: the window `max_restarts` counts over.
    pub window: Option<Duration>,
    /// `backoff_initial_ms`: first delay before a restart.
    pub backoff_initial: Option<Duration>,
    /// `backoff_max_ms`: longest delay between restarts.
    pub backoff_max: Option<Duration>,
    /// `breaker_threshold`: consecutive failures that open the breaker.
    pub breaker_threshold: Option<u32>,
    /// `breaker_cooldown_secs`: how long the breaker stays open.
    pub breaker_cooldown: Option<Duration>,
}

impl RestartConfig {
    /// Fills the fields `self` leaves unset from `fallback`.
    pub fn or(&self, fallback: &RestartConfig) -> RestartConfig {
        RestartConfig {
            max_restarts: self.max_restarts.or(fallback.max_restarts),
            window: self.window.or(fallback.window),
            backoff_initial: self.backoff_initial.or(fallback.backoff_initial),
            backoff_max: self.backoff_max.or(fallback.backoff_max),
            breaker_threshold: self.breaker_threshold.or(fallback.breaker_threshold),
            breaker_cooldown: self.breaker_cooldown.or(fallback.breaker_cooldown),
        }
    }
}

/// The top-level `defaults` table: values every server gets unless it sets
/// its own. Tool filters combine: a server's `deny` adds to the default
/// `deny`, and a server's non-empty `allow` replaces the default `allow`.
#[derive(Clone, PartialEq, Debug, Default)]
#[non_exhaustive]
pub struct ServerDefaults {
    /// Default for [`ServerConfig::lazy`].
    pub lazy: Option<bool>,
    /// Default for [`ServerConfig::timeout`].
    pub timeout: Option<Duration>,
    /// Default for [`ServerConfig::max_request_time`].
    pub max_request_time: Option<Duration>,
    /// Default for [`ServerConfig::connect_timeout`].
    pub connect_timeout: Option<Duration>,
    /// Default for [`ServerConfig::protocol`].
    pub protocol: Option<VersionChoice>,
    /// Default for [`ServerConfig::roots`].
    pub roots: Option<Vec<String>>,
    /// Default for [`ServerConfig::tools`].
    pub tools: ToolFilter,
    /// Default for [`ServerConfig::restart`], field by field.
    pub restart: RestartConfig,
    /// Default for [`ServerConfig::replay`]: the mode, the `allow` globs
    /// a server without its own gets, and `deny` globs every server adds to.
    pub replay: super::ReplayConfig,
    /// Default for [`ServerConfig::health_check`].
    pub health_check: Option<Duration>,
    /// Default for [`StdioServer::inherit_env`].
    pub inherit_env: Option<bool>,
    /// Default for [`ServerConfig::max_message_size`].
    pub max_message_size: Option<usize>,
    /// Default for [`ServerConfig::log_level`].
    pub log_level: Option<LoggingLevel>,
}

impl ServerConfig {
    /// The [`Source`] that reaches this server: a [`StdioConfig`] with the
    /// configured env, cwd, `inherit_env` and message size limit, or the URL.
    /// A remote server's headers, bearer token and transport flavour go
    /// into its [`HttpConfig`]; an OAuth table becomes an
    /// [`crate::auth::OAuth`] provider (see
    /// [`crate::auth::OAuthConfig::from_table`]).
    pub fn to_source(&self) -> Result<Source> {
        match &self.kind {
            ServerKind::Stdio(s) => {
                let mut cfg = StdioConfig::new(s.command.clone(), s.args.iter().cloned());
                cfg.env = s.env.clone();
                cfg.cwd = s.cwd.clone();
                cfg.inherit_env = s.inherit_env;
                if let Some(max) = self.max_message_size {
                    cfg.max_message_size = max;
                }
                Ok(Source::Stdio(cfg))
            }
            ServerKind::Remote(r) if r.url.starts_with("memory://") => memory_source(&r.url),
            ServerKind::Remote(r) => {
                let mode = match r.transport {
                    RemoteTransport::Auto => HttpMode::Auto,
                    RemoteTransport::StreamableHttp => HttpMode::Streamable,
                    RemoteTransport::Sse => HttpMode::LegacySse,
                };
                let mut cfg = r
                    .headers
                    .iter()
                    .fold(HttpConfig::new(r.url.clone()).mode(mode), |c, (n, v)| {
                        c.header(n.clone(), v.clone())
                    });
                match &r.auth {
                    Some(AuthConfig::Bearer(token)) => {
                        cfg = cfg.header("Authorization", format!("Bearer {token}"));
                    }
                    Some(AuthConfig::OAuth(table)) => {
                        cfg = cfg.auth(std::sync::Arc::new(self.oauth(table)?));
                    }
                    None => {}
                }
                Ok(Source::Http(cfg))
            }
        }
    }

    /// The OAuth provider for an `auth` table (`${VAR}` expanded).
    fn oauth(&self, table: &BTreeMap<String, Value>) -> Result<crate::auth::OAuth> {
        let mut expanded = BTreeMap::new();
        for (k, v) in table {
            let v = match v {
                Value::String(s) => Value::String(
                    super::expand::expand(s, |p| match p {
                        super::expand::Placeholder::Env(n) => std::env::var(n).ok(),
                        _ => None,
                    })
                    .map_err(|e| {
                        Error::Config(
                            ConfigError::new(format!("{e:?}"))
                                .in_server(&self.name)
                                .in_field(format!("auth.{k}")),
                        )
                    })?,
                ),
                other => other.clone(),
            };
            expanded.insert(k.clone(), v);
        }
        crate::auth::OAuthConfig::from_table(&expanded)
            .map_err(|e| e.in_server(&self.name))?
            .build()
    }

    /// A [`ClientBuilder`] for this one server, with its name, timeouts,
    /// protocol choice, roots, message size limit, replay policy and
    /// (unless restarts are off) supervision with
    /// [`ServerConfig::restart_policy`] set. Add
    /// handlers and connect.
    pub fn client_builder(&self) -> Result<ClientBuilder> {
        let mut b = Client::builder(self.to_source()?).name(self.name.clone());
        if let Some(t) = self.timeout {
            b = b.timeout(t);
        }
        if let Some(t) = self.max_request_time {
            b = b.max_request_time(t);
        }
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(max) = self.max_message_size {
            b = b.max_message_size(max);
        }
        b = b.protocol(self.protocol);
        if !self.roots.is_empty() {
            b = b.roots(self.roots.iter().cloned());
        }
        if let Some(policy) = self.restart_policy() {
            b = b.restart(policy);
        }
        b = b.replay(self.replay.clone());
        if let Some(level) = self.log_level {
            b = b.log_level(level);
        }
        Ok(b)
    }

    /// The supervisor's [`RestartPolicy`]: the configured backoff, breaker
    /// and health-check values over its defaults (`health_check_secs = 0`
    /// turns probes off). `None` when restarts are off (`restart = false` or
    /// `max_restarts = 0`). `max_restarts` restarts within `window_secs`
    /// (default 60) are allowed; the next failure gives the server up.
    pub fn restart_policy(&self) -> Option<RestartPolicy> {
        let r = &self.restart;
        if r.max_restarts == Some(0) {
            return None;
        }
        let mut policy = RestartPolicy::default();
        if let Some(d) = r.backoff_initial {
            policy.backoff_initial = d;
        }
        if let Some(d) = r.backoff_max {
            policy.backoff_max = d;
        }
        if let Some(n) = r.breaker_threshold {
            policy.breaker_threshold = n;
        }
        if let Some(d) = r.breaker_cooldown {
            policy.breaker_cooldown = d;
        }
        policy.max_restarts = r.max_restarts;
        if let Some(w) = r.window {
            policy.restart_window = w;
        }
        match self.health_check {
            Some(d) if d.is_zero() => policy.health_interval = None,
            Some(d) => policy.health_interval = Some(d),
            None => {}
        }
        Some(policy)
    }

    /// Whether the tool `name` is exposed by the allow/deny globs (deny wins;
    /// an empty allow list allows everything).
    pub fn tool_allowed(&self, name: &str) -> bool {
        self.tools.allows(name)
    }

    /// The stdio part, when this server is a program to run.
    pub fn stdio(&self) -> Option<&StdioServer> {
        match &self.kind {
            ServerKind::Stdio(s) => Some(s),
            ServerKind::Remote(_) => None,
        }
    }

    /// The remote part, when this server is a URL.
    pub fn remote(&self) -> Option<&RemoteServer> {
        match &self.kind {
            ServerKind::Remote(r) => Some(r),
            ServerKind::Stdio(_) => None,
        }
    }
}

/// Names only: the values are secrets.
struct Keys<'a, I: Iterator<Item = &'a str> + Clone>(I);

impl<'a, I: Iterator<Item = &'a str> + Clone> fmt::Debug for Keys<'a, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.0.clone().map(|k| format!("{k}=<redacted>")))
            .finish()
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("disabled", &self.disabled)
            .field("lazy", &self.lazy)
            .field("timeout", &self.timeout)
            .field("max_request_time", &self.max_request_time)
            .field("connect_timeout", &self.connect_timeout)
            .field("protocol", &self.protocol)
            .field("roots", &self.roots)
            .field("tools", &self.tools)
            .field("restart", &self.restart)
            .field("replay", &self.replay)
            .field("health_check", &self.health_check)
            .field("max_message_size", &self.max_message_size)
            .field("extra", &Keys(self.extra.keys().map(String::as_str)))
            .finish()
    }
}

impl fmt::Debug for StdioServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StdioServer")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &Keys(self.env.iter().map(|(k, _)| k.as_str())))
            .field("cwd", &self.cwd)
            .field("inherit_env", &self.inherit_env)
            .finish()
    }
}

impl fmt::Debug for RemoteServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A query string may carry a key (`?api_key=...`): show the path only.
        let shown = match self.url.split_once('?') {
            Some((base, _)) => format!("{base}?<redacted>"),
            None => self.url.clone(),
        };
        f.debug_struct("RemoteServer")
            .field("url", &shown)
            .field(
                "headers",
                &Keys(self.headers.iter().map(|(k, _)| k.as_str())),
            )
            .field("transport", &self.transport)
            .field("auth", &self.auth)
            .finish()
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthConfig::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            AuthConfig::OAuth(m) => f
                .debug_tuple("OAuth")
                .field(&Keys(m.keys().map(String::as_str)))
                .finish(),
        }
    }
}

/// The in-process server a `memory://` URL names (only `memory://demo`,
/// with the `testing` feature).
#[cfg(feature = "testing")]
fn memory_source(url: &str) -> Result<Source> {
    crate::testing::memory_source(url).unwrap_or_else(|| Source::infer(url))
}

#[cfg(not(feature = "testing"))]
fn memory_source(url: &str) -> Result<Source> {
    Err(Error::config(format!(
        "{url}: the built-in in-process servers need switchboard's `testing` feature"
    )))
}
