//! Distributed runs under faults, with kills triggered by events (never by
//! timers): the design's T3 (a worker `kill -9`ed mid tool call: no run
//! lost, one completion, side effects never repeated, safe tools
//! repeated, journaled model turns never asked again), T4 (redelivery
//! latency), T5 (SIGTERM: drain, then hand off with a `nak`), T6 (a cancel
//! while the owner is dead takes effect on redelivery) and T10
//! (nats-server `kill -9` and restart on its store).

#![cfg(feature = "distributed")]

mod common;
mod dist_common;

use std::time::{Duration, Instant};

use dist_common::{all_events, final_events, wait_event, Cluster};
use switchboard::agent::StopReason;
use switchboard::dist::{EventKind, Origin, RunState};

const LIMIT: Duration = Duration::from_secs(60);
/// The pool's ack wait in these tests; workers heartbeat every third of it.
const ACK_WAIT_MS: f64 = 3000.0;
const HEARTBEAT_MS: f64 = 1000.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_call_loses_no_run_and_repeats_no_side_effect() {
    let mut c = Cluster::start(&["--ack-wait", "3"]).await;
    let d = c.client().await;
    // The victim, full with 4 runs, each in the middle of a 5 s call.
    c.worker("victim", 4);
    let tags = ["w0", "w1", "r0", "r1"];
    let mut runs = Vec::new();
    for tag in tags {
        let tool = if tag.starts_with('w') {
            "write"
        } else {
            "read"
        };
        let run = d
            .submit("fx", &format!("PLAN {tool} {tag} 5000"))
            .id(format!("run-{tag}"))
            .await
            .unwrap();
        runs.push(run);
    }
    for run in &runs {
        wait_event(&d, run.id(), LIMIT, |e| {
            matches!(e.event.kind, EventKind::ToolStarted { .. })
        })
        .await;
        assert_eq!(
            run.record().await.unwrap().worker.as_deref(),
            Some("victim")
        );
    }
    // The survivor, with spare slots and its agent already built.
    c.warm_worker("survivor", 8).await;

    // Every call is in flight on the victim now: the tool counted each
    // (the kill waits for that, not for a timer).
    for tag in tags {
        common::eventually(&format!("{tag} counted by the tool"), LIMIT, || async {
            (c.executions(tag) == 1).then_some(())
        })
        .await;
    }
    let mut retrying = Vec::new();
    for run in &runs {
        retrying.push(run.events_from(0).await.unwrap());
    }
    c.kill_worker("victim");
    let killed = Instant::now();

    // T4: each run's second attempt starts within the bar after the kill.
    let mut latencies = Vec::new();
    for (run, events) in runs.iter().zip(retrying.iter_mut()) {
        common::within(LIMIT, async {
            loop {
                let e = events.next().await.unwrap().unwrap();
                if let EventKind::Retrying {
                    worker,
                    lost_worker,
                } = &e.event.kind
                {
                    assert_eq!(worker, "survivor");
                    assert_eq!(lost_worker.as_deref(), Some("victim"));
                    assert_eq!(e.event.attempt, 2);
                    return;
                }
            }
        })
        .await;
        latencies.push(dist_common::ms_since(killed));
        let _ = run;
    }
    eprintln!("redelivery after kill -9 (ack_wait 3 s, heartbeat 1 s): {latencies:.0?} ms");
    // The design's bar is [ack_wait - heartbeat, ack_wait + 250 ms]
    // (measured here: 2.76-2.79 s); 250 ms more each side for a loaded
    // 2-core CI machine, where a heartbeat or the survivor may be late.
    for l in &latencies {
        assert!(
            *l >= ACK_WAIT_MS - HEARTBEAT_MS - 250.0 && *l <= ACK_WAIT_MS + 500.0,
            "redelivered {l:.0} ms after the kill: {latencies:?}"
        );
    }

    for (run, tag) in runs.iter().zip(tags) {
        let events = all_events(&d, run.id(), LIMIT).await;
        let EventKind::Finished { stop, answer, .. } = &events.last().unwrap().event.kind else {
            panic!("no final event for {tag}");
        };
        assert_eq!(*stop, StopReason::FinalAnswer, "{tag}");
        assert_eq!(final_events(&d, run.id()).await, 1, "{tag}: one completion");
        let record = run.record().await.unwrap();
        assert_eq!(record.state, RunState::Done);
        assert_eq!(record.attempt, 2);
        assert_eq!(record.worker.as_deref(), Some("survivor"));
        let origin = events.iter().find_map(|e| match &e.event.kind {
            EventKind::ToolFinished { origin, .. } if e.event.attempt == 2 => Some(*origin),
            _ => None,
        });
        let t = run.transcript().await.unwrap().unwrap();
        let output = &t.steps[0].tool_calls[0].output;
        if tag.starts_with('w') {
            // A side effect in flight on the lost worker: never repeated,
            // and the model is told its outcome is unknown.
            assert_eq!(c.executions(tag), 1, "{tag} executed once, not twice");
            assert_eq!(origin, Some(Origin::Unknown), "{tag}");
            assert!(output.contains("outcome unknown"), "{tag}: {output}");
            assert!(t.steps[0].tool_calls[0].is_error);
        } else {
            // A read-only tool is called again (at-least-once).
            assert_eq!(c.executions(tag), 2, "{tag} re-executed");
            assert_eq!(origin, Some(Origin::Fresh), "{tag}");
            assert_eq!(
                answer.as_deref(),
                Some(format!("done {tag}: read {tag} ok").as_str())
            );
        }
        // The first turn was journaled by the victim: never asked again.
        assert_eq!(c.model.asked(tag, 0), 1, "{tag}: turn 1 asked once");
        assert_eq!(c.model.asked(tag, 1), 1, "{tag}: turn 2 asked once");
    }
    // Both attempts of a call carry the same idempotency key.
    for e in c.effects().iter().filter(|e| e.tag == "r0") {
        assert_eq!(e.key, "run-r0.1.call_r0");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_server_killed_and_restarted_on_its_store_loses_no_run() {
    // A delivery or an ack lost with the server is redelivered after
    // ack_wait: 3 s here.
    let mut c = Cluster::start(&["--ack-wait", "3"]).await;
    c.worker("w1", 4);
    let d = c.client().await;
    let n = 12;
    let mut ids = Vec::new();
    for i in 0..n {
        let run = d
            .submit("fx", &format!("PLAN write n{i} 300"))
            .id(format!("nats-{i}"))
            .await
            .unwrap();
        ids.push(run.id().to_owned());
    }
    // Mid-load: once the first run finished, kill -9 the server and start
    // it again on the same port and store.
    wait_event(&d, &ids[0], LIMIT, |e| {
        matches!(e.event.kind, EventKind::Finished { .. })
    })
    .await;
    c.nats.restart();
    eprintln!("nats-server restarted, healthy in {:?}", c.nats.started_in);
    let d = c.client().await;
    let mut redelivered = 0;
    for (i, id) in ids.iter().enumerate() {
        let events = all_events(&d, id, LIMIT).await;
        assert!(
            matches!(
                events.last().unwrap().event.kind,
                EventKind::Finished { .. }
            ),
            "{id}"
        );
        assert_eq!(final_events(&d, id).await, 1, "{id}: one completion");
        assert!(
            c.executions(&format!("n{i}")) <= 1,
            "n{i} never executed twice"
        );
        let record = d.run(id).record().await.unwrap();
        assert!(record.state.is_terminal(), "{id}: {:?}", record.state);
        redelivered += usize::from(record.attempt > 1);
    }
    eprintln!("after the nats-server restart: {n} of {n} finished once, {redelivered} redelivered");
    if redelivered > 0 {
        eprintln!(
            "{}",
            c.worker_log("w1")
                .lines()
                .filter(|l| l.contains("WARN"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_finishing_runs_and_hands_off_the_rest_at_once() {
    // ack_wait 30 s: a hand-off that waited for it would miss the bar.
    let mut c = Cluster::start(&[]).await;
    let d = c.client().await;
    c.worker_with("leaving", 2, &["--drain-secs", "3"]);
    let short = d
        .submit("fx", "PLAN read short 2500")
        .id("drain-short")
        .await
        .unwrap();
    let long = d
        .submit("fx", "PLAN write long 30000")
        .id("drain-long")
        .await
        .unwrap();
    for tag in ["short", "long"] {
        common::eventually(&format!("{tag} counted by the tool"), LIMIT, || async {
            (c.executions(tag) == 1).then_some(())
        })
        .await;
    }
    c.warm_worker("staying", 2).await;
    let mut long_events = long.events_from(0).await.unwrap();
    assert_eq!(
        short.record().await.unwrap().state,
        RunState::Running,
        "still mid-call"
    );
    c.terminate_worker("leaving");
    let terminated = Instant::now();
    // The long run is handed off once the drain time (3 s) is up: the
    // other worker starts it at once (nak), not after ack_wait.
    common::within(LIMIT, async {
        loop {
            let e = long_events.next().await.unwrap().unwrap();
            if let EventKind::Retrying {
                worker,
                lost_worker,
            } = &e.event.kind
            {
                assert_eq!(worker, "staying");
                assert_eq!(lost_worker.as_deref(), Some("leaving"));
                return;
            }
        }
    })
    .await;
    let hand_off_ms = dist_common::ms_since(terminated) - 3000.0;
    eprintln!("hand-off after the drain time: {hand_off_ms:.0} ms");
    assert!(
        hand_off_ms <= 1000.0,
        "handed off {hand_off_ms:.0} ms after the drain"
    );
    let status = c.wait_worker("leaving", LIMIT).await;
    assert_eq!(status.code(), Some(143), "SIGTERM's exit code");
    // A worker that stopped withdraws from the shared health at once.
    let health = d.status().await.unwrap();
    assert!(
        !health.workers.iter().any(|w| w.worker == "leaving"),
        "{health:?}"
    );
    // The short run, mid-call at the SIGTERM, finished on the leaving
    // worker while it drained.
    let events = all_events(&d, short.id(), LIMIT).await;
    assert!(matches!(
        events.last().unwrap().event.kind,
        EventKind::Finished { .. }
    ));
    let r = short.record().await.unwrap();
    assert_eq!(
        (r.state, r.attempt, r.worker.as_deref()),
        (RunState::Done, 1, Some("leaving"))
    );
    // The long one finished on the other, its write not repeated.
    all_events(&d, long.id(), LIMIT).await;
    let r = long.record().await.unwrap();
    assert_eq!(
        (r.state, r.attempt, r.worker.as_deref()),
        (RunState::Done, 2, Some("staying"))
    );
    assert_eq!(c.executions("long"), 1);
    assert_eq!(final_events(&d, long.id()).await, 1);
    let t = long.transcript().await.unwrap().unwrap();
    assert!(t.steps[0].tool_calls[0].output.contains("outcome unknown"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cancelled_while_its_worker_is_dead_is_cancelled_on_redelivery() {
    let mut c = Cluster::start(&["--ack-wait", "3"]).await;
    let d = c.client().await;
    c.worker("victim", 2);
    let run = d
        .submit("fx", "PLAN write orphan 30000")
        .id("orphan")
        .await
        .unwrap();
    common::eventually("the call counted by the tool", LIMIT, || async {
        (c.executions("orphan") == 1).then_some(())
    })
    .await;
    c.kill_worker("victim");
    // Nobody hears the signal; the intent is in the record.
    run.cancel("test").await.unwrap();
    assert!(run.record().await.unwrap().cancel.is_some());
    c.worker("survivor", 2);
    let events = all_events(&d, run.id(), LIMIT).await;
    let EventKind::Finished { stop, .. } = &events.last().unwrap().event.kind else {
        panic!("no final event");
    };
    assert_eq!(*stop, StopReason::Cancelled);
    let record = run.record().await.unwrap();
    assert_eq!((record.state, record.attempt), (RunState::Cancelled, 2));
    assert_eq!(record.worker.as_deref(), Some("survivor"));
    // The second attempt did not resume the run: nothing ran again.
    assert!(!events
        .iter()
        .any(|e| e.event.attempt == 2 && matches!(e.event.kind, EventKind::StepStarted { .. })));
    assert_eq!(c.executions("orphan"), 1);
    assert_eq!(final_events(&d, run.id()).await, 1);
}
