//! VS Code's `inputs` and the values of `${input:ID}`.
//!
//! ```json
//! "inputs": [
//!   { "type": "promptString", "id": "api-key", "description": "API key", "password": true }
//! ]
//! ```
//!
//! A value comes from, in order: [`LoadOptions::input`] (the CLI's
//! `--input ID=VALUE`), the environment variable [`env_var`] names
//! (`SWITCHBOARD_INPUT_API_KEY` for `api-key`), the prompt
//! ([`LoadOptions::prompt`]; only for a server that will be started), and
//! the input's `default`. With none, the server that uses it is
//! unresolved (see [`super::UnresolvedServer`]); the others load.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::options::LoadOptions;

/// Every input environment variable starts with this.
pub const INPUT_ENV_PREFIX: &str = "SWITCHBOARD_INPUT_";

/// One entry of the top-level `inputs` array.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InputSpec {
    /// `id`: what `${input:ID}` names.
    pub id: String,
    /// `type`: `"promptString"` (the default) or `"pickString"`.
    pub kind: String,
    /// `description`: shown when asking.
    pub description: Option<String>,
    /// `password`: ask without echoing the answer. Default `false`.
    pub password: bool,
    /// `default`: the value when the answer is empty or nobody can be asked.
    /// Never Debug-printed.
    pub default: Option<String>,
    /// `options`: the choices of a `pickString` (shown when asking).
    pub options: Vec<String>,
}

impl InputSpec {
    /// An input with only an id (one used but not declared in `inputs`).
    pub fn new(id: impl Into<String>) -> InputSpec {
        InputSpec {
            id: id.into(),
            kind: "promptString".into(),
            description: None,
            password: false,
            default: None,
            options: Vec::new(),
        }
    }
}

impl std::fmt::Debug for InputSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputSpec")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("description", &self.description)
            .field("password", &self.password)
            .field("default", &self.default.as_ref().map(|_| "<redacted>"))
            .field("options", &self.options)
            .finish()
    }
}

/// The environment variable that gives input `id` its value:
/// `SWITCHBOARD_INPUT_` + the id uppercased, each character other than an
/// ASCII letter or digit written as `_` (`api-key` is
/// `SWITCHBOARD_INPUT_API_KEY`).
pub fn env_var(id: &str) -> String {
    let mut name = String::from(INPUT_ENV_PREFIX);
    name.extend(id.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    name
}

/// Reads the `inputs` array. Entries without an `id` are skipped with a
/// warning: the file belongs to VS Code too, and one bad entry must not
/// keep the other servers from loading.
pub(crate) fn parse_specs(origin: &str, value: Option<Value>) -> Vec<InputSpec> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            tracing::warn!(origin, "\"inputs\" is not a list; ignored");
            return Vec::new();
        }
    };
    let text = |m: &serde_json::Map<String, Value>, k: &str| {
        m.get(k).and_then(Value::as_str).map(str::to_owned)
    };
    let mut specs = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(m) = item else {
            tracing::warn!(
                origin,
                index = i,
                "an \"inputs\" entry is not a table; ignored"
            );
            continue;
        };
        let Some(id) = text(&m, "id").filter(|id| !id.trim().is_empty()) else {
            tracing::warn!(
                origin,
                index = i,
                "an \"inputs\" entry has no \"id\"; ignored"
            );
            continue;
        };
        let options = match m.get("options") {
            Some(Value::Array(opts)) => opts
                .iter()
                .filter_map(|o| match o {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => o.get("value").and_then(Value::as_str).map(str::to_owned),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        specs.push(InputSpec {
            id: id.trim().to_owned(),
            kind: text(&m, "type").unwrap_or_else(|| "promptString".into()),
            description: text(&m, "description"),
            password: matches!(m.get("password"), Some(Value::Bool(true))),
            default: text(&m, "default"),
            options,
        });
    }
    specs
}

/// Finds input values, asking at most once per id.
pub(crate) struct Resolver<'a> {
    specs: &'a [InputSpec],
    options: &'a LoadOptions,
    env: &'a HashMap<String, String>,
    values: BTreeMap<String, String>,
    asked: BTreeSet<String>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(
        specs: &'a [InputSpec],
        options: &'a LoadOptions,
        env: &'a HashMap<String, String>,
    ) -> Self {
        Resolver {
            specs,
            options,
            env,
            values: BTreeMap::new(),
            asked: BTreeSet::new(),
        }
    }

    /// Finds values for `ids`; `may_ask` allows the prompt (the server will
    /// be started).
    pub(crate) fn resolve(&mut self, ids: &[String], may_ask: bool) {
        for id in ids {
            if self.values.contains_key(id) {
                continue;
            }
            if let Some(v) = self.find(id, may_ask) {
                self.values.insert(id.clone(), v);
            }
        }
    }

    fn find(&mut self, id: &str, may_ask: bool) -> Option<String> {
        if let Some(v) = self.options.inputs.get(id) {
            return Some(v.clone());
        }
        if let Some(v) = self.env.get(&env_var(id)) {
            return Some(v.clone());
        }
        let spec = self.spec(id);
        if may_ask && self.asked.insert(id.to_owned()) {
            if let Some(prompt) = &self.options.prompt {
                match prompt(&spec) {
                    Some(answer) if answer.is_empty() && spec.default.is_some() => {
                        return spec.default
                    }
                    Some(answer) => return Some(answer),
                    None => {}
                }
            }
        }
        spec.default
    }

    /// The declared input `id`, or a bare one when it is not declared.
    pub(crate) fn spec(&self, id: &str) -> InputSpec {
        self.specs
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .unwrap_or_else(|| InputSpec::new(id))
    }

    /// The values found so far.
    pub(crate) fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn env_names_are_uppercased_with_underscores() {
        assert_eq!(env_var("api-key"), "SWITCHBOARD_INPUT_API_KEY");
        assert_eq!(env_var("gh.token 2"), "SWITCHBOARD_INPUT_GH_TOKEN_2");
    }

    #[test]
    fn specs_skip_entries_without_an_id() {
        let specs = parse_specs(
            "f",
            Some(json!([
                {"type": "promptString", "id": "k", "description": "Key", "password": true},
                {"type": "pickString", "id": "p", "options": ["a", "b"], "default": "dflt-5e1"},
                {"description": "no id"},
                "nope"
            ])),
        );
        assert_eq!(specs.len(), 2);
        assert!(specs[0].password);
        assert_eq!(specs[0].description.as_deref(), Some("Key"));
        assert_eq!(specs[1].options, ["a", "b"]);
        assert_eq!(specs[1].default.as_deref(), Some("dflt-5e1"));
        assert!(!format!("{:?}", specs[1]).contains("dflt-5e1"));
    }

    #[test]
    fn given_then_env_then_prompt_then_default() {
        let specs = parse_specs(
            "f",
            Some(json!([{"id": "d", "default": "dflt"}, {"id": "p"}])),
        );
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        let options = LoadOptions::new().input("g", "given").prompt(move |s| {
            counter.fetch_add(1, Ordering::SeqCst);
            Some(format!("typed-{}", s.id))
        });
        let env: HashMap<String, String> = [
            ("SWITCHBOARD_INPUT_G".to_string(), "env-g".to_string()),
            ("SWITCHBOARD_INPUT_E".to_string(), "env-e".to_string()),
        ]
        .into();
        let mut r = Resolver::new(&specs, &options, &env);
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        r.resolve(&ids(&["g", "e", "p", "x"]), false);
        assert_eq!(r.values().get("g").map(String::as_str), Some("given"));
        assert_eq!(r.values().get("e").map(String::as_str), Some("env-e"));
        assert!(!r.values().contains_key("p"));
        assert_eq!(asked.load(Ordering::SeqCst), 0);
        r.resolve(&ids(&["p", "d", "p"]), true);
        assert_eq!(r.values().get("p").map(String::as_str), Some("typed-p"));
        assert_eq!(r.values().get("d").map(String::as_str), Some("typed-d"));
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }
}
