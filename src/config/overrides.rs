//! Environment overrides, the one mechanism for both tables:
//! `SWITCHBOARD__SERVERS__<NAME>__<FIELD>[__<KEY>]=value` for a server's
//! entry and `SWITCHBOARD__DEFAULTS__<FIELD>[__<KEY>]=value` for the
//! `defaults` table.
//!
//! They are applied here, on the raw tree, before the entries are read (the
//! `config` crate's environment source would lowercase keys, and server
//! names and `env` variable names keep their case); the readers then parse
//! the strings as they parse the file's values, and their errors name the
//! variable that set a field.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::fields::norm;
use crate::{ConfigError, Error, Result};

/// Every override variable starts with this (any case).
pub(crate) const PREFIX: &str = "SWITCHBOARD__";
/// Overrides of the `defaults` table.
pub(crate) const DEFAULTS: &str = "DEFAULTS__";
/// Overrides of server entries, applied here.
pub(crate) const SERVERS: &str = "SERVERS__";

/// Which variables set which fields: server name -> normalized field -> variable.
pub(crate) type SetBy = BTreeMap<String, BTreeMap<String, String>>;

/// `name` as it can be spelled in a variable name: lowercase, with `-`,
/// `.` and spaces as `_`.
fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '-' | '.' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Strips `prefix` compared without ASCII case.
pub(crate) fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    match s.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => Some(&s[prefix.len()..]),
        _ => None,
    }
}

/// The variables `SWITCHBOARD__<table>...` in name order, each with what
/// follows the table's prefix.
fn variables<'a>(vars: &'a HashMap<String, String>, table: &str) -> Vec<(&'a String, &'a str)> {
    let mut found: Vec<(&String, &str)> = vars
        .keys()
        .filter_map(|var| {
            let rest = strip_prefix_ci(var, PREFIX).and_then(|r| strip_prefix_ci(r, table))?;
            Some((var, rest))
        })
        .collect();
    found.sort();
    found
}

/// Applies every `SWITCHBOARD__SERVERS__...` variable in `vars` to `servers`.
pub(crate) fn apply(
    origin: &str,
    servers: &mut Map<String, Value>,
    vars: &HashMap<String, String>,
) -> Result<SetBy> {
    let mut set_by = SetBy::new();
    for (var, rest) in variables(vars, SERVERS) {
        let parts: Vec<&str> = rest.split("__").collect();
        let (server_part, path) = match parts.split_first() {
            Some((s, path)) if !path.is_empty() && path.len() <= 2 && !s.is_empty() => (*s, path),
            _ => {
                tracing::warn!(
                    variable = var.as_str(),
                    "ignored: expected SWITCHBOARD__SERVERS__<NAME>__<FIELD> or ..__<FIELD>__<KEY>"
                );
                continue;
            }
        };
        let wanted = env_name(server_part);
        let matches: Vec<String> = servers
            .keys()
            .filter(|k| env_name(k) == wanted)
            .cloned()
            .collect();
        let name = match matches.as_slice() {
            [one] => one.clone(),
            [] => {
                tracing::warn!(
                    origin,
                    variable = var.as_str(),
                    "ignored: names no server in the file"
                );
                continue;
            }
            several => {
                let names: Vec<String> = several.iter().map(|s| format!("{s:?}")).collect();
                return Err(Error::Config(
                    ConfigError::new(format!(
                        "{var} could mean servers {}; rename one of them",
                        names.join(" or ")
                    ))
                    .in_file(origin),
                ));
            }
        };
        if let Some(Value::Object(entry)) = servers.get_mut(&name) {
            set(entry, path, &vars[var]);
            set_by
                .entry(name)
                .or_default()
                .insert(norm(path[0]), var.clone());
        }
    }
    Ok(set_by)
}

/// Applies every `SWITCHBOARD__DEFAULTS__...` variable in `vars` to the
/// `defaults` table (made a table when absent); returns which variable set
/// which normalized field.
pub(crate) fn apply_defaults(
    defaults: &mut Value,
    vars: &HashMap<String, String>,
) -> BTreeMap<String, String> {
    let mut set_by = BTreeMap::new();
    for (var, rest) in variables(vars, DEFAULTS) {
        let path: Vec<&str> = rest.split("__").collect();
        if path.is_empty() || path.len() > 2 || path.iter().any(|p| p.is_empty()) {
            tracing::warn!(
                variable = var.as_str(),
                "ignored: expected SWITCHBOARD__DEFAULTS__<FIELD> or ..__<FIELD>__<KEY>"
            );
            continue;
        }
        if !defaults.is_object() {
            *defaults = Value::Object(Map::new());
        }
        if let Value::Object(table) = defaults {
            set(table, &path, &vars[var]);
            set_by.insert(norm(path[0]), var.clone());
        }
    }
    set_by
}

/// Sets `path` (one or two segments) in a table to `value`.
fn set(entry: &mut Map<String, Value>, path: &[&str], value: &str) {
    let field = norm(path[0]);
    let spellings: Vec<String> = entry.keys().filter(|k| norm(k) == field).cloned().collect();
    let Some(sub) = path.get(1) else {
        for k in &spellings {
            entry.remove(k);
        }
        entry.insert(
            path[0].to_ascii_lowercase(),
            Value::String(value.to_owned()),
        );
        return;
    };
    let key = spellings
        .first()
        .cloned()
        .unwrap_or_else(|| path[0].to_ascii_lowercase());
    let table = entry
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    if !table.is_object() {
        *table = Value::Object(Map::new());
    }
    let Value::Object(table) = table else {
        return;
    };
    let value = Value::String(value.to_owned());
    match field.as_str() {
        // Variable names are case-sensitive: the key is taken as written.
        "env" => {
            table.insert((*sub).to_owned(), value);
        }
        // Header names are not.
        "headers" => {
            table.retain(|k, _| !k.eq_ignore_ascii_case(sub));
            table.insert((*sub).to_owned(), value);
        }
        _ => {
            let n = norm(sub);
            table.retain(|k, _| norm(k) != n);
            table.insert(sub.to_ascii_lowercase(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sets_fields_and_nested_keys() {
        let mut servers = json!({
            "brave-search": {"command": "npx", "env": {"BRAVE_API_KEY": "old"}, "Timeout": 5},
            "GitHub": {"url": "https://x.test", "headers": {"authorization": "old"}}
        })
        .as_object()
        .cloned()
        .unwrap_or_default();
        let set_by = apply(
            "f.json",
            &mut servers,
            &vars(&[
                (
                    "SWITCHBOARD__SERVERS__BRAVE_SEARCH__ENV__BRAVE_API_KEY",
                    "new",
                ),
                ("SWITCHBOARD__SERVERS__BRAVE_SEARCH__TIMEOUT", "9"),
                (
                    "switchboard__servers__github__HEADERS__Authorization",
                    "tok",
                ),
                ("SWITCHBOARD__SERVERS__GITHUB__RESTART__MAX_RESTARTS", "2"),
                ("SWITCHBOARD__SERVERS__NOPE__TIMEOUT", "1"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(
            Value::Object(servers),
            json!({
                "brave-search": {"command": "npx", "env": {"BRAVE_API_KEY": "new"}, "timeout": "9"},
                "GitHub": {"url": "https://x.test", "headers": {"Authorization": "tok"},
                           "restart": {"max_restarts": "2"}}
            })
        );
        assert_eq!(
            set_by["brave-search"]["timeout"],
            "SWITCHBOARD__SERVERS__BRAVE_SEARCH__TIMEOUT"
        );
    }

    #[test]
    fn ambiguous_names_are_an_error() {
        let mut servers = json!({"a-b": {}, "a_b": {}})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let err = apply(
            "f.json",
            &mut servers,
            &vars(&[("SWITCHBOARD__SERVERS__A_B__LAZY", "true")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("could mean servers"), "{err}");
    }
}
