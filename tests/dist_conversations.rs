//! Conversations (`submit --conversation ID`), against a real nats-server
//! and real worker processes of the built binary (feature `distributed`):
//! two runs of one conversation submitted at once to two workers never
//! overlap (event timestamps), run in submission order, and the second
//! one's model request holds the first one's prompt and answer; another
//! conversation runs beside them; a worker killed (-9) while it holds a
//! conversation's lease does not block the conversation past the lease.

#![cfg(feature = "distributed")]

mod common;
mod dist_common;

use std::time::{Duration, Instant};

use dist_common::{all_events, wait_event, Cluster};
use serde_json::{json, Value};
use switchboard::dist::{EventKind, RunEvent, RunState};

const LIMIT: Duration = Duration::from_secs(60);

/// The first and the final event's times (RFC 3339 in UTC with
/// milliseconds: they sort as text).
fn span(events: &[RunEvent]) -> (String, String) {
    let first = events.first().expect("events").event.t.clone();
    let last = events.last().expect("events").event.t.clone();
    assert!(matches!(
        events.last().unwrap().event.kind,
        EventKind::Finished { .. }
    ));
    (first, last)
}

/// The request whose last user message is `prompt`.
fn request_for(requests: &[Value], prompt: &str) -> Value {
    requests
        .iter()
        .find(|r| {
            r.as_array()
                .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
                .is_some_and(|m| m["content"] == prompt)
        })
        .cloned()
        .unwrap_or_else(|| panic!("no request for {prompt:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_one_conversation_run_in_order_after_the_earlier_answers_and_others_beside_them() {
    let mut c = Cluster::start(&[]).await;
    c.worker("w1", 2);
    c.worker("w2", 2);
    let d = c.client().await;
    let help = c.cli(&["submit", "--help"]).await;
    assert!(String::from_utf8_lossy(&help.stdout).contains("--conversation <ID>"));

    // Two of conversation c1 at once, one of c2; each call takes 800 ms.
    let a1 = d
        .submit("fx", "PLAN write a1 800")
        .conversation("c1")
        .await
        .unwrap();
    let out = c
        .cli(&["submit", "fx", "PLAN write a2 800", "--conversation", "c1"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a2 = d.run(String::from_utf8_lossy(&out.stdout).trim());
    let b1 = d
        .submit("fx", "PLAN write b1 800")
        .conversation("c2")
        .await
        .unwrap();

    let e1 = all_events(&d, a1.id(), LIMIT).await;
    let e2 = all_events(&d, a2.id(), LIMIT).await;
    let eb = all_events(&d, b1.id(), LIMIT).await;
    let (s1, f1) = span(&e1);
    let (s2, f2) = span(&e2);
    let (sb, fb) = span(&eb);
    eprintln!("a1 {s1}..{f1}, a2 {s2}..{f2}, b1 {sb}..{fb}");
    // One at a time, in submission order.
    assert!(f1 <= s2, "a2 started at {s2}, before a1 finished at {f1}");
    // The other conversation ran beside a1.
    assert!(
        sb < f1 && s1 < fb,
        "b1 {sb}..{fb} did not overlap a1 {s1}..{f1}"
    );
    // Both started (no retry: waiting is not an attempt).
    for (run, events) in [(&a1, &e1), (&a2, &e2)] {
        assert!(
            matches!(events[0].event.kind, EventKind::Started { .. }),
            "{:?}",
            events[0]
        );
        let r = run.record().await.unwrap();
        assert_eq!((r.state, r.attempt), (RunState::Done, 1));
    }

    // a2's model request: the system prompt, a1's prompt and answer, then a2's.
    let t1 = a1.transcript().await.unwrap().expect("a1's transcript");
    let answer1 = t1.answer.expect("a1 answered");
    assert!(answer1.starts_with("done a1"), "{answer1}");
    let requests = c.model.requests();
    let asked = request_for(&requests, "PLAN write a2 800");
    let roles: Vec<(&str, &str)> = asked
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap(),
                m["content"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("system", "Do as planned."),
            ("user", "PLAN write a1 800"),
            ("assistant", answer1.as_str()),
            ("user", "PLAN write a2 800"),
        ]
    );
    // a1 and b1 started from nothing.
    for prompt in ["PLAN write a1 800", "PLAN write b1 800"] {
        assert_eq!(request_for(&requests, prompt).as_array().unwrap().len(), 2);
    }
    let t2 = a2.transcript().await.unwrap().unwrap();
    assert_eq!(t2.prompt, "PLAN write a2 800");
    assert_eq!(json!(c.executions("a2")), json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_goes_on_after_its_lease_holder_is_killed() {
    let mut c = Cluster::start(&["--ack-wait", "3", "--lease", "3"]).await;
    c.worker("w1", 2);
    c.worker("w2", 2);
    let d = c.client().await;
    let k1 = d
        .submit("fx", "PLAN write k1 20000")
        .conversation("k")
        .await
        .unwrap();
    let k2 = d
        .submit("fx", "PLAN read k2 0")
        .conversation("k")
        .await
        .unwrap();
    // Killed mid-call, holding the lease.
    wait_event(&d, k1.id(), LIMIT, |e| {
        matches!(e.event.kind, EventKind::ToolStarted { .. })
    })
    .await;
    let holder = k1.record().await.unwrap().worker.expect("k1's worker");
    let lease = d
        .jetstream()
        .get_key_value("sb_locks")
        .await
        .unwrap()
        .get("conv.k")
        .await
        .unwrap()
        .expect("the lease is held");
    let lease: Value = serde_json::from_slice(&lease).unwrap();
    assert_eq!(
        (lease["run"].as_str(), lease["worker"].as_str()),
        (Some(k1.id()), Some(holder.as_str()))
    );
    c.kill_worker(&holder);
    let killed = Instant::now();

    // k1 resumes on the other worker (its write not repeated), then k2.
    let e1 = all_events(&d, k1.id(), LIMIT).await;
    let e2 = all_events(&d, k2.id(), LIMIT).await;
    let after = killed.elapsed();
    eprintln!("k2 finished {after:?} after the lease holder was killed (ack_wait 3 s, lease 3 s)");
    assert!(
        after < Duration::from_secs(12),
        "k2 finished {after:?} after the kill"
    );
    let r1 = k1.record().await.unwrap();
    assert_eq!(r1.state, RunState::Done);
    assert!(r1.attempt >= 2);
    assert_eq!(c.executions("k1"), 1);
    assert!(e1
        .iter()
        .any(|e| matches!(e.event.kind, EventKind::Retrying { .. })));
    let (_, f1) = span(&e1);
    let (s2, _) = span(&e2);
    assert!(f1 <= s2, "k2 started at {s2}, before k1 finished at {f1}");
    assert_eq!(k2.record().await.unwrap().state, RunState::Done);
    // k2 started after k1's turn, its answer included.
    let answer1 = k1.transcript().await.unwrap().unwrap().answer.unwrap();
    let asked = request_for(&c.model.requests(), "PLAN read k2 0");
    assert!(
        asked.to_string().contains(&json!(answer1).to_string()),
        "{asked}"
    );
}
