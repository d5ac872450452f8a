//! `ClientBuilder`: everything about a connection, set before connecting.

use std::sync::Arc;
use std::time::Duration;

use super::Client;
use super::IntoSource;
use crate::protocol::{
    LoggingLevel, LoggingMessageNotificationParams, ProgressNotificationParams, Root, VersionChoice,
};
use crate::session::messages::{OnLog, OnNotification, OnProgress};
use crate::session::{
    ElicitationHandler, Handlers, MessageHandler, RootsHandler, SamplingHandler,
    ServerNotification, SessionOptions,
};
use crate::transport::Source;
use crate::{Error, Result};

/// Builds a [`Client`]. Start with [`Client::builder`].
pub struct ClientBuilder {
    pub(super) source: Result<Source>,
    pub(super) options: SessionOptions,
    pub(super) handlers: Handlers,
    pub(super) auto_initialize: bool,
    pub(super) restart: Option<crate::RestartPolicy>,
    pub(super) replay: super::ReplayPolicy,
    pub(super) log_level: Option<LoggingLevel>,
}

impl ClientBuilder {
    pub(super) fn new(source: impl IntoSource) -> Self {
        ClientBuilder {
            source: source.into_source(),
            options: SessionOptions::default(),
            handlers: Handlers::default(),
            auto_initialize: true,
            restart: None,
            replay: super::ReplayPolicy::default(),
            log_level: None,
        }
    }

    /// The server's name in logs and errors (default: `server`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.options.server_name = name.into();
        self
    }

    /// Idle deadline of each request (default 60 s); progress resets it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.request_timeout = timeout;
        self
    }

    /// Hard cap on each request, progress or not (default 10 min).
    pub fn max_request_time(mut self, max: Duration) -> Self {
        self.options.max_request_time = max;
        self
    }

    /// Deadline for starting and negotiating (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// How long the `server/discover` probe may take before falling back to
    /// the handshake (default 10 s).
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.options.probe_timeout = timeout;
        self
    }

    /// Which protocol revision to use (default: negotiate).
    pub fn protocol(mut self, choice: VersionChoice) -> Self {
        self.options.version = choice;
        self
    }

    /// Largest message accepted (default 32 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.options.max_message_size = bytes;
        self
    }

    /// Cap on input-required rounds per call (default 10).
    pub fn max_rounds(mut self, rounds: u32) -> Self {
        self.options.max_rounds = rounds;
        self
    }

    /// Cap on pages fetched by one list call (default 64). A list call is
    /// also capped at 100,000 items and, all pages together, 4 times
    /// [`ClientBuilder::max_message_size`] in bytes; past any cap it fails
    /// with [`crate::Error::ListTooLarge`], naming the list and the cap.
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.options.max_pages = pages;
        self
    }

    /// Our name and version as sent to servers.
    pub fn client_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.options.client_name = name.into();
        self.options.client_version = version.into();
        self
    }

    /// Whether `connect` also negotiates (default true). With `false`, call
    /// [`Client::initialize`] yourself, with your own deadline.
    pub fn auto_initialize(mut self, yes: bool) -> Self {
        self.auto_initialize = yes;
        self
    }

    /// Records every frame of the connection, both ways and timed, to
    /// `path` (JSON lines, secrets redacted; see [`Source::record`]), for
    /// [`Source::replay`] to serve back. Default: not recorded.
    pub fn record(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.source = self.source.map(|s| s.record(path));
        self
    }

    /// Supervises the connection: a server that dies (exits, is killed, stops
    /// answering health probes) is restarted with backoff and jitter, tool
    /// calls in flight are sent again once as [`ClientBuilder::replay`]
    /// allows (by default only to read-only and idempotent tools) and
    /// otherwise fail with [`Error::ServerRestarted`] (outcome unknown),
    /// other requests in flight fail with it too, and calls made while it
    /// restarts wait for it. Repeated failures open a circuit breaker
    /// ([`Error::CircuitOpen`]) until a probe succeeds.
    pub fn restart(mut self, policy: crate::RestartPolicy) -> Self {
        self.restart = Some(policy);
        self
    }

    /// Which tool calls cut by a restart of a supervised server are sent
    /// again, once, on the new connection, within the call's own deadline
    /// (default [`ReplayPolicy::default`](super::ReplayPolicy): mode
    /// [`Replay::Safe`](super::Replay::Safe), no globs: tools whose
    /// annotations, as last listed by [`Client::list_tools`], say
    /// `readOnlyHint` or `idempotentHint`; a tool never listed is not
    /// replayed). The others fail with [`Error::ServerRestarted`]. A
    /// replayed call cut again is not replayed twice.
    pub fn replay(mut self, policy: super::ReplayPolicy) -> Self {
        self.replay = policy;
        self
    }

    /// Sets every handler `handlers` holds, replacing this builder's own of
    /// the same kind (message handlers are added). The setters below are
    /// shorthands for one handler each.
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.handlers.overlay(handlers);
        self
    }

    /// Answers the server's sampling requests.
    pub fn sampling(self, handler: impl SamplingHandler) -> Self {
        self.handlers(Handlers::new().with_sampling(handler))
    }

    /// Answers the server's elicitation requests.
    pub fn elicitation(self, handler: impl ElicitationHandler) -> Self {
        self.handlers(Handlers::new().with_elicitation(handler))
    }

    /// Offers these roots (URIs, normally `file://`) to the server.
    pub fn roots<I, S>(self, uris: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let roots = uris.into_iter().map(|u| Root::new(u.into())).collect();
        self.handlers(Handlers::new().with_roots(roots))
    }

    /// Answers roots requests with a handler of your own.
    pub fn roots_handler(self, handler: impl RootsHandler) -> Self {
        self.handlers(Handlers::new().with_roots_handler(handler))
    }

    /// Asks the server for log messages at this level and above, right
    /// after connecting and again after every restart (see
    /// [`Client::set_log_level`]).
    pub fn log_level(mut self, level: LoggingLevel) -> Self {
        self.log_level = Some(level);
        self
    }

    /// Called for progress of any call: shorthand for a
    /// [`MessageHandler`] with only `on_progress`. Must not block.
    pub fn on_progress(
        self,
        f: impl Fn(&ProgressNotificationParams) + Send + Sync + 'static,
    ) -> Self {
        self.message_handler(OnProgress(f))
    }

    /// Called for each log message from the server (they also go to
    /// `tracing`): shorthand for a [`MessageHandler`] with only `on_log`.
    /// Must not block.
    pub fn on_log(
        self,
        f: impl Fn(&LoggingMessageNotificationParams) + Send + Sync + 'static,
    ) -> Self {
        self.message_handler(OnLog(f))
    }

    /// Called for every other notification (list changes, resource
    /// updates, ...) as it came: shorthand for a [`MessageHandler`] with
    /// only `on_notification`. Must not block.
    pub fn on_notification(self, f: impl Fn(&ServerNotification) + Send + Sync + 'static) -> Self {
        self.message_handler(OnNotification(f))
    }

    /// Adds a typed handler for every message from the server (progress,
    /// logs, list changes, resource updates, anything else), told the
    /// server's name. Several can be added; each hears every message.
    pub fn message_handler(self, handler: impl MessageHandler) -> Self {
        self.handlers(Handlers::new().with_message_handler(handler))
    }

    /// Adds a notification hook that hears each notification before the
    /// caller's handlers do (the client's list cache is invalidated before
    /// anyone is told a list changed; the fleet hears changes without
    /// taking the caller's handlers away).
    pub(crate) fn first_hears(
        mut self,
        f: impl Fn(&ServerNotification) + Send + Sync + 'static,
    ) -> Self {
        self.handlers
            .messages
            .insert(0, Arc::new(OnNotification(f)));
        self
    }

    /// Takes the fleet's shared handlers where this builder has none of
    /// its own; message handlers add to its own.
    pub(crate) fn with_shared_handlers(mut self, shared: &Handlers) -> Self {
        self.handlers.fill_from(shared);
        self
    }

    /// Supervision with the default policy unless one was set.
    pub(crate) fn supervised_by_default(mut self) -> Self {
        if self.restart.is_none() {
            self.restart = Some(crate::RestartPolicy::default());
        }
        self
    }

    /// The server's name as configured.
    pub fn server_name(&self) -> &str {
        &self.options.server_name
    }

    /// Starts the transport and (unless turned off) negotiates.
    pub async fn connect(self) -> Result<Client> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::NotConnected("Client::connect must run inside a tokio runtime".into())
        })?;
        Client::connect_with(self, runtime).await
    }

    pub(super) fn into_source(self) -> Result<(Source, Self)> {
        let mut this = self;
        let source = std::mem::replace(
            &mut this.source,
            Err(Error::invalid_argument("source taken")),
        )?;
        Ok((source, this))
    }
}
