//! `@modelcontextprotocol/server-everything` over stdio: a handshake-era
//! server (it answers `server/discover` with -32601), exercised end to end:
//! every tool, resources and templates, prompts, completion, the server's
//! sampling / elicitation / roots requests, progress, logging, ping, close.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use switchboard::protocol::{
    codes, ContentBlock, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, Era, LoggingLevel, LoggingMessageNotificationParams, Role, TaskSupport,
};
use switchboard::{
    Client, ClientBuilder, ElicitationHandler, Error, HandlerError, ProtocolVersion,
    RequestContext, ServerNotification,
};

const SAMPLED_TEXT: &str = "Sampled reply from switchboard: forty-two";
const SAMPLED_MODEL: &str = "switchboard-test-model";
const ROOTS: [&str; 2] = [
    "file:///tmp/switchboard-everything-a",
    "file:///tmp/switchboard-everything-b",
];

/// Answers form elicitations with fixed values and consents to URLs.
#[derive(Default)]
struct Elicitor {
    forms: Mutex<Vec<String>>,
    urls: Mutex<Vec<(String, Option<String>)>>,
}

struct SharedElicitor(Arc<Elicitor>);

impl ElicitationHandler for SharedElicitor {
    fn elicit(
        &self,
        params: ElicitRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<ElicitResult, HandlerError>> {
        assert_eq!(ctx.era, Era::Handshake);
        let answer = match params {
            ElicitRequestParams::Form(form) => {
                self.0.forms.lock().unwrap().push(form.message.clone());
                let mut values = Map::new();
                values.insert("name".into(), json!("Ada Lovelace"));
                values.insert("check".into(), json!(true));
                values.insert("email".into(), json!("ada@example.com"));
                values.insert("integer".into(), json!(7));
                ElicitResult::accept(values)
            }
            ElicitRequestParams::Url(url) => {
                self.0
                    .urls
                    .lock()
                    .unwrap()
                    .push((url.url.clone(), url.elicitation_id.clone()));
                ElicitResult::accept_url()
            }
        };
        Box::pin(async move { Ok(answer) })
    }

    fn supports_url(&self) -> bool {
        true
    }
}

#[derive(Default)]
struct Seen {
    sampling: Mutex<Vec<CreateMessageRequestParams>>,
    logs: Mutex<Vec<LoggingMessageNotificationParams>>,
    notifications: Mutex<Vec<ServerNotification>>,
    elicitor: Arc<Elicitor>,
}

/// A client with every handler, so the gated tools get registered.
fn full_client(marker: &str, seen: &Arc<Seen>) -> ClientBuilder {
    let s = seen.clone();
    let l = seen.clone();
    let n = seen.clone();
    common::everything(marker)
        .sampling(
            move |params: CreateMessageRequestParams, ctx: RequestContext| {
                assert_eq!(ctx.era, Era::Handshake);
                s.sampling.lock().unwrap().push(params);
                async { Ok(CreateMessageResult::text(SAMPLED_MODEL, SAMPLED_TEXT)) }
            },
        )
        .elicitation(SharedElicitor(seen.elicitor.clone()))
        .roots(ROOTS)
        .on_log(move |p| l.logs.lock().unwrap().push(p.clone()))
        .on_notification(move |n2| n.notifications.lock().unwrap().push(n2.clone()))
}

async fn connect(builder: ClientBuilder) -> Client {
    let client = builder
        .connect()
        .await
        .expect("connect to server-everything");
    // Auto negotiation: the discover probe gets -32601, so the handshake.
    assert_eq!(
        client.protocol_version(),
        Some(ProtocolVersion::V2025_11_25)
    );
    assert_eq!(client.era(), Some(Era::Handshake));
    let info = client.server_info().expect("server info");
    assert_eq!(info.name, "mcp-servers/everything");
    assert_eq!(info.version, "2.0.0");
    assert!(client
        .instructions()
        .is_some_and(|i| i.contains("Everything Server")));
    client
}

async fn finish(client: Client, marker: &str) {
    client.ping().await.expect("ping before close");
    client.close().await.expect("close");
    assert!(client.is_closed());
    drop(client);
    common::assert_no_process(marker, Duration::from_secs(5)).await;
}

const BASE_TOOLS: [&str; 13] = [
    "echo",
    "get-annotated-message",
    "get-env",
    "get-resource-links",
    "get-resource-reference",
    "get-structured-content",
    "get-sum",
    "get-tiny-image",
    "gzip-file-as-resource",
    "simulate-research-query",
    "toggle-simulated-logging",
    "toggle-subscriber-updates",
    "trigger-long-running-operation",
];

const GATED_TOOLS: [&str; 4] = [
    "get-roots-list",
    "trigger-elicitation-request",
    "trigger-sampling-request",
    "trigger-url-elicitation",
];

/// The gated tools register after `initialized` (one list_changed each):
/// poll until they are all listed.
async fn wait_for_gated_tools(client: &Client) -> Vec<switchboard::protocol::Tool> {
    common::eventually(
        "gated tools registered",
        Duration::from_secs(10),
        || async {
            let tools = client.list_tools().await.expect("list_tools");
            GATED_TOOLS
                .iter()
                .all(|g| tools.iter().any(|t| t.name == *g))
                .then_some(tools)
        },
    )
    .await
}

fn texts(out: &switchboard::ToolOutput) -> Vec<&str> {
    out.content.iter().filter_map(|b| b.as_text()).collect()
}

async fn call(client: &Client, name: &str, args: Value) -> switchboard::ToolOutput {
    let out = client
        .call_tool(name, args.clone())
        .await
        .unwrap_or_else(|e| panic!("{name} {args}: {e}"));
    assert!(!out.is_error(), "{name} {args} answered isError: {out:?}");
    out
}

#[derive(Debug, Deserialize, PartialEq)]
struct Weather {
    temperature: f64,
    conditions: String,
    humidity: f64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool() {
    common::bounded(async {
        let marker = common::marker("everything-tools");
        let seen = Arc::new(Seen::default());
        let client = connect(full_client(&marker, &seen)).await;

        let tools = wait_for_gated_tools(&client).await;
        let listed: BTreeSet<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        let expected: BTreeSet<&str> = BASE_TOOLS.iter().chain(&GATED_TOOLS).copied().collect();
        // No `-async` variants: we do not declare the tasks capability.
        assert_eq!(listed, expected);
        let list_changed = seen
            .notifications
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n.method == "notifications/tools/list_changed")
            .count();
        assert!(list_changed >= 1, "tools/list_changed reached on_notification");
        for tool in &tools {
            assert_eq!(
                tool.input_schema.get("type"),
                Some(&json!("object")),
                "{}",
                tool.name
            );
        }

        let mut called: BTreeSet<&str> = BTreeSet::new();

        // `simulate-research-query` needs task augmentation (taskSupport
        // "required"), which this client does not do yet; skipping it is
        // the server's own advice. Check that is why.
        let research = tools
            .iter()
            .find(|t| t.name == "simulate-research-query")
            .unwrap();
        assert_eq!(
            research.execution.as_ref().and_then(|e| e.task_support.clone()),
            Some(TaskSupport::Required)
        );
        called.insert("simulate-research-query");

        let out = call(&client, "echo", json!({"message": "hi from switchboard"})).await;
        assert_eq!(texts(&out), ["Echo: hi from switchboard"]);
        called.insert("echo");

        let out = call(
            &client,
            "get-annotated-message",
            json!({"messageType": "error", "includeImage": true}),
        )
        .await;
        assert_eq!(out.content.len(), 2, "{out:?}");
        assert_eq!(out.content[0].as_text(), Some("Error: Operation failed"));
        let ann = out.content[0].annotations().expect("annotated text");
        assert_eq!(ann.priority, Some(1.0));
        assert_eq!(ann.audience, Some(vec![Role::User, Role::Assistant]));
        assert_eq!(out.content[1].kind(), "image");
        assert_eq!(out.content[1].annotations().unwrap().priority, Some(0.5));
        called.insert("get-annotated-message");

        let out = call(&client, "get-env", json!({})).await;
        let env: Map<String, Value> =
            serde_json::from_str(&out.text()).expect("get-env returns the env as JSON");
        assert_eq!(env.get(common::MARKER_VAR), Some(&json!(marker)));
        assert!(
            !env.contains_key("CARGO_PKG_NAME"),
            "only allowlisted variables are inherited, got {:?}",
            env.keys().collect::<Vec<_>>()
        );
        called.insert("get-env");

        let out = call(&client, "get-resource-links", json!({"count": 4})).await;
        assert_eq!(
            out.content[0].as_text(),
            Some("Here are 4 resource links to resources available in this server:")
        );
        let links: Vec<(String, String, Option<String>)> = out.content[1..]
            .iter()
            .map(|b| match b {
                ContentBlock::ResourceLink(l) => (l.uri.clone(), l.name.clone(), l.mime_type.clone()),
                other => panic!("expected resource_link, got {other:?}"),
            })
            .collect();
        let plain = Some("text/plain".to_owned());
        assert_eq!(
            links,
            [
                ("demo://resource/dynamic/blob/1".into(), "Blob Resource 1".into(), plain.clone()),
                ("demo://resource/dynamic/text/2".into(), "Text Resource 2".into(), plain.clone()),
                ("demo://resource/dynamic/blob/3".into(), "Blob Resource 3".into(), plain.clone()),
                ("demo://resource/dynamic/text/4".into(), "Text Resource 4".into(), plain.clone()),
            ]
        );
        called.insert("get-resource-links");

        let out = call(
            &client,
            "get-resource-reference",
            json!({"resourceType": "Blob", "resourceId": 3}),
        )
        .await;
        assert_eq!(out.content.len(), 3);
        assert_eq!(
            out.content[0].as_text(),
            Some("Returning resource reference for Resource 3:")
        );
        match &out.content[1] {
            ContentBlock::Resource(r) => {
                assert_eq!(r.resource.uri(), "demo://resource/dynamic/blob/3");
                let bytes = common::b64decode(r.resource.as_blob().expect("a blob"));
                let text = String::from_utf8(bytes).unwrap();
                assert!(
                    text.starts_with("Resource 3: This is a base64 blob created at"),
                    "{text}"
                );
            }
            other => panic!("expected an embedded resource, got {other:?}"),
        }
        let out = call(
            &client,
            "get-resource-reference",
            json!({"resourceType": "Text", "resourceId": 2}),
        )
        .await;
        match &out.content[1] {
            ContentBlock::Resource(r) => {
                assert_eq!(r.resource.uri(), "demo://resource/dynamic/text/2");
                assert!(r
                    .resource
                    .as_text()
                    .expect("text")
                    .starts_with("Resource 2: This is a plaintext resource created at"));
            }
            other => panic!("expected an embedded resource, got {other:?}"),
        }
        called.insert("get-resource-reference");

        let out = call(&client, "get-structured-content", json!({"location": "Chicago"})).await;
        let expected_weather = json!({"temperature": 36, "conditions": "Light rain / drizzle", "humidity": 82});
        assert_eq!(out.structured(), Some(&expected_weather));
        let schema = tools
            .iter()
            .find(|t| t.name == "get-structured-content")
            .and_then(|t| t.output_schema.clone())
            .expect("outputSchema");
        let validator =
            jsonschema::validator_for(&Value::Object(schema)).expect("a usable outputSchema");
        assert!(validator.is_valid(out.structured().unwrap()));
        assert!(!validator.is_valid(&json!({"temperature": "hot"})));
        assert_eq!(
            out.data::<Weather>().expect("decode"),
            Weather {
                temperature: 36.0,
                conditions: "Light rain / drizzle".into(),
                humidity: 82.0
            }
        );
        // The backward-compatible text block carries the same JSON.
        assert_eq!(
            serde_json::from_str::<Value>(&out.text()).unwrap(),
            expected_weather
        );
        called.insert("get-structured-content");

        let out = call(&client, "get-sum", json!({"a": 40, "b": 2})).await;
        assert_eq!(texts(&out), ["The sum of 40 and 2 is 42."]);
        called.insert("get-sum");

        let out = call(&client, "get-tiny-image", json!({})).await;
        let kinds: Vec<&str> = out.content.iter().map(|b| b.kind()).collect();
        assert_eq!(kinds, ["text", "image", "text"]);
        match &out.content[1] {
            ContentBlock::Image(img) => {
                assert_eq!(img.mime_type, "image/png");
                assert!(common::b64decode(&img.data).starts_with(common::PNG_MAGIC));
            }
            other => panic!("expected image, got {other:?}"),
        }
        called.insert("get-tiny-image");

        // A data: URI, so nothing is fetched from the network.
        let payload = "hello from switchboard\n".repeat(20);
        let data_uri = format!(
            "data:text/plain;base64,{}",
            common::b64encode(payload.as_bytes())
        );
        let out = call(
            &client,
            "gzip-file-as-resource",
            json!({"name": "sb-test.txt.gz", "data": data_uri, "outputType": "resourceLink"}),
        )
        .await;
        let link = match &out.content[..] {
            [ContentBlock::ResourceLink(l)] => l.clone(),
            other => panic!("expected one resource_link, got {other:?}"),
        };
        assert_eq!(link.uri, "demo://resource/session/sb-test.txt.gz");
        assert_eq!(link.mime_type.as_deref(), Some("application/gzip"));
        let read = client
            .read_resource(&link.uri)
            .await
            .expect("read the gzip session resource");
        let gz = common::b64decode(read.contents[0].as_blob().expect("gzip blob"));
        assert_eq!(&gz[..2], b"\x1f\x8b", "gzip magic");
        let out = call(
            &client,
            "gzip-file-as-resource",
            json!({"name": "sb-embedded.txt.gz", "data": data_uri, "outputType": "resource"}),
        )
        .await;
        match &out.content[..] {
            [ContentBlock::Resource(r)] => {
                assert_eq!(r.resource.uri(), "demo://resource/session/sb-embedded.txt.gz");
                assert_eq!(r.resource.mime_type(), Some("application/gzip"));
                let gz = common::b64decode(r.resource.as_blob().expect("blob"));
                assert_eq!(&gz[..2], b"\x1f\x8b");
            }
            other => panic!("expected one embedded resource, got {other:?}"),
        }
        called.insert("gzip-file-as-resource");

        for (tool, on, off) in [
            (
                "toggle-simulated-logging",
                "Started simulated, random-leveled logging",
                "Stopped simulated logging",
            ),
            (
                "toggle-subscriber-updates",
                "Started simulated resource updated notifications",
                "Stopped simulated resource updates",
            ),
        ] {
            let started = call(&client, tool, json!({})).await.text();
            assert!(started.starts_with(on), "{tool}: {started}");
            let stopped = call(&client, tool, json!({})).await.text();
            assert!(stopped.starts_with(off), "{tool}: {stopped}");
            called.insert(tool);
        }

        // Progress, through a per-call callback.
        type Step = (f64, Option<f64>);
        let progress: Arc<Mutex<Vec<Step>>> = Arc::default();
        let sink = progress.clone();
        let out = client
            .call_tool_with(
                "trigger-long-running-operation",
                json!({"duration": 1, "steps": 4}),
                switchboard::CallOptions::new()
                    .on_progress(move |p| sink.lock().unwrap().push((p.progress, p.total))),
            )
            .await
            .expect("long running operation");
        assert_eq!(
            texts(&out),
            ["Long running operation completed. Duration: 1 seconds, Steps: 4."]
        );
        assert_eq!(
            *progress.lock().unwrap(),
            [(1.0, Some(4.0)), (2.0, Some(4.0)), (3.0, Some(4.0)), (4.0, Some(4.0))]
        );
        called.insert("trigger-long-running-operation");

        // The server asks us: sampling.
        let out = call(
            &client,
            "trigger-sampling-request",
            json!({"prompt": "what is six times seven?", "maxTokens": 33}),
        )
        .await;
        let text = out.text();
        assert!(text.starts_with("LLM sampling result:"), "{text}");
        assert!(text.contains(SAMPLED_TEXT), "our reply comes back: {text}");
        assert!(text.contains(SAMPLED_MODEL), "{text}");
        {
            let sampling = seen.sampling.lock().unwrap();
            assert_eq!(sampling.len(), 1);
            let p = &sampling[0];
            assert_eq!(p.max_tokens, 33);
            assert_eq!(p.system_prompt.as_deref(), Some("You are a helpful test server."));
            assert_eq!(p.temperature, Some(0.7));
            assert_eq!(
                p.messages[0].content.text(),
                "Resource trigger-sampling-request context: what is six times seven?"
            );
        }
        called.insert("trigger-sampling-request");

        // Elicitation (form): our accepted values come back.
        let out = call(&client, "trigger-elicitation-request", json!({})).await;
        let all = texts(&out);
        assert_eq!(all[0], "✅ User provided the requested information!");
        assert_eq!(
            all[1],
            "User inputs:\n- Name: Ada Lovelace\n- Agreed to terms: true\n- Email: ada@example.com\n- Favorite Integer: 7"
        );
        assert!(all[2].contains("\"action\": \"accept\""), "{}", all[2]);
        assert_eq!(
            *seen.elicitor.forms.lock().unwrap(),
            ["Please provide inputs for the following fields:"]
        );
        called.insert("trigger-elicitation-request");

        // Elicitation (URL mode).
        let out = call(
            &client,
            "trigger-url-elicitation",
            json!({"url": "https://example.com/consent", "elicitationId": "sb-elicit-1"}),
        )
        .await;
        assert_eq!(
            texts(&out)[0],
            "✅ User completed the URL elicitation flow.\nElicitation ID: sb-elicit-1\nURL: https://example.com/consent"
        );
        assert_eq!(
            *seen.elicitor.urls.lock().unwrap(),
            [(
                "https://example.com/consent".to_owned(),
                Some("sb-elicit-1".to_owned())
            )]
        );
        // Its error path: -32042 with the URL to open, kept intact.
        match client
            .call_tool(
                "trigger-url-elicitation",
                json!({"url": "https://example.com/other", "errorPath": true}),
            )
            .await
        {
            Err(err @ Error::Protocol { .. }) => {
                assert_eq!(err.code(), Some(codes::URL_ELICITATION_REQUIRED));
                let Error::Protocol { data, .. } = &err else {
                    unreachable!()
                };
                let first = &data.as_ref().expect("data")["elicitations"][0];
                assert_eq!(first["mode"], json!("url"));
                assert_eq!(first["url"], json!("https://modelcontextprotocol.io"));
            }
            other => panic!("expected -32042, got {other:?}"),
        }
        called.insert("trigger-url-elicitation");

        // Roots: our URIs come back.
        let out = call(&client, "get-roots-list", json!({})).await;
        let text = out.text();
        assert!(text.starts_with("Current MCP Roots (2 total):"), "{text}");
        for root in ROOTS {
            assert!(text.contains(&format!("URI: {root}")), "{root} in {text}");
        }
        called.insert("get-roots-list");

        assert_eq!(
            called,
            listed,
            "every listed tool was called (or deliberately skipped)"
        );
        finish(client, &marker).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_and_templates() {
    common::bounded(async {
        let marker = common::marker("everything-res");
        let seen = Arc::new(Seen::default());
        let client = connect(full_client(&marker, &seen)).await;

        let resources = client.list_resources().await.expect("list_resources");
        let names = [
            "architecture",
            "extension",
            "features",
            "how-it-works",
            "instructions",
            "startup",
            "structure",
        ];
        let expected: BTreeSet<String> = names
            .iter()
            .map(|n| format!("demo://resource/static/document/{n}.md"))
            .collect();
        let static_uris: BTreeSet<String> = resources
            .iter()
            .filter(|r| r.uri.starts_with("demo://resource/static/"))
            .map(|r| r.uri.clone())
            .collect();
        assert_eq!(static_uris, expected);
        for r in resources
            .iter()
            .filter(|r| r.uri.starts_with("demo://resource/static/"))
        {
            assert_eq!(r.mime_type.as_deref(), Some("text/markdown"), "{}", r.uri);
        }

        // Static text resources read back byte for byte.
        let docs = common::everything_js().parent().unwrap().join("docs");
        for name in ["architecture", "features"] {
            let uri = format!("demo://resource/static/document/{name}.md");
            let read = client.read_resource(&uri).await.expect("read static");
            assert_eq!(read.contents.len(), 1);
            assert_eq!(read.contents[0].uri(), uri);
            assert_eq!(read.contents[0].mime_type(), Some("text/markdown"));
            let on_disk = std::fs::read_to_string(docs.join(format!("{name}.md"))).unwrap();
            assert_eq!(read.contents[0].as_text(), Some(on_disk.as_str()));
        }

        let templates = client.list_resource_templates().await.expect("templates");
        let mut t: Vec<(&str, &str, Option<&str>)> = templates
            .iter()
            .map(|t| {
                (
                    t.name.as_str(),
                    t.uri_template.as_str(),
                    t.mime_type.as_deref(),
                )
            })
            .collect();
        t.sort_unstable();
        assert_eq!(
            t,
            [
                (
                    "Dynamic Blob Resource",
                    "demo://resource/dynamic/blob/{resourceId}",
                    Some("application/octet-stream")
                ),
                (
                    "Dynamic Text Resource",
                    "demo://resource/dynamic/text/{resourceId}",
                    Some("text/plain")
                ),
            ]
        );

        let text = client
            .read_resource("demo://resource/dynamic/text/7")
            .await
            .expect("template text");
        assert!(text.contents[0].as_blob().is_none());
        assert!(text.contents[0]
            .as_text()
            .unwrap()
            .starts_with("Resource 7: This is a plaintext resource created at"));
        let blob = client
            .read_resource("demo://resource/dynamic/blob/7")
            .await
            .expect("template blob");
        assert!(blob.contents[0].as_text().is_none());
        let decoded =
            String::from_utf8(common::b64decode(blob.contents[0].as_blob().unwrap())).unwrap();
        assert!(
            decoded.starts_with("Resource 7: This is a base64 blob created at"),
            "{decoded}"
        );

        // An unknown resource is a JSON-RPC error with its code.
        match client.read_resource("demo://nope").await {
            Err(err @ Error::Protocol { .. }) => {
                assert_eq!(err.code(), Some(codes::INVALID_PARAMS), "{err}");
                assert!(err.to_string().contains("demo://nope"), "{err}");
            }
            other => panic!("expected a protocol error, got {other:?}"),
        }

        // Subscriptions: updates for a subscribed URI reach on_notification.
        let uri = "demo://resource/static/document/features.md";
        client.subscribe_resource(uri).await.expect("subscribe");
        let started = call(&client, "toggle-subscriber-updates", json!({}))
            .await
            .text();
        assert!(started.starts_with("Started"), "{started}");
        common::eventually("resources/updated", Duration::from_secs(7), || {
            let seen = seen.clone();
            async move {
                seen.notifications
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|n| {
                        n.method == "notifications/resources/updated"
                            && n.params["uri"] == json!(uri)
                    })
                    .then_some(())
            }
        })
        .await;
        let stopped = call(&client, "toggle-subscriber-updates", json!({}))
            .await
            .text();
        assert!(stopped.starts_with("Stopped"), "{stopped}");
        client.unsubscribe_resource(uri).await.expect("unsubscribe");

        finish(client, &marker).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_and_completion() {
    common::bounded(async {
        let marker = common::marker("everything-prompts");
        let client = connect(common::everything(&marker)).await;

        let prompts = client.list_prompts().await.expect("list_prompts");
        let mut shape: Vec<(String, Vec<(String, bool)>)> = prompts
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.arguments
                        .iter()
                        .flatten()
                        .map(|a| (a.name.clone(), a.required == Some(true)))
                        .collect(),
                )
            })
            .collect();
        shape.sort();
        let owned = |v: &[(&str, bool)]| -> Vec<(String, bool)> {
            v.iter().map(|(n, r)| ((*n).to_owned(), *r)).collect()
        };
        assert_eq!(
            shape,
            [
                ("args-prompt".to_owned(), owned(&[("city", true), ("state", false)])),
                (
                    "completable-prompt".to_owned(),
                    owned(&[("department", true), ("name", true)])
                ),
                (
                    "resource-prompt".to_owned(),
                    owned(&[("resourceType", true), ("resourceId", true)])
                ),
                ("simple-prompt".to_owned(), vec![]),
            ]
        );

        let simple = client.get_prompt("simple-prompt", ()).await.expect("simple");
        assert_eq!(simple.messages.len(), 1);
        assert_eq!(simple.messages[0].role, Role::User);
        assert_eq!(
            simple.messages[0].content.as_text(),
            Some("This is a simple prompt without arguments.")
        );

        let args = client
            .get_prompt("args-prompt", json!({"city": "Paris"}))
            .await
            .expect("args-prompt");
        assert_eq!(args.messages[0].content.as_text(), Some("What's weather in Paris?"));
        let args = client
            .get_prompt("args-prompt", json!({"city": "Austin", "state": "TX"}))
            .await
            .expect("args-prompt with state");
        assert_eq!(
            args.messages[0].content.as_text(),
            Some("What's weather in Austin, TX?")
        );

        let team = client
            .get_prompt(
                "completable-prompt",
                json!({"department": "Engineering", "name": "Alice"}),
            )
            .await
            .expect("completable-prompt");
        assert_eq!(
            team.messages[0].content.as_text(),
            Some("Please promote Alice to the head of the Engineering team.")
        );

        // Non-string values are sent as their JSON text ("1").
        let res = client
            .get_prompt("resource-prompt", json!({"resourceType": "Text", "resourceId": 1}))
            .await
            .expect("resource-prompt");
        assert_eq!(res.messages.len(), 2, "{res:?}");
        assert_eq!(
            res.messages[0].content.as_text(),
            Some("This prompt includes the Text resource with id: 1. Please analyze the following resource:")
        );
        match &res.messages[1].content {
            ContentBlock::Resource(r) => {
                assert_eq!(r.resource.uri(), "demo://resource/dynamic/text/1")
            }
            other => panic!("expected an embedded resource, got {other:?}"),
        }

        // A missing required argument is a JSON-RPC error.
        match client.get_prompt("args-prompt", ()).await {
            Err(err) => assert_eq!(err.code(), Some(codes::INVALID_PARAMS), "{err}"),
            Ok(r) => panic!("expected an error, got {r:?}"),
        }

        // Completion.
        assert!(client.capabilities().unwrap().has_completions());
        let done = client
            .complete(
                json!({"type": "ref/prompt", "name": "completable-prompt"}),
                "department",
                "E",
                None,
            )
            .await
            .expect("complete department");
        assert_eq!(done.completion.values, ["Engineering"]);
        assert_eq!(done.completion.total, Some(1));
        assert_eq!(done.completion.has_more, Some(false));

        let mut ctx = Map::new();
        ctx.insert("department".into(), json!("Sales"));
        let done = client
            .complete(
                json!({"type": "ref/prompt", "name": "completable-prompt"}),
                "name",
                "",
                Some(ctx),
            )
            .await
            .expect("complete name with context");
        assert_eq!(done.completion.values, ["David", "Eve", "Frank"]);

        let done = client
            .complete(
                json!({"type": "ref/resource", "uri": "demo://resource/dynamic/text/{resourceId}"}),
                "resourceId",
                "12",
                None,
            )
            .await
            .expect("complete template argument");
        assert_eq!(done.completion.values, ["12"]);

        finish(client, &marker).await;
    })
    .await
}

fn simulated_log_text(level: LoggingLevel) -> &'static str {
    match level {
        LoggingLevel::Debug => "Debug-level message",
        LoggingLevel::Info => "Info-level message",
        LoggingLevel::Notice => "Notice-level message",
        LoggingLevel::Warning => "Warning-level message",
        LoggingLevel::Error => "Error-level message",
        LoggingLevel::Critical => "Critical-level message",
        LoggingLevel::Alert => "Alert level-message",
        LoggingLevel::Emergency => "Emergency-level message",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_and_roots_sync() {
    common::bounded(async {
        let marker = common::marker("everything-log");
        let seen = Arc::new(Seen::default());
        let roots_asked = Arc::new(AtomicUsize::new(0));
        let asked = roots_asked.clone();
        let client = connect(full_client(&marker, &seen).roots_handler(CountingRoots(asked))).await;

        // The server fetches our roots right after `initialized` and logs
        // what it got (no setLevel needed for that one).
        common::eventually("roots log", Duration::from_secs(5), || {
            let seen = seen.clone();
            async move {
                seen.logs
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|l| l.data == json!("Roots updated: 1 root(s) received from client"))
                    .then_some(())
            }
        })
        .await;
        assert_eq!(roots_asked.load(Ordering::SeqCst), 1);
        let roots_log = seen
            .logs
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.data == json!("Roots updated: 1 root(s) received from client"))
            .cloned()
            .unwrap();
        assert_eq!(roots_log.level, LoggingLevel::Info);
        assert_eq!(roots_log.logger.as_deref(), Some("everything-server"));

        client
            .set_log_level(LoggingLevel::Debug)
            .await
            .expect("setLevel");
        seen.logs.lock().unwrap().clear();
        let started = call(&client, "toggle-simulated-logging", json!({}))
            .await
            .text();
        assert!(started.starts_with("Started simulated"), "{started}");
        // One message is sent at once, at a random level; at debug all pass.
        let log = common::eventually("a simulated log", Duration::from_secs(4), || {
            let seen = seen.clone();
            async move { seen.logs.lock().unwrap().first().cloned() }
        })
        .await;
        assert_eq!(log.data, json!(simulated_log_text(log.level)), "{log:?}");
        let stopped = call(&client, "toggle-simulated-logging", json!({}))
            .await
            .text();
        assert!(stopped.starts_with("Stopped simulated"), "{stopped}");

        finish(client, &marker).await;
    })
    .await
}

struct CountingRoots(Arc<AtomicUsize>);

impl switchboard::RootsHandler for CountingRoots {
    fn list_roots(
        &self,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Vec<switchboard::protocol::Root>, HandlerError>> {
        assert_eq!(ctx.era, Era::Handshake);
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            Ok(vec![switchboard::protocol::Root::new(
                "file:///tmp/switchboard-logging",
            )
            .with_name("logging")])
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_calls_are_correlated() {
    common::bounded(async {
        let marker = common::marker("everything-concurrent");
        let client = connect(common::everything(&marker)).await;
        // A slow call in flight the whole time, with its own progress.
        let slow = {
            let c = client.clone();
            let steps: Arc<Mutex<Vec<f64>>> = Arc::default();
            let sink = steps.clone();
            tokio::spawn(async move {
                let out = c
                    .call_tool_with(
                        "trigger-long-running-operation",
                        json!({"duration": 1, "steps": 5}),
                        switchboard::CallOptions::new()
                            .on_progress(move |p| sink.lock().unwrap().push(p.progress)),
                    )
                    .await
                    .expect("slow call");
                (out.text(), steps.lock().unwrap().clone())
            })
        };
        let calls = (0..200).map(|i| {
            let c = client.clone();
            async move {
                let out = c
                    .call_tool("echo", json!({"message": format!("message #{i}")}))
                    .await
                    .expect("echo");
                (i, out.text())
            }
        });
        let results = futures_util::future::join_all(calls).await;
        for (i, text) in results {
            assert_eq!(text, format!("Echo: message #{i}"));
        }
        let (text, steps) = slow.await.expect("task");
        assert_eq!(
            text,
            "Long running operation completed. Duration: 1 seconds, Steps: 5."
        );
        assert_eq!(steps, [1.0, 2.0, 3.0, 4.0, 5.0]);
        finish(client, &marker).await;
    })
    .await
}
