//! An OpenAI-compatible chat client: what sampling (and the agent loop)
//! sends a model.
//!
//! Our own request and reply types, serialised to exactly the wire JSON of
//! `POST {base_url}/chat/completions`, so any OpenAI-compatible server
//! (OpenAI, Ollama, vLLM, llama.cpp, LiteLLM...) can be talked to and every
//! byte sent is known. Replies are parsed tolerantly: unknown finish reasons
//! stay strings, a missing `usage` is fine.
//!
//! The HTTP goes through plain `reqwest` (the crate's one HTTP stack) rather
//! than async-openai's `create_byot`: its executor retries 5xx answers and
//! refused connections up to three times with backoff, invisibly. For us
//! that means duplicate (billed) model calls that budgets cannot count, a
//! failing endpoint answering after seconds instead of at once, and the
//! status of a non-JSON error body lost. Here one `chat` is one request.
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
