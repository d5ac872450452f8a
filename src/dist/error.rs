//! The errors of `switchboard::dist`.

use thiserror::Error;

/// What went wrong talking to NATS or with a run.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DistError {
    /// Could not connect to the NATS server.
    #[error("cannot connect to NATS at {url}: {message}")]
    Connect {
        /// The server's URL (without credentials).
        url: String,
        /// Why.
        message: String,
    },
    /// The queue is full (the stream's `max_msgs`, JetStream error 10077),
    /// or this agent's share of it (`Setup::max_queued_per_agent`): try
    /// again later (HTTP 429 in an API).
    #[error("{}: the run was not submitted; try again later", full_queue(.agent.as_deref()))]
    QueueFull {
        /// The agent whose own cap was reached; `None` when the whole
        /// queue is full.
        agent: Option<String>,
    },
    /// No such run.
    #[error("no run {0:?}")]
    RunNotFound(String),
    /// No such agent in `sb_agents` (push it with `switchboard agents push`).
    #[error("no agent {0:?} in sb_agents: push it with `switchboard agents push FILE`")]
    AgentNotFound(String),
    /// The streams and buckets are missing (run `switchboard dist init`).
    #[error("{0} is missing: run `switchboard dist init` first")]
    NotInitialised(String),
    /// A bad argument (a run id, a pool or agent name, a state).
    #[error("{0}")]
    InvalidArgument(String),
    /// A payload this build cannot read.
    #[error("protocol: {0}")]
    Protocol(String),
    /// A definition that does not parse.
    #[error(transparent)]
    Definition(#[from] crate::Error),
    /// A later attempt of the run took it over (this one's worker was
    /// presumed lost): this attempt's writes are refused.
    #[error("run {0:?} was taken over by a later attempt")]
    Superseded(String),
    /// NATS or JetStream failed (after async-nats' own reconnects).
    #[error("NATS: {0}")]
    Nats(String),
}

/// Which queue is full, for [`DistError::QueueFull`].
fn full_queue(agent: Option<&str>) -> String {
    match agent {
        Some(agent) => format!("the queue of agent {agent:?} is full"),
        None => "the queue is full".to_owned(),
    }
}

impl DistError {
    pub(crate) fn nats(what: &str, e: impl std::fmt::Display) -> DistError {
        DistError::Nats(format!("{what}: {e}"))
    }
}

/// The result of `switchboard::dist` calls.
pub type DistResult<T> = std::result::Result<T, DistError>;
