//! The distributed runtime's operational guarantees (issue 16), against a
//! real nats-server and real worker processes, kills triggered by events:
//! the max-deliver reaper (a run whose worker dies on every attempt is
//! given up once, as failed) and per-agent queue caps.

#![cfg(feature = "distributed")]

mod common;
mod dist_common;

use std::process::Stdio;
use std::time::Duration;

use dist_common::{all_events, final_events, wait_event, Cluster, BIN};
use switchboard::agent::StopReason;
use switchboard::dist::{DistError, EventKind, RunState};

const LIMIT: Duration = Duration::from_secs(60);
/// `switchboard`'s exit code for a run that failed (as a model error does).
const EXIT_FAILED: i32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_worker_dies_on_every_attempt_is_given_up_once_as_failed() {
    let max_deliver = 2u64;
    let mut c = Cluster::start(&["--ack-wait", "1", "--max-deliver", "2"]).await;
    let d = c.client().await;
    // A follower from the start, as a user runs it.
    let follower = tokio::process::Command::new(BIN)
        .args(["submit", "fx", "PLAN read doomed 30000"])
        .args(["--follow", "--run-id", "doomed"])
        .env("SWITCHBOARD_NATS", c.nats.url())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start a follower");
    common::eventually("the run submitted", LIMIT, || async {
        d.run("doomed").record().await.ok()
    })
    .await;
    // Every attempt dies mid-call: kill -9 once the (read-only, so
    // replayed) tool started on that attempt.
    for attempt in 1..=max_deliver {
        let id = format!("w{attempt}");
        c.worker(&id, 1);
        wait_event(&d, "doomed", LIMIT, |e| {
            e.event.attempt == attempt && matches!(e.event.kind, EventKind::ToolStarted { .. })
        })
        .await;
        common::eventually("the tool counted the call", LIMIT, || async {
            (c.executions("doomed") as u64 == attempt).then_some(())
        })
        .await;
        c.kill_worker(&id);
    }
    // No worker is up now. Two start; one of them reaps the dead job.
    c.worker("r1", 1);
    c.worker("r2", 1);
    let events = all_events(&d, "doomed", LIMIT).await;
    let EventKind::Finished { stop, error, .. } = &events.last().unwrap().event.kind else {
        panic!("no final event");
    };
    assert_eq!(*stop, StopReason::WorkerLostTooOften(2));
    assert!(
        error.as_deref().is_some_and(|e| e.contains("lost 2 times")),
        "{error:?}"
    );
    assert_eq!(final_events(&d, "doomed").await, 1, "one completion");
    let record = d.run("doomed").record().await.unwrap();
    assert_eq!(record.state, RunState::Failed);
    assert_eq!(record.stop, Some(StopReason::WorkerLostTooOften(2)));
    let reaper = record.worker.clone().unwrap_or_default();
    assert!(reaper == "r1" || reaper == "r2", "reaped by {reaper}");
    // The transcript is there, as for other finished runs.
    let t = d
        .run("doomed")
        .transcript()
        .await
        .unwrap()
        .expect("a transcript");
    assert_eq!(t.stop, StopReason::WorkerLostTooOften(2));
    // A read-only tool is replayed at most once per delivery.
    assert_eq!(c.executions("doomed") as u64, max_deliver);
    // The dead job is gone from the work queue.
    let jobs = d.jetstream().get_stream("SB_JOBS").await.unwrap();
    common::eventually("the dead job deleted", LIMIT, || {
        let mut jobs = jobs.clone();
        async move { (jobs.info().await.ok()?.state.messages == 0).then_some(()) }
    })
    .await;
    // The follower ends with the failure exit code.
    let out = common::within(LIMIT, follower.wait_with_output())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(EXIT_FAILED),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // So does `runs get`.
    let out = c.cli(&["runs", "get", "doomed"]).await;
    assert_eq!(out.status.code(), Some(EXIT_FAILED));
    // Nothing else runs it: the surviving workers stay idle.
    assert_eq!(c.executions("doomed") as u64, max_deliver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_agent_queue_refuses_that_agent_while_others_still_admit() {
    let mut c = Cluster::start(&["--max-queued-per-agent", "3"]).await;
    let d = c.client().await;
    c.push(&c.planner_definition("other")).await;
    // No worker yet: the runs wait in the queue.
    for i in 0..3 {
        d.submit("fx", "PLAN read capped 0")
            .id(format!("fx-{i}"))
            .await
            .unwrap();
    }
    let refused = d.submit("fx", "PLAN read capped 0").id("fx-3").await;
    match refused {
        Err(e @ DistError::QueueFull { .. }) => {
            assert!(
                matches!(&e, DistError::QueueFull { agent: Some(a) } if a == "fx"),
                "{e:?}"
            );
            assert!(e.to_string().contains("\"fx\""), "{e}");
        }
        other => panic!("the fourth run of fx was not refused: {other:?}"),
    }
    // The refused id is free again, and nothing of it is stored.
    assert!(d.run("fx-3").record().await.is_err());
    // Another agent still admits.
    for i in 0..3 {
        d.submit("other", "hello")
            .id(format!("other-{i}"))
            .await
            .expect("another agent admits");
    }
    // The CLI says which queue is full, with the exit code for it.
    let out = c.cli(&["submit", "fx", "PLAN read capped 0"]).await;
    assert_eq!(out.status.code(), Some(75));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("queue of agent \"fx\" is full"), "{stderr}");
    // Once runs of fx finish, fx admits again.
    c.worker("w1", 4);
    all_events(&d, "fx-0", LIMIT).await;
    d.submit("fx", "PLAN read capped 0")
        .id("fx-3")
        .await
        .expect("admitted once the queue has room");
}
