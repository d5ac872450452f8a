//! The seam between the protocol engine and what a server serves: one
//! trait, [`ServerHandler`], with a method per request a client may send,
//! typed params in and typed results out. Every method but `info` and
//! `capabilities` has a default that answers -32601, so a handler
//! implements only what it serves. [`Registry`](super::Registry) is the
//! static implementation (tools, resources, prompts registered up front);
//! a gateway implements it over lists that come from elsewhere and change
//! at runtime.
//!
//! The core does the protocol around each call: it decides the era,
//! checks `_meta`, answers `initialize`, `server/discover`, `ping`,
//! `logging/setLevel`, subscriptions and cancellation itself, serves a
//! method only when [`ServerHandler::capabilities`] declares it, and
//! decorates the result for the request's era (`resultType`, caching
//! hints, the server's identity).

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::context::Context;
use super::error::ServerError;
use super::tasks::{unknown_task, ToolCall};
use crate::protocol::{
    CallToolRequestParams, CallToolResult, CancelTaskResult, CompleteRequestParams, CompleteResult,
    EmptyResult, GetPromptRequestParams, GetPromptResult, GetSkillRequestParams, GetSkillResult,
    GetTaskResult, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListSkillsResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResult, ServerCapabilities, TaskIdParams, TaskSupport,
    Tool, UpdateTaskParams,
};

/// What a handler's method returns.
pub type HandlerFuture<'a, T> = BoxFuture<'a, Result<T, ServerError>>;

fn not_served<'a, T: Send + 'a>(method: &str) -> HandlerFuture<'a, T> {
    let e = ServerError::MethodNotFound(method.to_owned());
    Box::pin(async move { Err(e) })
}

/// Serves the requests of an MCP server. Methods run concurrently (one
/// task per request that does not finish at once) and are dropped when the
/// client cancels the request; a panic is answered as -32603.
pub trait ServerHandler: Send + Sync + 'static {
    /// Who the server is (`serverInfo`). Read once, when the
    /// [`Server`](super::Server) is built.
    fn info(&self) -> Implementation;

    /// How to use the server, for the model (`instructions`). Default: none.
    fn instructions(&self) -> Option<String> {
        None
    }

    /// What the server offers. Read for every request that depends on it
    /// (a method whose capability is not declared is -32601), so a
    /// handler's offer may change at runtime.
    fn capabilities(&self) -> ServerCapabilities;

    /// `tools/list`: one page (see [`paginate`](super::paginate)).
    fn list_tools(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListToolsResult> {
        let _ = (cx, params);
        not_served("tools/list")
    }

    /// The definition of tool `name`, when the handler can tell without
    /// waiting. Streamable HTTP reads its `x-mcp-header` annotations to
    /// check a 2026-07-28 call's `Mcp-Param-*` headers against its
    /// arguments (SEP-2243). Default: `None` (nothing to check).
    fn tool(&self, name: &str) -> Option<Tool> {
        let _ = name;
        None
    }

    /// `tools/call`. `params.input_responses` and `params.request_state`
    /// are taken out by the core (2026-07-28 rounds live in the
    /// [`Context`]). A tool that ran and failed returns
    /// [`CallToolResult::error`]; an unknown tool is
    /// [`ServerError::InvalidParams`].
    fn call_tool(
        &self,
        cx: Context,
        params: CallToolRequestParams,
    ) -> HandlerFuture<'_, CallToolResult> {
        let _ = (cx, params);
        not_served("tools/call")
    }

    /// Whether tool `name` runs as a task (the tasks extension, 2026-07-28,
    /// served when [`ServerHandler::capabilities`] declares
    /// [`TASKS_EXTENSION`](crate::protocol::TASKS_EXTENSION)): `Optional`
    /// and `Required` tools called by a client that declares the extension
    /// become tasks the core keeps (see
    /// [`ServerBuilder::task_after`](super::ServerBuilder::task_after));
    /// a `Required` tool called without it is refused with -32021.
    /// Default: `Forbidden` (every call is answered with its result).
    fn task_support(&self, name: &str) -> TaskSupport {
        let _ = name;
        TaskSupport::Forbidden
    }

    /// `tools/call` from a client that declared the tasks extension, for a
    /// tool whose [`ServerHandler::task_support`] is `Forbidden`: a handler
    /// that keeps tasks of its own (a proxy whose upstream made one)
    /// answers [`ToolCall::Task`] here, and serves their ids in
    /// [`ServerHandler::get_task`], [`ServerHandler::update_task`] and
    /// [`ServerHandler::cancel_task`]. Default: [`ServerHandler::call_tool`].
    fn call_tool_or_task(
        &self,
        cx: Context,
        params: CallToolRequestParams,
    ) -> HandlerFuture<'_, ToolCall> {
        Box::pin(async move { self.call_tool(cx, params).await.map(ToolCall::Complete) })
    }

    /// `tasks/get` of a task the core did not make (see
    /// [`ServerHandler::call_tool_or_task`]). Default: -32602, unknown task.
    fn get_task(&self, cx: Context, params: TaskIdParams) -> HandlerFuture<'_, GetTaskResult> {
        let _ = cx;
        Box::pin(async move { Err(unknown_task(&params.task_id)) })
    }

    /// `tasks/update` of a task the core did not make. Default: -32602.
    fn update_task(&self, cx: Context, params: UpdateTaskParams) -> HandlerFuture<'_, EmptyResult> {
        let _ = cx;
        Box::pin(async move { Err(unknown_task(&params.task_id)) })
    }

    /// `tasks/cancel` of a task the core did not make. Default: -32602.
    fn cancel_task(
        &self,
        cx: Context,
        params: TaskIdParams,
    ) -> HandlerFuture<'_, CancelTaskResult> {
        let _ = cx;
        Box::pin(async move { Err(unknown_task(&params.task_id)) })
    }

    /// `resources/list`: one page.
    fn list_resources(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListResourcesResult> {
        let _ = (cx, params);
        not_served("resources/list")
    }

    /// `resources/templates/list`: one page.
    fn list_resource_templates(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListResourceTemplatesResult> {
        let _ = (cx, params);
        not_served("resources/templates/list")
    }

    /// `resources/read`; an unknown URI is
    /// [`ServerError::ResourceNotFound`].
    fn read_resource(
        &self,
        cx: Context,
        params: ReadResourceRequestParams,
    ) -> HandlerFuture<'_, ReadResourceResult> {
        let _ = (cx, params);
        not_served("resources/read")
    }

    /// Handshake era: `resources/subscribe` (`on`) or
    /// `resources/unsubscribe` of `uri`, before the core records it (and
    /// then sends `notifications/resources/updated` for what
    /// [`Notifier::resource_updated`](super::Notifier::resource_updated)
    /// is told); an error refuses it. Default: accepts every URI.
    fn subscribe(&self, uri: &str, on: bool) -> HandlerFuture<'_, ()> {
        let _ = (uri, on);
        Box::pin(async { Ok(()) })
    }

    /// Whether a 2026-07-28 `subscriptions/listen` may subscribe to `uri`
    /// (a URI it refuses is left out of the acknowledgement). Default:
    /// every URI.
    fn subscribable(&self, uri: &str) -> bool {
        let _ = uri;
        true
    }

    /// `prompts/list`: one page.
    fn list_prompts(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListPromptsResult> {
        let _ = (cx, params);
        not_served("prompts/list")
    }

    /// `prompts/get`.
    fn get_prompt(
        &self,
        cx: Context,
        params: GetPromptRequestParams,
    ) -> HandlerFuture<'_, GetPromptResult> {
        let _ = (cx, params);
        not_served("prompts/get")
    }

    /// `completion/complete`.
    fn complete(
        &self,
        cx: Context,
        params: CompleteRequestParams,
    ) -> HandlerFuture<'_, CompleteResult> {
        let _ = (cx, params);
        not_served("completion/complete")
    }

    /// `skills/list` (the skills extension, served when the capabilities
    /// declare it): one page.
    fn list_skills(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListSkillsResult> {
        let _ = (cx, params);
        not_served("skills/list")
    }

    /// `skills/get` (the skills extension).
    fn get_skill(
        &self,
        cx: Context,
        params: GetSkillRequestParams,
    ) -> HandlerFuture<'_, GetSkillResult> {
        let _ = (cx, params);
        not_served("skills/get")
    }
}

/// A shared handler serves like the handler itself.
impl<H: ServerHandler + ?Sized> ServerHandler for Arc<H> {
    fn info(&self) -> Implementation {
        (**self).info()
    }
    fn instructions(&self) -> Option<String> {
        (**self).instructions()
    }
    fn capabilities(&self) -> ServerCapabilities {
        (**self).capabilities()
    }
    fn tool(&self, name: &str) -> Option<Tool> {
        (**self).tool(name)
    }
    fn list_tools(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListToolsResult> {
        (**self).list_tools(cx, params)
    }
    fn call_tool(
        &self,
        cx: Context,
        params: CallToolRequestParams,
    ) -> HandlerFuture<'_, CallToolResult> {
        (**self).call_tool(cx, params)
    }
    fn task_support(&self, name: &str) -> TaskSupport {
        (**self).task_support(name)
    }
    fn call_tool_or_task(
        &self,
        cx: Context,
        params: CallToolRequestParams,
    ) -> HandlerFuture<'_, ToolCall> {
        (**self).call_tool_or_task(cx, params)
    }
    fn get_task(&self, cx: Context, params: TaskIdParams) -> HandlerFuture<'_, GetTaskResult> {
        (**self).get_task(cx, params)
    }
    fn update_task(&self, cx: Context, params: UpdateTaskParams) -> HandlerFuture<'_, EmptyResult> {
        (**self).update_task(cx, params)
    }
    fn cancel_task(
        &self,
        cx: Context,
        params: TaskIdParams,
    ) -> HandlerFuture<'_, CancelTaskResult> {
        (**self).cancel_task(cx, params)
    }
    fn list_resources(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListResourcesResult> {
        (**self).list_resources(cx, params)
    }
    fn list_resource_templates(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListResourceTemplatesResult> {
        (**self).list_resource_templates(cx, params)
    }
    fn read_resource(
        &self,
        cx: Context,
        params: ReadResourceRequestParams,
    ) -> HandlerFuture<'_, ReadResourceResult> {
        (**self).read_resource(cx, params)
    }
    fn subscribe(&self, uri: &str, on: bool) -> HandlerFuture<'_, ()> {
        (**self).subscribe(uri, on)
    }
    fn subscribable(&self, uri: &str) -> bool {
        (**self).subscribable(uri)
    }
    fn list_prompts(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListPromptsResult> {
        (**self).list_prompts(cx, params)
    }
    fn get_prompt(
        &self,
        cx: Context,
        params: GetPromptRequestParams,
    ) -> HandlerFuture<'_, GetPromptResult> {
        (**self).get_prompt(cx, params)
    }
    fn complete(
        &self,
        cx: Context,
        params: CompleteRequestParams,
    ) -> HandlerFuture<'_, CompleteResult> {
        (**self).complete(cx, params)
    }
    fn list_skills(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListSkillsResult> {
        (**self).list_skills(cx, params)
    }
    fn get_skill(
        &self,
        cx: Context,
        params: GetSkillRequestParams,
    ) -> HandlerFuture<'_, GetSkillResult> {
        (**self).get_skill(cx, params)
    }
}
