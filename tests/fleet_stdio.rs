//! A fleet of real servers of different kinds from one handle: merged and
//! namespaced lists, prefixed calls, fan-out, a broken server reported and
//! never blocking the others, lazy start, add and remove at runtime.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::config::ToolFilter;
use switchboard::testing::demo_server;
use switchboard::{Client, Fleet, Member, Source};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_kinds_of_servers_behind_one_handle() {
    common::bounded(async {
        let marker = common::marker("fleet");
        let (m1, m2, m3) = (marker.clone(), marker.clone(), marker.clone());
        let fleet = Fleet::new([
            Member::new("memory", || Client::builder(Source::memory(demo_server()))),
            Member::new("builtin", move || {
                common::tune(
                    Source::stdio(BIN, ["serve-test", "--eras", "handshake"]),
                    &m1,
                )
            }),
            Member::new("fastmcp", move || common::fastmcp(&m2)),
            Member::new("everything", move || common::everything(&m3)),
            Member::new("broken", || {
                Client::builder("/nonexistent/switchboard-broken-server --flag")
                    .connect_timeout(Duration::from_secs(5))
            }),
        ])
        .await
        .unwrap();

        // The broken server is reported, with why.
        let health = fleet.health();
        let broken = health.iter().find(|h| h.name == "broken").unwrap();
        assert_eq!(broken.state, "down");
        assert!(
            broken
                .last_error
                .as_deref()
                .unwrap()
                .contains("could not start"),
            "{broken:?}"
        );
        for h in health.iter().filter(|h| h.name != "broken") {
            assert_eq!(h.state, "ready", "{h:?}");
        }

        // Merged, namespaced lists from the four that work.
        let tools = fleet.list_tools().await;
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        for expected in [
            "memory_add",
            "builtin_add",
            "fastmcp_add",
            "everything_echo",
            "everything_get-sum",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        assert!(names.iter().all(|n| n.len() <= 64
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')));
        assert!(!names.iter().any(|n| n.starts_with("broken_")));

        // Prefixed calls reach the right server.
        #[derive(serde::Deserialize)]
        struct Sum {
            sum: f64,
        }
        let t = Instant::now();
        let sum: Sum = fleet
            .call_tool("fastmcp_add", json!({"a": 2, "b": 3}))
            .await
            .unwrap()
            .data()
            .unwrap();
        assert_eq!(sum.sum, 5.0);
        let out = fleet
            .call_tool("everything_get-sum", json!({"a": 20, "b": 22}))
            .await
            .unwrap();
        assert!(out.text().contains("42"), "{}", out.text());
        let out = fleet
            .call_tool("memory_echo", json!({"text": "via memory"}))
            .await
            .unwrap();
        assert_eq!(out.text(), "via memory");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "a down server must not slow the others"
        );
        assert_eq!(
            fleet.resolve_tool("builtin_add"),
            Some(("builtin".into(), "add".into()))
        );

        // Fan-out: every server that has `echo`.
        let all = fleet
            .call_all("echo", json!({"text": "hello", "message": "hello"}))
            .await;
        let mut who: Vec<&str> = all.iter().map(|(s, _)| s.as_str()).collect();
        who.sort();
        assert_eq!(who, ["builtin", "everything", "fastmcp", "memory"]);
        for (server, result) in &all {
            assert!(
                result.as_ref().unwrap().text().contains("hello"),
                "{server}: {result:?}"
            );
        }

        // Calling the broken server fails fast with a clear error.
        let t = Instant::now();
        let err = fleet
            .call_tool_on("broken", "anything", json!({}))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("down") || err.to_string().contains("could not start"),
            "{err}"
        );
        assert!(t.elapsed() < Duration::from_secs(1));

        let prompts = fleet.list_prompts().await;
        assert!(prompts.iter().any(|p| p.name == "memory_review"));
        let rendered = fleet
            .get_prompt("memory_review", json!({"code": "x = 1"}))
            .await
            .unwrap();
        assert!(serde_json::to_string(&rendered.messages)
            .unwrap()
            .contains("x = 1"));
        let resources = fleet.list_resources().await;
        assert!(resources
            .iter()
            .any(|(s, r)| s == "memory" && r.uri == "config://app"));
        let read = fleet.read_resource("memory", "config://app").await.unwrap();
        assert!(read.contents[0].as_text().unwrap().contains("mode = demo"));

        let health = fleet.health();
        assert!(health.iter().find(|h| h.name == "fastmcp").unwrap().calls >= 2);
        fleet.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await
}

#[tokio::test]
async fn lazy_servers_start_on_first_use_and_servers_come_and_go() {
    common::bounded(async {
        let mut lazy = Member::new("later", || Client::builder(Source::memory(demo_server())));
        lazy.lazy = true;
        let fleet = Fleet::new([lazy]).await.unwrap();
        assert_eq!(fleet.health()[0].state, "not_started");
        let out = fleet
            .call_tool("later_echo", json!({"text": "woke"}))
            .await
            .unwrap();
        assert_eq!(out.text(), "woke");
        assert_eq!(fleet.health()[0].state, "ready");

        fleet
            .add_server(Member::new("extra", || {
                Client::builder(Source::memory(demo_server()))
            }))
            .await
            .unwrap();
        assert_eq!(fleet.server_names(), ["extra", "later"]);
        assert!(fleet
            .list_tools()
            .await
            .iter()
            .any(|t| t.name == "extra_add"));
        assert!(fleet
            .add_server(Member::new("extra", || Client::builder(Source::memory(
                demo_server()
            ))))
            .await
            .is_err());
        fleet.remove_server("extra").await.unwrap();
        assert!(!fleet
            .list_tools()
            .await
            .iter()
            .any(|t| t.name.starts_with("extra_")));
        assert!(fleet
            .call_tool("extra_add", json!({"a": 1, "b": 1}))
            .await
            .is_err());

        // A tool filter hides what it denies.
        let mut filtered = Member::new("filtered", || {
            Client::builder(Source::memory(demo_server()))
        });
        filtered.tool_filter = ToolFilter {
            deny: vec!["add".into()],
            ..ToolFilter::default()
        };
        fleet.add_server(filtered).await.unwrap();
        let names: Vec<String> = fleet
            .list_tools()
            .await
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert!(
            names.contains(&"filtered_echo".to_string())
                && !names.contains(&"filtered_add".to_string())
        );
        assert!(fleet
            .call_tool_on("filtered", "add", json!({"a": 1, "b": 2}))
            .await
            .is_err());
    })
    .await
}

#[path = "http_common/mod.rs"]
mod http_common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_from_one_mcp_servers_file() {
    common::bounded(async {
        let marker = common::marker("fleetfile");
        let http = http_common::everything(&common::everything_js(), "streamableHttp").await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.json");
        std::fs::write(
            &path,
            json!({"mcpServers": {
                "everything": {"command": "node", "args": [common::everything_js(), "stdio"], "env": {"SWITCHBOARD_TEST_MARKER": marker}},
                "everything-http": {"url": http.url("/mcp")},
                "fastmcp": {"command": common::python(), "args": [common::peer_script("fastmcp_server.py")],
                            "env": {"SWITCHBOARD_TEST_MARKER": marker}, "tools": {"deny": ["fail", "image"]}},
                "memory": {"url": "memory://demo"},
                "broken": {"command": "/nonexistent/switchboard-fleet-file", "args": ["--x"]},
            }})
            .to_string(),
        )
        .unwrap();
        let fleet = Fleet::from_config(&path).await.unwrap();
        let states: Vec<(String, String)> = fleet.health().into_iter().map(|h| (h.name, h.state.to_string())).collect();
        assert_eq!(
            states,
            [
                ("broken".to_string(), "down".to_string()),
                ("everything".into(), "ready".into()),
                ("everything-http".into(), "ready".into()),
                ("fastmcp".into(), "ready".into()),
                ("memory".into(), "ready".into()),
            ]
        );
        let names: Vec<String> = fleet.list_tools().await.into_iter().map(|t| t.name).collect();
        for expected in ["everything_echo", "everything-http_echo", "fastmcp_add", "memory_add"] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing: {names:?}");
        }
        assert!(!names.iter().any(|n| n == "fastmcp_fail" || n == "fastmcp_image"), "denied tools are hidden");
        let out = fleet.call_tool("everything-http_echo", json!({"message": "over http"})).await.unwrap();
        assert!(out.text().contains("over http"));
        let out = fleet.call_tool("everything_echo", json!({"message": "over stdio"})).await.unwrap();
        assert!(out.text().contains("over stdio"));
        fleet.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await
}
