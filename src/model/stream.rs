//! `ModelClient::chat_stream`: the same request with `"stream": true`,
//! text deltas handed to a callback as they arrive, and the whole reply
//! (text, tool calls assembled from their deltas, finish reason, usage)
//! returned at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::client::ModelClient;
use super::reply::{content_text, ChatReply, ToolCall, Usage};
use super::request::ChatRequest;
use crate::error::model::ModelError;

/// The largest single stream event read.
const MAX_EVENT: usize = 4 * 1024 * 1024;

/// A tool call being assembled from deltas.
#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Folds stream chunks into a reply.
#[derive(Default)]
pub(crate) struct Assembler {
    text: String,
    calls: BTreeMap<u64, PartialCall>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    model: Option<String>,
    done: bool,
}

impl Assembler {
    /// Takes one `data:` payload; returns the text delta it carried.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<Option<String>, ModelError> {
        if data.trim_ascii() == b"[DONE]" {
            self.done = true;
            return Ok(None);
        }
        let chunk: Value = serde_json::from_slice(data).map_err(|e| ModelError::Malformed {
            detail: format!(
                "stream chunk is not JSON ({e}): {}",
                crate::error::model::excerpt(data)
            ),
        })?;
        if let Some(err) = chunk.get("error").filter(|e| !e.is_null()) {
            return Err(ModelError::Malformed {
                detail: format!("the stream reported an error: {err}"),
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
        let Some(choice) = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        else {
            return Ok(None);
        };
        if let Some(r) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(r.to_owned());
        }
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        for (i, c) in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let index = c.get("index").and_then(Value::as_u64).unwrap_or(i as u64);
            let call = self.calls.entry(index).or_default();
            if let Some(id) = c.get("id").and_then(Value::as_str) {
                call.id.push_str(id);
            }
            if let Some(f) = c.get("function") {
                if let Some(n) = f.get("name").and_then(Value::as_str) {
                    call.name.push_str(n);
                }
                match f.get("arguments") {
                    Some(Value::String(a)) => call.arguments.push_str(a),
                    Some(Value::Null) | None => {}
                    Some(other) => call.arguments.push_str(&other.to_string()),
                }
            }
        }
        let text = content_text(delta.get("content").unwrap_or(&Value::Null));
        if text.is_empty() {
            return Ok(None);
        }
        self.text.push_str(&text);
        Ok(Some(text))
    }

    /// The reply so far, as final.
    pub(crate) fn finish(self, asked: &str) -> ChatReply {
        ChatReply {
            text: self.text,
            tool_calls: self
                .calls
                .into_iter()
                .map(|(i, c)| {
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
                })
                .collect(),
            finish_reason: self.finish_reason,
            usage: self.usage,
            model: self.model.unwrap_or_else(|| asked.to_owned()),
        }
    }
}

impl ModelClient {
    /// Streams one chat (`"stream": true`, usage asked for in the last
    /// chunk): `on_text` gets each text delta as it arrives; the assembled
    /// reply is returned when the stream ends. The endpoint's deadline
    /// bounds the wait for the response and for each chunk after it (an
    /// idle deadline: a long answer that keeps flowing is not cut). An
    /// endpoint that ignores `stream` and answers with plain JSON is read
    /// as [`ModelClient::chat`] would, its text given to `on_text` at once.
    pub async fn chat_stream(
        &self,
        request: &ChatRequest,
        mut on_text: impl FnMut(&str) + Send,
    ) -> Result<ChatReply, ModelError> {
        let deadline = self.endpoint().timeout;
        let body = request.to_json(self.endpoint().max_tokens_field, true);
        tracing::debug!(model = %request.model, messages = request.messages.len(), "chat stream request");
        let mut response = within(deadline, self.post(body)).await?;
        let status = response.status().as_u16();
        let is_sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !(200..300).contains(&status) || !is_sse {
            let bytes = within(deadline, Self::read_body(response)).await?;
            if !(200..300).contains(&status) {
                return Err(ModelError::http(status, &bytes));
            }
            let reply = ChatReply::from_json(&bytes, &request.model)?;
            if !reply.text.is_empty() {
                on_text(&reply.text);
            }
            return Ok(reply);
        }
        let mut lines = DataLines::default();
        let mut assembler = Assembler::default();
        let mut events = Vec::new();
        while !assembler.done {
            let chunk = within(deadline, async {
                response.chunk().await.map_err(|e| ModelError::Malformed {
                    detail: format!("the stream broke off: {e}"),
                })
            })
            .await?;
            let Some(chunk) = chunk else { break };
            lines.feed(&chunk, &mut events)?;
            for data in events.drain(..) {
                if let Some(text) = assembler.push(&data)? {
                    on_text(&text);
                }
            }
        }
        if !assembler.done && assembler.finish_reason.is_none() {
            return Err(ModelError::Malformed {
                detail: "the stream ended before the reply was complete".into(),
            });
        }
        Ok(assembler.finish(&request.model))
    }
}

/// The `data:` payloads of an SSE stream. Chat streams use nothing else
/// (no `id`, `retry` or named events), so this is all the format needed
/// here; a `data` field split over several lines is joined with `\n`.
#[derive(Default)]
struct DataLines {
    line: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
}

impl DataLines {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), ModelError> {
        for &b in chunk {
            if b != b'\n' {
                self.line.push(b);
                if self.line.len() + self.data.len() > MAX_EVENT {
                    return Err(ModelError::Malformed {
                        detail: format!("a stream event passed {MAX_EVENT} bytes"),
                    });
                }
                continue;
            }
            let line = std::mem::take(&mut self.line);
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            if line.is_empty() {
                if self.has_data {
                    out.push(std::mem::take(&mut self.data));
                    self.has_data = false;
                }
            } else if let Some(value) = line.strip_prefix(b"data:") {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data
                    .extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
                self.has_data = true;
            }
            // Comments (`:`) and other fields are ignored.
        }
        Ok(())
    }
}

async fn within<T>(
    deadline: Duration,
    f: impl std::future::Future<Output = Result<T, ModelError>>,
) -> Result<T, ModelError> {
    tokio::time::timeout(deadline, f)
        .await
        .unwrap_or(Err(ModelError::Timeout { after: deadline }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_lines_split_events_across_chunks() {
        let mut d = DataLines::default();
        let mut out = Vec::new();
        d.feed(b": keep-alive\n\ndata: {\"a\"", &mut out).unwrap();
        assert!(out.is_empty());
        d.feed(b":1}\r\n\r\ndata: [DONE]\n\n", &mut out).unwrap();
        assert_eq!(out, [b"{\"a\":1}".to_vec(), b"[DONE]".to_vec()]);
    }

    #[test]
    fn assembles_text_tool_calls_and_usage_from_deltas() {
        let mut a = Assembler::default();
        let chunks = [
            json!({"model": "m-s", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]}),
            json!({"choices": [{"index": 0, "delta": {"content": "lo"}}]}),
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c1", "type": "function",
                "function": {"name": "add", "arguments": ""}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\":"}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
            json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}}),
        ];
        let mut deltas = Vec::new();
        for c in chunks {
            if let Some(t) = a.push(c.to_string().as_bytes()).unwrap() {
                deltas.push(t);
            }
        }
        a.push(b"[DONE]").unwrap();
        assert!(a.done);
        let r = a.finish("asked");
        assert_eq!(deltas, ["Hel", "lo"]);
        assert_eq!(r.text, "Hello");
        assert_eq!(r.model, "m-s");
        assert_eq!(r.tool_calls[0].id, "c1");
        assert_eq!(r.tool_calls[0].parsed, Some(json!({"a": 1})));
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(r.usage.unwrap().total_tokens, 11);
    }
}
