//! Zombie fencing: a worker cut off from NATS (alive, but its heartbeats
//! no longer arrive) stops its runs before the server hands them to
//! another worker, and writes nothing more for them.
//!
//! A probe makes a round trip to the server every [`probe_every`] (a
//! request on a subject nobody serves: the server itself answers "no
//! responders", so no JetStream work is done). Heartbeats travel on the
//! same connection before the probe, so a probe answered means they
//! arrived. When no probe was answered for `ack_wait / 2` (a partition, a
//! dead connection: async-nats' `Disconnected` makes the probe fail at
//! once), the worker is **fenced**: every run cancels itself locally (its
//! calls in flight are dropped, so stdio servers get
//! `notifications/cancelled`), publishes no more events, writes neither
//! the run record nor the transcript, and neither acknowledges nor naks
//! the job, which the server redelivers after `ack_wait`; the worker
//! fetches no job until a probe is answered again.
//!
//! Writes of a fenced attempt that were already under way lose anyway:
//! journal entries are `KV create` (the first writer wins), and a run
//! record taken by a later attempt is never written by an earlier one
//! ([`superseded`]). Not covered: a side effect already started when the
//! partition begins cannot be called back; the dropped call's server may
//! still finish it after the run moved on. The next attempt reports that
//! call's outcome as unknown and does not repeat it (unless the tool is
//! replayable, when two executions may overlap).

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::protocol::RunRecord;

/// The subject the probe asks (nobody answers it but the server).
fn probe_subject(worker: &str) -> String {
    format!("sb.v1.probe.{worker}")
}

/// How often the probe runs for `ack_wait`: a tenth of it, within
/// 50 ms and 2 s (2 s for the default 30 s ack wait).
pub(crate) fn probe_every(ack_wait: Duration) -> Duration {
    (ack_wait / 10).clamp(Duration::from_millis(50), Duration::from_secs(2))
}

/// Whether the worker is fenced (`true`) or may work (`false`).
pub(crate) type Fenced = watch::Receiver<bool>;

/// Starts the probe of `worker`'s connection; returns its state and task.
pub(crate) fn watch(
    nats: async_nats::Client,
    ack_wait: Duration,
    worker: String,
) -> (Fenced, tokio::task::JoinHandle<()>) {
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let every = probe_every(ack_wait);
        let fence_after = ack_wait / 2;
        let subject = probe_subject(&worker);
        let mut last_ok = Instant::now();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let answered = match tokio::time::timeout(
                every,
                nats.request(subject.clone(), bytes::Bytes::new()),
            )
            .await
            {
                Ok(Ok(_)) => true,
                Ok(Err(e)) => e.kind() == async_nats::RequestErrorKind::NoResponders,
                Err(_) => false,
            };
            if answered {
                last_ok = Instant::now();
                if *tx.borrow() {
                    tracing::info!(worker = %worker, "unfenced: NATS answers again; taking work again");
                    let _ = tx.send(false);
                }
            } else if !*tx.borrow() && last_ok.elapsed() >= fence_after {
                tracing::warn!(
                    worker = %worker,
                    silent_ms = last_ok.elapsed().as_millis() as u64,
                    "fenced: NATS has not answered for ack_wait/2; stopping this worker's runs without writing"
                );
                let _ = tx.send(true);
            }
        }
    });
    (rx, task)
}

/// Whether `record` was taken by a later attempt than `attempt` (so this
/// attempt lost the run and must not write it). Each delivery of a job
/// has its own count, so no two attempts share a number.
pub(crate) fn superseded(record: &RunRecord, attempt: u64) -> bool {
    record.attempt > attempt
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(attempt: u64) -> RunRecord {
        serde_json::from_value(serde_json::json!({
            "v": 1, "run_id": "r", "agent": "a", "state": "running",
            "attempt": attempt, "worker": "w-2",
            "submitted_at": "2026-12-04T00:00:00Z", "updated_at": "2026-12-04T00:00:00Z",
        }))
        .expect("a run record")
    }

    #[test]
    fn only_a_later_attempt_supersedes_an_attempt() {
        assert!(superseded(&record(2), 1), "attempt 1 lost the run to 2");
        assert!(!superseded(&record(2), 2), "attempt 2 owns it");
        // The reaper and a cancel at start come with the newest count.
        assert!(!superseded(&record(2), 3));
    }

    #[test]
    fn the_probe_runs_ten_times_per_ack_wait_within_bounds() {
        assert_eq!(probe_every(Duration::from_secs(30)), Duration::from_secs(2));
        assert_eq!(
            probe_every(Duration::from_secs(4)),
            Duration::from_millis(400)
        );
        assert_eq!(
            probe_every(Duration::from_millis(100)),
            Duration::from_millis(50)
        );
    }
}
