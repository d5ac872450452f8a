//! Where the model lives and how to talk to it.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::{Error, Result};

/// Default hard deadline of one chat request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// An API key. Its `Debug` and `Display` never show it, so it cannot leak
/// into logs or error messages by accident.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself (for the `Authorization` header only).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when there is no key (local servers often need none).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("ApiKey(none)")
        } else {
            f.write_str("ApiKey(<redacted>)")
        }
    }
}

/// The request field that carries the token limit. OpenAI's newer models
/// want `max_completion_tokens`; Ollama and many others read only
/// `max_tokens` (and ignore the other), so it is set per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensField {
    /// `max_tokens` (the default: understood most widely).
    #[default]
    MaxTokens,
    /// `max_completion_tokens`.
    MaxCompletionTokens,
}

impl MaxTokensField {
    /// The JSON field name.
    pub fn as_str(self) -> &'static str {
        match self {
            MaxTokensField::MaxTokens => "max_tokens",
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
        }
    }
}

/// An OpenAI-compatible chat endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEndpoint {
    /// The API base, e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:11434/v1`; `/chat/completions` is appended.
    pub base_url: String,
    /// Sent as `Authorization: Bearer ...` when not empty. Never printed.
    pub api_key: ApiKey,
    /// The default model name.
    pub model: String,
    /// Which field carries the token limit.
    pub max_tokens_field: MaxTokensField,
    /// Hard deadline of one request (connect, send, wait, read).
    pub timeout: Duration,
}

impl ModelEndpoint {
    /// An endpoint with no key, `max_tokens` and the default deadline.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        ModelEndpoint {
            base_url: base_url.into(),
            api_key: ApiKey::default(),
            model: model.into(),
            max_tokens_field: MaxTokensField::default(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Sets the API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = ApiKey::new(key);
        self
    }

    /// Sets the token-limit field.
    pub fn max_tokens_field(mut self, field: MaxTokensField) -> Self {
        self.max_tokens_field = field;
        self
    }

    /// Sets the hard deadline of one request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Reads `OPENAI_BASE_URL` (default `https://api.openai.com/v1`),
    /// `OPENAI_API_KEY` (may be unset for local servers) and
    /// `SWITCHBOARD_MODEL` (required). A [`Error::Config`] names what is
    /// missing.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`ModelEndpoint::from_env`] with any source of variables (tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let nonempty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let model = nonempty("SWITCHBOARD_MODEL").ok_or_else(|| {
            Error::config(
                "SWITCHBOARD_MODEL is not set: name the model to use (and OPENAI_BASE_URL, OPENAI_API_KEY for its endpoint)",
            )
        })?;
        let base_url =
            nonempty("OPENAI_BASE_URL").unwrap_or_else(|| "https://api.openai.com/v1".into());
        let mut endpoint = ModelEndpoint::new(base_url, model);
        if let Some(key) = nonempty("OPENAI_API_KEY") {
            endpoint.api_key = ApiKey::new(key);
        }
        Ok(endpoint)
    }

    /// The URL requests go to.
    pub fn chat_url(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }
}
