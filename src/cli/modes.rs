//! Deterministic answers to sampling and elicitation for the CLI
//! (`--sampling`, `--elicitation`).

use serde_json::{Map, Value};

use crate::protocol::{ElicitRequestParams, ElicitResult};
use crate::session::{HandlerError, RequestContext};
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
            Err(Error::Config(format!(
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
                    .map_err(|e| Error::Config(format!("--sampling model: {e}")))?;
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
}

impl ElicitationMode {
    /// Parses `decline`, `cancel`, `accept-defaults` or `accept:JSON`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "decline" => Ok(ElicitationMode::Decline),
            "cancel" => Ok(ElicitationMode::Cancel),
            "accept-defaults" => Ok(ElicitationMode::AcceptDefaults),
            "model" => Err(Error::NotSupported(
                "--elicitation model: answering forms with a model is not built yet".into(),
            )),
            other => match other.strip_prefix("accept:") {
                Some(json) => match serde_json::from_str(json) {
                    Ok(Value::Object(map)) => Ok(ElicitationMode::Accept(map)),
                    _ => Err(Error::Config(format!(
                        "--elicitation accept:JSON needs a JSON object, got {json:?}"
                    ))),
                },
                None => Err(Error::Config(format!(
                    "--elicitation {s:?}: expected decline, cancel, accept-defaults or accept:JSON"
                ))),
            },
        }
    }

    /// The handler for the client builder.
    pub fn handler(
        self,
    ) -> impl Fn(
        ElicitRequestParams,
        RequestContext,
    ) -> std::future::Ready<Result<ElicitResult, HandlerError>>
           + Send
           + Sync
           + 'static {
        move |params, _ctx| {
            std::future::ready(Ok(match (&self, &params) {
                (ElicitationMode::Decline, _) => ElicitResult::decline(),
                (ElicitationMode::Cancel, _) => ElicitResult::cancel(),
                // A URL is never opened by the CLI.
                (_, ElicitRequestParams::Url(_)) => ElicitResult::decline(),
                (ElicitationMode::AcceptDefaults, ElicitRequestParams::Form(form)) => {
                    ElicitResult::accept(defaults_of(&form.requested_schema))
                }
                (ElicitationMode::Accept(values), ElicitRequestParams::Form(form)) => {
                    let mut content = defaults_of(&form.requested_schema);
                    content.extend(values.clone());
                    ElicitResult::accept(content)
                }
            }))
        }
    }
}

/// The `default` of every property of a form schema.
pub fn defaults_of(schema: &impl serde::Serialize) -> Map<String, Value> {
    let schema = serde_json::to_value(schema).unwrap_or(Value::Null);
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter_map(|(k, p)| p.get("default").map(|d| (k.clone(), d.clone())))
                .collect()
        })
        .unwrap_or_default()
}
