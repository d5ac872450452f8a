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
use crate::protocol::Era;
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

impl Session {
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
        let previous = lock(&shared.listen_id).take();
        if let Some(id) = previous {
            shared.pending.remove(id);
            self.notify(
                "notifications/cancelled",
                Some(&json!({ "requestId": id, "reason": "resubscribing" })),
            )
            .await?;
        }
        if filter.is_empty() {
            return Ok(());
        }
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let params = json!({ "notifications": filter });
        let frame = super::outgoing::encode_request(
            id,
            "subscriptions/listen",
            &params,
            &MetaOut::modern(identity),
        )
        .map_err(|e| Error::Encode(e.to_string()))?;
        // Registered so the teardown reply is expected, not "unknown"; no
        // one waits on it.
        let (tx, _rx) = oneshot::channel();
        shared.pending.insert(id, Pending::new(tx, false, None));
        *lock(&shared.listen_id) = Some(id);
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
