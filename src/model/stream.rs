//! `ModelClient::chat_stream`: the same request with `"stream": true`,
//! text deltas handed to a callback as they arrive, and the whole reply
//! (text, tool calls assembled from their deltas, finish reason, usage)
//! returned at the end.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;

use super::client::ModelClient;
use super::reply::{Assembler, ChatReply};
use super::request::ChatRequest;
use super::service::from_openai;
use crate::error::model::ModelError;

impl ModelClient {
    /// Streams one chat (`"stream": true`, usage asked for in the last
    /// chunk): `on_text` gets each text delta as it arrives; the assembled
    /// reply is returned when the stream ends. The endpoint's deadline
    /// bounds the wait for the response and for each chunk after it (an
    /// idle deadline: a long answer that keeps flowing is not cut). A
    /// stream that ends before the reply is complete (no finish reason) is
    /// an error. An endpoint that ignores `stream` and answers with plain
    /// JSON is read as [`ModelClient::chat`] would, its text given to
    /// `on_text` at once.
    pub async fn chat_stream(
        &self,
        request: &ChatRequest,
        mut on_text: impl FnMut(&str) + Send,
    ) -> Result<ChatReply, ModelError> {
        let deadline = self.endpoint().timeout;
        let body = request.to_json(self.endpoint().max_tokens_field, true);
        tracing::debug!(model = %request.model, messages = request.messages.len(), "chat stream request");
        let chat = self.api().chat();
        let opened = chat.create_stream_byot::<Value, Value>(body);
        let mut stream = within(deadline, async { opened.await.map_err(from_openai) }).await?;
        let mut assembler = Assembler::default();
        while let Some(chunk) = within(deadline, async { Ok(stream.next().await) }).await? {
            let chunk = chunk.map_err(from_openai)?;
            if chunk.pointer("/choices/0/message").is_some() {
                // A whole completion where a chunk was due (a server that
                // ignored `stream`): the service made it one event.
                let reply = ChatReply::from_value(&chunk, &request.model)?;
                if !reply.text.is_empty() {
                    on_text(&reply.text);
                }
                return Ok(reply);
            }
            if let Some(text) = assembler.push(&chunk)? {
                on_text(&text);
            }
        }
        if assembler.finish_reason.is_none() {
            return Err(ModelError::Malformed {
                detail: "the stream ended before the reply was complete".into(),
            });
        }
        Ok(assembler.finish(&request.model))
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
