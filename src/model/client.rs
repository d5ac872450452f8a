//! `ModelClient`: one POST per chat, with a hard deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use super::endpoint::ModelEndpoint;
use super::reply::ChatReply;
use super::request::ChatRequest;
use crate::error::model::ModelError;

/// The largest reply body read (a chat completion is far smaller).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A client for one OpenAI-compatible endpoint. Cheap to clone (a pooled
/// `reqwest::Client` inside); safe to share across tasks.
#[derive(Clone)]
pub struct ModelClient {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: ModelEndpoint,
    url: String,
    http: reqwest::Client,
    headers: HeaderMap,
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
        let http = crate::http_client::builder(endpoint.timeout.min(Duration::from_secs(30)))
            .build()
            .map_err(|e| ModelError::Config(format!("cannot build the HTTP client: {e}")))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if !endpoint.api_key.is_empty() {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", endpoint.api_key.expose()))
                .map_err(|_| {
                    ModelError::Config("the API key is not a valid header value".into())
                })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(ModelClient {
            inner: Arc::new(Inner {
                url: endpoint.chat_url(),
                endpoint,
                http,
                headers,
            }),
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &ModelEndpoint {
        &self.inner.endpoint
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
        tracing::debug!(url = %self.inner.url, model = %request.model, messages = request.messages.len(), "chat request");
        let sent = tokio::time::timeout(deadline, self.exchange(body)).await;
        let (status, bytes) = match sent {
            Ok(r) => r?,
            Err(_) => return Err(ModelError::Timeout { after: deadline }),
        };
        tracing::debug!(url = %self.inner.url, status, elapsed = ?started.elapsed(), bytes = bytes.len(), "chat reply");
        if !(200..300).contains(&status) {
            return Err(ModelError::http(status, &bytes));
        }
        ChatReply::from_json(&bytes, &request.model)
    }

    /// POSTs the body and reads the whole response (bounded).
    async fn exchange(&self, body: serde_json::Value) -> Result<(u16, Vec<u8>), ModelError> {
        let response = self.post(body).await?;
        let status = response.status().as_u16();
        Ok((status, Self::read_body(response).await?))
    }

    /// POSTs a body; the response's headers have arrived.
    pub(super) async fn post(
        &self,
        body: serde_json::Value,
    ) -> Result<reqwest::Response, ModelError> {
        self.inner
            .http
            .post(&self.inner.url)
            .headers(self.inner.headers.clone())
            .json(&body)
            .send()
            .await
            .map_err(connect_error)
    }

    /// Reads a whole body (bounded).
    pub(super) async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, ModelError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(read_error)? {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(ModelError::Malformed {
                    detail: format!("reply larger than {MAX_BODY} bytes"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

fn connect_error(e: reqwest::Error) -> ModelError {
    // reqwest's Display never includes our headers.
    ModelError::Connect {
        detail: error_chain(&e),
    }
}

fn read_error(e: reqwest::Error) -> ModelError {
    ModelError::Malformed {
        detail: format!("the reply broke off: {}", error_chain(&e)),
    }
}

/// The error and its sources, joined (reqwest's own message is terse).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
