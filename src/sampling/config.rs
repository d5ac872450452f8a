//! The `sampling` section of a configuration file.
//!
//! ```json
//! { "mode": "model", "base_url": "http://127.0.0.1:11434/v1",
//!   "api_key_env": "OPENAI_API_KEY", "model": "llama3.1:8b",
//!   "models": [{"name": "llama3.1:8b", "cost": 0, "speed": 0.8, "intelligence": 0.4}],
//!   "max_tokens_field": "max_tokens", "timeout_secs": 60,
//!   "budget": {"requests": 100, "tokens": 200000} }
//! { "mode": "text", "text": "a fixed reply" }
//! { "mode": "reject" }
//! { "mode": "scripted", "replies": ["first", {"role": "assistant", "model": "m",
//!   "content": {"type": "text", "text": "second"}}] }
//! ```
//! Build a sampler from it with [`crate::Sampler::from_config`].

use std::time::Duration;

use serde::Deserialize;

use super::backend::{SamplingBackend, ScriptedReply};
use super::budget::Budget;
use super::choose::{ModelCandidate, ModelChoice};
use crate::model::{ApiKey, MaxTokensField, ModelClient, ModelEndpoint};
use crate::{Error, Result};

/// How sampling is answered, plus limits that apply to every mode.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SamplingConfig {
    /// The mode and its settings (`"mode": "model" | "text" | "scripted" |
    /// "reject"`).
    #[serde(flatten)]
    pub mode: SamplingModeConfig,
    /// Limits per server (default: none).
    #[serde(default)]
    pub budget: Budget,
    /// How long an approval hook may take before the request is refused
    /// (seconds, default 120).
    #[serde(default)]
    pub approval_timeout_secs: Option<f64>,
}

/// The modes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum SamplingModeConfig {
    /// Ask an OpenAI-compatible endpoint.
    Model(ModelConfig),
    /// Always reply with `text`.
    Text {
        /// The reply.
        text: String,
    },
    /// Reply with `replies` in order, then fail.
    Scripted {
        /// Texts or whole `CreateMessageResult` objects.
        replies: Vec<ScriptedReply>,
    },
    /// Refuse every request.
    Reject {
        /// The reason the server is told (default: a generic one).
        #[serde(default)]
        reason: Option<String>,
    },
}

/// Settings of the `model` mode. Unset values come from the environment
/// (`OPENAI_BASE_URL`, `SWITCHBOARD_MODEL`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// API base, e.g. `https://api.openai.com/v1` (default
    /// `$OPENAI_BASE_URL`, else OpenAI's).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The environment variable holding the API key (default
    /// `OPENAI_API_KEY`; unset or empty means no key). The key itself never
    /// goes in the file.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The default model (default `$SWITCHBOARD_MODEL`; required one way or
    /// the other).
    #[serde(default)]
    pub model: Option<String>,
    /// Candidates that `modelPreferences` choose among (see
    /// [`ModelChoice::choose`]).
    #[serde(default)]
    pub models: Vec<ModelCandidate>,
    /// `max_tokens` (default) or `max_completion_tokens`.
    #[serde(default)]
    pub max_tokens_field: MaxTokensField,
    /// Hard deadline of one model call in seconds (default 120).
    #[serde(default)]
    pub timeout_secs: Option<f64>,
}

impl SamplingConfig {
    /// The backend this config describes, reading the environment for what
    /// the file leaves out.
    pub fn backend(&self) -> Result<SamplingBackend> {
        self.backend_with_env(|name| std::env::var(name).ok())
    }

    /// [`SamplingConfig::backend`] with any source of variables.
    pub fn backend_with_env(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<SamplingBackend> {
        Ok(match &self.mode {
            SamplingModeConfig::Text { text } => SamplingBackend::Text(text.clone()),
            SamplingModeConfig::Scripted { replies } => SamplingBackend::Scripted(replies.clone()),
            SamplingModeConfig::Reject { reason } => SamplingBackend::Reject(
                reason
                    .clone()
                    .unwrap_or_else(|| "sampling is disabled by configuration".into()),
            ),
            SamplingModeConfig::Model(m) => {
                let endpoint = m.endpoint(&env)?;
                let choice = ModelChoice {
                    default: endpoint.model.clone(),
                    candidates: m.models.clone(),
                };
                SamplingBackend::Model {
                    client: ModelClient::new(endpoint)?,
                    choice,
                }
            }
        })
    }

    /// The approval deadline, if the section sets one; an invalid one
    /// (not a positive number of seconds a `Duration` holds) is an error.
    pub fn approval_timeout(&self) -> Result<Option<Duration>> {
        self.approval_timeout_secs
            .map(|t| {
                secs(t).ok_or_else(|| {
                    Error::config_field(
                        "approval_timeout_secs",
                        format!("must be a positive number of seconds, not {t}"),
                    )
                })
            })
            .transpose()
    }
}

impl ModelConfig {
    /// The endpoint, with the environment filling the gaps.
    pub fn endpoint(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ModelEndpoint> {
        let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let model = nonempty(self.model.clone())
            .or_else(|| nonempty(env("SWITCHBOARD_MODEL")))
            .ok_or_else(|| {
                Error::config_field(
                    "model",
                    format!(
                        "no model is named: set \"model\" here or SWITCHBOARD_MODEL (the endpoint \
                         is OPENAI_BASE_URL, default {HOSTED}, its key in OPENAI_API_KEY)"
                    ),
                )
            })?;
        let base_url = nonempty(self.base_url.clone())
            .or_else(|| nonempty(env("OPENAI_BASE_URL")))
            .unwrap_or_else(|| HOSTED.into());
        let key_var = self.api_key_env.as_deref().unwrap_or("OPENAI_API_KEY");
        let key = nonempty(env(key_var));
        // The hosted API refuses every request without a key: say so now,
        // before any server is started for nothing.
        if key.is_none() && base_url.trim_end_matches('/') == HOSTED {
            return Err(Error::config_field(
                "api_key_env",
                format!(
                    "{key_var} is not set, and {HOSTED} needs a key (or point OPENAI_BASE_URL at \
                     a local OpenAI-compatible server)"
                ),
            ));
        }
        let mut endpoint =
            ModelEndpoint::new(base_url, model).max_tokens_field(self.max_tokens_field);
        if let Some(key) = key {
            endpoint.api_key = ApiKey::new(key);
        }
        if let Some(t) = self.timeout_secs {
            endpoint.timeout = secs(t).ok_or_else(|| {
                Error::config_field(
                    "timeout_secs",
                    format!("must be a positive number of seconds, not {t}"),
                )
            })?;
        }
        Ok(endpoint)
    }
}

/// The hosted OpenAI API: the endpoint when none is named.
const HOSTED: &str = "https://api.openai.com/v1";

/// A positive number of seconds that a `Duration` can hold (1e300 cannot).
fn secs(v: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(v).ok().filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_no_duration_can_hold_are_errors_not_panics() {
        for t in [1e300, f64::INFINITY, f64::NAN, -1.0, 0.0] {
            let config = SamplingConfig {
                mode: SamplingModeConfig::Reject { reason: None },
                budget: Budget::default(),
                approval_timeout_secs: Some(t),
            };
            assert!(config.approval_timeout().is_err(), "{t}");
            let mut model: ModelConfig =
                serde_json::from_value(serde_json::json!({"model": "m"})).unwrap();
            model.timeout_secs = Some(t);
            let local =
                |k: &str| (k == "OPENAI_BASE_URL").then(|| "http://127.0.0.1:9/v1".to_owned());
            let e = model.endpoint(&local).unwrap_err().to_string();
            assert!(e.contains("timeout_secs"), "{t}: {e}");
        }
    }

    #[test]
    fn a_missing_model_or_hosted_key_is_named_before_anything_starts() {
        let none: ModelConfig = serde_json::from_value(serde_json::json!({})).unwrap();
        let e = none.endpoint(&|_| None).unwrap_err().to_string();
        for named in ["SWITCHBOARD_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"] {
            assert!(e.contains(named), "{e}");
        }
        assert!(!e.contains("sampling mode"), "{e}");
        let model: ModelConfig = serde_json::from_value(serde_json::json!({"model": "m"})).unwrap();
        let e = model.endpoint(&|_| None).unwrap_err().to_string();
        assert!(e.contains("OPENAI_API_KEY is not set"), "{e}");
        // A local server needs no key; the hosted one has it.
        let local = |k: &str| (k == "OPENAI_BASE_URL").then(|| "http://127.0.0.1:9/v1".to_owned());
        assert!(model.endpoint(&local).is_ok());
        let keyed = |k: &str| (k == "OPENAI_API_KEY").then(|| "sk-test".to_owned());
        assert!(model.endpoint(&keyed).is_ok());
    }
    use serde_json::json;

    fn parse(v: serde_json::Value) -> SamplingConfig {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn every_mode_parses() {
        let c = parse(
            json!({"mode": "model", "base_url": "http://127.0.0.1:1/v1", "api_key_env": "MY_KEY",
            "model": "m", "models": [{"name": "big", "intelligence": 1}], "max_tokens_field": "max_completion_tokens",
            "timeout_secs": 5, "budget": {"requests": 3, "tokens": 100}}),
        );
        assert_eq!(
            c.budget,
            Budget {
                requests: Some(3),
                tokens: Some(100)
            }
        );
        let SamplingModeConfig::Model(m) = &c.mode else {
            panic!("{c:?}")
        };
        let e = m
            .endpoint(&|n| (n == "MY_KEY").then(|| "k".to_string()))
            .unwrap();
        assert_eq!(e.api_key.expose(), "k");
        assert_eq!(e.timeout, Duration::from_secs(5));
        assert_eq!(e.max_tokens_field, MaxTokensField::MaxCompletionTokens);
        assert!(matches!(
            c.backend_with_env(|_| None).unwrap(),
            SamplingBackend::Model { .. }
        ));

        assert!(
            matches!(parse(json!({"mode": "text", "text": "hi"})).backend().unwrap(), SamplingBackend::Text(t) if t == "hi")
        );
        assert!(matches!(
            parse(json!({"mode": "reject"})).backend().unwrap(),
            SamplingBackend::Reject(_)
        ));
        let s = parse(
            json!({"mode": "scripted", "replies": ["a", {"role": "assistant", "model": "x",
            "content": {"type": "text", "text": "b"}}]}),
        );
        let SamplingBackend::Scripted(r) = s.backend().unwrap() else {
            panic!()
        };
        assert_eq!(r[0], ScriptedReply::Text("a".into()));
        assert!(matches!(&r[1], ScriptedReply::Result(res) if res.model == "x"));
    }

    #[test]
    fn the_model_mode_needs_a_model() {
        let c = parse(json!({"mode": "model"}));
        let err = c.backend_with_env(|_| None).unwrap_err();
        assert!(err.to_string().contains("SWITCHBOARD_MODEL"), "{err}");
        let ok = c.backend_with_env(|n| match n {
            "SWITCHBOARD_MODEL" => Some("m".to_string()),
            "OPENAI_API_KEY" => Some("sk-test".to_string()),
            _ => None,
        });
        assert!(ok.is_ok());
        assert!(serde_json::from_value::<SamplingConfig>(json!({"mode": "telepathy"})).is_err());
    }
}
