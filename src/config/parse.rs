//! Turning one `mcpServers` entry (or the `defaults` table) into typed
//! configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::env_file;
use super::fields::{describe, Ctx, Fields, Split, Unit};
use super::server::{
    AuthConfig, RemoteServer, RemoteTransport, RestartConfig, ServerConfig, ServerDefaults,
    ServerKind, StdioServer, ToolFilter,
};
use super::unresolved::Unresolved;
use crate::protocol::{LoggingLevel, VersionChoice};
use crate::Error;

/// Aliases of `tools.allow` found in other clients' files.
const ALLOW_ALIASES: &[&str] = &["allowedTools", "includeTools", "enabledTools"];
/// Aliases of `tools.deny` found in other clients' files.
const DENY_ALIASES: &[&str] = &["disabledTools", "excludeTools"];
/// Keys other MCP clients put in server entries: kept, logged at debug only.
const FOREIGN_KEYS: &[&str] = &[
    "alwaysAllow",
    "autoApprove",
    "description",
    "dev",
    "trust",
    "oauth",
    "startup_timeout_sec",
    "startup_timeout_ms",
    "tool_timeout_sec",
];
/// Keys that mean something only for the other kind of server.
const STDIO_ONLY: &[&str] = &["args", "env", "envFile", "cwd", "inherit_env"];
const REMOTE_ONLY: &[&str] = &["headers", "auth"];

/// Reads one server entry, resolving it against `defaults`.
pub(crate) fn server(
    ctx: &Ctx<'_>,
    name: &str,
    value: Value,
    defaults: &ServerDefaults,
    base_dir: Option<&Path>,
) -> Result<ServerConfig, Error> {
    let map = match value {
        Value::Object(m) => m,
        other => {
            return Err(ctx.whole_error(format!(
                "expected a table with \"command\" or \"url\", got {}",
                describe(&other, false)
            )))
        }
    };
    let (mut f, shadowed) = Fields::new(map);
    for key in shadowed {
        tracing::warn!(
            origin = ctx.origin,
            server = name,
            key,
            "field given twice in different spellings; this spelling is ignored"
        );
    }

    let command = f.take("command");
    let mut urls = f.take_any(&["url", "serverUrl", "httpUrl"]);
    if urls.len() > 1 {
        let names: Vec<_> = urls.iter().map(|(n, _)| format!("{n:?}")).collect();
        return Err(ctx.whole_error(format!("has {}; give one URL", names.join(" and "))));
    }
    let url = urls.pop();
    let transport = transport(ctx, &mut f)?;

    let kind = match (command, url) {
        (Some(_), Some((key, _))) => {
            return Err(ctx.whole_error(format!(
            "has both \"command\" and {key:?}; a server is either a program to run or a remote URL"
        )))
        }
        (None, None) => {
            return Err(ctx
                .whole_error("needs \"command\" (a program to run) or \"url\" (a remote server)"))
        }
        (Some(command), None) => {
            if let Some((field, t)) = transport.filter(|(_, t)| t.is_some()) {
                return Err(ctx.error(
                    field,
                    format!(
                        "{} needs a \"url\", but this server has a \"command\"",
                        transport_name(t)
                    ),
                ));
            }
            ServerKind::Stdio(stdio(ctx, &mut f, &command, defaults, base_dir)?)
        }
        (None, Some((key, url))) => {
            if let Some((field, None)) = transport {
                return Err(ctx.error(
                    field,
                    format!("\"stdio\" needs a \"command\", but this server has {key:?}"),
                ));
            }
            let mut t = transport.and_then(|(_, t)| t).unwrap_or_default();
            if key == "httpUrl" && t == RemoteTransport::Auto {
                t = RemoteTransport::StreamableHttp;
            }
            ServerKind::Remote(remote(ctx, &mut f, key, &url, t)?)
        }
    };

    let disabled = opt(&mut f, "disabled", |v| ctx.flag("disabled", v))?.flatten();
    let enabled = opt(&mut f, "enabled", |v| ctx.flag("enabled", v))?.flatten();
    let lazy = opt(&mut f, "lazy", |v| ctx.flag("lazy", v))?.flatten();
    let secs = |f: &mut Fields, field: &'static str| {
        opt(f, field, |v| ctx.duration(field, v, Unit::Secs)).map(Option::flatten)
    };
    let timeout = secs(&mut f, "timeout")?;
    let max_request_time = secs(&mut f, "max_request_time")?;
    let connect_timeout = secs(&mut f, "connect_timeout")?;
    let health_check = match secs(&mut f, "health_check_secs")? {
        Some(d) => Some(d),
        None => secs(&mut f, "health_check")?,
    };
    let protocol = opt(&mut f, "protocol", |v| protocol(ctx, v))?;
    let log_level = opt(&mut f, "log_level", |v| log_level(ctx, v))?;
    let roots = opt(&mut f, "roots", |v| roots(ctx, v, base_dir))?;
    let tools = tools(ctx, &mut f)?;
    let replay = super::replay::read(ctx, &mut f)?;
    let restart = opt(&mut f, "restart", |v| restart(ctx, v))?.unwrap_or_default();
    let max_message_size = opt(&mut f, "max_message_size", |v| {
        ctx.count("max_message_size", v)
    })?
    .flatten()
    .map(|n| usize::try_from(n).unwrap_or(usize::MAX));

    let extra = f.rest();
    let is_stdio = matches!(kind, ServerKind::Stdio(_));
    for key in extra.keys() {
        let other_kind = if is_stdio { REMOTE_ONLY } else { STDIO_ONLY };
        if other_kind
            .iter()
            .any(|k| super::fields::norm(k) == super::fields::norm(key))
        {
            tracing::warn!(
                origin = ctx.origin,
                server = name,
                key = key.as_str(),
                "field does not apply to this kind of server; ignored"
            );
        } else if FOREIGN_KEYS.contains(&key.as_str()) {
            tracing::debug!(
                origin = ctx.origin,
                server = name,
                key = key.as_str(),
                "field of another MCP client; kept, ignored"
            );
        } else {
            tracing::warn!(
                origin = ctx.origin,
                server = name,
                key = key.as_str(),
                "unknown field; kept, ignored"
            );
        }
    }

    let mut tool_filter = tools;
    let mut deny = defaults.tools.deny.clone();
    deny.append(&mut tool_filter.deny);
    tool_filter.deny = deny;
    if tool_filter.allow.is_empty() {
        tool_filter.allow = defaults.tools.allow.clone();
    }

    Ok(ServerConfig {
        name: name.to_owned(),
        kind,
        disabled: disabled.unwrap_or(false) || enabled == Some(false),
        lazy: lazy.or(defaults.lazy).unwrap_or(false),
        timeout: timeout.or(defaults.timeout),
        max_request_time: max_request_time.or(defaults.max_request_time),
        connect_timeout: connect_timeout.or(defaults.connect_timeout),
        protocol: protocol.or(defaults.protocol).unwrap_or_default(),
        roots: roots.or_else(|| defaults.roots.clone()).unwrap_or_default(),
        tools: tool_filter,
        restart: restart.or(&defaults.restart),
        replay: replay.resolve(&defaults.replay),
        health_check: health_check.or(defaults.health_check),
        max_message_size: max_message_size.or(defaults.max_message_size),
        log_level: log_level.or(defaults.log_level),
        extra,
    })
}

/// Reads the top-level `defaults` table.
pub(crate) fn defaults(
    ctx: &Ctx<'_>,
    value: Value,
    base_dir: Option<&Path>,
) -> Result<ServerDefaults, Error> {
    let map = match value {
        Value::Null => return Ok(ServerDefaults::default()),
        Value::Object(m) => m,
        other => {
            return Err(
                ctx.whole_error(format!("expected a table, got {}", describe(&other, false)))
            )
        }
    };
    let (mut f, _) = Fields::new(map);
    let secs = |f: &mut Fields, field: &'static str| {
        opt(f, field, |v| ctx.duration(field, v, Unit::Secs)).map(Option::flatten)
    };
    let d = ServerDefaults {
        lazy: opt(&mut f, "lazy", |v| ctx.flag("lazy", v))?.flatten(),
        timeout: secs(&mut f, "timeout")?,
        max_request_time: secs(&mut f, "max_request_time")?,
        connect_timeout: secs(&mut f, "connect_timeout")?,
        protocol: opt(&mut f, "protocol", |v| protocol(ctx, v))?,
        log_level: opt(&mut f, "log_level", |v| log_level(ctx, v))?,
        roots: opt(&mut f, "roots", |v| roots(ctx, v, base_dir))?,
        tools: tools(ctx, &mut f)?,
        restart: opt(&mut f, "restart", |v| restart(ctx, v))?.unwrap_or_default(),
        replay: super::replay::read(ctx, &mut f)?,
        health_check: match secs(&mut f, "health_check_secs")? {
            Some(d) => Some(d),
            None => secs(&mut f, "health_check")?,
        },
        inherit_env: opt(&mut f, "inherit_env", |v| ctx.flag("inherit_env", v))?.flatten(),
        max_message_size: opt(&mut f, "max_message_size", |v| {
            ctx.count("max_message_size", v)
        })?
        .flatten()
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    };
    for key in f.rest().keys() {
        tracing::warn!(
            origin = ctx.origin,
            key = key.as_str(),
            "unknown field in defaults; ignored"
        );
    }
    Ok(d)
}

/// Runs `read` on the field when present.
fn opt<T>(
    f: &mut Fields,
    field: &str,
    read: impl FnOnce(&Value) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    f.take(field).map(|v| read(&v)).transpose()
}

/// `transport`, `type` (VS Code, Claude Code) or `transportType` (Cline):
/// `Some(None)` is stdio, `Some(Some(t))` a remote
/// flavour; with the field it came from.
type TransportField = Option<(&'static str, Option<RemoteTransport>)>;

fn transport(ctx: &Ctx<'_>, f: &mut Fields) -> Result<TransportField, Error> {
    let mut found: TransportField = None;
    for (field, v) in f.take_any(&["transport", "type", "transportType"]) {
        let text = ctx.text(field, &v, false)?;
        let t = match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "stdio" => None,
            "http" | "streamable-http" | "streamablehttp" => Some(RemoteTransport::StreamableHttp),
            "sse" => Some(RemoteTransport::Sse),
            "auto" => Some(RemoteTransport::Auto),
            _ => {
                return Err(ctx.error(
                    field,
                    format!(
                        "expected \"stdio\", \"http\", \"streamable-http\" or \"sse\", got {}",
                        describe(&v, false)
                    ),
                ))
            }
        };
        match found {
            Some((first, earlier)) if earlier != t => {
                return Err(ctx.error(field, format!("says {text:?}, which contradicts {first:?}")))
            }
            _ => found = Some((field, t)),
        }
    }
    Ok(found)
}

fn transport_name(t: Option<RemoteTransport>) -> &'static str {
    match t {
        None => "\"stdio\"",
        Some(RemoteTransport::Sse) => "\"sse\"",
        Some(RemoteTransport::StreamableHttp) => "\"http\"",
        Some(_) => "a remote transport",
    }
}

fn stdio(
    ctx: &Ctx<'_>,
    f: &mut Fields,
    command: &Value,
    defaults: &ServerDefaults,
    base_dir: Option<&Path>,
) -> Result<StdioServer, Error> {
    let program = ctx.text("command", command, false)?;
    if program.trim().is_empty() {
        return Err(ctx.error("command", "must not be empty"));
    }
    let args = opt(f, "args", |v| ctx.list("args", v, Split::Shell))?.unwrap_or_default();
    let env = opt(f, "env", |v| ctx.string_map("env", v, true))?.unwrap_or_default();
    let env = match opt(f, "envFile", |v| ctx.text("envFile", v, false))? {
        Some(file) if !file.trim().is_empty() => {
            let folder = ctx.vars.workspace.or(base_dir);
            let path = resolve(folder, PathBuf::from(file.trim()));
            let from_file = env_file::read(&path).map_err(|e| {
                let msg = format!("{}: {e}", path.display());
                let reason = Unresolved::EnvFile {
                    path: path.clone(),
                    reason: e.to_string(),
                };
                ctx.missing("envFile", reason, msg)
            })?;
            under(from_file, env)
        }
        _ => env,
    };
    let cwd = opt(f, "cwd", |v| ctx.text("cwd", v, false))?
        .filter(|s| !s.is_empty())
        .map(|s| resolve(base_dir, PathBuf::from(s)));
    let inherit_env = opt(f, "inherit_env", |v| ctx.flag("inherit_env", v))?.flatten();
    Ok(StdioServer {
        command: program,
        args,
        env,
        cwd,
        inherit_env: inherit_env.or(defaults.inherit_env).unwrap_or(false),
    })
}

/// `base` with `over` on top, sorted by name: `over` wins.
fn under(base: Vec<(String, String)>, over: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut merged: BTreeMap<String, String> = base.into_iter().collect();
    merged.extend(over);
    merged.into_iter().collect()
}

fn remote(
    ctx: &Ctx<'_>,
    f: &mut Fields,
    key: &str,
    url: &Value,
    transport: RemoteTransport,
) -> Result<RemoteServer, Error> {
    // A URL can carry a key in its query string: never echo it.
    let url = ctx.text(key, url, true)?.trim().to_owned();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("memory://"))
    {
        return Err(ctx.error(
            key,
            "expected an http:// or https:// URL (or memory://demo)",
        ));
    }
    let headers = opt(f, "headers", |v| ctx.string_map("headers", v, true))?.unwrap_or_default();
    let auth = opt(f, "auth", |v| auth(ctx, v))?.flatten();
    Ok(RemoteServer {
        url,
        headers,
        transport,
        auth,
    })
}

fn auth(ctx: &Ctx<'_>, v: &Value) -> Result<Option<AuthConfig>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let token = ctx.expand("auth", s)?;
            let token = token.trim();
            if token.eq_ignore_ascii_case("oauth") {
                Ok(Some(AuthConfig::OAuth(BTreeMap::new())))
            } else if token.is_empty() {
                Ok(None)
            } else {
                Ok(Some(AuthConfig::Bearer(bearer(token))))
            }
        }
        Value::Object(m) => {
            let (mut f, _) = Fields::new(m.clone());
            let kind = opt(&mut f, "type", |v| ctx.text("auth.type", v, false))?;
            let token = f.take("token");
            match (
                kind.as_deref().map(str::to_ascii_lowercase).as_deref(),
                token,
            ) {
                (Some("bearer") | None, Some(t)) => {
                    let t = ctx.text("auth.token", &t, true)?;
                    Ok(Some(AuthConfig::Bearer(bearer(t.trim()))))
                }
                (Some("bearer"), None) => {
                    Err(ctx.error("auth.token", "missing: a bearer auth needs a \"token\""))
                }
                (Some("oauth"), token) => {
                    let mut rest = f.rest();
                    if let Some(t) = token {
                        rest.insert("token".into(), t);
                    }
                    Ok(Some(AuthConfig::OAuth(rest)))
                }
                (Some(other), _) => Err(ctx.error(
                    "auth.type",
                    format!("expected \"bearer\" or \"oauth\", got {other:?}"),
                )),
                (None, None) => Err(ctx.error(
                    "auth",
                    "expected {\"type\": \"bearer\", \"token\": ...} or {\"type\": \"oauth\", ...}",
                )),
            }
        }
        other => Err(ctx.error(
            "auth",
            format!(
                "expected a bearer token, \"oauth\" or a table, got {}",
                describe(other, true)
            ),
        )),
    }
}

/// `Bearer abc` and `abc` both mean the token `abc`.
fn bearer(token: &str) -> String {
    match token.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => token[7..].trim().to_owned(),
        _ => token.to_owned(),
    }
}

fn protocol(ctx: &Ctx<'_>, v: &Value) -> Result<VersionChoice, Error> {
    let text = ctx.text("protocol", v, false)?;
    text.trim().parse::<VersionChoice>().map_err(|e| {
        ctx.error(
            "protocol",
            format!("expected \"auto\" or a protocol version: {e}"),
        )
    })
}

fn log_level(ctx: &Ctx<'_>, v: &Value) -> Result<LoggingLevel, Error> {
    let text = ctx.text("log_level", v, false)?;
    text.trim().parse::<LoggingLevel>().map_err(|_| {
        let names: Vec<&str> = LoggingLevel::ALL.iter().map(|l| l.as_str()).collect();
        ctx.error(
            "log_level",
            format!("expected one of {}, got {text:?}", names.join(", ")),
        )
    })
}

fn roots(ctx: &Ctx<'_>, v: &Value, base_dir: Option<&Path>) -> Result<Vec<String>, Error> {
    ctx.list("roots", v, Split::Comma)?
        .into_iter()
        .map(|r| root_uri(&r, base_dir).map_err(|e| ctx.error("roots", e)))
        .collect()
}

/// A root as a URI: kept when it has a scheme, else a path made absolute
/// against `base_dir` (the config file's folder; without one, the current
/// directory) and turned into a `file://` URI.
pub(crate) fn root_uri(root: &str, base_dir: Option<&Path>) -> Result<String, String> {
    if root.contains("://") {
        return Ok(root.to_owned());
    }
    // A base directory may itself be relative (`agents/` for
    // `switchboard run agents/coder.toml`): the current directory anchors it.
    let path = resolve(base_dir, PathBuf::from(root));
    let path = std::path::absolute(&path)
        .map_err(|e| format!("{root}: no current directory to resolve it against: {e}"))?;
    crate::protocol::file_uri(&normalized(&path)).map_err(|e| e.to_string())
}

/// `path` with `.` and `..` taken out lexically (`/a/b/../c` → `/a/c`), as
/// a root's URI should name the directory plainly; symlinks are left alone.
fn normalized(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn resolve(base_dir: Option<&Path>, path: PathBuf) -> PathBuf {
    match base_dir {
        Some(base) if path.is_relative() => base.join(path),
        _ => path,
    }
}

fn tools(ctx: &Ctx<'_>, f: &mut Fields) -> Result<ToolFilter, Error> {
    let mut filter = ToolFilter::default();
    if let Some(v) = f.take("tools") {
        match v {
            Value::Null => {}
            Value::Object(m) => {
                let (mut t, _) = Fields::new(m);
                if let Some(v) = t.take("allow") {
                    filter.allow = ctx.list("tools.allow", &v, Split::Comma)?;
                }
                if let Some(v) = t.take("deny") {
                    filter.deny = ctx.list("tools.deny", &v, Split::Comma)?;
                }
                for key in t.rest().keys() {
                    tracing::warn!(
                        origin = ctx.origin,
                        server = ctx.server,
                        key = key.as_str(),
                        "unknown field in \"tools\" (it takes \"allow\" and \"deny\"); ignored"
                    );
                }
            }
            other => {
                return Err(ctx.error(
                    "tools",
                    format!(
                        "expected a table with \"allow\" and \"deny\" lists, got {}",
                        describe(&other, false)
                    ),
                ))
            }
        }
    }
    for (field, v) in f.take_any(ALLOW_ALIASES) {
        filter.allow.extend(ctx.list(field, &v, Split::Comma)?);
    }
    for (field, v) in f.take_any(DENY_ALIASES) {
        filter.deny.extend(ctx.list(field, &v, Split::Comma)?);
    }
    Ok(filter)
}

fn restart(ctx: &Ctx<'_>, v: &Value) -> Result<RestartConfig, Error> {
    let map = match v {
        Value::Null | Value::Bool(true) => return Ok(RestartConfig::default()),
        Value::Bool(false) => {
            return Ok(RestartConfig {
                max_restarts: Some(0),
                ..RestartConfig::default()
            })
        }
        Value::Object(m) => m.clone(),
        other => {
            return Err(ctx.error(
                "restart",
                format!("expected a table or false, got {}", describe(other, false)),
            ))
        }
    };
    let (mut f, _) = Fields::new(map);
    let mut dur = |field: &'static str, unit: Unit| {
        opt(&mut f, field, |v| {
            ctx.duration(&format!("restart.{field}"), v, unit)
        })
        .map(Option::flatten)
    };
    let window = dur("window_secs", Unit::Secs)?;
    let backoff_initial = dur("backoff_initial_ms", Unit::Millis)?;
    let backoff_max = dur("backoff_max_ms", Unit::Millis)?;
    let breaker_cooldown = dur("breaker_cooldown_secs", Unit::Secs)?;
    let max_restarts = opt(&mut f, "max_restarts", |v| {
        ctx.count32("restart.max_restarts", v)
    })?
    .flatten();
    let breaker_threshold = opt(&mut f, "breaker_threshold", |v| {
        ctx.count32("restart.breaker_threshold", v)
    })?
    .flatten();
    for key in f.rest().keys() {
        tracing::warn!(
            origin = ctx.origin,
            server = ctx.server,
            key = key.as_str(),
            "unknown field in \"restart\"; ignored"
        );
    }
    Ok(RestartConfig {
        max_restarts,
        window,
        backoff_initial,
        backoff_max,
        breaker_threshold,
        breaker_cooldown,
    })
}
