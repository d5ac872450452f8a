//! The max-deliver reaper: a job whose attempts kept dying reaches the
//! pool consumer's `max_deliver`, the server stops delivering it and
//! publishes the `MAX_DELIVERIES` advisory. One worker of the pool (a
//! queue group) takes it, ends the run as failed with
//! [`StopReason::WorkerLostTooOften`] the way other runs end (transcript,
//! record, one final event `<run>.final`) and deletes the dead job from
//! the work queue.
//!
//! The advisory is core NATS (not stored): one sent while no worker of the
//! pool listens is lost. The server sends it when it would deliver the job
//! again, which for a pull consumer is when a worker asks for work, and a
//! worker listens before its first fetch; so in practice the next worker
//! to start reaps the run. Should an advisory be lost anyway, the dead job
//! stays in `SB_JOBS` (never delivered again) and its run stays
//! `retrying`/`running` until `switchboard runs cancel`.

use std::sync::Arc;

use async_nats::jetstream::stream::Stream;
use futures_util::StreamExt;
use serde::Deserialize;

use super::attempt::{empty_transcript, finish, Context};
use super::client::entry;
use super::error::{DistError, DistResult};
use super::protocol::*;
use crate::agent::StopReason;

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
    stream
        .delete_message(seq)
        .await
        .map_err(|e| DistError::nats("deleting a dead job", e))?;
    Ok(())
}
