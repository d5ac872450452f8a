//! Starting a new HTTP session when the server forgot ours (handshake era:
//! the transport reports [`TransportError::SessionExpired`]). The spec
//! says start a new one; the session does it by running the `initialize`
//! handshake again, at the version already agreed, through its own request
//! path, then re-sends the request (see `retry.rs`).
//!
//! Why here and not in the transport: the handshake is the session's (its
//! capabilities, client info and version); a transport replaying captured
//! frames had to capture and parse their replies behind the session's back.
//! Here the new `initialize` is an ordinary request, and the transport only
//! reports what happened, typed.
//!
//! Requests that hit the same expiry renew once: each notes the renewal
//! generation before sending, and only the first to reach the lock while
//! that generation is current runs the handshake; the others re-send.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{negotiate, Session};
use crate::transport::TransportError;
use crate::{Error, Result};

/// The renewal lock and how many renewals completed.
#[derive(Default)]
pub(crate) struct Renewal {
    lock: tokio::sync::Mutex<()>,
    generation: AtomicU64,
}

impl Renewal {
    /// The number of renewals done so far (noted before sending).
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

impl Session {
    /// Starts a new HTTP session after `failure` (an expiry) hit a request
    /// sent in renewal `generation`, unless another request already did.
    pub(super) async fn renew(&self, generation: u64, failure: &TransportError) -> Result<()> {
        let renewal = &self.shared().renewal;
        let _one_at_a_time = renewal.lock.lock().await;
        if renewal.generation() != generation {
            return Ok(());
        }
        let version = self
            .server_state()
            .map(|s| s.version)
            .ok_or_else(|| Error::Transport(failure.clone()))?;
        tracing::info!(server = %self.name(), %failure, "the server's session expired; starting a new one");
        let renewed = Box::pin(negotiate::initialize(self, version, true)).await;
        match renewed {
            Ok(n) if n.state.version == version => {
                renewal.generation.fetch_add(1, Ordering::AcqRel);
                tracing::info!(server = %self.name(), "started a new HTTP session after the old one expired");
                Ok(())
            }
            Ok(n) => Err(Error::UnsupportedVersion {
                server: vec![n.state.version.as_str().to_owned()],
                client: vec![version.as_str().to_owned()],
            }),
            Err(e) => {
                tracing::warn!(server = %self.name(), error = %e, "the server's session expired and starting a new one failed");
                Err(e)
            }
        }
    }
}
