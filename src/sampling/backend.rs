//! What answers sampling: a model endpoint, or a deterministic rule for
//! tests and offline use.

use serde::Deserialize;

use super::choose::ModelChoice;
use crate::model::ModelClient;
use crate::protocol::CreateMessageResult;

/// The model name deterministic text replies carry.
pub const FIXED_MODEL: &str = "switchboard-fixed";
/// The model name scripted text replies carry.
pub const SCRIPTED_MODEL: &str = "switchboard-scripted";

/// Where answers come from.
#[derive(Debug, Clone)]
pub enum SamplingBackend {
    /// An OpenAI-compatible endpoint; the model is chosen per request.
    Model {
        /// The endpoint's client.
        client: ModelClient,
        /// How the model is chosen from the server's preferences.
        choice: ModelChoice,
    },
    /// Always this text (model [`FIXED_MODEL`]).
    Text(String),
    /// These replies in order, then an error for every further request.
    Scripted(Vec<ScriptedReply>),
    /// Refuse every request with this reason.
    Reject(String),
}

impl SamplingBackend {
    /// A model backend that always uses the endpoint's own model.
    pub fn model(client: ModelClient) -> Self {
        let choice = ModelChoice::new(client.endpoint().model.clone());
        SamplingBackend::Model { client, choice }
    }

    /// Whether replies may call tools (declares `sampling.tools`).
    pub fn supports_tools(&self) -> bool {
        matches!(
            self,
            SamplingBackend::Model { .. } | SamplingBackend::Scripted(_)
        )
    }
}

/// One scripted reply: a text (model [`SCRIPTED_MODEL`], `endTurn`), or a
/// whole `CreateMessageResult` (e.g. with `tool_use` blocks).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ScriptedReply {
    /// A text reply.
    Text(String),
    /// A complete result, sent as it is.
    Result(Box<CreateMessageResult>),
}

impl ScriptedReply {
    /// The result it stands for.
    pub fn into_result(self) -> CreateMessageResult {
        match self {
            ScriptedReply::Text(text) => CreateMessageResult::text(SCRIPTED_MODEL, text),
            ScriptedReply::Result(r) => *r,
        }
    }
}
