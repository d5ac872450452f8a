//! `subscriptions/listen` (2026-07-28): opting in to list-changed and
//! resource-updated notifications.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::Meta;
use super::jsonrpc::RequestId;
use super::result::ResultType;
use super::version::meta as meta_keys;

/// Which notifications to receive. Omitted means not subscribed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_list_changed: Option<bool>,
    /// `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_list_changed: Option<bool>,
    /// `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_list_changed: Option<bool>,
    /// `notifications/resources/updated` for these URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_subscriptions: Option<Vec<String>>,
    /// Fields this client does not know (e.g. extension notifications).
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl SubscriptionFilter {
    /// True when nothing is subscribed.
    pub fn is_empty(&self) -> bool {
        self.tools_list_changed != Some(true)
            && self.prompts_list_changed != Some(true)
            && self.resources_list_changed != Some(true)
            && self
                .resource_subscriptions
                .as_ref()
                .is_none_or(Vec::is_empty)
            && self.extra.is_empty()
    }
}

/// Params of `subscriptions/listen` (the session adds `_meta`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenRequestParams {
    /// What to subscribe to.
    pub notifications: SubscriptionFilter,
}

/// The schema's name for [`ListenRequestParams`].
pub type SubscriptionsListenRequestParams = ListenRequestParams;

/// Params of `notifications/subscriptions/acknowledged`: what the server
/// agreed to send (compare with what was asked).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsAcknowledgedParams {
    /// The agreed subset.
    #[serde(default)]
    pub notifications: SubscriptionFilter,
    /// Notification metadata (carries the subscription id).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// The result that ends a subscription (server teardown).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsListenResult {
    /// `resultType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Result metadata (carries the subscription id).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// Reads `io.modelcontextprotocol/subscriptionId` from a `_meta`.
pub fn subscription_id(meta: Option<&Meta>) -> Option<RequestId> {
    let v = meta?.get(meta_keys::SUBSCRIPTION_ID)?;
    RequestId::deserialize(v).ok()
}
