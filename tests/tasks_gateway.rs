//! Tasks through the gateway: two `switchboard gateway` replicas sharing a
//! state key, in front of one real tasks server over HTTP (PyPI
//! `fastmcp-tasks` 4.1.4, `tests/peers/tasks_server.py`). A task made
//! through replica A is polled, cancelled and read through replica B: the
//! id the client sees is sealed by the gateway (the upstream's name and
//! its task id, HMAC under the state key), so any replica opens it; a
//! forged or altered id is refused with -32602.

mod common;
mod http_common;

use std::time::Duration;

use common::gateway::GatewayProcess;
use serde_json::json;
use switchboard::protocol::{codes, TaskStatus};
use switchboard::{CallOptions, Client, Error, Source, TaskStart};

async fn connect(url: &str) -> Client {
    Client::builder(Source::http(url))
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(20))
        .connect()
        .await
        .expect("connect to a replica")
}

fn events(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("events.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn event(dir: &std::path::Path, line: &str) {
    let dir = dir.to_owned();
    let line = line.to_owned();
    common::eventually(&format!("event {line:?}"), Duration::from_secs(15), || {
        let found = events(&dir).contains(&line);
        async move { found.then_some(()) }
    })
    .await
}

/// The tasks server over HTTP, logging its events in a fresh directory.
async fn tasks_upstream() -> (tempfile::TempDir, http_common::Peer) {
    let dir = tempfile::tempdir().unwrap();
    let upstream = http_common::tasks(
        &common::tasks_python(),
        &common::peer_script("tasks_server.py"),
        &dir.path().join("events.txt"),
    )
    .await;
    (dir, upstream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_made_through_one_replica_is_followed_through_another() {
    common::within(Duration::from_secs(120), async {
        let (dir, upstream) = tasks_upstream().await;
        let servers = json!({"tasks": {"url": upstream.url("/mcp")}});
        let key = [("SWITCHBOARD_GATEWAY_KEY", "tasks-replicas")];
        let a = GatewayProcess::start(servers.clone(), &[], &key);
        let b = GatewayProcess::start(servers, &[], &key);
        let (on_a, on_b) = (connect(&a.url).await, connect(&b.url).await);
        let caps = on_b.capabilities().expect("the gateway's capabilities");
        assert!(caps
            .extension(switchboard::protocol::TASKS_EXTENSION)
            .is_some());

        // Made on A, polled and cancelled on B; the server's task ends
        // cancelled.
        let args = json!({"tag": "via-a", "steps": 30, "step_ms": 300});
        let task = match on_a
            .call_tool_as_task("tasks_research", &args, CallOptions::new())
            .await
            .expect("a task through replica A")
        {
            TaskStart::Task(task) => task,
            TaskStart::Done(out) => panic!("expected a task, got {:?}", out.text()),
        };
        let id = task.id().to_owned();
        assert_eq!(task.poll_interval(), Duration::from_millis(200));
        event(dir.path(), "step via-a 1").await;
        let seen = on_b
            .get_task(&id, CallOptions::new())
            .await
            .expect("tasks/get on B");
        assert_eq!(seen.task.task_id, id, "the sealed id, not the upstream's");
        assert_eq!(seen.task.status, TaskStatus::Working);
        on_b.cancel_task(&id, CallOptions::new())
            .await
            .expect("tasks/cancel on B");
        event(dir.path(), "cancelled via-a").await;
        let seen = on_b.get_task(&id, CallOptions::new()).await.unwrap();
        assert_eq!(seen.task.status, TaskStatus::Cancelled);

        // Made on B, its result read on A.
        let args = json!({"tag": "via-b", "steps": 3, "step_ms": 200});
        let id = match on_b
            .call_tool_as_task("tasks_research", &args, CallOptions::new())
            .await
            .unwrap()
        {
            TaskStart::Task(task) => task.id().to_owned(),
            TaskStart::Done(out) => panic!("expected a task, got {:?}", out.text()),
        };
        let done = common::eventually("the task's end, seen on A", Duration::from_secs(20), || {
            let (client, id) = (on_a.clone(), id.clone());
            async move {
                let got = client.get_task(&id, CallOptions::new()).await.ok()?;
                got.task.status.is_terminal().then_some(got)
            }
        })
        .await;
        assert_eq!(done.task.status, TaskStatus::Completed);
        assert_eq!(
            done.result.expect("the inlined result").text(),
            "via-b: 3 steps"
        );

        // A plain call through a replica is followed by the gateway.
        let out = on_a
            .call_tool(
                "tasks_build",
                json!({"tag": "plain", "steps": 2, "step_ms": 200}),
            )
            .await
            .expect("a plain call to a task-required tool");
        assert_eq!(out.text(), "plain: 2 steps");

        // A forged id, an altered one, and the upstream's own raw id (not
        // sealed) are refused.
        let mut altered = id.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        for bad in ["forged", "eyJzIjoidGFza3MifQ.AAAA", altered.as_str()] {
            match on_b.get_task(bad, CallOptions::new()).await {
                Err(Error::Protocol { code, message, .. }) => {
                    assert_eq!(code, codes::INVALID_PARAMS, "{message}");
                    assert!(message.contains("invalid task id"), "{message}");
                }
                other => panic!("a forged id {bad:?} was not refused: {other:?}"),
            }
        }
        drop(upstream);
    })
    .await
}

/// The tool filter of the gateway's config holds on the task path too: a
/// denied tool of a tasks upstream is refused whether or not the client
/// asks for a task, prefixed and `--unprefixed`, and the upstream never
/// runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_tool_is_refused_on_the_task_path() {
    common::within(Duration::from_secs(120), async {
        let (dir, upstream) = tasks_upstream().await;
        let servers =
            json!({"tasks": {"url": upstream.url("/mcp"), "tools": {"deny": ["research"]}}});
        for (flags, name) in [
            (&[][..], "tasks_research"),
            (&["--unprefixed"][..], "research"),
        ] {
            let gateway = GatewayProcess::start(servers.clone(), flags, &[]);
            let client = connect(&gateway.url).await;
            let args = json!({"tag": "denied", "steps": 1, "step_ms": 10});
            let as_task = client
                .call_tool_as_task(name, &args, CallOptions::new())
                .await;
            assert!(
                as_task.is_err(),
                "{flags:?}: a denied tool started as a task"
            );
            let plain = client.call_tool(name, &args).await;
            assert!(plain.is_err(), "{flags:?}: a denied tool ran");
        }
        assert!(
            !events(dir.path()).iter().any(|l| l.contains("denied")),
            "the upstream ran a denied tool: {:?}",
            events(dir.path())
        );
    })
    .await
}
