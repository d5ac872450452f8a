//! What a tool handler can do while it runs, the same code in either era:
//! report progress, log, and ask the client for sampling, elicitation or
//! roots. In the handshake era an ask is a real server→client request; in
//! the modern era it is an input-required round (the handler is re-run on
//! the client's retry and finds the answer by its key).

use std::fmt;
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use super::dispatch::{Conn, Req};
use crate::protocol::{Era, ErrorObject, ProtocolVersion};

/// A log level: the protocol's own ([`crate::protocol::LoggingLevel`]).
pub use crate::protocol::LoggingLevel as LogLevel;

/// Why a tool handler stopped without a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The tool failed: the client gets an `isError: true` result with this text.
    #[error("{0}")]
    Failed(String),
    /// (Modern era) the answer to this ask is not known yet: return it with
    /// `?` and the server replies `input_required`, re-running the handler
    /// when the client retries with the answer.
    #[error("input required: {0}")]
    InputRequired(String),
    /// The request did not declare the client capability (`sampling`,
    /// `elicitation`, `roots`) an ask needs: -32021 in the modern era, an
    /// `isError` result in the handshake era.
    #[error("the client did not declare the {0} capability")]
    MissingCapability(&'static str),
    /// (Handshake era) the client answered the server's request with an error.
    #[error("the client refused: {} ({})", .0.message, .0.code)]
    Client(ErrorObject),
    /// Reply with exactly this JSON-RPC error instead of a result.
    #[error("{} ({})", .0.message, .0.code)]
    Protocol(ErrorObject),
}

impl From<String> for ToolError {
    fn from(text: String) -> Self {
        ToolError::Failed(text)
    }
}

impl From<&str> for ToolError {
    fn from(text: &str) -> Self {
        ToolError::Failed(text.into())
    }
}

/// The asks of one run of a modern handler.
#[derive(Default)]
pub(crate) struct Round {
    /// Answers known so far, by key (from `requestState` and `inputResponses`).
    pub(crate) answers: Map<String, Value>,
    /// How many asks the handler has made in this run.
    next: usize,
    /// The first ask without an answer: key and `{method, params}`.
    pub(crate) missing: Option<(String, Value)>,
    /// The first capability an ask needed and the request lacked.
    pub(crate) missing_capability: Option<&'static str>,
}

struct Inner {
    conn: Arc<Conn>,
    req: Arc<Req>,
    round: Mutex<Round>,
}

/// Handed to every tool call: progress, logging and asks, in either era.
#[derive(Clone)]
pub struct ToolContext {
    inner: Arc<Inner>,
}

impl fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolContext")
            .field("era", &self.inner.req.era)
            .field("id", &self.inner.req.id)
            .finish_non_exhaustive()
    }
}

impl ToolContext {
    pub(crate) fn new(conn: Arc<Conn>, req: Arc<Req>, answers: Map<String, Value>) -> Self {
        ToolContext {
            inner: Arc::new(Inner {
                conn,
                req,
                round: Mutex::new(Round {
                    answers,
                    ..Round::default()
                }),
            }),
        }
    }

    pub(crate) fn take_round(&self) -> Round {
        std::mem::take(&mut *self.lock_round())
    }

    fn lock_round(&self) -> std::sync::MutexGuard<'_, Round> {
        self.inner.round.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The era of the request being served.
    pub fn era(&self) -> Era {
        self.inner.req.era
    }

    /// The protocol version of the request (negotiated, or from `_meta`).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.req.version
    }

    /// The client capabilities in force: `initialize`'s in the handshake
    /// era, the request's `_meta` in the modern era.
    pub fn client_capabilities(&self) -> &Value {
        &self.inner.req.capabilities
    }

    /// The request's `params._meta` (`Null` when it had none).
    pub fn request_meta(&self) -> &Value {
        &self.inner.req.meta
    }

    /// Sends `notifications/progress`, only if the request carried a
    /// `progressToken`. `progress` must increase from call to call.
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.inner.req.progress_token else {
            return;
        };
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(obj) = params.as_object_mut() {
            if let Some(t) = total {
                obj.insert("total".into(), json!(t));
            }
            if let Some(m) = message {
                obj.insert("message".into(), json!(m));
            }
        }
        self.inner
            .conn
            .notify("notifications/progress", Some(params));
    }

    /// Sends `notifications/message` if the client wants this level: in the
    /// handshake era per `logging/setLevel` (everything before it is set),
    /// in the modern era only when the request's `_meta` asked for a level.
    pub fn log(&self, level: LogLevel, data: impl Into<Value>) {
        let min = match self.inner.req.era {
            Era::Handshake => self.inner.conn.log_level(),
            Era::Modern => match self.inner.req.log_level {
                Some(l) => Some(l),
                None => return,
            },
        };
        if min.is_some_and(|min| level < min) {
            return;
        }
        let params = json!({
            "level": level.as_str(),
            "logger": self.inner.conn.server_name(),
            "data": data.into(),
        });
        self.inner
            .conn
            .notify("notifications/message", Some(params));
    }

    /// Asks the client to sample an LLM (`sampling/createMessage` params);
    /// returns its `CreateMessageResult`.
    pub async fn sample(&self, params: Value) -> Result<Value, ToolError> {
        self.ask("sample", "sampling/createMessage", "sampling", params)
            .await
    }

    /// Asks the user for input (`elicitation/create` params); returns the
    /// `ElicitResult` (`{action, content?}`).
    pub async fn elicit(&self, params: Value) -> Result<Value, ToolError> {
        self.ask("elicit", "elicitation/create", "elicitation", params)
            .await
    }

    /// Asks the client for its roots; returns the `ListRootsResult`.
    pub async fn list_roots(&self) -> Result<Value, ToolError> {
        self.ask("roots", "roots/list", "roots", json!({})).await
    }

    async fn ask(
        &self,
        kind: &str,
        method: &str,
        capability: &'static str,
        params: Value,
    ) -> Result<Value, ToolError> {
        let declared = self.inner.req.capabilities.get(capability).is_some();
        match self.inner.req.era {
            Era::Handshake => {
                if !declared {
                    return Err(ToolError::MissingCapability(capability));
                }
                self.inner.conn.ask_client(method, params).await
            }
            Era::Modern => {
                let mut round = self.lock_round();
                if !declared {
                    round.missing_capability.get_or_insert(capability);
                    return Err(ToolError::MissingCapability(capability));
                }
                let key = format!("{kind}-{}", round.next);
                round.next += 1;
                if let Some(answer) = round.answers.get(&key) {
                    return Ok(answer.clone());
                }
                if round.missing.is_none() {
                    round.missing =
                        Some((key.clone(), json!({"method": method, "params": params})));
                }
                Err(ToolError::InputRequired(key))
            }
        }
    }
}
