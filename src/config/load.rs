//! Loading a file: the servers table, the owner's dialect, inputs asked
//! for the servers that will start, each entry read on its own so that one
//! missing a value fails alone.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::dialect::Dialect;
use super::fields::{self, Ctx};
use super::unresolved::UnresolvedServer;
use super::vars::Vars;
use super::{expand, inputs, order, overrides, parse, FleetConfig, Format, LoadOptions};
use crate::{ConfigError, Error, Result};

/// The top-level keys that hold the servers, in the order they are tried.
const SERVER_TABLES: &[&str] = &["mcpServers", "servers", "mcp_servers"];

/// Where a text came from.
pub(crate) struct Origin<'a> {
    /// For error messages.
    pub name: &'a str,
    /// The file, when read from one.
    pub path: Option<&'a Path>,
    /// Relative `cwd` and `roots` are resolved against this.
    pub base_dir: Option<&'a Path>,
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

pub(crate) fn load(
    text: &str,
    format: Format,
    from: &Origin<'_>,
    env: &HashMap<String, String>,
    options: &LoadOptions,
) -> Result<FleetConfig> {
    let origin = from.name;
    if text.trim().is_empty() {
        return Err(Error::Config(
            ConfigError::new("the file is empty; expected a \"mcpServers\" table").in_file(origin),
        ));
    }
    if format == Format::Toml {
        super::toml_depth::bounded(text, origin)?;
    }
    let tree = read_tree(text, format, origin)?;
    let Value::Object(mut top) = tree else {
        return Err(Error::Config(
            ConfigError::new("expected a table at the top level").in_file(origin),
        ));
    };

    let present: Vec<&str> = SERVER_TABLES
        .iter()
        .copied()
        .filter(|k| top.contains_key(*k))
        .collect();
    let table_key = match present.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::Config(
                ConfigError::new("no servers: expected a \"mcpServers\" table (or \"servers\")")
                    .in_file(origin),
            ))
        }
        several => {
            let keys: Vec<String> = several.iter().map(|k| format!("{k:?}")).collect();
            return Err(Error::Config(
                ConfigError::new(format!("both {} are present; keep one", keys.join(" and ")))
                    .in_file(origin),
            ));
        }
    };
    let mut servers = match top.remove(table_key) {
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(Error::Config(
                ConfigError::new(format!(
                    "\"{table_key}\" must be a table of servers, got {}",
                    fields::describe(&other, false)
                ))
                .in_file(origin),
            ))
        }
        None => serde_json::Map::new(),
    };
    if servers.is_empty() {
        return Err(Error::Config(
            ConfigError::new(format!("\"{table_key}\" is empty: no servers configured"))
                .in_file(origin),
        ));
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
    let mut defaults_table = top.remove("defaults").unwrap_or(Value::Null);
    let defaults_set_by = overrides::apply_defaults(&mut defaults_table, env);
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
        from_env: &defaults_set_by,
        dialect,
        unresolved: RefCell::new(None),
    };
    let defaults = parse::defaults(&defaults_ctx, defaults_table, from.base_dir)?;
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
    let mut listed = Vec::with_capacity(order.len());
    for name in order {
        let Some(value) = servers.remove(&name) else {
            continue;
        };
        listed.push(name.clone());
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
                        problem: match e {
                            Error::Config(c) => c,
                            other => ConfigError::new(other.to_string()),
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
        order: listed,
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

/// The file through the `config` crate, as a JSON tree (the environment's
/// overrides are applied to it afterwards, in `overrides.rs`).
fn read_tree(text: &str, format: Format, origin: &str) -> Result<Value> {
    let file_format = match format {
        Format::Json => config::FileFormat::Json,
        Format::Toml => config::FileFormat::Toml,
    };
    let config_error =
        |e: config::ConfigError| Error::Config(ConfigError::new(e.to_string()).in_file(origin));
    let built = config::Config::builder()
        .add_source(Literal(config::File::from_str(text, file_format)))
        .build()
        .map_err(config_error)?;
    let mut tree = built.try_deserialize::<Value>().map_err(config_error)?;
    Ok(tree
        .get_mut(Literal::ROOT)
        .map(Value::take)
        .unwrap_or_default())
}

/// A file source whose keys are taken as written. The `config` crate reads
/// each top-level key as a path (`a.b`, `a[N]`), and `x[99999999999]` grows
/// an array to that index; so the file's table goes under one plain key,
/// below which keys are literal.
#[derive(Debug, Clone)]
struct Literal(config::File<config::FileSourceString, config::FileFormat>);

impl Literal {
    const ROOT: &'static str = "file";
}

impl config::Source for Literal {
    fn clone_into_box(&self) -> Box<dyn config::Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(
        &self,
    ) -> std::result::Result<config::Map<String, config::Value>, config::ConfigError> {
        let table = self.0.collect()?;
        Ok(config::Map::from_iter([(
            Literal::ROOT.to_owned(),
            config::Value::new(None, table),
        )]))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::LoadOptions;

    /// Issue 12 (fuzzing): the `config` crate reads `[N]` in a key as an
    /// array index and grows an array to it; `x[99999999999]` asked for
    /// hundreds of gigabytes. Keys are the file's, taken literally: in the
    /// server table, at the top level, in JSON and TOML, and with an
    /// override naming such a server.
    #[test]
    fn keys_with_brackets_are_literal_and_allocate_nothing() {
        let name = "a[99999999999]";
        let env = HashMap::from([(
            format!("SWITCHBOARD__SERVERS__{name}__TIMEOUT"),
            "7".to_owned(),
        )]);
        let json = format!(
            r#"{{"x[99999999999]": 1, "mcpServers.b[99999999999]": {{}}, "y[-99999999999]": 2,
                "mcpServers": {{"{name}": {{"command": "echo"}}}}}}"#
        );
        let toml = format!("\"x[99999999999]\" = 1\n[mcpServers.\"{name}\"]\ncommand = \"echo\"\n");
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in [("mcp.json", json), ("mcp.toml", toml)] {
            let path = dir.path().join(file);
            std::fs::write(&path, text).unwrap();
            let options = LoadOptions::new().environment(env.clone());
            let fleet = FleetConfig::load(&path, &options).unwrap();
            let names: Vec<&str> = fleet.names().collect();
            assert_eq!(names, [name], "{file}");
            let server = fleet.server(name).unwrap();
            assert_eq!(server.timeout, Some(Duration::from_secs(7)), "{file}");
        }
    }
}
