//! Why a transport could not carry a request or its reply.
//!
//! A transport reports such a failure for the request's id with
//! [`Inbound::Failed`](crate::transport::Inbound::Failed); the session
//! hands it to the waiting caller as [`crate::Error::Transport`]. It lives
//! with the crate's error, below the transports (which use both), and is
//! re-exported as `transport::TransportError`. It is never dressed up as
//! a JSON-RPC error frame, so nothing a server writes can pass for one (a
//! server's error is always [`crate::Error::Protocol`]).

use std::time::Duration;

/// A failure of the transport, not of the server's protocol handling. The
/// server may or may not have acted on the request, except where a variant
/// says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Sending failed before any response: a refused or reset connection,
    /// DNS or TLS, a redirect refused for safety, an unreachable fallback.
    #[error("{message}")]
    Connection {
        /// What failed, with its causes.
        message: String,
    },
    /// No response began within the idle deadline.
    #[error("no HTTP response within {after:?}")]
    Timeout {
        /// How long the transport waited.
        after: Duration,
    },
    /// An HTTP error status without a JSON-RPC error body (a body with one
    /// is the server's error, delivered as such).
    #[error("HTTP {}{}", status_text(*status), hint_suffix(body_hint))]
    Http {
        /// The status.
        status: u16,
        /// The start of the body (up to 200 bytes), trimmed; may be empty.
        body_hint: String,
    },
    /// A success status whose body is no JSON-RPC reply (an HTML page, a
    /// proxy's notice, nothing at all).
    #[error("{detail}")]
    NotMcp {
        /// The status.
        status: u16,
        /// What came back.
        detail: String,
    },
    /// The reply's stream broke or ended before the reply, and could not
    /// be resumed (2026-07-28 has no resumption). The request is lost; the
    /// session re-sends it under a new id when it is safe to repeat.
    #[error("{detail}")]
    StreamLost {
        /// The request whose reply was lost.
        id: i64,
        /// How it was lost.
        detail: String,
    },
    /// The server no longer knows the HTTP session (handshake era: 404, or
    /// a 400 about the session, to a request carrying `Mcp-Session-Id`).
    /// The server refused the request; the session starts a new HTTP
    /// session with a new `initialize` handshake and re-sends it.
    #[error("the server's session expired (HTTP {status} to a request carrying its session id)")]
    SessionExpired {
        /// The status (404, or 400).
        status: u16,
    },
    /// The auth provider could not authorize the request, or the server
    /// refused what it gave.
    #[error("authorization failed: {message}")]
    Auth {
        /// The refusal's status, when the server refused.
        status: Option<u16>,
        /// What failed.
        message: String,
    },
    /// A replayed session ([`crate::transport::Source::replay`]) was sent a
    /// request its recording does not hold next: the application asked
    /// something other than what was recorded.
    #[error("replay mismatch at recorded request {index}: expected {expected}, got {got}")]
    ReplayMismatch {
        /// The position (from 1) in the recording of the request expected.
        index: usize,
        /// The request expected: its method and params, as recorded.
        expected: String,
        /// The request sent instead: its method and params.
        got: String,
    },
    /// A failure after which the session did not send the request again,
    /// because it may have acted (a `tools/call`): its outcome is unknown.
    #[error("{cause}; {method} was not re-sent: its outcome is unknown (the server may have acted on it)")]
    NotResent {
        /// The request's method.
        method: String,
        /// What the transport reported.
        cause: Box<TransportError>,
    },
}

fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status) {
        Ok(s) => s.to_string(),
        Err(_) => status.to_string(),
    }
}

fn hint_suffix(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!(": {hint}")
    }
}

impl TransportError {
    /// The HTTP status involved, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            TransportError::Http { status, .. }
            | TransportError::NotMcp { status, .. }
            | TransportError::SessionExpired { status } => Some(*status),
            TransportError::Auth { status, .. } => *status,
            TransportError::NotResent { cause, .. } => cause.status(),
            TransportError::Connection { .. }
            | TransportError::Timeout { .. }
            | TransportError::StreamLost { .. }
            | TransportError::ReplayMismatch { .. } => None,
        }
    }

    /// What the transport reported, beneath the session's decision not to
    /// re-send (itself for every other variant).
    pub fn root(&self) -> &TransportError {
        match self {
            TransportError::NotResent { cause, .. } => cause.root(),
            other => other,
        }
    }

    /// True if the reply's stream was lost ([`TransportError::StreamLost`]).
    pub fn is_stream_lost(&self) -> bool {
        matches!(self.root(), TransportError::StreamLost { .. })
    }

    /// True if the server's HTTP session expired.
    pub fn is_session_expired(&self) -> bool {
        matches!(self.root(), TransportError::SessionExpired { .. })
    }

    /// True if no response came within the idle deadline.
    pub fn is_timeout(&self) -> bool {
        matches!(self.root(), TransportError::Timeout { .. })
    }

    /// True if the session chose not to re-send the request.
    pub fn is_not_resent(&self) -> bool {
        matches!(self, TransportError::NotResent { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_failed() {
        let e = TransportError::Http {
            status: 500,
            body_hint: "database is on fire".into(),
        };
        assert_eq!(
            e.to_string(),
            "HTTP 500 Internal Server Error: database is on fire"
        );
        let bare = TransportError::Http {
            status: 302,
            body_hint: String::new(),
        };
        assert_eq!(bare.to_string(), "HTTP 302 Found");
        let lost = TransportError::NotResent {
            method: "tools/call".into(),
            cause: Box::new(TransportError::StreamLost {
                id: 3,
                detail: "the response stream broke before the reply".into(),
            }),
        };
        assert!(lost.is_stream_lost() && lost.is_not_resent());
        assert!(lost.to_string().contains("tools/call was not re-sent"));
        assert_eq!(lost.status(), None);
        assert_eq!(
            TransportError::SessionExpired { status: 404 }.status(),
            Some(404)
        );
    }
}
