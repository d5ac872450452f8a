//! A chat completion reply, read tolerantly from raw JSON.

use serde_json::Value;

use crate::error::model::ModelError;

/// What the model answered (the first choice).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatReply {
    /// Its text (empty when it only called tools).
    pub text: String,
    /// The tools it wants called.
    pub tool_calls: Vec<ToolCall>,
    /// Why it stopped, as the endpoint said it (`stop`, `length`,
    /// `tool_calls`, or anything else); `None` when absent.
    pub finish_reason: Option<String>,
    /// Token counts, when the endpoint reported them.
    pub usage: Option<Usage>,
    /// The model that answered (the endpoint's word, else the one asked).
    pub model: String,
}

/// One tool call of a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The call id.
    pub id: String,
    /// The function name.
    pub name: String,
    /// The arguments exactly as sent (a JSON string, by the API's contract).
    pub arguments: String,
    /// The arguments parsed, `None` when they are not valid JSON.
    pub parsed: Option<Value>,
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Tokens of the prompt.
    pub prompt_tokens: u64,
    /// Tokens of the completion.
    pub completion_tokens: u64,
    /// Both (the endpoint's total, else the sum).
    pub total_tokens: u64,
}

impl Usage {
    /// Reads a `usage` object; `None` when absent or not an object.
    pub(crate) fn from_json(v: &Value) -> Option<Usage> {
        let o = v.as_object()?;
        let n = |k: &str| o.get(k).and_then(Value::as_u64);
        let prompt_tokens = n("prompt_tokens").unwrap_or(0);
        let completion_tokens = n("completion_tokens").unwrap_or(0);
        Some(Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: n("total_tokens").unwrap_or(prompt_tokens + completion_tokens),
        })
    }
}

impl ToolCall {
    /// A call from its parts, parsing the arguments.
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: String) -> Self {
        let parsed = serde_json::from_str(&arguments).ok();
        ToolCall {
            id: id.into(),
            name: name.into(),
            arguments,
            parsed,
        }
    }
}

impl ChatReply {
    /// Reads a chat completion body. `asked` is the model requested, used
    /// when the reply does not name one.
    pub fn from_json(body: &[u8], asked: &str) -> Result<ChatReply, ModelError> {
        let v: Value = serde_json::from_slice(body).map_err(|e| ModelError::Malformed {
            detail: format!("not JSON ({e}): {}", crate::error::model::excerpt(body)),
        })?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(ModelError::Malformed {
                detail: format!("an error object instead of a completion: {err}"),
            });
        }
        let choice = v
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .ok_or_else(|| ModelError::Malformed {
                detail: "no `choices` in the reply".into(),
            })?;
        let message = choice.get("message").unwrap_or(&Value::Null);
        let mut text = content_text(message.get("content").unwrap_or(&Value::Null));
        if text.is_empty() {
            if let Some(r) = message.get("refusal").and_then(Value::as_str) {
                text = r.to_owned();
            }
        }
        let tool_calls = match message.get("tool_calls") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(calls)) => calls
                .iter()
                .enumerate()
                .map(|(i, c)| tool_call(c, i))
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(ModelError::Malformed {
                    detail: format!("`tool_calls` is not an array: {other}"),
                })
            }
        };
        Ok(ChatReply {
            text,
            tool_calls,
            finish_reason: choice
                .get("finish_reason")
                .and_then(Value::as_str)
                .map(str::to_owned),
            usage: v.get("usage").and_then(Usage::from_json),
            model: v
                .get("model")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .unwrap_or(asked)
                .to_owned(),
        })
    }
}

/// The text of a `content` that is a string, an array of parts, or null.
pub(crate) fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

fn tool_call(c: &Value, index: usize) -> Result<ToolCall, ModelError> {
    let function = c.get("function").ok_or_else(|| ModelError::Malformed {
        detail: format!("tool call {index} has no `function`"),
    })?;
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ModelError::Malformed {
            detail: format!("tool call {index} has no function name"),
        })?;
    // Some servers send the arguments as an object instead of a string.
    let arguments = match function.get("arguments") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => "{}".to_owned(),
        Some(other) => other.to_string(),
    };
    let id = c
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("call_{index}"));
    Ok(ToolCall::new(id, name, arguments))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<ChatReply, ModelError> {
        ChatReply::from_json(v.to_string().as_bytes(), "asked")
    }

    #[test]
    fn reads_text_tool_calls_and_usage() {
        let r = parse(json!({
            "model": "m-1",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": null,
                "tool_calls": [{"id": "c1", "type": "function",
                    "function": {"name": "add", "arguments": "{\"a\":1}"}}]}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
        }))
        .unwrap();
        assert_eq!(r.model, "m-1");
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(r.tool_calls[0].parsed, Some(json!({"a": 1})));
        assert_eq!(r.usage.unwrap().total_tokens, 7);
    }

    #[test]
    fn tolerates_odd_but_readable_replies() {
        let r = parse(json!({
            "choices": [{"finish_reason": "eos_token", "message": {"content": [{"type": "text", "text": "hi"}],
                "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]}}]
        }))
        .unwrap();
        assert_eq!(r.text, "hi");
        assert_eq!(r.model, "asked");
        assert_eq!(r.usage, None);
        assert_eq!(r.finish_reason.as_deref(), Some("eos_token"));
        assert_eq!(r.tool_calls[0].id, "call_0");
        assert_eq!(r.tool_calls[0].arguments, "{\"x\":1}");
    }

    #[test]
    fn unreadable_replies_are_malformed() {
        for bad in [
            json!({}),
            json!({"choices": []}),
            json!({"error": {"message": "x"}}),
        ] {
            assert!(matches!(parse(bad), Err(ModelError::Malformed { .. })));
        }
        assert!(matches!(
            ChatReply::from_json(b"\x00garbage", "m"),
            Err(ModelError::Malformed { .. })
        ));
    }
}
