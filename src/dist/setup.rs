//! `switchboard dist init`: the streams, the pool consumer and the buckets
//! (idempotent: creates what is missing, updates what differs).

use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, object_store, stream};

use super::error::{DistError, DistResult};
use super::protocol::*;

/// What `init` creates. Every field has the production default the
/// design names; tests shorten the times.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Replicas of every stream and bucket (default 1; 3 in a cluster).
    pub replicas: usize,
    /// The pool whose consumer is created (default `default`).
    pub pool: String,
    /// How long a job may go without a heartbeat before it is redelivered
    /// (default 30 s). Workers heartbeat every third of it.
    pub ack_wait: Duration,
    /// Deliveries of one job before it is given up (default 5).
    pub max_deliver: i64,
    /// Most queued jobs; more are refused with [`DistError::QueueFull`]
    /// (default 100 000).
    pub max_queued: i64,
    /// Most jobs of one agent in the queue (waiting or running: a job
    /// leaves `SB_JOBS` when its run finishes); more for that agent are
    /// refused with [`DistError::QueueFull`] naming it, while other agents
    /// still admit (the stream's `max_msgs_per_subject` with
    /// `discard_new_per_subject`). Default `None`: unlimited (only
    /// `max_queued` applies).
    pub max_queued_per_agent: Option<i64>,
    /// The de-duplication window of submissions and events (default 10 min).
    pub duplicate_window: Duration,
    /// How long events, run records and the journal are kept (default 7 days).
    pub retention: Duration,
    /// How long a health entry (`sb_health`) lives unless rewritten
    /// (default 30 s): dead workers and gateways vanish after it.
    pub health_max_age: Duration,
    /// How long a lease (`sb_locks`, e.g. a conversation's) lives unless its
    /// holder renews it (default 30 s): a dead holder's lease ends after it.
    pub lease: Duration,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            replicas: 1,
            pool: DEFAULT_POOL.into(),
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            max_queued: 100_000,
            max_queued_per_agent: None,
            duplicate_window: Duration::from_secs(600),
            retention: Duration::from_secs(7 * 24 * 3600),
            health_max_age: Duration::from_secs(30),
            lease: Duration::from_secs(30),
        }
    }
}

/// The consumer config of a pool.
pub(crate) fn pool_consumer_config(setup: &Setup) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(pool_consumer(&setup.pool)),
        filter_subject: pool_filter(&setup.pool),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: setup.ack_wait,
        max_deliver: setup.max_deliver,
        max_ack_pending: 10_000,
        ..Default::default()
    }
}

/// Creates or updates everything in `setup`.
pub async fn init(js: &jetstream::Context, setup: &Setup) -> DistResult<()> {
    if setup.max_queued_per_agent.is_some_and(|n| n < 1) {
        return Err(DistError::InvalidArgument(
            "the per-agent queue cap must be at least 1".into(),
        ));
    }
    if !valid_token(&setup.pool) {
        return Err(DistError::InvalidArgument(format!(
            "{:?} is not a pool name: use letters, digits, - and _",
            setup.pool
        )));
    }
    let jobs = js
        .create_or_update_stream(stream::Config {
            name: JOBS_STREAM.into(),
            subjects: vec!["sb.v1.jobs.>".into()],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            num_replicas: setup.replicas,
            duplicate_window: setup.duplicate_window,
            max_messages: setup.max_queued,
            discard: stream::DiscardPolicy::New,
            // Unlimited is -1 (0 would keep a limit set before).
            max_messages_per_subject: setup.max_queued_per_agent.unwrap_or(-1),
            discard_new_per_subject: setup.max_queued_per_agent.is_some(),
            ..Default::default()
        })
        .await
        .map_err(|e| DistError::nats("creating stream SB_JOBS", e))?;
    tracing::debug!(messages = jobs.state.messages, "SB_JOBS ready");
    js.create_or_update_stream(stream::Config {
        name: EVENTS_STREAM.into(),
        subjects: vec!["sb.v1.run.*.ev".into()],
        retention: stream::RetentionPolicy::Limits,
        storage: stream::StorageType::File,
        num_replicas: setup.replicas,
        duplicate_window: setup.duplicate_window,
        max_age: setup.retention,
        max_messages_per_subject: 100_000,
        ..Default::default()
    })
    .await
    .map_err(|e| DistError::nats("creating stream SB_EVENTS", e))?;
    let stream = js
        .get_stream(JOBS_STREAM)
        .await
        .map_err(|e| DistError::nats("reading stream SB_JOBS", e))?;
    let config = pool_consumer_config(setup);
    // Create or update (the server applies a changed config to the durable).
    stream
        .create_consumer(config)
        .await
        .map_err(|e| DistError::nats("creating the pool consumer", e))?;
    for (bucket, history, max_age) in [
        (RUNS_BUCKET, 10, setup.retention),
        (JOURNAL_BUCKET, 1, setup.retention),
        (AGENTS_BUCKET, 20, Duration::ZERO),
        (LOCKS_BUCKET, 1, setup.lease),
    ] {
        js.create_or_update_key_value(kv::Config {
            bucket: bucket.into(),
            history,
            max_age,
            num_replicas: setup.replicas,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| DistError::nats(&format!("creating bucket {bucket}"), e))?;
    }
    // On file, so it outlives a NATS restart (its writers do not create
    // it). One made in memory by an older build cannot change its storage:
    // it holds nothing that lasts, so it is made again.
    let health = kv::Config {
        bucket: HEALTH_BUCKET.into(),
        history: 1,
        max_age: setup.health_max_age,
        num_replicas: setup.replicas,
        storage: stream::StorageType::File,
        ..Default::default()
    };
    if js.create_or_update_key_value(health.clone()).await.is_err() {
        let _ = js.delete_key_value(HEALTH_BUCKET).await;
        js.create_key_value(health)
            .await
            .map_err(|e| DistError::nats("creating bucket sb_health", e))?;
    }
    if js.get_object_store(TRANSCRIPTS_BUCKET).await.is_err() {
        js.create_object_store(object_store::Config {
            bucket: TRANSCRIPTS_BUCKET.into(),
            num_replicas: setup.replicas,
            max_age: setup.retention,
            ..Default::default()
        })
        .await
        .map_err(|e| DistError::nats("creating object store sb_transcripts", e))?;
    }
    Ok(())
}
