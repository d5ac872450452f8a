//! The server core over Streamable HTTP: both eras on one endpoint.
//!
//! - **2026-07-28** is stateless: each POST is one exchange with a
//!   connection of its own, answered as JSON when the reply is all there
//!   is, or as a stream of server-sent events when progress, log messages
//!   or (`subscriptions/listen`) notifications come first. Closing the
//!   stream cancels the request. The SEP-2243 headers (`Mcp-Method`,
//!   `Mcp-Name`, `MCP-Protocol-Version`) must match the body; an error's
//!   HTTP status follows its code (400, or 404 for an unknown method).
//!   Any replica with the same configuration can serve any request.
//! - **The handshake era** (2025-11-25 back to 2024-11-05): `initialize`
//!   opens a session (`Mcp-Session-Id`), whose requests each get a
//!   response stream; what belongs to no request (list changes, resource
//!   updates) goes on the session's GET stream. Every event has an id, so
//!   a client whose stream broke resumes with `Last-Event-ID` (SEP-1699:
//!   a priming event with a `retry` field opens each stream, and a handler
//!   may end its stream early with
//!   [`Context::end_stream`](super::Context::end_stream)). DELETE ends the
//!   session. A session lives in one process: behind a load balancer,
//!   handshake clients need affinity on `Mcp-Session-Id`.
//!
//! On a loopback address only loopback `Host` and `Origin` values are
//! accepted (DNS rebinding protection). Bodies are bounded by the
//! server's message limit.
//!
//! ```no_run
//! # use switchboard::protocol::Implementation;
//! # use switchboard::server::{Registry, Server};
//! # async fn run() -> std::io::Result<()> {
//! let server = Server::new(Registry::new(Implementation::new("demo", "1.0.0")));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8931").await?;
//! server.serve_http(listener).await // http://127.0.0.1:8931/mcp
//! # }
//! ```

mod auth;
mod exchange;
mod guard;
mod headers;
mod post;
mod session;
mod sse;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::post as route_post;
use axum::Router;
use tokio::net::TcpListener;

use super::Server;
pub use auth::{InboundAuth, METADATA_PATH};
pub use guard::AllowedHosts;

/// Default endpoint path.
pub const DEFAULT_PATH: &str = "/mcp";

/// Default idle time after which a handshake-era session is forgotten:
/// 30 minutes.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);

/// Default bound on live handshake-era sessions.
pub const DEFAULT_MAX_SESSIONS: usize = 10_000;

/// Default `retry` sent in each stream's priming event: one second.
pub const DEFAULT_RETRY: Duration = Duration::from_secs(1);

/// How a [`Server`] serves HTTP; every knob has a default
/// ([`HttpOptions::default`]).
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub(crate) path: String,
    pub(crate) hosts: Option<AllowedHosts>,
    pub(crate) session_idle: Duration,
    pub(crate) max_sessions: usize,
    pub(crate) retry: Duration,
    pub(crate) auth: InboundAuth,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            path: DEFAULT_PATH.to_owned(),
            hosts: None,
            session_idle: DEFAULT_SESSION_IDLE,
            max_sessions: DEFAULT_MAX_SESSIONS,
            retry: DEFAULT_RETRY,
            auth: InboundAuth::default(),
        }
    }
}

impl HttpOptions {
    /// The endpoint's path (default [`DEFAULT_PATH`], `/mcp`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Which `Host` (and `Origin`) values are served. Default: loopback
    /// names only when listening on a loopback address (or when the
    /// router is built with [`Server::http_router`]), any otherwise.
    pub fn allowed_hosts(mut self, hosts: AllowedHosts) -> Self {
        self.hosts = Some(hosts);
        self
    }

    /// How long a handshake-era session may sit idle before it is
    /// forgotten (default [`DEFAULT_SESSION_IDLE`]).
    pub fn session_idle(mut self, idle: Duration) -> Self {
        self.session_idle = idle;
        self
    }

    /// At most this many handshake-era sessions at once (default
    /// [`DEFAULT_MAX_SESSIONS`]); beyond it `initialize` is answered 503.
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n.max(1);
        self
    }

    /// The reconnection delay sent to handshake-era clients in each
    /// stream's priming event (default [`DEFAULT_RETRY`]).
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = retry;
        self
    }

    /// Who may call the endpoint (see [`InboundAuth`]). Default: anyone
    /// who passes the `Host`/`Origin` checks.
    pub fn auth(mut self, auth: InboundAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Guards `router`'s routes as the endpoint is guarded: `Host` and
    /// `Origin` checked against the allowed hosts (403; loopback names
    /// when none were set), then the [`auth`](HttpOptions::auth) (401).
    /// For pages beside the endpoint that show what a stranger, or a web
    /// page rebound to 127.0.0.1, must not read (a status page).
    pub fn guard(&self, router: Router) -> Router {
        let hosts = self.hosts.clone().unwrap_or(AllowedHosts::Loopback);
        let state = Arc::new((hosts, self.auth.clone()));
        router.route_layer(axum::middleware::from_fn_with_state(state, guarded))
    }
}

async fn guarded(
    axum::extract::State(state): axum::extract::State<Arc<(AllowedHosts, InboundAuth)>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (hosts, auth) = &*state;
    if let Err(refused) = guard::check_origin(hosts, request.headers()) {
        return refused.into_response();
    }
    if auth.is_enabled() {
        let path = request.uri().path().to_owned();
        if let Some(refused) = auth::refusal(auth, request.headers(), &path).await {
            return refused;
        }
    }
    next.run(request).await
}

/// What every request of one HTTP endpoint shares.
pub(crate) struct Endpoint {
    pub(crate) server: Server,
    pub(crate) options: HttpOptions,
    pub(crate) hosts: AllowedHosts,
    pub(crate) sessions: session::Sessions,
}

impl Server {
    /// The endpoint as an axum [`Router`] (POST, GET and DELETE on the
    /// options' path), to serve as it is or merge into an application of
    /// your own. Hosts default to loopback only: set
    /// [`HttpOptions::allowed_hosts`] when serving other names.
    pub fn http_router(&self, options: HttpOptions) -> Router {
        let hosts = options.hosts.clone().unwrap_or(AllowedHosts::Loopback);
        self.router_with(options, hosts)
    }

    fn router_with(&self, options: HttpOptions, hosts: AllowedHosts) -> Router {
        let path = options.path.clone();
        // Larger bodies are refused with 413 before they are read whole.
        let limit = self.shared.options.max_message_size;
        let auth = options.auth.clone();
        let endpoint = Arc::new(Endpoint {
            server: self.clone(),
            sessions: session::Sessions::new(options.max_sessions, options.session_idle),
            options,
            hosts,
        });
        let mut mcp = route_post(post::post)
            .get(session::get)
            .delete(session::delete);
        if auth.is_enabled() {
            let guard = Arc::new((auth.clone(), path.clone()));
            mcp = mcp.route_layer(axum::middleware::from_fn_with_state(guard, auth::check));
        }
        let mut router = Router::new()
            .route(&path, mcp)
            .layer(DefaultBodyLimit::max(limit))
            .with_state(endpoint);
        if auth.serves_metadata() {
            let suffixed = format!("{METADATA_PATH}{}", path.trim_end_matches('/'));
            let serve = move |headers: axum::http::HeaderMap| {
                let auth = auth.clone();
                let path = path.clone();
                async move { auth.metadata(&headers, &path) }
            };
            if suffixed != METADATA_PATH {
                router = router.route(&suffixed, axum::routing::get(serve.clone()));
            }
            router = router.route(METADATA_PATH, axum::routing::get(serve));
        }
        router
    }

    /// Serves Streamable HTTP on `listener` at [`DEFAULT_PATH`] with the
    /// default options until the listener fails.
    pub fn serve_http(
        &self,
        listener: TcpListener,
    ) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
        self.serve_http_until(listener, HttpOptions::default(), std::future::pending())
    }

    /// Serves Streamable HTTP on `listener` until `shutdown` completes,
    /// then stops accepting and waits for the requests in flight (bound
    /// that wait with a timeout of your own if a handler may hang).
    pub fn serve_http_until(
        &self,
        listener: TcpListener,
        options: HttpOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
        let loopback = listener
            .local_addr()
            .map(|a| a.ip().is_loopback())
            .unwrap_or(true);
        let hosts = options.hosts.clone().unwrap_or(if loopback {
            AllowedHosts::Loopback
        } else {
            AllowedHosts::Any
        });
        let router = self.router_with(options, hosts);
        async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}
