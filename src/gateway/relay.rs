//! What the gateway passes between its downstream clients and its
//! upstream servers besides calls and their answers: the asks an upstream
//! makes while it serves a call (sampling, elicitation, roots), its log
//! messages, and resource updates.
//!
//! - A 2026-07-28 upstream's input-required round belongs to its call. To
//!   a 2026-07-28 downstream client it is passed on as it came, the
//!   upstream's `requestState` sealed into the gateway's (see
//!   `handler.rs`); to a handshake-era client each ask becomes a real
//!   request ([`Relay::call_handlers`]).
//! - A handshake-era upstream's requests and log messages name no call
//!   (over stdio nothing ties them to one). They go to the client of the
//!   one call in flight on that server, when exactly one is: a
//!   handshake-era client gets a real request; a 2026-07-28 client's
//!   request ends with an input-required round while the upstream call is
//!   held (see `held.rs`) until the retry brings the answer. Otherwise an
//!   ask goes to the config's `sampling`/`elicitation` tables, else it is
//!   refused, and a log message is only traced. Never to a guess: with
//!   several calls in flight that would hand one client's traffic to
//!   another.
//! - A resource update is told to every downstream client subscribed to
//!   its URI.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::protocol::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, Era, LoggingMessageNotificationParams, Root,
};
use tokio::sync::mpsc;

use super::held::HeldAsk;
use crate::server::{AskError, AskKind, Context, Notifier};
use crate::session::{
    ElicitationHandler, HandlerError, Handlers, MessageHandler, RequestContext, RootsHandler,
    SamplingHandler,
};

/// The gateway's side of its fleet's handlers; see the module docs. Make
/// one, build the fleet with [`Relay::handlers`], and give it to the
/// gateway with [`Gateway::with_relay`](super::Gateway::with_relay).
#[derive(Clone, Default)]
pub struct Relay {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The downstream requests in flight, by the upstream serving them.
    calls: Mutex<HashMap<String, Vec<(u64, Route)>>>,
    next: AtomicU64,
    /// Upstream calls held for a 2026-07-28 client's retry.
    pub(super) held: super::held::HeldCalls,
    /// What answers when no downstream client can: the config's tables.
    fallback: OnceLock<Handlers>,
    /// Where resource updates go.
    notifier: OnceLock<Notifier>,
    /// The URIs several upstreams list (as of the last list served): their
    /// updates go out namespaced.
    shared_uris: Mutex<Arc<HashSet<String>>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where what an upstream sends during one call goes.
#[derive(Clone)]
struct Route {
    /// The downstream request, while it is open.
    cx: Option<Context>,
    /// For a 2026-07-28 client: where asks go to be held for its retry,
    /// and what it declared it can be asked.
    hold: Option<(mpsc::Sender<HeldAsk>, Arc<ClientCapabilities>)>,
}

/// A downstream request registered as in flight on an upstream; removed
/// when dropped.
pub(crate) struct InFlight {
    relay: Relay,
    server: String,
    id: u64,
}

impl InFlight {
    /// The downstream request is over (its call is held): logs have
    /// nowhere to go until [`InFlight::reopen`].
    pub(crate) fn close(&self) {
        self.set_cx(None);
    }

    /// The retry of a held call is the downstream request now.
    pub(crate) fn reopen(&self, cx: &Context) {
        self.set_cx(Some(cx.clone()));
    }

    fn set_cx(&self, cx: Option<Context>) {
        let mut calls = lock(&self.relay.inner.calls);
        let entry = calls
            .get_mut(&self.server)
            .and_then(|list| list.iter_mut().find(|(id, _)| *id == self.id));
        if let Some((_, route)) = entry {
            route.cx = cx;
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut calls = lock(&self.relay.inner.calls);
        if let Some(list) = calls.get_mut(&self.server) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                calls.remove(&self.server);
            }
        }
    }
}

impl Relay {
    /// A relay with no fleet behind it yet.
    pub fn new() -> Self {
        Relay::default()
    }

    /// The handlers to build the gateway's fleet with (see
    /// [`FleetBuilder::map_handlers`](crate::FleetBuilder::map_handlers)):
    /// sampling, elicitation and roots are declared to every upstream and
    /// relayed as the module docs say, `fallback`'s own answering when no
    /// downstream client can; `fallback`'s message handlers are kept, and
    /// the relay's own added (logs, resource updates).
    pub fn handlers(&self, fallback: Handlers) -> Handlers {
        let mut handlers = Handlers {
            messages: fallback.messages.clone(),
            listed_roots: fallback.listed_roots.clone(),
            ..Handlers::default()
        };
        let _ = self.inner.fallback.set(fallback);
        handlers.sampling = Some(Arc::new(Asks {
            relay: self.clone(),
            call: None,
        }));
        handlers.elicitation = Some(Arc::new(Asks {
            relay: self.clone(),
            call: None,
        }));
        handlers.roots = Some(Arc::new(Asks {
            relay: self.clone(),
            call: None,
        }));
        handlers.messages.push(Arc::new(Messages(self.clone())));
        handlers
    }

    /// Handlers for one call's 2026-07-28 rounds: the asks `cx`'s
    /// (handshake-era) client declared it can answer go to it; the others
    /// to the fleet's handlers.
    pub(crate) fn call_handlers(&self, cx: &Context) -> Handlers {
        let asks = |kind: AskKind| {
            let can = cx.era() == Era::Handshake && kind.declared(cx.client_capabilities());
            can.then(|| {
                Arc::new(Asks {
                    relay: self.clone(),
                    call: Some(cx.clone()),
                })
            })
        };
        Handlers {
            sampling: asks(AskKind::Sampling).map(|a| a as _),
            elicitation: asks(AskKind::Elicitation).map(|a| a as _),
            roots: asks(AskKind::Roots).map(|a| a as _),
            ..Handlers::default()
        }
    }

    /// What an upstream 2026-07-28 request made for `cx` declares it can
    /// be asked: what `cx`'s client declared, and for a handshake-era
    /// client also what the fallback answers (a 2026-07-28 client's
    /// rounds are passed on whole, so only it answers them).
    pub(crate) fn declared_for(&self, cx: &Context) -> ClientCapabilities {
        let down = cx.client_capabilities();
        let mut caps = ClientCapabilities {
            sampling: down.sampling.clone(),
            elicitation: down.elicitation.clone(),
            roots: down.roots.clone(),
            ..ClientCapabilities::default()
        };
        if cx.era() == Era::Handshake {
            if let Some(fallback) = self.fallback() {
                if fallback.sampling.is_some() && caps.sampling.is_none() {
                    caps.sampling = Some(Default::default());
                }
                if fallback.elicitation.is_some() && caps.elicitation.is_none() {
                    caps.elicitation = Some(Default::default());
                }
                if fallback.roots.is_some() && caps.roots.is_none() {
                    caps.roots = Some(Default::default());
                }
            }
        }
        caps
    }

    /// Registers `cx` as in flight on `server` until the guard drops.
    pub(crate) fn enter(&self, server: &str, cx: &Context) -> InFlight {
        self.register(
            server,
            Route {
                cx: Some(cx.clone()),
                hold: None,
            },
        )
    }

    /// Registers `cx` (of a 2026-07-28 client) as in flight on `server`,
    /// the upstream's asks sent to `asks` to be held for its retry.
    pub(crate) fn enter_holding(
        &self,
        server: &str,
        cx: &Context,
        asks: mpsc::Sender<HeldAsk>,
    ) -> InFlight {
        let declared = Arc::new(cx.client_capabilities().clone());
        self.register(
            server,
            Route {
                cx: Some(cx.clone()),
                hold: Some((asks, declared)),
            },
        )
    }

    fn register(&self, server: &str, route: Route) -> InFlight {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.inner.calls)
            .entry(server.to_owned())
            .or_default()
            .push((id, route));
        InFlight {
            relay: self.clone(),
            server: server.to_owned(),
            id,
        }
    }

    /// The held calls.
    pub(super) fn held(&self) -> &super::held::HeldCalls {
        &self.inner.held
    }

    /// Where resource updates go (set when the gateway is served).
    pub(crate) fn set_notifier(&self, notifier: Notifier) {
        let _ = self.inner.notifier.set(notifier);
    }

    /// Which URIs several upstreams list, as just served.
    pub(super) fn set_shared_uris(&self, shared: HashSet<String>) {
        let mut current = lock(&self.inner.shared_uris);
        if **current != shared {
            *current = Arc::new(shared);
        }
    }

    /// The route of the one call in flight on `server`.
    fn only_call(&self, server: &str) -> Option<Route> {
        match lock(&self.inner.calls).get(server).map(Vec::as_slice) {
            Some([(_, route)]) => Some(route.clone()),
            _ => None,
        }
    }

    fn fallback(&self) -> Option<&Handlers> {
        self.inner.fallback.get()
    }
}

/// Answers asks: the downstream client of the call (given, or the one in
/// flight on the asking server) when it declared the capability (asked at
/// once in the handshake era, held for its retry in 2026-07-28), else the
/// fallback handler, else a refusal.
struct Asks {
    relay: Relay,
    call: Option<Context>,
}

/// Who answers an ask.
enum Answerer {
    /// A handshake-era client, asked now.
    Now(Context),
    /// A 2026-07-28 client, through its held call.
    Held(mpsc::Sender<HeldAsk>),
}

impl Asks {
    /// The downstream client that can be asked `kind` now, if any.
    fn downstream(&self, kind: AskKind, server: &str) -> Option<Answerer> {
        let route = match &self.call {
            Some(cx) => Route {
                cx: Some(cx.clone()),
                hold: None,
            },
            None => self.relay.only_call(server)?,
        };
        if let Some((asks, declared)) = &route.hold {
            return kind
                .declared(declared)
                .then(|| Answerer::Held(asks.clone()));
        }
        let cx = route.cx?;
        (cx.era() == Era::Handshake && kind.declared(cx.client_capabilities()))
            .then_some(Answerer::Now(cx))
    }

    fn refused(kind: AskKind, server: &str) -> HandlerError {
        HandlerError {
            code: crate::protocol::codes::METHOD_NOT_FOUND,
            message: format!(
                "no client of the gateway can answer {server}'s {}: none in flight on it declared \
                 {} (or several are, and the request names none), and the gateway's config \
                 answers none",
                kind.method(),
                kind.capability()
            ),
        }
    }
}

async fn ask<T: DeserializeOwned>(
    answerer: Answerer,
    kind: AskKind,
    params: Value,
) -> Result<T, HandlerError> {
    let answer = match answerer {
        Answerer::Now(cx) => cx.ask_json(kind, params).await.map_err(|e| match e {
            AskError::Refused(e) => HandlerError {
                code: e.code,
                message: e.message,
            },
            other => HandlerError::internal(format!("the downstream client: {other}")),
        })?,
        Answerer::Held(asks) => super::held::ask(&asks, kind, params).await?,
    };
    serde_json::from_value(answer)
        .map_err(|e| HandlerError::internal(format!("the downstream client's answer: {e}")))
}

impl Asks {
    /// Passes `params` on to the downstream client that can answer
    /// `kind`, else to `fallback` (the config's handler), else refuses.
    fn relay<P, T, F>(
        &self,
        kind: AskKind,
        params: P,
        ctx: RequestContext,
        fallback: Option<F>,
    ) -> BoxFuture<'static, Result<T, HandlerError>>
    where
        P: serde::Serialize + Send + 'static,
        T: DeserializeOwned + Send + 'static,
        F: FnOnce(P, RequestContext) -> BoxFuture<'static, Result<T, HandlerError>>
            + Send
            + 'static,
    {
        let downstream = self.downstream(kind, &ctx.server);
        Box::pin(async move {
            if let Some(answerer) = downstream {
                let params = serde_json::to_value(&params)
                    .map_err(|e| HandlerError::internal(e.to_string()))?;
                return ask(answerer, kind, params).await;
            }
            match fallback {
                Some(answer) => answer(params, ctx).await,
                None => Err(Asks::refused(kind, &ctx.server)),
            }
        })
    }
}

impl SamplingHandler for Asks {
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<CreateMessageResult, HandlerError>> {
        let fallback = self.relay.fallback().and_then(|h| h.sampling.clone());
        let answer = fallback.map(|h| move |p, cx| h.create_message(p, cx));
        self.relay(AskKind::Sampling, params, ctx, answer)
    }

    fn supports_tools(&self) -> bool {
        true
    }
}

impl ElicitationHandler for Asks {
    fn elicit(
        &self,
        params: ElicitRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<ElicitResult, HandlerError>> {
        let fallback = self.relay.fallback().and_then(|h| h.elicitation.clone());
        let answer = fallback.map(|h| move |p, cx| h.elicit(p, cx));
        self.relay(AskKind::Elicitation, params, ctx, answer)
    }

    fn supports_url(&self) -> bool {
        true
    }
}

/// The answer to `roots/list`.
#[derive(serde::Deserialize)]
struct Listed {
    roots: Vec<Root>,
}

impl RootsHandler for Asks {
    fn list_roots(
        &self,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Vec<Root>, HandlerError>> {
        let fallback = self.relay.fallback().and_then(|h| h.roots.clone());
        let answer = fallback.map(|h| {
            move |_: Value, cx| -> BoxFuture<'static, Result<Listed, HandlerError>> {
                Box::pin(async move {
                    Ok(Listed {
                        roots: h.list_roots(cx).await?,
                    })
                })
            }
        });
        let listed = self.relay(AskKind::Roots, serde_json::json!({}), ctx, answer);
        Box::pin(async move { Ok(listed.await?.roots) })
    }
}

/// Hears the upstreams' log messages and resource updates.
struct Messages(Relay);

impl MessageHandler for Messages {
    fn on_log(&self, server: &str, log: &LoggingMessageNotificationParams) {
        match self.0.only_call(server).and_then(|r| r.cx) {
            Some(cx) => cx.log_message(log.clone()),
            None => {
                tracing::debug!(%server, level = ?log.level, "upstream log with no one call in flight: not relayed")
            }
        }
    }

    fn on_resource_updated(&self, server: &str, uri: &str) {
        let Some(notifier) = self.0.inner.notifier.get() else {
            return;
        };
        let shared = lock(&self.0.inner.shared_uris).clone();
        if shared.contains(uri) {
            notifier.resource_updated(super::shared_uri::namespaced(server, uri));
        } else {
            notifier.resource_updated(uri);
        }
    }
}
