//! [`EventPublisher`]: a `RunObserver` that publishes a run's progress to
//! `SB_EVENTS` in order (`Nats-Msg-Id: <run>.<attempt>.<seq>`), text
//! coalesced to at most one event per 50 ms or 1 KiB.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage as Publish};
use bytes::Bytes;
use tokio::sync::mpsc;

use super::error::{DistError, DistResult};
use super::ids;
use super::protocol::*;
use crate::agent::{RunObserver, Step, ToolCallRecord, Transcript};

/// Text is flushed at this size...
const TEXT_BYTES: usize = 1024;
/// ...or after this long.
const TEXT_DELAY: Duration = Duration::from_millis(50);
/// Tool outputs in events are cut to this; the journal keeps them whole.
pub const PREVIEW_BYTES: usize = 4096;

/// Publishes one attempt's events. Made per attempt by the worker.
pub(crate) struct EventPublisher {
    tx: mpsc::UnboundedSender<EventKind>,
    task: tokio::task::JoinHandle<u64>,
    origins: Arc<Mutex<HashMap<String, Origin>>>,
}

impl EventPublisher {
    pub(crate) fn start(
        js: jetstream::Context,
        run: &str,
        attempt: u64,
        origins: Arc<Mutex<HashMap<String, Origin>>>,
    ) -> EventPublisher {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(publish_loop(js, run.to_owned(), attempt, rx));
        EventPublisher { tx, task, origins }
    }

    pub(crate) fn send(&self, kind: EventKind) {
        let _ = self.tx.send(kind);
    }

    /// Stops at once: the events not yet handed to NATS are dropped (a
    /// fenced attempt must not publish them late).
    pub(crate) fn abandon(self) {
        self.task.abort();
    }

    /// Publishes what is left; returns the last sequence used.
    pub(crate) async fn close(self) -> u64 {
        drop(self.tx);
        self.task.await.unwrap_or(0)
    }
}

async fn publish_loop(
    js: jetstream::Context,
    run: String,
    attempt: u64,
    mut rx: mpsc::UnboundedReceiver<EventKind>,
) -> u64 {
    let mut seq = 0u64;
    let mut text = String::new();
    let mut acks = Vec::new();
    loop {
        let next = if text.is_empty() {
            rx.recv().await
        } else {
            match tokio::time::timeout(TEXT_DELAY, rx.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    seq += 1;
                    let delta = std::mem::take(&mut text);
                    acks.extend(send(&js, &run, attempt, seq, EventKind::Text { delta }).await);
                    continue;
                }
            }
        };
        match next {
            Some(EventKind::Text { delta }) => {
                text.push_str(&delta);
                if text.len() < TEXT_BYTES {
                    continue;
                }
                seq += 1;
                let delta = std::mem::take(&mut text);
                acks.extend(send(&js, &run, attempt, seq, EventKind::Text { delta }).await);
            }
            other => {
                if !text.is_empty() {
                    seq += 1;
                    let delta = std::mem::take(&mut text);
                    acks.extend(send(&js, &run, attempt, seq, EventKind::Text { delta }).await);
                }
                let Some(kind) = other else { break };
                seq += 1;
                acks.extend(send(&js, &run, attempt, seq, kind).await);
            }
        }
        // Bounded: the context's in-flight limit applies back-pressure; the
        // acks are collected so the final event follows all of them.
        if acks.len() >= 64 {
            for ack in acks.drain(..) {
                if let Err(e) = ack.await {
                    tracing::warn!(%run, "an event was not stored: {e}");
                }
            }
        }
    }
    for ack in acks {
        if let Err(e) = ack.await {
            tracing::warn!(%run, "an event was not stored: {e}");
        }
    }
    seq
}

/// Sends one event with `Nats-Msg-Id: id`; returns its ack to wait for.
async fn send_event(
    js: &jetstream::Context,
    run: &str,
    attempt: u64,
    seq: u64,
    kind: EventKind,
    id: String,
) -> Result<jetstream::context::PublishAckFuture, jetstream::context::PublishError> {
    let event = Event {
        v: VERSION,
        run_id: run.to_owned(),
        attempt,
        seq,
        t: ids::now_rfc3339(),
        kind,
    };
    let publish = Publish::build()
        .payload(Bytes::from(encode(&event)))
        .message_id(id);
    js.send_publish(event_subject(run), publish).await
}

/// Sends event `seq` of an attempt (`<run>.<attempt>.<seq>`); a failure is
/// logged (a follower sees a gap in the sequence, not a stall).
async fn send(
    js: &jetstream::Context,
    run: &str,
    attempt: u64,
    seq: u64,
    kind: EventKind,
) -> Option<jetstream::context::PublishAckFuture> {
    let id = format!("{run}.{attempt}.{seq}");
    match send_event(js, run, attempt, seq, kind, id).await {
        Ok(ack) => Some(ack),
        Err(e) => {
            tracing::warn!(%run, "cannot publish an event: {e}");
            None
        }
    }
}

/// Publishes the one final event of a run (`Nats-Msg-Id: <run>.final`, so
/// a second one is dropped by the stream) and waits until it is stored.
pub(crate) async fn publish_final(
    js: &jetstream::Context,
    run: &str,
    attempt: u64,
    seq: u64,
    kind: EventKind,
) -> DistResult<()> {
    let failed = |e: &dyn std::fmt::Display| DistError::nats("publishing the final event", e);
    let ack = send_event(js, run, attempt, seq, kind, format!("{run}.final"))
        .await
        .map_err(|e| failed(&e))?;
    ack.await.map_err(|e| failed(&e))?;
    Ok(())
}

fn cut(call: &ToolCallRecord) -> ToolCallRecord {
    let mut call = call.clone();
    call.output = preview(&call.output, PREVIEW_BYTES);
    call
}

impl RunObserver for EventPublisher {
    fn step_started(&self, index: u32, tools_offered: usize) {
        self.send(EventKind::StepStarted {
            step: index,
            tools_offered,
        });
    }
    fn text(&self, delta: &str) {
        self.send(EventKind::Text {
            delta: delta.to_owned(),
        });
    }
    fn tool_started(&self, id: &str, name: &str) {
        self.send(EventKind::ToolStarted {
            call_id: id.to_owned(),
            name: name.to_owned(),
        });
    }
    fn tool_finished(&self, call: &ToolCallRecord) {
        let origin = self
            .origins
            .lock()
            .ok()
            .and_then(|m| m.get(&call.id).copied())
            .unwrap_or(Origin::Fresh);
        self.send(EventKind::ToolFinished {
            call: cut(call),
            origin,
        });
    }
    fn step_finished(&self, step: &Step) {
        let mut step = step.clone();
        step.tool_calls = step.tool_calls.iter().map(cut).collect();
        self.send(EventKind::StepFinished { step });
    }
    fn finished(&self, _transcript: &Transcript) {
        // The worker publishes the final event once the transcript is stored.
    }
}
