//! The gateway: a [`Fleet`] served as one MCP server, so that any MCP
//! client (a desktop app, another agent) gets the fleet's supervision, its
//! router and its policy without linking Switchboard.
//!
//! [`Gateway`] is a [`ServerHandler`](crate::server::ServerHandler) over the fleet, served by the
//! [`server`](crate::server) core in both eras, over stdio or Streamable
//! HTTP (`switchboard gateway CONFIG`):
//! - **The merged catalog**: tools and prompts under the fleet's
//!   namespaced names (`<server>_<name>`, see [`crate::fleet::names`]),
//!   resources under their own URIs (read from the server that listed
//!   them), paginated with cursors that are positions in a deterministic
//!   order, so any replica with the same configuration continues a list.
//!   A server that is down is left out until it is back.
//! - **Calls pass through**: content, `structuredContent` and `isError` as
//!   the upstream gave them, its JSON-RPC errors as they were, progress
//!   relayed as it comes; a downstream cancellation (or a client that
//!   goes away) drops the call, and the upstream is sent
//!   `notifications/cancelled`.
//! - **Asks, logs and updates are relayed** to the client of the call
//!   they belong to (see [`Relay`]): a 2026-07-28 upstream's
//!   input-required round is passed on with its `requestState` sealed in
//!   the gateway's, so the retry may reach any replica sharing the key;
//!   completions, templates and subscriptions reach the upstream that owns
//!   them.
//! - **Supervision shows**: a call to a server that is down fails with
//!   -32603 naming the server and its state (`data.server`,
//!   `data.state`); the others keep serving. Every change of the fleet's
//!   tables is told downstream as `list_changed` (coalesced: one per
//!   kind per change), on the GET stream or a listen.

mod handler;
mod held;
mod metrics;
#[cfg(feature = "http-server")]
mod ops;
mod relay;
mod resources;
pub mod shared_uri;
mod status;
mod tasks;
mod watch;

use std::sync::{Arc, OnceLock};

pub use relay::Relay;

use crate::fleet::Fleet;
use crate::protocol::Implementation;
use crate::server::{Server, ServerBuilder};

/// Default page size of the gateway's lists.
pub const DEFAULT_PAGE_SIZE: usize = 500;

/// How many servers must be ready for `/readyz` to answer 200, by
/// default: one.
pub const DEFAULT_READY_MIN: usize = 1;

/// A fleet as an MCP server's handler; see the module docs.
#[derive(Clone, Debug)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    fleet: Fleet,
    info: Implementation,
    page_size: usize,
    metrics: metrics::Metrics,
    /// The only server, when its names are served as its own.
    only: Option<String>,
    /// What passes asks, logs and updates on (see `relay.rs`).
    relay: OnceLock<Relay>,
    /// How many servers must be ready for `/readyz` to say so.
    ready_min: usize,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("fleet", &self.fleet)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway over `fleet`, named `switchboard-gateway`, with pages of
    /// [`DEFAULT_PAGE_SIZE`].
    pub fn new(fleet: Fleet) -> Self {
        Gateway::with_page_size(fleet, DEFAULT_PAGE_SIZE)
    }

    /// A gateway whose lists come in pages of `page_size` (at least 1).
    pub fn with_page_size(fleet: Fleet, page_size: usize) -> Self {
        Gateway {
            inner: Arc::new(Inner {
                fleet,
                info: Implementation::new("switchboard-gateway", env!("CARGO_PKG_VERSION")),
                page_size: page_size.max(1),
                metrics: metrics::Metrics::default(),
                only: None,
                relay: OnceLock::new(),
                ready_min: DEFAULT_READY_MIN,
            }),
        }
    }

    /// Serves the only server's tools and prompts under their own names
    /// (no `<server>_` prefix): a gateway in front of one server that must
    /// look like it. An error when the fleet has more or fewer than one.
    pub fn unprefixed(fleet: Fleet) -> crate::Result<Self> {
        let names = fleet.server_names();
        let [only] = names.as_slice() else {
            return Err(crate::Error::invalid_argument(format!(
                "unprefixed names need exactly one server; the config has {}",
                names.len()
            )));
        };
        let only = only.clone();
        let mut gateway = Gateway::new(fleet);
        if let Some(inner) = Arc::get_mut(&mut gateway.inner) {
            inner.only = Some(only);
        }
        Ok(gateway)
    }

    /// Passes on what the fleet's handlers hear through `relay`, the one
    /// the fleet was built with ([`Relay::handlers`]): upstream asks that
    /// no call owns, log messages, resource updates. Without it (or when
    /// given after another), only the rounds of 2026-07-28 upstreams are
    /// relayed, and the fleet's own handlers answer the rest.
    pub fn with_relay(self, relay: Relay) -> Self {
        let _ = self.inner.relay.set(relay);
        self
    }

    /// The relay in use (a fresh one when none was given).
    pub(crate) fn relay(&self) -> &Relay {
        self.inner.relay.get_or_init(Relay::new)
    }

    /// `/readyz` answers 200 only while at least `n` servers are ready
    /// (at least one, at most all of them; default
    /// [`DEFAULT_READY_MIN`]). Call it before the gateway is cloned or
    /// served; later it changes nothing.
    pub fn ready_min(mut self, n: usize) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.ready_min = n.max(1);
        }
        self
    }

    /// The fleet behind it.
    pub fn fleet(&self) -> &Fleet {
        &self.inner.fleet
    }

    /// What it counted so far, in the Prometheus text format (what
    /// `/metrics` serves): per upstream server its calls, errors, latency
    /// histogram, restarts and state; requests by method and era; calls
    /// in flight.
    pub fn metrics_text(&self) -> String {
        self.inner.metrics.render(&self.inner.fleet.health())
    }

    /// The gateway as a [`Server`] with default options, its change
    /// watcher running (needs a tokio runtime).
    pub fn into_server(self) -> Server {
        self.into_server_with(|b| b)
    }

    /// The gateway as a [`Server`] configured by `configure` (eras, state
    /// key, limits), its change watcher running: a task that tells
    /// downstream clients what changed and ends with the fleet.
    pub fn into_server_with(
        self,
        configure: impl FnOnce(ServerBuilder) -> ServerBuilder,
    ) -> Server {
        let fleet = self.inner.fleet.clone();
        let relay = self.relay().clone();
        let server = configure(Server::builder(self)).build();
        relay.set_notifier(server.notifier());
        tokio::spawn(watch::tell_changes(fleet, server.notifier()));
        server
    }
}
