//! [`Worker`]: pulls jobs of one pool and runs them, N at a time.
//!
//! A slot (a permit of `concurrency`) is taken before each fetch of one
//! job, so a busy worker takes no more work (backpressure needs no other
//! code). Each job runs as an attempt ([`super::attempt`]) with its own
//! heartbeat. Cancels come on one wildcard subscription.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use futures_util::StreamExt;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::agents::AgentCache;
use super::client::{bucket, Client};
use super::error::{DistError, DistResult};
use super::protocol::*;
use super::setup::{pool_consumer_config, Setup};

/// Runs of this worker by id: their cancel switches.
pub(crate) type Running = Arc<Mutex<HashMap<String, watch::Sender<bool>>>>;

/// How long runs get to hand themselves off once the drain time is up.
const HAND_OFF_WITHIN: Duration = Duration::from_secs(10);

/// How long one fetch waits for a job.
const FETCH_EXPIRES: Duration = Duration::from_secs(2);

/// Builds a [`Worker`]. Start with [`Worker::builder`].
#[derive(Debug)]
pub struct WorkerBuilder {
    client: Client,
    pool: String,
    concurrency: usize,
    id: Option<String>,
    drain: Duration,
}

/// A worker: pulls jobs of its pool and runs them.
pub struct Worker;

impl Worker {
    /// A worker on `client`.
    pub fn builder(client: Client) -> WorkerBuilder {
        WorkerBuilder {
            client,
            pool: DEFAULT_POOL.into(),
            concurrency: 8,
            id: None,
            drain: Duration::from_secs(120),
        }
    }
}

impl WorkerBuilder {
    /// The pool to take jobs from (default `default`).
    pub fn pool(mut self, pool: impl Into<String>) -> Self {
        self.pool = pool.into();
        self
    }
    /// Runs at once (default 8; at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
    /// The worker's id in run records and events (default `w-` and 8
    /// random characters).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
    /// How long runs in flight may finish once `shutdown` completes
    /// (default 120 s); the rest are then stopped (their calls in flight
    /// dropped) and handed off with a `nak`, so another worker resumes
    /// them from the journal at once.
    pub fn drain(mut self, drain: Duration) -> Self {
        self.drain = drain;
        self
    }

    /// The worker's id (as given, or made now).
    fn worker_id(&self) -> String {
        self.id.clone().unwrap_or_else(|| {
            let id = super::ids::new_run_id();
            format!("w-{}", id[id.len() - 8..].to_ascii_lowercase())
        })
    }

    /// Pulls and runs jobs until `shutdown` completes; then stops fetching,
    /// lets the runs in flight finish (within the drain time) and closes
    /// the agents' servers.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> DistResult<()> {
        if !valid_token(&self.pool) {
            return Err(DistError::InvalidArgument(format!(
                "{:?} is not a pool name: use letters, digits, - and _",
                self.pool
            )));
        }
        let id = self.worker_id();
        let c = self.client.clone();
        let stream =
            c.js.get_stream(JOBS_STREAM)
                .await
                .map_err(|_| DistError::NotInitialised(format!("stream {JOBS_STREAM}")))?;
        let setup = Setup {
            pool: self.pool.clone(),
            ..Setup::default()
        };
        let mut consumer: PullConsumer = stream
            .get_or_create_consumer(&pool_consumer(&self.pool), pool_consumer_config(&setup))
            .await
            .map_err(|e| DistError::nats("opening the pool consumer", e))?;
        let ack_wait = match consumer.info().await {
            Ok(info) => info.config.ack_wait,
            Err(_) => setup.ack_wait,
        };
        let heartbeat = (ack_wait / 3).max(Duration::from_millis(100));
        let (hand_off_tx, hand_off) = watch::channel(false);
        let (mut fenced, fence) = super::fence::watch(c.nats.clone(), ack_wait, id.clone());
        let ctx = Arc::new(super::attempt::Context {
            client: c.clone(),
            worker: id.clone(),
            runs: bucket(&c.js, RUNS_BUCKET).await?,
            journal: bucket(&c.js, JOURNAL_BUCKET).await?,
            agents_store: bucket(&c.js, AGENTS_BUCKET).await?,
            transcripts: c.transcripts().await?,
            agents: AgentCache::default(),
            running: Running::default(),
            heartbeat,
            hand_off,
            fenced: fenced.clone(),
        });
        let mut cancels = c
            .nats
            .subscribe(CANCEL_WILDCARD)
            .await
            .map_err(|e| DistError::nats("subscribing to cancels", e))?;
        let reaper = super::reaper::start(ctx.clone(), stream.clone(), &self.pool).await?;
        let sweeps = super::reaper::start_sweeps(
            ctx.clone(),
            stream.clone(),
            consumer.clone(),
            self.pool.clone(),
        );
        let running = ctx.running.clone();
        let cancel_task = tokio::spawn(async move {
            while let Some(m) = cancels.next().await {
                // sb.v1.run.<run>.cancel
                let Some(run) = m.subject.split('.').nth(3) else {
                    continue;
                };
                if let Some(tx) = running.lock().ok().and_then(|r| r.get(run).cloned()) {
                    tracing::debug!(run, "cancel received");
                    let _ = tx.send(true);
                }
            }
        });
        tracing::info!(worker = %id, pool = %self.pool, concurrency = self.concurrency, ?ack_wait, "worker started");

        let running_now = Arc::new(AtomicUsize::new(0));
        let health_store = bucket(&c.js, HEALTH_BUCKET).await?;
        let health = tokio::spawn(super::health::publish(
            health_store.clone(),
            id.clone(),
            self.pool.clone(),
            self.concurrency,
            running_now.clone(),
            ctx.agents.clone(),
        ));
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                biased;
                _ = &mut shutdown => break,
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            while tasks.try_join_next().is_some() {}
            // A fenced worker takes no work until NATS answers again.
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                _ = fenced.wait_for(|f| !*f) => {}
            }
            let fetched = tokio::select! {
                biased;
                _ = &mut shutdown => break,
                f = fetch_one(&mut consumer) => f,
            };
            match fetched {
                Ok(Some(message)) => {
                    let ctx = ctx.clone();
                    let running_now = running_now.clone();
                    running_now.fetch_add(1, Ordering::SeqCst);
                    tasks.spawn(async move {
                        super::attempt::run(ctx, message).await;
                        running_now.fetch_sub(1, Ordering::SeqCst);
                        drop(permit);
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(worker = %id, "fetching a job failed: {e}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
        tracing::info!(worker = %id, running = tasks.len(), drain = ?self.drain, "worker stopping: draining");
        let drained = tokio::time::timeout(self.drain, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            // Drain time is up: the runs still going stop at a step
            // boundary and are handed off (nak: redelivered at once).
            tracing::info!(worker = %id, running = tasks.len(), "handing off the runs still going");
            let _ = hand_off_tx.send(true);
            let _ = tokio::time::timeout(HAND_OFF_WITHIN, async {
                while tasks.join_next().await.is_some() {}
            })
            .await;
        }
        tasks.abort_all();
        cancel_task.abort();
        reaper.abort();
        sweeps.abort();
        fence.abort();
        health.abort();
        super::health::withdraw(&health_store, &id).await;
        ctx.agents.close().await;
        Ok(())
    }
}

async fn fetch_one(
    consumer: &mut PullConsumer,
) -> DistResult<Option<async_nats::jetstream::Message>> {
    let mut batch = consumer
        .fetch()
        .max_messages(1)
        .expires(FETCH_EXPIRES)
        .messages()
        .await
        .map_err(|e| DistError::nats("fetch", e))?;
    match batch.next().await {
        Some(Ok(m)) => Ok(Some(m)),
        Some(Err(e)) => Err(DistError::nats("fetch", e)),
        None => Ok(None),
    }
}
