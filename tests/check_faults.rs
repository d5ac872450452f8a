//! `switchboard check` against deliberately broken servers: a stdio
//! script with one of each mistake (`tests/peers/sloppy_server.py`), the
//! fault server (`tests/peers/fault_server.py`), and the in-process test
//! server with the fault injector (`switchboard::testing::Fault`). Each
//! expected finding is asserted, with what was sent and what came back.

mod check_common;
mod common;

use std::time::Duration;

use check_common::{check_json, failing, set};
use serde_json::{json, Value};
use switchboard::check::{self, CheckOptions, EraChoice, Severity};
use switchboard::testing::{Fault, TestServer, ToolDef};
use switchboard::{ProtocolVersion, Source};

fn finding<'a>(report: &'a Value, check: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding: {report:#}"))
}

#[tokio::test]
async fn each_mistake_of_the_sloppy_server_is_found() {
    let marker = common::marker("check-sloppy");
    let source = format!(
        "python3 {}",
        common::peer_script("sloppy_server.py").display()
    );
    let (code, report) = check_json(&source, &["--timeout", "3"], Some(&marker)).await;
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        failing(&report),
        set(&[
            "negotiation.fallback",
            "capabilities.consistent",
            "capabilities.completions",
            "pagination.terminates",
            "tools.name",
            "tools.unique",
            "tools.input-schema",
            "tools.output-schema",
            "tools.annotations",
            "tools.structured",
            "resources.uri",
            "resources.read",
            "resources.template",
            "errors.unknown-tool",
            "errors.bad-arguments",
            "errors.unknown-method",
            "errors.ping",
            "stdio.stdout",
            "stdio.exit",
        ]),
        "{report:#}"
    );
    // The documented shape of the report (schema switchboard.check/1).
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&report),
        ["checks", "eras", "figures", "findings", "schema", "server", "summary"]
    );
    assert_eq!(keys(&report["server"]), ["name", "source", "version"]);
    assert_eq!(
        keys(&report["summary"]),
        ["checks", "errors", "failed", "notes", "passed", "skipped", "warnings"]
    );
    assert_eq!(
        keys(&report["figures"]),
        [
            "burst_ms",
            "exit_ms",
            "rss_kib",
            "startup_ms",
            "stderr_lines",
            "tools_list_p50_us",
            "tools_list_p99_us"
        ]
    );
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(
            keys(f),
            ["check", "era", "fix", "message", "received", "rule", "sent", "severity", "subject"]
        );
    }
    assert!(report["checks"].as_array().unwrap().iter().all(|c| {
        let k = keys(c);
        k == ["check", "era", "outcome"] || k == ["check", "era", "outcome", "reason"]
    }));
    let stdout = finding(&report, "stdio.stdout");
    assert_eq!(stdout["severity"], "error");
    assert_eq!(stdout["received"], "sloppy server starting up, hello!");
    assert!(stdout["rule"]
        .as_str()
        .unwrap()
        .contains("MUST NOT write anything to stdout"));
    assert!(!stdout["fix"].as_str().unwrap().is_empty());
    let fallback = finding(&report, "negotiation.fallback");
    assert_eq!(fallback["sent"]["params"]["protocolVersion"], "2099-01-01");
    assert_eq!(
        fallback["received"]["result"]["protocolVersion"],
        "2099-01-01"
    );
    let unique = finding(&report, "tools.unique");
    assert_eq!(unique["subject"], "tool \"dup\"");
    assert_eq!(unique["era"], "2025-11-25");
    let pages = finding(&report, "pagination.terminates");
    assert_eq!(
        pages["sent"],
        json!({"method": "resources/list", "params": {"cursor": "again"}})
    );
    let method = finding(&report, "errors.unknown-method");
    assert_eq!(method["received"], json!({}));
    let ping = finding(&report, "errors.ping");
    assert_eq!(ping["received"]["error"]["code"], -32603);
    let structured = finding(&report, "tools.structured");
    assert_eq!(structured["subject"], "tool \"liar\"");
    // One finding per resource, though its page came round again.
    let uris = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "resources.uri")
        .count();
    assert_eq!(uris, 1, "{report:#}");
    // It ignores stdin closing and SIGTERM: check killed it all the same.
    common::assert_no_process(&marker, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn the_fault_server_echoes_any_version() {
    let marker = common::marker("check-fault-good");
    let source = format!(
        "python3 {} good",
        common::peer_script("fault_server.py").display()
    );
    let (code, report) = check_json(&source, &[], Some(&marker)).await;
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        failing(&report),
        set(&["negotiation.fallback"]),
        "{report:#}"
    );
    // Its `typed` tool answers what its outputSchema says, when not asked to lie.
    let structured = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "tools.structured")
        .unwrap();
    assert_eq!(structured["outcome"], "pass");
    common::assert_no_process(&marker, Duration::from_secs(5)).await;
}

/// An in-process server with the fault injector on: ping never answered,
/// every call of `echo` answered with garbage (and never properly), and a
/// tool whose structured output breaks its own schema.
fn faulty() -> TestServer {
    TestServer::builder("faulty")
        .tool(
            ToolDef::new("echo").annotations(json!({"readOnlyHint": true})),
            |_, args| async move { Ok(args) },
        )
        .tool(
            ToolDef::new("count")
                .annotations(json!({"readOnlyHint": true}))
                .output_schema(json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})),
            |_, _| async move { Ok(json!({"n": "many"})) },
        )
        .method_fault("ping", Fault::Hang)
        .tool_fault("echo", Fault::Garbage)
        .build()
}

#[tokio::test]
async fn fault_injected_failures_are_found() {
    let options = CheckOptions {
        eras: EraChoice::Exact(ProtocolVersion::V2025_11_25),
        timeout: Duration::from_secs(1),
        label: Some("faulty".into()),
    };
    let report = common::within(
        Duration::from_secs(60),
        check::run(Source::memory(faulty()), &options),
    )
    .await
    .expect("a report");
    assert!(report.failed());
    let failing: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Note)
        .map(|f| f.check.as_str())
        .collect();
    assert_eq!(
        failing,
        ["tools.structured", "errors.ping", "load.burst"],
        "{report:#?}"
    );
    let ping = report.findings_of("errors.ping").next().unwrap();
    assert_eq!(ping.sent, Some(json!({"method": "ping", "params": {}})));
    let said = ping.received.as_ref().unwrap()["failure"].as_str().unwrap();
    assert!(
        said.contains("timed out") || said.contains("timeout"),
        "{said}"
    );
    let burst = report.findings_of("load.burst").next().unwrap();
    assert!(burst.message.starts_with("32 of 32"), "{}", burst.message);
    let structured = report.findings_of("tools.structured").next().unwrap();
    assert_eq!(structured.subject.as_deref(), Some("tool \"count\""));
    assert!(
        structured.message.contains("\"many\""),
        "{}",
        structured.message
    );
    assert_eq!(report.eras.len(), 1);
    assert_eq!(report.server.source, "faulty");
}

/// A config file's entry is checked like its command line; the human
/// report groups the findings and quotes what was sent and came back,
/// without colour when piped.
#[tokio::test]
async fn a_config_entry_gets_a_readable_report() {
    let dir = std::env::temp_dir().join(common::marker("check-config"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("mcp.json");
    let script = common::peer_script("fault_server.py");
    let entry = json!({"mcpServers": {
        "good": {"command": "python3", "args": [script, "good"]},
        "other": {"command": "python3", "args": [script, "silent"]},
    }});
    std::fs::write(&config, entry.to_string()).unwrap();
    let bin = env!("CARGO_BIN_EXE_switchboard");
    let run = |args: Vec<String>| async move {
        let mut cmd = tokio::process::Command::new(bin);
        cmd.args(args).kill_on_drop(true);
        tokio::time::timeout(Duration::from_secs(60), cmd.output())
            .await
            .unwrap()
            .unwrap()
    };
    let path = config.to_string_lossy().into_owned();
    let several = run(vec!["check".into(), path.clone()]).await;
    assert_eq!(several.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&several.stderr).contains("--server NAME"));

    let out = run(vec!["--server".into(), "good".into(), "check".into(), path]).await;
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.starts_with("check fault-server-good 0.0.1  (python3 "),
        "{report}"
    );
    assert!(report.contains("\n! negotiation "), "{report}");
    assert!(
        report.contains(
            "  ! warning negotiation.fallback: initialize with protocolVersion 2099-01-01"
        ),
        "{report}"
    );
    for label in ["sent", "received", "rule", "fix"] {
        assert!(
            report.contains(&format!("\n      {label:<9} ")),
            "{label}: {report}"
        );
    }
    assert!(report.contains("\n✓ tools "), "{report}");
    assert!(report.contains("\nfigures: start-up "), "{report}");
    assert!(report.contains("1 warnings"), "{report}");
    assert!(!report.contains('\x1b'), "no colour when piped: {report}");
    let _ = std::fs::remove_dir_all(&dir);
}
