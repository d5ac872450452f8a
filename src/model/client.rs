//! `ModelClient`: async-openai's client over our strict service, one
//! request per chat, with a hard deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::endpoint::ModelEndpoint;
use super::reply::ChatReply;
use super::request::ChatRequest;
use super::service::{from_openai, EndpointConfig, StrictService};
use crate::error::model::ModelError;

/// A client for one OpenAI-compatible endpoint. Cheap to clone (a pooled
/// `reqwest::Client` inside); safe to share across tasks.
#[derive(Clone)]
pub struct ModelClient {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: ModelEndpoint,
    api: async_openai::Client<EndpointConfig>,
}

impl std::fmt::Debug for ModelClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The endpoint's Debug hides the key.
        f.debug_struct("ModelClient")
            .field("endpoint", &self.inner.endpoint)
            .finish()
    }
}

impl ModelClient {
    /// A client for an endpoint. Fails only on an unusable key (not a valid
    /// header value) or when the HTTP stack cannot start.
    pub fn new(endpoint: ModelEndpoint) -> Result<Self, ModelError> {
        // The factory installs the ring TLS provider first: async-openai's
        // `Client` panics under `rustls-no-provider` without one.
        let http = crate::http_client::builder(endpoint.timeout.min(Duration::from_secs(30)))
            .build()
            .map_err(|e| ModelError::Config(format!("cannot build the HTTP client: {e}")))?;
        let config = EndpointConfig::new(&endpoint)?;
        let api = async_openai::Client::build(http.clone(), config)
            .with_http_service(StrictService::new(http));
        Ok(ModelClient {
            inner: Arc::new(Inner { endpoint, api }),
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &ModelEndpoint {
        &self.inner.endpoint
    }

    pub(super) fn api(&self) -> &async_openai::Client<EndpointConfig> {
        &self.inner.api
    }

    /// `text` (an error's, typically: endpoints echo what they were sent)
    /// with this endpoint's API key replaced by `[redacted]`, for logs.
    pub fn redact(&self, text: &str) -> String {
        let key = self.inner.endpoint.api_key.expose();
        if key.len() >= 4 {
            text.replace(key, "[redacted]")
        } else {
            text.to_owned()
        }
    }

    /// Sends one chat request and reads the reply, all within the
    /// endpoint's deadline. Never retries: a retry is the caller's call
    /// (and its budget's).
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatReply, ModelError> {
        let deadline = self.inner.endpoint.timeout;
        let started = Instant::now();
        let body = request.to_json(self.inner.endpoint.max_tokens_field, false);
        tracing::debug!(base = %self.inner.endpoint.base_url, model = %request.model, messages = request.messages.len(), "chat request");
        let chat = self.api().chat();
        let sent = chat.create_byot::<Value, Value>(body);
        let reply = match tokio::time::timeout(deadline, sent).await {
            Ok(r) => r.map_err(from_openai)?,
            Err(_) => return Err(ModelError::Timeout { after: deadline }),
        };
        tracing::debug!(base = %self.inner.endpoint.base_url, elapsed = ?started.elapsed(), "chat reply");
        ChatReply::from_value(&reply, &request.model)
    }
}
