//! Beyond one machine: agents as workers on NATS JetStream (feature
//! `distributed`).
//!
//! Runs are submitted to a durable work queue (`SB_JOBS`), taken by any
//! [`Worker`] of their pool, and their progress is a replayable event
//! stream (`SB_EVENTS`). Run records, the step journal and the agent
//! definitions live in KV buckets, transcripts in an object store; cancels
//! travel on core NATS. `/work/shared/DISTRIBUTED.md` (the design) and
//! ARCHITECTURE.md describe the protocol.
//!
//! ```no_run
//! # async fn run() -> Result<(), switchboard::dist::DistError> {
//! use switchboard::dist::{Client, Setup, Worker};
//! let d = Client::connect("nats://127.0.0.1:4222").await?;
//! d.init(&Setup::default()).await?;
//! d.push_agent(&std::fs::read_to_string("agents/researcher.toml").unwrap()).await?;
//! let run = d.submit("researcher", "What is MCP?").await?;
//! let done = run.follow(0, |e| println!("{:?}", e.event.kind)).await?;
//! let transcript = run.transcript().await?;
//! // or host the agents in this program:
//! Worker::builder(d.clone()).concurrency(4).run(std::future::pending()).await?;
//! # let _ = (done, transcript); Ok(()) }
//! ```
//!
//! What is promised: exactly-once submission per run id (the run record is
//! created first; the job carries `Nats-Msg-Id`); at-least-once execution
//! (a job whose worker stops heartbeating is redelivered after the pool
//! consumer's `ack_wait`); exactly-once completion (one final event,
//! `Nats-Msg-Id: <run>.final`, one transcript); journaled model turns are
//! never asked again; a tool call in flight on a lost worker is never
//! repeated unless the tool is declared read-only or idempotent: the model
//! is told its outcome is unknown. Every `tools/call` carries the
//! idempotency key [`IDEMPOTENCY_KEY`] in `_meta`.
//!
//! Operations: a run whose worker is lost on each of the consumer's
//! `max_deliver` deliveries is given up (failed, stop reason
//! `worker_lost_too_often`, one final event) by one worker of its pool; a
//! worker cut off from NATS for half the ack wait fences itself (its runs
//! stop and write nothing more); [`Setup::max_queued_per_agent`] caps each
//! agent's share of the queue.

mod agents;
mod attempt;
mod client;
mod conversation;
mod error;
mod events;
mod fence;
mod gateway_health;
mod handle;
mod health;
mod ids;
mod journal;
pub mod protocol;
mod reaper;
pub mod replay;
mod setup;
mod submit;
mod worker;

pub use client::{Client, DEFAULT_NATS_URL};
pub use conversation::{
    valid_conversation_id, MAX_HISTORY_BYTES, MAX_TURNS, WAIT as CONVERSATION_WAIT,
};
pub use error::{DistError, DistResult};
pub use events::PREVIEW_BYTES;
pub use gateway_health::{
    new_gateway_id, GatewayHealth, GatewayHealthPublisher, GATEWAY_HEALTH_EVERY,
};
pub use handle::{Events, RunEvent, RunHandle};
pub use health::{MemberHealth, Status, WorkerHealth, CHECK_EVERY, HEALTH_EVERY};
pub use ids::{new_run_id, valid_run_id};
pub use journal::{JournalStats, IDEMPOTENCY_KEY};
pub use protocol::{Event, EventKind, JobLimits, Origin, RunRecord, RunState};
pub use setup::Setup;
pub use submit::Submit;
pub use worker::{Worker, WorkerBuilder};
