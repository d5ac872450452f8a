//! Why a handler could not answer, and how that reaches the client: each
//! variant becomes one JSON-RPC error object, with the code the request's
//! era expects.

use serde_json::{json, Value};

use crate::protocol::{codes, Era, ErrorObject};

/// A handler's failure, answered as a JSON-RPC error.
///
/// A tool that *ran* and failed should rather return a
/// [`CallToolResult::error`](crate::protocol::CallToolResult::error)
/// (`isError: true`), which the model gets to see; these are for requests
/// that could not be served at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The params were wrong: an unknown tool or prompt, a missing
    /// argument (-32602).
    #[error("{0}")]
    InvalidParams(String),
    /// The method is not served (-32601).
    #[error("method not found: {0}")]
    MethodNotFound(String),
    /// No resource at this URI: -32002 in the handshake era, -32602 in
    /// 2026-07-28, with the URI in `data` either way.
    #[error("resource not found: {uri}")]
    ResourceNotFound {
        /// The URI asked for.
        uri: String,
    },
    /// The request needs a client capability the request did not declare:
    /// -32021 with `data.requiredCapabilities` (2026-07-28; in the
    /// handshake era an -32602 saying which).
    #[error("this request needs the client capability {0}")]
    MissingCapability(&'static str),
    /// 2026-07-28: an ask has no answer yet. Handlers only pass this on
    /// (with `?`); the server core answers `input_required` instead.
    #[error("input required: {0}")]
    InputRequired(String),
    /// The handler failed (-32603).
    #[error("{0}")]
    Internal(String),
    /// Answer with exactly this error object.
    #[error("{} ({})", .0.message, .0.code)]
    Protocol(ErrorObject),
}

impl ServerError {
    /// -32602 with `message`.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        ServerError::InvalidParams(message.into())
    }

    /// -32603 with `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        ServerError::Internal(message.into())
    }

    /// The resource at `uri` does not exist.
    pub fn resource_not_found(uri: impl Into<String>) -> Self {
        ServerError::ResourceNotFound { uri: uri.into() }
    }

    /// The error object to send for a request of `era`.
    pub fn to_error_object(&self, era: Era) -> ErrorObject {
        let plain = |code, message: String| ErrorObject {
            code,
            message,
            data: None,
        };
        match self {
            ServerError::InvalidParams(m) => plain(codes::INVALID_PARAMS, m.clone()),
            ServerError::MethodNotFound(_) => plain(codes::METHOD_NOT_FOUND, self.to_string()),
            ServerError::ResourceNotFound { uri } => ErrorObject {
                code: match era {
                    Era::Modern => codes::INVALID_PARAMS,
                    Era::Handshake => codes::RESOURCE_NOT_FOUND_LEGACY,
                },
                message: self.to_string(),
                data: Some(json!({ "uri": uri })),
            },
            ServerError::MissingCapability(capability) => match era {
                Era::Modern => missing_capability(capability),
                Era::Handshake => plain(codes::INVALID_PARAMS, self.to_string()),
            },
            // Only reached when a handler swallowed the round's state and
            // returned this by hand: nothing to ask, so it is a failure.
            ServerError::InputRequired(_) | ServerError::Internal(_) => {
                plain(codes::INTERNAL_ERROR, self.to_string())
            }
            ServerError::Protocol(e) => e.clone(),
        }
    }
}

impl From<ErrorObject> for ServerError {
    fn from(e: ErrorObject) -> Self {
        ServerError::Protocol(e)
    }
}

/// The -32021 error of 2026-07-28 naming the capability a request lacks.
pub(crate) fn missing_capability(capability: &str) -> ErrorObject {
    let mut required = serde_json::Map::new();
    required.insert(capability.to_owned(), Value::Object(Default::default()));
    ErrorObject {
        code: codes::MISSING_REQUIRED_CLIENT_CAPABILITY,
        message: format!("this request needs the client capability {capability}"),
        data: Some(json!({ "requiredCapabilities": required })),
    }
}

/// A plain error object.
pub(crate) fn error(code: i64, message: impl Into<String>) -> ErrorObject {
    ErrorObject {
        code,
        message: message.into(),
        data: None,
    }
}
