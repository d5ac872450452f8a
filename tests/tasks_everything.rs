//! 2025-11-25 core tasks (SEP-1686) against server-everything, whose
//! `simulate-research-query` requires task augmentation: the client asks
//! for the task with `params.task`, polls `tasks/get` and reads the result
//! with `tasks/result`.

mod common;

use std::sync::{Arc, Mutex};

use serde_json::json;
use switchboard::protocol::{Era, TaskStatus};
use switchboard::{CallOptions, TaskStart};

use common::{bounded, marker};

const TOOL: &str = "simulate-research-query";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_call_to_a_task_required_tool_runs_it_as_a_2025_11_25_task() {
    bounded(async {
        let client = common::everything(&marker("everything-task"))
            .connect()
            .await
            .unwrap();
        assert_eq!(client.era(), Some(Era::Handshake));
        let messages = Arc::new(Mutex::new(Vec::new()));
        let log = messages.clone();
        let options = CallOptions::new().on_task(move |t| {
            log.lock().unwrap().push((
                t.status.clone(),
                t.status_message.clone().unwrap_or_default(),
            ))
        });
        let out = client
            .call_tool_with(TOOL, json!({"topic": "tides"}), options)
            .await
            .expect("the task's result, through tasks/result");
        assert!(
            out.text().contains("# Research Report: tides"),
            "{}",
            out.text()
        );
        let messages = messages.lock().unwrap().clone();
        assert!(
            messages
                .iter()
                .any(|(_, m)| m.starts_with("Analyzing content")),
            "status messages: {messages:?}"
        );
        assert_eq!(
            messages.last().map(|(s, _)| s.clone()),
            Some(TaskStatus::Completed)
        );
        client.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_11_25_task_can_be_cancelled() {
    bounded(async {
        let client = common::everything(&marker("everything-task-cancel"))
            .connect()
            .await
            .unwrap();
        let mut task = match client
            .call_tool_as_task(TOOL, json!({"topic": "waves"}), CallOptions::new())
            .await
            .unwrap()
        {
            TaskStart::Task(task) => task,
            TaskStart::Done(out) => panic!("expected a task, got {:?}", out.text()),
        };
        task.poll().await.unwrap();
        task.cancel().await.unwrap();
        task.poll().await.unwrap();
        assert_eq!(task.task().status, TaskStatus::Cancelled);
        let err = task.wait().await.unwrap_err();
        assert!(
            matches!(
                err,
                switchboard::Error::Task(switchboard::TaskError::Cancelled { .. })
            ),
            "{err:?}"
        );
        client.close().await.unwrap();
    })
    .await
}

/// A 2025-11-25 task lives on its connection: after a supervised restart
/// the handle ends with a typed error at the next poll, not a hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_11_25_task_does_not_survive_a_restart() {
    bounded(async {
        let tag = marker("everything-task-restart");
        let client = common::everything(&tag)
            .restart(switchboard::RestartPolicy {
                backoff_initial: std::time::Duration::from_millis(50),
                min_uptime: std::time::Duration::from_millis(50),
                health_interval: None,
                ..switchboard::RestartPolicy::default()
            })
            .connect()
            .await
            .unwrap();
        let task = match client
            .call_tool_as_task(TOOL, json!({"topic": "lost"}), CallOptions::new())
            .await
            .unwrap()
        {
            TaskStart::Task(task) => task,
            TaskStart::Done(out) => panic!("expected a task, got {:?}", out.text()),
        };
        common::kill_marked(&tag);
        match task.wait().await {
            Err(switchboard::Error::Task(switchboard::TaskError::Lost { reason, .. })) => {
                assert!(
                    reason.contains("restarted") || reason.contains("connection"),
                    "{reason}"
                )
            }
            other => panic!("expected a lost task, got {other:?}"),
        }
        client.close().await.unwrap();
    })
    .await
}

/// A 2025-11-25 task that needs input: while the client waits on
/// `tasks/result`, the server sends its elicitation, which the client's
/// handler answers; the result carries the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_11_25_task_asks_while_its_result_is_awaited() {
    bounded(async {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let client = common::everything(&marker("everything-task-ask"))
            .elicitation(
                move |p: switchboard::protocol::ElicitRequestParams,
                      _cx: switchboard::RequestContext| {
                    log.lock().unwrap().push(p.message().to_owned());
                    async move {
                        Ok(switchboard::protocol::ElicitResult::accept(
                            serde_json::Map::from_iter([(
                                "interpretation".to_owned(),
                                json!("snake"),
                            )]),
                        ))
                    }
                },
            )
            .connect()
            .await
            .unwrap();
        let out = client
            .call_tool(TOOL, json!({"topic": "python", "ambiguous": true}))
            .await
            .expect("the task's result after the elicitation");
        assert!(
            out.text().contains("Clarification**: snake"),
            "{}",
            out.text()
        );
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert!(asked[0].contains("python"), "{asked:?}");
        client.close().await.unwrap();
    })
    .await
}
