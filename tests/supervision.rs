//! Supervised servers: kill -9 during a steady stream of calls, a server
//! that dies at once on every restart (the breaker), and what a restart
//! restores. Real child processes (`switchboard serve-test`), real signals.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::protocol::{ProtocolVersion, VersionChoice};
use switchboard::testing::{demo_builder, Fault};
use switchboard::transport::StdioConfig;
use switchboard::{Client, Error, HealthState, RestartPolicy, Source};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn marker(tag: &str) -> String {
    format!(
        "sb-sup-{tag}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    )
}

/// Pids of live (non-zombie) processes whose environment holds the marker.
fn pids_with(marker: &str) -> Vec<i32> {
    let needle = format!("SWITCHBOARD_TEST_MARKER={marker}");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        {
            continue;
        }
        if let Ok(env) = std::fs::read(entry.path().join("environ")) {
            if env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// SIGKILLs every live process carrying the marker.
fn kill_all(marker: &str) {
    for pid in pids_with(marker) {
        // SAFETY: kill(2) on a pid we found.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

fn fast_policy() -> RestartPolicy {
    RestartPolicy {
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        min_uptime: Duration::from_millis(50),
        breaker_threshold: 5,
        breaker_cooldown: Duration::from_millis(800),
        health_interval: None,
        ..RestartPolicy::default()
    }
}

async fn wait_ready(client: &Client) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.health().state != HealthState::Ready {
        assert!(
            Instant::now() < deadline,
            "server not back: {:?}",
            client.health()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_kills_during_a_steady_stream_of_calls() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let tag = marker("kill");
        let client = Client::builder(
            StdioConfig::new(BIN, ["serve-test", "--eras", "handshake"])
                .env("SWITCHBOARD_TEST_MARKER", &tag),
        )
        .timeout(Duration::from_secs(10))
        .restart(fast_policy())
        .connect()
        .await
        .unwrap();

        let restarted = Arc::new(AtomicUsize::new(0));
        let succeeded = Arc::new(AtomicUsize::new(0));
        let failure_delays = Arc::new(Mutex::new(Vec::<Duration>::new()));
        let killed_at = Arc::new(Mutex::new(Instant::now()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));

        // A steady stream: 4 callers, each call in flight ~30 ms.
        let callers: Vec<_> = (0..4)
            .map(|_| {
                let (client, restarted, succeeded, delays, killed_at, stop) = (
                    client.clone(),
                    restarted.clone(),
                    succeeded.clone(),
                    failure_delays.clone(),
                    killed_at.clone(),
                    stop.clone(),
                );
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        match client
                            .call_tool("slow", json!({"steps": 1, "ms": 30}))
                            .await
                        {
                            Ok(out) => {
                                assert_eq!(out.text(), "done after 1 steps");
                                succeeded.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(Error::ServerRestarted) => {
                                let since_kill = killed_at.lock().unwrap().elapsed();
                                delays
                                    .lock()
                                    .unwrap()
                                    .push(since_kill.min(started.elapsed()));
                                restarted.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(other) => panic!("unexpected error: {other:?}"),
                        }
                    }
                })
            })
            .collect();

        let fds = || {
            std::fs::read_dir("/proc/self/fd")
                .map(|d| d.count())
                .unwrap_or(0)
        };
        wait_ready(&client).await;
        let fds_before = fds();
        let mut last_restarts = 0;
        for round in 0..50 {
            wait_ready(&client).await;
            tokio::time::sleep(Duration::from_millis(60)).await;
            let pids = pids_with(&tag);
            assert_eq!(
                pids.len(),
                1,
                "round {round}: exactly one server process: {pids:?}"
            );
            *killed_at.lock().unwrap() = Instant::now();
            // SAFETY: kill(2) on a pid we just found; no memory is involved.
            unsafe {
                libc::kill(pids[0], libc::SIGKILL);
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while client.health().restarts == last_restarts {
                assert!(
                    Instant::now() < deadline,
                    "round {round}: no restart: {:?}",
                    client.health()
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            last_restarts = client.health().restarts;
        }
        wait_ready(&client).await;
        stop.store(true, Ordering::Relaxed);
        for c in callers {
            c.await.expect("no caller panicked or hung");
        }
        assert_eq!(client.health().restarts, 50);
        // Each restart's pipes and tasks are released, not piled up.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            fds() <= fds_before + 8,
            "descriptors leak across restarts: {fds_before} -> {}",
            fds()
        );
        assert!(
            restarted.load(Ordering::Relaxed) >= 25,
            "in-flight calls were cut: {}",
            restarted.load(Ordering::Relaxed)
        );
        assert!(succeeded.load(Ordering::Relaxed) > 100);
        let worst = failure_delays
            .lock()
            .unwrap()
            .iter()
            .max()
            .copied()
            .unwrap_or_default();
        assert!(
            worst < Duration::from_secs(1),
            "an in-flight call took {worst:?} to fail"
        );
        // Calls after the last restart succeed.
        client
            .call_tool("echo", json!({"text": "after"}))
            .await
            .unwrap();
        client.close().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(pids_with(&tag).is_empty(), "no child left behind");
    })
    .await
    .expect("test deadline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_dies_at_once_trips_the_breaker() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let started_once = dir.path().join("started");
        let spawns = dir.path().join("spawns");
        // Serves the first time; every later start dies at once (until the
        // file that makes it die is removed).
        let script = format!(
            "echo x >> '{spawns}'; if [ -e '{flag}' ]; then echo 'cannot start: broken config' >&2; exit 1; fi; touch '{flag}'; exec '{BIN}' serve-test",
            spawns = spawns.display(),
            flag = started_once.display()
        );
        let tag = marker("breaker");
        let client = Client::builder(
            StdioConfig::new("sh", ["-c", script.as_str()]).env("SWITCHBOARD_TEST_MARKER", &tag),
        )
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(5))
            .restart(fast_policy())
            .connect()
            .await
            .unwrap();
        client.call_tool("echo", json!({"text": "up"})).await.unwrap();
        let count = |p: &Path| std::fs::read_to_string(p).map(|s| s.lines().count()).unwrap_or(0);
        assert_eq!(count(&spawns), 1);

        kill_all(&tag);
        // Failures pile up, then the breaker opens: calls fail fast.
        let deadline = Instant::now() + Duration::from_secs(10);
        while client.health().state != HealthState::BreakerOpen {
            assert!(Instant::now() < deadline, "breaker never opened: {:?}", client.health());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let health = client.health();
        assert!(health.last_error.as_deref().unwrap_or("").contains("broken config") || health.stderr_tail.iter().any(|l| l.contains("broken config")), "{health:?}");
        let t = Instant::now();
        match client.call_tool("echo", json!({"text": "x"})).await {
            Err(Error::CircuitOpen { server, .. }) => assert!(!server.is_empty()),
            other => panic!("expected CircuitOpen, got {other:?}"),
        }
        assert!(t.elapsed() < Duration::from_millis(100), "fails fast");
        // No hot loop: the crash is failure 1, then 4 failed restarts reach
        // the threshold of 5; nothing is spawned while the breaker is open.
        let while_open = count(&spawns);
        assert_eq!(while_open, 1 + 4, "spawns before the breaker opened");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(count(&spawns), while_open, "no respawn while the breaker is open");

        // Fix the server: the half-open probe after the cooldown succeeds.
        std::fs::remove_file(&started_once).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while client.health().state != HealthState::Ready {
            assert!(Instant::now() < deadline, "never recovered: {:?}", client.health());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let out = client.call_tool("echo", json!({"text": "back"})).await.unwrap();
        assert_eq!(out.text(), "back");
        client.close().await.unwrap();
    })
    .await
    .expect("test deadline");
}

/// Health transitions are pushed to watchers, nothing to poll: a kill is
/// seen as `Restarting`, the way back as `Ready` (one restart more), and
/// closing as `Closed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_changes_are_pushed_for_every_transition() {
    tokio::time::timeout(Duration::from_secs(30), async {
        let tag = marker("watch");
        let client = Client::builder(
            StdioConfig::new(BIN, ["serve-test"]).env("SWITCHBOARD_TEST_MARKER", &tag),
        )
        .restart(RestartPolicy {
            // Long enough that `Restarting` is seen before `Ready`.
            backoff_initial: Duration::from_millis(300),
            ..fast_policy()
        })
        .connect()
        .await
        .unwrap();
        let mut changes = client.health_changes();
        assert_eq!(changes.borrow_and_update().state, HealthState::Ready);

        kill_all(&tag);
        let mut seen = Vec::new();
        let back = loop {
            changes
                .changed()
                .await
                .expect("the client holds the sender");
            let h = changes.borrow_and_update().clone();
            seen.push(h.state);
            if h.state == HealthState::Ready {
                break h;
            }
        };
        assert_eq!(seen.first(), Some(&HealthState::Restarting), "{seen:?}");
        assert_eq!(back.restarts, 1);
        assert!(back.last_error.is_some(), "{back:?}");
        let out = client
            .call_tool("echo", json!({"text": "back"}))
            .await
            .unwrap();
        assert_eq!(out.text(), "back");

        client.close().await.unwrap();
        changes
            .changed()
            .await
            .expect("the client holds the sender");
        assert_eq!(changes.borrow_and_update().state, HealthState::Closed);
    })
    .await
    .expect("test deadline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_restarts_in_a_window_then_the_server_is_given_up() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let spawns = dir.path().join("spawns");
        // Every start serves, and every one is killed below.
        let script = format!(
            "echo x >> '{spawns}'; exec '{BIN}' serve-test",
            spawns = spawns.display()
        );
        let tag = marker("max-restarts");
        let client = Client::builder(
            StdioConfig::new("sh", ["-c", script.as_str()]).env("SWITCHBOARD_TEST_MARKER", &tag),
        )
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .restart(RestartPolicy {
            max_restarts: Some(2),
            restart_window: Duration::from_secs(60),
            ..fast_policy()
        })
        .connect()
        .await
        .unwrap();
        let count = |p: &Path| {
            std::fs::read_to_string(p)
                .map(|s| s.lines().count())
                .unwrap_or(0)
        };
        // Two losses: two restarts, each serving again.
        for round in 1..=2 {
            client
                .call_tool("echo", json!({"text": "up"}))
                .await
                .unwrap();
            kill_all(&tag);
            let deadline = Instant::now() + Duration::from_secs(10);
            while count(&spawns) < round + 1 || client.health().state != HealthState::Ready {
                assert!(
                    Instant::now() < deadline,
                    "restart {round}: {:?}",
                    client.health()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        client
            .call_tool("echo", json!({"text": "up"}))
            .await
            .unwrap();
        // The third loss within the window: given up, no more spawns.
        kill_all(&tag);
        let deadline = Instant::now() + Duration::from_secs(10);
        while client.health().state != HealthState::Closed {
            assert!(
                Instant::now() < deadline,
                "never gave up: {:?}",
                client.health()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        match client.call_tool("echo", json!({"text": "x"})).await {
            Err(Error::NotConnected(reason)) => {
                assert!(reason.contains("gave up after 2 restarts"), "{reason}")
            }
            other => panic!("expected NotConnected, got {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(count(&spawns), 3, "no spawn after giving up");
        assert!(pids_with(&tag).is_empty());
        client.close().await.unwrap();
    })
    .await
    .expect("test deadline");
}

/// A real child process is killed; the new process it is replaced by has
/// never heard of the client's subscription, so an update reaching the
/// client proves the subscription was restored (by `resources/subscribe`
/// in the handshake era, by a new `subscriptions/listen` in 2026-07-28).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_is_replaced_and_its_subscriptions_restored() {
    for (eras, expected) in [
        ("handshake", switchboard::protocol::Era::Handshake),
        ("both", switchboard::protocol::Era::Modern),
    ] {
        tokio::time::timeout(Duration::from_secs(30), async {
            let tag = marker(&format!("resubscribe-{eras}"));
            let updates = Arc::new(Mutex::new(Vec::<String>::new()));
            let u = updates.clone();
            let client = Client::builder(
                StdioConfig::new(BIN, ["serve-test", "--eras", eras])
                    .env("SWITCHBOARD_TEST_MARKER", &tag),
            )
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(5))
            .restart(fast_policy())
            .on_notification(move |n| {
                if n.method == "notifications/resources/updated" {
                    u.lock()
                        .unwrap()
                        .push(n.params["uri"].as_str().unwrap_or("").to_owned());
                }
            })
            .connect()
            .await
            .unwrap();
            assert_eq!(client.era(), Some(expected));
            client.subscribe_resource("config://app").await.unwrap();
            // Before the kill: the subscription works.
            client
                .call_tool("touch", json!({"uri": "config://app"}))
                .await
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            while updates.lock().unwrap().is_empty() {
                assert!(
                    Instant::now() < deadline,
                    "{eras}: no update before the kill"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            updates.lock().unwrap().clear();

            let before = pids_with(&tag);
            assert_eq!(before.len(), 1, "{before:?}");
            // SAFETY: kill(2) on a pid we found.
            unsafe {
                libc::kill(before[0], libc::SIGKILL);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while client.health().restarts < 1 || client.health().state != HealthState::Ready {
                assert!(
                    Instant::now() < deadline,
                    "{eras}: not restarted: {:?}",
                    client.health()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let after = pids_with(&tag);
            assert_eq!(after.len(), 1);
            assert_ne!(after, before, "a new process");

            // The new process tells subscribers only: the restored one.
            client
                .call_tool("touch", json!({"uri": "config://app"}))
                .await
                .unwrap();
            client
                .call_tool("touch", json!({"uri": "data://logo.png"}))
                .await
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            while updates.lock().unwrap().is_empty() {
                assert!(
                    Instant::now() < deadline,
                    "{eras}: the subscription was not restored"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(*updates.lock().unwrap(), ["config://app"], "{eras}");
            client.close().await.unwrap();
        })
        .await
        .expect("test deadline");
    }
}

#[tokio::test]
async fn a_restart_restores_subscriptions_and_log_level() {
    tokio::time::timeout(Duration::from_secs(30), async {
        // The in-process server drops the connection on `crash` the first
        // time; supervision reconnects to the same server.
        let server = demo_builder()
            .tool_fault_times("echo", Fault::CloseConnection, 1)
            .build();
        let updates = Arc::new(Mutex::new(Vec::new()));
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (u, l) = (updates.clone(), logs.clone());
        let client = Client::builder(Source::memory(server.clone()))
            .protocol(VersionChoice::Exact(ProtocolVersion::V2025_11_25))
            .restart(fast_policy())
            .on_notification(move |n| {
                if n.method == "notifications/resources/updated" {
                    u.lock()
                        .unwrap()
                        .push(n.params["uri"].as_str().unwrap_or("").to_owned());
                }
            })
            .on_log(move |m| l.lock().unwrap().push(m.level))
            .connect()
            .await
            .unwrap();
        client.subscribe_resource("config://app").await.unwrap();
        client
            .set_log_level(switchboard::protocol::LoggingLevel::Warning)
            .await
            .unwrap();

        let err = client
            .call_tool("echo", json!({"text": "x"}))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ServerRestarted), "{err:?}");
        wait_ready(&client).await;
        assert_eq!(client.health().restarts, 1);

        server.notify_resource_updated("config://app");
        client
            .call_tool("log", json!({"message": "m"}))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while updates.lock().unwrap().is_empty() {
            assert!(
                Instant::now() < deadline,
                "the subscription was not restored"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(*updates.lock().unwrap(), ["config://app"]);
        assert_eq!(
            *logs.lock().unwrap(),
            [switchboard::protocol::LoggingLevel::Warning],
            "the log level was restored"
        );
    })
    .await
    .expect("test deadline");
}

#[tokio::test]
async fn a_frozen_server_is_found_by_health_probes_and_restarted() {
    tokio::time::timeout(Duration::from_secs(30), async {
        // Tools answer, but pings never do: the process is "frozen" as far
        // as the health probe can tell.
        let server = demo_builder().method_fault("ping", Fault::Hang).build();
        let client = Client::builder(Source::memory(server))
            .protocol(VersionChoice::Exact(ProtocolVersion::V2025_11_25))
            .restart(RestartPolicy {
                health_interval: Some(Duration::from_millis(100)),
                health_timeout: Duration::from_millis(100),
                ..fast_policy()
            })
            .connect()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while client.health().restarts == 0 {
            assert!(
                Instant::now() < deadline,
                "never restarted: {:?}",
                client.health()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        wait_ready(&client).await;
        let out = client
            .call_tool("echo", json!({"text": "alive"}))
            .await
            .unwrap();
        assert_eq!(out.text(), "alive");
    })
    .await
    .expect("test deadline");
}
