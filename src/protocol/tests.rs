//! Sample messages for every type: each parses, re-serializes to the same
//! JSON (unknown fields included) and validates against the official schema
//! definition of the same name in each revision that has it.
//!
//! The schemas are read from `tests/spec/` in this repository (copies of the
//! published files), falling back to `../shared/spec/` beside the clone.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::*;

const MODERN: &str = "schema-2026-07-28.json";
const LEGACY: &str = "schema-2025-11-25.json";

/// Which schema files a sample must validate against.
#[derive(Clone, Copy, PartialEq)]
enum Eras {
    /// Every file that defines the name (at least one must).
    Both,
    /// 2026-07-28 only (the name must exist there).
    Modern,
    /// 2025-11-25 only (the name must exist there).
    Legacy,
}

fn load(file: &str) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        root.join("tests/spec").join(file),
        root.join("../shared/spec").join(file),
    ];
    let path = candidates
        .iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("schema {file} not found in tests/spec or ../shared/spec"));
    let text = std::fs::read_to_string(path).expect("read schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn defs(file: &str) -> &'static Value {
    static MODERN_DEFS: OnceLock<Value> = OnceLock::new();
    static LEGACY_DEFS: OnceLock<Value> = OnceLock::new();
    let cell = if file == MODERN {
        &MODERN_DEFS
    } else {
        &LEGACY_DEFS
    };
    cell.get_or_init(|| load(file)["$defs"].clone())
}

fn has_def(file: &str, name: &str) -> bool {
    defs(file).get(name).is_some()
}

fn validate(file: &str, name: &str, instance: &Value) {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/$defs/{name}"),
        "$defs": defs(file),
    });
    let validator = jsonschema::draft202012::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} sample does not validate against {file}:\n  {}\ninstance: {instance:#}",
        errors.join("\n  ")
    );
}

/// Numbers compare by value: `50` and `50.0` are the same progress.
fn norm(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().expect("finite")),
        Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
        other => other.clone(),
    }
}

fn round_trip<T>(sample: &Value) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let parsed: T = serde_json::from_value(sample.clone()).unwrap_or_else(|e| {
        panic!(
            "{} does not parse: {e}\n{sample:#}",
            std::any::type_name::<T>()
        )
    });
    let back = serde_json::to_value(&parsed).expect("serializes");
    assert_eq!(
        norm(&back),
        norm(sample),
        "{} does not round-trip",
        std::any::type_name::<T>()
    );
    let again: T = serde_json::from_value(back).expect("re-parses");
    assert_eq!(again, parsed);
    // Parsing from bytes (the path the session takes) agrees with from_value.
    let from_bytes: T = serde_json::from_slice(sample.to_string().as_bytes()).expect("bytes");
    assert_eq!(from_bytes, parsed);
    parsed
}

fn validate_in(names: &[&str], eras: Eras, instance: &Value) {
    for name in names {
        let files: Vec<&str> = match eras {
            Eras::Both => [MODERN, LEGACY]
                .into_iter()
                .filter(|f| has_def(f, name))
                .collect(),
            Eras::Modern => vec![MODERN],
            Eras::Legacy => vec![LEGACY],
        };
        assert!(!files.is_empty(), "no schema defines {name}");
        for file in files {
            assert!(has_def(file, name), "{file} does not define {name}");
            validate(file, name, instance);
        }
    }
}

/// Round-trips `sample` as `T` and validates it as each of `names`.
fn check<T>(names: &[&str], eras: Eras, sample: Value) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let parsed = round_trip::<T>(&sample);
    validate_in(names, eras, &sample);
    parsed
}

/// Like [`check`] for request params a client sends: they carry no `_meta`
/// (the session adds it), so the modern-era `_meta` is added before
/// validating, as the session would.
fn check_params<T>(name: &str, eras: Eras, sample: Value) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let parsed = round_trip::<T>(&sample);
    let mut with_meta = sample.clone();
    with_meta
        .as_object_mut()
        .expect("params are objects")
        .insert(
            "_meta".into(),
            json!({
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
                "io.modelcontextprotocol/clientInfo": {"name": "switchboard", "version": "0.1.0"},
                "progressToken": 7
            }),
        );
    validate_in(&[name], eras, &with_meta);
    parsed
}

fn server_meta() -> Value {
    json!({
        "io.modelcontextprotocol/serverInfo": {"name": "everything", "version": "2.0.1"},
        "com.example/trace": "abc"
    })
}

fn icon() -> Value {
    json!({"src": "https://example.com/icon.png", "mimeType": "image/png", "sizes": ["48x48", "any"], "theme": "dark"})
}

fn annotations() -> Value {
    json!({"audience": ["user", "assistant"], "priority": 0.5, "lastModified": "2026-01-02T03:04:05Z"})
}

// ---------------------------------------------------------------- common

#[test]
fn common_types() {
    let imp: Implementation = check(
        &["Implementation"],
        Eras::Both,
        json!({
            "name": "switchboard", "version": "0.1.0", "title": "Switchboard",
            "description": "An MCP client", "icons": [icon()],
            "websiteUrl": "https://example.com", "x-build": "abc123"
        }),
    );
    assert_eq!(imp.display_name(), "Switchboard");
    assert_eq!(imp.extra["x-build"], "abc123");

    let i: Icon = check(&["Icon"], Eras::Both, icon());
    assert_eq!(i.theme, Some(IconTheme::Dark));
    check::<Annotations>(&["Annotations"], Eras::Both, annotations());
    check::<Role>(&["Role"], Eras::Both, json!("assistant"));
    check_params::<PaginatedRequestParams>(
        "PaginatedRequestParams",
        Eras::Both,
        json!({"cursor": ""}),
    );
    check_params::<PaginatedRequestParams>("PaginatedRequestParams", Eras::Both, json!({}));

    // An old server without a version still parses.
    let lenient: Implementation = serde_json::from_value(json!({"name": "old"})).unwrap();
    assert_eq!(lenient.version, "");
    let from_meta = Implementation::from_result_meta(server_meta().as_object());
    assert_eq!(from_meta.unwrap().name, "everything");
}

// ---------------------------------------------------------- capabilities

#[test]
fn client_capabilities_both_eras() {
    let modern: ClientCapabilities = check(
        &["ClientCapabilities"],
        Eras::Both,
        json!({
            "experimental": {"com.example/beta": {"level": 2}},
            "roots": {},
            "sampling": {"context": {}, "tools": {}},
            "elicitation": {"form": {}, "url": {}},
            "extensions": {"io.modelcontextprotocol/tasks": {}, "io.modelcontextprotocol/ui": {"mimeTypes": ["text/html"]}}
        }),
    );
    assert!(modern.elicitation_form() && modern.elicitation_url());

    let legacy: ClientCapabilities = check(
        &["ClientCapabilities"],
        Eras::Both,
        json!({
            "roots": {"listChanged": true},
            "sampling": {},
            "elicitation": {},
            "tasks": {
                "list": {}, "cancel": {},
                "requests": {"sampling": {"createMessage": {}}, "elicitation": {"create": {}}}
            },
            "x-future": {"a": 1}
        }),
    );
    assert_eq!(legacy.roots.as_ref().unwrap().list_changed, Some(true));
    assert!(legacy.elicitation_form() && !legacy.elicitation_url());
    assert!(legacy.tasks.is_some());

    let built = ClientCapabilities::default()
        .with_roots(None)
        .with_sampling(true)
        .with_elicitation(true, false)
        .with_extension("io.modelcontextprotocol/tasks", JsonObject::new());
    let v = serde_json::to_value(&built).unwrap();
    assert_eq!(
        v,
        json!({"roots": {}, "sampling": {"tools": {}}, "elicitation": {"form": {}},
               "extensions": {"io.modelcontextprotocol/tasks": {}}})
    );
    validate_in(&["ClientCapabilities"], Eras::Both, &v);
}

#[test]
fn server_capabilities_both_eras() {
    let modern: ServerCapabilities = check(
        &["ServerCapabilities"],
        Eras::Both,
        json!({
            "experimental": {"com.example/x": {}},
            "logging": {}, "completions": {},
            "prompts": {"listChanged": true},
            "resources": {"subscribe": true, "listChanged": false},
            "tools": {"listChanged": true},
            "extensions": {"io.modelcontextprotocol/tasks": {"polling": true}}
        }),
    );
    assert!(modern.has_tools() && modern.tools_list_changed() && modern.resources_subscribe());
    assert!(!modern.resources_list_changed());
    assert!(modern.extension("io.modelcontextprotocol/tasks").is_some());

    let legacy: ServerCapabilities = check(
        &["ServerCapabilities"],
        Eras::Both,
        json!({
            "tools": {},
            "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
        }),
    );
    assert!(!legacy.tools_list_changed() && !legacy.has_prompts());
}

// ------------------------------------------------------------- lifecycle

#[test]
fn initialize_and_discover() {
    check_params::<InitializeRequestParams>(
        "InitializeRequestParams",
        Eras::Legacy,
        json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {"roots": {"listChanged": true}, "sampling": {}},
            "clientInfo": {"name": "switchboard", "version": "0.1.0"}
        }),
    );
    let init: InitializeResult = check(
        &["InitializeResult"],
        Eras::Legacy,
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {"listChanged": true}, "logging": {}},
            "serverInfo": {"name": "fastmcp", "version": "2.10.0"},
            "instructions": "Call add to add.",
            "_meta": {"x": 1},
            "x-extra": true
        }),
    );
    assert_eq!(init.server_info.name, "fastmcp");

    let disc: DiscoverResult = check(
        &["DiscoverResult"],
        Eras::Modern,
        json!({
            "resultType": "complete",
            "supportedVersions": ["2026-07-28", "2025-11-25"],
            "capabilities": {"tools": {}},
            "instructions": "Be nice.",
            "ttlMs": 60000,
            "cacheScope": "public",
            "_meta": server_meta()
        }),
    );
    assert_eq!(disc.cache_scope, Some(CacheScope::Public));
    assert_eq!(disc.ttl_ms(), Some(60000));
    assert_eq!(disc.server_info().unwrap().version, "2.0.1");
}

// --------------------------------------------------------------- content

fn text_block() -> Value {
    json!({"type": "text", "text": "hello", "annotations": annotations(), "_meta": {"k": "v"}, "x-lang": "en"})
}
fn image_block() -> Value {
    json!({"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png", "annotations": {"priority": 1}})
}
fn audio_block() -> Value {
    json!({"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav", "_meta": {}})
}
fn link_block() -> Value {
    json!({
        "type": "resource_link", "uri": "file:///project/src/main.rs", "name": "main.rs",
        "title": "Main", "description": "Entry point", "mimeType": "text/x-rust", "size": 1024,
        "icons": [icon()], "annotations": {"audience": ["assistant"]}, "_meta": {"k": 1}
    })
}
fn text_contents() -> Value {
    json!({"uri": "config://app", "mimeType": "application/json", "text": "{\"debug\":true}", "_meta": {"etag": "1"}})
}
fn blob_contents() -> Value {
    json!({"uri": "file:///logo.png", "mimeType": "image/png", "blob": "iVBORw0KGgo="})
}
fn embedded_block() -> Value {
    json!({"type": "resource", "resource": text_contents(), "annotations": {"priority": 0}, "_meta": {}})
}

#[test]
fn content_blocks() {
    let t: ContentBlock = check(&["ContentBlock", "TextContent"], Eras::Both, text_block());
    assert_eq!(t.as_text(), Some("hello"));
    assert_eq!(t.kind(), "text");
    match &t {
        ContentBlock::Text(tc) => assert_eq!(tc.extra["x-lang"], "en"),
        other => panic!("{other:?}"),
    }
    let i: ContentBlock = check(&["ContentBlock", "ImageContent"], Eras::Both, image_block());
    assert!(i.as_text().is_none());
    check::<ContentBlock>(&["ContentBlock", "AudioContent"], Eras::Both, audio_block());
    let l: ContentBlock = check(&["ContentBlock", "ResourceLink"], Eras::Both, link_block());
    assert!(matches!(l, ContentBlock::ResourceLink(ref r) if r.size == Some(1024)));
    let e: ContentBlock = check(
        &["ContentBlock", "EmbeddedResource"],
        Eras::Both,
        embedded_block(),
    );
    match e {
        ContentBlock::Resource(r) => assert_eq!(r.resource.as_text(), Some("{\"debug\":true}")),
        other => panic!("{other:?}"),
    }
    let blob = json!({"type": "resource", "resource": blob_contents()});
    check::<ContentBlock>(&["ContentBlock", "EmbeddedResource"], Eras::Both, blob);

    let rc: ResourceContents = check(
        &["ResourceContents", "TextResourceContents"],
        Eras::Both,
        text_contents(),
    );
    assert_eq!(rc.uri(), "config://app");
    let rb: ResourceContents = check(
        &["ResourceContents", "BlobResourceContents"],
        Eras::Both,
        blob_contents(),
    );
    assert_eq!(rb.as_blob(), Some("iVBORw0KGgo="));
    assert_eq!(rb.mime_type(), Some("image/png"));

    // Constructors produce schema-valid blocks.
    for b in [
        ContentBlock::text("x"),
        ContentBlock::image("AAAA", "image/png"),
        ContentBlock::audio("AAAA", "audio/wav"),
    ] {
        validate_in(
            &["ContentBlock"],
            Eras::Both,
            &serde_json::to_value(b).unwrap(),
        );
    }
}

#[test]
fn unknown_content_block_is_an_error_not_a_panic() {
    let err =
        serde_json::from_value::<ContentBlock>(json!({"type": "video", "url": "x"})).unwrap_err();
    assert!(err.to_string().contains("video"), "{err}");
    assert!(serde_json::from_value::<ContentBlock>(json!({"text": "no type"})).is_err());
    assert!(serde_json::from_value::<ContentBlock>(json!({"type": "text"})).is_err());
    assert!(serde_json::from_value::<ContentBlock>(json!(42)).is_err());
    assert!(serde_json::from_value::<ResourceContents>(json!({"uri": "x"})).is_err());
    let r = serde_json::from_slice::<CallToolResult>(br#"{"content":[{"type":"hologram"}]}"#);
    assert!(r.is_err());
}

// ----------------------------------------------------------------- tools

fn tool() -> Value {
    json!({
        "name": "get_weather",
        "title": "Weather",
        "description": "Current weather for a city",
        "inputSchema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"city": {"type": "string"}, "units": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"]
        },
        "outputSchema": {
            "type": "object",
            "properties": {"temp": {"type": "number"}},
            "required": ["temp"]
        },
        "annotations": {
            "title": "Weather lookup", "readOnlyHint": true, "destructiveHint": false,
            "idempotentHint": true, "openWorldHint": true
        },
        "icons": [icon()],
        "_meta": {"com.example/owner": "team-a"},
        "x-cost": 3
    })
}

#[test]
fn tools() {
    let t: Tool = check(&["Tool"], Eras::Both, tool());
    assert_eq!(t.display_name(), "Weather");
    let ann = t.annotations.as_ref().unwrap();
    assert!(ann.read_only() && !ann.destructive() && ann.idempotent() && ann.open_world());
    check::<ToolAnnotations>(
        &["ToolAnnotations"],
        Eras::Both,
        tool()["annotations"].clone(),
    );

    // Display-name precedence: title, annotations.title, name.
    let mut v = tool();
    v.as_object_mut().unwrap().remove("title");
    let t: Tool = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(t.display_name(), "Weather lookup");
    v.as_object_mut().unwrap().remove("annotations");
    let t: Tool = serde_json::from_value(v).unwrap();
    assert_eq!(t.display_name(), "get_weather");
    let defaults = ToolAnnotations::default();
    assert!(!defaults.read_only() && defaults.destructive() && defaults.open_world());

    // 2026-07-28: any output schema (an array here); no description.
    check::<Tool>(
        &["Tool"],
        Eras::Modern,
        json!({
            "name": "list_ids",
            "inputSchema": {"type": "object", "additionalProperties": false},
            "outputSchema": {"type": "array", "items": {"type": "integer"}}
        }),
    );
    // 2025-11-25: task support.
    let legacy: Tool = check(
        &["Tool"],
        Eras::Both,
        json!({"name": "slow", "inputSchema": {"type": "object"}, "execution": {"taskSupport": "optional"}}),
    );
    assert_eq!(
        legacy.execution.unwrap().task_support,
        Some(TaskSupport::Optional)
    );

    let list: ListToolsResult = check(
        &["ListToolsResult"],
        Eras::Both,
        json!({
            "resultType": "complete", "tools": [tool()], "nextCursor": "",
            "ttlMs": 30000, "cacheScope": "private", "_meta": server_meta()
        }),
    );
    assert_eq!(list.next_cursor(), Some(""));
    assert_eq!(list.items().len(), 1);
    assert_eq!(list.cache_scope(), Some(&CacheScope::Private));
    // A 2025-11-25 list: no resultType, no caching hints.
    let old: ListToolsResult = check(&["ListToolsResult"], Eras::Legacy, json!({"tools": []}));
    assert_eq!(old.ttl_ms(), None);
}

#[test]
fn call_tool() {
    check_params::<CallToolRequestParams>(
        "CallToolRequestParams",
        Eras::Both,
        json!({"name": "add", "arguments": {"a": 1, "b": 2, "note": "x"}}),
    );
    check_params::<CallToolRequestParams>(
        "CallToolRequestParams",
        Eras::Both,
        json!({"name": "now"}),
    );
    // An MRTR retry: original params + inputResponses + echoed requestState.
    let retry: CallToolRequestParams = check_params(
        "CallToolRequestParams",
        Eras::Modern,
        json!({
            "name": "deploy",
            "arguments": {"env": "prod"},
            "inputResponses": {
                "confirm": {"action": "accept", "content": {"ok": true}},
                "llm": {"role": "assistant", "content": {"type": "text", "text": "yes"}, "model": "m1", "stopReason": "endTurn"},
                "dirs": {"roots": [{"uri": "file:///work", "name": "work"}]}
            },
            "requestState": "opaque-state=="
        }),
    );
    let responses = retry.input_responses.unwrap();
    assert!(matches!(responses["confirm"], InputResponse::Elicit(_)));
    assert!(matches!(responses["llm"], InputResponse::CreateMessage(_)));
    assert!(matches!(responses["dirs"], InputResponse::ListRoots(_)));

    let r: CallToolResult = check(
        &["CallToolResult"],
        Eras::Both,
        json!({
            "resultType": "complete",
            "content": [text_block(), image_block(), link_block(), embedded_block(), {"type": "text", "text": "second"}],
            "structuredContent": {"temp": 21.5},
            "isError": false,
            "_meta": server_meta(),
            "x-latency-ms": 12
        }),
    );
    assert_eq!(r.text(), "hello\nsecond");
    assert!(!r.is_error());
    assert_eq!(r.extra["x-latency-ms"], 12);

    // 2026-07-28: structuredContent may be any value, even null.
    let arr: CallToolResult = check(
        &["CallToolResult"],
        Eras::Modern,
        json!({"resultType": "complete", "content": [], "structuredContent": [1, 2, 3]}),
    );
    assert_eq!(arr.structured_content, Some(json!([1, 2, 3])));
    let null: CallToolResult = check(
        &["CallToolResult"],
        Eras::Modern,
        json!({"resultType": "complete", "content": [], "structuredContent": null}),
    );
    assert_eq!(null.structured_content, Some(Value::Null));
    // A 2024-11-05 style error result.
    let err: CallToolResult = check(
        &["CallToolResult"],
        Eras::Legacy,
        json!({"content": [{"type": "text", "text": "boom"}], "isError": true}),
    );
    assert!(err.is_error() && err.result_type.is_none());

    for built in [
        CallToolResult::from_text("hi"),
        CallToolResult::error("bad"),
        CallToolResult::structured(json!({"a": 1})),
    ] {
        validate_in(
            &["CallToolResult"],
            Eras::Legacy,
            &serde_json::to_value(built).unwrap(),
        );
    }
}

// ------------------------------------------------------------- resources

#[test]
fn resources() {
    let resource = json!({
        "uri": "file:///project/README.md", "name": "README.md", "title": "Read me",
        "description": "Project overview", "mimeType": "text/markdown", "size": 2048,
        "icons": [icon()], "annotations": annotations(), "_meta": {"k": "v"}, "x-owner": "me"
    });
    let r: Resource = check(&["Resource"], Eras::Both, resource.clone());
    assert_eq!(r.display_name(), "Read me");
    let template = json!({
        "uriTemplate": "file:///{path}", "name": "files", "title": "Files",
        "description": "Any file", "mimeType": "application/octet-stream",
        "icons": [icon()], "annotations": {"priority": 0.2}, "_meta": {}
    });
    check::<ResourceTemplate>(&["ResourceTemplate"], Eras::Both, template.clone());
    let list: ListResourcesResult = check(
        &["ListResourcesResult"],
        Eras::Both,
        json!({"resultType": "complete", "resources": [resource], "nextCursor": "page2", "ttlMs": 0, "cacheScope": "private"}),
    );
    assert_eq!(list.next_cursor(), Some("page2"));
    check::<ListResourceTemplatesResult>(
        &["ListResourceTemplatesResult"],
        Eras::Both,
        json!({"resultType": "complete", "resourceTemplates": [template], "ttlMs": 1000, "cacheScope": "public", "_meta": server_meta()}),
    );
    check_params::<ReadResourceRequestParams>(
        "ReadResourceRequestParams",
        Eras::Both,
        json!({"uri": "config://app"}),
    );
    check_params::<ReadResourceRequestParams>(
        "ReadResourceRequestParams",
        Eras::Modern,
        json!({"uri": "config://app", "inputResponses": {"k": {"action": "decline"}}, "requestState": "s"}),
    );
    let read: ReadResourceResult = check(
        &["ReadResourceResult"],
        Eras::Both,
        json!({"resultType": "complete", "contents": [text_contents(), blob_contents()], "ttlMs": 5000, "cacheScope": "public"}),
    );
    assert_eq!(read.text(), "{\"debug\":true}");
    check_params::<SubscribeRequestParams>(
        "SubscribeRequestParams",
        Eras::Legacy,
        json!({"uri": "file:///project/README.md"}),
    );
    check_params::<UnsubscribeRequestParams>(
        "UnsubscribeRequestParams",
        Eras::Legacy,
        json!({"uri": "file:///project/README.md"}),
    );
    check::<ResourceUpdatedNotificationParams>(
        &["ResourceUpdatedNotificationParams"],
        Eras::Both,
        json!({"uri": "file:///project/README.md", "_meta": {"io.modelcontextprotocol/subscriptionId": 4}}),
    );
}

// --------------------------------------------------------------- prompts

#[test]
fn prompts() {
    let prompt = json!({
        "name": "code_review", "title": "Code review", "description": "Review a diff",
        "arguments": [
            {"name": "code", "title": "Code", "description": "The code", "required": true},
            {"name": "style"}
        ],
        "icons": [icon()], "_meta": {"k": 1}
    });
    let p: Prompt = check(&["Prompt"], Eras::Both, prompt.clone());
    assert_eq!(p.display_name(), "Code review");
    check::<PromptArgument>(
        &["PromptArgument"],
        Eras::Both,
        prompt["arguments"][0].clone(),
    );
    let list: ListPromptsResult = check(
        &["ListPromptsResult"],
        Eras::Both,
        json!({"resultType": "complete", "prompts": [prompt], "ttlMs": 10, "cacheScope": "public"}),
    );
    assert!(list.next_cursor().is_none());
    check::<PromptMessage>(
        &["PromptMessage"],
        Eras::Both,
        json!({"role": "user", "content": text_block()}),
    );
    check_params::<GetPromptRequestParams>(
        "GetPromptRequestParams",
        Eras::Both,
        json!({"name": "code_review", "arguments": {"code": "fn main() {}", "style": "terse"}}),
    );
    check_params::<GetPromptRequestParams>(
        "GetPromptRequestParams",
        Eras::Modern,
        json!({"name": "code_review", "requestState": "s1"}),
    );
    let got: GetPromptResult = check(
        &["GetPromptResult"],
        Eras::Both,
        json!({
            "resultType": "complete", "description": "A review",
            "messages": [
                {"role": "user", "content": {"type": "text", "text": "Review this"}},
                {"role": "assistant", "content": embedded_block()}
            ],
            "_meta": server_meta()
        }),
    );
    assert_eq!(got.messages[1].role, Role::Assistant);
    validate_in(
        &["PromptMessage"],
        Eras::Both,
        &serde_json::to_value(PromptMessage::new(Role::User, "hi")).unwrap(),
    );
}

// -------------------------------------------------------------- sampling

fn create_message_params() -> Value {
    json!({
        "messages": [
            {"role": "user", "content": {"type": "text", "text": "What is the weather in Paris?"}},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}, "_meta": {"k": 1}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "toolUseId": "call_1",
                 "content": [{"type": "text", "text": "{\"temp\":21}"}],
                 "structuredContent": {"temp": 21}, "isError": false}
            ], "_meta": {}}
        ],
        "maxTokens": 512,
        "systemPrompt": "You are helpful.",
        "includeContext": "thisServer",
        "temperature": 0.7,
        "stopSequences": ["\n\nHuman:"],
        "metadata": {"provider": "any", "seed": 7},
        "modelPreferences": {
            "hints": [{"name": "claude-3-sonnet"}, {"name": "gpt"}],
            "costPriority": 0.3, "speedPriority": 0.5, "intelligencePriority": 0.9
        },
        "tools": [tool()],
        "toolChoice": {"mode": "auto"},
        "_meta": {"progressToken": "p-1"}
    })
}

#[test]
fn sampling() {
    let p: CreateMessageRequestParams = check(
        &["CreateMessageRequestParams"],
        Eras::Both,
        create_message_params(),
    );
    assert_eq!(p.include_context, Some(IncludeContext::ThisServer));
    assert_eq!(p.messages[1].content.blocks().len(), 2);
    assert_eq!(
        p.messages[0].content.text(),
        "What is the weather in Paris?"
    );
    assert_eq!(
        p.tool_choice.as_ref().unwrap().mode,
        Some(ToolChoiceMode::Auto)
    );
    // 2025-11-25 task augmentation survives in extra.
    let mut with_task = create_message_params();
    with_task["task"] = json!({"ttl": 60000});
    let p: CreateMessageRequestParams =
        check(&["CreateMessageRequestParams"], Eras::Legacy, with_task);
    assert!(p.extra.contains_key("task"));

    let msgs = create_message_params()["messages"].clone();
    for m in msgs.as_array().unwrap() {
        check::<SamplingMessage>(&["SamplingMessage"], Eras::Both, m.clone());
    }
    let tool_use = msgs[1]["content"][1].clone();
    check::<SamplingContent>(
        &["SamplingMessageContentBlock", "ToolUseContent"],
        Eras::Both,
        tool_use,
    );
    let tool_result = msgs[2]["content"][0].clone();
    check::<SamplingContent>(
        &["SamplingMessageContentBlock", "ToolResultContent"],
        Eras::Both,
        tool_result,
    );
    check::<SamplingContent>(&["SamplingMessageContentBlock"], Eras::Both, audio_block());
    // 2026-07-28: a tool result's structuredContent may be any value.
    check::<SamplingContent>(
        &["ToolResultContent"],
        Eras::Modern,
        json!({"type": "tool_result", "toolUseId": "c", "content": [], "structuredContent": "done"}),
    );
    check::<ModelPreferences>(
        &["ModelPreferences"],
        Eras::Both,
        create_message_params()["modelPreferences"].clone(),
    );
    check::<ModelHint>(&["ModelHint"], Eras::Both, json!({"name": "haiku"}));
    check::<ToolChoice>(&["ToolChoice"], Eras::Both, json!({"mode": "required"}));
    check::<ToolChoice>(&["ToolChoice"], Eras::Both, json!({}));

    let r: CreateMessageResult = check(
        &["CreateMessageResult"],
        Eras::Both,
        json!({
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Lyon"}}],
            "model": "claude-3-sonnet-20240307",
            "stopReason": "toolUse",
            "_meta": {"usage": {"in": 10, "out": 5}}
        }),
    );
    assert_eq!(r.stop_reason, Some(StopReason::ToolUse));
    let r: CreateMessageResult = check(
        &["CreateMessageResult"],
        Eras::Both,
        json!({"role": "assistant", "content": {"type": "text", "text": "Sunny"}, "model": "m", "stopReason": "content_filter"}),
    );
    assert_eq!(
        r.stop_reason,
        Some(StopReason::Other("content_filter".into()))
    );
    let built = serde_json::to_value(CreateMessageResult::text("gpt-4o", "Hi")).unwrap();
    assert_eq!(
        built,
        json!({"role": "assistant", "content": {"type": "text", "text": "Hi"}, "model": "gpt-4o", "stopReason": "endTurn"})
    );
    validate_in(&["CreateMessageResult"], Eras::Both, &built);
}

// ----------------------------------------------------------- elicitation

fn form_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "Name", "description": "Your name", "minLength": 1, "maxLength": 50, "default": "Ada"},
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer", "minimum": 0, "maximum": 150, "default": 30},
            "ratio": {"type": "number", "minimum": 0.5, "maximum": 2.5, "default": 1.5},
            "subscribe": {"type": "boolean", "title": "Subscribe", "default": false},
            "color": {"type": "string", "enum": ["red", "green"], "default": "red"},
            "size": {"type": "string", "title": "Size", "oneOf": [{"const": "s", "title": "Small"}, {"const": "l", "title": "Large"}]},
            "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string", "enum": ["a", "b", "c"]}, "default": ["a"]},
            "langs": {"type": "array", "items": {"anyOf": [{"const": "rs", "title": "Rust"}, {"const": "py", "title": "Python"}]}},
            "legacy": {"type": "string", "enum": ["x", "y"], "enumNames": ["Ex", "Why"]}
        },
        "required": ["name", "email"]
    })
}

#[test]
fn elicitation_form() {
    let sample = json!({
        "mode": "form",
        "message": "Please fill in your details",
        "requestedSchema": form_schema(),
        "_meta": {"progressToken": 3},
        "x-hint": "modal"
    });
    let p: ElicitRequestParams = check(
        &["ElicitRequestParams", "ElicitRequestFormParams"],
        Eras::Both,
        sample,
    );
    let ElicitRequestParams::Form(form) = &p else {
        panic!("{p:?}")
    };
    assert_eq!(p.message(), "Please fill in your details");
    assert_eq!(form.extra["x-hint"], "modal");
    let schema = &form.requested_schema;
    assert!(schema.is_required("email") && !schema.is_required("age"));
    let kind = |n: &str| schema.properties.get(n).unwrap().kind();
    assert_eq!(kind("name"), FieldKind::String);
    assert_eq!(kind("age"), FieldKind::Integer);
    assert_eq!(kind("ratio"), FieldKind::Number);
    assert_eq!(kind("subscribe"), FieldKind::Boolean);
    assert_eq!(kind("color"), FieldKind::SingleSelect);
    assert_eq!(kind("size"), FieldKind::SingleSelect);
    assert_eq!(kind("tags"), FieldKind::MultiSelect);
    assert_eq!(kind("langs"), FieldKind::MultiSelect);
    let opts = |n: &str| schema.properties.get(n).unwrap().options();
    assert_eq!(opts("size")[1], ("l".to_string(), "Large".to_string()));
    assert_eq!(opts("legacy")[0], ("x".to_string(), "Ex".to_string()));
    assert_eq!(opts("color")[1], ("green".to_string(), "green".to_string()));
    assert_eq!(opts("langs")[0], ("rs".to_string(), "Rust".to_string()));
    assert_eq!(opts("tags").len(), 3);
    assert!(opts("name").is_empty());

    for (_, field) in form_schema()["properties"].as_object().unwrap() {
        check::<PrimitiveSchemaDefinition>(
            &["PrimitiveSchemaDefinition"],
            Eras::Both,
            field.clone(),
        );
    }
}

#[test]
fn elicitation_form_fields_keep_the_servers_order() {
    // From bytes, as the session decodes (a `json!` value would sort keys).
    let raw = br#"{"mode":"form","message":"m","requestedSchema":{"type":"object","properties":{
        "zeta":{"type":"string"},"alpha":{"type":"boolean"},"mid":{"type":"integer"}}}}"#;
    let p: ElicitRequestParams = serde_json::from_slice(raw).unwrap();
    let ElicitRequestParams::Form(form) = &p else {
        panic!("{p:?}")
    };
    let names: Vec<&str> = form
        .requested_schema
        .properties
        .iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(names, ["zeta", "alpha", "mid"]);
    let out = serde_json::to_string(&p).unwrap();
    assert!(out.find("zeta").unwrap() < out.find("alpha").unwrap());
    // Also when nested in an input-required result (buffered by serde).
    let nested = format!(
        r#"{{"resultType":"input_required","inputRequests":{{"k":{{"params":{},"method":"elicitation/create"}}}}}}"#,
        std::str::from_utf8(raw).unwrap()
    );
    let r: InputRequiredResult = serde_json::from_str(&nested).unwrap();
    match &r.input_requests.unwrap()["k"] {
        InputRequest::Elicit(ElicitRequestParams::Form(f)) => {
            let names: Vec<&str> = f
                .requested_schema
                .properties
                .iter()
                .map(|(k, _)| k)
                .collect();
            assert_eq!(names, ["zeta", "alpha", "mid"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn elicitation_without_mode_is_a_form() {
    // 2025-06-18 servers send no mode.
    let raw = json!({"message": "Name?", "requestedSchema": {"type": "object", "properties": {"n": {"type": "string"}}}});
    let p: ElicitRequestParams = serde_json::from_value(raw.clone()).unwrap();
    assert!(matches!(p, ElicitRequestParams::Form(_)));
    validate_in(&["ElicitRequestParams"], Eras::Both, &raw);
    // Re-serialized with the explicit mode (equivalent, and schema-valid).
    let back = serde_json::to_value(&p).unwrap();
    assert_eq!(back["mode"], "form");
    validate_in(&["ElicitRequestFormParams"], Eras::Both, &back);
    // Missing requestedSchema, unknown mode and garbage fail cleanly.
    assert!(serde_json::from_value::<ElicitRequestParams>(json!({"message": "x"})).is_err());
    assert!(serde_json::from_value::<ElicitRequestParams>(
        json!({"mode": "voice", "message": "x"})
    )
    .is_err());
    assert!(serde_json::from_value::<ElicitRequestParams>(json!("form")).is_err());
}

#[test]
fn elicitation_url_and_results() {
    // 2025-11-25 (with elicitationId) validates in both eras.
    let p: ElicitRequestParams = check(
        &["ElicitRequestParams", "ElicitRequestURLParams"],
        Eras::Both,
        json!({
            "mode": "url", "message": "Sign in to continue",
            "url": "https://auth.example.com/start?x=1", "elicitationId": "el-42"
        }),
    );
    match p {
        ElicitRequestParams::Url(u) => assert_eq!(u.elicitation_id.as_deref(), Some("el-42")),
        other => panic!("{other:?}"),
    }
    // 2026-07-28 has no elicitationId.
    check::<ElicitRequestParams>(
        &["ElicitRequestURLParams"],
        Eras::Modern,
        json!({"mode": "url", "message": "Pay", "url": "https://pay.example.com/"}),
    );
    assert!(
        serde_json::from_value::<ElicitRequestParams>(json!({"mode": "url", "message": "x"}))
            .is_err()
    );

    let r: ElicitResult = check(
        &["ElicitResult"],
        Eras::Both,
        json!({"action": "accept", "content": {"name": "Ada", "age": 36, "subscribe": true, "tags": ["a", "b"]}}),
    );
    assert_eq!(r.action, ElicitAction::Accept);
    check::<ElicitResult>(&["ElicitResult"], Eras::Both, json!({"action": "decline"}));
    check::<ElicitResult>(
        &["ElicitResult"],
        Eras::Legacy,
        json!({"action": "cancel", "_meta": {"k": 1}}),
    );
    for built in [
        ElicitResult::accept(json!({"n": "x"}).as_object().unwrap().clone()),
        ElicitResult::accept_url(),
        ElicitResult::decline(),
        ElicitResult::cancel(),
    ] {
        validate_in(
            &["ElicitResult"],
            Eras::Both,
            &serde_json::to_value(built).unwrap(),
        );
    }
    assert!(serde_json::from_value::<ElicitResult>(json!({"action": "maybe"})).is_err());

    let n: ElicitationCompleteNotificationParams = round_trip(&json!({"elicitationId": "el-42"}));
    validate_in(
        &["ElicitationCompleteNotification"],
        Eras::Legacy,
        &json!({"jsonrpc": "2.0", "method": "notifications/elicitation/complete", "params": n}),
    );
}

// ----------------------------------------------------------------- roots

#[test]
fn roots() {
    let r: Root = check(
        &["Root"],
        Eras::Both,
        json!({"uri": "file:///home/me/project", "name": "project", "_meta": {"k": "v"}}),
    );
    assert_eq!(
        r,
        Root::new("file:///home/me/project")
            .with_name("project")
            .with_meta_for_test()
    );
    check::<ListRootsResult>(
        &["ListRootsResult"],
        Eras::Both,
        json!({"roots": [{"uri": "file:///a"}, {"uri": "file:///b", "name": "b"}]}),
    );
    check::<ListRootsResult>(
        &["ListRootsResult"],
        Eras::Legacy,
        json!({"roots": [], "_meta": {}}),
    );
    let built = serde_json::to_value(ListRootsResult::new(vec![Root::new("file:///x")])).unwrap();
    validate_in(&["ListRootsResult"], Eras::Both, &built);
}

impl Root {
    fn with_meta_for_test(mut self) -> Self {
        self.meta = json!({"k": "v"}).as_object().cloned();
        self
    }
}

// --------------------------------------------------------------- logging

#[test]
fn logging() {
    use LoggingLevel::*;
    for l in LoggingLevel::ALL {
        let v = check::<LoggingLevel>(&["LoggingLevel"], Eras::Both, json!(l.as_str()));
        assert_eq!(v, l);
        assert_eq!(l.to_string().parse::<LoggingLevel>().unwrap(), l);
    }
    assert!(Debug < Info && Info < Notice && Notice < Warning && Warning < Error);
    assert!(Error < Critical && Critical < Alert && Alert < Emergency);
    assert_eq!(LoggingLevel::ALL.iter().max(), Some(&Emergency));
    assert_eq!("WARN".parse::<LoggingLevel>().unwrap(), Warning);
    assert!("verbose".parse::<LoggingLevel>().is_err());
    assert!(serde_json::from_value::<LoggingLevel>(json!("verbose")).is_err());

    check_params::<SetLevelRequestParams>(
        "SetLevelRequestParams",
        Eras::Legacy,
        json!({"level": "warning"}),
    );
    let m: LoggingMessageNotificationParams = check(
        &["LoggingMessageNotificationParams"],
        Eras::Both,
        json!({"level": "error", "logger": "db", "data": {"error": "connection lost", "retries": 3}, "_meta": {}}),
    );
    assert_eq!(m.level, Error);
    check::<LoggingMessageNotificationParams>(
        &["LoggingMessageNotificationParams"],
        Eras::Both,
        json!({"level": "info", "data": "plain string"}),
    );
}

// ------------------------------------------------------------ completion

#[test]
fn completion() {
    let p: CompleteRequestParams = check_params(
        "CompleteRequestParams",
        Eras::Both,
        json!({
            "ref": {"type": "ref/prompt", "name": "code_review", "title": "Code review"},
            "argument": {"name": "language", "value": "py"},
            "context": {"arguments": {"framework": "django"}}
        }),
    );
    assert!(matches!(p.reference, Reference::Prompt(ref r) if r.name == "code_review"));
    check_params::<CompleteRequestParams>(
        "CompleteRequestParams",
        Eras::Both,
        json!({"ref": {"type": "ref/resource", "uri": "file:///{path}"}, "argument": {"name": "path", "value": "sr"}}),
    );
    check::<Reference>(
        &["PromptReference"],
        Eras::Both,
        json!({"type": "ref/prompt", "name": "p"}),
    );
    check::<Reference>(
        &["ResourceTemplateReference"],
        Eras::Both,
        json!({"type": "ref/resource", "uri": "db://{table}"}),
    );
    assert!(serde_json::from_value::<Reference>(json!({"type": "ref/tool", "name": "x"})).is_err());
    let built = CompleteRequestParams::new(Reference::resource("file:///{p}"), "p", "a");
    round_trip::<CompleteRequestParams>(&serde_json::to_value(built).unwrap());

    let r: CompleteResult = check(
        &["CompleteResult"],
        Eras::Both,
        json!({"resultType": "complete", "completion": {"values": ["python", "pytorch"], "total": 10, "hasMore": true}, "_meta": server_meta()}),
    );
    assert_eq!(r.completion.has_more, Some(true));
    check::<CompleteResult>(
        &["CompleteResult"],
        Eras::Legacy,
        json!({"completion": {"values": []}}),
    );
}

// --------------------------------------------------- progress, cancelled

#[test]
fn progress_and_cancellation() {
    assert_eq!(
        check::<ProgressToken>(&["ProgressToken"], Eras::Both, json!(42)),
        ProgressToken::Number(42)
    );
    assert_eq!(
        check::<ProgressToken>(&["ProgressToken"], Eras::Both, json!("tok-1")),
        ProgressToken::from("tok-1")
    );
    assert!(serde_json::from_value::<ProgressToken>(json!(1.5)).is_err());
    let p: ProgressNotificationParams = check(
        &["ProgressNotificationParams"],
        Eras::Both,
        json!({"progressToken": 42, "progress": 50, "total": 100, "message": "Halfway", "_meta": {}}),
    );
    assert_eq!(p.progress, 50.0);
    check::<ProgressNotificationParams>(
        &["ProgressNotificationParams"],
        Eras::Both,
        json!({"progressToken": "t", "progress": 0.25}),
    );
    let c: CancelledNotificationParams = check(
        &["CancelledNotificationParams"],
        Eras::Both,
        json!({"requestId": 7, "reason": "User pressed Esc"}),
    );
    assert_eq!(
        c,
        CancelledNotificationParams::new(7, Some("User pressed Esc".into()))
    );
    check::<CancelledNotificationParams>(
        &["CancelledNotificationParams"],
        Eras::Both,
        json!({"requestId": "listen-1", "_meta": {"io.modelcontextprotocol/subscriptionId": "listen-1"}}),
    );
    // 2025-11-25 allows omitting requestId (task cancellation).
    check::<CancelledNotificationParams>(&["CancelledNotificationParams"], Eras::Legacy, json!({}));
}

// --------------------------------------------------------- subscriptions

#[test]
fn subscriptions() {
    let filter = json!({
        "toolsListChanged": true, "promptsListChanged": false, "resourcesListChanged": true,
        "resourceSubscriptions": ["file:///project/README.md", "config://app"]
    });
    let f: SubscriptionFilter = check(&["SubscriptionFilter"], Eras::Modern, filter.clone());
    assert!(!f.is_empty());
    assert!(SubscriptionFilter::default().is_empty());
    check_params::<ListenRequestParams>(
        "SubscriptionsListenRequestParams",
        Eras::Modern,
        json!({"notifications": filter}),
    );
    let ack: SubscriptionsAcknowledgedParams = check(
        &["SubscriptionsAcknowledgedNotificationParams"],
        Eras::Modern,
        json!({"notifications": {"toolsListChanged": true}, "_meta": {"io.modelcontextprotocol/subscriptionId": 12}}),
    );
    assert_eq!(
        subscription_id(ack.meta.as_ref()),
        Some(RequestId::Number(12))
    );
    let end: SubscriptionsListenResult = check(
        &["SubscriptionsListenResult"],
        Eras::Modern,
        json!({"resultType": "complete", "_meta": {"io.modelcontextprotocol/subscriptionId": "s-1"}}),
    );
    assert_eq!(
        subscription_id(end.meta.as_ref()),
        Some(RequestId::String("s-1".into()))
    );
}

// -------------------------------------------------------- input required

fn input_required_sample() -> Value {
    json!({
        "resultType": "input_required",
        "inputRequests": {
            "confirm": {"method": "elicitation/create", "params": {
                "mode": "form",
                "message": "Deploy to prod?",
                "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
            }},
            "login": {"method": "elicitation/create", "params": {
                "mode": "url", "message": "Sign in", "url": "https://auth.example.com/"
            }},
            "summary": {"method": "sampling/createMessage", "params": {
                "messages": [{"role": "user", "content": {"type": "text", "text": "Summarize"}}],
                "maxTokens": 100
            }},
            "where": {"method": "roots/list"},
            "where2": {"method": "roots/list", "params": {"_meta": {"k": 1}}}
        },
        "requestState": "eyJzdGVwIjoyfQ==",
        "_meta": server_meta()
    })
}

#[test]
fn input_required() {
    let r: InputRequiredResult = check(
        &["InputRequiredResult"],
        Eras::Modern,
        input_required_sample(),
    );
    let reqs = r.input_requests.as_ref().unwrap();
    assert!(matches!(
        &reqs["confirm"],
        InputRequest::Elicit(ElicitRequestParams::Form(_))
    ));
    assert!(matches!(
        &reqs["login"],
        InputRequest::Elicit(ElicitRequestParams::Url(_))
    ));
    assert!(matches!(&reqs["summary"], InputRequest::CreateMessage(p) if p.max_tokens == 100));
    assert!(matches!(&reqs["where"], InputRequest::ListRoots(None)));
    assert!(matches!(&reqs["where2"], InputRequest::ListRoots(Some(_))));
    assert_eq!(reqs["summary"].method(), "sampling/createMessage");
    assert_eq!(r.request_state.as_deref(), Some("eyJzdGVwIjoyfQ=="));

    for (_, req) in input_required_sample()["inputRequests"]
        .as_object()
        .unwrap()
    {
        let parsed: InputRequest = check(&["InputRequest"], Eras::Modern, req.clone());
        assert_eq!(parsed.method(), req["method"]);
    }
    // Only requestState: the client may retry at once.
    check::<InputRequiredResult>(
        &["InputRequiredResult"],
        Eras::Modern,
        json!({"resultType": "input_required", "requestState": "s"}),
    );
    // An unknown method fails cleanly.
    assert!(
        serde_json::from_value::<InputRequest>(json!({"method": "tasks/get", "params": {}}))
            .is_err()
    );

    for resp in [
        json!({"action": "accept", "content": {"ok": true}}),
        json!({"role": "assistant", "content": {"type": "text", "text": "Summary"}, "model": "m"}),
        json!({"roots": [{"uri": "file:///w"}]}),
    ] {
        check::<InputResponse>(&["InputResponse"], Eras::Modern, resp);
    }
    let responses: InputResponses = BTreeMap::from([
        (
            "confirm".to_string(),
            InputResponse::from(ElicitResult::decline()),
        ),
        (
            "summary".to_string(),
            CreateMessageResult::text("m", "s").into(),
        ),
        (
            "where".to_string(),
            ListRootsResult::new(vec![Root::new("file:///w")]).into(),
        ),
    ]);
    validate_in(
        &["InputResponses"],
        Eras::Modern,
        &serde_json::to_value(&responses).unwrap(),
    );
}

// ---------------------------------------------------------- result types

#[test]
fn result_type_sniffing() {
    assert_eq!(
        ResultType::sniff(br#"{"tools":[]}"#).unwrap(),
        ResultType::Complete
    );
    assert_eq!(
        ResultType::sniff(br#"{"content":[],"resultType":"complete"}"#).unwrap(),
        ResultType::Complete
    );
    assert_eq!(
        ResultType::sniff(br#"{"resultType":null}"#).unwrap(),
        ResultType::Complete
    );
    assert_eq!(
        ResultType::sniff(input_required_sample().to_string().as_bytes()).unwrap(),
        ResultType::InputRequired
    );
    assert_eq!(
        ResultType::sniff(br#"{"_meta":{"resultType":"x"},"resultType":"task","task":{}}"#)
            .unwrap(),
        ResultType::Other("task".into())
    );
    assert!(ResultType::sniff(b"[1,2]").is_err());
    assert!(ResultType::sniff(br#"{"resultType":5}"#).is_err());
    assert!(ResultType::sniff(b"not json").is_err());

    let complete = ResultEnvelope::<CallToolResult>::decode(
        br#"{"content":[{"type":"text","text":"4"}],"isError":false}"#,
    )
    .unwrap();
    assert!(matches!(complete, ResultEnvelope::Complete(ref r) if r.text() == "4"));
    let ir =
        ResultEnvelope::<CallToolResult>::decode(input_required_sample().to_string().as_bytes())
            .unwrap();
    assert!(matches!(ir, ResultEnvelope::InputRequired(ref r) if r.request_state.is_some()));
    let other = ResultEnvelope::<CallToolResult>::decode(
        br#"{"resultType":"task","task":{"taskId":"t1"}}"#,
    )
    .unwrap();
    assert!(
        matches!(other, ResultEnvelope::Other { ref result_type, .. } if result_type == "task")
    );

    let e: EmptyResult = check(
        &["Result", "EmptyResult"],
        Eras::Modern,
        json!({"resultType": "complete", "_meta": server_meta()}),
    );
    assert_eq!(e.result_type, Some(ResultType::Complete));
    check::<EmptyResult>(&["Result", "EmptyResult"], Eras::Legacy, json!({}));
    let rt: ResultType = round_trip(&json!("task"));
    assert_eq!(rt.as_str(), "task");
    assert_eq!(ResultType::default(), ResultType::Complete);
}

// ------------------------------------------------------------- leniency

#[test]
fn lenient_on_old_and_sloppy_servers() {
    // 2024-11-05: no title, no annotations, no resultType, no description.
    let t: Tool =
        serde_json::from_value(json!({"name": "echo", "inputSchema": {"type": "object"}})).unwrap();
    assert_eq!(t.display_name(), "echo");
    // A tool without an inputSchema still parses.
    let t: Tool = serde_json::from_value(json!({"name": "bare"})).unwrap();
    assert!(t.input_schema.is_empty());
    // Unknown enum-ish strings survive.
    let l: ListToolsResult =
        serde_json::from_value(json!({"tools": [], "cacheScope": "team", "ttlMs": -5})).unwrap();
    assert_eq!(l.cache_scope, Some(CacheScope::Other("team".into())));
    assert_eq!(l.ttl_ms, Some(-5));
    // An initialize result missing serverInfo.
    let i: InitializeResult =
        serde_json::from_value(json!({"protocolVersion": "2024-11-05", "capabilities": {}}))
            .unwrap();
    assert_eq!(i.server_info.name, "");
    // Garbage never panics.
    for bad in [
        json!(null),
        json!([]),
        json!("x"),
        json!({"tools": 5}),
        json!({"content": {}}),
    ] {
        let _ = serde_json::from_value::<ListToolsResult>(bad.clone());
        let _ = serde_json::from_value::<CallToolResult>(bad.clone());
        let _ = serde_json::from_value::<InputRequiredResult>(bad.clone());
        let _ = serde_json::from_value::<ElicitRequestParams>(bad);
    }
}

#[test]
fn the_schema_check_is_not_vacuous() {
    for (file, name, bad) in [
        (
            MODERN,
            "Tool",
            json!({"name": 1, "inputSchema": {"type": "object"}}),
        ),
        (LEGACY, "Tool", json!({"name": "x"})),
        (MODERN, "CallToolResult", json!({"content": []})), // no resultType
        (
            LEGACY,
            "CallToolResult",
            json!({"content": [], "structuredContent": [1]}),
        ),
        (MODERN, "ContentBlock", json!({"type": "video"})),
        (
            MODERN,
            "InputRequest",
            json!({"method": "roots/list", "params": null}),
        ),
    ] {
        let caught = std::panic::catch_unwind(|| validate(file, name, &bad));
        assert!(caught.is_err(), "{name} in {file} accepted {bad}");
    }
}

#[test]
fn blob_bytes_decode_padded_and_unpadded_base64_and_refuse_the_rest() {
    let contents = |blob: &str| -> ResourceContents {
        serde_json::from_value(json!({"uri": "file:///b", "blob": blob})).unwrap()
    };
    let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    assert_eq!(
        contents("iVBORw0KGgo=").blob_bytes().unwrap(),
        Some(png.to_vec())
    );
    assert_eq!(
        contents(" iVBORw0KGgo \n").blob_bytes().unwrap(),
        Some(png.to_vec())
    );
    assert!(matches!(
        contents("not base64!").blob_bytes(),
        Err(ProtocolError::InvalidBase64 { .. })
    ));
    let text: ResourceContents =
        serde_json::from_value(json!({"uri": "file:///t", "text": "hi"})).unwrap();
    assert_eq!(text.blob_bytes().unwrap(), None);
}

/// Issue 12 (fuzzing, target `content`): a number in a result reads as the
/// nearest f64, so it survives a decode and an encode (a result passed on
/// keeps its numbers). serde_json's default reader was one unit in the last
/// place off: `1.1111111911111111e30` came back as `...113e30`.
#[test]
fn numbers_in_results_read_exactly_and_survive_an_encode() {
    for text in [
        "1.1111111911111111e30",
        "999000000159089797835941478400",
        "0.1",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
    ] {
        let raw = format!(r#"{{"content":[],"structuredContent":{{"x":{text}}}}}"#);
        let once: CallToolResult = serde_json::from_str(&raw).unwrap();
        let x = once.structured_content.as_ref().unwrap()["x"].as_f64();
        assert_eq!(x, text.parse::<f64>().ok(), "{text}");
        let again: CallToolResult =
            serde_json::from_slice(&serde_json::to_vec(&once).unwrap()).unwrap();
        assert_eq!(again, once, "{text}");
    }
}

#[test]
fn resource_contents_with_both_text_and_blob_are_text_and_stay_so() {
    for json in [
        r#"{"uri":"a:b","blob":"aGk=","text":"t","x":1,"x":2}"#,
        r#"{"text":"t","uri":"a:b","blob":"aGk="}"#,
    ] {
        let first: ResourceContents = serde_json::from_str(json).unwrap();
        assert_eq!(first.as_text(), Some("t"), "{json}");
        let again: ResourceContents =
            serde_json::from_slice(&serde_json::to_vec(&first).unwrap()).unwrap();
        assert_eq!(again, first, "{json}");
    }
    let blob: ResourceContents = serde_json::from_str(r#"{"uri":"a:b","blob":"aGk="}"#).unwrap();
    assert_eq!(blob.as_blob(), Some("aGk="));
    let err = serde_json::from_str::<ResourceContents>(r#"{"uri":"a:b"}"#).unwrap_err();
    assert!(err.to_string().contains("\"text\" or \"blob\""), "{err}");
}
