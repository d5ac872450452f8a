//! Conversations (`submit --conversation ID`): the runs of one
//! conversation run one at a time, in submission order, and each starts
//! after the earlier ones' prompts and final answers.
//!
//! - `sb_journal/conv.<id>.h` (compare-and-set): the runs waiting, in the
//!   order they were submitted (a submission appends its run before its job
//!   is published), and the turns so far: each finished run's prompt and
//!   answer (not its tool calls: those stay in its transcript). The
//!   history is bounded: the last [`MAX_TURNS`] turns, at most
//!   [`MAX_HISTORY_BYTES`] of text, the oldest dropped first.
//! - `sb_locks/conv.<id>`: the lease, a `KV create` by the worker that runs
//!   the conversation's next run, renewed every third of the bucket's
//!   `max_age` ([`super::Setup::lease`]) and deleted when the run ends. A
//!   dead holder's lease expires, and the conversation goes on.
//!
//! A run whose conversation is busy (the lease is taken, or an earlier run
//! is still waiting) gives its slot back at once: its job is `nak`ed with a
//! delay of [`WAIT`]; a job already waited on once is published again (a
//! new message) and acknowledged, so waiting never uses up the pool's
//! `max_deliver`. A run that ends in any way (done, failed, cancelled
//! while queued) leaves the queue: the next lease holder drops finished
//! runs from its head, taking their answers into the history.

use std::time::Duration;

use async_nats::jetstream::kv;
use async_nats::jetstream::message::PublishMessage as Publish;
use async_nats::jetstream::{AckKind, Message};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::attempt::Context;
use super::client::{bucket, entry};
use super::error::{DistError, DistResult};
use super::ids;
use super::journal::key_part;
use super::protocol::*;

/// How long a run whose conversation is busy waits before it is tried
/// again (its job's `nak` delay).
pub const WAIT: Duration = Duration::from_secs(1);

/// The most turns a conversation's history keeps (the oldest go first).
pub const MAX_TURNS: usize = 32;

/// The most text (prompts and answers, in bytes) a conversation's history
/// keeps (the oldest turns go first).
pub const MAX_HISTORY_BYTES: usize = 64 * 1024;

/// How many times a compare-and-set is tried before giving up.
const CAS_TRIES: usize = 20;

/// One finished run of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Turn {
    pub(crate) run: String,
    pub(crate) prompt: String,
    pub(crate) answer: String,
}

/// `sb_journal/conv.<id>.h`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct State {
    #[serde(default)]
    v: u32,
    /// Runs not yet finished, in submission order.
    #[serde(default)]
    pending: Vec<String>,
    /// The history, oldest first.
    #[serde(default)]
    turns: Vec<Turn>,
}

/// `sb_locks/conv.<id>`.
#[derive(Debug, Serialize, Deserialize)]
struct LeaseValue {
    v: u32,
    run: String,
    worker: String,
    at: String,
}

fn state_key(id: &str) -> String {
    format!("conv.{}.h", key_part(id))
}

fn lease_key(id: &str) -> String {
    format!("conv.{}", key_part(id))
}

/// Whether `id` may name a conversation: 1 to 128 letters, digits, `-`, `_`.
pub fn valid_conversation_id(id: &str) -> bool {
    valid_token(id)
}

/// Reads, changes and writes a conversation's state (compare-and-set,
/// bounded); `change` returns what the caller wants back.
async fn update<T>(
    journal: &kv::Store,
    id: &str,
    mut change: impl FnMut(&mut State) -> T,
) -> DistResult<T> {
    let key = state_key(id);
    for _ in 0..CAS_TRIES {
        let current = entry(journal, &key).await?;
        let mut state = match &current {
            Some(e) => decode(&e.value, "conversation")?,
            None => State {
                v: VERSION,
                ..State::default()
            },
        };
        let out = change(&mut state);
        let value = Bytes::from(encode(&state));
        let written = match &current {
            Some(e) => journal.update(&key, value, e.revision).await.is_ok(),
            None => journal.create(&key, value).await.is_ok(),
        };
        if written {
            return Ok(out);
        }
    }
    Err(DistError::Nats(format!(
        "conversation {id:?}: its state kept changing"
    )))
}

/// Puts `run` last in the conversation's queue (at submission, before its
/// job is published; again is a no-op).
pub(crate) async fn enqueue(journal: &kv::Store, id: &str, run: &str) -> DistResult<()> {
    update(journal, id, |s| {
        if !s.pending.iter().any(|r| r == run) {
            s.pending.push(run.to_owned());
        }
    })
    .await
}

/// Takes `run` out of the queue (a submission refused after it was put
/// there).
pub(crate) async fn dequeue(journal: &kv::Store, id: &str, run: &str) -> DistResult<()> {
    update(journal, id, |s| s.pending.retain(|r| r != run)).await
}

/// The conversation's turn, held by one attempt: the lease and the
/// history to start from. End it with [`TurnLease::end`].
pub(crate) struct TurnLease {
    id: String,
    locks: kv::Store,
    revision: std::sync::Arc<std::sync::Mutex<u64>>,
    renew: tokio::task::JoinHandle<()>,
    /// The earlier turns, oldest first.
    pub(crate) history: Vec<Turn>,
}

/// What a run of a conversation does now.
pub(crate) enum Entered {
    /// Its turn: run it after the history.
    Turn(Box<TurnLease>),
    /// Not its turn: wait.
    Wait,
}

/// Tries to take the conversation's turn for `job`'s run.
pub(crate) async fn enter(ctx: &Context, id: &str, job: &Job) -> DistResult<Entered> {
    let locks = bucket(&ctx.client.js, LOCKS_BUCKET).await?;
    let ttl = match locks.status().await {
        Ok(s) if !s.max_age().is_zero() => s.max_age(),
        _ => Duration::from_secs(30),
    };
    let value = LeaseValue {
        v: VERSION,
        run: job.run_id.clone(),
        worker: ctx.worker.clone(),
        at: ids::now_rfc3339(),
    };
    let key = lease_key(id);
    let revision = match locks.create(&key, Bytes::from(encode(&value))).await {
        Ok(rev) => rev,
        Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => return Ok(Entered::Wait),
        Err(e) => return Err(DistError::nats("taking a conversation's lease", e)),
    };
    let revision = std::sync::Arc::new(std::sync::Mutex::new(revision));
    let renew = tokio::spawn(renew(locks.clone(), key, value, revision.clone(), ttl / 3));
    let lease = TurnLease {
        id: id.to_owned(),
        locks,
        revision,
        renew,
        history: Vec::new(),
    };
    let finished = finished_heads(ctx, id).await;
    let run = job.run_id.clone();
    let mine = update(&ctx.journal, id, |s| {
        settle(s, &finished);
        if !s.pending.contains(&run) {
            // Its submitter died before queueing it: it goes last.
            s.pending.push(run.clone());
        }
        (s.pending.first() == Some(&run)).then(|| s.turns.clone())
    })
    .await;
    match mine {
        Ok(Some(history)) => Ok(Entered::Turn(Box::new(TurnLease { history, ..lease }))),
        Ok(None) => {
            lease.release().await;
            Ok(Entered::Wait)
        }
        Err(e) => {
            lease.release().await;
            Err(e)
        }
    }
}

/// The finished runs at the head of the conversation's queue, with their
/// turns (read outside the compare-and-set, which only applies them).
async fn finished_heads(ctx: &Context, id: &str) -> Vec<(String, Option<Turn>)> {
    let pending = match entry(&ctx.journal, &state_key(id)).await {
        Ok(Some(e)) => decode::<State>(&e.value, "conversation")
            .map(|s| s.pending)
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for run in pending {
        let handle = ctx.client.run(&run);
        let record = match handle.record().await {
            Ok(r) => r,
            // Gone (purged after a refused submission): drop it.
            Err(DistError::RunNotFound(_)) => {
                out.push((run, None));
                continue;
            }
            Err(_) => break,
        };
        if !record.state.is_terminal() {
            break;
        }
        let turn = match handle.transcript().await {
            Ok(Some(t)) => t.answer.map(|answer| Turn {
                run: run.clone(),
                prompt: t.prompt,
                answer,
            }),
            _ => None,
        };
        out.push((run, turn));
    }
    out
}

/// Drops the finished runs from the head of the queue, keeping their turns.
fn settle(state: &mut State, finished: &[(String, Option<Turn>)]) {
    for (run, turn) in finished {
        if state.pending.first() != Some(run) {
            break;
        }
        state.pending.remove(0);
        if let Some(turn) = turn {
            if !state.turns.iter().any(|t| t.run == turn.run) {
                state.turns.push(turn.clone());
            }
        }
    }
    bound(&mut state.turns);
}

/// Keeps the last [`MAX_TURNS`] turns, at most [`MAX_HISTORY_BYTES`].
fn bound(turns: &mut Vec<Turn>) {
    let mut bytes: usize = turns.iter().map(|t| t.prompt.len() + t.answer.len()).sum();
    let mut drop = turns.len().saturating_sub(MAX_TURNS);
    for t in &turns[..drop] {
        bytes -= t.prompt.len() + t.answer.len();
    }
    while drop < turns.len() && bytes > MAX_HISTORY_BYTES {
        bytes -= turns[drop].prompt.len() + turns[drop].answer.len();
        drop += 1;
    }
    turns.drain(..drop);
}

/// Renews the lease every `every` until aborted (compare-and-set: a lease
/// lost meanwhile is not taken back).
async fn renew(
    locks: kv::Store,
    key: String,
    mut value: LeaseValue,
    revision: std::sync::Arc<std::sync::Mutex<u64>>,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.tick().await;
    loop {
        tick.tick().await;
        let Ok(rev) = revision.lock().map(|r| *r) else {
            return;
        };
        value.at = ids::now_rfc3339();
        match locks.update(&key, Bytes::from(encode(&value)), rev).await {
            Ok(new) => {
                if let Ok(mut r) = revision.lock() {
                    *r = new;
                }
            }
            Err(e) => tracing::warn!(lease = %key, "cannot renew the conversation's lease: {e}"),
        }
    }
}

impl TurnLease {
    /// The run ended (`finished`: with its final event): take it out of
    /// the queue with its answer, then let the lease go.
    pub(crate) async fn end(self, ctx: &Context, run: &str, finished: bool) {
        if finished {
            let heads = finished_heads(ctx, &self.id).await;
            let mut done: Vec<_> = heads.into_iter().take_while(|(r, _)| r != run).collect();
            // This run's own turn: its transcript is stored.
            if let Ok(Some(t)) = ctx.client.run(run).transcript().await {
                let turn = t.answer.map(|answer| Turn {
                    run: run.to_owned(),
                    prompt: t.prompt,
                    answer,
                });
                done.push((run.to_owned(), turn));
            }
            if let Err(e) = update(&ctx.journal, &self.id, |s| settle(s, &done)).await {
                // The next holder settles it from the run record.
                tracing::warn!(conversation = %self.id, "cannot record the turn: {e}");
            }
        }
        self.release().await;
    }

    /// Stops renewing the lease without a word to NATS (a fenced worker
    /// writes nothing): it runs out after its TTL.
    pub(crate) fn abandon(self) {
        self.renew.abort();
    }

    /// Lets the lease go (only if still ours: compare-and-set).
    async fn release(self) {
        self.renew.abort();
        let rev = self.revision.lock().map(|r| *r).ok();
        if let Err(e) = self
            .locks
            .delete_expect_revision(lease_key(&self.id), rev)
            .await
        {
            tracing::debug!(conversation = %self.id, "lease not released (expired?): {e}");
        }
    }
}

/// Sets `message` aside for [`WAIT`]: `nak` with that delay the first time;
/// a message already delivered again is published anew and acknowledged
/// instead, so waiting never counts towards the pool's `max_deliver`.
pub(crate) async fn wait(ctx: &Context, job: &Job, message: &Message) {
    let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
    if delivered <= 1 {
        if let Err(e) = message.ack_with(AckKind::Nak(Some(WAIT))).await {
            tracing::warn!(run = %job.run_id, "nak failed (redelivered after ack_wait instead): {e}");
        }
        return;
    }
    tokio::time::sleep(WAIT).await;
    let again = Publish::build()
        .payload(message.payload.clone())
        .message_id(format!("{}.w{}", job.run_id, ids::new_run_id()));
    let published = match ctx
        .client
        .js
        .send_publish(message.subject.to_string(), again)
        .await
    {
        Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match published {
        Ok(()) => {
            if let Err(e) = message.double_ack().await {
                // Two messages of the run: the second finds it finished.
                tracing::warn!(run = %job.run_id, "ack of a waiting job failed: {e}");
            }
        }
        Err(e) => {
            tracing::warn!(run = %job.run_id, "cannot queue a waiting job again: {e}");
            let _ = message.ack_with(AckKind::Nak(Some(WAIT))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(run: &str, n: usize) -> Turn {
        Turn {
            run: run.into(),
            prompt: "p".repeat(n),
            answer: String::new(),
        }
    }

    #[test]
    fn finished_runs_leave_the_head_of_the_queue_with_their_answers_in_order() {
        let mut s = State {
            v: VERSION,
            pending: vec!["a".into(), "b".into(), "c".into()],
            turns: Vec::new(),
        };
        // "b" is finished but "a" is not: nothing moves.
        settle(&mut s, &[("b".into(), Some(turn("b", 1)))]);
        assert_eq!(s.pending, ["a", "b", "c"]);
        settle(
            &mut s,
            &[("a".into(), Some(turn("a", 1))), ("b".into(), None)],
        );
        assert_eq!(s.pending, ["c"]);
        assert_eq!(s.turns, [turn("a", 1)]);
        // Settled twice: kept once.
        s.pending.insert(0, "a".into());
        settle(&mut s, &[("a".into(), Some(turn("a", 1)))]);
        assert_eq!(s.turns.len(), 1);
    }

    #[test]
    fn the_history_keeps_the_newest_turns_within_its_bounds() {
        let mut turns: Vec<Turn> = (0..MAX_TURNS + 5)
            .map(|i| turn(&i.to_string(), 10))
            .collect();
        bound(&mut turns);
        assert_eq!(turns.len(), MAX_TURNS);
        assert_eq!(turns[0].run, "5");
        let mut turns = vec![turn("old", MAX_HISTORY_BYTES), turn("new", 10)];
        bound(&mut turns);
        assert_eq!(turns, [turn("new", 10)]);
    }
}
