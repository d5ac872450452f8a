//! Sampling: a server asks the client's model for a message
//! (`sampling/createMessage`; deprecated in 2026-07-28 but still served).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{nullable, string_enum, JsonObject, Meta, Role};
use super::content::{AudioContent, ContentBlock, ImageContent, TextContent};
use super::tools::Tool;

string_enum! {
    /// Which MCP context to include in the prompt (`thisServer` and
    /// `allServers` are deprecated).
    pub enum IncludeContext {
        /// No context (the default).
        None = "none",
        /// Context from the requesting server.
        ThisServer = "thisServer",
        /// Context from every connected server.
        AllServers = "allServers",
    }
}

string_enum! {
    /// How the model may use the offered tools.
    pub enum ToolChoiceMode {
        /// The model decides (the default).
        Auto = "auto",
        /// The model must call a tool.
        Required = "required",
        /// The model must not call tools.
        None = "none",
    }
}

string_enum! {
    /// Why sampling stopped. Open-ended: providers add their own reasons.
    pub enum StopReason {
        /// The model finished its turn.
        EndTurn = "endTurn",
        /// A stop sequence matched.
        StopSequence = "stopSequence",
        /// The token limit was reached.
        MaxTokens = "maxTokens",
        /// The model wants to call tools.
        ToolUse = "toolUse",
    }
}

/// Params of `sampling/createMessage` (received from a server).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageRequestParams {
    /// The conversation so far.
    pub messages: Vec<SamplingMessage>,
    /// The maximum number of tokens to sample (must be respected).
    pub max_tokens: u64,
    /// A system prompt the server asks for (may be changed or ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Which MCP context to include.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_context: Option<IncludeContext>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Provider-specific metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonObject>,
    /// Model selection preferences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_preferences: Option<ModelPreferences>,
    /// Tools the model may call (needs the `sampling.tools` capability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// How the model may use the tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Request metadata (e.g. `progressToken`, handshake era).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know (e.g. a 2025-11-25 `task`).
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// One message of a sampling conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamplingMessage {
    /// Who speaks.
    pub role: Role,
    /// One block or several.
    pub content: SamplingMessageContent,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl SamplingMessage {
    /// A message with one text block.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        SamplingMessage {
            role,
            content: SamplingMessageContent::Single(SamplingContent::text(text)),
            meta: None,
            extra: Map::new(),
        }
    }
}

/// The content of a sampling message or result: one block, or an array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SamplingMessageContent {
    /// A single block (the only form before 2025-11-25).
    Single(SamplingContent),
    /// Several blocks (2025-11-25+).
    Multiple(Vec<SamplingContent>),
}

impl SamplingMessageContent {
    /// The blocks, whichever the form.
    pub fn blocks(&self) -> &[SamplingContent] {
        match self {
            SamplingMessageContent::Single(b) => std::slice::from_ref(b),
            SamplingMessageContent::Multiple(v) => v,
        }
    }

    /// The text of all text blocks, joined with newlines.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self.blocks().iter().filter_map(|b| b.as_text()).collect();
        texts.join("\n")
    }
}

impl From<SamplingContent> for SamplingMessageContent {
    fn from(b: SamplingContent) -> Self {
        SamplingMessageContent::Single(b)
    }
}

impl From<Vec<SamplingContent>> for SamplingMessageContent {
    fn from(v: Vec<SamplingContent>) -> Self {
        SamplingMessageContent::Multiple(v)
    }
}

/// A block of sampling content, tagged by `"type"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SamplingContent {
    /// `"text"`.
    Text(TextContent),
    /// `"image"`.
    Image(ImageContent),
    /// `"audio"`.
    Audio(AudioContent),
    /// `"tool_use"`: the model calls a tool.
    ToolUse(ToolUseContent),
    /// `"tool_result"`: the result of a tool call.
    ToolResult(ToolResultContent),
}

impl SamplingContent {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        SamplingContent::Text(TextContent::new(text))
    }

    /// The text, when this is a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            SamplingContent::Text(t) => Some(&t.text),
            _ => None,
        }
    }
}

/// The model's request to call a tool.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolUseContent {
    /// Id matched by the `toolUseId` of the result.
    pub id: String,
    /// The tool name.
    pub name: String,
    /// The arguments.
    #[serde(default)]
    pub input: JsonObject,
    /// Metadata (preserve it).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// The result of a tool call inside a sampling conversation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResultContent {
    /// The `id` of the matching tool use.
    pub tool_use_id: String,
    /// Unstructured result.
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    /// Structured result (any JSON value in 2026-07-28).
    #[serde(
        default,
        deserialize_with = "nullable::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub structured_content: Option<Value>,
    /// The tool failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Metadata (preserve it).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// A server's preferences for model selection.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelPreferences {
    /// Model name substrings, in order of preference (first match wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hints: Option<Vec<ModelHint>>,
    /// How much cost matters (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_priority: Option<f64>,
    /// How much speed matters (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_priority: Option<f64>,
    /// How much capability matters (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intelligence_priority: Option<f64>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// A model name hint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelHint {
    /// A substring of a model name, e.g. `"sonnet"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// How the model may use the offered tools.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolChoice {
    /// The mode (default `auto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ToolChoiceMode>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// The client's answer to `sampling/createMessage` (no `resultType`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageResult {
    /// Always `assistant` in practice.
    pub role: Role,
    /// One block or several.
    pub content: SamplingMessageContent,
    /// The model that produced it.
    pub model: String,
    /// Why sampling stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl CreateMessageResult {
    /// An assistant text reply that ended its turn.
    pub fn text(model: impl Into<String>, text: impl Into<String>) -> Self {
        CreateMessageResult {
            role: Role::Assistant,
            content: SamplingMessageContent::Single(SamplingContent::text(text)),
            model: model.into(),
            stop_reason: Some(StopReason::EndTurn),
            meta: None,
            extra: Map::new(),
        }
    }
}
