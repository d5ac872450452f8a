//! The built-in deterministic planner: a [`ChatModel`] with no network and
//! no key, for demos, tests and offline runs.
//!
//! It follows a plan: step `k` of the conversation (the `k`-th assistant
//! turn) asks for the tool calls of the plan's step `k`, all at once (so
//! they run in parallel), skipping any tool not offered that turn. When the
//! plan is done (or a step has nothing it may call) it answers with what
//! each tool returned.

use std::collections::HashMap;

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::model::{ChatModel, TextSink};
use crate::model::{ChatMessage, ChatReply, ChatRequest, ModelError, ToolCall, Usage};

/// One call of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCall {
    /// The namespaced tool name (`<server>_<tool>`).
    pub tool: String,
    /// Its arguments.
    pub arguments: Value,
}

impl PlannedCall {
    /// A call of `tool` with `arguments`.
    pub fn new(tool: impl Into<String>, arguments: Value) -> Self {
        PlannedCall {
            tool: tool.into(),
            arguments,
        }
    }
}

/// The deterministic planner.
#[derive(Debug, Clone, Default)]
pub struct Planner {
    steps: Vec<Vec<PlannedCall>>,
}

impl Planner {
    /// A planner with no plan: it answers at once, listing the tools it
    /// was offered.
    pub fn new() -> Self {
        Planner::default()
    }

    /// Adds a step: these calls, asked for together.
    pub fn step(mut self, calls: impl IntoIterator<Item = PlannedCall>) -> Self {
        self.steps.push(calls.into_iter().collect());
        self
    }

    fn reply(&self, request: &ChatRequest) -> ChatReply {
        let turn = request
            .messages
            .iter()
            .filter(|m| matches!(m, ChatMessage::Assistant { .. }))
            .count();
        let offered: Vec<&str> = request.tools.iter().map(|t| t.name.as_str()).collect();
        let results = tool_results(request);

        let mut calls: Vec<ToolCall> = Vec::new();
        if let Some(step) = self.steps.get(turn) {
            for planned in step.iter().filter(|p| offered.contains(&p.tool.as_str())) {
                calls.push(call(
                    turn,
                    calls.len(),
                    &planned.tool,
                    planned.arguments.clone(),
                ));
            }
        }
        let text = if calls.is_empty() {
            final_answer(&results, &offered)
        } else {
            String::new()
        };
        let prompt_chars: usize = request.messages.iter().map(message_len).sum();
        let completion_chars = text.len()
            + calls
                .iter()
                .map(|c| c.arguments.len() + c.name.len())
                .sum::<usize>();
        let usage = Usage {
            prompt_tokens: (prompt_chars / 4) as u64 + 1,
            completion_tokens: (completion_chars / 4) as u64 + 1,
            total_tokens: ((prompt_chars + completion_chars) / 4) as u64 + 2,
        };
        ChatReply {
            finish_reason: Some(
                if calls.is_empty() {
                    "stop"
                } else {
                    "tool_calls"
                }
                .into(),
            ),
            text,
            tool_calls: calls,
            usage: Some(usage),
            model: "switchboard-planner".into(),
        }
    }
}

impl ChatModel for Planner {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_text: Option<TextSink<'a>>,
    ) -> BoxFuture<'a, Result<ChatReply, ModelError>> {
        Box::pin(async move {
            let reply = self.reply(request);
            super::model::tell_whole_text(on_text, &reply);
            Ok(reply)
        })
    }

    fn name(&self) -> String {
        "switchboard-planner".into()
    }
}

fn call(turn: usize, n: usize, name: &str, arguments: Value) -> ToolCall {
    ToolCall::new(format!("call_{turn}_{n}"), name, arguments.to_string())
}

/// `(tool name, arguments, result text, turn that asked for it)` for every
/// tool result in the conversation.
type Results = Vec<(String, Value, String, usize)>;

fn tool_results(request: &ChatRequest) -> Results {
    let mut asked: HashMap<&str, (&str, &str, usize)> = HashMap::new();
    let mut turn = 0;
    let mut out = Vec::new();
    for m in &request.messages {
        match m {
            ChatMessage::Assistant { tool_calls, .. } => {
                turn += 1;
                for c in tool_calls {
                    asked.insert(&c.id, (&c.name, &c.arguments, turn));
                }
            }
            ChatMessage::Tool {
                tool_call_id,
                content,
            } => {
                if let Some((name, args, t)) = asked.get(tool_call_id.as_str()) {
                    let args = serde_json::from_str(args).unwrap_or(Value::Null);
                    out.push(((*name).to_owned(), args, content.clone(), *t));
                }
            }
            _ => {}
        }
    }
    out
}

fn final_answer(results: &Results, offered: &[&str]) -> String {
    if results.is_empty() {
        return format!(
            "I had nothing to call. Tools offered: {}.",
            if offered.is_empty() {
                "none".to_owned()
            } else {
                offered.join(", ")
            }
        );
    }
    let mut out = format!("I made {} tool calls:\n", results.len());
    for (name, _, text, _) in results {
        let first = text.lines().next().unwrap_or("").trim();
        out.push_str(&format!("- {name}: {first}\n"));
    }
    out.truncate(out.trim_end().len());
    out
}

fn message_len(m: &ChatMessage) -> usize {
    match m {
        ChatMessage::System { content } => content.len(),
        ChatMessage::User { content } => serde_json::to_string(content).map_or(0, |s| s.len()),
        ChatMessage::Assistant {
            content,
            tool_calls,
        } => {
            content.as_ref().map_or(0, String::len)
                + tool_calls.iter().map(|c| c.arguments.len()).sum::<usize>()
        }
        ChatMessage::Tool { content, .. } => content.len(),
    }
}
