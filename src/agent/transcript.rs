//! What an agent run did: every step, every tool call, timings and tokens.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum StopReason {
    /// The model gave its final answer.
    FinalAnswer,
    /// `max_steps` model turns went by without one.
    MaxSteps(u32),
    /// The token budget is spent.
    TokenBudget(u64),
    /// The wall-clock deadline passed.
    Deadline(u64),
    /// The caller cancelled the run.
    Cancelled,
    /// The model failed (endpoint error, timeout, garbage).
    ModelError(String),
    /// Distributed runs: the worker running it was lost this many times
    /// (the pool's `max_deliver`), so the run was given up.
    WorkerLostTooOften(u32),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::FinalAnswer => f.write_str("final answer"),
            StopReason::MaxSteps(n) => write!(
                f,
                "stopped after {n} steps (max_steps) without a final answer"
            ),
            StopReason::TokenBudget(n) => write!(f, "token budget of {n} spent"),
            StopReason::Deadline(ms) => write!(f, "deadline of {} s passed", *ms as f64 / 1000.0),
            StopReason::Cancelled => f.write_str("cancelled"),
            StopReason::ModelError(e) => write!(f, "the model failed: {e}"),
            StopReason::WorkerLostTooOften(n) => {
                write!(f, "given up: the worker running it was lost {n} times")
            }
        }
    }
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Prompt tokens.
    pub prompt: u64,
    /// Completion tokens.
    pub completion: u64,
    /// Both.
    pub total: u64,
}

impl Tokens {
    pub(crate) fn add(&mut self, other: Tokens) {
        self.prompt += other.prompt;
        self.completion += other.completion;
        self.total += other.total;
    }
}

/// One tool call the model asked for, and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallRecord {
    /// The model's id for the call.
    pub id: String,
    /// The namespaced name the model used (`<server>_<tool>`).
    pub name: String,
    /// The server it went to (empty when the name resolved to none).
    pub server: String,
    /// The arguments as the model sent them.
    pub arguments: Value,
    /// The result as the model was shown it.
    pub output: String,
    /// The call failed: the tool said `isError`, the server was down or
    /// restarted, the arguments were not JSON, or the call was not run.
    pub is_error: bool,
    /// How long it took, in milliseconds.
    pub ms: u64,
}

/// One model turn and the tool calls it asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// 1-based.
    pub index: u32,
    /// The model's text this turn.
    pub text: String,
    /// The tool calls, in the order the model gave them.
    pub tool_calls: Vec<ToolCallRecord>,
    /// How long the model took, in milliseconds.
    pub model_ms: u64,
    /// How long the tool calls took together (they run in parallel).
    pub tools_ms: u64,
    /// This turn's tokens, as the endpoint counted them.
    pub tokens: Tokens,
    /// The tools offered this turn (namespaced names).
    pub tools_offered: usize,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The agent's name.
    pub agent: String,
    /// The model's name.
    pub model: String,
    /// The user's prompt.
    pub prompt: String,
    /// Every step, in order.
    pub steps: Vec<Step>,
    /// The final answer (`None` when the run stopped without one).
    pub answer: Option<String>,
    /// Why it ended.
    pub stop: StopReason,
    /// Tokens over the run.
    pub tokens: Tokens,
    /// Wall-clock time, in milliseconds.
    pub ms: u64,
}

impl Transcript {
    /// Every tool call of the run, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCallRecord> {
        self.steps.iter().flat_map(|s| s.tool_calls.iter())
    }
}
