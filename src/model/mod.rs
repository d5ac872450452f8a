//! An OpenAI-compatible chat client: what sampling (and the agent loop)
//! sends a model.
//!
//! Built on the `async-openai` crate (chat completions, `create_byot`),
//! which owns the wire: its request types ([`ChatRequest`] is sent as its
//! `CreateChatCompletionRequest`), URL building and SSE parsing. What we
//! keep, and why:
//!
//! - **Our own small types** for what sampling and the agent build (plain
//!   data, no builders), mapped onto the crate's; `extra` carries fields its
//!   types cannot (llama.cpp's `grammar` and `json_schema`, a provider's own
//!   knobs), and the temperature and token limit are set as given (its
//!   f32/u32 would change them), in the field the endpoint reads.
//! - **Tolerant reply parsing** ([`ChatReply::from_value`]): replies are read
//!   as JSON and folded by hand, because the crate's typed replies reject
//!   real servers (llama.cpp's finish reason `eos_token`, arguments sent as
//!   an object, a missing `usage` or `id`).
//! - **A strict HTTP service under it** (`service.rs`, installed with
//!   `Client::with_http_service`): the crate's default executor retries
//!   429, 5xx and refused connections up to several times with backoff,
//!   invisibly, which means duplicate (billed) calls that budgets cannot
//!   count and a failing endpoint answering after seconds. Ours sends one
//!   request per call on the crate's one HTTP client factory
//!   (`http_client.rs`: ring TLS, installed before any client is built,
//!   since the crate's `Client` panics without a provider; the redirect
//!   policy), keeps the status and body of every non-2xx in
//!   [`ModelError::Http`] (the crate would drop the status of a non-OpenAI
//!   4xx body), bounds bodies, and turns a plain JSON answer to a streamed
//!   request into one event (the crate would see an empty stream). A
//!   stream that ends without a finish reason is an error (the crate ends
//!   it quietly).
//! - **Our own `Config`**: `Authorization` only when there is a key, and no
//!   `OPENAI_ORG_ID`/`OPENAI_PROJECT_ID` from the environment (the crate's
//!   `OpenAIConfig` sends both to any server, and `Bearer ` with no key).
//!
//! ```no_run
//! use switchboard::model::{ChatMessage, ChatRequest, ModelClient, ModelEndpoint};
//!
//! # async fn run() -> switchboard::Result<()> {
//! let endpoint = ModelEndpoint::from_env()?; // OPENAI_BASE_URL, OPENAI_API_KEY, SWITCHBOARD_MODEL
//! let client = ModelClient::new(endpoint)?;
//! let request = ChatRequest::new(client.endpoint().model.clone())
//!     .message(ChatMessage::system("Be brief."))
//!     .message(ChatMessage::user("Name a prime number."));
//! let reply = client.chat(&request).await?;
//! println!("{} ({:?})", reply.text, reply.usage);
//! # Ok(()) }
//! ```

mod client;
mod endpoint;
mod reply;
mod request;
mod service;
mod stream;

pub(crate) use crate::error::model::excerpt_str;
pub use crate::error::model::{ModelError, BODY_EXCERPT};
pub use client::ModelClient;
pub use endpoint::{ApiKey, MaxTokensField, ModelEndpoint};
pub use reply::{ChatReply, ToolCall, Usage};
pub use request::{
    AudioFormat, ChatMessage, ChatRequest, ChatTool, ChatToolCall, ChatToolChoice, ContentPart,
    UserContent,
};
pub use service::MAX_BODY;
