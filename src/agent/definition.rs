//! Agent definitions: `agents/*.toml`.
//!
//! ```toml
//! name = "researcher"
//! description = "Looks things up and keeps notes"
//! system_prompt = "You are a careful researcher. Cite what the tools return."
//!
//! [model]
//! model = "gpt-4o-mini"            # default: $SWITCHBOARD_MODEL
//! base_url = "${OPENAI_BASE_URL}"  # default: $OPENAI_BASE_URL
//! api_key_env = "OPENAI_API_KEY"   # the variable holding the key
//! temperature = 0.2
//!
//! [servers.fetch]                  # the same shape as an mcpServers entry
//! command = "uvx"
//! args = ["mcp-server-fetch"]
//!
//! [tools]
//! deny = ["*delete*"]              # globs over "<server>_<tool>"
//! replay = "safe"                  # a call cut by a lost worker (feature `distributed`)
//!
//! [limits]
//! max_steps = 8
//! max_tool_calls_per_step = 4
//! token_budget = 20000
//! deadline_secs = 120
//! ```
//!
//! Every field, top level:
//! - `name` (required): the agent's name, shown in transcripts.
//! - `description`: one line for humans.
//! - `system_prompt`: the first message of every conversation.
//! - `model`: the model, see [`ModelSettings`] (defaults to the environment).
//! - `servers`: servers by name, each as an `mcpServers` entry (`command`,
//!   `args`, `env`, `cwd` relative to this file, or `url`, ... and
//!   `roots`); and/or
//! - `servers_file`: an `mcpServers` file (JSON or TOML, relative to this
//!   file) with `use_servers`, the names to take from it (default: all).
//! - `defaults`: values every server gets, as in an `mcpServers` file.
//! - `tools`: `{ allow = [globs], deny = [globs] }` over the namespaced
//!   names the model sees (`<server>_<tool>`); deny wins. With `replay`,
//!   `replay_allow`, `replay_deny`: what a distributed run's next attempt
//!   does with a call whose worker was lost (see [`ToolRules`]); a server's
//!   own `replay` (calls cut by a restart of that server) is in its entry.
//! - `limits`: see [`Limits`].
//! - `roots`: URIs (or paths, relative to this file) offered to every
//!   server that names none of its own.
//! - `sampling`, `elicitation`: how the servers' sampling and elicitation
//!   requests are answered; the same tables as in an `mcpServers` file.
//!
//! Unknown fields are errors that name the file, the line and the field:
//! a typo in a limit must not silently lift it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::config::{glob_match, FleetConfig};
use crate::{ConfigError, Error, Replay, ReplayPolicy, Result};

/// An agent, as read from its TOML file.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgentDefinition {
    /// Its name.
    pub name: String,
    /// One line for humans.
    pub description: Option<String>,
    /// The file it was read from (`<toml>` when from a string).
    pub origin: String,
    /// The first message of every conversation.
    pub system_prompt: Option<String>,
    /// The model.
    pub model: ModelSettings,
    /// The servers it uses (with the file's `sampling` and `elicitation`
    /// tables, and `roots` applied to servers without their own).
    pub servers: FleetConfig,
    /// Which of the fleet's tools the model may see.
    pub tools: ToolRules,
    /// When to stop.
    pub limits: Limits,
}

/// The model an agent talks to: any OpenAI-compatible chat endpoint, or
/// the built-in deterministic planner.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// `openai` (any OpenAI-compatible endpoint; the default) or `planner`
    /// (the built-in deterministic planner: no network, no key).
    #[serde(default)]
    pub provider: Provider,
    /// The model name (default: `$SWITCHBOARD_MODEL`).
    pub model: Option<String>,
    /// The endpoint's base URL, e.g. `http://127.0.0.1:11434/v1` (default:
    /// `$OPENAI_BASE_URL`, then OpenAI's).
    pub base_url: Option<String>,
    /// The environment variable holding the API key (default
    /// `OPENAI_API_KEY`). The key itself never goes in the file.
    pub api_key_env: Option<String>,
    /// Sampling temperature, 0 to 2.
    pub temperature: Option<f32>,
    /// Most tokens per reply.
    pub max_tokens: Option<u32>,
    /// The request field that carries `max_tokens`: `max_tokens` (the
    /// default; what Ollama and most servers read) or
    /// `max_completion_tokens`.
    pub max_tokens_field: Option<String>,
    /// How the model may use the tools: `auto` (the default), `required`
    /// (a tool call at every step) or `none`.
    pub tool_choice: Option<String>,
    /// More request fields sent as they are (a `[model.extra]` table; default
    /// none), e.g. `parallel_tool_calls = false` or llama.cpp's `json_schema`.
    #[serde(default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Deadline of one model request, in seconds (default 120).
    pub timeout_secs: Option<u64>,
    /// Stream the model's text as it is written (default true where the
    /// endpoint streams).
    pub stream: Option<bool>,
    /// Show the model the images tools return (default false: it reads a
    /// note that an image came back).
    pub vision: Option<bool>,
}

/// Who answers for the model.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// An OpenAI-compatible chat completions endpoint.
    #[default]
    Openai,
    /// The built-in deterministic planner.
    Planner,
}

/// Tool allow and deny globs over namespaced names, and the replay policy
/// of a distributed run whose worker was lost mid-call.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToolRules {
    /// Only these (empty: all).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Never these; deny wins over allow.
    #[serde(default)]
    pub deny: Vec<String>,
    /// `replay`: whether a call whose worker was lost before it finished
    /// is made again by the next attempt (`never`, `safe`, the default, or
    /// `always`; see [`ReplayPolicy`]).
    #[serde(default)]
    pub replay: Replay,
    /// `replay_allow`: globs over namespaced names replayed under `safe`
    /// whatever their annotations say (default none).
    #[serde(default)]
    pub replay_allow: Vec<String>,
    /// `replay_deny`: globs over namespaced names never replayed (default
    /// none).
    #[serde(default)]
    pub replay_deny: Vec<String>,
}

impl ToolRules {
    /// The replay policy `replay`, `replay_allow` and `replay_deny` make.
    pub fn replay_policy(&self) -> ReplayPolicy {
        ReplayPolicy::new(self.replay)
            .allow(self.replay_allow.iter().cloned())
            .deny(self.replay_deny.iter().cloned())
    }

    /// Whether the model may see and call `name` (`<server>_<tool>`).
    pub fn allows(&self, name: &str) -> bool {
        if self.deny.iter().any(|p| glob_match(p, name)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|p| glob_match(p, name))
    }
}

/// When an agent stops without a final answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most model turns (`max_steps`, default 10).
    pub max_steps: u32,
    /// Most tool calls the model may ask for in one turn
    /// (`max_tool_calls_per_step`, default 8); more is an error the model
    /// is told of, not a silent cut.
    pub max_tool_calls_per_step: u32,
    /// Most tokens (prompt + completion, as the endpoint counts them) over
    /// the run (`token_budget`; default none).
    pub token_budget: Option<u64>,
    /// Wall-clock deadline of the whole run (`deadline_secs`, default 300).
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 10,
            max_tool_calls_per_step: 8,
            token_budget: None,
            deadline: Duration::from_secs(300),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_steps: Option<u32>,
    max_tool_calls_per_step: Option<u32>,
    token_budget: Option<u64>,
    deadline_secs: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    name: String,
    description: Option<String>,
    system_prompt: Option<String>,
    #[serde(default)]
    model: ModelSettings,
    servers: Option<toml::Table>,
    servers_file: Option<PathBuf>,
    use_servers: Option<Vec<String>>,
    // Read by the mcpServers loader; named here so they are not unknown.
    #[allow(dead_code)]
    defaults: Option<toml::Table>,
    #[serde(default)]
    tools: ToolRules,
    limits: Option<RawLimits>,
    roots: Option<Vec<String>>,
    sampling: Option<toml::Table>,
    elicitation: Option<toml::Table>,
}

impl AgentDefinition {
    /// Reads an agent file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<AgentDefinition> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(ConfigError::new(format!("cannot read: {e}")).in_file(&*origin))
        })?;
        Self::parse(&text, &origin, Some(path), Environment::Here)
    }

    /// Reads an agent from TOML text (relative paths resolve against the
    /// current directory).
    pub fn from_toml_str(text: &str) -> Result<AgentDefinition> {
        Self::parse(text, "<toml>", None, Environment::Here)
    }

    /// Checks a definition that another machine will run (a worker that
    /// reads it from NATS): everything [`from_toml_str`] checks, except
    /// that a `${VAR}` unset here is accepted, since its value is the
    /// worker's (its secrets, which the machine pushing the definition
    /// need not hold). Returns the definition as read here, with such
    /// servers left out of [`AgentDefinition::servers`].
    ///
    /// [`from_toml_str`]: AgentDefinition::from_toml_str
    pub fn check_for_elsewhere(text: &str) -> Result<AgentDefinition> {
        Self::parse(text, "<toml>", None, Environment::Elsewhere)
    }

    fn parse(
        text: &str,
        origin: &str,
        path: Option<&Path>,
        environment: Environment,
    ) -> Result<AgentDefinition> {
        crate::config::toml_depth::bounded(text, origin)?;
        let raw: RawAgent = toml::from_str(text)
            .map_err(|e| Error::Config(ConfigError::new(e.to_string()).in_file(&*origin)))?;
        let field = |name: &str, msg: String| {
            Error::Config(ConfigError::new(msg).in_file(&*origin).in_field(name))
        };
        if raw.name.trim().is_empty() {
            return Err(field("name", "must not be empty".into()));
        }
        if let Some(t) = raw.model.temperature {
            if !(0.0..=2.0).contains(&t) {
                return Err(field("model.temperature", format!("{t} is outside 0 to 2")));
            }
        }
        if let Some(f) = &raw.model.max_tokens_field {
            if f != "max_tokens" && f != "max_completion_tokens" {
                return Err(field(
                    "model.max_tokens_field",
                    format!("expected \"max_tokens\" or \"max_completion_tokens\", got {f:?}"),
                ));
            }
        }
        if let Some(c) = &raw.model.tool_choice {
            if !matches!(c.as_str(), "auto" | "required" | "none") {
                return Err(field(
                    "model.tool_choice",
                    format!("expected \"auto\", \"required\" or \"none\", got {c:?}"),
                ));
            }
        }
        let limits = limits(raw.limits, &field)?;
        let base_dir = path.and_then(Path::parent);

        let servers = match (&raw.servers, &raw.servers_file) {
            (None, None) => {
                return Err(field(
                    "servers",
                    "no servers: add a [servers.NAME] table or servers_file".into(),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(field(
                    "servers_file",
                    "give [servers] or servers_file, not both".into(),
                ))
            }
            (Some(_), None) => {
                if raw.use_servers.is_some() {
                    return Err(field("use_servers", "only applies to servers_file".into()));
                }
                // The agent file is itself an mcpServers file whose table
                // is `servers` (as VS Code's mcp.json names it).
                FleetConfig::parse_agent_file(text, origin, base_dir)?
            }
            (None, Some(file)) => {
                let file = match base_dir {
                    Some(dir) if file.is_relative() => dir.join(file),
                    _ => file.clone(),
                };
                let mut cfg = FleetConfig::from_path(&file)
                    .map_err(|e| field("servers_file", e.to_string()))?;
                if let Some(wanted) = &raw.use_servers {
                    for name in wanted {
                        if cfg.server(name).is_none() && cfg.unresolved(name).is_none() {
                            return Err(field(
                                "use_servers",
                                format!(
                                    "{name:?} is not in {} (servers: {})",
                                    file.display(),
                                    cfg.names().collect::<Vec<_>>().join(", ")
                                ),
                            ));
                        }
                    }
                    cfg.servers.retain(|s| wanted.contains(&s.name));
                    cfg.unresolved.retain(|s| wanted.contains(&s.name));
                }
                cfg
            }
        };
        // An agent needs every server it names: one missing a value fails
        // the definition, as it always has (but for a variable the machine
        // running it will have).
        let elsewhere = |s: &crate::config::UnresolvedServer| {
            environment == Environment::Elsewhere
                && matches!(s.reason, crate::config::Unresolved::EnvVar { .. })
        };
        if let Some(missing) = servers
            .unresolved
            .iter()
            .find(|s| !s.disabled && !elsewhere(s))
        {
            return Err(missing.error());
        }
        let resolved_elsewhere = servers.unresolved.iter().any(|s| !s.disabled);
        let mut servers = servers;
        if let Some(roots) = raw.roots {
            let roots = roots
                .into_iter()
                .map(|r| crate::config::root_uri(&r, base_dir).map_err(|e| field("roots", e)))
                .collect::<Result<Vec<String>>>()?;
            for s in &mut servers.servers {
                if s.roots.is_empty() {
                    s.roots = roots.clone();
                }
            }
        }
        // The agent's own tables win over those of a servers file.
        if let Some(t) = raw.sampling {
            servers.sampling = Some(table_to_json(t));
        }
        if let Some(t) = raw.elicitation {
            servers.elicitation = Some(table_to_json(t));
        }
        if servers.enabled().next().is_none() && !resolved_elsewhere {
            return Err(field("servers", "every server is disabled".into()));
        }
        Ok(AgentDefinition {
            name: raw.name,
            description: raw.description,
            origin: origin.to_owned(),
            system_prompt: raw.system_prompt,
            model: raw.model,
            servers,
            tools: raw.tools,
            limits,
        })
    }
}

/// Whose environment fills a definition's `${VAR}`s.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Environment {
    /// This process's: an unset variable is an error.
    Here,
    /// Another machine's: an unset variable is left to it.
    Elsewhere,
}

fn limits(raw: Option<RawLimits>, field: &dyn Fn(&str, String) -> Error) -> Result<Limits> {
    let mut limits = Limits::default();
    let Some(raw) = raw else {
        return Ok(limits);
    };
    if let Some(n) = raw.max_steps {
        if n == 0 {
            return Err(field("limits.max_steps", "must be at least 1".into()));
        }
        limits.max_steps = n;
    }
    if let Some(n) = raw.max_tool_calls_per_step {
        if n == 0 {
            return Err(field(
                "limits.max_tool_calls_per_step",
                "must be at least 1".into(),
            ));
        }
        limits.max_tool_calls_per_step = n;
    }
    limits.token_budget = raw.token_budget;
    if let Some(secs) = raw.deadline_secs {
        if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
            return Err(field(
                "limits.deadline_secs",
                format!("{secs} is not a positive number of seconds"),
            ));
        }
        limits.deadline = Duration::from_secs_f64(secs);
    }
    Ok(limits)
}

fn table_to_json(t: toml::Table) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}
