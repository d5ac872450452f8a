//! A chat completion reply, read tolerantly from raw JSON.

use std::collections::BTreeMap;

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
        Self::from_value(&v, asked)
    }

    /// [`ChatReply::from_json`] on parsed JSON: a whole completion read as
    /// one chunk of a stream whose `message` is the `delta`. Read by hand,
    /// not through async-openai's typed reply: that rejects what real
    /// servers send (llama.cpp's finish reason `eos_token`, arguments sent
    /// as an object, a missing `id` or `usage`).
    pub fn from_value(v: &Value, asked: &str) -> Result<ChatReply, ModelError> {
        if v.pointer("/choices/0").is_none() && v.get("error").is_none() {
            return Err(ModelError::Malformed {
                detail: "no `choices` in the reply".into(),
            });
        }
        let mut whole = Assembler::default();
        whole.push(v)?;
        let reply = whole.finish(asked);
        match reply.tool_calls.iter().position(|c| c.name.is_empty()) {
            Some(i) => Err(ModelError::Malformed {
                detail: format!("tool call {i} has no function name"),
            }),
            None => Ok(reply),
        }
    }
}

/// The text of a `content` that is a string, an array of parts, or null.
fn content_text(content: &Value) -> String {
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

/// A tool call being assembled from deltas.
#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Folds stream chunks (or one whole completion) into a reply.
#[derive(Default)]
pub(super) struct Assembler {
    text: String,
    refusal: String,
    calls: BTreeMap<u64, PartialCall>,
    pub(super) finish_reason: Option<String>,
    usage: Option<Usage>,
    model: Option<String>,
}

impl Assembler {
    /// Takes one chunk; returns the text delta it carried.
    pub(super) fn push(&mut self, chunk: &Value) -> Result<Option<String>, ModelError> {
        if let Some(err) = chunk.get("error").filter(|e| !e.is_null()) {
            return Err(ModelError::Malformed {
                detail: format!("the endpoint sent an error object: {err}"),
            });
        }
        if let Some(m) = chunk.get("model").and_then(Value::as_str) {
            if !m.is_empty() {
                self.model = Some(m.to_owned());
            }
        }
        if let Some(u) = chunk.get("usage").and_then(Usage::from_json) {
            self.usage = Some(u);
        }
        let Some(choice) = chunk.pointer("/choices/0") else {
            return Ok(None);
        };
        if let Some(r) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(r.to_owned());
        }
        let delta = choice.get("delta").or(choice.get("message"));
        let delta = delta.unwrap_or(&Value::Null);
        let calls = match delta.get("tool_calls") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(calls)) => calls,
            Some(other) => {
                return Err(ModelError::Malformed {
                    detail: format!("`tool_calls` is not an array: {other}"),
                })
            }
        };
        for (i, c) in calls.iter().enumerate() {
            let index = c.get("index").and_then(Value::as_u64).unwrap_or(i as u64);
            let call = self.calls.entry(index).or_default();
            if let Some(id) = c.get("id").and_then(Value::as_str) {
                call.id.push_str(id);
            }
            let f = c.get("function").unwrap_or(&Value::Null);
            if let Some(n) = f.get("name").and_then(Value::as_str) {
                call.name.push_str(n);
            }
            // Some servers send the arguments as an object, not a string.
            match f.get("arguments") {
                Some(Value::String(a)) => call.arguments.push_str(a),
                Some(Value::Null) | None => {}
                Some(other) => call.arguments.push_str(&other.to_string()),
            }
        }
        if let Some(r) = delta.get("refusal").and_then(Value::as_str) {
            self.refusal.push_str(r);
        }
        let text = content_text(delta.get("content").unwrap_or(&Value::Null));
        if text.is_empty() {
            return Ok(None);
        }
        self.text.push_str(&text);
        Ok(Some(text))
    }

    /// The reply so far, as final (a refusal is its text when it has no
    /// other).
    pub(super) fn finish(self, asked: &str) -> ChatReply {
        let call = |(i, c): (u64, PartialCall)| {
            let id = if c.id.is_empty() {
                format!("call_{i}")
            } else {
                c.id
            };
            let args = if c.arguments.is_empty() {
                "{}".to_owned()
            } else {
                c.arguments
            };
            ToolCall::new(id, c.name, args)
        };
        ChatReply {
            text: if self.text.is_empty() {
                self.refusal
            } else {
                self.text
            },
            tool_calls: self.calls.into_iter().map(call).collect(),
            finish_reason: self.finish_reason,
            usage: self.usage,
            model: self.model.unwrap_or_else(|| asked.to_owned()),
        }
    }
}
