//! The server core on its own (no `testing/`): a handler whose tool list
//! comes from elsewhere and changes at runtime, with a call handler that
//! forwards by name, as a gateway's would. Our `Client` talks to it in
//! memory, in both eras: pages, `list_changed`, forwarded calls, and an
//! elicitation the tool asks mid-call, answered by the client's handler.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard::protocol::{
    CallToolRequestParams, CallToolResult, ElicitAction, ElicitRequestFormParams,
    ElicitRequestParams, ElicitResult, ElicitationSchema, Era, Implementation, JsonObject,
    ListToolsResult, PaginatedRequestParams, ProtocolVersion, ServerCapabilities, Tool,
    ToolsCapability, VersionChoice,
};
use switchboard::server::{paginate, Context, HandlerFuture, Server, ServerError, ServerHandler};
use switchboard::{Client, RequestContext, Source};

const ERAS: [(VersionChoice, Era); 2] = [
    (VersionChoice::Auto, Era::Modern),
    (
        VersionChoice::Exact(ProtocolVersion::V2025_11_25),
        Era::Handshake,
    ),
];

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test exceeded its deadline")
}

fn tool(name: &str) -> Tool {
    Tool {
        name: name.into(),
        description: Some(format!("the backend's {name}")),
        input_schema: json!({"type": "object"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ..Default::default()
    }
}

/// Tools listed from a shared table that the test changes while clients
/// are connected; every call is forwarded by name to a "backend" (here a
/// log of what arrived, and one tool that asks the user first).
#[derive(Clone, Default)]
struct Forwarding {
    tools: Arc<Mutex<Vec<Tool>>>,
    forwarded: Arc<Mutex<Vec<(String, JsonObject)>>>,
}

impl ServerHandler for Forwarding {
    fn info(&self) -> Implementation {
        Implementation::new("forwarding", "1.0.0")
    }

    fn capabilities(&self) -> ServerCapabilities {
        ServerCapabilities {
            tools: Some(ToolsCapability {
                list_changed: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn list_tools(
        &self,
        _cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListToolsResult> {
        let tools = self.tools.lock().unwrap().clone();
        Box::pin(async move {
            let (tools, next_cursor) = paginate(&tools, params.cursor.as_deref(), Some(2))?;
            Ok(ListToolsResult {
                tools,
                next_cursor,
                ..Default::default()
            })
        })
    }

    fn call_tool(
        &self,
        cx: Context,
        params: CallToolRequestParams,
    ) -> HandlerFuture<'_, CallToolResult> {
        Box::pin(async move {
            let known = self
                .tools
                .lock()
                .unwrap()
                .iter()
                .any(|t| t.name == params.name);
            if !known {
                return Err(ServerError::invalid_params(format!(
                    "unknown tool: {}",
                    params.name
                )));
            }
            let args = params.arguments.unwrap_or_default();
            self.forwarded
                .lock()
                .unwrap()
                .push((params.name.clone(), args.clone()));
            if params.name != "guarded" {
                return Ok(CallToolResult::structured(json!({
                    "tool": params.name,
                    "args": args,
                })));
            }
            let schema: ElicitationSchema = serde_json::from_value(json!({
                "type": "object",
                "properties": {"ok": {"type": "boolean"}},
                "required": ["ok"],
            }))
            .map_err(|e| ServerError::internal(e.to_string()))?;
            let answer = cx
                .elicit(ElicitRequestParams::Form(ElicitRequestFormParams {
                    message: "Run guarded?".into(),
                    requested_schema: schema,
                    ..Default::default()
                }))
                .await?;
            let ok = answer.action == ElicitAction::Accept
                && answer.content.as_ref().and_then(|c| c.get("ok")) == Some(&json!(true));
            Ok(CallToolResult::from_text(if ok {
                "ran"
            } else {
                "refused"
            }))
        })
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_dynamic_handler_serves_changes_forwards_calls_and_asks_in_both_eras() {
    within(async {
        for (choice, era) in ERAS {
            let handler = Forwarding::default();
            *handler.tools.lock().unwrap() = vec![tool("alpha"), tool("beta"), tool("guarded")];
            let server = Server::new(handler.clone());

            let changes = Arc::new(Mutex::new(0usize));
            let asked = Arc::new(Mutex::new(Vec::<(String, Era)>::new()));
            let (c, a) = (changes.clone(), asked.clone());
            let client = Client::builder(Source::memory(server.clone()))
                .protocol(choice)
                .timeout(Duration::from_secs(10))
                .on_notification(move |n| {
                    if n.method == "notifications/tools/list_changed" {
                        *c.lock().unwrap() += 1;
                    }
                })
                .elicitation(move |params: ElicitRequestParams, ctx: RequestContext| {
                    a.lock()
                        .unwrap()
                        .push((params.message().to_owned(), ctx.era));
                    async move {
                        let content = json!({"ok": true}).as_object().cloned().unwrap_or_default();
                        Ok(ElicitResult::accept(content))
                    }
                })
                .connect()
                .await
                .expect("connect");
            assert_eq!(client.era(), Some(era));
            assert_eq!(
                client.server_info().map(|i| i.name).as_deref(),
                Some("forwarding")
            );

            // Three tools over two pages.
            let names = |tools: Vec<Tool>| tools.into_iter().map(|t| t.name).collect::<Vec<_>>();
            let listed = names(client.list_tools().await.expect("list"));
            assert_eq!(listed, ["alpha", "beta", "guarded"], "{era:?}");

            // The table changes behind the server; clients are told.
            if era == Era::Modern {
                // The listen that carries list changes is set up on connect.
                wait_for("the listen", || server.connections() == 1).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            handler.tools.lock().unwrap().push(tool("late"));
            server.notifier().tools_changed();
            wait_for("list_changed", || *changes.lock().unwrap() > 0).await;
            let mut listed = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(5);
            while !listed.iter().any(|n| n == "late") {
                assert!(Instant::now() < deadline, "{era:?}: still {listed:?}");
                listed = names(client.list_tools().await.expect("list"));
            }
            assert_eq!(listed.len(), 4, "{era:?}: {listed:?}");

            // A call is forwarded by name, arguments intact.
            let out = client
                .call_tool("late", json!({"x": 1}))
                .await
                .expect("call");
            assert_eq!(
                out.structured(),
                Some(&json!({"tool": "late", "args": {"x": 1}}))
            );
            let forwarded = handler.forwarded.lock().unwrap().clone();
            assert_eq!(forwarded.last().map(|(n, _)| n.as_str()), Some("late"));
            assert_eq!(
                forwarded.last().map(|(_, a)| Value::Object(a.clone())),
                Some(json!({"x": 1}))
            );

            // The tool asks the user mid-call; the client's handler answers,
            // through whichever mechanism the era has.
            let out = client
                .call_tool("guarded", json!({}))
                .await
                .expect("guarded");
            assert_eq!(out.text(), "ran", "{era:?}");
            assert_eq!(
                asked.lock().unwrap().clone(),
                [("Run guarded?".to_owned(), era)]
            );

            // A tool that is gone is a clear protocol error.
            handler.tools.lock().unwrap().retain(|t| t.name != "alpha");
            let err = client
                .call_tool("alpha", json!({}))
                .await
                .expect_err("alpha is gone");
            assert!(err.to_string().contains("unknown tool: alpha"), "{err}");
            client.close().await.expect("close");
        }
    })
    .await
}
