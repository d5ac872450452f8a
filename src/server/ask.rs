//! Asking the client (sampling, elicitation, roots) in the handshake era:
//! a real server-to-client request on the same connection, answered while
//! the connection keeps reading. (2026-07-28 asks are input-required
//! rounds: see `rounds.rs` and [`Context`](super::Context).)

use std::sync::atomic::Ordering;

use serde_json::Value;
use tokio::sync::oneshot;

use super::conn::{lock, Conn};
use super::error::ServerError;
use super::outgoing::{encode_request, Route};
use crate::protocol::request::{Cancelled, CreateMessage, Elicit, ListRoots, Request};
use crate::protocol::{CancelledNotificationParams, ClientCapabilities, ErrorObject, RequestId};

/// What a server can ask its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AskKind {
    /// `sampling/createMessage` (capability `sampling`).
    Sampling,
    /// `elicitation/create` (capability `elicitation`).
    Elicitation,
    /// `roots/list` (capability `roots`).
    Roots,
}

impl AskKind {
    /// The method of the request.
    pub fn method(self) -> &'static str {
        match self {
            AskKind::Sampling => CreateMessage::METHOD,
            AskKind::Elicitation => Elicit::METHOD,
            AskKind::Roots => ListRoots::METHOD,
        }
    }

    /// The client capability it needs.
    pub fn capability(self) -> &'static str {
        match self {
            AskKind::Sampling => "sampling",
            AskKind::Elicitation => "elicitation",
            AskKind::Roots => "roots",
        }
    }

    /// The first part of its key in a 2026-07-28 round (`sample-0`, ...).
    pub(crate) fn key(self) -> &'static str {
        match self {
            AskKind::Sampling => "sample",
            AskKind::Elicitation => "elicit",
            AskKind::Roots => "roots",
        }
    }

    /// True when `capabilities` declare it.
    pub(crate) fn declared(self, capabilities: &ClientCapabilities) -> bool {
        match self {
            AskKind::Sampling => capabilities.sampling.is_some(),
            AskKind::Elicitation => capabilities.elicitation.is_some(),
            AskKind::Roots => capabilities.roots.is_some(),
        }
    }
}

/// Why an ask has no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AskError {
    /// (2026-07-28) The answer is not known yet: return this with `?` and
    /// the server replies `input_required`, running the handler again when
    /// the client retries with the answer.
    #[error("input required: {0}")]
    InputRequired(String),
    /// The request did not declare the client capability the ask needs
    /// (`sampling`, `elicitation`, `roots`).
    #[error("the client did not declare the {0} capability")]
    MissingCapability(&'static str),
    /// (Handshake era) The client answered with an error.
    #[error("the client refused: {} ({})", .0.message, .0.code)]
    Refused(ErrorObject),
    /// The answer does not have the shape the ask expects.
    #[error("the client's answer is malformed: {0}")]
    InvalidAnswer(String),
    /// The connection closed before the client answered.
    #[error("the connection closed before the client answered")]
    Disconnected,
}

impl From<AskError> for ServerError {
    fn from(e: AskError) -> Self {
        match e {
            AskError::InputRequired(key) => ServerError::InputRequired(key),
            AskError::MissingCapability(c) => ServerError::MissingCapability(c),
            other => ServerError::Internal(other.to_string()),
        }
    }
}

/// Forgets an ask whose handler stopped waiting, and tells the client.
struct Forget<'a> {
    conn: &'a Conn,
    key: Box<str>,
    id: String,
    route: Route,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        // Still registered: no answer came (an answer or the connection's
        // end removes it first).
        if lock(&self.conn.asks).remove(&self.key).is_some() {
            let params = CancelledNotificationParams::new(
                RequestId::String(std::mem::take(&mut self.id)),
                Some("the request that asked was cancelled".into()),
            );
            let route = std::mem::replace(&mut self.route, Route::Unrelated);
            self.conn.notify::<Cancelled>(Some(&params), route);
        }
    }
}

impl Conn {
    /// Sends a request to the client and waits for its answer.
    pub(crate) async fn ask_client(
        &self,
        kind: AskKind,
        params: &Value,
        route: Route,
    ) -> Result<Value, AskError> {
        let n = self.next_ask.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("srv-{n}");
        let frame = encode_request(&id, kind.method(), params)
            .map_err(|e| AskError::InvalidAnswer(format!("the ask does not serialize: {e}")))?;
        let key: Box<str> = format!("\"{id}\"").into();
        let (tx, rx) = oneshot::channel();
        lock(&self.asks).insert(key.clone(), tx);
        let _forget = Forget {
            conn: self,
            key,
            id,
            route: route.clone(),
        };
        self.send_frame(frame, route);
        match rx.await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(err)) => Err(AskError::Refused(err)),
            Err(_) => Err(AskError::Disconnected),
        }
    }
}
