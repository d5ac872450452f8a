//! Errors that arrive as JSON-RPC error objects: always the server's own,
//! with their code, message and data (a transport reports its failures out
//! of band, typed: [`Error::Transport`]).

use super::Error;
use crate::protocol::jsonrpc::ErrorObject;

impl From<ErrorObject> for Error {
    /// Whatever its code, message or data say, a JSON-RPC error object
    /// becomes [`Error::Protocol`]: nothing a server writes passes for a
    /// transport failure.
    fn from(e: ErrorObject) -> Self {
        Error::Protocol {
            code: e.code,
            message: e.message,
            data: e.data,
        }
    }
}

impl From<crate::protocol::ProtocolError> for Error {
    fn from(e: crate::protocol::ProtocolError) -> Self {
        Error::InvalidArgument(e.to_string())
    }
}
