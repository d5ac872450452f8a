//! Recorded sessions: `switchboard record` and `ClientBuilder::record`
//! against real servers (FastMCP in both eras, server-everything in the
//! handshake era), then replayed with the server gone: the same output,
//! a typed error naming the first differing request, secrets never in
//! the file.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{json, Value};
use switchboard::transport::TransportError;
use switchboard::{Client, Error, ProtocolVersion, Source, VersionChoice};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

async fn run(args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args).kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("switchboard finishes within 60 s")
        .expect("run switchboard")
}

/// Asserts the command succeeded (saying `what` and its stderr if not).
fn ok(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out.stderr));
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("the recording")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test]
async fn a_recorded_call_prints_the_same_with_the_server_gone() {
    let dir = tempdir("cli");
    let file = dir.join("session.jsonl");
    let marker = common::marker("record-cli");
    let server = format!(
        "{} {}",
        s(&common::python()),
        s(&common::peer_script("fastmcp_server.py"))
    );
    let env = format!("{}={marker}", common::MARKER_VAR);
    let args = r#"{"a":1,"b":2}"#;
    let recorded = run(&[
        "--env",
        &env,
        "record",
        &server,
        "--out",
        &s(&file),
        "--",
        "call",
        "add",
        args,
    ])
    .await;
    ok(&recorded, "");
    assert!(
        text(&recorded.stdout).contains("\"sum\": 3"),
        "{}",
        text(&recorded.stdout)
    );
    common::assert_no_process(&marker, Duration::from_secs(5)).await;

    let events = lines(&file);
    assert_eq!(events[0]["switchboard"], "recording");
    let sent: Vec<&str> = events
        .iter()
        .filter(|e| e["dir"] == "send")
        .filter_map(|e| e["frame"]["method"].as_str())
        .collect();
    assert_eq!(sent, ["server/discover", "tools/call", "tools/list"]);
    assert!(events
        .iter()
        .filter(|e| e["dir"].is_string())
        .all(|e| e["t_ms"].is_number()));

    let replay = format!("replay://{}", s(&file));
    let replayed = run(&["call", &replay, "add", args]).await;
    ok(&replayed, "");
    assert_eq!(text(&replayed.stdout), text(&recorded.stdout));

    let other = run(&["call", &replay, "add", r#"{"a":1,"b":3}"#]).await;
    assert_eq!(other.status.code(), Some(3));
    let said = text(&other.stderr);
    assert!(
        said.contains("replay mismatch at recorded request 2"),
        "{said}"
    );
    assert!(
        said.contains(r#"expected tools/call {"arguments":{"a":1,"b":2},"name":"add"}"#),
        "{said}"
    );
    assert!(
        said.contains(r#"got tools/call {"arguments":{"a":1,"b":3},"name":"add"}"#),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn handshake_era_recordings_replay_and_keep_no_secrets() {
    let dir = tempdir("secrets");
    let file = dir.join("env.jsonl");
    let server = format!("node {} stdio", s(&common::everything_js()));
    let secret = "s3cr3t-value-4242";
    let key = format!("MY_API_KEY={secret}");
    let recorded = run(&[
        "--json",
        "--env",
        &key,
        "record",
        &server,
        "--out",
        &s(&file),
        "--",
        "call",
        "get-env",
    ])
    .await;
    ok(&recorded, "");
    assert!(text(&recorded.stdout).contains(secret), "the server saw it");
    let raw = std::fs::read_to_string(&file).unwrap();
    assert!(
        !raw.contains(secret),
        "the recording holds the secret:\n{raw}"
    );
    assert!(raw.contains("[redacted]"));
    let header = &lines(&file)[0];
    assert!(
        header["source"]
            .as_str()
            .unwrap()
            .contains("(env: MY_API_KEY)"),
        "{header}"
    );
    let sent: Vec<String> = lines(&file)
        .iter()
        .filter(|e| e["dir"] == "send")
        .filter_map(|e| e["frame"]["method"].as_str().map(str::to_owned))
        .collect();
    // server-everything answers discover with -32601: the handshake.
    assert_eq!(
        sent[..3],
        ["server/discover", "initialize", "notifications/initialized"]
    );

    let replayed = run(&[
        "--json",
        "call",
        &format!("replay://{}", s(&file)),
        "get-env",
    ])
    .await;
    ok(&replayed, "");
    let printed = text(&replayed.stdout);
    assert!(
        printed.contains("MY_API_KEY") && !printed.contains(secret),
        "{printed}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(common::marker(tag));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What the library sees of one short session: a list, a call, a read.
async fn session(client: &Client) -> Value {
    let tools: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    let sum = client
        .call_tool("add", json!({"a": 2, "b": 5}))
        .await
        .unwrap();
    let greeting = client.read_resource("data://greeting").await.unwrap();
    json!({"tools": tools, "sum": sum.structured(), "greeting": greeting})
}

#[tokio::test]
async fn the_library_replays_a_recording_in_both_eras() {
    for version in [ProtocolVersion::V2026_07_28, ProtocolVersion::V2025_11_25] {
        let dir = tempdir("lib");
        let file = dir.join(format!("{version}.jsonl"));
        let marker = common::marker("record-lib");
        let live = common::fastmcp(&marker)
            .protocol(VersionChoice::Exact(version))
            .record(&file)
            .connect()
            .await
            .expect("connect to FastMCP");
        let seen = common::within(Duration::from_secs(30), session(&live)).await;
        live.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
        assert_eq!(seen["sum"], json!({"sum": 7}), "{seen}");

        let replayed = Client::builder(Source::replay(&file))
            .protocol(VersionChoice::Exact(version))
            .timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("connect to the replay");
        assert_eq!(replayed.protocol_version(), Some(version));
        assert_eq!(
            replayed.server_info().map(|i| i.name.clone()),
            Some("switchboard-fastmcp-peer".into())
        );
        let again = common::within(Duration::from_secs(10), session(&replayed)).await;
        assert_eq!(again, seen, "{version}");
        let mismatch = replayed
            .call_tool("add", json!({"a": 2, "b": 6}))
            .await
            .unwrap_err();
        match mismatch {
            Error::Transport(TransportError::ReplayMismatch {
                index,
                expected,
                got,
            }) => {
                assert!(expected.starts_with("nothing"), "{expected}");
                assert!(index > 3, "{index}");
                assert!(got.contains(r#""b":6"#), "{got}");
            }
            other => panic!("{version}: expected a replay mismatch, got {other:?}"),
        }
        replayed.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn a_request_out_of_turn_names_the_one_due() {
    let dir = tempdir("order");
    let file = dir.join("s.jsonl");
    let marker = common::marker("record-order");
    let live = common::fastmcp(&marker)
        .record(&file)
        .connect()
        .await
        .unwrap();
    live.call_tool("add", json!({"a": 1, "b": 1}))
        .await
        .unwrap();
    live.close().await.unwrap();
    let replayed = Client::builder(Source::replay(&file))
        .connect()
        .await
        .unwrap();
    let e = replayed
        .call_tool("echo", json!({"text": "hi"}))
        .await
        .unwrap_err();
    let Error::Transport(TransportError::ReplayMismatch {
        index,
        expected,
        got,
    }) = e
    else {
        panic!("expected a replay mismatch, got {e:?}");
    };
    assert_eq!(index, 2);
    assert_eq!(
        expected,
        r#"tools/call {"arguments":{"a":1,"b":1},"name":"add"}"#
    );
    assert_eq!(
        got,
        r#"tools/call {"arguments":{"text":"hi"},"name":"echo"}"#
    );
    // The recording's own request still comes back after the one refused.
    let sum = replayed
        .call_tool("add", json!({"a": 1, "b": 1}))
        .await
        .unwrap();
    assert_eq!(sum.structured(), Some(&json!({"sum": 2})));
    replayed.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The server asks the client (sampling) in both eras: a request in the
/// handshake era, input-required rounds in 2026-07-28. The replay gets
/// the same answer through, and refuses another.
#[tokio::test]
async fn the_clients_answers_to_the_server_are_replayed_too() {
    let dir = tempdir("asks");
    let server = format!(
        "{} {}",
        s(&common::python()),
        s(&common::peer_script("rounds_server.py"))
    );
    for era in ["2025-11-25", "2026-07-28"] {
        let file = dir.join(format!("{era}.jsonl"));
        let recorded = run(&[
            "--protocol",
            era,
            "record",
            &server,
            "--out",
            &s(&file),
            "--",
            "--sampling",
            "text:hello",
            "call",
            "ask_sampling",
        ])
        .await;
        ok(&recorded, era);
        assert!(
            text(&recorded.stdout).starts_with("hello\n"),
            "{era}: {}",
            text(&recorded.stdout)
        );
        let replay = format!("replay://{}", s(&file));
        let same = run(&[
            "--protocol",
            era,
            "--sampling",
            "text:hello",
            "call",
            &replay,
            "ask_sampling",
        ])
        .await;
        ok(&same, era);
        assert_eq!(text(&same.stdout), text(&recorded.stdout), "{era}");
        let other = run(&[
            "--protocol",
            era,
            "--sampling",
            "text:bye",
            "call",
            &replay,
            "ask_sampling",
        ])
        .await;
        assert_eq!(
            other.status.code(),
            Some(3),
            "{era}: {}",
            text(&other.stdout)
        );
        let said = text(&other.stderr);
        assert!(
            said.contains("replay mismatch at recorded request"),
            "{era}: {said}"
        );
        assert!(
            said.contains("\"text\":\"hello\"") && said.contains("\"text\":\"bye\""),
            "{era}: {said}"
        );
        if era == "2025-11-25" {
            assert!(
                said.contains("expected the answer to sampling/createMessage"),
                "{said}"
            );
        } else {
            assert!(said.contains("inputResponses"), "{said}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
