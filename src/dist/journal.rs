//! The step journal (`sb_journal`): model turns and tool calls of a run,
//! so a redelivered run resumes instead of starting over.
//!
//! - `<run>.s<n>`: the model's reply of turn n. The n-th `chat` of a run
//!   is turn n (the loop is sequential), so [`JournaledModel`] wraps any
//!   model. The first writer wins (`KV create`): a late attempt adopts
//!   the stored reply instead of its own.
//! - `<run>.s<n>.c<call>`: a tool call's ledger, `started` before the call
//!   and `done` with its result after; on redelivery [`super::replay`]
//!   decides.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use async_nats::jetstream::kv;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};

use super::client::entry;
use super::protocol::Origin;
use super::replay::{self, JournalState, ReplayAction, ReplayPolicy};
use crate::agent::{ChatModel, TextSink, ToolDecision, ToolJournal};
use crate::model::{ChatReply, ChatRequest, ModelError, ToolCall, Usage};
use crate::Fleet;

/// The `_meta` key of every journaled `tools/call`: `<run>.<step>.<call id>`,
/// the same on every attempt, for servers that de-duplicate.
pub const IDEMPOTENCY_KEY: &str = "io.switchboard/idempotency-key";

#[derive(Serialize, Deserialize)]
struct StoredCall {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Serialize, Deserialize)]
struct StoredReply {
    text: String,
    tool_calls: Vec<StoredCall>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    usage: Option<[u64; 3]>,
    #[serde(default)]
    model: String,
}

impl StoredReply {
    fn from_reply(r: &ChatReply) -> StoredReply {
        StoredReply {
            text: r.text.clone(),
            tool_calls: r
                .tool_calls
                .iter()
                .map(|c| StoredCall {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    arguments: c.arguments.clone(),
                })
                .collect(),
            finish_reason: r.finish_reason.clone(),
            usage: r
                .usage
                .map(|u| [u.prompt_tokens, u.completion_tokens, u.total_tokens]),
            model: r.model.clone(),
        }
    }

    fn into_reply(self) -> ChatReply {
        ChatReply {
            text: self.text,
            tool_calls: self
                .tool_calls
                .into_iter()
                .map(|c| ToolCall::new(c.id, c.name, c.arguments))
                .collect(),
            finish_reason: self.finish_reason,
            usage: self.usage.map(|[p, c, t]| Usage {
                prompt_tokens: p,
                completion_tokens: c,
                total_tokens: t,
            }),
            model: self.model,
        }
    }
}

/// A KV key part from any text: KV keys allow `[-/_=.a-zA-Z0-9]`, and
/// `.` separates our parts, so anything else is written `=XX`.
pub(crate) fn key_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("={b:02X}"));
        }
    }
    out
}

/// Counts what a run's journal did, for tests and metrics.
#[derive(Debug, Default)]
pub struct JournalStats {
    /// Model turns taken from the journal (not asked again).
    pub turns_reused: AtomicU32,
    /// Model turns asked.
    pub turns_asked: AtomicU32,
}

/// A model whose replies are journaled per turn.
pub(crate) struct JournaledModel {
    inner: Arc<dyn ChatModel>,
    store: kv::Store,
    run: String,
    turn: AtomicU32,
    stats: Arc<JournalStats>,
}

impl JournaledModel {
    pub(crate) fn new(
        inner: Arc<dyn ChatModel>,
        store: kv::Store,
        run: &str,
        stats: Arc<JournalStats>,
    ) -> Self {
        JournaledModel {
            inner,
            store,
            run: run.to_owned(),
            turn: AtomicU32::new(0),
            stats,
        }
    }

    async fn stored(&self, key: &str) -> Option<ChatReply> {
        let e = entry(&self.store, key).await.ok()??;
        serde_json::from_slice::<StoredReply>(&e.value)
            .ok()
            .map(StoredReply::into_reply)
    }
}

fn tell(on_text: Option<TextSink<'_>>, reply: &ChatReply) {
    if let Some(sink) = on_text {
        if !reply.text.is_empty() {
            sink(&reply.text);
        }
    }
}

impl ChatModel for JournaledModel {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_text: Option<TextSink<'a>>,
    ) -> BoxFuture<'a, Result<ChatReply, ModelError>> {
        Box::pin(async move {
            let n = self.turn.fetch_add(1, Ordering::SeqCst) + 1;
            let key = format!("{}.s{n}", self.run);
            if let Some(reply) = self.stored(&key).await {
                self.stats.turns_reused.fetch_add(1, Ordering::SeqCst);
                tell(on_text, &reply);
                return Ok(reply);
            }
            self.stats.turns_asked.fetch_add(1, Ordering::SeqCst);
            let reply = self.inner.chat(request, on_text).await?;
            let bytes = Bytes::from(
                serde_json::to_vec(&StoredReply::from_reply(&reply)).unwrap_or_default(),
            );
            match self.store.create(&key, bytes).await {
                Ok(_) => Ok(reply),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                    // Another attempt wrote this turn first: its reply wins.
                    Ok(self.stored(&key).await.unwrap_or(reply))
                }
                Err(e) => {
                    tracing::warn!(run = %self.run, turn = n, "cannot journal a model turn: {e}");
                    Ok(reply)
                }
            }
        })
    }

    fn name(&self) -> String {
        self.inner.name()
    }
}

#[derive(Serialize, Deserialize)]
struct CallLedger {
    state: String,
    attempt: u64,
    worker: String,
    #[serde(default)]
    is_error: bool,
    #[serde(default)]
    output: String,
}

/// The tool ledger of one attempt of a run.
pub(crate) struct RunToolJournal {
    store: kv::Store,
    fleet: Fleet,
    run: String,
    attempt: u64,
    worker: String,
    replay: ReplayPolicy,
    /// Where each call's result came from (by the model's call id).
    pub(crate) origins: Arc<Mutex<HashMap<String, Origin>>>,
}

impl RunToolJournal {
    pub(crate) fn new(
        store: kv::Store,
        fleet: Fleet,
        run: &str,
        attempt: u64,
        worker: &str,
        replay: ReplayPolicy,
        origins: Arc<Mutex<HashMap<String, Origin>>>,
    ) -> Self {
        RunToolJournal {
            store,
            fleet,
            run: run.to_owned(),
            attempt,
            worker: worker.to_owned(),
            replay,
            origins,
        }
    }

    fn key(&self, step: u32, call: &ToolCall) -> String {
        format!("{}.s{step}.c{}", self.run, key_part(&call.id))
    }

    fn note(&self, call: &ToolCall, origin: Origin) {
        if let Ok(mut m) = self.origins.lock() {
            m.insert(call.id.clone(), origin);
        }
    }

    /// Whether the policy lets `name` (namespaced) be called again.
    async fn replays(&self, name: &str) -> bool {
        let tools = self.fleet.list_tools().await;
        let annotations = tools
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.annotations.as_ref());
        self.replay.replays(name, annotations)
    }

    fn ledger(&self, state: &str, output: &str, is_error: bool) -> Bytes {
        Bytes::from(
            serde_json::to_vec(&CallLedger {
                state: state.into(),
                attempt: self.attempt,
                worker: self.worker.clone(),
                is_error,
                output: output.into(),
            })
            .unwrap_or_default(),
        )
    }

    fn call(&self, step: u32, call: &ToolCall) -> ToolDecision {
        let mut meta = Map::new();
        meta.insert(
            IDEMPOTENCY_KEY.into(),
            json!(format!("{}.{step}.{}", self.run, call.id)),
        );
        ToolDecision::Call(meta)
    }
}

impl ToolJournal for RunToolJournal {
    fn before<'a>(&'a self, step: u32, call: &'a ToolCall) -> BoxFuture<'a, ToolDecision> {
        Box::pin(async move {
            let key = self.key(step, call);
            let found = match entry(&self.store, &key).await {
                Ok(found) => found,
                Err(e) => {
                    // Without the journal we cannot know: do not risk a repeat.
                    tracing::warn!(run = %self.run, "cannot read the tool ledger: {e}");
                    self.note(call, Origin::Unknown);
                    return ToolDecision::Use {
                        text: replay::OUTCOME_UNKNOWN.into(),
                        is_error: true,
                    };
                }
            };
            let ledger = found.and_then(|e| serde_json::from_slice::<CallLedger>(&e.value).ok());
            let state = match &ledger {
                None => JournalState::Absent,
                Some(l) if l.state == "done" => JournalState::Done,
                Some(_) => JournalState::Started,
            };
            let replays = state == JournalState::Started && self.replays(&call.name).await;
            match replay::replay_action(state, replays) {
                ReplayAction::Reuse => {
                    let l = ledger.unwrap_or(CallLedger {
                        state: "done".into(),
                        attempt: 0,
                        worker: String::new(),
                        is_error: true,
                        output: String::new(),
                    });
                    self.note(call, Origin::Journal);
                    ToolDecision::Use {
                        text: l.output,
                        is_error: l.is_error,
                    }
                }
                ReplayAction::ReportUnknown => {
                    self.note(call, Origin::Unknown);
                    ToolDecision::Use {
                        text: replay::OUTCOME_UNKNOWN.into(),
                        is_error: true,
                    }
                }
                ReplayAction::Call if state == JournalState::Absent => {
                    // The intent, written before the call: first writer wins.
                    match self
                        .store
                        .create(&key, self.ledger("started", "", false))
                        .await
                    {
                        Ok(_) => {
                            self.note(call, Origin::Fresh);
                            self.call(step, call)
                        }
                        Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                            // Another attempt got there first (a zombie).
                            self.note(call, Origin::Unknown);
                            ToolDecision::Use {
                                text: replay::OUTCOME_UNKNOWN.into(),
                                is_error: true,
                            }
                        }
                        Err(e) => {
                            tracing::warn!(run = %self.run, "cannot write the tool ledger: {e}");
                            self.note(call, Origin::Unknown);
                            ToolDecision::Use {
                                text: replay::OUTCOME_UNKNOWN.into(),
                                is_error: true,
                            }
                        }
                    }
                }
                ReplayAction::Call => {
                    self.note(call, Origin::Fresh);
                    self.call(step, call)
                }
            }
        })
    }

    fn after<'a>(
        &'a self,
        step: u32,
        call: &'a ToolCall,
        text: &'a str,
        is_error: bool,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let key = self.key(step, call);
            if let Err(e) = self
                .store
                .put(&key, self.ledger("done", text, is_error))
                .await
            {
                tracing::warn!(run = %self.run, "cannot journal a tool result: {e}");
            }
        })
    }
}
