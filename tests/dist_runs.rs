//! Distributed runs without faults, against a real nats-server and real
//! worker processes of the built binary (feature `distributed`): the
//! design's T2 (many runs, each finished once, transcripts as `switchboard
//! run` prints them), T6 (cancel), T7 (duplicate submission), T8
//! (admission, and dispatch never above the slots), T9 (resumable
//! events), and the CLI's contract.

#![cfg(feature = "distributed")]

mod common;
mod dist_common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use dist_common::{all_events, final_events, wait_event, Cluster};
use serde_json::Value;
use switchboard::agent::StopReason;
use switchboard::dist::{DistError, EventKind, RunState};

const LIMIT: Duration = Duration::from_secs(60);

/// A transcript without what differs between two runs (timings).
fn untimed(mut t: Value) -> Value {
    t["ms"] = Value::Null;
    if let Some(steps) = t["steps"].as_array_mut() {
        for s in steps {
            s["model_ms"] = Value::Null;
            s["tools_ms"] = Value::Null;
            if let Some(calls) = s["tool_calls"].as_array_mut() {
                for c in calls {
                    c["ms"] = Value::Null;
                }
            }
        }
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_spread_over_workers_finish_once_with_the_transcript_switchboard_run_prints() {
    let mut c = Cluster::start(&[]).await;
    for w in 0..4 {
        c.worker(&format!("w{w}"), 4);
    }
    let d = c.client().await;
    // The reference: one run through `switchboard run`, on this machine.
    let def = c.definition_path().display().to_string();
    let local = c
        .cli(&["run", &def, "PLAN", "write", "same", "0", "--json"])
        .await;
    assert!(
        local.status.success(),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );
    let reference = untimed(common::stdout_json(&local)).to_string();

    let mut sub = d.nats().subscribe("sb.v1.run.*.ev").await.unwrap();
    d.nats().flush().await.unwrap();
    let n = 200;
    let mut ids = Vec::new();
    for i in 0..n {
        let run = d.submit("fx", &format!("PLAN write t{i} 0")).await.unwrap();
        ids.push(run.id().to_owned());
    }
    dist_common::count_finals(&mut sub, n, LIMIT).await;
    let finals = dist_common::finals(&d, LIMIT).await;
    let mut workers = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        let tag = format!("t{i}");
        let f = finals.get(id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(f.len(), 1, "{id}: one final event");
        let EventKind::Finished { stop, .. } = &f[0].kind else {
            unreachable!()
        };
        assert_eq!(*stop, StopReason::FinalAnswer);
        let record = d.run(id).record().await.unwrap();
        assert_eq!((record.state, record.attempt), (RunState::Done, 1));
        workers.extend(record.worker);
        assert_eq!(c.executions(&tag), 1, "{tag} executed once");
        // The transcript is `switchboard run`'s but for timings (and the tag).
        let t = serde_json::to_value(d.run(id).transcript().await.unwrap().unwrap()).unwrap();
        let want = reference.replace("same", &tag);
        assert_eq!(untimed(t).to_string(), want, "{id}");
    }
    assert_eq!(finals.len(), n, "no final event for another run");
    // And nothing else ran (the reference run's own call aside).
    assert_eq!(c.effects().iter().filter(|e| e.tag != "same").count(), n);
    assert_eq!(workers.len(), 4, "every worker took runs: {workers:?}");
    // Every call carried its idempotency key: <run>.<step>.<call id>.
    let keys: HashSet<String> = c.effects().into_iter().map(|e| e.key).collect();
    for (i, id) in ids.iter().enumerate() {
        assert!(keys.contains(&format!("{id}.1.call_t{i}")), "{id}");
    }

    // `submit --follow --json` prints the same transcript as `run --json`.
    let remote = c
        .cli(&["submit", "fx", "PLAN write same 0", "--follow", "--json"])
        .await;
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    assert_eq!(untimed(common::stdout_json(&remote)).to_string(), reference);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitting_one_run_id_again_stores_and_runs_it_once() {
    let mut c = Cluster::start(&[]).await;
    let d = c.client().await;
    let first = d
        .submit("fx", "PLAN write dup 0")
        .id("run-dup-1")
        .await
        .unwrap();
    assert!(!first.was_resubmitted());
    for _ in 0..4 {
        let again = d
            .submit("fx", "PLAN write dup 0")
            .id("run-dup-1")
            .await
            .unwrap();
        assert!(again.was_resubmitted(), "a retry finds the run");
    }
    let out = c
        .cli(&[
            "submit",
            "fx",
            "PLAN write dup 0",
            "--run-id",
            "run-dup-1",
            "--json",
        ])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(common::stdout_json(&out)["resubmitted"], true);
    let jobs = d.jetstream().get_stream("SB_JOBS").await.unwrap();
    let info = jobs.get_info().await.unwrap();
    assert_eq!(
        info.state.messages, 1,
        "one job queued for five submissions"
    );
    c.worker("w1", 2);
    let events = all_events(&d, "run-dup-1", LIMIT).await;
    assert!(matches!(
        events.last().unwrap().event.kind,
        EventKind::Finished { .. }
    ));
    assert_eq!(final_events(&d, "run-dup-1").await, 1);
    assert_eq!(c.executions("dup"), 1);
    // Submitted after it finished: still the same run, nothing runs again.
    let late = d
        .submit("fx", "PLAN write dup 0")
        .id("run-dup-1")
        .await
        .unwrap();
    assert!(late.was_resubmitted());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(c.executions("dup"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_submissions_with_queue_full() {
    let mut c = Cluster::start(&["--max-queued", "50"]).await;
    let d = c.client().await;
    let mut refused = 0;
    for i in 0..80 {
        match d
            .submit("fx", &format!("PLAN write q{i} 50"))
            .id(format!("q{i}"))
            .await
        {
            Ok(_) => {}
            Err(DistError::QueueFull { agent: None }) => refused += 1,
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(refused, 30);
    // A refused run leaves no record, so the same id may be submitted later.
    assert!(matches!(
        d.run("q79").record().await,
        Err(DistError::RunNotFound(_))
    ));
    assert_eq!(d.list_runs(Some(RunState::Queued)).await.unwrap().len(), 50);
    let out = c.cli(&["submit", "fx", "PLAN write over 0"]).await;
    assert_eq!(
        out.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("the queue is full"));
    // Dispatch: one worker of 2 slots never runs more than 2 at once.
    let mut sub = d.nats().subscribe("sb.v1.run.*.ev").await.unwrap();
    d.nats().flush().await.unwrap();
    c.worker("w1", 2);
    dist_common::count_finals(&mut sub, 50, LIMIT).await;
    let most = c.effects().iter().map(|e| e.inflight).max().unwrap_or(0);
    assert_eq!(
        most, 2,
        "calls in flight at most the slots, and the slots used"
    );
    assert_eq!(c.effects().len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_queued_run_never_starts_and_a_running_one_stops_at_once() {
    let mut c = Cluster::start(&[]).await;
    let d = c.client().await;
    // Queued (no worker yet): cancelled before it starts.
    let queued = d.submit("fx", "PLAN write queued 0").await.unwrap();
    let out = c.cli(&["runs", "cancel", queued.id()]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(queued.record().await.unwrap().cancel.is_some());
    c.worker("w1", 4);
    let events = all_events(&d, queued.id(), LIMIT).await;
    let EventKind::Finished { stop, .. } = &events.last().unwrap().event.kind else {
        panic!("no final event");
    };
    assert_eq!(*stop, StopReason::Cancelled);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.event.kind, EventKind::StepStarted { .. })),
        "a cancelled queued run never starts: {events:?}"
    );
    assert_eq!(c.executions("queued"), 0);
    assert_eq!(queued.record().await.unwrap().state, RunState::Cancelled);

    // Running, mid tool call (30 s): cancelled runs end within the bar.
    let mut latencies = Vec::new();
    for i in 0..10 {
        let tag = format!("long{i}");
        let run = d
            .submit("fx", &format!("PLAN write {tag} 30000"))
            .await
            .unwrap();
        wait_event(&d, run.id(), LIMIT, |e| {
            matches!(e.event.kind, EventKind::ToolStarted { .. })
        })
        .await;
        let mut events = run.events_from(0).await.unwrap();
        let asked = Instant::now();
        run.cancel("test").await.unwrap();
        let stop = common::within(LIMIT, async {
            loop {
                let e = events.next().await.unwrap().unwrap();
                if let EventKind::Finished { stop, .. } = e.event.kind {
                    return stop;
                }
            }
        })
        .await;
        latencies.push(dist_common::ms_since(asked));
        assert_eq!(stop, StopReason::Cancelled);
        assert_eq!(run.record().await.unwrap().state, RunState::Cancelled);
        let t = run.transcript().await.unwrap().expect("a transcript");
        assert_eq!(t.stop, StopReason::Cancelled);
    }
    latencies.sort_by(f64::total_cmp);
    eprintln!(
        "cancel of a running run to its final event: p50 {:.1} ms, max {:.1} ms (n={})",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
        latencies.len()
    );
    // The design's bar is p99 <= 100 ms; the max of 10 is held to it, with
    // room for a loaded 2-core CI machine.
    assert!(latencies[latencies.len() - 1] < 250.0, "{latencies:?}");
    // Cancelling a finished run changes nothing.
    let done = d.run(queued.id());
    done.cancel("test").await.unwrap();
    assert_eq!(done.record().await.unwrap().state, RunState::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_that_drops_resumes_from_its_cursor_with_no_gap_or_duplicate() {
    let mut c = Cluster::start(&[]).await;
    c.worker("w1", 2);
    let d = c.client().await;
    let run = d.submit("fx", "PLAN read resume 200").await.unwrap();
    let full = all_events(&d, run.id(), LIMIT).await;
    assert!(full.len() >= 6, "{full:?}");
    for cut in 1..full.len() {
        // Read `cut` events, drop the subscription, resume after the last.
        let mut first = run.events_from(0).await.unwrap();
        let mut got = Vec::new();
        for _ in 0..cut {
            got.push(common::within(LIMIT, first.next()).await.unwrap().unwrap());
        }
        drop(first);
        let from = got.last().unwrap().cursor + 1;
        run.follow(from, |e| got.push(e.clone())).await.unwrap();
        assert_eq!(got, full, "cut after {cut} events");
    }
    // The CLI's watch prints the same events as JSON lines, from a cursor.
    let from = full[2].cursor.to_string();
    let out = c.cli(&["runs", "watch", run.id(), "--from", &from]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), full.len() - 2);
    assert_eq!(lines[0]["cursor"], full[2].cursor);
    assert_eq!(lines.last().unwrap()["kind"], "finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_submits_follows_gets_lists_and_exits_like_run() {
    let mut c = Cluster::start(&[]).await;
    c.worker("w1", 2);
    // Without --follow: the run id only.
    let out = c.cli(&["submit", "fx", "PLAN", "write", "cli1", "0"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        switchboard::dist::valid_run_id(&id) && id.len() == 26,
        "{id:?}"
    );
    // With --follow: the text on stdout, the live view on stderr, exit 0.
    let out = c
        .cli(&["submit", "fx", "PLAN write cli2 0", "--follow"])
        .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "done cli2: write cli2 ok"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("calling fx_write"), "{err}");
    // runs get: the transcript; --json as `run --json`.
    let d = c.client().await;
    all_events(&d, &id, LIMIT).await;
    let out = c.cli(&["runs", "get", &id, "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = common::stdout_json(&out);
    assert_eq!(t["answer"], "done cli1: write cli1 ok");
    assert_eq!(t["steps"][0]["tool_calls"][0]["name"], "fx_write");
    // runs list: both, done.
    let out = c.cli(&["runs", "list", "--state", "done", "--json"]).await;
    let list = common::stdout_json(&out);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    // A cancelled run exits 130, as `switchboard run` does on Ctrl-C.
    let follow = tokio::spawn({
        let args: Vec<String> = [
            "submit",
            "fx",
            "PLAN write cli3 30000",
            "--follow",
            "--run-id",
            "cli3",
        ]
        .map(String::from)
        .to_vec();
        let nats = c.nats.url();
        async move {
            tokio::process::Command::new(dist_common::BIN)
                .args(args)
                .env("SWITCHBOARD_NATS", nats)
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output()
                .await
                .unwrap()
        }
    });
    wait_event(&d, "cli3", LIMIT, |e| {
        matches!(e.event.kind, EventKind::ToolStarted { .. })
    })
    .await;
    let out = c.cli(&["runs", "cancel", "cli3"]).await;
    assert!(out.status.success());
    let out = common::within(LIMIT, follow).await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Ctrl-C while following cancels the run: exit 130, the run cancelled.
    let follower = tokio::process::Command::new(dist_common::BIN)
        .args([
            "submit",
            "fx",
            "PLAN write cli4 30000",
            "--follow",
            "--run-id",
            "cli4",
        ])
        .env("SWITCHBOARD_NATS", c.nats.url())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_event(&d, "cli4", LIMIT, |e| {
        matches!(e.event.kind, EventKind::ToolStarted { .. })
    })
    .await;
    let pid = i32::try_from(follower.id().unwrap()).unwrap();
    // SAFETY: kill(2) on our own child's PID; no memory is touched.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let out = common::within(LIMIT, follower.wait_with_output())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        d.run("cli4").record().await.unwrap().state,
        RunState::Cancelled
    );
    // status: this worker and its agent's server, from the shared bucket.
    let out = common::eventually("the worker's server in sb_health", LIMIT, || async {
        let out = c.cli(&["status", "--json"]).await;
        let s = common::stdout_json(&out);
        let listed = s["servers"].as_array().is_some_and(|a| {
            // Health is published now and then: wait for the one that
            // counts the calls already made.
            a.iter().any(|m| {
                m["server"] == "fx"
                    && m["state"] == "ready"
                    && m["calls"].as_u64().is_some_and(|n| n >= 2)
            })
        });
        listed.then_some(s)
    })
    .await;
    let w = &out["workers"][0];
    assert_eq!(
        (
            w["worker"].as_str(),
            w["pool"].as_str(),
            w["slots"].as_u64()
        ),
        (Some("w1"), Some("default"), Some(2))
    );
    assert_eq!(out["servers"][0]["agent"], "fx@1");
    assert!(out["servers"][0]["calls"].as_u64().unwrap() >= 2);
    // Unknown runs and agents are usage errors.
    let out = c.cli(&["runs", "get", "no-such-run"]).await;
    assert_eq!(out.status.code(), Some(2));
    let out = c.cli(&["submit", "nobody", "hi"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("agents push"));
}
