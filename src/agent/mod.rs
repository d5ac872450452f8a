//! Agents: an LLM tool loop hosted over many MCP servers.
//!
//! An agent is a model, a system prompt, a fleet of servers with the tools
//! the model may use, and limits. Definitions live in `agents/*.toml`
//! ([`AgentDefinition`]).

pub mod definition;

pub use definition::{AgentDefinition, Limits, ModelSettings, Provider, ToolRules};
