//! An MCP server core that speaks both protocol eras at once: 2026-07-28
//! (`server/discover`, `_meta` on every request, input-required rounds
//! with `requestState`, `subscriptions/listen`) and the `initialize`
//! handshake of 2025-11-25 and earlier (server-to-client requests,
//! `logging/setLevel`, `resources/subscribe`), over stdio and the
//! in-memory transport.
//!
//! A [`Server`] runs the protocol; what it serves comes from a
//! [`ServerHandler`]: [`Registry`] for a fixed set of tools, resources
//! and prompts, or an implementation of your own whose lists come from
//! elsewhere and change at runtime (then tell clients with
//! [`Server::notifier`]). Handlers are written once for both eras: their
//! [`Context`] reports progress, logs, and asks the client (sampling,
//! elicitation, roots) by whichever mechanism the request's era uses.
//!
//! ```no_run
//! use serde_json::json;
//! use switchboard::protocol::{CallToolResult, Implementation, Tool};
//! use switchboard::server::{Registry, Server};
//!
//! # async fn run() -> std::io::Result<()> {
//! let echo = Tool {
//!     name: "echo".into(),
//!     input_schema: json!({"type": "object"}).as_object().cloned().unwrap_or_default(),
//!     ..Default::default()
//! };
//! let server = Server::new(Registry::new(Implementation::new("echo", "1.0.0")).tool(
//!     echo,
//!     |_cx, args| async move {
//!         let text = args.get("text").and_then(|t| t.as_str()).unwrap_or("");
//!         Ok(CallToolResult::from_text(text))
//!     },
//! ));
//! server.serve_stdio().await // or Source::memory(server) for a client in this process
//! # }
//! ```
//!
//! Requests are served concurrently (one task each for those that do not
//! finish at once), `notifications/cancelled` aborts the handler, frames
//! are bounded in size both ways, and every malformed or unknown request
//! gets a JSON-RPC error. Misbehaviour on purpose (for tests of clients)
//! plugs in through an [`Interceptor`].

mod ask;
mod conn;
mod context;
mod eras;
mod error;
mod handler;
#[cfg(feature = "http-server")]
pub mod http;
mod intercept;
mod methods;
mod outgoing;
mod paginate;
mod registry;
mod request;
mod rounds;
mod stdio;
mod subscriptions;
mod tasks;
pub(crate) mod uri_template;
mod wire;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

pub use ask::{AskError, AskKind};
pub use context::Context;
pub use eras::Eras;
pub use error::ServerError;
pub use handler::{HandlerFuture, ServerHandler};
pub use intercept::{Interceptor, RequestHead, Rewrite, Verdict};
pub use paginate::paginate;
pub use registry::{CompletionRef, Registry};
pub use subscriptions::Notifier;
pub use tasks::{ToolCall, DEFAULT_TASK_POLL_INTERVAL, DEFAULT_TASK_TTL, MAX_TASKS};

use rounds::StateSeal;
pub use rounds::DEFAULT_STATE_TTL;
use subscriptions::Hub;
use wire::Identity;

use crate::protocol::{ClientCapabilities, Implementation};
use crate::transport::{InProcessServer, ServerEnd, DEFAULT_MAX_MESSAGE_SIZE};

/// Default `ttlMs` on cacheable 2026-07-28 results: one minute.
pub const DEFAULT_TTL_MS: i64 = 60_000;

/// Default bound on requests whose handlers run at once, per connection.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// How a server behaves, set through [`ServerBuilder`].
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) eras: Eras,
    pub(crate) ttl_ms: i64,
    pub(crate) max_message_size: usize,
    pub(crate) max_in_flight: usize,
}

/// What every connection of a server shares.
pub(crate) struct Shared {
    pub(crate) handler: Arc<dyn ServerHandler>,
    pub(crate) options: Options,
    pub(crate) info: Implementation,
    pub(crate) identity: Identity,
    pub(crate) states: StateSeal,
    pub(crate) hub: Arc<Hub>,
    pub(crate) interceptor: Option<Arc<dyn Interceptor>>,
    /// The capabilities of a client that declared none (before `initialize`).
    pub(crate) no_capabilities: Arc<ClientCapabilities>,
    /// The tasks the core keeps (the tasks extension).
    pub(crate) tasks: Arc<tasks::TaskStore>,
}

/// An MCP server: a [`ServerHandler`] and the protocol around it. Cheap to
/// clone; clones share connections, `requestState` tokens and the
/// notifier. Serve it with [`Server::serve`] (a channel pair),
/// [`Server::serve_stdio`] or [`Server::serve_io`], or hand it to a client
/// in this process with `Source::memory(server)`.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.shared.info)
            .field("options", &self.shared.options)
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server for `handler` with the default options.
    pub fn new(handler: impl ServerHandler) -> Self {
        Server::builder(handler).build()
    }

    /// Starts configuring a server for `handler`.
    pub fn builder(handler: impl ServerHandler) -> ServerBuilder {
        ServerBuilder {
            handler: Arc::new(handler),
            options: Options {
                eras: Eras::Both,
                ttl_ms: DEFAULT_TTL_MS,
                max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
                max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            },
            interceptor: None,
            state_key: None,
            state_ttl: DEFAULT_STATE_TTL,
            tasks: tasks::TaskOptions::default(),
        }
    }

    /// Who the server is, as its handler said when it was built.
    pub fn info(&self) -> &Implementation {
        &self.shared.info
    }

    /// How many clients are connected right now.
    pub fn connections(&self) -> usize {
        self.shared.hub.live().len()
    }

    /// A handle that tells every connected client what changed.
    pub fn notifier(&self) -> Notifier {
        Notifier {
            hub: self.shared.hub.clone(),
        }
    }

    /// Serves one client over the channel pair until it hangs up (closes
    /// `end.incoming`) or the connection is closed from this side.
    pub fn serve(&self, end: ServerEnd) -> impl std::future::Future<Output = ()> + Send + 'static {
        conn::serve(self.shared.clone(), end)
    }
}

impl InProcessServer for Server {
    fn serve(&self, end: ServerEnd) -> BoxFuture<'static, ()> {
        Box::pin(conn::serve(self.shared.clone(), end))
    }
}

/// Configures a [`Server`]; start with [`Server::builder`].
pub struct ServerBuilder {
    handler: Arc<dyn ServerHandler>,
    options: Options,
    interceptor: Option<Arc<dyn Interceptor>>,
    state_key: Option<Vec<u8>>,
    state_ttl: Duration,
    tasks: tasks::TaskOptions,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("options", &self.options)
            .field("interceptor", &self.interceptor.is_some())
            .field("state_key", &self.state_key.as_ref().map(|_| "<set>"))
            .field("state_ttl", &self.state_ttl)
            .field("tasks", &self.tasks)
            .finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// Which protocol eras to speak (default: both).
    pub fn eras(mut self, eras: Eras) -> Self {
        self.options.eras = eras;
        self
    }

    /// `ttlMs` on cacheable 2026-07-28 results whose handler set none
    /// (default [`DEFAULT_TTL_MS`], one minute).
    pub fn ttl_ms(mut self, ttl: i64) -> Self {
        self.options.ttl_ms = ttl;
        self
    }

    /// The largest message accepted or sent, in bytes (default 32 MiB,
    /// [`DEFAULT_MAX_MESSAGE_SIZE`]): a larger request is refused with
    /// -32600, a larger reply replaced by -32603.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.options.max_message_size = bytes;
        self
    }

    /// How many requests per connection may have handlers running at once
    /// (default [`DEFAULT_MAX_IN_FLIGHT`]); beyond it a request is refused
    /// with -32603 rather than queued, so the connection keeps reading
    /// (the answers to its own asks among them).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.options.max_in_flight = n.max(1);
        self
    }

    /// The key that signs 2026-07-28 `requestState` tokens (HMAC-SHA256;
    /// 32 random bytes are plenty). Give every replica of a server the
    /// same key and an input-required retry may land on any of them.
    /// Default: a random key per server, so tokens redeem only where they
    /// were minted.
    pub fn state_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.state_key = Some(key.into());
        self
    }

    /// How long a `requestState` token stays redeemable (default
    /// [`DEFAULT_STATE_TTL`], ten minutes).
    pub fn state_ttl(mut self, ttl: Duration) -> Self {
        self.state_ttl = ttl;
        self
    }

    /// How long a task-supporting tool may run inline before its call
    /// becomes a task (see [`ServerHandler::task_support`]): a call that
    /// ends, or asks the client something, within it is answered with its
    /// result or its round. Default: zero (the tool runs until it first
    /// waits; a tool that waits at all becomes a task).
    pub fn task_after(mut self, after: Duration) -> Self {
        self.tasks.after = after;
        self
    }

    /// How long the server keeps a task from its creation, its `ttlMs`
    /// (default [`DEFAULT_TASK_TTL`], one hour).
    pub fn task_ttl(mut self, ttl: Duration) -> Self {
        self.tasks.ttl = ttl;
        self
    }

    /// The `pollIntervalMs` the server asks of clients following its tasks
    /// (default [`DEFAULT_TASK_POLL_INTERVAL`], 500 ms).
    pub fn task_poll_interval(mut self, interval: Duration) -> Self {
        self.tasks.poll_interval = interval;
        self
    }

    /// Lets `interceptor` decide the fate of every request (default:
    /// none, every request is served).
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.interceptor = Some(Arc::new(interceptor));
        self
    }

    /// Finishes the server; the handler's `info` is read now.
    pub fn build(self) -> Server {
        let info = self.handler.info();
        let value = serde_json::to_value(&info).unwrap_or_default();
        let json = serde_json::value::to_raw_value(&value)
            .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned());
        Server {
            shared: Arc::new(Shared {
                handler: self.handler,
                options: self.options,
                info,
                identity: Identity { json, value },
                states: StateSeal::new(self.state_key.as_deref(), self.state_ttl),
                hub: Arc::new(Hub::default()),
                interceptor: self.interceptor,
                no_capabilities: Arc::new(ClientCapabilities::default()),
                tasks: Arc::new(tasks::TaskStore::new(self.tasks)),
            }),
        }
    }
}
