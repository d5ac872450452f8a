//! The wire: subjects, bucket names and the JSON payloads (`"v": 1`;
//! unknown fields are ignored, a higher major version is refused).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::DistError;
use crate::agent::{Step, StopReason, Tokens, ToolCallRecord};

/// The payload version this build writes and reads.
pub const VERSION: u32 = 1;

/// The work-queue stream.
pub const JOBS_STREAM: &str = "SB_JOBS";
/// The per-run event stream.
pub const EVENTS_STREAM: &str = "SB_EVENTS";
/// KV bucket of run records.
pub const RUNS_BUCKET: &str = "sb_runs";
/// KV bucket of the step journal and tool ledger.
pub const JOURNAL_BUCKET: &str = "sb_journal";
/// KV bucket of agent definitions.
pub const AGENTS_BUCKET: &str = "sb_agents";
/// KV bucket of shared health (entries expire after
/// [`crate::dist::Setup::health_max_age`], 30 s by default).
pub const HEALTH_BUCKET: &str = "sb_health";
/// KV bucket of leases (`conv.<id>`); an entry lives as long as the
/// lease ([`crate::dist::Setup::lease`]) unless renewed.
pub const LOCKS_BUCKET: &str = "sb_locks";
/// Object store of transcripts.
pub const TRANSCRIPTS_BUCKET: &str = "sb_transcripts";
/// The pool when none is named.
pub const DEFAULT_POOL: &str = "default";

/// `sb.v1.jobs.<pool>.<agent>`.
pub fn job_subject(pool: &str, agent: &str) -> String {
    format!("sb.v1.jobs.{pool}.{agent}")
}
/// `sb.v1.jobs.<pool>.>`: a pool's consumer filter.
pub fn pool_filter(pool: &str) -> String {
    format!("sb.v1.jobs.{pool}.>")
}
/// `pool-<pool>`: a pool's durable consumer.
pub fn pool_consumer(pool: &str) -> String {
    format!("pool-{pool}")
}
/// `sb.v1.run.<run>.ev`.
pub fn event_subject(run: &str) -> String {
    format!("sb.v1.run.{run}.ev")
}
/// `sb.v1.run.<run>.cancel` (core NATS, not stored).
pub fn cancel_subject(run: &str) -> String {
    format!("sb.v1.run.{run}.cancel")
}
/// What every worker listens to for cancels.
pub const CANCEL_WILDCARD: &str = "sb.v1.run.*.cancel";

/// Whether `name` may be a subject token (a pool or an agent name).
pub fn valid_token(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Limits a job may set; each only tightens the definition's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLimits {
    /// Most model turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u32>,
    /// Wall-clock deadline of the run, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_secs: Option<u64>,
    /// Most tokens over the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_budget: Option<u64>,
}

/// A job on `SB_JOBS` (published with `Nats-Msg-Id: <run_id>`). It never
/// carries a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Payload version.
    pub v: u32,
    /// The run's id.
    pub run_id: String,
    /// The agent's name in `sb_agents`.
    pub agent: String,
    /// The definition's revision in `sb_agents` (a redelivered run keeps it).
    pub agent_rev: u64,
    /// The user's prompt.
    pub prompt: String,
    /// The conversation it belongs to: its runs run one at a time, in
    /// submission order, each after the earlier ones' prompts and answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// Tighter limits than the definition's.
    #[serde(default)]
    pub limits: JobLimits,
    /// When it was submitted (RFC 3339).
    pub submitted_at: String,
    /// Who submitted it (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter: Option<String>,
    /// Anything the submitter wants to keep with the run.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub meta: Value,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Submitted, not yet started.
    Queued,
    /// A worker runs it.
    Running,
    /// Redelivered after its worker was lost.
    Retrying,
    /// Finished (any stop reason but cancelled).
    Done,
    /// Could not run (no such agent, a bad definition).
    Failed,
    /// Cancelled.
    Cancelled,
}

impl RunState {
    /// Done, failed or cancelled.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunState::Done | RunState::Failed | RunState::Cancelled
        )
    }
    /// The name, as in the payloads (`queued`, `running`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Retrying => "retrying",
            RunState::Done => "done",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for RunState {
    type Err = DistError;
    fn from_str(s: &str) -> Result<Self, DistError> {
        serde_json::from_value(Value::String(s.to_owned())).map_err(|_| {
            DistError::InvalidArgument(format!(
                "{s:?} is not a run state: give queued, running, retrying, done, failed or cancelled"
            ))
        })
    }
}

/// A cancel intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelIntent {
    /// When (RFC 3339).
    pub at: String,
    /// Who asked (free text, e.g. `cli`).
    pub by: String,
}

/// The run record, `sb_runs/<run>`; written with compare-and-set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Payload version.
    pub v: u32,
    /// The run's id.
    #[serde(default)]
    pub run_id: String,
    /// The agent.
    #[serde(default)]
    pub agent: String,
    /// Where it is.
    pub state: RunState,
    /// The delivery that runs (or ran) it; 0 while queued.
    #[serde(default)]
    pub attempt: u64,
    /// The worker that runs (or ran) it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// A cancel intent, once asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<CancelIntent>,
    /// Why it ended, once it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopReason>,
    /// A failure that kept it from running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it was submitted.
    #[serde(default)]
    pub submitted_at: String,
    /// The last change.
    pub updated_at: String,
}

/// Where a tool call's result came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// It ran in this attempt.
    Fresh,
    /// An earlier attempt's result, from the journal.
    Journal,
    /// Not repeated: an earlier attempt died while it ran.
    Unknown,
}

/// One event on `sb.v1.run.<run>.ev` (published with `Nats-Msg-Id:
/// <run>.<attempt>.<seq>`, the final one `<run>.final`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Payload version.
    pub v: u32,
    /// The run.
    pub run_id: String,
    /// The attempt (delivery count) that published it.
    pub attempt: u64,
    /// The event's number within its attempt, from 1 (the final event
    /// has the highest of its attempt).
    pub seq: u64,
    /// When (RFC 3339).
    pub t: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What an event says. Maps one-to-one to `RunObserver` callbacks, plus
/// the attempt's start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// An attempt began on a worker.
    Started {
        /// The worker.
        worker: String,
    },
    /// A redelivered attempt began.
    Retrying {
        /// The worker.
        worker: String,
        /// The worker that was lost, as far as the record says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lost_worker: Option<String>,
    },
    /// A model turn began.
    StepStarted {
        /// The step, from 1.
        step: u32,
        /// How many tools were offered.
        tools_offered: usize,
    },
    /// Text of the model (coalesced).
    Text {
        /// The text.
        delta: String,
    },
    /// A tool call began.
    ToolStarted {
        /// The model's call id.
        call_id: String,
        /// The namespaced tool name.
        name: String,
    },
    /// A tool call ended.
    ToolFinished {
        /// The record (its output cut to a preview of at most 4 KiB).
        call: ToolCallRecord,
        /// Where the result came from.
        origin: Origin,
    },
    /// A step ended.
    StepFinished {
        /// The step (its tool calls' outputs cut to previews).
        step: Step,
    },
    /// The run ended: exactly one per run.
    Finished {
        /// Why.
        stop: StopReason,
        /// The final answer, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        answer: Option<String>,
        /// Tokens over the run.
        tokens: Tokens,
        /// Wall-clock time of the last attempt, in milliseconds.
        ms: u64,
        /// Set when the run could not run at all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

/// Encodes a payload.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Our payload types hold only strings, numbers and JSON values.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Decodes a payload, refusing a higher major version.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, DistError> {
    #[derive(Deserialize)]
    struct Versioned {
        #[serde(default)]
        v: u32,
    }
    let v: Versioned = serde_json::from_slice(bytes)
        .map_err(|e| DistError::Protocol(format!("{what}: not a JSON payload: {e}")))?;
    if v.v > VERSION {
        return Err(DistError::Protocol(format!(
            "{what}: payload version {} is newer than this build's {VERSION}",
            v.v
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| DistError::Protocol(format!("{what}: {e}")))
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn preview(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payloads_round_trip_ignore_unknown_fields_and_refuse_a_newer_version() {
        let job = Job {
            v: VERSION,
            run_id: "01JF".into(),
            agent: "researcher".into(),
            agent_rev: 7,
            prompt: "What is MCP?".into(),
            conversation_id: Some("c-1".into()),
            limits: JobLimits {
                max_steps: Some(12),
                deadline_secs: None,
                token_budget: Some(60_000),
            },
            submitted_at: "2026-12-02T07:00:00.000Z".into(),
            submitter: Some("bot-42".into()),
            meta: Value::Null,
        };
        assert_eq!(decode::<Job>(&encode(&job), "job").unwrap(), job);
        let record = RunRecord {
            v: VERSION,
            run_id: "01JF".into(),
            agent: "researcher".into(),
            state: RunState::Running,
            attempt: 2,
            worker: Some("w-7f".into()),
            cancel: Some(CancelIntent {
                at: "2026-12-02T07:00:01.000Z".into(),
                by: "cli".into(),
            }),
            stop: Some(StopReason::MaxSteps(12)),
            error: None,
            submitted_at: "2026-12-02T07:00:00.000Z".into(),
            updated_at: "2026-12-02T07:00:02.000Z".into(),
        };
        assert_eq!(
            decode::<RunRecord>(&encode(&record), "record").unwrap(),
            record
        );
        for kind in [
            EventKind::Started { worker: "w".into() },
            EventKind::Retrying {
                worker: "w2".into(),
                lost_worker: Some("w".into()),
            },
            EventKind::StepStarted {
                step: 3,
                tools_offered: 12,
            },
            EventKind::Text {
                delta: "Looking at…".into(),
            },
            EventKind::ToolStarted {
                call_id: "call_x".into(),
                name: "fetch_fetch".into(),
            },
            EventKind::Finished {
                stop: StopReason::FinalAnswer,
                answer: Some("42".into()),
                tokens: Tokens {
                    prompt: 1,
                    completion: 2,
                    total: 3,
                },
                ms: 9120,
                error: None,
            },
        ] {
            let event = Event {
                v: VERSION,
                run_id: "01JF".into(),
                attempt: 1,
                seq: 17,
                t: "2026-12-02T07:00:00.000Z".into(),
                kind,
            };
            assert_eq!(decode::<Event>(&encode(&event), "event").unwrap(), event);
        }
        // The wire shape: the kind is a tag beside the envelope's fields.
        let text = encode(&Event {
            v: 1,
            run_id: "r".into(),
            attempt: 1,
            seq: 1,
            t: "t".into(),
            kind: EventKind::StepStarted {
                step: 1,
                tools_offered: 2,
            },
        });
        let v: Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(v["kind"], "step_started");
        assert_eq!(v["tools_offered"], 2);
        // Unknown fields are ignored; a higher version is refused.
        let newer_field = json!({"v": 1, "state": "queued", "updated_at": "t", "shiny": true});
        let r: RunRecord = decode(newer_field.to_string().as_bytes(), "record").unwrap();
        assert_eq!(r.state, RunState::Queued);
        let v2 = json!({"v": 2, "state": "queued", "updated_at": "t"});
        let e = decode::<RunRecord>(v2.to_string().as_bytes(), "record").unwrap_err();
        assert!(e.to_string().contains("newer than this build's 1"), "{e}");
        assert!("running".parse::<RunState>().is_ok());
        assert!("sleeping".parse::<RunState>().is_err());
    }

    #[test]
    fn names_are_subject_tokens_and_previews_cut_on_a_character() {
        assert!(valid_token("research-bot_2"));
        assert!(
            !valid_token("a.b") && !valid_token("a*") && !valid_token("a>") && !valid_token("")
        );
        assert_eq!(job_subject("default", "fx"), "sb.v1.jobs.default.fx");
        assert_eq!(preview("héllo", 2), "h…");
        assert_eq!(preview("abc", 4096), "abc");
    }
}
