//! The FastMCP 4 peer over stdio, every scenario in both eras: negotiated
//! automatically (FastMCP answers `server/discover`, so 2026-07-28) and
//! forced to the 2025-11-25 handshake.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use switchboard::protocol::{ContentBlock, Era, LoggingLevel, Role};
use switchboard::{Client, Error, ProtocolVersion, VersionChoice};

#[derive(Debug, Clone, Copy)]
enum Mode {
    Auto,
    Handshake,
}

fn builder(mode: Mode, marker: &str) -> switchboard::ClientBuilder {
    let b = common::fastmcp(marker);
    match mode {
        Mode::Auto => b,
        Mode::Handshake => b.protocol(VersionChoice::Exact(ProtocolVersion::V2025_11_25)),
    }
}

fn assert_era(client: &Client, mode: Mode) {
    match mode {
        Mode::Auto => {
            assert_eq!(
                client.protocol_version(),
                Some(ProtocolVersion::V2026_07_28)
            );
            assert_eq!(client.era(), Some(Era::Modern));
        }
        Mode::Handshake => {
            assert_eq!(
                client.protocol_version(),
                Some(ProtocolVersion::V2025_11_25)
            );
            assert_eq!(client.era(), Some(Era::Handshake));
        }
    }
    let info = client.server_info().expect("server info after connect");
    assert_eq!(info.name, "switchboard-fastmcp-peer");
    assert_eq!(info.version, "1.0.0");
    assert_eq!(
        client.instructions().as_deref(),
        Some("Switchboard test peer (FastMCP 4).")
    );
}

async fn connect(mode: Mode, marker: &str) -> Client {
    let client = builder(mode, marker)
        .connect()
        .await
        .expect("connect to FastMCP");
    assert_era(&client, mode);
    client
}

async fn finish(client: Client, marker: &str) {
    client.close().await.expect("close");
    assert!(client.is_closed());
    drop(client);
    common::assert_no_process(marker, Duration::from_secs(5)).await;
}

#[derive(Debug, Deserialize, PartialEq)]
struct Sum {
    sum: i64,
}

/// list_tools, structured output, isError, image content.
async fn tools(mode: Mode) {
    let marker = common::marker("fastmcp-tools");
    let client = connect(mode, &marker).await;

    let tools = client.list_tools().await.expect("list_tools");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["add", "announce", "echo", "fail", "image", "log", "slow"]
    );
    let by_name = |n: &str| tools.iter().find(|t| t.name == n).unwrap();
    let add = by_name("add");
    assert_eq!(
        serde_json::Value::Object(add.output_schema.clone().expect("add has an outputSchema")),
        json!({"properties":{"sum":{"type":"integer"}},"required":["sum"],"type":"object"})
    );
    assert_eq!(
        add.input_schema.get("required"),
        Some(&json!(["a", "b"])),
        "add's inputSchema: {:?}",
        add.input_schema
    );
    let fail_schema = by_name("fail").output_schema.clone().expect("fail schema");
    assert_eq!(fail_schema.get("x-fastmcp-wrap-result"), Some(&json!(true)));
    assert!(by_name("echo").output_schema.is_none());
    assert!(by_name("image").output_schema.is_none());

    // Structured output, checked against outputSchema and decoded.
    let out = client
        .call_tool("add", json!({"a": 1, "b": 2}))
        .await
        .expect("call add");
    assert!(!out.is_error());
    assert_eq!(out.tool(), "add");
    assert_eq!(out.structured(), Some(&json!({"sum": 3})));
    assert_eq!(out.data::<Sum>().expect("decode Sum"), Sum { sum: 3 });
    assert_eq!(out.text(), r#"{"sum":3}"#);

    // Plain text, no structured content.
    let echo = client
        .call_tool("echo", json!({"text": "hello, wire"}))
        .await
        .expect("call echo");
    assert_eq!(echo.text(), "hello, wire");
    assert!(echo.structured().is_none());

    // isError is a result, not an Err; into_result turns it into ToolFailed.
    let failed = client
        .call_tool("fail", json!({"message": "boom: disk on fire"}))
        .await
        .expect("an isError result is still Ok");
    assert!(failed.is_error());
    assert!(failed.text().contains("boom: disk on fire"), "{failed:?}");
    assert!(matches!(
        failed.data::<Sum>(),
        Err(Error::ToolFailed { .. })
    ));
    match failed.into_result() {
        Err(Error::ToolFailed { tool, message }) => {
            assert_eq!(tool, "fail");
            assert!(message.contains("boom: disk on fire"), "{message}");
        }
        other => panic!("expected ToolFailed, got {other:?}"),
    }

    // Image content.
    let img = client.call_tool("image", ()).await.expect("call image");
    assert!(!img.is_error());
    assert_eq!(img.content.len(), 1, "{img:?}");
    match &img.content[0] {
        ContentBlock::Image(image) => {
            assert_eq!(image.mime_type, "image/png");
            let bytes = common::b64decode(&image.data);
            assert!(bytes.starts_with(common::PNG_MAGIC), "not a PNG: {bytes:?}");
        }
        other => panic!("expected an image block, got {other:?}"),
    }

    // The connection survives all of that.
    client.ping().await.expect("ping");
    finish(client, &marker).await;
}

/// Text and binary resources, and a resource template.
async fn resources(mode: Mode) {
    let marker = common::marker("fastmcp-res");
    let client = connect(mode, &marker).await;

    let resources = client.list_resources().await.expect("list_resources");
    let mut uris: Vec<(&str, Option<&str>)> = resources
        .iter()
        .map(|r| (r.uri.as_str(), r.mime_type.as_deref()))
        .collect();
    uris.sort_unstable();
    assert_eq!(
        uris,
        [
            ("data://blob", Some("application/octet-stream")),
            ("data://greeting", Some("text/plain")),
        ]
    );

    let greeting = client
        .read_resource("data://greeting")
        .await
        .expect("read greeting");
    assert_eq!(greeting.contents.len(), 1);
    assert_eq!(greeting.contents[0].uri(), "data://greeting");
    assert_eq!(greeting.contents[0].as_text(), Some("hello"));
    assert_eq!(greeting.contents[0].mime_type(), Some("text/plain"));
    assert_eq!(greeting.text(), "hello");

    let blob = client
        .read_resource("data://blob")
        .await
        .expect("read blob");
    assert_eq!(blob.contents.len(), 1);
    assert!(blob.contents[0].as_text().is_none(), "a blob, not text");
    assert_eq!(
        blob.contents[0].mime_type(),
        Some("application/octet-stream")
    );
    let bytes = common::b64decode(blob.contents[0].as_blob().expect("blob contents"));
    assert_eq!(bytes, (0..=255u8).collect::<Vec<u8>>());

    let templates = client
        .list_resource_templates()
        .await
        .expect("list templates");
    assert_eq!(templates.len(), 1, "{templates:?}");
    assert_eq!(templates[0].uri_template, "greet://{name}");
    assert_eq!(templates[0].name, "greet");

    let ada = client
        .read_resource("greet://Ada")
        .await
        .expect("read template");
    assert_eq!(ada.contents[0].uri(), "greet://Ada");
    assert_eq!(ada.contents[0].as_text(), Some("Hello, Ada!"));

    finish(client, &marker).await;
}

/// Prompts with and without arguments.
async fn prompts(mode: Mode) {
    let marker = common::marker("fastmcp-prompts");
    let client = connect(mode, &marker).await;

    let prompts = client.list_prompts().await.expect("list_prompts");
    let mut names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["plain", "review"]);
    let review = prompts.iter().find(|p| p.name == "review").unwrap();
    let args: Vec<(&str, Option<bool>)> = review
        .arguments
        .as_ref()
        .expect("review has arguments")
        .iter()
        .map(|a| (a.name.as_str(), a.required))
        .collect();
    assert_eq!(args, [("code", Some(true)), ("language", Some(false))]);

    let got = client
        .get_prompt("review", json!({"code": "fn main() {}"}))
        .await
        .expect("get review");
    assert_eq!(got.description.as_deref(), Some("Asks for a code review."));
    assert_eq!(got.messages.len(), 1);
    assert_eq!(got.messages[0].role, Role::User);
    assert_eq!(
        got.messages[0].content.as_text(),
        Some("Please review this rust code:\n\nfn main() {}")
    );

    let got = client
        .get_prompt("review", json!({"code": "print(1)", "language": "python"}))
        .await
        .expect("get review with language");
    assert_eq!(
        got.messages[0].content.as_text(),
        Some("Please review this python code:\n\nprint(1)")
    );

    let plain = client.get_prompt("plain", ()).await.expect("get plain");
    assert_eq!(plain.messages[0].content.as_text(), Some("Say hello."));

    finish(client, &marker).await;
}

/// A per-call progress callback sees every step, in order.
async fn progress(mode: Mode) {
    let marker = common::marker("fastmcp-progress");
    let client = connect(mode, &marker).await;

    type Step = (f64, Option<f64>, Option<String>);
    let seen: Arc<Mutex<Vec<Step>>> = Arc::default();
    let sink = seen.clone();
    let out = client
        .call_tool_with(
            "slow",
            json!({"steps": 4}),
            switchboard::CallOptions::new().on_progress(move |p| {
                sink.lock()
                    .unwrap()
                    .push((p.progress, p.total, p.message.clone()));
            }),
        )
        .await
        .expect("call slow");
    assert_eq!(out.text(), "done");
    assert_eq!(out.structured(), Some(&json!({"result": "done"})));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        (1..=4)
            .map(|i| (i as f64, Some(4.0), Some(format!("step {i}/4"))))
            .collect::<Vec<_>>(),
        "progress seen by the per-call callback"
    );

    // A second call gets its own callback; the first one hears nothing more.
    let second: Arc<Mutex<Vec<f64>>> = Arc::default();
    let sink = second.clone();
    client
        .call_tool_with(
            "slow",
            json!({"steps": 2}),
            switchboard::CallOptions::new().on_progress(move |p| {
                sink.lock().unwrap().push(p.progress);
            }),
        )
        .await
        .expect("second slow");
    assert_eq!(*second.lock().unwrap(), [1.0, 2.0]);

    // Progress resets the idle deadline: 12 steps of ~50 ms each outlast a
    // 300 ms idle timeout without tripping it...
    let out = client
        .call_tool_with(
            "slow",
            json!({"steps": 12}),
            switchboard::CallOptions::new().timeout(Duration::from_millis(300)),
        )
        .await
        .expect("progress keeps an idle deadline from firing");
    assert_eq!(out.text(), "done");
    // ...but not the hard cap.
    let started = std::time::Instant::now();
    let err = client
        .call_tool_with(
            "slow",
            json!({"steps": 30}),
            switchboard::CallOptions::new()
                .timeout(Duration::from_millis(200))
                .max_time(Duration::from_millis(500)),
        )
        .await
        .expect_err("the hard cap fires despite progress");
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(1200),
        "{elapsed:?}"
    );

    finish(client, &marker).await;
}

/// Log messages: in 2026-07-28 only after `set_log_level` (the level rides
/// in each request's `_meta`); in the handshake era FastMCP sends them
/// unasked.
async fn logging(mode: Mode) {
    let marker = common::marker("fastmcp-log");
    let logs: Arc<Mutex<Vec<(LoggingLevel, serde_json::Value)>>> = Arc::default();
    let sink = logs.clone();
    let client = builder(mode, &marker)
        .on_log(move |p| sink.lock().unwrap().push((p.level, p.data.clone())))
        .connect()
        .await
        .expect("connect");
    assert_era(&client, mode);

    let out = client
        .call_tool("log", json!({"message": "first"}))
        .await
        .expect("log 1");
    assert_eq!(out.text(), "logged: first");
    let before: Vec<_> = std::mem::take(&mut *logs.lock().unwrap());
    match mode {
        Mode::Auto => assert!(
            before.is_empty(),
            "no logs without opting in in 2026-07-28, got {before:?}"
        ),
        Mode::Handshake => assert_eq!(
            before,
            [
                (
                    LoggingLevel::Info,
                    json!({"msg": "info: first", "extra": null})
                ),
                (
                    LoggingLevel::Warning,
                    json!({"msg": "warning: first", "extra": null})
                ),
            ]
        ),
    }

    client
        .set_log_level(LoggingLevel::Debug)
        .await
        .expect("set_log_level debug");
    client
        .call_tool("log", json!({"message": "second"}))
        .await
        .expect("log 2");
    // Notifications precede the response on the wire, so they are in.
    assert_eq!(
        std::mem::take(&mut *logs.lock().unwrap()),
        [
            (
                LoggingLevel::Info,
                json!({"msg": "info: second", "extra": null})
            ),
            (
                LoggingLevel::Warning,
                json!({"msg": "warning: second", "extra": null})
            ),
        ]
    );

    client
        .set_log_level(LoggingLevel::Warning)
        .await
        .expect("set_log_level warning");
    client
        .call_tool("log", json!({"message": "third"}))
        .await
        .expect("log 3");
    assert_eq!(
        std::mem::take(&mut *logs.lock().unwrap()),
        [(
            LoggingLevel::Warning,
            json!({"msg": "warning: third", "extra": null})
        )]
    );

    finish(client, &marker).await;
}

macro_rules! both_eras {
    ($($scenario:ident),* $(,)?) => {
        mod auto {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    crate::common::bounded(super::$scenario(super::Mode::Auto)).await
                }
            )*
        }
        mod handshake {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    crate::common::bounded(super::$scenario(super::Mode::Handshake)).await
                }
            )*
        }
    };
}

both_eras!(tools, resources, prompts, progress, logging);
