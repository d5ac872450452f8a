//! Answering MCP sampling (`sampling/createMessage`) from a model.
//!
//! The pieces, each usable on its own:
//! - [`chat_request`] and [`create_message_result`]: the mapping between
//!   MCP sampling and OpenAI chat completions (see `to_chat.rs` for every
//!   rule, including what is refused);
//! - [`ModelChoice`]: which model answers, from `modelPreferences`;
//! - [`Budget`]: limits per server; [`ApprovalHook`]: a person or policy
//!   sees each request first;
//! - [`SamplingBackend`]: a model endpoint, or a fixed text, scripted
//!   replies, or refusal (tests, offline use);
//! - [`SamplingConfig`]: all of it from a configuration file section.
//!
//! [`crate::Sampler`] puts them together behind the
//! [`crate::SamplingHandler`] trait, so one sampler can serve every server
//! of a fleet:
//!
//! ```no_run
//! use switchboard::sampling::{Approval, ApprovalRequest, Budget, SamplingBackend};
//! use switchboard::model::{ModelClient, ModelEndpoint};
//! use switchboard::{Client, Sampler};
//!
//! # async fn run() -> switchboard::Result<()> {
//! let model = ModelClient::new(ModelEndpoint::from_env()?)?;
//! let sampler = Sampler::builder(SamplingBackend::model(model))
//!     .budget(Budget { requests: Some(20), tokens: Some(50_000) })
//!     .approval(|req: ApprovalRequest| async move {
//!         if req.server.as_ref() == "trusted" { Approval::Approve } else { Approval::Deny("not trusted".into()) }
//!     })
//!     .start()?;
//! let client = Client::builder("python3 server.py").sampling(sampler.clone()).connect().await?;
//! # Ok(()) }
//! ```

mod actor;
mod approval;
mod backend;
mod budget;
mod choose;
mod config;
mod from_chat;
mod to_chat;

pub use actor::Sampler;
pub use approval::{Approval, ApprovalHook, ApprovalRequest};
pub use backend::{SamplingBackend, ScriptedReply, FIXED_MODEL, SCRIPTED_MODEL};
pub(crate) use budget::Books;
pub use budget::{estimate_tokens, Budget, ServerUsage};
pub use choose::{ModelCandidate, ModelChoice};
pub use config::{ModelConfig, SamplingConfig, SamplingModeConfig};
pub use from_chat::create_message_result;
pub use to_chat::chat_request;
pub(crate) use to_chat::check_tool_pairs;
