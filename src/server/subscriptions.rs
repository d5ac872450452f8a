//! Telling clients what changed: list changes and resource updates, to
//! handshake clients once initialized (updates only for URIs they
//! `resources/subscribe`d) and to 2026-07-28 clients through their
//! `subscriptions/listen`, each notification tagged with the listen's id.

use std::sync::{Arc, Mutex, Weak};

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::conn::{lock, Conn, Phase};
use super::outgoing::Route;
use super::wire::encode_result;
use crate::protocol::request::{
    PromptListChanged, ResourceListChanged, ResourceUpdated, ToolListChanged,
};
use crate::protocol::version::meta as keys;
use crate::protocol::{
    EmptyParams, Era, Meta, RequestId, ResourceUpdatedNotificationParams, SubscriptionsListenResult,
};

/// A change pushed to connected clients.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Tools,
    Prompts,
    Resources,
    Updated(String),
}

/// A 2026-07-28 `subscriptions/listen` in force: what was agreed.
pub(crate) struct Listen {
    pub(crate) id: RequestId,
    pub(crate) raw_id: Box<RawValue>,
    pub(crate) tools: bool,
    pub(crate) prompts: bool,
    pub(crate) resources: bool,
    pub(crate) uris: Vec<String>,
}

/// True when a subscription to `subscribed` covers an update of `uri`
/// (the same resource or one below it).
pub(crate) fn covers(subscribed: &str, uri: &str) -> bool {
    uri == subscribed
        || uri
            .strip_prefix(subscribed)
            .is_some_and(|rest| subscribed.ends_with('/') || rest.starts_with('/'))
}

/// `_meta` naming a subscription.
fn subscription_meta(id: &RequestId) -> Meta {
    let mut meta = Map::new();
    meta.insert(
        keys::SUBSCRIPTION_ID.into(),
        serde_json::to_value(id).unwrap_or(Value::Null),
    );
    meta
}

impl Conn {
    /// Handshake era: `resources/subscribe` (`on`) or `unsubscribe`.
    pub(crate) fn subscribe(&self, uri: &str, on: bool) {
        let mut st = lock(&self.state);
        if on {
            st.subscribed.insert(uri.to_owned());
        } else {
            st.subscribed.remove(uri);
        }
    }

    pub(crate) fn add_listen(&self, listen: Listen) {
        lock(&self.state).listens.insert(listen.id.clone(), listen);
    }

    /// Delivers a change to this client, as its era and subscriptions want.
    pub(crate) fn on_change(&self, change: &Change) {
        let st = lock(&self.state);
        let ready = matches!(st.phase, Phase::Ready(..));
        let send = |meta: Option<Meta>, route: Route| {
            let params = EmptyParams {
                meta,
                ..Default::default()
            };
            let params = params.meta.is_some().then_some(&params);
            match change {
                Change::Tools => self.notify::<ToolListChanged>(params, route),
                Change::Prompts => self.notify::<PromptListChanged>(params, route),
                Change::Resources => self.notify::<ResourceListChanged>(params, route),
                Change::Updated(_) => {}
            }
        };
        let updated = |uri: &str, meta: Option<Meta>, route: Route| {
            let params = ResourceUpdatedNotificationParams {
                uri: uri.to_owned(),
                meta,
                extra: Map::new(),
            };
            self.notify::<ResourceUpdated>(Some(&params), route);
        };
        if ready {
            match change {
                Change::Updated(uri) => {
                    if st.subscribed.iter().any(|s| covers(s, uri)) {
                        updated(uri, None, Route::Unrelated);
                    }
                }
                _ => send(None, Route::Unrelated),
            }
        }
        for l in st.listens.values() {
            let meta = || Some(subscription_meta(&l.id));
            let route = || Route::During(l.id.clone());
            match change {
                Change::Tools if l.tools => send(meta(), route()),
                Change::Prompts if l.prompts => send(meta(), route()),
                Change::Resources if l.resources => send(meta(), route()),
                Change::Updated(uri) if l.uris.iter().any(|s| covers(s, uri)) => {
                    updated(uri, meta(), route())
                }
                _ => {}
            }
        }
    }

    /// Ends every 2026-07-28 subscription from the server's side: each
    /// listen request finally gets its result.
    pub(crate) fn end_listens(&self) {
        let listens: Vec<Listen> = lock(&self.state).listens.drain().map(|(_, l)| l).collect();
        let shared = &self.shared;
        for l in listens {
            let result = SubscriptionsListenResult {
                meta: Some(subscription_meta(&l.id)),
                ..Default::default()
            };
            let ttl = shared.options.ttl_ms;
            let frame = match encode_result(&l.raw_id, result, Era::Modern, ttl, &shared.identity) {
                Ok(frame) => frame,
                Err(e) => super::wire::encode_error(&l.raw_id, &e),
            };
            self.send_frame(frame, Route::Reply(l.id));
        }
    }
}

/// The live connections of a server, to push notifications to.
#[derive(Default)]
pub(crate) struct Hub {
    conns: Mutex<Vec<Weak<Conn>>>,
}

impl Hub {
    pub(crate) fn add(&self, conn: &Arc<Conn>) {
        let mut conns = lock(&self.conns);
        conns.retain(|c| c.strong_count() > 0);
        conns.push(Arc::downgrade(conn));
    }

    pub(crate) fn live(&self) -> Vec<Arc<Conn>> {
        let mut conns = lock(&self.conns);
        conns.retain(|c| c.strong_count() > 0);
        conns.iter().filter_map(Weak::upgrade).collect()
    }

    fn broadcast(&self, change: Change) {
        for conn in self.live() {
            conn.on_change(&change);
        }
    }
}

/// Tells every connected client of a server what changed; cheap to clone.
/// Get one from [`Server::notifier`](super::Server::notifier) or a
/// handler's [`Context::notifier`](super::Context::notifier).
#[derive(Clone)]
pub struct Notifier {
    pub(crate) hub: Arc<Hub>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("connections", &self.connections())
            .finish()
    }
}

impl Notifier {
    /// How many clients are connected right now.
    pub fn connections(&self) -> usize {
        self.hub.live().len()
    }

    /// `notifications/tools/list_changed` to initialized handshake clients
    /// and to 2026-07-28 listeners that asked for it.
    pub fn tools_changed(&self) {
        self.hub.broadcast(Change::Tools);
    }

    /// `notifications/prompts/list_changed`, likewise.
    pub fn prompts_changed(&self) {
        self.hub.broadcast(Change::Prompts);
    }

    /// `notifications/resources/list_changed`, likewise.
    pub fn resources_changed(&self) {
        self.hub.broadcast(Change::Resources);
    }

    /// `notifications/resources/updated` to the clients subscribed to `uri`
    /// or to a resource above it.
    pub fn resource_updated(&self, uri: impl Into<String>) {
        self.hub.broadcast(Change::Updated(uri.into()));
    }

    /// Ends every 2026-07-28 `subscriptions/listen` on every connection,
    /// the way a server shutting down does: each listen request gets its
    /// result (`resultType: "complete"`, `_meta.subscriptionId`).
    pub fn end_subscriptions(&self) {
        for conn in self.hub.live() {
            conn.end_listens();
        }
    }
}
