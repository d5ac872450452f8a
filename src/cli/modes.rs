//! Deterministic answers to sampling and elicitation for the CLI
//! (`--sampling`, `--elicitation`).

use serde_json::{Map, Value};

use crate::protocol::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
};
use crate::session::{HandlerError, RequestContext};
use crate::{Error, Result};

/// How to answer sampling.
#[derive(Debug, Clone)]
pub enum SamplingMode {
    /// Always reply with this text.
    Text(String),
    /// Always refuse.
    Reject,
}

impl SamplingMode {
    /// Parses `text:REPLY` or `reject`.
    pub fn parse(s: &str) -> Result<Self> {
        if let Some(reply) = s.strip_prefix("text:") {
            Ok(SamplingMode::Text(reply.to_owned()))
        } else if s == "reject" {
            Ok(SamplingMode::Reject)
        } else if s == "model" {
            Err(Error::NotSupported(
                "--sampling model: answering sampling from an OpenAI-compatible model is not built yet; use text:REPLY or reject".into(),
            ))
        } else {
            Err(Error::Config(format!(
                "--sampling {s:?}: expected text:REPLY or reject"
            )))
        }
    }

    /// The handler for the client builder.
    pub fn handler(
        self,
    ) -> impl Fn(
        CreateMessageRequestParams,
        RequestContext,
    ) -> std::future::Ready<Result<CreateMessageResult, HandlerError>>
           + Send
           + Sync
           + 'static {
        move |_params, _ctx| {
            std::future::ready(match &self {
                SamplingMode::Text(reply) => Ok(CreateMessageResult::text(
                    "switchboard-fixed",
                    reply.clone(),
                )),
                SamplingMode::Reject => Err(HandlerError::rejected(
                    "sampling rejected by --sampling reject",
                )),
            })
        }
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
