//! The max-deliver reaper: a job whose attempts kept dying reaches the
//! pool consumer's `max_deliver`, the server stops delivering it and
//! publishes the `MAX_DELIVERIES` advisory. One worker of the pool (a
//! queue group) takes it, ends the run as failed with
//! [`StopReason::WorkerLostTooOften`] the way other runs end (transcript,
//! record, one final event `<run>.final`) and deletes the dead job from
//! the work queue.
//!
//! The advisory is core NATS, sent once and not stored. nats-server 2.15.1
//! sends it when it would deliver the job again: at the next pull of a
//! worker, which listens before its first fetch (so with no worker up,
//! the next one to start hears it), but with `max_deliver` 1 as soon as
//! the delivery's `ack_wait` runs out. One sent while no worker of the
//! pool listens (none was up, or the one that took it died) is lost. So
//! every worker also sweeps, when it starts and every [`SWEEP_EVERY`]: the
//! dead jobs sit right after the consumer's ack floor (they are never
//! acknowledged); a job there whose run record says its last delivery
//! happened (`attempt >= max_deliver`) and is not over is dead when no job
//! of the pool is in flight (`num_ack_pending` 0: the pool was idle, the
//! case of a pool without workers) or when the worker of that delivery is
//! gone from `sb_health` (its entry expires 30 s after its last write).
//! The sweep looks at most [`SWEEP_SCAN`] sequences per round.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::stream::Stream;
use futures_util::StreamExt;
use serde::Deserialize;

use super::attempt::{empty_transcript, finish, Context};
use super::client::{bucket, entry};
use super::error::{DistError, DistResult};
use super::protocol::*;
use crate::agent::StopReason;

/// How often each worker sweeps for dead jobs whose advisory was lost.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Most stream sequences one sweep looks at.
const SWEEP_SCAN: u64 = 1000;

/// The queue group of a pool's reapers: one worker takes each advisory.
fn reaper_group(pool: &str) -> String {
    format!("sb-reaper-{pool}")
}

/// `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.SB_JOBS.pool-<pool>`.
pub(crate) fn max_deliveries_subject(pool: &str) -> String {
    format!(
        "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{JOBS_STREAM}.{}",
        pool_consumer(pool)
    )
}

/// The fields of the advisory we use.
#[derive(Debug, Deserialize)]
struct MaxDeliveries {
    stream_seq: u64,
    deliveries: u64,
}

/// Subscribes (before the worker's first fetch) and returns the task that
/// reaps every advisory of `pool` this worker is given.
pub(crate) async fn start(
    ctx: Arc<Context>,
    stream: Stream,
    pool: &str,
) -> DistResult<tokio::task::JoinHandle<()>> {
    let mut advisories = ctx
        .client
        .nats
        .queue_subscribe(max_deliveries_subject(pool), reaper_group(pool))
        .await
        .map_err(|e| DistError::nats("subscribing to max-delivery advisories", e))?;
    Ok(tokio::spawn(async move {
        while let Some(m) = advisories.next().await {
            let advisory: MaxDeliveries = match serde_json::from_slice(&m.payload) {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("a max-delivery advisory this build cannot read: {e}");
                    continue;
                }
            };
            if let Err(e) = reap(&ctx, &stream, &advisory).await {
                tracing::warn!(seq = advisory.stream_seq, "reaping a dead job failed: {e}");
            }
        }
    }))
}

/// Sweeps now and every [`SWEEP_EVERY`] (the returned task).
pub(crate) fn start_sweeps(
    ctx: Arc<Context>,
    stream: Stream,
    consumer: PullConsumer,
    pool: String,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            match sweep(&ctx, &stream, &consumer, &pool).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(pool = %pool, reaped = n, "swept dead jobs"),
                Err(e) => tracing::warn!(pool = %pool, "sweeping for dead jobs failed: {e}"),
            }
        }
    })
}

/// Reaps the dead jobs of `pool` found after the consumer's ack floor;
/// returns how many.
async fn sweep(
    ctx: &Context,
    stream: &Stream,
    consumer: &PullConsumer,
    pool: &str,
) -> DistResult<usize> {
    let info = consumer
        .clone()
        .info()
        .await
        .map_err(|e| DistError::nats("reading the pool consumer", e))?
        .clone();
    let max_deliver = u64::try_from(info.config.max_deliver).unwrap_or(0);
    if max_deliver == 0 {
        return Ok(0); // unlimited deliveries: nothing ever dies
    }
    let idle = info.num_ack_pending == 0;
    let first = info.ack_floor.stream_sequence + 1;
    let last = info.delivered.stream_sequence.min(first + SWEEP_SCAN - 1);
    let prefix = format!("sb.v1.jobs.{pool}.");
    let health = bucket(&ctx.client.js, HEALTH_BUCKET).await?;
    let mut reaped = 0;
    for seq in first..=last {
        // Gaps are jobs acknowledged (deleted) already.
        let Ok(message) = stream.get_raw_message(seq).await else {
            continue;
        };
        if !message.subject.starts_with(&prefix) {
            continue;
        }
        let Ok(job) = decode::<Job>(&message.payload, "job") else {
            continue;
        };
        let Some(e) = entry(&ctx.runs, &job.run_id).await? else {
            continue;
        };
        let record: RunRecord = decode(&e.value, "run record")?;
        if record.state.is_terminal() || record.attempt < max_deliver {
            continue;
        }
        let gone = match &record.worker {
            Some(w) => entry(&health, &format!("worker.{}", super::journal::key_part(w)))
                .await?
                .is_none(),
            None => true,
        };
        if idle || gone {
            let advisory = MaxDeliveries {
                stream_seq: seq,
                deliveries: record.attempt,
            };
            reap(ctx, stream, &advisory).await?;
            reaped += 1;
        }
    }
    Ok(reaped)
}

/// Ends the run of the dead job at `advisory.stream_seq` as failed and
/// deletes the job.
async fn reap(ctx: &Context, stream: &Stream, advisory: &MaxDeliveries) -> DistResult<()> {
    let seq = advisory.stream_seq;
    let message = match stream.get_raw_message(seq).await {
        Ok(m) => m,
        // Gone already (another reaper, or acknowledged meanwhile).
        Err(e) => {
            tracing::debug!(seq, "no dead job to reap: {e}");
            return Ok(());
        }
    };
    let job: Job = decode(&message.payload, "job")?;
    let run = &job.run_id;
    let terminal = match entry(&ctx.runs, run).await? {
        Some(e) => decode::<RunRecord>(&e.value, "run record")?
            .state
            .is_terminal(),
        None => true,
    };
    if !terminal {
        let lost = u32::try_from(advisory.deliveries).unwrap_or(u32::MAX);
        tracing::warn!(%run, deliveries = advisory.deliveries, "giving the run up: its worker was lost on every attempt");
        let stop = StopReason::WorkerLostTooOften(lost);
        let error = stop.to_string();
        let t = empty_transcript(&job, stop);
        finish(ctx, &job, advisory.deliveries, u64::MAX, &t, Some(error)).await?;
    }
    if let Err(e) = stream.delete_message(seq).await {
        // Another reaper may have deleted it first.
        tracing::debug!(seq, "deleting a dead job: {e}");
    }
    Ok(())
}
