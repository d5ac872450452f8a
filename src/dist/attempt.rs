//! One delivery of one job: start (or finish at once when the run is
//! already over or cancelled), run the agent with the journal, finish
//! exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{kv, object_store::ObjectStore, AckKind, Message};
use bytes::Bytes;
use tokio::sync::watch;

use super::agents::AgentCache;
use super::client::{entry, Client};
use super::conversation::{self, Entered, TurnLease};
use super::error::{DistError, DistResult};
use super::events::{publish_final, EventPublisher};
use super::ids;
use super::journal::{JournalStats, JournaledModel, RunToolJournal};
use super::protocol::*;
use super::worker::Running;
use crate::agent::{StopReason, Tokens, Transcript};

/// What every attempt of a worker shares.
pub(crate) struct Context {
    pub(crate) client: Client,
    pub(crate) worker: String,
    pub(crate) runs: kv::Store,
    pub(crate) journal: kv::Store,
    pub(crate) agents_store: kv::Store,
    pub(crate) transcripts: ObjectStore,
    pub(crate) agents: AgentCache,
    pub(crate) running: Running,
    pub(crate) heartbeat: Duration,
    /// Set when the worker stops and its drain time is up: the runs still
    /// going stop at once and are handed to another worker (`nak`).
    pub(crate) hand_off: watch::Receiver<bool>,
    /// Set while the worker is cut off from NATS ([`super::fence`]): the
    /// runs stop at once and write nothing more.
    pub(crate) fenced: super::fence::Fenced,
}

/// How an attempt ended.
enum Ended {
    /// Finished (the final event is published): acknowledge.
    Finished,
    /// Stopped for a hand-off: `nak`, so another worker takes it now.
    HandedOff,
    /// Not its conversation's turn: set aside (see [`conversation::wait`]).
    Wait,
    /// Stopped because the worker is fenced: nothing more is written (no
    /// ack, no nak); the server redelivers the job after `ack_wait`.
    Fenced,
}

/// Runs one delivery; never fails (what goes wrong is logged, and the job
/// is left to redelivery, or ended as failed when it can never run).
pub(crate) async fn run(ctx: Arc<Context>, message: Message) {
    let job: Job = match decode(&message.payload, "job") {
        Ok(job) => job,
        Err(e) => {
            tracing::warn!("dropping a job this build cannot read: {e}");
            let _ = message.ack_with(AckKind::Term).await;
            return;
        }
    };
    let attempt = message
        .info()
        .map(|i| u64::try_from(i.delivered).unwrap_or(1))
        .unwrap_or(1);
    let run = job.run_id.clone();
    // Registered before the record is read: a cancel after the read
    // arrives on the subscription, one before it is in the record.
    let (cancel_tx, cancel_rx) = watch::channel(false);
    if let Ok(mut r) = ctx.running.lock() {
        r.insert(run.clone(), cancel_tx);
    }
    let heartbeat = {
        let message = message.clone();
        let every = ctx.heartbeat;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = message.ack_with(AckKind::Progress).await {
                    tracing::warn!("heartbeat failed: {e}");
                }
            }
        })
    };
    let outcome = attempt_run(&ctx, &job, attempt, cancel_rx, ctx.hand_off.clone()).await;
    heartbeat.abort();
    if let Ok(mut r) = ctx.running.lock() {
        r.remove(&run);
    }
    match outcome {
        Ok(Ended::Wait) => {
            tracing::debug!(%run, "its conversation is busy: waiting");
            // Off the slot: the slot is free as soon as this returns.
            let ctx = ctx.clone();
            tokio::spawn(async move { conversation::wait(&ctx, &job, &message).await });
        }
        Ok(Ended::HandedOff) => {
            tracing::info!(%run, attempt, "handing the run off (nak)");
            if let Err(e) = message.ack_with(AckKind::Nak(None)).await {
                tracing::warn!(%run, "nak failed (redelivered after ack_wait instead): {e}");
            }
        }
        Ok(Ended::Fenced) => {
            tracing::warn!(%run, attempt, "fenced: the run stopped here without writing; it is redelivered after ack_wait");
        }
        Ok(Ended::Finished) => {
            if let Err(e) = message.double_ack().await {
                tracing::warn!(%run, "ack failed (the run is finished; a redelivery will see that): {e}");
            }
        }
        Err(e) => {
            // Left unacknowledged: redelivered after ack_wait.
            tracing::warn!(%run, attempt, "attempt failed, leaving it to redelivery: {e}");
        }
    }
}

/// [`take_and_run`], then the end of the conversation's turn, if it took one.
async fn attempt_run(
    ctx: &Context,
    job: &Job,
    attempt: u64,
    cancel_rx: watch::Receiver<bool>,
    hand_off: watch::Receiver<bool>,
) -> DistResult<Ended> {
    let mut turn = None;
    let outcome = take_and_run(ctx, job, attempt, &mut turn, cancel_rx, hand_off).await;
    match (turn, &outcome) {
        // Fenced: nothing more is written; the lease runs out by itself.
        (Some(turn), Ok(Ended::Fenced)) => turn.abandon(),
        (Some(turn), _) => {
            let finished = matches!(outcome, Ok(Ended::Finished));
            turn.end(ctx, &job.run_id, finished).await;
        }
        (None, _) => {}
    }
    outcome
}

async fn take_and_run(
    ctx: &Context,
    job: &Job,
    attempt: u64,
    turn: &mut Option<TurnLease>,
    mut cancel_rx: watch::Receiver<bool>,
    mut hand_off: watch::Receiver<bool>,
) -> DistResult<Ended> {
    let run = &job.run_id;
    let js = &ctx.client.js;
    // Read the record and take the run (compare-and-set), bounded.
    let mut taken = None;
    for _ in 0..20 {
        let Some(e) = entry(&ctx.runs, run).await? else {
            return Err(DistError::RunNotFound(run.clone()));
        };
        let mut record: RunRecord = decode(&e.value, "run record")?;
        if record.state.is_terminal() {
            // An earlier attempt finished, but its ack was lost.
            return republish_final(ctx, job, &record)
                .await
                .map(|_| Ended::Finished);
        }
        // A conversation's run counts its attempts in the record: the
        // deliveries it waited do not count.
        let attempt = match job.conversation_id {
            Some(_) => record.attempt + 1,
            None => attempt,
        };
        if record.cancel.is_some() {
            let t = empty_transcript(job, StopReason::Cancelled);
            return finish(ctx, job, attempt, 1, &t, None)
                .await
                .map(|_| Ended::Finished);
        }
        if let (Some(id), None) = (&job.conversation_id, turn.as_ref()) {
            match conversation::enter(ctx, id, job).await? {
                Entered::Wait => return Ok(Ended::Wait),
                Entered::Turn(t) => *turn = Some(*t),
            }
        }
        let lost_worker = record.worker.clone();
        let retrying = attempt > 1 || record.state != RunState::Queued;
        record.state = RunState::Running;
        record.attempt = attempt;
        record.worker = Some(ctx.worker.clone());
        record.updated_at = ids::now_rfc3339();
        if ctx
            .runs
            .update(run, Bytes::from(encode(&record)), e.revision)
            .await
            .is_ok()
        {
            taken = Some((retrying, lost_worker, attempt));
            break;
        }
    }
    let Some((retrying, lost_worker, attempt)) = taken else {
        return Err(DistError::Nats("the run record kept changing".into()));
    };
    let origins = Arc::new(Mutex::new(HashMap::new()));
    let publisher = EventPublisher::start(js.clone(), run, attempt, origins.clone());
    publisher.send(if retrying {
        EventKind::Retrying {
            worker: ctx.worker.clone(),
            lost_worker,
        }
    } else {
        EventKind::Started {
            worker: ctx.worker.clone(),
        }
    });

    let agent = match ctx
        .agents
        .get(&ctx.agents_store, &job.agent, job.agent_rev)
        .await
    {
        Ok(agent) => agent,
        // NATS failing: leave the job to redelivery.
        Err(e @ DistError::Nats(_)) => {
            publisher.close().await;
            return Err(e);
        }
        // It can never run (no such definition, one that does not parse).
        Err(e) => {
            let seq = publisher.close().await;
            let t = empty_transcript(job, StopReason::ModelError(e.to_string()));
            return finish(ctx, job, attempt, seq + 1, &t, Some(e.to_string()))
                .await
                .map(|_| Ended::Finished);
        }
    };
    let mut limits = agent.limits();
    if let Some(n) = job.limits.max_steps {
        limits.max_steps = limits.max_steps.min(n);
    }
    if let Some(s) = job.limits.deadline_secs {
        limits.deadline = limits.deadline.min(Duration::from_secs(s));
    }
    if let Some(b) = job.limits.token_budget {
        limits.token_budget = Some(limits.token_budget.map_or(b, |l| l.min(b)));
    }
    let stats = Arc::new(JournalStats::default());
    let model = JournaledModel::new(agent.model(), ctx.journal.clone(), run, stats.clone());
    let tools = RunToolJournal::new(
        ctx.journal.clone(),
        agent.fleet().clone(),
        run,
        attempt,
        &ctx.worker,
        agent.tool_rules().replay_policy(),
        origins,
    );
    let agent = agent
        .with_model(Arc::new(model))
        .with_tool_journal(Arc::new(tools))
        .with_limits(limits);
    let handing_off = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fenced = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cancel = {
        let handing_off = handing_off.clone();
        let (fenced, mut fence) = (fenced.clone(), ctx.fenced.clone());
        async move {
            tokio::select! {
                _ = cancel_rx.wait_for(|c| *c) => {}
                _ = hand_off.wait_for(|h| *h) => {
                    handing_off.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                Ok(_) = fence.wait_for(|f| *f) => {
                    fenced.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
        }
    };
    let history = turn
        .as_ref()
        .map(|t| t.history.as_slice())
        .unwrap_or_default();
    let mut conversation = agent.conversation_after(
        history
            .iter()
            .map(|t| (t.prompt.as_str(), t.answer.as_str())),
    );
    let transcript = conversation.run_with(&job.prompt, &publisher, cancel).await;
    if fenced.load(std::sync::atomic::Ordering::SeqCst) {
        // Cut off: the events not yet sent are dropped, not published late.
        publisher.abandon();
        return Ok(Ended::Fenced);
    }
    if handing_off.load(std::sync::atomic::Ordering::SeqCst) {
        // Not finished: the next attempt resumes from the journal.
        publisher.close().await;
        return Ok(Ended::HandedOff);
    }
    tracing::debug!(
        %run,
        attempt,
        turns_reused = stats.turns_reused.load(std::sync::atomic::Ordering::SeqCst),
        turns_asked = stats.turns_asked.load(std::sync::atomic::Ordering::SeqCst),
        "run finished: {}",
        transcript.stop
    );
    let seq = publisher.close().await;
    finish(ctx, job, attempt, seq + 1, &transcript, None)
        .await
        .map(|_| Ended::Finished)
}

pub(crate) fn empty_transcript(job: &Job, stop: StopReason) -> Transcript {
    Transcript {
        agent: job.agent.clone(),
        model: String::new(),
        prompt: job.prompt.clone(),
        steps: Vec::new(),
        answer: None,
        stop,
        tokens: Tokens::default(),
        ms: 0,
    }
}

/// Stores the transcript, marks the record final (compare-and-set), and
/// publishes the one final event.
pub(crate) async fn finish(
    ctx: &Context,
    job: &Job,
    attempt: u64,
    seq: u64,
    t: &Transcript,
    error: Option<String>,
) -> DistResult<()> {
    let run = &job.run_id;
    let started = Instant::now();
    let Some(mut e) = entry(&ctx.runs, run).await? else {
        return Err(DistError::RunNotFound(run.clone()));
    };
    let record: RunRecord = decode(&e.value, "run record")?;
    if record.state.is_terminal() {
        // Another attempt finished first: its transcript and final event stand.
        return republish_final(ctx, job, &record).await;
    }
    if super::fence::superseded(&record, attempt) {
        // A later attempt owns the run: its transcript is not ours to write.
        return Err(DistError::Superseded(run.clone()));
    }
    let json = serde_json::to_vec_pretty(t).unwrap_or_default();
    retried("storing the transcript", || async {
        ctx.transcripts
            .put(run.as_str(), &mut json.as_slice())
            .await
            .map(|_| ())
            .map_err(|e| DistError::nats("storing the transcript", e))
    })
    .await?;
    let state = match (&t.stop, &error) {
        (_, Some(_)) => RunState::Failed,
        (StopReason::Cancelled, _) => RunState::Cancelled,
        _ => RunState::Done,
    };
    for _ in 0..20 {
        let mut record: RunRecord = decode(&e.value, "run record")?;
        if record.state.is_terminal() {
            break; // another attempt finished first
        }
        if super::fence::superseded(&record, attempt) {
            return Err(DistError::Superseded(run.clone()));
        }
        record.state = state;
        record.attempt = attempt;
        record.worker = Some(ctx.worker.clone());
        record.stop = Some(t.stop.clone());
        record.error = error.clone();
        record.updated_at = ids::now_rfc3339();
        if ctx
            .runs
            .update(run, Bytes::from(encode(&record)), e.revision)
            .await
            .is_ok()
        {
            break;
        }
        e = entry(&ctx.runs, run)
            .await?
            .ok_or_else(|| DistError::RunNotFound(run.clone()))?;
    }
    let kind = EventKind::Finished {
        stop: t.stop.clone(),
        answer: t.answer.clone(),
        tokens: t.tokens,
        ms: t.ms,
        error,
    };
    // De-duplicated by its id, so a retry after a lost ack stores one.
    retried("publishing the final event", || {
        publish_final(&ctx.client.js, run, attempt, seq, kind.clone())
    })
    .await?;
    tracing::debug!(%run, ms = started.elapsed().as_millis() as u64, "finished");
    Ok(())
}

/// Tries an idempotent write up to [`FINISH_TRIES`] times (an ack lost
/// while NATS restarts times out; the write itself may have landed).
async fn retried<F, Fut>(what: &str, mut write: F) -> DistResult<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = DistResult<()>>,
{
    let mut last = None;
    for i in 0..FINISH_TRIES {
        match write().await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(try_ = i + 1, "{what} failed, retrying: {e}");
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    Err(last.unwrap_or_else(|| DistError::Nats(what.to_owned())))
}

/// How often [`retried`] tries.
const FINISH_TRIES: u32 = 3;

/// The run ended in an earlier attempt: publish its final event again
/// (the stream drops it if it is there) and acknowledge.
async fn republish_final(ctx: &Context, job: &Job, record: &RunRecord) -> DistResult<()> {
    let handle = ctx.client.run(&job.run_id);
    let t = handle.transcript().await?;
    let stop = record
        .stop
        .clone()
        .or_else(|| t.as_ref().map(|t| t.stop.clone()))
        .unwrap_or(StopReason::Cancelled);
    publish_final(
        &ctx.client.js,
        &job.run_id,
        record.attempt,
        u64::MAX,
        EventKind::Finished {
            stop,
            answer: t.as_ref().and_then(|t| t.answer.clone()),
            tokens: t.as_ref().map(|t| t.tokens).unwrap_or_default(),
            ms: t.as_ref().map_or(0, |t| t.ms),
            error: record.error.clone(),
        },
    )
    .await
}
