//! Errors that arrive as JSON-RPC error objects: a server's own errors
//! keep their code, message and data; the frames a transport makes up for
//! a request it could not complete become [`Error::Transport`].

use serde_json::Value;

use super::Error;
use crate::protocol::jsonrpc::{self, ErrorObject};

/// True for the transport error of a lost 2026-07-28 response stream.
pub(crate) fn is_stream_lost(e: &Error) -> bool {
    matches!(e, Error::Transport { status: None, message } if message.starts_with(jsonrpc::STREAM_LOST))
}

impl From<ErrorObject> for Error {
    fn from(e: ErrorObject) -> Self {
        if let Some(t) = e
            .data
            .as_ref()
            .and_then(|d| d.get(jsonrpc::TRANSPORT_ERROR_KEY))
        {
            return Error::Transport {
                message: e.message,
                status: t
                    .get("status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok()),
            };
        }
        Error::Protocol {
            code: e.code,
            message: e.message,
            data: e.data,
        }
    }
}

impl From<crate::protocol::ProtocolError> for Error {
    fn from(e: crate::protocol::ProtocolError) -> Self {
        Error::Config(e.to_string())
    }
}
