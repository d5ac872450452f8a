//! Agents: an LLM tool loop hosted over many MCP servers.
//!
//! An agent is a model, a system prompt, a fleet of servers with the tools
//! the model may use, and limits. Each turn the model sees the fleet's
//! tools (namespaced `<server>_<tool>`, a snapshot per turn), the tools it
//! asks for run in parallel through the fleet, and their results go back
//! to it, until it answers or a limit stops the run. The [`Transcript`]
//! records every step, tool call, timing and token count.
//!
//! ```no_run
//! # async fn run() -> switchboard::Result<()> {
//! use switchboard::agent::{Agent, AgentDefinition};
//! let definition = AgentDefinition::from_path("agents/researcher.toml")?;
//! let agent = Agent::from_definition(&definition).await?;
//! let transcript = agent.run("What is MCP?").await;
//! println!("{}", transcript.answer.as_deref().unwrap_or("(no answer)"));
//! agent.close().await?;
//! # Ok(()) }
//! ```
//!
//! Definitions live in `agents/*.toml` ([`AgentDefinition`]); models are
//! any [`ChatModel`]: an OpenAI-compatible endpoint
//! ([`crate::model::ModelClient`]) or the deterministic [`Planner`].

pub mod definition;
mod from_definition;
mod journal;
mod model;
mod observer;
mod planner;
mod run;
mod tool_text;
mod transcript;

pub use definition::{AgentDefinition, Limits, ModelSettings, Provider, ToolRules};
pub use from_definition::model_for;
pub use journal::{ToolDecision, ToolJournal};
pub use model::{ChatModel, TextSink, Unstreamed};
pub use observer::{Quiet, RunObserver};
pub use planner::{PlannedCall, Planner};
pub use run::{Agent, AgentBuilder, Conversation};
pub use tool_text::MAX_RESULT_BYTES;
pub use transcript::{Step, StopReason, Tokens, ToolCallRecord, Transcript};
