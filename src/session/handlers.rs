//! How the client answers what a server asks (sampling, elicitation, roots)
//! and hears what it tells (progress, logs, other notifications).
//!
//! One handler per capability serves both eras: in the handshake era it
//! answers server-sent JSON-RPC requests, in 2026-07-28 it answers the
//! `inputRequests` of input-required rounds.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::protocol::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, Era,
    ErrorObject, ProgressNotificationParams, Root,
};

/// Who is asking: handed to every handler.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The server's name (from the client's configuration).
    pub server: Arc<str>,
    /// The era the request came through.
    pub era: Era,
}

/// A handler's refusal or failure, sent back to the server as a JSON-RPC
/// error (handshake era) or ending the call (2026-07-28 rounds).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (code {code})")]
pub struct HandlerError {
    /// JSON-RPC code.
    pub code: i64,
    /// Message for the server.
    pub message: String,
}

impl HandlerError {
    /// The user (or policy) rejected the request (code -1).
    pub fn rejected(message: impl Into<String>) -> Self {
        HandlerError {
            code: crate::protocol::codes::USER_REJECTED,
            message: message.into(),
        }
    }
    /// The handler failed (code -32603).
    pub fn internal(message: impl Into<String>) -> Self {
        HandlerError {
            code: crate::protocol::codes::INTERNAL_ERROR,
            message: message.into(),
        }
    }
    /// The request was malformed (code -32602).
    pub fn invalid_params(message: impl Into<String>) -> Self {
        HandlerError {
            code: crate::protocol::codes::INVALID_PARAMS,
            message: message.into(),
        }
    }
}

impl From<HandlerError> for ErrorObject {
    fn from(e: HandlerError) -> Self {
        ErrorObject {
            code: e.code,
            message: e.message,
            data: None,
        }
    }
}

/// Answers `sampling/createMessage`.
pub trait SamplingHandler: Send + Sync + 'static {
    /// Produce a model reply for the server.
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<CreateMessageResult, HandlerError>>;

    /// Whether tool use in sampling is supported (declares `sampling.tools`).
    fn supports_tools(&self) -> bool {
        false
    }
}

/// Answers `elicitation/create`.
pub trait ElicitationHandler: Send + Sync + 'static {
    /// Ask the user (or a policy) and return their answer.
    fn elicit(
        &self,
        params: ElicitRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<ElicitResult, HandlerError>>;

    /// Whether URL-mode elicitation is supported (declares `elicitation.url`).
    fn supports_url(&self) -> bool {
        false
    }
}

/// Answers `roots/list`.
pub trait RootsHandler: Send + Sync + 'static {
    /// The roots this server may see.
    fn list_roots(
        &self,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Vec<Root>, HandlerError>>;
}

impl<F, Fut> SamplingHandler for F
where
    F: Fn(CreateMessageRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CreateMessageResult, HandlerError>> + Send + 'static,
{
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<CreateMessageResult, HandlerError>> {
        Box::pin(self(params, ctx))
    }
}

impl<F, Fut> ElicitationHandler for F
where
    F: Fn(ElicitRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ElicitResult, HandlerError>> + Send + 'static,
{
    fn elicit(
        &self,
        params: ElicitRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<ElicitResult, HandlerError>> {
        Box::pin(self(params, ctx))
    }
}

// One handler shared by many clients (every server of a fleet): an `Arc`
// of a handler is a handler.
impl<H: SamplingHandler + ?Sized> SamplingHandler for Arc<H> {
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<CreateMessageResult, HandlerError>> {
        (**self).create_message(params, ctx)
    }
    fn supports_tools(&self) -> bool {
        (**self).supports_tools()
    }
}

impl<H: ElicitationHandler + ?Sized> ElicitationHandler for Arc<H> {
    fn elicit(
        &self,
        params: ElicitRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<ElicitResult, HandlerError>> {
        (**self).elicit(params, ctx)
    }
    fn supports_url(&self) -> bool {
        (**self).supports_url()
    }
}

impl<H: RootsHandler + ?Sized> RootsHandler for Arc<H> {
    fn list_roots(
        &self,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Vec<Root>, HandlerError>> {
        (**self).list_roots(ctx)
    }
}

/// A list of roots the client can change while connected (see
/// `Client::set_roots`).
#[derive(Debug, Default)]
pub struct ListedRoots(std::sync::RwLock<Vec<Root>>);

impl ListedRoots {
    /// Roots from a list.
    pub fn new(roots: Vec<Root>) -> Self {
        ListedRoots(std::sync::RwLock::new(roots))
    }
    /// Replaces the list.
    pub fn set(&self, roots: Vec<Root>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = roots;
    }
    /// The current list.
    pub fn get(&self) -> Vec<Root> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl RootsHandler for ListedRoots {
    fn list_roots(
        &self,
        _ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Vec<Root>, HandlerError>> {
        let roots = self.get();
        Box::pin(async move { Ok(roots) })
    }
}

/// A notification from the server that no dedicated callback took.
#[derive(Debug, Clone)]
pub struct ServerNotification {
    /// The method, e.g. `notifications/tools/list_changed`.
    pub method: String,
    /// Its params (`Null` when absent).
    pub params: Value,
}

/// Callback for progress notifications.
pub type ProgressCallback = Arc<dyn Fn(&ProgressNotificationParams) + Send + Sync>;

/// Everything a session calls back into: the answers to a server's asks
/// (sampling, elicitation, roots) and the hooks that hear its messages.
/// Callbacks run on the transport's reader task: they must be quick and
/// must not block (spawn for real work).
///
/// One value serves a single client ([`crate::ClientBuilder::handlers`]) or
/// every server of a fleet ([`crate::FleetBuilder::handlers`], where each
/// handler is told which server asks). The default has none: sampling,
/// elicitation and roots requests are refused with "method not found" and
/// the matching capability is not declared.
#[derive(Clone, Default)]
pub struct Handlers {
    /// Sampling.
    pub sampling: Option<Arc<dyn SamplingHandler>>,
    /// Elicitation.
    pub elicitation: Option<Arc<dyn ElicitationHandler>>,
    /// Roots.
    pub roots: Option<Arc<dyn RootsHandler>>,
    /// The roots list when it came from `ClientBuilder::roots` (so the
    /// client can change it and tell the server).
    pub listed_roots: Option<Arc<ListedRoots>>,
    /// The handlers that hear every message (progress, logs, list
    /// changes, ...), told the server's name, in the order they hear it.
    pub messages: Vec<Arc<dyn super::MessageHandler>>,
}

impl Handlers {
    /// No handlers (the same as `Handlers::default()`).
    pub fn new() -> Self {
        Handlers::default()
    }

    /// Answers sampling requests with `handler`.
    pub fn with_sampling(mut self, handler: impl SamplingHandler) -> Self {
        self.sampling = Some(Arc::new(handler));
        self
    }

    /// Answers elicitation requests with `handler`.
    pub fn with_elicitation(mut self, handler: impl ElicitationHandler) -> Self {
        self.elicitation = Some(Arc::new(handler));
        self
    }

    /// Offers this list of roots (URIs, normally `file://`); the client can
    /// change it later and tell the server.
    pub fn with_roots(mut self, roots: Vec<Root>) -> Self {
        let listed = Arc::new(ListedRoots::new(roots));
        self.roots = Some(listed.clone());
        self.listed_roots = Some(listed);
        self
    }

    /// Answers roots requests with `handler` (replacing a list).
    pub fn with_roots_handler(mut self, handler: impl RootsHandler) -> Self {
        self.roots = Some(Arc::new(handler));
        self.listed_roots = None;
        self
    }

    /// Adds a typed handler that hears every message; several may be added.
    pub fn with_message_handler(mut self, handler: impl super::MessageHandler) -> Self {
        self.messages.push(Arc::new(handler));
        self
    }

    /// Takes each handler `other` has, replacing this set's own of the same
    /// kind; `other`'s message handlers are added after this set's.
    pub fn overlay(&mut self, other: Handlers) {
        if other.sampling.is_some() {
            self.sampling = other.sampling;
        }
        if other.elicitation.is_some() {
            self.elicitation = other.elicitation;
        }
        if other.roots.is_some() {
            self.roots = other.roots;
            self.listed_roots = other.listed_roots;
        }
        self.messages.extend(other.messages);
    }

    /// Takes from `shared` (a fleet's handlers) each handler this set has
    /// none of; `shared`'s message handlers are added to this set's own.
    pub fn fill_from(&mut self, shared: &Handlers) {
        if self.sampling.is_none() {
            self.sampling = shared.sampling.clone();
        }
        if self.elicitation.is_none() {
            self.elicitation = shared.elicitation.clone();
        }
        if self.roots.is_none() {
            self.roots = shared.roots.clone();
            self.listed_roots = shared.listed_roots.clone();
        }
        self.messages.extend(shared.messages.iter().cloned());
    }

    /// Whether no handler or hook is set.
    pub fn is_empty(&self) -> bool {
        self.sampling.is_none()
            && self.elicitation.is_none()
            && self.roots.is_none()
            && self.messages.is_empty()
    }
}
