//! The server core's tasks (the tasks extension) with Switchboard's own
//! client, in one process (`Source::memory`, 2026-07-28): a task tool's
//! progress is its status message, `tasks/cancel` aborts the handler, an
//! ask inside a task is answered by the client's handler through
//! `tasks/update`, and a task-required tool is refused with -32021 to a
//! request that does not declare the extension.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use switchboard::protocol::{
    codes, CallToolResult, ElicitRequestParams, ElicitResult, Era, Implementation, TaskStatus, Tool,
};
use switchboard::server::{Registry, Server};
use switchboard::{CallOptions, Client, Error, Source, TaskStart, ToolTask};

/// Sets its flag when dropped: the handler's future went away.
struct Dropped(Arc<AtomicBool>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn tool(name: &str) -> Tool {
    Tool {
        name: name.into(),
        input_schema: json!({"type": "object"}).as_object().cloned().unwrap(),
        ..Default::default()
    }
}

fn server(dropped: Arc<AtomicBool>) -> Server {
    use switchboard::protocol::TaskSupport::{Optional, Required};
    let registry = Registry::new(Implementation::new("tasks-core", "1.0.0"))
        .task_tool(tool("work"), Optional, |cx, args| async move {
            let steps = args.get("steps").and_then(|s| s.as_u64()).unwrap_or(3);
            for n in 1..=steps {
                tokio::time::sleep(Duration::from_millis(100)).await;
                cx.progress(
                    n as f64,
                    Some(steps as f64),
                    Some(&format!("step {n} of {steps}")),
                );
            }
            Ok(CallToolResult::from_text(format!("worked {steps} steps")))
        })
        .task_tool(tool("forever"), Optional, move |_cx, _args| {
            let guard = Dropped(dropped.clone());
            async move {
                let _guard = guard;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(CallToolResult::from_text("never"))
            }
        })
        .task_tool(tool("confirm"), Required, |cx, _args| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let asked: ElicitRequestParams = serde_json::from_value(json!({
                "message": "Ship it?",
                "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}
            }))
            .unwrap();
            let answer = cx.elicit(asked).await?;
            Ok(CallToolResult::from_text(format!(
                "answer: {:?}",
                answer.action
            )))
        });
    Server::builder(registry)
        .task_poll_interval(Duration::from_millis(50))
        .build()
}

async fn connect(server: Server) -> Client {
    let client = Client::builder(Source::memory(server))
        .elicitation(
            |_p: ElicitRequestParams, _cx: switchboard::RequestContext| async move {
                Ok(ElicitResult::accept(serde_json::Map::from_iter([(
                    "ok".to_owned(),
                    json!(true),
                )])))
            },
        )
        .connect()
        .await
        .unwrap();
    assert_eq!(client.era(), Some(Era::Modern));
    client
}

fn started(start: TaskStart) -> ToolTask {
    match start {
        TaskStart::Task(task) => task,
        TaskStart::Done(out) => panic!("expected a task, got {:?}", out.text()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cores_tasks_report_progress_cancel_and_take_answers() {
    common::bounded(async {
        let dropped = Arc::new(AtomicBool::new(false));
        let client = connect(server(dropped.clone())).await;

        // Progress as the status message, at the server's poll interval.
        let messages = Arc::new(Mutex::new(Vec::new()));
        let log = messages.clone();
        let options =
            CallOptions::new().on_task(move |t| log.lock().unwrap().push(t.status_message.clone()));
        let task = started(
            client
                .call_tool_as_task("work", json!({"steps": 3}), options)
                .await
                .unwrap(),
        );
        assert_eq!(task.poll_interval(), Duration::from_millis(50));
        assert_eq!(task.wait().await.unwrap().text(), "worked 3 steps");
        let messages = messages.lock().unwrap().clone();
        assert!(
            messages.contains(&Some("step 2 of 3".to_owned())),
            "{messages:?}"
        );

        // Cancel aborts the handler.
        let mut task = started(
            client
                .call_tool_as_task("forever", json!({}), CallOptions::new())
                .await
                .unwrap(),
        );
        task.cancel().await.unwrap();
        task.poll().await.unwrap();
        assert_eq!(task.task().status, TaskStatus::Cancelled);
        common::eventually("the handler dropped", Duration::from_secs(5), || {
            let d = dropped.load(Ordering::SeqCst);
            async move { d.then_some(()) }
        })
        .await;

        // An ask inside a task: input_required, answered by the client's
        // elicitation handler with tasks/update, then the next leg ends it.
        let out = client.call_tool("confirm", json!({})).await.unwrap();
        assert_eq!(out.text(), "answer: Accept");

        // A required tool, the extension not declared: -32021.
        let refused = client
            .call_tool_with(
                "confirm",
                json!({}),
                CallOptions::new().declare_tasks(false),
            )
            .await;
        match refused {
            Err(Error::Protocol { code, .. }) => {
                assert_eq!(code, codes::MISSING_REQUIRED_CLIENT_CAPABILITY)
            }
            other => panic!("expected -32021, got {other:?}"),
        }
        client.close().await.unwrap();
    })
    .await
}
