//! Multi round-trip requests (MRTR, 2026-07-28): a `tools/call`,
//! `resources/read` or `prompts/get` may answer with an
//! [`InputRequiredResult`]; the client fulfils the input requests and
//! retries with [`InputResponses`] and the echoed `requestState`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::common::Meta;
use super::elicitation::{ElicitRequestParams, ElicitResult};
use super::result::ResultType;
use super::roots::{ListRootsRequestParams, ListRootsResult};
use super::sampling::{CreateMessageRequestParams, CreateMessageResult};

/// A result asking for input before the request can complete.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// `"input_required"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// What the server needs, by key (answer under the same keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<BTreeMap<String, InputRequest>>,
    /// Opaque state to echo verbatim on the retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// One thing a server needs, as a bare `{method, params}` object. An
/// unknown method is a deserialization error.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "method", content = "params")]
pub enum InputRequest {
    /// `sampling/createMessage`.
    #[serde(rename = "sampling/createMessage")]
    CreateMessage(CreateMessageRequestParams),
    /// `elicitation/create`.
    #[serde(rename = "elicitation/create")]
    Elicit(ElicitRequestParams),
    /// `roots/list` (params optional).
    #[serde(rename = "roots/list")]
    ListRoots(#[serde(default)] Option<ListRootsRequestParams>),
}

impl InputRequest {
    /// The method name.
    pub fn method(&self) -> &'static str {
        match self {
            InputRequest::CreateMessage(_) => "sampling/createMessage",
            InputRequest::Elicit(_) => "elicitation/create",
            InputRequest::ListRoots(_) => "roots/list",
        }
    }
}

impl Serialize for InputRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Hand-written so that `roots/list` without params omits `params`
        // (the schema wants an object there, never `null`).
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Params<'a> {
            CreateMessage(&'a CreateMessageRequestParams),
            Elicit(&'a ElicitRequestParams),
            ListRoots(&'a ListRootsRequestParams),
        }
        #[derive(Serialize)]
        struct Out<'a> {
            method: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            params: Option<Params<'a>>,
        }
        let params = match self {
            InputRequest::CreateMessage(p) => Some(Params::CreateMessage(p)),
            InputRequest::Elicit(p) => Some(Params::Elicit(p)),
            InputRequest::ListRoots(p) => p.as_ref().map(Params::ListRoots),
        };
        Out {
            method: self.method(),
            params,
        }
        .serialize(s)
    }
}

/// The answer to one [`InputRequest`] (inner results carry no `resultType`).
#[allow(clippy::large_enum_variant)] // rare, short-lived values
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InputResponse {
    /// Answer to `sampling/createMessage`.
    CreateMessage(CreateMessageResult),
    /// Answer to `elicitation/create`.
    Elicit(ElicitResult),
    /// Answer to `roots/list`.
    ListRoots(ListRootsResult),
}

impl From<CreateMessageResult> for InputResponse {
    fn from(r: CreateMessageResult) -> Self {
        InputResponse::CreateMessage(r)
    }
}

impl From<ElicitResult> for InputResponse {
    fn from(r: ElicitResult) -> Self {
        InputResponse::Elicit(r)
    }
}

impl From<ListRootsResult> for InputResponse {
    fn from(r: ListRootsResult) -> Self {
        InputResponse::ListRoots(r)
    }
}

/// Answers by the keys of the server's `inputRequests`.
pub type InputResponses = BTreeMap<String, InputResponse>;
