//! Reading typed fields out of a JSON value tree, with errors that name the
//! file, the server and the field, and `${VAR}` expansion of strings.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::time::Duration;

use serde_json::{Map, Value};

use super::dialect::Dialect;
use super::expand::{expand, ExpandError};
use super::unresolved::Unresolved;
use super::vars::Vars;
use crate::{ConfigError, Error};

/// Where a value came from, for error messages, plus the values used for
/// `${...}` expansion.
pub(crate) struct Ctx<'a> {
    /// The file (or `<json>`/`<toml>` for strings).
    pub origin: &'a str,
    /// The server being read; `None` for the `defaults` table.
    pub server: Option<&'a str>,
    /// The values of `${VAR}`, `${input:ID}`, `${workspaceFolder}`.
    pub vars: &'a Vars<'a>,
    /// Normalized top-level field -> the environment variable that set it.
    pub from_env: &'a BTreeMap<String, String>,
    /// Whose file it is: hints use only syntax its owner reads too.
    pub dialect: Dialect,
    /// The first value that was missing (a placeholder, an `envFile`), with
    /// its field: the error it caused fails this server alone.
    pub unresolved: RefCell<Option<(String, Unresolved)>>,
}

/// How a single string is split when a list is expected.
#[derive(Clone, Copy)]
pub(crate) enum Split {
    /// As a POSIX shell would (for `args`).
    Shell,
    /// On commas, trimming each item (for globs and roots).
    Comma,
}

impl Ctx<'_> {
    /// An error in this file, in the server's entry (or in `defaults`).
    fn placed(&self, reason: String) -> ConfigError {
        let e = ConfigError::new(reason).in_file(self.origin);
        match self.server {
            Some(name) => e.in_server(name),
            None => e,
        }
    }

    /// An error about the server (or defaults) as a whole.
    pub fn whole_error(&self, msg: impl Display) -> Error {
        let e = self.placed(msg.to_string());
        Error::Config(match self.server {
            Some(_) => e,
            None => e.in_field("defaults"),
        })
    }

    /// An error about one field.
    pub fn error(&self, field: &str, msg: impl Display) -> Error {
        let top = field.split(['.', '[']).next().unwrap_or(field);
        let e = match self.server {
            Some(_) => self.placed(msg.to_string()).in_field(field),
            None => self
                .placed(msg.to_string())
                .in_field(format!("defaults.{field}")),
        };
        Error::Config(match self.from_env.get(&norm(top)) {
            Some(var) => e.set_by(var),
            None => e,
        })
    }

    /// `${...}` expansion with errors naming the field. A placeholder
    /// without a value is also noted in [`Ctx::unresolved`].
    pub fn expand(&self, field: &str, s: &str) -> Result<String, Error> {
        expand(s, |p| self.vars.get(p)).map_err(|e| match e {
            ExpandError::Unset(p) => {
                let (reason, msg) = self.vars.explain(&p, self.dialect);
                self.missing(field, reason, msg)
            }
            ExpandError::Unclosed if self.dialect.has_dollar_escape() => self.error(
                field,
                "\"${\" without a closing \"}\" (write \"$$\" for a literal \"$\")",
            ),
            ExpandError::Unclosed => self.error(field, "\"${\" without a closing \"}\""),
            ExpandError::EmptyName => self.error(field, "\"${}\" names no variable"),
        })
    }

    /// An error about a missing value, noted as the server's first one.
    pub fn missing(&self, field: &str, reason: Unresolved, msg: impl Display) -> Error {
        let mut slot = self.unresolved.borrow_mut();
        if slot.is_none() {
            *slot = Some((field.to_owned(), reason));
        }
        self.error(field, msg)
    }

    /// A string (numbers and booleans are taken as their text), expanded.
    pub fn text(&self, field: &str, v: &Value, secret: bool) -> Result<String, Error> {
        match v {
            Value::String(s) => self.expand(field, s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(self.error(
                field,
                format!("expected a string, got {}", describe(other, secret)),
            )),
        }
    }

    /// A duration given as a number of `unit`s, or a string holding one,
    /// optionally suffixed `ms`, `s`, `m` or `h`.
    pub fn duration(&self, field: &str, v: &Value, unit: Unit) -> Result<Option<Duration>, Error> {
        let bad = || {
            self.error(
                field,
                format!(
                    "expected a number of {}, got {}",
                    unit.name(),
                    describe(v, false)
                ),
            )
        };
        let amount = match v {
            Value::Null => return Ok(None),
            Value::Number(n) => n.as_f64().map(|x| x * unit.secs()),
            Value::String(s) => parse_duration(self.expand(field, s)?.trim(), unit),
            _ => None,
        };
        match amount {
            Some(secs) if (0.0..1e12).contains(&secs) => Ok(Some(Duration::from_secs_f64(secs))),
            _ => Err(bad()),
        }
    }

    /// A whole number (or a string holding one).
    pub fn count(&self, field: &str, v: &Value) -> Result<Option<u64>, Error> {
        let n = match v {
            Value::Null => return Ok(None),
            Value::Number(n) => n.as_u64(),
            Value::String(s) => self.expand(field, s)?.trim().parse::<u64>().ok(),
            _ => None,
        };
        n.map(Some).ok_or_else(|| {
            self.error(
                field,
                format!("expected a whole number, got {}", describe(v, false)),
            )
        })
    }

    /// A whole number that fits a `u32`.
    pub fn count32(&self, field: &str, v: &Value) -> Result<Option<u32>, Error> {
        match self.count(field, v)? {
            None => Ok(None),
            Some(n) => u32::try_from(n)
                .map(Some)
                .map_err(|_| self.error(field, format!("{n} is too large"))),
        }
    }

    /// `true`/`false`, or a string `true`/`false`/`yes`/`no`/`on`/`off`/`1`/`0`.
    pub fn flag(&self, field: &str, v: &Value) -> Result<Option<bool>, Error> {
        let b = match v {
            Value::Null => return Ok(None),
            Value::Bool(b) => Some(*b),
            Value::String(s) => match self.expand(field, s)?.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Some(true),
                "false" | "no" | "off" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        };
        b.map(Some).ok_or_else(|| {
            self.error(
                field,
                format!("expected true or false, got {}", describe(v, false)),
            )
        })
    }

    /// A list of strings: an array, or one string holding a JSON array or
    /// items split by `split`.
    pub fn list(&self, field: &str, v: &Value, split: Split) -> Result<Vec<String>, Error> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.text(&format!("{field}[{i}]"), item, false))
                .collect(),
            Value::String(s) => {
                let s = self.expand(field, s)?;
                let trimmed = s.trim();
                if trimmed.starts_with('[') {
                    return match serde_json::from_str::<Vec<String>>(trimmed) {
                        Ok(items) => Ok(items),
                        Err(e) => {
                            Err(self.error(field, format!("expected a JSON array of strings: {e}")))
                        }
                    };
                }
                match split {
                    Split::Shell => shlex::split(trimmed).ok_or_else(|| {
                        self.error(field, "cannot split into words (unbalanced quotes?)")
                    }),
                    Split::Comma => Ok(trimmed
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()),
                }
            }
            other => Err(self.error(
                field,
                format!("expected a list of strings, got {}", describe(other, false)),
            )),
        }
    }

    /// A table of names to strings, sorted by name, values expanded.
    pub fn string_map(
        &self,
        field: &str,
        v: &Value,
        secret: bool,
    ) -> Result<Vec<(String, String)>, Error> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Object(m) => {
                let mut out = m
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.text(&format!("{field}.{k}"), v, secret)?)))
                    .collect::<Result<Vec<_>, Error>>()?;
                out.sort();
                Ok(out)
            }
            other => Err(self.error(
                field,
                format!(
                    "expected a table of names to strings, got {}",
                    describe(other, secret)
                ),
            )),
        }
    }
}

/// The unit a bare number is read in.
#[derive(Clone, Copy)]
pub(crate) enum Unit {
    Secs,
    Millis,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Secs => "seconds",
            Unit::Millis => "milliseconds",
        }
    }
    fn secs(self) -> f64 {
        match self {
            Unit::Secs => 1.0,
            Unit::Millis => 0.001,
        }
    }
}

/// `"30"` (in `unit`), `"500ms"`, `"30s"`, `"2m"`, `"1h"` -> seconds.
fn parse_duration(s: &str, unit: Unit) -> Option<f64> {
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (s, unit.secs())
    };
    num.trim().parse::<f64>().ok().map(|x| x * scale)
}

/// A value for an error message: scalars as written (strings quoted,
/// shortened), containers by kind, and only the kind of a secret.
pub(crate) fn describe(v: &Value, secret: bool) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a table".into(),
        Value::Bool(_) if secret => "a boolean".into(),
        Value::Number(_) if secret => "a number".into(),
        Value::String(_) if secret => "a string".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let mut shown: String = s.chars().take(60).collect();
            if shown.len() < s.len() {
                shown.push('…');
            }
            format!("{shown:?}")
        }
    }
}

/// Field names compare with case, `_` and `-` ignored, so `maxRequestTime`,
/// `max_request_time` and `MAX_REQUEST_TIME` (from the environment) are the
/// same field.
pub(crate) fn norm(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// A table's entries by normalized name, taken out one field at a time; what
/// is left at the end is what we do not know.
pub(crate) struct Fields {
    entries: BTreeMap<String, (String, Value)>,
}

impl Fields {
    pub fn new(map: Map<String, Value>) -> (Fields, Vec<String>) {
        let mut entries: BTreeMap<String, (String, Value)> = BTreeMap::new();
        let mut shadowed = Vec::new();
        for (key, value) in map {
            let n = norm(&key);
            match entries.get(&n) {
                // Two spellings of one field (`timeout` and `Timeout`): the
                // lowercase one wins, which is also where environment
                // overrides land.
                Some((kept, _)) if !is_lower(&key) || is_lower(kept) => shadowed.push(key),
                Some(_) => {
                    if let Some((old, _)) = entries.insert(n, (key, value)) {
                        shadowed.push(old);
                    }
                }
                None => {
                    entries.insert(n, (key, value));
                }
            }
        }
        (Fields { entries }, shadowed)
    }

    /// Takes the field spelled (in any case, with or without `_`) `name`.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.entries.remove(&norm(name)).map(|(_, v)| v)
    }

    /// The first present of several aliases, with the alias that matched;
    /// the others stay (and later count as unknown) unless taken too.
    pub fn take_any(&mut self, names: &[&'static str]) -> Vec<(&'static str, Value)> {
        names
            .iter()
            .filter_map(|n| self.take(n).map(|v| (*n, v)))
            .collect()
    }

    /// What nobody took, under the names as written.
    pub fn rest(self) -> BTreeMap<String, Value> {
        self.entries.into_values().collect()
    }
}

fn is_lower(key: &str) -> bool {
    !key.chars().any(char::is_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("30", Unit::Secs), Some(30.0));
        assert_eq!(parse_duration("1.5", Unit::Secs), Some(1.5));
        assert_eq!(parse_duration("250", Unit::Millis), Some(0.25));
        assert_eq!(parse_duration("500ms", Unit::Secs), Some(0.5));
        assert_eq!(parse_duration("2m", Unit::Millis), Some(120.0));
        assert_eq!(parse_duration("abc", Unit::Secs), None);
    }

    #[test]
    fn names_normalize() {
        assert_eq!(norm("maxRequestTime"), norm("max_request_time"));
        assert_eq!(norm("MAX_REQUEST_TIME"), "maxrequesttime");
        assert_eq!(norm("health-check-secs"), "healthchecksecs");
    }

    #[test]
    fn lowercase_spelling_wins() {
        let map: Map<String, Value> =
            serde_json::from_str(r#"{"Timeout": 1, "timeout": 2, "x": 3}"#).unwrap();
        let (mut f, shadowed) = Fields::new(map);
        assert_eq!(f.take("timeout"), Some(Value::from(2)));
        assert_eq!(shadowed, vec!["Timeout".to_owned()]);
    }
}
