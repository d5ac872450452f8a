//! MCP `sampling/createMessage` params → an OpenAI chat request.
//!
//! - `systemPrompt` becomes the first, `system` message.
//! - User text, images (a `data:` URI from the base64 data and MIME type)
//!   and audio (`input_audio`; only WAV and MP3 exist there, so any other
//!   audio MIME type is refused as invalid params rather than sent to fail
//!   at the provider) become content parts; a lone text block stays a plain
//!   string.
//! - Assistant `tool_use` blocks become `tool_calls`; user `tool_result`
//!   blocks become `tool` messages (their content as text: text blocks as
//!   is, other blocks as their JSON, `structuredContent` as JSON when there
//!   is no content; `isError` prefixes `[tool error] `). Every
//!   `tool_result` must answer a `tool_use` of the message just before, and
//!   every `tool_use` must be answered by the next message: anything else is
//!   refused with invalid params naming the id, before a model is asked.
//! - `maxTokens`, `temperature`, `stopSequences`, `tools`, `toolChoice` map
//!   to their OpenAI fields (`tool_choice` only when tools are offered).
//! - `includeContext` other than `none` is accepted and ignored: this
//!   client adds no server context (the spec lets a client ignore it, and
//!   2025-11-25 soft-deprecates it). `metadata` is not forwarded.

use std::collections::HashSet;

use serde_json::Value;

use crate::model::{
    AudioFormat, ChatMessage, ChatRequest, ChatTool, ChatToolCall, ChatToolChoice, ContentPart,
    UserContent,
};
use crate::protocol::{
    ContentBlock, CreateMessageRequestParams, IncludeContext, Role, SamplingContent,
    SamplingMessage, ToolChoiceMode, ToolResultContent,
};
use crate::session::HandlerError;

/// Builds the chat request for `model`, or refuses params that cannot be
/// sent faithfully.
pub fn chat_request(
    params: &CreateMessageRequestParams,
    model: &str,
) -> Result<ChatRequest, HandlerError> {
    check_tool_pairs(&params.messages)?;
    if matches!(
        params.include_context,
        Some(IncludeContext::ThisServer | IncludeContext::AllServers)
    ) {
        tracing::debug!(include_context = ?params.include_context, "includeContext ignored: no server context is added");
    }
    let mut request = ChatRequest::new(model);
    if let Some(system) = params.system_prompt.as_deref().filter(|s| !s.is_empty()) {
        request.messages.push(ChatMessage::system(system));
    }
    for (i, message) in params.messages.iter().enumerate() {
        match message.role {
            Role::User => user_messages(message, i, &mut request.messages)?,
            Role::Assistant => request.messages.push(assistant_message(message, i)?),
        }
    }
    if let Some(tools) = params.tools.as_ref().filter(|t| !t.is_empty()) {
        request.tools = tools
            .iter()
            .map(|t| ChatTool {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: if t.input_schema.is_empty() {
                    serde_json::json!({"type": "object", "properties": {}})
                } else {
                    Value::Object(t.input_schema.clone())
                },
            })
            .collect();
        request.tool_choice = params
            .tool_choice
            .as_ref()
            .and_then(|c| c.mode.as_ref())
            .map(|mode| match mode {
                ToolChoiceMode::Required => Ok(ChatToolChoice::Required),
                ToolChoiceMode::None => Ok(ChatToolChoice::None),
                ToolChoiceMode::Auto => Ok(ChatToolChoice::Auto),
                ToolChoiceMode::Other(other) => Err(HandlerError::invalid_params(format!(
                    "unknown toolChoice mode {other:?}"
                ))),
            })
            .transpose()?;
    }
    request.max_tokens = Some(params.max_tokens);
    request.temperature = params.temperature;
    request.stop = params.stop_sequences.clone().unwrap_or_default();
    Ok(request)
}

fn user_messages(
    message: &SamplingMessage,
    index: usize,
    out: &mut Vec<ChatMessage>,
) -> Result<(), HandlerError> {
    let mut parts = Vec::new();
    for block in message.content.blocks() {
        match block {
            SamplingContent::Text(t) => parts.push(ContentPart::text(t.text.clone())),
            SamplingContent::Image(img) => {
                parts.push(ContentPart::image_base64(&img.mime_type, &img.data))
            }
            SamplingContent::Audio(audio) => {
                let format = AudioFormat::from_mime(&audio.mime_type).ok_or_else(|| {
                    HandlerError::invalid_params(format!(
                        "message {index}: audio of type {:?} cannot be sent (the model API takes audio/wav or audio/mpeg)",
                        audio.mime_type
                    ))
                })?;
                parts.push(ContentPart::audio_base64(format, audio.data.clone()));
            }
            SamplingContent::ToolResult(result) => out.push(ChatMessage::tool(
                result.tool_use_id.clone(),
                tool_result_text(result),
            )),
            SamplingContent::ToolUse(u) => {
                return Err(HandlerError::invalid_params(format!(
                "message {index}: tool_use {:?} in a user message (only the assistant calls tools)",
                u.id
            )))
            }
        }
    }
    let has_results = message
        .content
        .blocks()
        .iter()
        .any(|b| matches!(b, SamplingContent::ToolResult(_)));
    if parts.is_empty() && has_results {
        return Ok(());
    }
    let content = match parts.as_slice() {
        [] => UserContent::Text(String::new()),
        [ContentPart::Text { text }] => UserContent::Text(text.clone()),
        _ => UserContent::Parts(parts),
    };
    out.push(ChatMessage::User { content });
    Ok(())
}

fn assistant_message(message: &SamplingMessage, index: usize) -> Result<ChatMessage, HandlerError> {
    let mut texts = Vec::new();
    let mut tool_calls = Vec::new();
    for block in message.content.blocks() {
        match block {
            SamplingContent::Text(t) => texts.push(t.text.as_str()),
            SamplingContent::ToolUse(u) => tool_calls.push(ChatToolCall {
                id: u.id.clone(),
                name: u.name.clone(),
                arguments: Value::Object(u.input.clone()).to_string(),
            }),
            SamplingContent::Image(_) | SamplingContent::Audio(_) => {
                return Err(HandlerError::invalid_params(format!(
                    "message {index}: an assistant message can carry only text and tool_use for an OpenAI-compatible model"
                )))
            }
            SamplingContent::ToolResult(r) => {
                return Err(HandlerError::invalid_params(format!(
                    "message {index}: tool_result {:?} in an assistant message (results come from the user)",
                    r.tool_use_id
                )))
            }
        }
    }
    Ok(ChatMessage::Assistant {
        content: (!texts.is_empty() || tool_calls.is_empty()).then(|| texts.join("\n")),
        tool_calls,
    })
}

fn tool_result_text(result: &ToolResultContent) -> String {
    let mut pieces: Vec<String> = result
        .content
        .iter()
        .map(|block| match block {
            ContentBlock::Text(t) => t.text.clone(),
            other => serde_json::to_string(other).unwrap_or_default(),
        })
        .collect();
    if pieces.is_empty() {
        if let Some(structured) = &result.structured_content {
            pieces.push(structured.to_string());
        }
    }
    let text = pieces.join("\n");
    if result.is_error == Some(true) {
        format!("[tool error] {text}")
    } else {
        text
    }
}

/// Every `tool_result` answers a `tool_use` of the message just before it;
/// every `tool_use` is answered by the message just after it.
pub(crate) fn check_tool_pairs(messages: &[SamplingMessage]) -> Result<(), HandlerError> {
    let mut open: Option<(usize, Vec<&str>)> = None;
    for (i, message) in messages.iter().enumerate() {
        let mut uses = Vec::new();
        let mut results = Vec::new();
        for block in message.content.blocks() {
            match block {
                SamplingContent::ToolUse(u) => uses.push(u.id.as_str()),
                SamplingContent::ToolResult(r) => results.push(r.tool_use_id.as_str()),
                _ => {}
            }
        }
        let mut seen = HashSet::new();
        if let Some(dup) = results.iter().find(|id| !seen.insert(**id)) {
            return Err(HandlerError::invalid_params(format!(
                "tool_result {dup:?} appears twice in message {i}"
            )));
        }
        match open.take() {
            Some((j, asked)) => {
                if let Some(stray) = results.iter().find(|id| !asked.contains(id)) {
                    return Err(HandlerError::invalid_params(format!(
                        "tool_result {stray:?} in message {i} matches no tool_use of message {j}"
                    )));
                }
                if let Some(missing) = asked.iter().find(|id| !results.contains(id)) {
                    return Err(HandlerError::invalid_params(format!(
                        "tool_use {missing:?} in message {j} has no tool_result in message {i}"
                    )));
                }
            }
            None => {
                if let Some(stray) = results.first() {
                    return Err(HandlerError::invalid_params(format!(
                        "tool_result {stray:?} in message {i} does not follow a tool_use with that id"
                    )));
                }
            }
        }
        if !uses.is_empty() {
            let mut seen = HashSet::new();
            if let Some(dup) = uses.iter().find(|id| !seen.insert(**id)) {
                return Err(HandlerError::invalid_params(format!(
                    "tool_use id {dup:?} appears twice in message {i}"
                )));
            }
            open = Some((i, uses));
        }
    }
    match open {
        Some((j, asked)) => Err(HandlerError::invalid_params(format!(
            "tool_use {:?} in message {j} has no tool_result (the conversation ends with it)",
            asked.first().copied().unwrap_or_default()
        ))),
        None => Ok(()),
    }
}
