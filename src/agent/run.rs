//! The tool loop: ask the model, run the tools it asks for (in parallel,
//! through the fleet), feed the results back, until a final answer or a
//! limit.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::join_all;
use serde_json::Value;

use super::definition::{Limits, ToolRules};
use super::journal::{ToolDecision, ToolJournal};
use super::model::ChatModel;
use super::observer::{Quiet, RunObserver};
use super::tool_text::{self, Rendered};
use super::transcript::{Step, StopReason, Tokens, ToolCallRecord, Transcript};
use crate::model::{ChatMessage, ChatRequest, ChatTool, ChatToolCall, ChatToolChoice, ToolCall};
use crate::Fleet;

/// An agent: a model, a system prompt and a fleet of servers. Cheap to
/// clone; runs may go on concurrently.
#[derive(Clone)]
pub struct Agent {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    system_prompt: Option<String>,
    model: Arc<dyn ChatModel>,
    fleet: Fleet,
    tools: ToolRules,
    limits: Limits,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    tool_choice: ChatToolChoice,
    extra: serde_json::Map<String, Value>,
    vision: bool,
    journal: Option<Arc<dyn ToolJournal>>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("name", &self.inner.name)
            .field("model", &self.inner.model.name())
            .field("fleet", &self.inner.fleet)
            .finish()
    }
}

/// Builds an [`Agent`]. Start with [`Agent::builder`].
pub struct AgentBuilder {
    inner: Inner,
}

impl AgentBuilder {
    /// The agent's name (default `agent`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.inner.name = name.into();
        self
    }
    /// The system prompt.
    pub fn system_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.inner.system_prompt = Some(prompt.into());
        self
    }
    /// Which tools the model may see and call.
    pub fn tools(mut self, rules: ToolRules) -> Self {
        self.inner.tools = rules;
        self
    }
    /// When to stop.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.inner.limits = limits;
        self
    }
    /// Sampling temperature.
    pub fn temperature(mut self, t: f32) -> Self {
        self.inner.temperature = Some(t);
        self
    }
    /// Most tokens per model reply.
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.inner.max_tokens = Some(n);
        self
    }
    /// How the model may use the tools, sent whenever tools are offered
    /// (default [`ChatToolChoice::Auto`]). `Required` makes a small model
    /// that never calls tools on its own call one at every step (the
    /// server constrains its output), so the run ends at `max_steps`.
    pub fn tool_choice(mut self, choice: ChatToolChoice) -> Self {
        self.inner.tool_choice = choice;
        self
    }
    /// More top-level request fields, sent with every model request
    /// (default none; never replacing a field the agent sets): a
    /// provider's own knobs, e.g. `parallel_tool_calls: false`, or
    /// llama.cpp's `json_schema`.
    pub fn request_extra(mut self, extra: serde_json::Map<String, Value>) -> Self {
        self.inner.extra = extra;
        self
    }
    /// Show the model the images tools return (for models that take
    /// images); otherwise it reads a note saying an image was returned.
    pub fn vision(mut self, yes: bool) -> Self {
        self.inner.vision = yes;
        self
    }
    /// Consult `journal` around every tool call (default none: every call
    /// runs). For durable runs that may be redelivered.
    pub fn tool_journal(mut self, journal: Arc<dyn ToolJournal>) -> Self {
        self.inner.journal = Some(journal);
        self
    }
    /// The agent.
    pub fn build(self) -> Agent {
        Agent {
            inner: Arc::new(self.inner),
        }
    }
}

impl Agent {
    /// An agent over `fleet`, talking to `model`.
    pub fn builder(fleet: Fleet, model: impl ChatModel) -> AgentBuilder {
        Self::builder_arc(fleet, Arc::new(model))
    }

    /// An agent over `fleet`, talking to a shared model.
    pub fn builder_arc(fleet: Fleet, model: Arc<dyn ChatModel>) -> AgentBuilder {
        AgentBuilder {
            inner: Inner {
                name: "agent".into(),
                system_prompt: None,
                model,
                fleet,
                tools: ToolRules::default(),
                limits: Limits::default(),
                temperature: None,
                max_tokens: None,
                tool_choice: ChatToolChoice::Auto,
                extra: serde_json::Map::new(),
                vision: false,
                journal: None,
            },
        }
    }

    /// The servers.
    pub fn fleet(&self) -> &Fleet {
        &self.inner.fleet
    }

    /// Which tools the model may see and call, and the replay policy of
    /// its distributed runs.
    pub fn tool_rules(&self) -> &ToolRules {
        &self.inner.tools
    }

    /// The agent's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The model.
    pub fn model(&self) -> Arc<dyn ChatModel> {
        self.inner.model.clone()
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The same agent, consulting `journal` around every tool call (see
    /// [`AgentBuilder::tool_journal`]); shares the fleet and the model.
    pub fn with_tool_journal(&self, journal: Arc<dyn ToolJournal>) -> Agent {
        self.with(|i| i.journal = Some(journal))
    }

    /// The same agent talking to `model` instead; shares the fleet.
    pub fn with_model(&self, model: Arc<dyn ChatModel>) -> Agent {
        self.with(|i| i.model = model)
    }

    /// The same agent with other limits; shares the fleet and the model.
    pub fn with_limits(&self, limits: Limits) -> Agent {
        self.with(|i| i.limits = limits)
    }

    fn with(&self, change: impl FnOnce(&mut Inner)) -> Agent {
        let a = &self.inner;
        let mut inner = Inner {
            name: a.name.clone(),
            system_prompt: a.system_prompt.clone(),
            model: a.model.clone(),
            fleet: a.fleet.clone(),
            tools: a.tools.clone(),
            limits: a.limits,
            temperature: a.temperature,
            max_tokens: a.max_tokens,
            tool_choice: a.tool_choice.clone(),
            extra: a.extra.clone(),
            vision: a.vision,
            journal: a.journal.clone(),
        };
        change(&mut inner);
        Agent {
            inner: Arc::new(inner),
        }
    }

    /// Closes every server (their processes end).
    pub async fn close(&self) -> crate::Result<()> {
        self.inner.fleet.close().await
    }

    /// Runs the loop on `prompt` to a final answer or a limit.
    pub async fn run(&self, prompt: &str) -> Transcript {
        self.run_with(prompt, &Quiet, std::future::pending()).await
    }

    /// Runs the loop, telling `observer` as it goes, until a final answer,
    /// a limit, or `cancel` completes (which stops the model request and
    /// every tool call in flight: their servers are sent
    /// `notifications/cancelled`).
    pub async fn run_with(
        &self,
        prompt: &str,
        observer: &dyn RunObserver,
        cancel: impl Future<Output = ()>,
    ) -> Transcript {
        let mut conversation = self.conversation();
        conversation.run_with(prompt, observer, cancel).await
    }

    /// A conversation: runs that remember the earlier prompts, answers and
    /// tool results (what an interactive session wants).
    pub fn conversation(&self) -> Conversation {
        self.conversation_after(std::iter::empty::<(&str, &str)>())
    }

    /// A conversation that continues earlier turns kept elsewhere (e.g. a
    /// distributed conversation's): each `(prompt, answer)`, oldest first,
    /// becomes a user and an assistant message after the system prompt.
    pub fn conversation_after<'a>(
        &self,
        turns: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Conversation {
        let mut messages = Vec::new();
        if let Some(system) = &self.inner.system_prompt {
            messages.push(ChatMessage::system(system.clone()));
        }
        for (prompt, answer) in turns {
            messages.push(ChatMessage::user(prompt));
            messages.push(ChatMessage::assistant(answer));
        }
        Conversation {
            agent: self.clone(),
            messages,
        }
    }

    async fn run_in(
        &self,
        messages: &mut Vec<ChatMessage>,
        prompt: &str,
        observer: &dyn RunObserver,
        cancel: impl Future<Output = ()>,
    ) -> Transcript {
        let started = Instant::now();
        let a = &self.inner;
        let deadline = tokio::time::Instant::now() + a.limits.deadline;
        let mut transcript = Transcript {
            agent: a.name.clone(),
            model: a.model.name(),
            prompt: prompt.to_owned(),
            steps: Vec::new(),
            answer: None,
            stop: StopReason::MaxSteps(a.limits.max_steps),
            tokens: Tokens::default(),
            ms: 0,
        };
        let kept = messages.len();
        messages.push(ChatMessage::user(prompt));

        tokio::pin!(cancel);
        let outcome = tokio::select! {
            biased;
            _ = &mut cancel => Some(StopReason::Cancelled),
            r = tokio::time::timeout_at(deadline, self.steps(messages, &mut transcript, observer)) => match r {
                Ok(stop) => Some(stop),
                Err(_) => Some(StopReason::Deadline(a.limits.deadline.as_millis() as u64)),
            },
        };
        if let Some(stop) = outcome {
            transcript.stop = stop;
        }
        match &transcript.answer {
            Some(answer) => messages.push(ChatMessage::assistant(answer.clone())),
            // A run cut short may leave calls without results, which no
            // model accepts as history: keep what was answered.
            None => trim_unanswered(messages, kept),
        }
        transcript.ms = started.elapsed().as_millis() as u64;
        observer.finished(&transcript);
        transcript
    }

    async fn steps(
        &self,
        messages: &mut Vec<ChatMessage>,
        transcript: &mut Transcript,
        observer: &dyn RunObserver,
    ) -> StopReason {
        let a = &self.inner;
        for index in 1..=a.limits.max_steps {
            if let Some(budget) = a.limits.token_budget {
                if transcript.tokens.total >= budget {
                    return StopReason::TokenBudget(budget);
                }
            }
            // The tool list is taken once per turn: it never changes while
            // the model is deciding or its calls run.
            let tools: Vec<ChatTool> = a
                .fleet
                .list_tools()
                .await
                .into_iter()
                .filter(|t| a.tools.allows(&t.name))
                .map(|t| ChatTool {
                    description: t.description.clone(),
                    parameters: Value::Object(t.input_schema.clone()),
                    name: t.name,
                })
                .collect();
            observer.step_started(index, tools.len());
            let mut request = ChatRequest::new(a.model.name());
            request.messages = messages.clone();
            request.temperature = a.temperature.map(f64::from);
            request.max_tokens = a.max_tokens.map(u64::from);
            request.extra = a.extra.clone();
            if !tools.is_empty() {
                request.tool_choice = Some(a.tool_choice.clone());
            }
            request.tools = tools;

            let model_started = Instant::now();
            let on_text = |delta: &str| observer.text(delta);
            let reply = match a.model.chat(&request, Some(&on_text)).await {
                Ok(r) => r,
                Err(e) => return StopReason::ModelError(e.to_string()),
            };
            let model_ms = model_started.elapsed().as_millis() as u64;
            let tokens = reply
                .usage
                .map(|u| Tokens {
                    prompt: u.prompt_tokens,
                    completion: u.completion_tokens,
                    total: u.total_tokens,
                })
                .unwrap_or_default();
            transcript.tokens.add(tokens);
            let mut step = Step {
                index,
                text: reply.text.clone(),
                tool_calls: Vec::new(),
                model_ms,
                tools_ms: 0,
                tokens,
                tools_offered: request.tools.len(),
            };

            if reply.tool_calls.is_empty() {
                transcript.answer = Some(reply.text.clone());
                observer.step_finished(&step);
                transcript.steps.push(step);
                return StopReason::FinalAnswer;
            }
            if let Some(budget) = a.limits.token_budget {
                if transcript.tokens.total > budget {
                    // Nothing more is run once the budget is spent.
                    step.tool_calls = reply
                        .tool_calls
                        .iter()
                        .map(|c| not_run(c, "not run: the token budget is spent"))
                        .collect();
                    observer.step_finished(&step);
                    transcript.steps.push(step);
                    return StopReason::TokenBudget(budget);
                }
            }

            messages.push(ChatMessage::Assistant {
                content: (!reply.text.is_empty()).then(|| reply.text.clone()),
                tool_calls: reply
                    .tool_calls
                    .iter()
                    .map(|c| ChatToolCall {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        arguments: c.arguments.clone(),
                    })
                    .collect(),
            });
            let tools_started = Instant::now();
            let records = self
                .run_calls(index, &reply.tool_calls, &request.tools, observer)
                .await;
            step.tools_ms = tools_started.elapsed().as_millis() as u64;
            let mut images = Vec::new();
            for (record, rendered) in records {
                messages.push(ChatMessage::tool(record.id.clone(), rendered.text));
                images.extend(rendered.images);
                step.tool_calls.push(record);
            }
            if a.vision && !images.is_empty() {
                let mut parts = vec![crate::model::ContentPart::text(
                    "Images the tools returned, in order:",
                )];
                parts.extend(images);
                messages.push(ChatMessage::User {
                    content: crate::model::UserContent::Parts(parts),
                });
            }
            observer.step_finished(&step);
            transcript.steps.push(step);
        }
        StopReason::MaxSteps(a.limits.max_steps)
    }

    /// Runs one turn's calls in parallel; each outcome in the model's order.
    async fn run_calls(
        &self,
        step: u32,
        calls: &[ToolCall],
        offered: &[ChatTool],
        observer: &dyn RunObserver,
    ) -> Vec<(ToolCallRecord, Rendered)> {
        let a = &self.inner;
        let max = a.limits.max_tool_calls_per_step as usize;
        join_all(calls.iter().enumerate().map(|(i, call)| async move {
            let started = Instant::now();
            let arguments = call.parsed.clone().unwrap_or(Value::Null);
            let server = a
                .fleet
                .resolve_tool(&call.name)
                .map(|(s, _)| s)
                .unwrap_or_default();
            let decision = match &a.journal {
                Some(j) if i < max => j.before(step, call).await,
                _ => ToolDecision::Call(serde_json::Map::new()),
            };
            let rendered = if let ToolDecision::Use { text, is_error } = decision {
                observer.tool_started(&call.id, &call.name);
                Rendered {
                    text,
                    is_error,
                    images: Vec::new(),
                }
            } else if i >= max {
                refused(format!(
                    "not run: at most {max} tool calls per step; ask for the rest in the next step"
                ))
            } else if !offered.iter().any(|t| t.name == call.name) {
                refused(format!("no tool named {:?} is offered", call.name))
            } else if !arguments.is_object() {
                refused(format!(
                    "the arguments must be a JSON object, got {:?}",
                    call.arguments
                ))
            } else {
                observer.tool_started(&call.id, &call.name);
                let meta = match decision {
                    ToolDecision::Call(meta) => meta,
                    ToolDecision::Use { .. } => serde_json::Map::new(),
                };
                let options = if meta.is_empty() {
                    crate::CallOptions::new()
                } else {
                    crate::CallOptions::new().meta(meta)
                };
                let rendered = match a
                    .fleet
                    .call_tool_with(&call.name, &arguments, options)
                    .await
                {
                    Ok(output) => tool_text::render(&output),
                    Err(e) => tool_text::render_error(&e),
                };
                if let Some(j) = &a.journal {
                    j.after(step, call, &rendered.text, rendered.is_error).await;
                }
                rendered
            };
            let record = ToolCallRecord {
                id: call.id.clone(),
                name: call.name.clone(),
                server,
                arguments,
                output: rendered.text.clone(),
                is_error: rendered.is_error,
                ms: started.elapsed().as_millis() as u64,
            };
            observer.tool_finished(&record);
            (record, rendered)
        }))
        .await
    }
}

/// An agent conversation: each run sees the ones before it. Made by
/// [`Agent::conversation`].
pub struct Conversation {
    agent: Agent,
    messages: Vec<ChatMessage>,
}

impl Conversation {
    /// Runs `prompt` after everything said so far (see [`Agent::run_with`]).
    pub async fn run_with(
        &mut self,
        prompt: &str,
        observer: &dyn RunObserver,
        cancel: impl Future<Output = ()>,
    ) -> Transcript {
        self.agent
            .run_in(&mut self.messages, prompt, observer, cancel)
            .await
    }

    /// Runs `prompt` after everything said so far.
    pub async fn run(&mut self, prompt: &str) -> Transcript {
        self.run_with(prompt, &Quiet, std::future::pending()).await
    }

    /// The conversation so far, as the model sees it.
    pub fn messages(&self) -> &[ChatMessage] {
        &self.messages
    }
}

/// Drops a trailing assistant turn whose tool calls were not all answered
/// (and the partial results after it), never going below `floor`.
fn trim_unanswered(messages: &mut Vec<ChatMessage>, floor: usize) {
    let Some(i) = messages
        .iter()
        .rposition(|m| matches!(m, ChatMessage::Assistant { .. }))
    else {
        return;
    };
    if i < floor {
        return;
    }
    let ChatMessage::Assistant { tool_calls, .. } = &messages[i] else {
        return;
    };
    let answered = messages[i + 1..]
        .iter()
        .filter(|m| matches!(m, ChatMessage::Tool { .. }))
        .count();
    if answered < tool_calls.len() {
        messages.truncate(i);
    }
}

fn refused(text: String) -> Rendered {
    Rendered {
        text: format!("Error: {text}"),
        is_error: true,
        images: Vec::new(),
    }
}

fn not_run(call: &ToolCall, why: &str) -> ToolCallRecord {
    ToolCallRecord {
        id: call.id.clone(),
        name: call.name.clone(),
        server: String::new(),
        arguments: call.parsed.clone().unwrap_or(Value::Null),
        output: why.to_owned(),
        is_error: true,
        ms: 0,
    }
}
