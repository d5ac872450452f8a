//! The client side of the tasks extension (SEP-2663) against its real
//! server side: PyPI `fastmcp` 4.1.4 with `fastmcp-tasks` 4.1.4 in their own
//! venv (`tests/peers/tasks_server.py`, over stdio at 2026-07-28). The
//! server writes what each task did to an events file, so the tests see
//! its side: a cancelled task's body really ended as cancelled.
//!
//! Needs `SWITCHBOARD_TASKS_PYTHON` from `. .peers/env.sh` (or the default
//! `.peers/tasks-venv`): `bash .ci/install-peers.sh` installs it.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::protocol::{Era, TaskStatus};
use switchboard::{CallOptions, Client, Error, RestartPolicy, TaskError, TaskStart, ToolTask};

use common::{bounded, marker, within};

fn events(dir: &Path) -> std::path::PathBuf {
    dir.join("events.txt")
}

fn read_events(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn connect(tag: &str, dir: &Path) -> Client {
    let client = common::tasks_server(&marker(tag), &events(dir))
        .connect()
        .await
        .expect("connect to the fastmcp-tasks server");
    assert_eq!(client.era(), Some(Era::Modern));
    let caps = client.capabilities().expect("capabilities");
    assert!(
        caps.extension(switchboard::protocol::TASKS_EXTENSION)
            .is_some(),
        "the server declares the tasks extension: {caps:?}"
    );
    client
}

fn started(start: TaskStart) -> ToolTask {
    match start {
        TaskStart::Task(task) => task,
        TaskStart::Done(out) => panic!("expected a task, got the result {:?}", out.text()),
    }
}

/// A long `research` task tagged `tag`, once its first step is done.
async fn running(client: &Client, dir: &Path, tag: &str) -> ToolTask {
    let args = json!({"tag": tag, "steps": 40, "step_ms": 250});
    let task = started(
        client
            .call_tool_as_task("research", &args, CallOptions::new())
            .await
            .unwrap(),
    );
    event(
        &events(dir),
        &format!("step {tag} 1"),
        Duration::from_secs(10),
    )
    .await;
    task
}

/// Waits (bounded) until the events file has `line`.
async fn event(path: &Path, line: &str, limit: Duration) {
    let path = path.to_owned();
    let line = line.to_owned();
    common::eventually(&format!("event {line:?}"), limit, || {
        let found = read_events(&path).contains(&line);
        async move { found.then_some(()) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_as_a_task_is_polled_at_the_servers_interval_with_progress() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let client = connect("task-poll", dir.path()).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let options = CallOptions::new().on_task(move |t| {
            log.lock()
                .unwrap()
                .push((t.status.clone(), t.status_message.clone()));
        });
        let args = json!({"tag": "poll", "steps": 4, "step_ms": 600});
        let mut task = started(
            client
                .call_tool_as_task("research", &args, options)
                .await
                .unwrap(),
        );
        assert!(!task.id().is_empty());
        assert_eq!(task.task().status, TaskStatus::Working);
        // The tool's TaskConfig says 200 ms.
        assert_eq!(task.poll_interval(), Duration::from_millis(200));
        let first = task.poll().await.unwrap().clone();
        assert_eq!(first.task_id, task.id());
        assert!(!first.status.is_terminal(), "{first:?}");

        let begun = Instant::now();
        let out = task.wait().await.expect("the task's result");
        assert_eq!(out.text(), "poll: 4 steps");
        assert!(!out.is_error());
        assert!(begun.elapsed() < Duration::from_secs(10));
        let seen = seen.lock().unwrap().clone();
        // Progress: the status messages the tool reported, in order.
        let messages: Vec<String> = seen.iter().filter_map(|(_, m)| m.clone()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("step ") && m.ends_with(" of 4")),
            "progress seen: {seen:?}"
        );
        assert_eq!(
            seen.last().map(|(s, _)| s.clone()),
            Some(TaskStatus::Completed)
        );
        assert!(read_events(&events(dir.path())).contains(&"done poll".to_owned()));
        client.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_cancelled_midway_ends_cancelled_on_the_server() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let client = connect("task-cancel", dir.path()).await;
        let args = json!({"tag": "cancel-me", "steps": 20, "step_ms": 500});
        let mut task = started(
            client
                .call_tool_as_task("research", &args, CallOptions::new())
                .await
                .unwrap(),
        );
        let log = events(dir.path());
        event(&log, "step cancel-me 1", Duration::from_secs(10)).await;
        task.cancel().await.expect("tasks/cancel");
        // The server's own side: the tool body was cancelled, not finished.
        event(&log, "cancelled cancel-me", Duration::from_secs(10)).await;
        task.poll().await.unwrap();
        assert_eq!(task.task().status, TaskStatus::Cancelled);
        match task.wait().await {
            Err(Error::Task(TaskError::Cancelled { server, task_id })) => {
                assert_eq!(server, "tasks");
                assert!(!task_id.is_empty());
            }
            other => panic!("expected a cancelled task, got {other:?}"),
        }
        assert!(!read_events(&log).contains(&"done cancel-me".to_owned()));
        client.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_call_to_a_task_required_tool_waits_for_the_task() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let client = connect("task-required", dir.path()).await;
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let log = statuses.clone();
        let options =
            CallOptions::new().on_task(move |t| log.lock().unwrap().push(t.status.clone()));
        let args = json!({"tag": "req", "steps": 3, "step_ms": 300});
        let out = client
            .call_tool_with("build", &args, options)
            .await
            .expect("a plain call to a task-required tool");
        assert_eq!(out.text(), "req: 3 steps");
        let statuses = statuses.lock().unwrap().clone();
        assert_eq!(statuses.first(), Some(&TaskStatus::Working), "{statuses:?}");
        assert_eq!(
            statuses.last(),
            Some(&TaskStatus::Completed),
            "{statuses:?}"
        );
        // And a plain tool stays a plain call.
        let out = client
            .call_tool("echo", json!({"text": "hi"}))
            .await
            .unwrap();
        assert_eq!(out.text(), "hi");
        client.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_call_past_its_deadline_cancels_its_task() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let client = connect("task-deadline", dir.path()).await;
        let args = json!({"tag": "late", "steps": 30, "step_ms": 300});
        let begun = Instant::now();
        let outcome = client
            .call_tool_with(
                "build",
                &args,
                CallOptions::new().max_time(Duration::from_millis(1500)),
            )
            .await;
        assert!(
            matches!(outcome, Err(Error::Timeout { .. })),
            "expected a timeout, got {outcome:?}"
        );
        assert!(
            begun.elapsed() < Duration::from_secs(4),
            "{:?}",
            begun.elapsed()
        );
        event(
            &events(dir.path()),
            "cancelled late",
            Duration::from_secs(10),
        )
        .await;
        client.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_task_ends_the_wait_with_a_typed_error() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let tag = marker("task-killed");
        let client = common::tasks_server(&tag, &events(dir.path()))
            .connect()
            .await
            .unwrap();
        let task = running(&client, dir.path(), "killed").await;
        let killed = Instant::now();
        common::kill_marked(&tag);
        let outcome = within(Duration::from_secs(10), task.wait()).await;
        match outcome {
            Err(Error::Task(TaskError::Lost { server, .. })) => assert_eq!(server, "tasks"),
            other => panic!("expected a lost task, got {other:?}"),
        }
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "{:?}",
            killed.elapsed()
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_on_a_restarted_server_that_forgot_it_is_lost_not_hung() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let tag = marker("task-restart");
        let client = common::tasks_server(&tag, &events(dir.path()))
            .restart(RestartPolicy {
                backoff_initial: Duration::from_millis(50),
                backoff_max: Duration::from_millis(200),
                min_uptime: Duration::from_millis(50),
                health_interval: None,
                ..RestartPolicy::default()
            })
            .connect()
            .await
            .unwrap();
        let task = running(&client, dir.path(), "restarted").await;
        common::kill_marked(&tag);
        // The 2026-07-28 task outlives the connection, so the handle polls
        // the restarted server, which (memory backend) never heard of it.
        let outcome = within(Duration::from_secs(20), task.wait()).await;
        match outcome {
            Err(Error::Task(TaskError::Lost { reason, .. })) => {
                assert!(reason.contains("does not know it"), "{reason}")
            }
            other => panic!("expected a lost task, got {other:?}"),
        }
        // The restarted server serves new calls.
        let out = client
            .call_tool("echo", json!({"text": "back"}))
            .await
            .unwrap();
        assert_eq!(out.text(), "back");
        client.close().await.unwrap();
    })
    .await
}
