//! The fixtures of `examples/conformance_server` (the server the official
//! conformance suite's server scenarios test), over stdio, checked the way
//! each scenario checks them: first through Switchboard's own client in
//! both eras (the 2025-11-25 handshake, and 2026-07-28 where the asks are
//! input-required rounds the client answers through its handlers), then on
//! the wire in 2026-07-28 for what the client hides (the shape of
//! `input_required` results, `requestState`, error codes, caching hints).
//!
//! Needs the example built (`cargo test --all-targets` builds it; alone:
//! `cargo build --example conformance_server`).

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};
use switchboard::protocol::{
    ContentBlock, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, Era, LoggingLevel, ProtocolVersion, ResourceContents, VersionChoice,
};
use switchboard::{CallOptions, Client, ClientBuilder, RequestContext, Source};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const ERAS: [(VersionChoice, Era); 2] = [
    (VersionChoice::Auto, Era::Modern),
    (
        VersionChoice::Exact(ProtocolVersion::V2025_11_25),
        Era::Handshake,
    ),
];

/// What the suite's client answers to sampling.
const SAMPLED: &str = "This is a test response from the client";

fn example_binary() -> PathBuf {
    // target/<profile>/deps/<test>-<hash> → target/<profile>/examples/
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory");
    let bin = profile_dir.join("examples/conformance_server");
    assert!(
        bin.exists(),
        "{} not built: run `cargo build --example conformance_server` (scripts/test.sh does)",
        bin.display()
    );
    bin
}

type Seen = Arc<Mutex<Vec<Value>>>;

/// Progress as heard: `(progress, total)`.
type Heard = Arc<Mutex<Vec<(f64, Option<f64>)>>>;

/// A client of the example in the given era, answering asks as the suite's
/// client does; the elicitations it saw are recorded as sent.
fn client(version: VersionChoice, elicited: Seen) -> ClientBuilder {
    let bin = example_binary().display().to_string();
    Client::builder(Source::stdio(bin, ["--stdio"]))
        .protocol(version)
        .timeout(Duration::from_secs(10))
        .sampling(
            |_params: CreateMessageRequestParams, _ctx: RequestContext| async {
                Ok(CreateMessageResult::text("test-model", SAMPLED))
            },
        )
        .elicitation(move |params: ElicitRequestParams, _ctx: RequestContext| {
            let message = params.message().to_owned();
            elicited
                .lock()
                .unwrap()
                .push(serde_json::to_value(&params).unwrap_or_default());
            async move {
                let content = match message.as_str() {
                    m if m.contains("name") => json!({"name": "Alice"}),
                    m if m.contains("color") => json!({"color": "blue"}),
                    m if m.contains("confirm") => json!({"ok": true}),
                    m if m.contains("context") => json!({"context": "tests"}),
                    _ => json!({"username": "testuser", "email": "test@example.com"}),
                };
                Ok(ElicitResult::accept(
                    content.as_object().cloned().unwrap_or_default(),
                ))
            }
        })
        .roots(["file:///test/root"])
}

async fn connect(version: VersionChoice, era: Era) -> (Client, Seen) {
    let elicited = Seen::default();
    let client = client(version, elicited.clone())
        .log_level(LoggingLevel::Debug)
        .connect()
        .await
        .expect("connect to the conformance server");
    assert_eq!(client.era(), Some(era));
    (client, elicited)
}

#[tokio::test]
async fn tools_list_and_content_tools() {
    common::bounded(async {
        for (version, era) in ERAS {
            let (client, _) = connect(version, era).await;
            // tools-list: name, description and inputSchema on every tool.
            let tools = client.list_tools().await.expect("tools/list");
            assert!(tools.len() >= 25, "{era:?}: {} tools", tools.len());
            for tool in &tools {
                assert!(tool.description.is_some(), "{}: no description", tool.name);
                assert_eq!(
                    tool.input_schema.get("type"),
                    Some(&json!("object")),
                    "{}",
                    tool.name
                );
            }
            // json-schema-2020-12: the keywords are kept as written.
            let schema_tool = tools
                .iter()
                .find(|t| t.name == "json_schema_2020_12_tool")
                .expect("json_schema_2020_12_tool listed");
            let schema = Value::Object(schema_tool.input_schema.clone());
            assert_eq!(
                schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            assert!(schema["$defs"]["address"].is_object());
            assert_eq!(schema["additionalProperties"], json!(false));
            assert_eq!(schema["$defs"]["address"]["$anchor"], "addressDef");
            assert!(schema["allOf"][0]["anyOf"].is_array());
            for keyword in ["if", "then", "else"] {
                assert!(schema[keyword].is_object(), "{keyword}");
            }
            // http-custom-header-server-validation: a string parameter
            // mirrored in a header.
            let header_tool = tools
                .iter()
                .find(|t| t.name == "test_header_param")
                .expect("test_header_param listed");
            let region = &header_tool.input_schema["properties"]["region"];
            assert_eq!(region["x-mcp-header"], "Region");
            assert_eq!(region["type"], "string");
            let out = client
                .call_tool("test_header_param", json!({"region": "eu-west"}))
                .await
                .unwrap();
            assert_eq!(out.text(), "region=eu-west");

            // tools-call-simple-text.
            let out = client.call_tool("test_simple_text", ()).await.unwrap();
            assert_eq!(out.text(), "This is a simple text response for testing.");
            // tools-call-image.
            let out = client.call_tool("test_image_content", ()).await.unwrap();
            match out.content.first() {
                Some(ContentBlock::Image(i)) => {
                    assert_eq!(i.mime_type, "image/png");
                    assert!(!i.data.is_empty());
                }
                other => panic!("{era:?}: expected an image, got {other:?}"),
            }
            // tools-call-audio: mimeType exactly audio/wav.
            let out = client.call_tool("test_audio_content", ()).await.unwrap();
            match out.content.first() {
                Some(ContentBlock::Audio(a)) => {
                    assert_eq!(a.mime_type, "audio/wav");
                    assert!(!a.data.is_empty());
                }
                other => panic!("{era:?}: expected audio, got {other:?}"),
            }
            // tools-call-embedded-resource: uri, mimeType and text.
            let out = client
                .call_tool("test_embedded_resource", ())
                .await
                .unwrap();
            match out.content.first() {
                Some(ContentBlock::Resource(r)) => {
                    assert_eq!(r.resource.uri(), "test://embedded-resource");
                    assert_eq!(r.resource.mime_type(), Some("text/plain"));
                    assert_eq!(
                        r.resource.as_text(),
                        Some("This is an embedded resource content.")
                    );
                }
                other => panic!("{era:?}: expected a resource, got {other:?}"),
            }
            // tools-call-mixed-content: text, image and resource.
            let out = client
                .call_tool("test_multiple_content_types", ())
                .await
                .unwrap();
            let kinds: Vec<&str> = out.content.iter().map(ContentBlock::kind).collect();
            assert_eq!(kinds, ["text", "image", "resource"], "{era:?}");
            // tools-call-error: isError with the text.
            let out = client.call_tool("test_error_handling", ()).await.unwrap();
            assert!(out.is_error());
            assert_eq!(
                out.text(),
                "This tool intentionally returns an error for testing"
            );
            client.close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn progress_and_logging() {
    common::bounded(async {
        for (version, era) in ERAS {
            let logs: Seen = Arc::default();
            let heard = logs.clone();
            let client = client(version, Seen::default())
                .log_level(LoggingLevel::Debug)
                .on_log(move |m| heard.lock().unwrap().push(m.data.clone()))
                .connect()
                .await
                .unwrap();
            // tools-call-with-progress: 0, 50, 100 of 100.
            let progress: Heard = Arc::default();
            let seen = progress.clone();
            let options = CallOptions::new()
                .on_progress(move |p| seen.lock().unwrap().push((p.progress, p.total)));
            client
                .call_tool_with("test_tool_with_progress", (), options)
                .await
                .unwrap();
            assert_eq!(
                *progress.lock().unwrap(),
                [
                    (0.0, Some(100.0)),
                    (50.0, Some(100.0)),
                    (100.0, Some(100.0))
                ],
                "{era:?}"
            );
            // tools-call-with-logging: three info messages, in order.
            client
                .call_tool("test_tool_with_logging", ())
                .await
                .unwrap();
            let expected = [
                "Tool execution started",
                "Tool processing data",
                "Tool execution completed",
            ];
            let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
            while logs.lock().unwrap().len() < 3 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(*logs.lock().unwrap(), expected.map(Value::from), "{era:?}");
            client.close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn sampling_and_elicitation_tools() {
    common::bounded(async {
        for (version, era) in ERAS {
            let (client, elicited) = connect(version, era).await;
            // tools-call-sampling.
            let out = client
                .call_tool(
                    "test_sampling",
                    json!({"prompt": "Test prompt for sampling"}),
                )
                .await
                .unwrap();
            assert_eq!(out.text(), format!("LLM response: {SAMPLED}"));
            // tools-call-elicitation: the message as given, the
            // username/email form, the answer in the result.
            let out = client
                .call_tool(
                    "test_elicitation",
                    json!({"message": "Please provide your information"}),
                )
                .await
                .unwrap();
            assert!(
                out.text().starts_with("User response: action=accept"),
                "{}",
                out.text()
            );
            assert!(out.text().contains("testuser"), "{}", out.text());
            // elicitation-sep1034-defaults and -sep1330-enums complete.
            let out = client
                .call_tool("test_elicitation_sep1034_defaults", ())
                .await
                .unwrap();
            assert!(out
                .text()
                .starts_with("Elicitation completed: action=accept"));
            let out = client
                .call_tool("test_elicitation_sep1330_enums", ())
                .await
                .unwrap();
            assert!(out
                .text()
                .starts_with("Elicitation completed: action=accept"));
            {
                let seen = elicited.lock().unwrap();
                assert_eq!(seen.len(), 3, "{era:?}: one ask per call");
                assert_eq!(seen[0]["message"], "Please provide your information");
                assert_eq!(
                    seen[0]["requestedSchema"]["required"],
                    json!(["username", "email"])
                );
            }
            client.close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn resources_templates_and_subscriptions() {
    common::bounded(async {
        for (version, era) in ERAS {
            let (client, _) = connect(version, era).await;
            // resources-list: uri and name on each.
            let listed = client.list_resources().await.unwrap();
            for uri in [
                "test://static-text",
                "test://static-binary",
                "test://watched-resource",
            ] {
                let r = listed.iter().find(|r| r.uri == uri).expect(uri);
                assert!(!r.name.is_empty() && r.description.is_some());
            }
            // resources-read-text.
            let read = client.read_resource("test://static-text").await.unwrap();
            match read.contents.first() {
                Some(ResourceContents::Text(t)) => {
                    assert_eq!(t.uri, "test://static-text");
                    assert_eq!(t.mime_type.as_deref(), Some("text/plain"));
                    assert_eq!(t.text, "This is the content of the static text resource.");
                }
                other => panic!("{era:?}: {other:?}"),
            }
            // resources-read-binary: a blob with its mimeType.
            let read = client.read_resource("test://static-binary").await.unwrap();
            let blob = read.contents.first().expect("contents");
            assert_eq!(blob.mime_type(), Some("image/png"));
            assert!(blob.blob_bytes().unwrap().is_some_and(|b| !b.is_empty()));
            // resources-templates-read: the id substituted.
            let templates = client.list_resource_templates().await.unwrap();
            assert!(templates
                .iter()
                .any(|t| t.uri_template == "test://template/{id}/data"));
            let read = client
                .read_resource("test://template/123/data")
                .await
                .unwrap();
            let text = read.contents.first().and_then(|c| c.as_text()).unwrap();
            let data: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                data,
                json!({"id": "123", "templateTest": true, "data": "Data for ID: 123"})
            );
            // sep-2164-resource-not-found: an error naming the URI
            // (-32602 in 2026-07-28, -32002 before).
            let missing = "test://nonexistent-resource-for-conformance-testing";
            let err = client.read_resource(missing).await.unwrap_err();
            let code = match era {
                Era::Modern => -32602,
                Era::Handshake => -32002,
            };
            assert_eq!(err.code(), Some(code), "{era:?}: {err}");
            // resources-subscribe / -unsubscribe.
            client
                .subscribe_resource("test://watched-resource")
                .await
                .unwrap();
            client
                .unsubscribe_resource("test://watched-resource")
                .await
                .unwrap();
            client.close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn prompts_and_completion() {
    common::bounded(async {
        for (version, era) in ERAS {
            let (client, _) = connect(version, era).await;
            // prompts-list: name and description on each.
            let prompts = client.list_prompts().await.unwrap();
            for name in [
                "test_simple_prompt",
                "test_prompt_with_arguments",
                "test_prompt_with_embedded_resource",
                "test_prompt_with_image",
            ] {
                let p = prompts.iter().find(|p| p.name == name).expect(name);
                assert!(p.description.is_some());
            }
            // prompts-get-simple.
            let got = client.get_prompt("test_simple_prompt", ()).await.unwrap();
            assert_eq!(
                got.messages[0].content.as_text(),
                Some("This is a simple prompt for testing.")
            );
            // prompts-get-with-args: both substituted.
            let got = client
                .get_prompt(
                    "test_prompt_with_arguments",
                    json!({"arg1": "testValue1", "arg2": "testValue2"}),
                )
                .await
                .unwrap();
            assert_eq!(
                got.messages[0].content.as_text(),
                Some("Prompt with arguments: arg1='testValue1', arg2='testValue2'")
            );
            // prompts-get-embedded-resource.
            let got = client
                .get_prompt(
                    "test_prompt_with_embedded_resource",
                    json!({"resourceUri": "test://example-resource"}),
                )
                .await
                .unwrap();
            match &got.messages[0].content {
                ContentBlock::Resource(r) => {
                    assert_eq!(r.resource.uri(), "test://example-resource")
                }
                other => panic!("{era:?}: {other:?}"),
            }
            // prompts-get-with-image.
            let got = client
                .get_prompt("test_prompt_with_image", ())
                .await
                .unwrap();
            assert!(matches!(
                &got.messages[0].content,
                ContentBlock::Image(i) if i.mime_type == "image/png" && !i.data.is_empty()
            ));
            // completion-complete: an array of values.
            let done = client
                .complete(
                    json!({"type": "ref/prompt", "name": "test_prompt_with_arguments"}),
                    "arg1",
                    "par",
                    None,
                )
                .await
                .unwrap();
            assert_eq!(done.completion.values, ["paris", "park", "party"]);
            let done = client
                .complete(
                    json!({"type": "ref/prompt", "name": "test_prompt_with_arguments"}),
                    "arg1",
                    "zzz",
                    None,
                )
                .await
                .unwrap();
            assert!(done.completion.values.is_empty());
            client.close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn input_required_tools_complete_through_the_handlers() {
    common::bounded(async {
        for (version, era) in ERAS {
            let (client, _) = connect(version, era).await;
            let call = |name: &'static str| {
                let client = client.clone();
                async move {
                    let out = client.call_tool(name, ()).await;
                    out.unwrap_or_else(|e| panic!("{era:?} {name}: {e}")).text()
                }
            };
            assert_eq!(
                call("test_input_required_result_elicitation").await,
                "Hello, Alice!"
            );
            assert_eq!(call("test_input_required_result_sampling").await, SAMPLED);
            assert_eq!(
                call("test_input_required_result_list_roots").await,
                "Client roots: file:///test/root"
            );
            assert!(call("test_input_required_result_request_state")
                .await
                .contains("state-ok"));
            let all = call("test_input_required_result_multiple_inputs").await;
            assert!(all.contains("Alice") && all.contains(SAMPLED), "{all}");
            let both = call("test_input_required_result_multi_round").await;
            assert!(both.contains("Alice") && both.contains("blue"), "{both}");
            call("test_input_required_result_tampered_state").await;
            let asked = call("test_input_required_result_capabilities").await;
            assert!(asked.contains("sampling") && asked.contains("elicitation"));
            // input-required-result-non-tool-request: prompts/get asks too.
            let got = client
                .get_prompt("test_input_required_result_prompt", ())
                .await
                .unwrap();
            assert_eq!(
                got.messages[0].content.as_text(),
                Some("Use this context: tests")
            );
            // server-stateless's tools.
            assert_eq!(call("test_logging_tool").await, "logged");
            call("test_trigger_tool_change").await;
            call("test_trigger_prompt_change").await;
            assert!(call("test_streaming_elicitation").await.contains("Alice"));
            assert_eq!(call("test_missing_capability").await, SAMPLED);
            assert_eq!(
                call("test_reconnection").await,
                "Reconnection test completed"
            );
            client.close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn the_skill_loads_verified() {
    common::bounded(async {
        for (version, era) in ERAS {
            let (client, _) = connect(version, era).await;
            // sep-2640-skills-enumeration / -manifest.
            let skills = client.list_skills().await.expect("skills/list");
            assert_eq!(skills.len(), 1, "{era:?}");
            let skill = &skills[0];
            assert_eq!(skill.uri, "skill://conformance-greeting/SKILL.md");
            assert_eq!(skill.name(), Some("conformance-greeting"));
            let got = client.get_skill(&skill.uri).await.expect("skills/get");
            assert_eq!(&got, skill);
            let unknown = client
                .get_skill("skill://mcp-conformance-nonexistent-skill-9f3a2b/SKILL.md")
                .await
                .unwrap_err();
            assert_eq!(unknown.code(), Some(-32602));
            // Sizes and digests verified against what is served.
            let loaded = client.load_skill(skill).await.expect("load the skill");
            assert!(loaded.skill_md().digest_verified());
            let md = client.read_resource(&skill.uri).await.unwrap();
            assert_eq!(md.contents[0].mime_type(), Some("text/markdown"));
            let listed = client.list_resources().await.unwrap();
            let entry = listed.iter().find(|r| r.uri == skill.uri).unwrap();
            assert_eq!(entry.name, "conformance-greeting");
            assert_eq!(entry.description.as_deref(), skill.description());
            client.close().await.unwrap();
        }
    })
    .await;
}

/// The example on raw stdio, spoken to in 2026-07-28 line by line.
struct Wire {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

/// The `_meta` every 2026-07-28 request carries, with these client
/// capabilities.
fn meta(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "wire-test", "version": "1.0.0"},
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    })
}

fn all_capabilities() -> Value {
    json!({"sampling": {}, "elicitation": {}, "roots": {"listChanged": true}})
}

impl Wire {
    fn start() -> Wire {
        let mut child = Command::new(example_binary())
            .arg("--stdio")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the conformance server");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        Wire {
            _child: child,
            stdin,
            lines: BufReader::new(stdout).lines(),
            next_id: 0,
        }
    }

    /// Sends `method` with `params` (`_meta` added unless given) and
    /// returns the notifications sent before the response, and the response.
    async fn exchange(&mut self, method: &str, mut params: Value) -> (Vec<Value>, Value) {
        if params.get("_meta").is_none() {
            params["_meta"] = meta(all_capabilities());
        }
        self.next_id += 1;
        let id = self.next_id;
        let frame = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.stdin
            .write_all(format!("{frame}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
        let mut before = Vec::new();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(5), self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method} within 5 s"))
                .unwrap()
                .unwrap_or_else(|| panic!("the server closed stdout during {method}"));
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == json!(id) {
                return (before, message);
            }
            before.push(message);
        }
    }

    async fn result(&mut self, method: &str, params: Value) -> Value {
        let (_, reply) = self.exchange(method, params).await;
        assert!(reply.get("error").is_none(), "{method}: {reply}");
        reply["result"].clone()
    }

    async fn error(&mut self, method: &str, params: Value) -> Value {
        let (_, reply) = self.exchange(method, params).await;
        assert!(reply.get("result").is_none(), "{method}: {reply}");
        reply["error"].clone()
    }

    async fn call(&mut self, tool: &str, extra: Value) -> Value {
        let mut params = json!({"name": tool, "arguments": {}});
        if let (Some(p), Value::Object(extra)) = (params.as_object_mut(), extra) {
            p.extend(extra);
        }
        self.result("tools/call", params).await
    }
}

fn accept(content: Value) -> Value {
    json!({"action": "accept", "content": content})
}

fn methods(result: &Value) -> Vec<String> {
    let mut methods: Vec<String> = result["inputRequests"]
        .as_object()
        .map(|m| {
            m.values()
                .filter_map(|r| r["method"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    methods.sort();
    methods
}

#[tokio::test]
async fn input_required_results_on_the_wire() {
    common::bounded(async {
        let mut wire = Wire::start();
        // -basic-elicitation: the ask keyed user_name; the retry completes.
        let tool = "test_input_required_result_elicitation";
        let first = wire.call(tool, json!({})).await;
        assert_eq!(first["resultType"], "input_required");
        let ask = &first["inputRequests"]["user_name"];
        assert_eq!(ask["method"], "elicitation/create");
        assert_eq!(ask["params"]["message"], "What is your name?");
        assert_eq!(ask["params"]["requestedSchema"]["required"], json!(["name"]));
        let answers = json!({"user_name": accept(json!({"name": "Alice"}))});
        let done = wire.call(tool, json!({"inputResponses": answers})).await;
        assert_eq!(done["resultType"], "complete");
        assert_eq!(done["content"][0]["text"], "Hello, Alice!");
        // -ignore-extra-params: unknown keys beside the answer are ignored.
        let answers = json!({
            "user_name": accept(json!({"name": "Alice"})),
            "unknown_extra_key": accept(json!({"foo": "bar"})),
        });
        let done = wire.call(tool, json!({"inputResponses": answers})).await;
        assert_eq!(done["resultType"], "complete");
        // -missing-input-response: a wrong key is asked again.
        let answers = json!({"wrong_key": accept(json!({"data": "wrong"}))});
        let again = wire.call(tool, json!({"inputResponses": answers})).await;
        assert_eq!(again["resultType"], "input_required");
        // -validate-input: an answer of the wrong shape, or null answers, never complete.
        for bad in [json!({"user_name": 12345}), Value::Null] {
            let params = json!({"name": tool, "arguments": {}, "inputResponses": bad});
            let (_, reply) = wire.exchange("tools/call", params).await;
            assert_ne!(reply["result"]["resultType"], "complete", "{reply}");
        }
        // -basic-sampling and -basic-list-roots: one ask each, answered by key.
        for (tool, method, answer) in [
            (
                "test_input_required_result_sampling",
                "sampling/createMessage",
                json!({"role": "assistant", "content": {"type": "text", "text": "Paris"},
                       "model": "test-model", "stopReason": "endTurn"}),
            ),
            (
                "test_input_required_result_list_roots",
                "roots/list",
                json!({"roots": [{"uri": "file:///test/root", "name": "Test Root"}]}),
            ),
        ] {
            let first = wire.call(tool, json!({})).await;
            assert_eq!(methods(&first), [method], "{tool}");
            let key = first["inputRequests"]
                .as_object()
                .and_then(|m| m.keys().next().cloned())
                .unwrap();
            let retry = json!({"inputResponses": {key: answer}, "requestState": first["requestState"]});
            let done = wire.call(tool, retry).await;
            assert_eq!(done["resultType"], "complete", "{tool}: {done}");
        }
        // -request-state: a string state, echoed back, and "state-ok".
        let tool = "test_input_required_result_request_state";
        let first = wire.call(tool, json!({})).await;
        let state = first["requestState"].as_str().expect("requestState").to_owned();
        let key = first["inputRequests"]
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .unwrap();
        let retry = json!({"inputResponses": {&key: accept(json!({"ok": true}))}, "requestState": state});
        let done = wire.call(tool, retry).await;
        assert!(done["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("state-ok")));
        // -tampered-state: a JSON-RPC error, -32602.
        let tool = "test_input_required_result_tampered_state";
        let first = wire.call(tool, json!({})).await;
        let key = first["inputRequests"]
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .unwrap();
        let tampered = format!("{}-TAMPERED", first["requestState"].as_str().unwrap());
        let params = json!({"name": tool, "arguments": {},
            "inputResponses": {key: accept(json!({"ok": true}))}, "requestState": tampered});
        assert_eq!(wire.error("tools/call", params).await["code"], -32602);
        // -multiple-input-requests: three kinds in one round.
        let tool = "test_input_required_result_multiple_inputs";
        let first = wire.call(tool, json!({})).await;
        assert_eq!(
            methods(&first),
            ["elicitation/create", "roots/list", "sampling/createMessage"]
        );
        let mut answers = Map::new();
        for (key, ask) in first["inputRequests"].as_object().unwrap() {
            let answer = match ask["method"].as_str() {
                Some("elicitation/create") => accept(json!({"name": "Alice"})),
                Some("sampling/createMessage") => json!({"role": "assistant",
                    "content": {"type": "text", "text": "Hello there!"}, "model": "m"}),
                _ => json!({"roots": []}),
            };
            answers.insert(key.clone(), answer);
        }
        let retry = json!({"inputResponses": answers, "requestState": first["requestState"]});
        assert_eq!(wire.call(tool, retry).await["resultType"], "complete");
        // -multi-round: a new round with a new state, then complete.
        let tool = "test_input_required_result_multi_round";
        let r1 = wire.call(tool, json!({})).await;
        let k1 = r1["inputRequests"].as_object().and_then(|m| m.keys().next().cloned()).unwrap();
        let retry = json!({"inputResponses": {k1: accept(json!({"name": "Alice"}))}, "requestState": r1["requestState"]});
        let r2 = wire.call(tool, retry).await;
        assert_eq!(r2["resultType"], "input_required");
        assert_ne!(r2["requestState"], r1["requestState"]);
        assert_eq!(
            r2["inputRequests"]
                .as_object()
                .and_then(|m| m.values().next())
                .map(|a| a["params"]["message"].clone()),
            Some(json!("Step 2: What is your favorite color?"))
        );
        let k2 = r2["inputRequests"].as_object().and_then(|m| m.keys().next().cloned()).unwrap();
        let retry = json!({"inputResponses": {k2: accept(json!({"color": "blue"}))}, "requestState": r2["requestState"]});
        assert_eq!(wire.call(tool, retry).await["resultType"], "complete");
        // -capability-check: only what the client declared is asked.
        let only_sampling = json!({"_meta": meta(json!({"sampling": {}}))});
        let first = wire
            .call("test_input_required_result_capabilities", only_sampling)
            .await;
        assert_eq!(methods(&first), ["sampling/createMessage"]);
        // -non-tool-request: prompts/get asks too.
        let first = wire
            .result(
                "prompts/get",
                json!({"name": "test_input_required_result_prompt"}),
            )
            .await;
        assert_eq!(methods(&first), ["elicitation/create"]);
        // -unsupported-methods: lists never ask.
        for method in ["tools/list", "prompts/list"] {
            assert_eq!(wire.result(method, json!({})).await["resultType"], "complete");
        }
    })
    .await;
}

#[tokio::test]
async fn stateless_checks_on_the_wire() {
    common::bounded(async {
        let mut wire = Wire::start();
        // server-stateless: discover, with the server's identity in _meta.
        let found = wire.result("server/discover", json!({})).await;
        assert!(found["supportedVersions"]
            .as_array()
            .is_some_and(|v| v.contains(&json!("2026-07-28"))));
        assert!(found["capabilities"]["prompts"]["listChanged"] == json!(true));
        assert_eq!(
            found["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
            "switchboard-conformance-server"
        );
        // An undeclared capability is -32021 naming it in an object.
        let none =
            json!({"name": "test_missing_capability", "arguments": {}, "_meta": meta(json!({}))});
        let err = wire.error("tools/call", none).await;
        assert_eq!(err["code"], -32021);
        assert!(
            err["data"]["requiredCapabilities"]["sampling"].is_object(),
            "{err}"
        );
        // An elicitation is a round, never a request to the client.
        let (before, reply) = wire
            .exchange(
                "tools/call",
                json!({"name": "test_streaming_elicitation", "arguments": {}}),
            )
            .await;
        assert!(before.iter().all(|m| m.get("id").is_none()), "{before:?}");
        assert_eq!(reply["result"]["resultType"], "input_required");
        // No log message when the request asked for no level.
        let (before, _) = wire
            .exchange(
                "tools/call",
                json!({"name": "test_logging_tool", "arguments": {}}),
            )
            .await;
        assert!(
            !before
                .iter()
                .any(|m| m["method"] == "notifications/message"),
            "{before:?}"
        );
        // Unknown methods are -32601 with the request's id.
        let (_, reply) = wire.exchange("unknown/method", json!({})).await;
        assert_eq!(reply["error"]["code"], -32601);
        // sep-2164-resource-not-found: -32602 with the URI in data.
        let missing = "test://nonexistent-resource-for-conformance-testing";
        let err = wire.error("resources/read", json!({"uri": missing})).await;
        assert_eq!(err["code"], -32602);
        assert_eq!(err["data"]["uri"], missing);
        // caching: ttlMs (a non-negative integer) and cacheScope on every
        // cacheable result.
        for (method, params) in [
            ("tools/list", json!({})),
            ("prompts/list", json!({})),
            ("resources/list", json!({})),
            ("resources/templates/list", json!({})),
            ("resources/read", json!({"uri": "test://static-text"})),
        ] {
            let result = wire.result(method, params).await;
            assert!(result["ttlMs"].as_u64().is_some(), "{method}: {result}");
            assert!(
                matches!(result["cacheScope"].as_str(), Some("public" | "private")),
                "{method}: {result}"
            );
        }
        // elicitation-sep1034-defaults / -sep1330-enums: the schemas as sent.
        let first = wire
            .call("test_elicitation_sep1034_defaults", json!({}))
            .await;
        let ask = first["inputRequests"]
            .as_object()
            .and_then(|m| m.values().next())
            .cloned()
            .unwrap();
        let props = &ask["params"]["requestedSchema"]["properties"];
        assert_eq!(props["name"]["default"], "John Doe");
        assert_eq!(props["age"], json!({"type": "integer", "default": 30}));
        assert_eq!(props["score"]["default"], 95.5);
        assert_eq!(props["status"]["default"], "active");
        assert_eq!(props["verified"]["default"], true);
        let first = wire.call("test_elicitation_sep1330_enums", json!({})).await;
        let ask = first["inputRequests"]
            .as_object()
            .and_then(|m| m.values().next())
            .cloned()
            .unwrap();
        let props = &ask["params"]["requestedSchema"]["properties"];
        assert!(props["untitledSingle"]["enum"].is_array());
        assert!(props["titledSingle"]["oneOf"][0]["title"].is_string());
        assert_eq!(
            props["legacyEnum"]["enumNames"].as_array().map(Vec::len),
            Some(3)
        );
        assert!(props["untitledMulti"]["items"]["enum"].is_array());
        assert!(props["titledMulti"]["items"]["anyOf"][0]["const"].is_string());
    })
    .await;
}
