//! [`RunHandle`]: one run, from anywhere: its record, its events from any
//! point, its transcript, cancel.

use async_nats::jetstream::consumer::{self, pull};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::AsyncReadExt;

use super::client::{bucket, entry, Client};
use super::error::{DistError, DistResult};
use super::ids;
use super::protocol::*;
use crate::agent::Transcript;

/// A run. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RunHandle {
    client: Client,
    id: String,
    resubmitted: bool,
}

/// One event with its cursor: the event stream's sequence number, so
/// [`RunHandle::events_from`]`(cursor + 1)` resumes right after it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    /// The stream sequence (increasing; not contiguous within one run).
    pub cursor: u64,
    /// The event.
    pub event: Event,
}

/// A run's events in order: the history, then live ones. Made by
/// [`RunHandle::events_from`].
pub struct Events {
    messages: pull::Ordered,
}

impl Events {
    /// The next event; waits for it. `None` when the subscription ended.
    pub async fn next(&mut self) -> Option<DistResult<RunEvent>> {
        let m = match self.messages.next().await? {
            Ok(m) => m,
            Err(e) => return Some(Err(DistError::nats("reading events", e))),
        };
        let cursor = match m.info() {
            Ok(info) => info.stream_sequence,
            Err(e) => return Some(Err(DistError::nats("reading an event's sequence", e))),
        };
        Some(decode::<Event>(&m.payload, "event").map(|event| RunEvent { cursor, event }))
    }
}

impl RunHandle {
    pub(crate) fn new(client: Client, id: String) -> RunHandle {
        RunHandle {
            client,
            id,
            resubmitted: false,
        }
    }

    pub(crate) fn resubmitted(client: Client, id: String) -> RunHandle {
        RunHandle {
            client,
            id,
            resubmitted: true,
        }
    }

    /// The run's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the submission found the run already there (a retry of a
    /// submission with the same id): nothing new was queued.
    pub fn was_resubmitted(&self) -> bool {
        self.resubmitted
    }

    /// The run record, or [`DistError::RunNotFound`].
    pub async fn record(&self) -> DistResult<RunRecord> {
        let runs = bucket(&self.client.js, RUNS_BUCKET).await?;
        let e = entry(&runs, &self.id)
            .await?
            .ok_or_else(|| DistError::RunNotFound(self.id.clone()))?;
        decode(&e.value, "run record")
    }

    /// Events from stream sequence `cursor` on (0 or 1: from the start):
    /// the stored history, then live events, with no gap.
    pub async fn events_from(&self, cursor: u64) -> DistResult<Events> {
        let stream = self
            .client
            .js
            .get_stream(EVENTS_STREAM)
            .await
            .map_err(|_| DistError::NotInitialised(format!("stream {EVENTS_STREAM}")))?;
        let deliver_policy = if cursor <= 1 {
            consumer::DeliverPolicy::All
        } else {
            consumer::DeliverPolicy::ByStartSequence {
                start_sequence: cursor,
            }
        };
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: event_subject(&self.id),
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|e| DistError::nats("following events", e))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| DistError::nats("following events", e))?;
        Ok(Events { messages })
    }

    /// Follows the events from `cursor`, handing each to `each`, up to and
    /// including the final one, which is returned.
    pub async fn follow(
        &self,
        cursor: u64,
        mut each: impl FnMut(&RunEvent),
    ) -> DistResult<RunEvent> {
        let mut events = self.events_from(cursor).await?;
        while let Some(e) = events.next().await {
            let e = e?;
            each(&e);
            if matches!(e.event.kind, EventKind::Finished { .. }) {
                return Ok(e);
            }
        }
        Err(DistError::Nats("the event subscription ended".into()))
    }

    /// Asks the run to stop: the durable intent in the run record first (a
    /// queued run never starts; a redelivered one stops before resuming),
    /// then the signal to the worker running it. A finished run is left as
    /// it is. `by` says who asked (free text).
    pub async fn cancel(&self, by: &str) -> DistResult<()> {
        let runs = bucket(&self.client.js, RUNS_BUCKET).await?;
        // Bounded: each failed round means another writer changed it.
        for _ in 0..20 {
            let e = entry(&runs, &self.id)
                .await?
                .ok_or_else(|| DistError::RunNotFound(self.id.clone()))?;
            let mut record: RunRecord = decode(&e.value, "run record")?;
            if record.state.is_terminal() {
                return Ok(());
            }
            if record.cancel.is_none() {
                record.cancel = Some(CancelIntent {
                    at: ids::now_rfc3339(),
                    by: by.to_owned(),
                });
                record.updated_at = ids::now_rfc3339();
                if runs
                    .update(&self.id, Bytes::from(encode(&record)), e.revision)
                    .await
                    .is_err()
                {
                    continue;
                }
            }
            self.client
                .nats
                .publish(cancel_subject(&self.id), Bytes::from_static(b"{}"))
                .await
                .map_err(|e| DistError::nats("sending the cancel", e))?;
            self.client
                .nats
                .flush()
                .await
                .map_err(|e| DistError::nats("sending the cancel", e))?;
            return Ok(());
        }
        Err(DistError::Nats(
            "the run record kept changing; cancel not recorded".into(),
        ))
    }

    /// The transcript as JSON (what `switchboard run --json` prints), once
    /// the run finished; `None` before.
    pub async fn transcript_json(&self) -> DistResult<Option<Vec<u8>>> {
        let store = self.client.transcripts().await?;
        let mut object = match store.get(&self.id).await {
            Ok(o) => o,
            Err(e) if e.kind() == async_nats::jetstream::object_store::GetErrorKind::NotFound => {
                return Ok(None)
            }
            Err(e) => return Err(DistError::nats("reading the transcript", e)),
        };
        let mut bytes = Vec::new();
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| DistError::nats("reading the transcript", e))?;
        Ok(Some(bytes))
    }

    /// The transcript, once the run finished; `None` before.
    pub async fn transcript(&self) -> DistResult<Option<Transcript>> {
        match self.transcript_json().await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| DistError::Protocol(format!("transcript: {e}"))),
            None => Ok(None),
        }
    }
}
