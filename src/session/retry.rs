//! What the session does when the transport fails a request: the decisions
//! a transport cannot make, because they depend on what the request means.
//!
//! - The reply's stream was lost (2026-07-28, which has no resumption): a
//!   request that only reads is sent again once, under a new id (a late
//!   reply to the old id is dropped as unknown); any other request fails
//!   with [`TransportError::NotResent`]: its outcome is unknown.
//! - The server's HTTP session expired (handshake era): the session runs
//!   the `initialize` handshake again (once for all the requests that hit
//!   the same expiry) and re-sends the request once, except a `tools/call`
//!   (conservatively: it may have run behind a proxy that lost the
//!   session), which fails with [`TransportError::NotResent`].
//! - Anything else goes to the caller as it is.

use crate::transport::TransportError;

/// Requests that may be sent again when their outcome is unknown: they only
/// read (lists, reads, gets, completions, discovery, ping). Never
/// `tools/call`, which may have acted.
pub(crate) fn idempotent(method: &str) -> bool {
    method.ends_with("/list")
        || matches!(
            method,
            "resources/read" | "prompts/get" | "completion/complete" | "server/discover" | "ping"
        )
}

/// What to do after the transport failed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Hand the error to the caller.
    Fail,
    /// Send it again under a new id.
    Resend,
    /// Fail, saying the request was not sent again.
    NotResent,
    /// Start a new HTTP session first, then [`Retry::Resend`] (or, for a
    /// `tools/call`, [`Retry::NotResent`]).
    Renew,
}

/// The decision for the first failure of `method` (`modern`: a 2026-07-28
/// request). A second failure is always [`Retry::Fail`].
pub(crate) fn decide(method: &str, error: &TransportError, modern: bool) -> Retry {
    match error {
        TransportError::StreamLost { .. } if modern && idempotent(method) => Retry::Resend,
        TransportError::StreamLost { .. } if modern => Retry::NotResent,
        TransportError::SessionExpired { .. } if method != "initialize" => Retry::Renew,
        _ => Retry::Fail,
    }
}

/// After a renewal: whether `method` is sent again.
pub(crate) fn resend_after_renewal(method: &str) -> bool {
    method != "tools/call"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lost() -> TransportError {
        TransportError::StreamLost {
            id: 1,
            detail: "cut".into(),
        }
    }

    #[test]
    fn only_reads_are_resent_after_a_lost_stream() {
        assert_eq!(decide("tools/list", &lost(), true), Retry::Resend);
        assert_eq!(decide("prompts/get", &lost(), true), Retry::Resend);
        assert_eq!(decide("tools/call", &lost(), true), Retry::NotResent);
        assert_eq!(
            decide("subscriptions/listen", &lost(), true),
            Retry::NotResent
        );
        // The handshake era resumes in the transport; what it could not
        // resume goes to the caller.
        assert_eq!(decide("tools/list", &lost(), false), Retry::Fail);
    }

    #[test]
    fn an_expired_session_is_renewed_except_for_initialize_itself() {
        let expired = TransportError::SessionExpired { status: 404 };
        assert_eq!(decide("tools/call", &expired, false), Retry::Renew);
        assert_eq!(decide("initialize", &expired, false), Retry::Fail);
        assert!(resend_after_renewal("tools/list"));
        assert!(!resend_after_renewal("tools/call"));
        let http = TransportError::Http {
            status: 500,
            body_hint: String::new(),
        };
        assert_eq!(decide("tools/list", &http, true), Retry::Fail);
    }
}
