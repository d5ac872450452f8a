//! A fleet's tool names mean one server and one tool, whoever is up: with
//! servers `gh` (tool `delete_repo`) and `gh_delete` (tool `repo`), the
//! name `gh_delete_repo` is `gh_delete`'s `repo`, always. When the server
//! a name belongs to is down, the call fails naming that server and its
//! state, and never runs another server's tool. Real child processes.

mod common;

use std::time::Duration;

use serde_json::{json, Value};
use switchboard::{Error, Fleet, NotFoundKind};

fn fault_server(tool: &str, marker: &str) -> Value {
    json!({"command": "python3",
           "args": [common::peer_script("fault_server.py"), "good", format!("tool={tool}")],
           "env": {"SWITCHBOARD_TEST_MARKER": marker}})
}

const DOWN: &str = "/nonexistent/switchboard-down-server";

async fn fleet(gh_up: bool, gh_delete_up: bool, marker: &str) -> (Fleet, tempfile::TempDir) {
    let down = json!({"command": DOWN});
    let gh = if gh_up {
        fault_server("delete_repo", marker)
    } else {
        down.clone()
    };
    let gh_delete = if gh_delete_up {
        fault_server("repo", marker)
    } else {
        down
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mcp.json");
    std::fs::write(
        &path,
        json!({"mcpServers": {"gh": gh, "gh_delete": gh_delete}}).to_string(),
    )
    .unwrap();
    (Fleet::from_config(&path).await.unwrap(), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_means_the_same_server_and_tool_whoever_is_up() {
    common::bounded(async {
        let marker = common::marker("fleet-names");
        for gh_up in [true, false] {
            let (fleet, _dir) = fleet(gh_up, true, &marker).await;
            let out = fleet
                .call_tool("gh_delete_repo", json!({"n": 1}))
                .await
                .expect("gh_delete's repo");
            assert_eq!(out.text(), r#"repo: {"n": 1}"#, "gh up: {gh_up}");
            if gh_up {
                let names: Vec<String> = fleet
                    .list_tools()
                    .await
                    .into_iter()
                    .map(|t| t.name)
                    .collect();
                let gh_name = names
                    .iter()
                    .find(|n| fleet.resolve_tool(n) == Some(("gh".into(), "delete_repo".into())))
                    .expect("gh's delete_repo is listed");
                assert_ne!(gh_name, "gh_delete_repo");
                let out = fleet
                    .call_tool(gh_name, json!({}))
                    .await
                    .expect("gh's tool by its name");
                assert_eq!(out.text(), "delete_repo: {}");
            }
            fleet.close().await.unwrap();
        }
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_a_down_server_names_it_and_runs_nothing_else() {
    common::bounded(async {
        let marker = common::marker("fleet-names-down");
        let (fleet, _dir) = fleet(true, false, &marker).await;
        match fleet.call_tool("gh_delete_repo", json!({})).await {
            Err(Error::Connect { message, .. }) => {
                assert!(
                    message.contains("\"gh_delete\"") && message.contains("down"),
                    "{message}"
                );
            }
            other => panic!("expected the down server to be named, got {other:?}"),
        }
        // A server's own name gets the prefixed one suggested.
        match fleet.call_tool("delete_repo", json!({})).await {
            Err(Error::NotFound {
                kind: NotFoundKind::Tool,
                name,
                hint: Some(hint),
            }) => {
                assert_eq!(name, "delete_repo");
                assert!(hint.contains("did you mean"), "{hint}");
            }
            other => panic!("expected a suggestion, got {other:?}"),
        }
        fleet.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await
}

/// Issue 12 (fuzzing, target `names`): servers `a.b` and `a_b` would both
/// name their tools `a_b_...`, so a name could mean either (and naming
/// one's tools never ended); a fleet refuses the pair, naming both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_whose_names_share_a_prefix_are_refused() {
    common::bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.json");
        let down = json!({"command": DOWN});
        std::fs::write(
            &path,
            json!({"mcpServers": {"a.b": down, "a_b": down, "c": down}}).to_string(),
        )
        .unwrap();
        let err = Fleet::from_config(&path).await.expect_err("refused");
        let message = err.to_string();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        assert!(
            message.contains(r#""a.b""#) && message.contains(r#""a_b""#),
            "{message}"
        );
    })
    .await
}
