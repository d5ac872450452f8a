//! A seam for durable runs: a [`ToolJournal`] is asked before each tool
//! call whether to run it, and told its outcome after. The agent loop
//! without one (the default) runs every call; `switchboard::dist` gives
//! one that makes a redelivered run reuse finished calls and refuse to
//! repeat side effects whose outcome was lost.

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use crate::model::ToolCall;

/// What to do with one tool call.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolDecision {
    /// Call the tool, with these extra `_meta` entries in `tools/call`
    /// (e.g. an idempotency key; empty for none).
    Call(Map<String, Value>),
    /// Do not call it: the model is shown this result instead (a
    /// journaled result, or an "outcome unknown" error).
    Use {
        /// The text the model sees.
        text: String,
        /// Whether it is an error result.
        is_error: bool,
    },
}

/// Consulted around each tool call of a run (see [`super::AgentBuilder::tool_journal`]).
pub trait ToolJournal: Send + Sync {
    /// Before `call` of model turn `step` (1-based) runs; consulted before
    /// the "is it offered" check, so a journaled call to a tool that has
    /// since vanished still returns its journaled result.
    fn before<'a>(&'a self, step: u32, call: &'a ToolCall) -> BoxFuture<'a, ToolDecision>;
    /// After `call` ran (only for [`ToolDecision::Call`]), with the text
    /// the model is shown.
    fn after<'a>(
        &'a self,
        step: u32,
        call: &'a ToolCall,
        text: &'a str,
        is_error: bool,
    ) -> BoxFuture<'a, ()>;
}
