//! [`Submit`]: putting a run on the queue, exactly once per run id.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use async_nats::jetstream::kv;
use async_nats::jetstream::message::PublishMessage as Publish;
use bytes::Bytes;

use super::client::{bucket, entry, Client};
use super::error::{DistError, DistResult};
use super::handle::RunHandle;
use super::ids;
use super::protocol::*;

/// A submission being built; `.await` it. Made by [`Client::submit`].
///
/// Exactly once: the run record is created first (`KV create`), and the
/// job is published with `Nats-Msg-Id: <run id>`, so submitting the same
/// run id again (a client retry) returns the existing run instead of
/// starting a second one.
#[must_use = "a submission does nothing until awaited"]
pub struct Submit {
    client: Client,
    agent: String,
    prompt: String,
    run_id: Option<String>,
    revision: Option<u64>,
    pool: String,
    limits: JobLimits,
    submitter: Option<String>,
    conversation: Option<String>,
}

impl Submit {
    pub(crate) fn new(client: Client, agent: &str, prompt: &str) -> Submit {
        Submit {
            client,
            agent: agent.to_owned(),
            prompt: prompt.to_owned(),
            run_id: None,
            revision: None,
            pool: DEFAULT_POOL.to_owned(),
            limits: JobLimits::default(),
            submitter: None,
            conversation: None,
        }
    }
    /// The run id (default a new ULID). Give the same one when retrying a
    /// submission, so it is stored once.
    pub fn id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }
    /// The definition's revision in `sb_agents` (default the newest).
    pub fn revision(mut self, rev: u64) -> Self {
        self.revision = Some(rev);
        self
    }
    /// The worker pool (default `default`).
    pub fn pool(mut self, pool: impl Into<String>) -> Self {
        self.pool = pool.into();
        self
    }
    /// Tighter limits than the definition's (default none).
    pub fn limits(mut self, limits: JobLimits) -> Self {
        self.limits = limits;
        self
    }
    /// Who submits (free text, kept in the job; default none).
    pub fn submitter(mut self, who: impl Into<String>) -> Self {
        self.submitter = Some(who.into());
        self
    }

    /// The conversation the run belongs to (default none): the runs of one
    /// conversation run one at a time, in the order they were submitted,
    /// and each starts after the earlier ones' prompts and final answers
    /// (the last [`MAX_TURNS`](super::MAX_TURNS) turns, at most
    /// [`MAX_HISTORY_BYTES`](super::MAX_HISTORY_BYTES)). An id is 1 to 128
    /// letters, digits, `-` and `_`.
    pub fn conversation(mut self, id: impl Into<String>) -> Self {
        self.conversation = Some(id.into());
        self
    }

    async fn send(self) -> DistResult<RunHandle> {
        let run_id = self.run_id.unwrap_or_else(ids::new_run_id);
        if !ids::valid_run_id(&run_id) {
            return Err(DistError::InvalidArgument(format!(
                "{run_id:?} is not a run id: 1 to 64 letters, digits, - and _"
            )));
        }
        for (what, name) in [("agent", &self.agent), ("pool", &self.pool)] {
            if !valid_token(name) {
                return Err(DistError::InvalidArgument(format!(
                    "{name:?} is not an {what} name: use letters, digits, - and _"
                )));
            }
        }
        if let Some(id) = &self.conversation {
            if !super::conversation::valid_conversation_id(id) {
                return Err(DistError::InvalidArgument(format!(
                    "{id:?} is not a conversation id: 1 to 128 letters, digits, - and _"
                )));
            }
        }
        let c = &self.client;
        let agent_rev = match self.revision {
            Some(rev) => rev,
            None => c.agent(&self.agent).await?.0,
        };
        let now = ids::now_rfc3339();
        let job = Job {
            v: VERSION,
            run_id: run_id.clone(),
            agent: self.agent.clone(),
            agent_rev,
            prompt: self.prompt,
            conversation_id: self.conversation.clone(),
            limits: self.limits,
            submitted_at: now.clone(),
            submitter: self.submitter,
            meta: serde_json::Value::Null,
        };
        let record = RunRecord {
            v: VERSION,
            run_id: run_id.clone(),
            agent: self.agent.clone(),
            state: RunState::Queued,
            attempt: 0,
            worker: None,
            cancel: None,
            stop: None,
            error: None,
            submitted_at: now.clone(),
            updated_at: now,
        };
        let runs = bucket(&c.js, RUNS_BUCKET).await?;
        match runs.create(&run_id, Bytes::from(encode(&record))).await {
            Ok(_) => {}
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                // A re-submission: the run exists. Only a run still queued
                // is published again (the stream drops the duplicate), in
                // case the first submitter died between the two writes.
                let existing = entry(&runs, &run_id).await?;
                let queued = existing
                    .map(|e| decode::<RunRecord>(&e.value, "run record"))
                    .transpose()?
                    .is_some_and(|r| r.state == RunState::Queued);
                if queued {
                    publish(c, &self.pool, &job).await?;
                }
                return Ok(RunHandle::resubmitted(c.clone(), run_id));
            }
            Err(e) => return Err(DistError::nats("creating the run record", e)),
        }
        // In its conversation's queue before it can be fetched: the queue
        // is the submission order.
        let journal = match &self.conversation {
            Some(id) => {
                let journal = bucket(&c.js, JOURNAL_BUCKET).await?;
                if let Err(e) = super::conversation::enqueue(&journal, id, &run_id).await {
                    let _ = runs.purge(&run_id).await;
                    return Err(e);
                }
                Some((journal, id))
            }
            None => None,
        };
        if let Err(e) = publish(c, &self.pool, &job).await {
            // Refused: forget the record so the same id may be submitted later.
            if let Some((journal, id)) = journal {
                let _ = super::conversation::dequeue(&journal, id, &run_id).await;
            }
            let _ = runs.purge(&run_id).await;
            return Err(e);
        }
        Ok(RunHandle::new(c.clone(), run_id))
    }
}

async fn publish(c: &Client, pool: &str, job: &Job) -> DistResult<()> {
    let publish = Publish::build()
        .payload(Bytes::from(encode(job)))
        .message_id(&job.run_id);
    let ack =
        c.js.send_publish(job_subject(pool, &job.agent), publish)
            .await
            .map_err(|e| DistError::nats("publishing the job", e))?;
    match ack.await {
        Ok(ack) => {
            if ack.duplicate {
                tracing::debug!(run = %job.run_id, "job already queued (de-duplicated)");
            }
            Ok(())
        }
        Err(e) => Err(publish_error(&e, &job.agent)),
    }
}

/// A refused publish: `QueueFull` for the stream's message limits (10077),
/// naming `agent` when its own cap (per subject) was reached.
fn publish_error(e: &async_nats::jetstream::context::PublishError, agent: &str) -> DistError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if text.contains("maximum messages per subject exceeded") {
        DistError::QueueFull {
            agent: Some(agent.to_owned()),
        }
    } else if text.contains("10077") || text.contains("maximum messages exceeded") {
        DistError::QueueFull { agent: None }
    } else {
        DistError::Nats(format!("publishing the job: {text}"))
    }
}

impl IntoFuture for Submit {
    type Output = DistResult<RunHandle>;
    type IntoFuture = Pin<Box<dyn Future<Output = DistResult<RunHandle>> + Send>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
