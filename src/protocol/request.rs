//! The protocol's requests and notifications as types: each names its
//! method and the types of its params and result, so whoever sends or
//! answers one (the session, the server core) cannot pair a method with
//! the wrong shapes.
//!
//! The markers are uninhabited enums: they exist only as type parameters,
//! e.g. `decode::<CallTool>(..)` or `Context::notify::<Progress>(..)`.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::common::{EmptyParams, PaginatedRequestParams};
use super::completion::{CompleteRequestParams, CompleteResult};
use super::elicitation::{ElicitRequestParams, ElicitResult};
use super::lifecycle::{DiscoverResult, InitializeRequestParams, InitializeResult};
use super::logging::{LoggingMessageNotificationParams, SetLevelRequestParams};
use super::progress::{CancelledNotificationParams, ProgressNotificationParams};
use super::prompts::{GetPromptRequestParams, GetPromptResult, ListPromptsResult};
use super::resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, ResourceUpdatedNotificationParams, SubscribeRequestParams,
};
use super::result::EmptyResult;
use super::roots::{ListRootsRequestParams, ListRootsResult};
use super::sampling::{CreateMessageRequestParams, CreateMessageResult};
use super::skills::{GetSkillRequestParams, GetSkillResult, ListSkillsResult};
use super::subscriptions::{
    ListenRequestParams, SubscriptionsAcknowledgedParams, SubscriptionsListenResult,
};
use super::tasks::{CancelTaskResult, GetTaskResult, TaskIdParams, UpdateTaskParams};
use super::tools::{CallToolRequestParams, CallToolResult, ListToolsResult};

/// A request: its method, what it carries and what answers it.
pub trait Request {
    /// The JSON-RPC method, e.g. `"tools/call"`.
    const METHOD: &'static str;
    /// Its `params` (without the `_meta` a 2026-07-28 request adds).
    type Params: Serialize + DeserializeOwned + Send + 'static;
    /// Its `result`.
    type Result: Serialize + DeserializeOwned + Send + 'static;
}

/// Params a sender may write for the request `R`: `R::Params` itself, or
/// a borrowed form that serializes to the same JSON, such as
/// [`CallToolParams`](super::CallToolParams) (the schema tests check
/// both). The session sends only what `Encodes` the request it names.
pub trait Encodes<R: Request>: Serialize {}

impl<R: Request> Encodes<R> for R::Params {}

/// A notification: its method and what it carries.
pub trait Notification {
    /// The JSON-RPC method, e.g. `"notifications/progress"`.
    const METHOD: &'static str;
    /// Its `params`.
    type Params: Serialize + DeserializeOwned + Send + 'static;
}

macro_rules! requests {
    ($( $(#[$doc:meta])* $name:ident = $method:literal, $params:ty => $result:ty; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub enum $name {}
            impl Request for $name {
                const METHOD: &'static str = $method;
                type Params = $params;
                type Result = $result;
            }
        )*
    };
}

macro_rules! notifications {
    ($( $(#[$doc:meta])* $name:ident = $method:literal, $params:ty; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub enum $name {}
            impl Notification for $name {
                const METHOD: &'static str = $method;
                type Params = $params;
            }
        )*
    };
}

requests! {
    /// `initialize` (handshake era, client to server).
    Initialize = "initialize", InitializeRequestParams => InitializeResult;
    /// `ping` (either direction).
    Ping = "ping", EmptyParams => EmptyResult;
    /// `server/discover` (2026-07-28).
    Discover = "server/discover", EmptyParams => DiscoverResult;
    /// `tools/list`.
    ListTools = "tools/list", PaginatedRequestParams => ListToolsResult;
    /// `tools/call`.
    CallTool = "tools/call", CallToolRequestParams => CallToolResult;
    /// `resources/list`.
    ListResources = "resources/list", PaginatedRequestParams => ListResourcesResult;
    /// `resources/templates/list`.
    ListResourceTemplates = "resources/templates/list",
        PaginatedRequestParams => ListResourceTemplatesResult;
    /// `resources/read`.
    ReadResource = "resources/read", ReadResourceRequestParams => ReadResourceResult;
    /// `resources/subscribe` (handshake era).
    Subscribe = "resources/subscribe", SubscribeRequestParams => EmptyResult;
    /// `resources/unsubscribe` (handshake era).
    Unsubscribe = "resources/unsubscribe", SubscribeRequestParams => EmptyResult;
    /// `prompts/list`.
    ListPrompts = "prompts/list", PaginatedRequestParams => ListPromptsResult;
    /// `prompts/get`.
    GetPrompt = "prompts/get", GetPromptRequestParams => GetPromptResult;
    /// `completion/complete`.
    Complete = "completion/complete", CompleteRequestParams => CompleteResult;
    /// `logging/setLevel` (handshake era).
    SetLevel = "logging/setLevel", SetLevelRequestParams => EmptyResult;
    /// `subscriptions/listen` (2026-07-28): answered only when it ends.
    Listen = "subscriptions/listen", ListenRequestParams => SubscriptionsListenResult;
    /// `skills/list` (the skills extension).
    ListSkills = "skills/list", PaginatedRequestParams => ListSkillsResult;
    /// `skills/get` (the skills extension).
    GetSkill = "skills/get", GetSkillRequestParams => GetSkillResult;
    /// `tasks/get` (the tasks extension; 2025-11-25 core).
    GetTask = "tasks/get", TaskIdParams => GetTaskResult;
    /// `tasks/update` (the tasks extension, 2026-07-28).
    UpdateTask = "tasks/update", UpdateTaskParams => EmptyResult;
    /// `tasks/cancel` (the tasks extension; 2025-11-25 core).
    CancelTask = "tasks/cancel", TaskIdParams => CancelTaskResult;
    /// `tasks/result` (2025-11-25 only; 2026-07-28 inlines the result in
    /// `tasks/get`).
    TaskPayload = "tasks/result", TaskIdParams => CallToolResult;
    /// `sampling/createMessage` (server to client).
    CreateMessage = "sampling/createMessage", CreateMessageRequestParams => CreateMessageResult;
    /// `elicitation/create` (server to client).
    Elicit = "elicitation/create", ElicitRequestParams => ElicitResult;
    /// `roots/list` (server to client).
    ListRoots = "roots/list", ListRootsRequestParams => ListRootsResult;
}

notifications! {
    /// `notifications/initialized` (handshake era, client to server).
    Initialized = "notifications/initialized", EmptyParams;
    /// `notifications/cancelled` (either direction).
    Cancelled = "notifications/cancelled", CancelledNotificationParams;
    /// `notifications/progress` (either direction).
    Progress = "notifications/progress", ProgressNotificationParams;
    /// `notifications/message`: a log message.
    LoggingMessage = "notifications/message", LoggingMessageNotificationParams;
    /// `notifications/tools/list_changed`.
    ToolListChanged = "notifications/tools/list_changed", EmptyParams;
    /// `notifications/prompts/list_changed`.
    PromptListChanged = "notifications/prompts/list_changed", EmptyParams;
    /// `notifications/resources/list_changed`.
    ResourceListChanged = "notifications/resources/list_changed", EmptyParams;
    /// `notifications/resources/updated`.
    ResourceUpdated = "notifications/resources/updated", ResourceUpdatedNotificationParams;
    /// `notifications/roots/list_changed` (client to server, handshake era).
    RootsListChanged = "notifications/roots/list_changed", EmptyParams;
    /// `notifications/subscriptions/acknowledged` (2026-07-28).
    SubscriptionsAcknowledged = "notifications/subscriptions/acknowledged",
        SubscriptionsAcknowledgedParams;
}
