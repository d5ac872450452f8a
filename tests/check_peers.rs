//! `switchboard check` against real servers of other projects:
//! server-everything (npm), a FastMCP server and an MCP Python SDK server,
//! over stdio and Streamable HTTP. Each gets the findings it deserves
//! (few or none) and exit 0 unless one is an error or a warning; the
//! `--json` report keeps its documented shape.

mod check_common;
mod common;
mod http_common;

use std::time::Duration;

use check_common::{check_json, eras, failing, noted, set};

fn s(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

#[tokio::test]
async fn server_everything_passes_with_notes() {
    let marker = common::marker("check-everything");
    let source = format!("node {} stdio", s(&common::everything_js()));
    let (code, report) = check_json(&source, &[], Some(&marker)).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["schema"], "switchboard.check/1");
    assert_eq!(report["server"]["name"], "mcp-servers/everything");
    assert_eq!(
        eras(&report),
        vec![
            ("2026-07-28".into(), None),
            ("2025-11-25".into(), Some("2025-11-25".into()))
        ]
    );
    assert!(failing(&report).is_empty(), "{report:#}");
    // Handshake only; an unknown tool is an isError result; a prompt
    // takes only numbers for resourceId, which "test" is not.
    assert_eq!(
        noted(&report),
        set(&[
            "negotiation.connect",
            "errors.unknown-tool",
            "prompts.arguments"
        ]),
        "{report:#}"
    );
    let figures = &report["figures"];
    for key in [
        "startup_ms",
        "rss_kib",
        "tools_list_p50_us",
        "tools_list_p99_us",
        "burst_ms",
        "exit_ms",
    ] {
        assert!(figures[key].is_number(), "{key} measured: {figures}");
    }
    let summary = &report["summary"];
    assert_eq!(summary["errors"], 0);
    assert!(summary["passed"].as_u64().unwrap() >= 25, "{summary}");
    common::assert_no_process(&marker, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn fastmcp_passes_in_both_eras() {
    let marker = common::marker("check-fastmcp");
    let source = format!(
        "{} {}",
        s(&common::python()),
        s(&common::peer_script("fastmcp_server.py"))
    );
    let (code, report) = check_json(&source, &[], Some(&marker)).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        eras(&report),
        vec![
            ("2026-07-28".into(), Some("2026-07-28".into())),
            ("2025-11-25".into(), Some("2025-11-25".into()))
        ]
    );
    assert!(failing(&report).is_empty(), "{report:#}");
    assert_eq!(
        noted(&report),
        set(&["tools.annotations", "errors.unknown-tool"]),
        "{report:#}"
    );
    // Each era's battery ran; its one structured tool (`add`) needs
    // arguments and does not say it only reads, so it is not called.
    let structured: Vec<_> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "tools.structured")
        .map(|c| (c["era"].clone(), c["outcome"].clone()))
        .collect();
    assert_eq!(
        structured,
        [
            ("2026-07-28".into(), "skip".into()),
            ("2025-11-25".into(), "skip".into())
        ],
        "{report:#}"
    );
    common::assert_no_process(&marker, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn the_python_sdk_server_passes() {
    let marker = common::marker("check-rounds");
    let source = format!(
        "{} {}",
        s(&common::python()),
        s(&common::peer_script("rounds_server.py"))
    );
    let (code, report) = check_json(&source, &["--era", "2026-07-28"], Some(&marker)).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        eras(&report),
        vec![("2026-07-28".into(), Some("2026-07-28".into()))]
    );
    assert!(failing(&report).is_empty(), "{report:#}");
    common::assert_no_process(&marker, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn fastmcp_over_http_lacks_only_an_origin_check() {
    let peer =
        http_common::fastmcp(&common::python(), &common::peer_script("fastmcp_server.py")).await;
    let (code, report) = check_json(&peer.url("/mcp"), &[], None).await;
    assert_eq!(code, 1, "{report:#}");
    // Its Streamable HTTP app serves any Origin on 127.0.0.1.
    assert_eq!(failing(&report), set(&["http.origin"]), "{report:#}");
    let origin = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "http.origin")
        .unwrap();
    assert_eq!(origin["severity"], "error");
    assert_eq!(origin["sent"]["Origin"], "http://switchboard-check.invalid");
    assert_eq!(origin["received"]["status"], 200);
    assert!(origin["rule"].as_str().unwrap().contains("403"));
    for check in [
        "http.accept",
        "http.session",
        "http.headers",
        "negotiation.fallback-modern",
    ] {
        let run = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == check);
        assert_eq!(
            run.map(|r| r["outcome"].clone()),
            Some("pass".into()),
            "{check}: {report:#}"
        );
    }
}

/// Our own servers hold to what `check` asks of others: the bench peer
/// (`serve-echo`: version fallback in both eras, -32602 for an unknown
/// tool, annotations) and the built-in server, whose registry checks
/// arguments against `inputSchema` (a call without `echo`'s required
/// `text` gets `isError`).
#[tokio::test]
async fn our_own_servers_pass_with_no_error_or_warning() {
    let bin = env!("CARGO_BIN_EXE_switchboard");
    for source in [format!("{bin} serve-echo"), "memory://demo".to_owned()] {
        let (code, report) = check_json(&source, &[], None).await;
        assert_eq!(code, 0, "{source}: {report:#}");
        assert!(failing(&report).is_empty(), "{source}: {report:#}");
    }
    let (_, report) = check_json(&format!("{bin} serve-echo"), &[], None).await;
    assert!(noted(&report).is_empty(), "serve-echo: {report:#}");
}
