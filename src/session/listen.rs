//! `subscriptions/listen` (2026-07-28): the one long-lived request of the
//! stateless era. It has no deadline: the server answers it only when it
//! ends the subscription. Its notifications (list changes, resource
//! updates) carry the listen request's id in `_meta` and reach the client's
//! notification callback like any other.

use std::sync::atomic::Ordering;

use serde::Serialize;
use serde_json::json;
use tokio::sync::oneshot;

use super::outgoing::MetaOut;
use super::pending::Pending;
use super::{lock, Session};
use crate::protocol::{Era, SubscriptionFilter};
use crate::{Error, Result};

/// What a listen asks to hear about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenFilter {
    /// `notifications/tools/list_changed`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tools_list_changed: bool,
    /// `notifications/prompts/list_changed`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub prompts_list_changed: bool,
    /// `notifications/resources/list_changed`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resources_list_changed: bool,
    /// `notifications/resources/updated` for these URIs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_subscriptions: Vec<String>,
}

impl ListenFilter {
    /// True when it asks for nothing.
    pub fn is_empty(&self) -> bool {
        *self == ListenFilter::default()
    }
}

impl From<&SubscriptionFilter> for ListenFilter {
    fn from(f: &SubscriptionFilter) -> Self {
        ListenFilter {
            tools_list_changed: f.tools_list_changed == Some(true),
            prompts_list_changed: f.prompts_list_changed == Some(true),
            resources_list_changed: f.resources_list_changed == Some(true),
            resource_subscriptions: f.resource_subscriptions.clone().unwrap_or_default(),
        }
    }
}

impl ListenFilter {
    /// What `self` has that `other` lacks.
    pub fn minus(&self, other: &ListenFilter) -> ListenFilter {
        ListenFilter {
            tools_list_changed: self.tools_list_changed && !other.tools_list_changed,
            prompts_list_changed: self.prompts_list_changed && !other.prompts_list_changed,
            resources_list_changed: self.resources_list_changed && !other.resources_list_changed,
            resource_subscriptions: self
                .resource_subscriptions
                .iter()
                .filter(|uri| !other.resource_subscriptions.contains(uri))
                .cloned()
                .collect(),
        }
    }
}

/// A 2026-07-28 subscription: what the client asked for and what the
/// server agreed to (`notifications/subscriptions/acknowledged`). A server
/// may agree to a subset; nothing fails then, but the omitted
/// notifications will not come (see [`Subscription::omitted`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The `subscriptions/listen` request's id (every message of the
    /// subscription names it in `_meta`).
    pub id: i64,
    /// What the listen asked for.
    pub requested: ListenFilter,
    /// What the server acknowledged; `None` until the acknowledgement
    /// arrives.
    pub agreed: Option<ListenFilter>,
}

impl Subscription {
    /// What was asked for and not agreed to (empty before the
    /// acknowledgement).
    pub fn omitted(&self) -> ListenFilter {
        match &self.agreed {
            Some(agreed) => self.requested.minus(agreed),
            None => ListenFilter::default(),
        }
    }

    /// Records the server's acknowledgement and says what it left out
    /// (a warning, once) or added unasked (debug).
    pub(crate) fn acknowledge(&mut self, server: &str, agreed: &SubscriptionFilter) {
        let agreed = ListenFilter::from(agreed);
        let omitted = self.requested.minus(&agreed);
        if !omitted.is_empty() {
            tracing::warn!(
                server,
                id = self.id,
                ?omitted,
                "the server agreed to only part of the subscription: these notifications will not come"
            );
        }
        let unasked = agreed.minus(&self.requested);
        if !unasked.is_empty() {
            tracing::debug!(
                server,
                id = self.id,
                ?unasked,
                "the server acknowledged more than was asked"
            );
        }
        self.agreed = Some(agreed);
    }
}

impl Session {
    /// The current 2026-07-28 subscription, if any, with what the server
    /// agreed to.
    pub fn subscription(&self) -> Option<Subscription> {
        lock(&self.shared().listen).clone()
    }

    /// Replaces this session's subscription with one for `filter` (2026-07-28
    /// only): the previous listen, if any, is cancelled. An empty filter just
    /// cancels.
    pub async fn listen(&self, filter: &ListenFilter) -> Result<()> {
        let shared = self.shared();
        let identity = shared
            .negotiated
            .get()
            .and_then(|n| n.modern.as_ref())
            .ok_or_else(|| {
                Error::NotSupported("subscriptions/listen exists only in 2026-07-28".into())
            })?;
        let previous = lock(&shared.listen).take().map(|s| s.id);
        if let Some(id) = previous {
            shared.pending.remove(id);
            if let Some((frame, _)) = shared.cancellation(id, "resubscribing") {
                self.send_frame(frame).await?;
            }
        }
        if filter.is_empty() {
            return Ok(());
        }
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let params = json!({ "notifications": filter });
        let bytes = super::outgoing::encode_request(
            id,
            "subscriptions/listen",
            &params,
            &MetaOut::modern(identity),
        )
        .map_err(|e| Error::Encode(e.to_string()))?;
        let frame = super::frames::request(
            self.outbound()?,
            bytes,
            id,
            "subscriptions/listen",
            Some(identity.version),
            super::Target::default(),
        );
        // Registered so the teardown reply is expected, not "unknown"; no
        // one waits on it.
        let (tx, _rx) = oneshot::channel();
        shared
            .pending
            .insert(id, Pending::new(tx, false, None, None));
        *lock(&shared.listen) = Some(Subscription {
            id,
            requested: filter.clone(),
            agreed: None,
        });
        self.send_frame(frame).await?;
        tracing::debug!(server = %self.name(), id, ?filter, "listening");
        Ok(())
    }

    /// Whether the server offers resource subscriptions.
    pub fn capabilities_subscribe(&self) -> bool {
        self.server_state()
            .is_some_and(|s| s.capabilities.resources_subscribe())
    }

    /// The filter this session's server can honour, from its capabilities.
    pub fn listen_filter(&self, resource_subscriptions: Vec<String>) -> ListenFilter {
        let Some(state) = self.server_state() else {
            return ListenFilter::default();
        };
        if state.version.era() != Era::Modern {
            return ListenFilter::default();
        }
        let caps = &state.capabilities;
        ListenFilter {
            tools_list_changed: caps.tools_list_changed(),
            prompts_list_changed: caps.prompts_list_changed(),
            resources_list_changed: caps.resources_list_changed(),
            resource_subscriptions: if caps.resources_subscribe() {
                resource_subscriptions
            } else {
                Vec::new()
            },
        }
    }
}
