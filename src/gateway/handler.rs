//! The gateway's answers: each request of the downstream client becomes
//! the fleet call it stands for, and the fleet's outcome becomes the
//! answer, as faithfully as the protocol allows.

use serde_json::{json, Value};

use super::Gateway;
use crate::protocol::{
    CallToolRequestParams, CallToolResult, GetPromptRequestParams, GetPromptResult, Implementation,
    ListPromptsResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResult, ServerCapabilities, Tool,
};
use crate::server::{paginate, Context, HandlerFuture, ServerError, ServerHandler};
use crate::{CallOptions, Error};

impl Gateway {
    /// A fleet error as the downstream client should see it: the
    /// upstream's own JSON-RPC error as it was, an unknown name as invalid
    /// params, anything else as -32603 naming the server and its state.
    fn upstream_error(&self, server: Option<&str>, e: Error) -> ServerError {
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

    /// Counts a request the handler serves.
    fn count(&self, cx: &Context) {
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
        serde_json::from_value(json!({
            "tools": {"listChanged": true},
            "prompts": {"listChanged": true},
            "resources": {"listChanged": true},
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
            if self.inner.only.is_some() {
                for t in &mut tools {
                    if let Some((_, own)) = self.inner.fleet.resolve_tool(&t.name) {
                        t.name = own;
                    }
                }
            }
            let (tools, next_cursor) = self.page(&tools, &params)?;
            Ok(ListToolsResult {
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
        self.count(&cx);
        Box::pin(async move {
            let _in_flight = self.inner.metrics.start();
            let started = std::time::Instant::now();
            let relay = cx.clone();
            let options = CallOptions::new().on_progress(move |p| {
                relay.progress(p.progress, p.total, p.message.as_deref());
            });
            let arguments = params.arguments.map(Value::Object).unwrap_or(json!({}));
            let fleet = &self.inner.fleet;
            let (server, outcome) = match &self.inner.only {
                Some(only) => {
                    let out = fleet.call_tool_on_with(only, &params.name, arguments, options);
                    (Some(only.clone()), out.await)
                }
                None => {
                    let server = fleet.resolve_tool(&params.name).map(|(s, _)| s);
                    (
                        server,
                        fleet.call_tool_with(&params.name, arguments, options).await,
                    )
                }
            };
            if let Some(server) = &server {
                let calls = self.inner.metrics.server(server);
                calls.record(started.elapsed(), outcome.is_err());
            }
            match outcome {
                Ok(out) => Ok(out.into_inner()),
                Err(e) => Err(self.upstream_error(server.as_deref(), e)),
            }
        })
    }

    fn list_prompts(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListPromptsResult> {
        self.count(&cx);
        Box::pin(async move {
            let mut prompts = self.inner.fleet.list_prompts().await;
            if self.inner.only.is_some() {
                for p in &mut prompts {
                    if let Some((_, own)) = self.inner.fleet.resolve_prompt(&p.name) {
                        p.name = own;
                    }
                }
            }
            let (prompts, next_cursor) = self.page(&prompts, &params)?;
            Ok(ListPromptsResult {
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
            let got = match &self.inner.only {
                Some(only) => match fleet.client(only).await {
                    Ok(client) => client.get_prompt(&params.name, arguments).await,
                    Err(e) => Err(e),
                },
                None => fleet.get_prompt(&params.name, arguments).await,
            };
            got.map_err(|e| self.upstream_error(self.inner.only.as_deref(), e))
        })
    }

    fn list_resources(
        &self,
        cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListResourcesResult> {
        self.count(&cx);
        Box::pin(async move {
            let resources: Vec<_> = self
                .inner
                .fleet
                .list_resources()
                .await
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            let (resources, next_cursor) = self.page(&resources, &params)?;
            Ok(ListResourcesResult {
                resources,
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
            let listed = self.inner.fleet.list_resources().await;
            let Some((server, _)) = listed.iter().find(|(_, r)| r.uri == params.uri) else {
                return Err(ServerError::ResourceNotFound { uri: params.uri });
            };
            self.inner
                .fleet
                .read_resource(server, &params.uri)
                .await
                .map_err(|e| match e {
                    e if e.is_not_found() => ServerError::ResourceNotFound {
                        uri: params.uri.clone(),
                    },
                    e => self.upstream_error(Some(server), e),
                })
        })
    }
}
