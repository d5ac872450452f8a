//! The gateway's answers: each request of the downstream client becomes
//! the fleet call it stands for, and the fleet's outcome becomes the
//! answer, as faithfully as the protocol allows.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{held, Gateway};
use crate::protocol::{
    CallToolRequestParams, CallToolResult, CancelTaskResult, CompleteRequestParams, CompleteResult,
    EmptyResult, Era, GetPromptRequestParams, GetPromptResult, GetTaskResult, Implementation,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResult, Reference,
    ServerCapabilities, TaskIdParams, Tool, UpdateTaskParams,
};
use crate::server::{paginate, Context, HandlerFuture, ServerError, ServerHandler, ToolCall};
use crate::{CallOptions, Error};

/// What the gateway seals into the `requestState` of a relayed round: the
/// upstream it came from and that upstream's own `requestState` (a
/// 2026-07-28 upstream's round), or the id of the call it holds (a
/// handshake-era upstream's ask, see `held.rs`).
#[derive(Serialize, Deserialize)]
pub(super) struct Relayed {
    /// The upstream server.
    s: String,
    /// Its `requestState`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<String>,
    /// The held call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) h: Option<String>,
}

impl Gateway {
    /// A fleet error as the downstream client should see it: the
    /// upstream's own JSON-RPC error as it was, an unknown name as invalid
    /// params, anything else as -32603 naming the server and its state.
    pub(super) fn upstream_error(&self, server: Option<&str>, e: Error) -> ServerError {
        if let Error::Protocol {
            code,
            message,
            data,
        } = e
        {
            return ServerError::Protocol(crate::protocol::ErrorObject {
                code,
                message,
                data,
            });
        }
        if e.is_not_found() || e.is_invalid_argument() {
            return ServerError::InvalidParams(e.to_string());
        }
        let Some(server) = server else {
            return ServerError::Internal(e.to_string());
        };
        let state = self
            .inner
            .fleet
            .health()
            .into_iter()
            .find(|h| h.name == server)
            .map_or("unknown", |h| h.state.as_str());
        ServerError::Protocol(crate::protocol::ErrorObject {
            code: crate::protocol::codes::INTERNAL_ERROR,
            message: format!("server {server} is {state}: {e}"),
            data: Some(json!({"server": server, "state": state})),
        })
    }

    /// What the `requestState` of `cx`'s retry says of its round, checked
    /// to be for `server`.
    pub(super) fn relayed(
        &self,
        cx: &Context,
        server: &str,
    ) -> Result<Option<Relayed>, ServerError> {
        let Some(state) = cx.relayed_state() else {
            return Ok(None);
        };
        let relayed: Relayed = serde_json::from_value(state)
            .map_err(|_| ServerError::invalid_params("invalid requestState: not the gateway's"))?;
        if relayed.s != server {
            return Err(ServerError::invalid_params(
                "invalid requestState: minted for another server",
            ));
        }
        Ok(Some(relayed))
    }

    /// The options of the upstream call made for downstream request `cx`
    /// on `server`: progress relayed, the log level asked for, the trace
    /// context passed on, the tasks extension declared as the client did,
    /// and the rounds relayed (2026-07-28 client: passed on as they come,
    /// the retry resumed; handshake-era client: its asks become requests).
    pub(super) fn upstream_options(&self, cx: &Context, relayed: Option<Relayed>) -> CallOptions {
        let relay = cx.clone();
        let mut options = CallOptions::new().on_progress(move |p| {
            relay.progress(p.progress, p.total, p.message.as_deref());
        });
        if let Some(level) = cx.log_level() {
            options = options.log_level(level);
        }
        options = options.declare_asks(&self.relay().declared_for(cx));
        // The call may run on a task of its own (held for a round), which
        // the request's trace scope does not reach.
        if let Some(trace) = crate::trace::current() {
            options = options.trace_context(trace);
        }
        if cx.era() == Era::Modern && !super::tasks::accepts_tasks(cx) {
            // Faithful: a tool that needs a task is refused for a client
            // that takes none, as the upstream says.
            options = options.declare_tasks(false);
        }
        match cx.era() {
            Era::Modern => {
                options = options.relay_input_required();
                if let Some(relayed) = relayed {
                    options = options.resume(cx.input_responses(), relayed.r);
                }
            }
            Era::Handshake => options = options.handlers(self.relay().call_handlers(cx)),
        }
        options
    }

    /// The era `server` speaks, once it is connected.
    pub(super) async fn upstream_era(&self, server: &str) -> Option<Era> {
        self.inner.fleet.client(server).await.ok()?.era()
    }

    /// Runs the upstream call of tool `name` on a task of its own, so that
    /// it can outlive the request (held for a round).
    fn spawn_call(
        &self,
        server: &str,
        name: String,
        arguments: Value,
        options: CallOptions,
    ) -> held::Call {
        let fleet = self.inner.fleet.clone();
        let only = self.inner.only.clone();
        let server = server.to_owned();
        held::Call(tokio::spawn(async move {
            match only {
                Some(_) => {
                    fleet
                        .call_tool_on_with(&server, &name, arguments, options)
                        .await
                }
                None => fleet.call_tool_with(&name, arguments, options).await,
            }
            .map(crate::ToolOutput::into_inner)
        }))
    }

    /// An upstream call's failure for downstream request `cx`: a relayed
    /// round becomes the downstream's round, the rest as
    /// [`Gateway::upstream_error`] says.
    pub(super) fn failed(&self, cx: &Context, server: &str, e: Error) -> ServerError {
        match e {
            Error::InputRequired {
                input_requests,
                request_state,
                ..
            } => {
                let relayed = Relayed {
                    s: server.to_owned(),
                    r: request_state,
                    h: None,
                };
                let state = serde_json::to_value(relayed).unwrap_or(Value::Null);
                cx.relay_round(input_requests, state)
            }
            e => self.upstream_error(Some(server), e),
        }
    }

    /// With `--unprefixed`, gives each listed name back its server's own
    /// (`resolve` maps a namespaced name to (server, own name)).
    fn own_names<'a>(
        &self,
        names: impl Iterator<Item = &'a mut String>,
        resolve: impl Fn(&str) -> Option<(String, String)>,
    ) {
        if self.inner.only.is_none() {
            return;
        }
        for name in names {
            if let Some((_, own)) = resolve(name) {
                *name = own;
            }
        }
    }

    /// `tools/call` passed on to the upstream that owns the tool, its
    /// result awaited (the fleet follows a task the upstream makes).
    pub(super) async fn call_tool_plain(
        &self,
        cx: Context,
        params: CallToolRequestParams,
    ) -> Result<CallToolResult, ServerError> {
        self.count(&cx);
        let _in_flight = self.inner.metrics.start();

        let started = std::time::Instant::now();
        let arguments = params.arguments.map(Value::Object).unwrap_or(json!({}));
        let fleet = &self.inner.fleet;
        let server = match &self.inner.only {
            Some(only) => only.clone(),
            None => match fleet.resolve_tool(&params.name) {
                Some((server, _)) => server,
                // Not listed (yet): the fleet says why, by name.
                None => {
                    return match fleet.call_tool(&params.name, arguments).await {
                        Ok(out) => Ok(out.into_inner()),
                        Err(e) => Err(self.upstream_error(None, e)),
                    }
                }
            },
        };
        let relayed = self.relayed(&cx, &server)?;
        let held = self.relay().held();
        let outcome = if let Some(id) = relayed.as_ref().and_then(|r| r.h.as_deref()) {
            // The retry of a call held for this client's answer.
            let running = held::resume(held, &cx, &server, id)?;
            held::drive(held, &cx, &server, running).await?
        } else {
            let options = self.upstream_options(&cx, relayed);
            let modern = cx.era() == Era::Modern;
            if modern && self.upstream_era(&server).await == Some(Era::Handshake) {
                // Its asks come as requests mid-call: hold the call
                // while this client answers them in rounds.
                let (asks, asked) = tokio::sync::mpsc::channel(1);
                let route = self.relay().enter_holding(&server, &cx, asks);
                let call = self.spawn_call(&server, params.name, arguments, options);
                let running = held::Running {
                    call,
                    asks: asked,
                    rounds: 0,
                    route,
                };
                held::drive(held, &cx, &server, running).await?
            } else {
                let _route = self.relay().enter(&server, &cx);
                match &self.inner.only {
                    Some(only) => {
                        fleet
                            .call_tool_on_with(only, &params.name, arguments, options)
                            .await
                    }
                    None => fleet.call_tool_with(&params.name, arguments, options).await,
                }
                .map(crate::ToolOutput::into_inner)
            }
        };
        let calls = self.inner.metrics.server(&server);
        let failed = outcome
            .as_ref()
            .is_err_and(|e| !matches!(e, Error::InputRequired { .. }));
        calls.record(started.elapsed(), failed);
        outcome.map_err(|e| self.failed(&cx, &server, e))
    }

    /// Counts a request the handler serves.
    pub(super) fn count(&self, cx: &Context) {
        self.inner.metrics.request(cx.method(), cx.era());
    }

    fn page<T: Clone>(
        &self,
        items: &[T],
        params: &PaginatedRequestParams,
    ) -> Result<(Vec<T>, Option<String>), ServerError> {
        paginate(items, params.cursor.as_deref(), Some(self.inner.page_size))
    }
}

impl ServerHandler for Gateway {
    fn info(&self) -> Implementation {
        self.inner.info.clone()
    }

    fn instructions(&self) -> Option<String> {
        let servers = self.inner.fleet.server_names();
        Some(format!(
            "A Switchboard gateway over {} MCP servers ({}). Tool and prompt names are \
             <server>_<name>.",
            servers.len(),
            servers.join(", ")
        ))
    }

    fn capabilities(&self) -> ServerCapabilities {
        // Members come and go, so every list may change.
        // Logs, completions and subscriptions are passed to the upstream
        // that owns them; one that has none answers for itself.
        serde_json::from_value(json!({
            "tools": {"listChanged": true},
            "prompts": {"listChanged": true},
            "resources": {"listChanged": true, "subscribe": true},
            "logging": {},
            "completions": {},
            "extensions": {crate::protocol::TASKS_EXTENSION: {}},
        }))
        .unwrap_or_default()
    }

    fn list_tools(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListToolsResult> {
        self.count(&cx);
        Box::pin(async move {
            let mut tools = self.inner.fleet.list_tools().await;
            self.own_names(tools.iter_mut().map(|t| &mut t.name), |n| {
                self.inner.fleet.resolve_tool(n)
            });
            let (tools, next_cursor) = self.page(&tools, &params)?;
            let (ttl_ms, cache_scope) = self.freshness("tools/list").await;
            Ok(ListToolsResult {
                ttl_ms,
                cache_scope,
                tools,
                next_cursor,
                ..Default::default()
            })
        })
    }

    fn tool(&self, name: &str) -> Option<Tool> {
        let Some(only) = &self.inner.only else {
            return self.inner.fleet.tool(name);
        };
        let mut tool = self
            .inner
            .fleet
            .tool(&self.inner.fleet.tool_name(only, name)?)?;
        tool.name = name.to_owned();
        Some(tool)
    }

    fn call_tool(
        &self,
        cx: Context,
        params: CallToolRequestParams,
    ) -> HandlerFuture<'_, CallToolResult> {
        Box::pin(self.call_tool_plain(cx, params))
    }

    fn call_tool_or_task(
        &self,
        cx: Context,
        params: CallToolRequestParams,
    ) -> HandlerFuture<'_, ToolCall> {
        Box::pin(self.call_tool_or_task_upstream(cx, params))
    }

    fn get_task(&self, cx: Context, params: TaskIdParams) -> HandlerFuture<'_, GetTaskResult> {
        Box::pin(self.get_task_upstream(cx, params))
    }

    fn update_task(&self, cx: Context, params: UpdateTaskParams) -> HandlerFuture<'_, EmptyResult> {
        Box::pin(self.update_task_upstream(cx, params))
    }

    fn cancel_task(
        &self,
        cx: Context,
        params: TaskIdParams,
    ) -> HandlerFuture<'_, CancelTaskResult> {
        Box::pin(self.cancel_task_upstream(cx, params))
    }

    fn list_prompts(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListPromptsResult> {
        self.count(&cx);
        Box::pin(async move {
            let mut prompts = self.inner.fleet.list_prompts().await;
            self.own_names(prompts.iter_mut().map(|p| &mut p.name), |n| {
                self.inner.fleet.resolve_prompt(n)
            });
            let (prompts, next_cursor) = self.page(&prompts, &params)?;
            let (ttl_ms, cache_scope) = self.freshness("prompts/list").await;
            Ok(ListPromptsResult {
                ttl_ms,
                cache_scope,
                prompts,
                next_cursor,
                ..Default::default()
            })
        })
    }

    fn get_prompt(
        &self,
        cx: Context,
        params: GetPromptRequestParams,
    ) -> HandlerFuture<'_, GetPromptResult> {
        self.count(&cx);
        Box::pin(async move {
            let arguments = params.arguments.unwrap_or_default();
            let fleet = &self.inner.fleet;
            let (server, prompt) = match &self.inner.only {
                Some(only) => (only.clone(), params.name.clone()),
                None => match fleet.resolve_prompt(&params.name) {
                    Some(found) => found,
                    // Not listed (yet): the fleet says why, by name.
                    None => {
                        return fleet
                            .get_prompt(&params.name, arguments)
                            .await
                            .map_err(|e| self.upstream_error(None, e))
                    }
                },
            };
            let options = self.upstream_options(&cx, self.relayed(&cx, &server)?);
            let _relayed = self.relay().enter(&server, &cx);
            let got = match fleet.client(&server).await {
                Ok(client) => client.get_prompt_with(&prompt, arguments, options).await,
                Err(e) => Err(e),
            };
            got.map_err(|e| self.failed(&cx, &server, e))
        })
    }

    fn list_resources(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListResourcesResult> {
        self.count(&cx);
        Box::pin(async move {
            let resources = self.served_resources().await;
            let (resources, next_cursor) = self.page(&resources, &params)?;
            let (ttl_ms, cache_scope) = self.freshness("resources/list").await;
            Ok(ListResourcesResult {
                ttl_ms,
                cache_scope,
                resources,
                next_cursor,
                ..Default::default()
            })
        })
    }

    fn list_resource_templates(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListResourceTemplatesResult> {
        self.count(&cx);
        Box::pin(async move {
            let templates: Vec<_> = self.templates().await.into_iter().map(|(_, t)| t).collect();
            let (resource_templates, next_cursor) = self.page(&templates, &params)?;
            let (ttl_ms, cache_scope) = self.freshness("resources/templates/list").await;
            Ok(ListResourceTemplatesResult {
                ttl_ms,
                cache_scope,
                resource_templates,
                next_cursor,
                ..Default::default()
            })
        })
    }

    fn read_resource(
        &self,
        cx: Context,
        params: ReadResourceRequestParams,
    ) -> HandlerFuture<'_, ReadResourceResult> {
        self.count(&cx);
        Box::pin(async move {
            let (server, upstream_uri) = self.resource_owner(&params.uri).await?;
            let options = self.upstream_options(&cx, self.relayed(&cx, &server)?);
            let _relayed = self.relay().enter(&server, &cx);
            let read = match self.inner.fleet.client(&server).await {
                Ok(client) => client.read_resource_with(&upstream_uri, options).await,
                Err(e) => Err(e),
            };
            let mut read = read.map_err(|e| match e {
                e if e.is_not_found() => ServerError::ResourceNotFound {
                    uri: params.uri.clone(),
                },
                e => self.failed(&cx, &server, e),
            })?;
            // Contents name the URI the client asked for.
            if upstream_uri != params.uri {
                for content in &mut read.contents {
                    if content.uri() == upstream_uri {
                        content.set_uri(params.uri.clone());
                    }
                }
            }
            Ok(read)
        })
    }

    fn subscribe(&self, uri: &str, on: bool) -> HandlerFuture<'_, ()> {
        let uri = uri.to_owned();
        Box::pin(async move {
            let (server, upstream_uri) = self.resource_owner(&uri).await?;
            let client = self
                .inner
                .fleet
                .client(&server)
                .await
                .map_err(|e| self.upstream_error(Some(&server), e))?;
            let done = if on {
                client.subscribe_resource(&upstream_uri).await
            } else {
                client.unsubscribe_resource(&upstream_uri).await
            };
            done.map_err(|e| self.upstream_error(Some(&server), e))
        })
    }

    fn complete(
        &self,
        cx: Context,
        params: CompleteRequestParams,
    ) -> HandlerFuture<'_, CompleteResult> {
        self.count(&cx);
        Box::pin(async move {
            let (server, reference) = match params.reference {
                Reference::Prompt(mut prompt) => {
                    let (server, own) = match &self.inner.only {
                        Some(only) => (only.clone(), prompt.name.clone()),
                        None => self
                            .inner
                            .fleet
                            .resolve_prompt(&prompt.name)
                            .ok_or_else(|| {
                                ServerError::invalid_params(format!(
                                    "no prompt named {}",
                                    prompt.name
                                ))
                            })?,
                    };
                    prompt.name = own;
                    (server, Reference::Prompt(prompt))
                }
                Reference::Resource(template) => {
                    let server = match &self.inner.only {
                        Some(only) => only.clone(),
                        None => self
                            .templates()
                            .await
                            .into_iter()
                            .find(|(_, t)| t.uri_template == template.uri)
                            .map(|(server, _)| server)
                            .ok_or_else(|| {
                                ServerError::invalid_params(format!(
                                    "no resource template {}",
                                    template.uri
                                ))
                            })?,
                    };
                    (server, Reference::Resource(template))
                }
            };
            let reference = serde_json::to_value(reference)
                .map_err(|e| ServerError::internal(e.to_string()))?;
            let context = params.context.and_then(|c| c.arguments).map(|args| {
                args.into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect()
            });
            let client = self
                .inner
                .fleet
                .client(&server)
                .await
                .map_err(|e| self.upstream_error(Some(&server), e))?;
            client
                .complete(
                    reference,
                    &params.argument.name,
                    &params.argument.value,
                    context,
                )
                .await
                .map_err(|e| self.upstream_error(Some(&server), e))
        })
    }

    fn subscribable(&self, uri: &str) -> bool {
        // A 2026-07-28 listen: subscribe upstream too (its updates come
        // back through the relay). Only what an upstream lists is agreed.
        let gateway = self.clone();
        let uri = uri.to_owned();
        tokio::spawn(async move {
            if let Err(e) = gateway.subscribe(&uri, true).await {
                tracing::debug!(%uri, error = %e, "upstream subscription refused");
            }
        });
        true
    }
}
