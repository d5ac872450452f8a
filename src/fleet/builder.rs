//! `FleetBuilder`: the servers of a fleet and the handlers they share.
//!
//! One sampler, one elicitation policy, one roots policy and any number of
//! message handlers serve every server; each is told which server asks
//! ([`crate::session::RequestContext::server`], the `server` argument of
//! [`MessageHandler`] methods). A handler a member's own builder sets wins
//! over the fleet's.

use std::sync::Arc;
use std::time::Duration;

use super::{Fleet, Member, DEFAULT_LIST_DEBOUNCE, DEFAULT_SNAPSHOT_TTL};
use crate::config::FleetConfig;
use crate::fleet::router::RouterSettings;
use crate::session::{ElicitationHandler, Handlers, MessageHandler, RootsHandler, SamplingHandler};
use crate::{Error, IntoSource, Result};

/// Builds a [`Fleet`]. Start with [`Fleet::builder`].
///
/// ```no_run
/// # async fn run() -> switchboard::Result<()> {
/// use switchboard::Fleet;
/// let fleet = Fleet::builder()
///     .server("everything", "npx -y @modelcontextprotocol/server-everything")
///     .server("local", "python3 server.py")
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
pub struct FleetBuilder {
    members: Vec<Member>,
    configs: Vec<(FleetConfig, Option<String>)>,
    handlers: Handlers,
    map_handlers: Option<MapHandlers>,
    debounce: Duration,
    ttl: Duration,
}

type MapHandlers = Box<dyn FnOnce(Handlers) -> Handlers + Send>;

impl Default for FleetBuilder {
    fn default() -> Self {
        FleetBuilder {
            members: Vec::new(),
            configs: Vec::new(),
            handlers: Handlers::default(),
            map_handlers: None,
            debounce: DEFAULT_LIST_DEBOUNCE,
            ttl: DEFAULT_SNAPSHOT_TTL,
        }
    }
}

impl FleetBuilder {
    /// Adds a member.
    pub fn member(mut self, member: Member) -> Self {
        self.members.push(member);
        self
    }

    /// Adds a server by name and source (eager, default settings).
    pub fn server(
        self,
        name: impl Into<String>,
        source: impl IntoSource + Clone + Send + Sync + 'static,
    ) -> Self {
        self.member(Member::new(name, move || {
            crate::Client::builder(source.clone())
        }))
    }

    /// Adds every enabled server of a loaded config, and the sampling,
    /// elicitation and roots sections it has (unless set on this builder).
    pub fn config(mut self, config: FleetConfig) -> Self {
        self.configs.push((config, None));
        self
    }

    /// Adds one server of a loaded config.
    pub fn config_server(mut self, config: FleetConfig, name: impl Into<String>) -> Self {
        self.configs.push((config, Some(name.into())));
        self
    }

    /// Handlers every server gets unless its own builder set one of the
    /// same kind (message handlers are added to a server's own); each is
    /// told which server asks ([`crate::session::RequestContext::server`]).
    /// Replaces the fleet's handlers of the kinds `handlers` holds. The
    /// setters below are shorthands for one handler each.
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.handlers.overlay(handlers);
        self
    }

    /// Answers every server's sampling requests.
    pub fn sampling(self, handler: impl SamplingHandler) -> Self {
        self.handlers(Handlers::new().with_sampling(handler))
    }

    /// Answers every server's elicitation requests.
    pub fn elicitation(self, handler: impl ElicitationHandler) -> Self {
        self.handlers(Handlers::new().with_elicitation(handler))
    }

    /// Answers every server's roots requests (a server configured with its
    /// own `roots` keeps them).
    pub fn roots_handler(self, handler: impl RootsHandler) -> Self {
        self.handlers(Handlers::new().with_roots_handler(handler))
    }

    /// Adds a handler that hears every message from every server, told
    /// the server's name.
    pub fn message_handler(self, handler: impl MessageHandler) -> Self {
        self.handlers(Handlers::new().with_message_handler(handler))
    }

    /// Replaces the fleet's handlers, once they are complete (this
    /// builder's, then the configs' `sampling` and `elicitation` tables),
    /// with what `map` makes of them: for a handler that wraps them, such
    /// as a gateway's `Relay`. Default: none.
    pub fn map_handlers(mut self, map: impl FnOnce(Handlers) -> Handlers + Send + 'static) -> Self {
        self.map_handlers = Some(Box::new(map));
        self
    }

    /// How long the fleet waits after a server's `list_changed` for more
    /// before it refetches that server's list (default 75 ms): a burst of
    /// notifications within the window costs one refetch.
    pub fn list_debounce(mut self, window: Duration) -> Self {
        self.debounce = window;
        self
    }

    /// How long a server's tool, prompt and resource lists are trusted
    /// without a change notification (default 60 s); past it, the next
    /// list call fetches them again.
    pub fn snapshot_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Builds the fleet: eager servers start now, in parallel; one that
    /// fails is reported in [`Fleet::health`] and retried on use.
    pub async fn build(self) -> Result<Fleet> {
        let FleetBuilder {
            mut members,
            configs,
            mut handlers,
            map_handlers,
            debounce,
            ttl,
        } = self;
        for (config, only) in &configs {
            config_handlers(config, &mut handlers)?;
            members.extend(super::config_members(config, only.as_deref())?);
        }
        if let Some(map) = map_handlers {
            handlers = map(handlers);
        }
        if !handlers.is_empty() {
            let shared = Arc::new(handlers);
            for member in &mut members {
                let factory = member.factory.clone();
                let shared = shared.clone();
                member.factory = Arc::new(move || factory().with_shared_handlers(&shared));
            }
        }
        Fleet::with_settings(members, RouterSettings { debounce, ttl }).await
    }
}

/// The handlers a config's `sampling` (and `elicitation`) tables describe,
/// for what the builder was not given in code.
fn config_handlers(config: &FleetConfig, handlers: &mut Handlers) -> Result<()> {
    if handlers.sampling.is_none() {
        if let Some(table) = &config.sampling {
            let parsed: crate::sampling::SamplingConfig = serde_json::from_value(table.clone())
                .map_err(|e| {
                    Error::config_field("sampling", e.to_string()).in_file(&config.origin)
                })?;
            let sampler = crate::Sampler::from_config(&parsed)
                .map_err(|e| e.within("sampling").in_file(&config.origin))?;
            handlers.sampling = Some(Arc::new(sampler));
        }
    }
    if handlers.elicitation.is_none() {
        if let Some(table) = &config.elicitation {
            let policy = crate::policy::policy_from_table(table, |name| std::env::var(name).ok())
                .map_err(|e| e.in_file(&config.origin))?;
            handlers.elicitation = Some(Arc::new(policy));
        }
    }
    Ok(())
}
