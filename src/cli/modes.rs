//! Deterministic answers to sampling and elicitation for the CLI
//! (`--sampling`, `--elicitation`).

use serde_json::{json, Map, Value};

use crate::{Error, Result};

/// How to answer sampling.
#[derive(Debug, Clone)]
pub enum SamplingMode {
    /// Always reply with this text.
    Text(String),
    /// Always refuse.
    Reject,
    /// Ask the OpenAI-compatible endpoint named by `OPENAI_BASE_URL`,
    /// `OPENAI_API_KEY` and `SWITCHBOARD_MODEL`.
    Model,
}

impl SamplingMode {
    /// Parses `text:REPLY` or `reject`.
    pub fn parse(s: &str) -> Result<Self> {
        if let Some(reply) = s.strip_prefix("text:") {
            Ok(SamplingMode::Text(reply.to_owned()))
        } else if s == "reject" {
            Ok(SamplingMode::Reject)
        } else if s == "model" {
            Ok(SamplingMode::Model)
        } else {
            Err(Error::invalid_argument(format!(
                "--sampling {s:?}: expected text:REPLY, reject or model"
            )))
        }
    }

    /// The handler: a [`crate::Sampler`] (its actor answers requests
    /// concurrently). `model` reads the endpoint from the environment and
    /// fails here, before connecting, when `SWITCHBOARD_MODEL` is unset.
    pub fn sampler(self) -> Result<crate::Sampler> {
        use crate::sampling::{ModelChoice, ModelConfig, SamplingBackend};
        let backend = match self {
            SamplingMode::Text(reply) => SamplingBackend::Text(reply),
            SamplingMode::Reject => {
                SamplingBackend::Reject("sampling rejected by --sampling reject".into())
            }
            SamplingMode::Model => {
                let endpoint = ModelConfig::default()
                    .endpoint(&|name| std::env::var(name).ok())
                    .map_err(|e| flag_error("--sampling model", e))?;
                SamplingBackend::Model {
                    choice: ModelChoice {
                        default: endpoint.model.clone(),
                        candidates: Vec::new(),
                    },
                    client: crate::model::ModelClient::new(endpoint)?,
                }
            }
        };
        crate::Sampler::builder(backend).start()
    }
}

/// How to answer elicitation.
#[derive(Debug, Clone)]
pub enum ElicitationMode {
    /// Decline every request.
    Decline,
    /// Cancel every request.
    Cancel,
    /// Accept forms with the schema's defaults.
    AcceptDefaults,
    /// Accept forms with these values (defaults fill the rest).
    Accept(Map<String, Value>),
    /// Ask the OpenAI-compatible endpoint named by the environment to fill
    /// each form.
    Model,
}

impl ElicitationMode {
    /// Parses `decline`, `cancel`, `accept-defaults` or `accept:JSON`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "decline" => Ok(ElicitationMode::Decline),
            "cancel" => Ok(ElicitationMode::Cancel),
            "accept-defaults" => Ok(ElicitationMode::AcceptDefaults),
            "model" => Ok(ElicitationMode::Model),
            other => match other.strip_prefix("accept:") {
                Some(json) => match serde_json::from_str(json) {
                    Ok(Value::Object(map)) => Ok(ElicitationMode::Accept(map)),
                    _ => Err(Error::invalid_argument(format!(
                        "--elicitation accept:JSON needs a JSON object, got {json:?}"
                    ))),
                },
                None => Err(Error::invalid_argument(format!(
                    "--elicitation {s:?}: expected decline, cancel, accept-defaults, accept:JSON or model"
                ))),
            },
        }
    }

    /// The policy that answers this way (its actor checks each form
    /// against the spec's limits, fills defaults and validates the answer
    /// before accepting; URLs are never opened by the CLI). `model` reads
    /// the endpoint from the environment and fails here when
    /// `SWITCHBOARD_MODEL` is unset.
    pub fn policy(self) -> Result<crate::Policy> {
        let (default, rules) = match self {
            ElicitationMode::Decline => ("decline", json!([])),
            ElicitationMode::Cancel => ("cancel", json!([])),
            ElicitationMode::AcceptDefaults => ("accept_defaults", json!([])),
            ElicitationMode::Accept(values) => (
                "decline",
                json!([{"mode": "form", "action": "accept", "values": values}]),
            ),
            ElicitationMode::Model => ("fill", json!([])),
        };
        let table = json!({"rules": rules, "default": default});
        crate::policy::policy_from_table(&table, |name| std::env::var(name).ok())
            .map_err(|e| flag_error("--elicitation model", e))
    }
}

/// A flag whose value cannot be used as the environment stands (`model`
/// without `SWITCHBOARD_MODEL`): the caller's mistake, said in the
/// command line's terms, not a config file's.
fn flag_error(flag: &str, e: Error) -> Error {
    let reason = match e.as_config() {
        Some(c)
            if c.field
                .as_deref()
                .is_some_and(|f| f == "model" || f.ends_with(".model")) =>
        {
            "no model is named: set \
             SWITCHBOARD_MODEL (the endpoint is OPENAI_BASE_URL, its key in OPENAI_API_KEY)"
                .to_owned()
        }
        Some(c) => c.reason.clone(),
        None => e.to_string(),
    };
    Error::invalid_argument(format!("{flag}: {reason}"))
}
