//! Deadlines, caps and identity a session runs with.

use std::time::Duration;

use crate::protocol::VersionChoice;

/// How a session behaves; every wait here has a deadline.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Name used for this server in logs and errors.
    pub server_name: String,
    /// Which protocol revision to use.
    pub version: VersionChoice,
    /// Idle deadline of a request: how long to wait with no reply and no
    /// progress. Progress notifications reset it.
    pub request_timeout: Duration,
    /// Hard cap on a request, progress or not.
    pub max_request_time: Duration,
    /// Deadline for connecting and negotiating.
    pub connect_timeout: Duration,
    /// How long the `server/discover` probe may take before we decide the
    /// server is from the handshake era.
    pub probe_timeout: Duration,
    /// Cap on input-required rounds for one call.
    pub max_rounds: u32,
    /// Cap on pages fetched by one list call.
    pub max_pages: usize,
    /// Largest message accepted, in bytes.
    pub max_message_size: usize,
    /// Attach a progress token to calls so servers can report progress
    /// (which also keeps the idle deadline from firing on slow tools).
    pub progress_tokens: bool,
    /// Our name and version, sent to servers.
    pub client_name: String,
    /// Our version, sent to servers.
    pub client_version: String,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            server_name: "server".into(),
            version: VersionChoice::Auto,
            request_timeout: Duration::from_secs(60),
            max_request_time: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(30),
            probe_timeout: Duration::from_secs(10),
            max_rounds: 10,
            max_pages: 64,
            max_message_size: crate::transport::DEFAULT_MAX_MESSAGE_SIZE,
            progress_tokens: true,
            client_name: "switchboard".into(),
            client_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}
