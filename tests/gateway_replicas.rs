//! Three `switchboard gateway` replicas on one config (each with its own
//! upstream process): calls spread across them all succeed; when one
//! replica is killed with calls in flight, only those calls fail (with a
//! typed transport error), the other replicas' calls in flight finish, and
//! later calls to the survivors succeed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::gateway::GatewayProcess;
use serde_json::json;
use switchboard::{CallOptions, Client, Source};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

async fn connect(url: &str) -> Client {
    Client::builder(Source::http(url))
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(15))
        .connect()
        .await
        .expect("connect to a replica")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_fails_only_its_own_calls_in_flight() {
    common::within(Duration::from_secs(90), async {
        let marker = common::marker("gateway-replicas");
        let env = json!({ common::MARKER_VAR: marker });
        let servers = json!({"demo": {"command": BIN, "args": ["serve-test"], "env": env}});
        let key = [("SWITCHBOARD_GATEWAY_KEY", "replicas")];
        let mut replicas: Vec<GatewayProcess> = (0..3)
            .map(|_| GatewayProcess::start(servers.clone(), &[], &key))
            .collect();
        let mut clients = Vec::new();
        for r in &replicas {
            clients.push(connect(&r.url).await);
        }

        // Spread across the three, as a load balancer would.
        for i in 0..30 {
            let c = &clients[i % 3];
            let out = c
                .call_tool("demo_echo", json!({"text": format!("call {i}")}))
                .await
                .unwrap_or_else(|e| panic!("call {i} on replica {}: {e}", i % 3));
            assert_eq!(out.text(), format!("call {i}"));
        }

        // Two long calls in flight on each replica; kill replica 1 once its
        // calls have both reported progress.
        let started = Arc::new(tokio::sync::Semaphore::new(0));
        let mut calls = Vec::new();
        for (n, c) in clients.iter().enumerate() {
            for _ in 0..2 {
                let c = c.clone();
                let started = started.clone();
                let first = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let options = CallOptions::new().on_progress(move |_| {
                    if n == 1 && !first.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        started.add_permits(1);
                    }
                });
                calls.push((
                    n,
                    tokio::spawn(async move {
                        c.call_tool_with("demo_slow", json!({"steps": 8, "ms": 250}), options)
                            .await
                    }),
                ));
            }
        }
        let _both = tokio::time::timeout(Duration::from_secs(20), started.acquire_many(2))
            .await
            .expect("replica 1's calls never reported progress");
        replicas[1].kill();

        for (n, call) in calls {
            let outcome = call.await.expect("the call's task");
            if n == 1 {
                let e = outcome.expect_err("a call in flight on the killed replica must fail");
                assert!(
                    matches!(e, switchboard::Error::Transport(_)),
                    "a typed transport error, not {e:?}"
                );
            } else {
                let out = outcome.unwrap_or_else(|e| panic!("replica {n}'s call failed: {e}"));
                assert_eq!(out.text(), "done after 8 steps");
            }
        }
        for c in [&clients[0], &clients[2]] {
            let out = c
                .call_tool("demo_echo", json!({"text": "after"}))
                .await
                .unwrap();
            assert_eq!(out.text(), "after");
        }
        drop(clients);
        drop(replicas);
        common::assert_no_process(&marker, Duration::from_secs(15)).await;
    })
    .await
}
