//! The replay policy against a real supervised server: FastMCP 4
//! (`tests/peers/ledger_server.py`, the peers' venv) killed by PID with
//! calls in flight. The server appends every call it starts and finishes to
//! a ledger file that outlives its restarts, so the tests see from the
//! server's side what ran, and how often.

mod common;

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;
use switchboard::{
    Client, Error, Fleet, HealthState, Replay, ReplayPolicy, RestartPolicy, ToolOutput,
};

use common::ledger::{ledger_source, Ledger};
use common::{marker, within, MARKER_VAR};

/// How long each call in flight runs before it would answer.
const SLOW_MS: u64 = 3000;

fn fast_restarts() -> RestartPolicy {
    RestartPolicy {
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        min_uptime: Duration::from_millis(50),
        health_interval: None,
        ..RestartPolicy::default()
    }
}

async fn connect(ledger: &Ledger, tag: &str, replay: Option<ReplayPolicy>) -> Client {
    let mut b = Client::builder(ledger_source(&ledger.path, tag))
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(20))
        .restart(fast_restarts());
    if let Some(p) = replay {
        b = b.replay(p);
    }
    let client = b.connect().await.expect("the ledger server starts");
    // The annotations the policy reads come from the last listing.
    client.list_tools().await.expect("tools/list");
    client
}

async fn call(client: &Client, tool: &str, key: &str) -> switchboard::Result<ToolOutput> {
    client
        .call_tool(tool, json!({"key": key, "ms": SLOW_MS}))
        .await
}

async fn wait_ready(client: &Client) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.health().state != HealthState::Ready {
        assert!(Instant::now() < deadline, "not back: {:?}", client.health());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn text(out: &switchboard::Result<ToolOutput>) -> String {
    match out {
        Ok(o) => o.text(),
        Err(e) => format!("error: {e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_read_only_and_idempotent_calls_are_replayed_once_and_destructive_ones_fail() {
    within(Duration::from_secs(60), async {
        let ledger = Ledger::new();
        let tag = marker("replay-safe");
        let client = connect(&ledger, &tag, None).await;
        let safe = [("lookup", "L1"), ("lookup", "L2"), ("store", "S1")];
        let unsafe_ = [("charge", "C1"), ("charge", "C2"), ("note", "N1")];
        let all: Vec<(&str, &str)> = safe.iter().chain(&unsafe_).copied().collect();
        let calls = join_all(all.iter().map(|(t, k)| call(&client, t, k)));
        let (outcomes, killed) = ledger.kill_once_started(&tag, &all, calls).await;

        for ((tool, key), out) in all.iter().zip(&outcomes) {
            if safe.contains(&(tool, key)) {
                assert_eq!(text(out), format!("{tool} {key} by ledger"), "{tool} {key}");
            } else {
                assert!(
                    matches!(out, Err(Error::ServerRestarted)),
                    "{tool} {key}: {}",
                    text(out)
                );
            }
        }
        let boots = ledger.boots();
        assert_eq!(boots.len(), 2, "one restart: {:?}", ledger.lines());
        assert_eq!(boots[0], killed);
        for (tool, key) in safe {
            // Cut once, run again once on the new process: never a third time.
            assert_eq!(ledger.count("start", tool, key), 2, "{tool} {key}");
            assert_eq!(ledger.count("done", tool, key), 1, "{tool} {key}");
        }
        for (tool, key) in unsafe_ {
            assert_eq!(
                ledger.count("start", tool, key),
                1,
                "{tool} {key} ran again"
            );
            assert_eq!(ledger.count("done", tool, key), 0, "{tool} {key}");
        }
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_cut_by_a_second_restart_is_not_replayed_again() {
    within(Duration::from_secs(60), async {
        let ledger = Ledger::new();
        let tag = marker("replay-twice");
        let client = connect(&ledger, &tag, None).await;
        let killer = async {
            ledger.wait_started(&[("lookup", "L1")], 1).await;
            ledger.kill_current(&tag);
            ledger.wait_started(&[("lookup", "L1")], 2).await;
            ledger.kill_current(&tag);
        };
        let (out, ()) = tokio::join!(call(&client, "lookup", "L1"), killer);
        assert!(matches!(out, Err(Error::ServerRestarted)), "{}", text(&out));
        wait_ready(&client).await;
        assert_eq!(ledger.boots().len(), 3);
        // The third process is up and has been asked nothing.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            ledger.count("start", "lookup", "L1"),
            2,
            "{:?}",
            ledger.lines()
        );
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_replays_nothing_and_a_deny_glob_overrides_the_annotations() {
    within(Duration::from_secs(60), async {
        for (policy, tool) in [
            (ReplayPolicy::new(Replay::Never), "lookup"),
            (ReplayPolicy::default().deny(["look*"]), "lookup"),
            (ReplayPolicy::new(Replay::Always).deny(["store"]), "store"),
        ] {
            let ledger = Ledger::new();
            let tag = marker("replay-never");
            let client = connect(&ledger, &tag, Some(policy.clone())).await;
            let (out, _) = ledger
                .kill_once_started(&tag, &[(tool, "K")], call(&client, tool, "K"))
                .await;
            assert!(
                matches!(out, Err(Error::ServerRestarted)),
                "{policy:?}: {}",
                text(&out)
            );
            wait_ready(&client).await;
            assert_eq!(ledger.count("start", tool, "K"), 1, "{policy:?}");
            client.close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_and_allow_replay_calls_without_safe_annotations() {
    within(Duration::from_secs(60), async {
        for (policy, tool) in [
            (ReplayPolicy::new(Replay::Always), "charge"),
            (ReplayPolicy::default().allow(["no*"]), "note"),
        ] {
            let ledger = Ledger::new();
            let tag = marker("replay-always");
            let client = connect(&ledger, &tag, Some(policy.clone())).await;
            let (out, _) = ledger
                .kill_once_started(&tag, &[(tool, "K")], call(&client, tool, "K"))
                .await;
            assert_eq!(text(&out), format!("{tool} K by ledger"), "{policy:?}");
            assert_eq!(ledger.count("start", tool, "K"), 2, "{policy:?}");
            assert_eq!(ledger.count("done", tool, "K"), 1, "{policy:?}");
            client.close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replay_keeps_the_calls_own_deadline() {
    within(Duration::from_secs(60), async {
        let ledger = Ledger::new();
        let tag = marker("replay-deadline");
        let client = connect(&ledger, &tag, None).await;
        // 3 s of work under a 4 s cap, cut after ~0.5 s: the replay has what
        // is left (less the restart), not a fresh 4 s.
        let cap = Duration::from_secs(4);
        let started = Instant::now();
        let options = switchboard::CallOptions::new().max_time(cap);
        let killer = async {
            ledger.wait_started(&[("lookup", "D")], 1).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            ledger.kill_current(&tag);
        };
        let (out, ()) = tokio::join!(
            client.call_tool_with("lookup", json!({"key": "D", "ms": SLOW_MS}), options),
            killer
        );
        let elapsed = started.elapsed();
        assert!(matches!(out, Err(Error::Timeout { .. })), "{}", text(&out));
        assert!(
            elapsed >= cap - Duration::from_millis(100) && elapsed < cap + Duration::from_secs(1),
            "ended after {elapsed:?}, the cap is {cap:?}"
        );
        // It was replayed (a second start), and the server was told to stop.
        common::eventually("the replay cancelled", Duration::from_secs(5), || async {
            (ledger.count("cancelled", "lookup", "D") == 1).then_some(())
        })
        .await;
        assert_eq!(ledger.count("start", "lookup", "D"), 2);
        assert_eq!(ledger.count("done", "lookup", "D"), 0);
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_files_replay_setting_reaches_the_fleets_clients() {
    within(Duration::from_secs(60), async {
        let ledger = Ledger::new();
        let tag = marker("replay-config");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.toml");
        let src = ledger_source(&ledger.path, &tag);
        let args: Vec<String> = src.args.clone();
        std::fs::write(
            &path,
            format!(
                "[mcpServers.ledger]\ncommand = {:?}\nargs = {:?}\nenv = {{ {MARKER_VAR} = {:?} }}\n\
                 replay = \"always\"\nreplay_deny = [\"note\"]\n\
                 restart = {{ backoff_initial_ms = 20, backoff_max_ms = 200 }}\n",
                src.program, args, tag
            ),
        )
        .unwrap();
        let fleet = Fleet::from_config(&path).await.unwrap();
        let tools = fleet.list_tools().await;
        assert!(tools.iter().any(|t| t.name == "ledger_charge"), "{tools:?}");
        let calls = async {
            tokio::join!(
                fleet.call_tool("ledger_charge", json!({"key": "C", "ms": SLOW_MS})),
                fleet.call_tool("ledger_note", json!({"key": "N", "ms": SLOW_MS})),
            )
        };
        let started = [("charge", "C"), ("note", "N")];
        let ((charged, noted), _) = ledger.kill_once_started(&tag, &started, calls).await;
        assert_eq!(text(&charged), "charge C by ledger");
        assert!(matches!(noted, Err(Error::ServerRestarted)), "{}", text(&noted));
        assert_eq!(ledger.count("start", "charge", "C"), 2);
        assert_eq!(ledger.count("start", "note", "N"), 1);
        fleet.close().await.unwrap();
    })
    .await;
}
