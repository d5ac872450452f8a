//! What an agent talks to: anything that answers a chat request.

use futures_util::future::BoxFuture;

use crate::model::{ChatReply, ChatRequest, ModelClient, ModelError};

/// Called with each piece of the model's text as it arrives.
pub type TextSink<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// A chat model: an OpenAI-compatible endpoint ([`ModelClient`]), the
/// built-in [`super::Planner`], or your own.
pub trait ChatModel: Send + Sync + 'static {
    /// Answers one request. `on_text` hears the reply's text as it is
    /// written when the model streams; a model that does not stream calls
    /// it once with the whole text (or not at all when there is none).
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_text: Option<TextSink<'a>>,
    ) -> BoxFuture<'a, Result<ChatReply, ModelError>>;

    /// The model's name for transcripts.
    fn name(&self) -> String;
}

/// An OpenAI-compatible endpoint streams its text when someone listens
/// (`stream: true`; an endpoint that answers with one JSON body is fine).
impl ChatModel for ModelClient {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_text: Option<TextSink<'a>>,
    ) -> BoxFuture<'a, Result<ChatReply, ModelError>> {
        Box::pin(async move {
            match on_text {
                Some(sink) => self.chat_stream(request, |delta| sink(delta)).await,
                None => ModelClient::chat(self, request).await,
            }
        })
    }

    fn name(&self) -> String {
        self.endpoint().model.clone()
    }
}

/// An endpoint asked without streaming (for servers whose streams are
/// broken); the text is heard once, whole.
pub struct Unstreamed(pub ModelClient);

impl ChatModel for Unstreamed {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_text: Option<TextSink<'a>>,
    ) -> BoxFuture<'a, Result<ChatReply, ModelError>> {
        Box::pin(async move {
            let reply = self.0.chat(request).await?;
            tell_whole_text(on_text, &reply);
            Ok(reply)
        })
    }

    fn name(&self) -> String {
        self.0.endpoint().model.clone()
    }
}

/// For a model that does not stream: the whole text, once (nothing when
/// there is none).
pub(crate) fn tell_whole_text(on_text: Option<TextSink<'_>>, reply: &ChatReply) {
    if let Some(sink) = on_text {
        if !reply.text.is_empty() {
            sink(&reply.text);
        }
    }
}
