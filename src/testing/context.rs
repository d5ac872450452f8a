//! What a test tool handler can do while it runs, the same code in either
//! era, in JSON: a thin face on the core's [`Context`] whose asks take and
//! return JSON as given (unchecked, so a test can send odd asks).

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::protocol::version::meta;
use crate::protocol::{Era, ErrorObject, ProtocolVersion};
use crate::server::{AskError, AskKind, Context};

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

impl From<AskError> for ToolError {
    fn from(e: AskError) -> Self {
        match e {
            AskError::InputRequired(key) => ToolError::InputRequired(key),
            AskError::MissingCapability(c) => ToolError::MissingCapability(c),
            AskError::Refused(err) => ToolError::Client(err),
            other => ToolError::Failed(other.to_string()),
        }
    }
}

/// The JSON views of the request, made on first use.
#[derive(Default)]
struct Views {
    capabilities: OnceLock<Value>,
    meta: OnceLock<Value>,
}

/// Handed to every tool call: progress, logging and asks, in either era.
#[derive(Clone)]
pub struct ToolContext {
    cx: Context,
    views: Arc<Views>,
}

impl fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolContext")
            .field("era", &self.cx.era())
            .field("id", self.cx.request_id())
            .finish_non_exhaustive()
    }
}

impl ToolContext {
    pub(crate) fn new(cx: Context) -> Self {
        ToolContext {
            cx,
            views: Arc::default(),
        }
    }

    /// The server core's context of this call.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// The era of the request being served.
    pub fn era(&self) -> Era {
        self.cx.era()
    }

    /// The protocol version of the request (negotiated, or from `_meta`).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.cx.protocol_version()
    }

    /// The client capabilities in force: `initialize`'s in the handshake
    /// era, the request's `_meta` in the modern era.
    pub fn client_capabilities(&self) -> &Value {
        self.views.capabilities.get_or_init(|| {
            serde_json::to_value(self.cx.client_capabilities()).unwrap_or(Value::Null)
        })
    }

    /// The request's `params._meta` (`Null` when it had none).
    pub fn request_meta(&self) -> &Value {
        self.views.meta.get_or_init(|| {
            let mut value = serde_json::to_value(self.cx.meta()).unwrap_or(Value::Null);
            if let (Era::Modern, Some(obj)) = (self.cx.era(), value.as_object_mut()) {
                obj.insert(
                    meta::CLIENT_CAPABILITIES.into(),
                    self.client_capabilities().clone(),
                );
                if let Some(info) = self.cx.client_info() {
                    obj.insert(
                        meta::CLIENT_INFO.into(),
                        serde_json::to_value(info).unwrap_or(Value::Null),
                    );
                }
            }
            match value {
                Value::Object(obj) if obj.is_empty() => Value::Null,
                other => other,
            }
        })
    }

    /// Sends `notifications/progress`, only if the request carried a
    /// `progressToken`. `progress` must increase from call to call.
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        self.cx.progress(progress, total, message);
    }

    /// Sends `notifications/message` if the client wants this level: in the
    /// handshake era per `logging/setLevel` (everything before it is set),
    /// in the modern era only when the request's `_meta` asked for a level.
    pub fn log(&self, level: LogLevel, data: impl Into<Value>) {
        self.cx.log(level, data);
    }

    /// Asks the client to sample an LLM (`sampling/createMessage` params);
    /// returns its `CreateMessageResult`.
    pub async fn sample(&self, params: Value) -> Result<Value, ToolError> {
        Ok(self.cx.ask_json(AskKind::Sampling, params).await?)
    }

    /// Asks the user for input (`elicitation/create` params); returns the
    /// `ElicitResult` (`{action, content?}`).
    pub async fn elicit(&self, params: Value) -> Result<Value, ToolError> {
        Ok(self.cx.ask_json(AskKind::Elicitation, params).await?)
    }

    /// Asks the client for its roots; returns the `ListRootsResult`.
    pub async fn list_roots(&self) -> Result<Value, ToolError> {
        let params = Value::Object(Default::default());
        Ok(self.cx.ask_json(AskKind::Roots, params).await?)
    }
}
