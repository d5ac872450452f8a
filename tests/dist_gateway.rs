//! A gateway's health in NATS (feature `distributed`): a real gateway
//! process (`switchboard gateway --nats URL --id ID`) over a config with a
//! real stdio server, a real nats-server, and `switchboard status` reading
//! the shared bucket. The gateway and its member show up ready; a member
//! killed under it shows its restart at once; a gateway killed with -9 vanishes
//! after the bucket's max_age (3 s here), one stopped withdraws at once; NATS lost under a gateway does not
//! stop it serving MCP, and its health is written again after NATS is back;
//! NATS unreachable at start is an error naming the URL; a gateway without
//! `--nats` never touches NATS.

#![cfg(feature = "distributed")]

mod common;
mod dist_common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::gateway::{post_modern, GatewayProcess};
use dist_common::{Cluster, BIN};
use serde_json::{json, Value};
use switchboard::dist::{self, Status};

const LIMIT: Duration = Duration::from_secs(30);

/// The bucket's max_age in these tests (`dist init --health-max-age`).
const MAX_AGE: Duration = Duration::from_secs(3);

/// The built-in test server, marked so the test can kill only it.
fn servers(marker: &str) -> Value {
    json!({"test": {"command": BIN, "args": ["serve-test"],
                    "env": { common::MARKER_VAR: marker }}})
}

/// Waits (deadline [`LIMIT`]) for a status that `pick` takes.
async fn status_until(d: &dist::Client, what: &str, pick: impl Fn(&Status) -> bool) -> Status {
    common::eventually(what, LIMIT, || async {
        let s = d.status().await.expect("status");
        pick(&s).then_some(s)
    })
    .await
}

fn member<'a>(s: &'a Status, gateway: &str) -> Option<&'a dist::MemberHealth> {
    s.servers
        .iter()
        .find(|m| m.gateway.as_deref() == Some(gateway) && m.server == "test")
}

async fn gateway_serves(gw: &GatewayProcess) {
    let params = json!({"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}});
    let reply = post_modern(&gw.url, "tools/list", None, params).await;
    let tools = reply["result"]["tools"].as_array().expect("tools");
    assert!(!tools.is_empty(), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_lists_a_gateway_and_its_members_health_and_a_change_at_once() {
    // The default max_age (30 s): the gateway's refresh is 10 s, so a
    // change seen sooner was published because it changed.
    let c = Cluster::start(&[]).await;
    let d = c.client().await;
    let marker = common::marker("dist-gateway");
    let url = c.nats.url();
    let gw = GatewayProcess::start(servers(&marker), &["--nats", &url, "--id", "gw1"], &[]);

    // Up: the gateway and its member, ready, in `status --json`.
    let s = status_until(&d, "gw1 and its server ready", |s| {
        member(s, "gw1").is_some_and(|m| m.state == "ready")
    })
    .await;
    let g = s.gateways.iter().find(|g| g.gateway == "gw1").expect("gw1");
    assert_eq!((g.ready, g.total, g.url.as_str()), (1, 1, gw.url.as_str()));
    let out = c.cli(&["status", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "all ready");
    let j = common::stdout_json(&out);
    assert_eq!(j["gateways"][0]["gateway"], "gw1");
    assert_eq!(j["gateways"][0]["ready"], 1);
    let m = &j["servers"].as_array().unwrap()[0];
    assert_eq!(
        (&m["gateway"], &m["server"], &m["state"]),
        (&json!("gw1"), &json!("test"), &json!("ready"))
    );
    // And in the text: the gateway's table and its member's row.
    let out = c.cli(&["status"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("GATEWAY") && text.contains("1/1"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("gw1") && l.contains("test") && l.contains("ready")),
        "{text}"
    );

    // The member killed under the gateway: its restart shows at once.
    common::kill_marked(&marker);
    let killed = Instant::now();
    let s = status_until(&d, "the member's restart in status", |s| {
        member(s, "gw1").is_some_and(|m| m.restarts >= 1 || m.state != "ready")
    })
    .await;
    let seen_ms = dist_common::ms_since(killed);
    eprintln!(
        "member change in status {seen_ms:.0} ms after the kill: {:?}",
        member(&s, "gw1")
    );
    assert!(
        seen_ms < 3000.0,
        "seen after {seen_ms:.0} ms (refresh 10 s)"
    );
    status_until(&d, "the member ready again", |s| {
        member(s, "gw1").is_some_and(|m| m.state == "ready" && m.restarts >= 1)
    })
    .await;
    gateway_serves(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_with_9_vanishes_from_status_after_max_age() {
    let c = Cluster::start(&["--health-max-age", "3"]).await;
    let d = c.client().await;
    let marker = common::marker("dist-gateway-kill");
    let url = c.nats.url();
    let mut gw = GatewayProcess::start(servers(&marker), &["--nats", &url, "--id", "gw3"], &[]);
    status_until(&d, "gw3 and its server ready", |s| {
        member(s, "gw3").is_some_and(|m| m.state == "ready")
    })
    .await;
    // Still there after max_age: a live gateway refreshes its entries.
    let listed = Instant::now();
    tokio::time::sleep(MAX_AGE + Duration::from_millis(500)).await;
    let s = d.status().await.unwrap();
    assert!(s.gateways.iter().any(|g| g.gateway == "gw3"), "{s:?}");
    assert!(member(&s, "gw3").is_some(), "{s:?}");
    eprintln!("gw3 still listed {:?} after it first was", listed.elapsed());

    gw.kill();
    let killed = Instant::now();
    status_until(&d, "gw3 gone after max_age", |s| {
        !s.gateways.iter().any(|g| g.gateway == "gw3") && member(s, "gw3").is_none()
    })
    .await;
    let gone = killed.elapsed();
    eprintln!("gateway gone {gone:?} after kill -9 (max_age {MAX_AGE:?})");
    // Not before its last write aged out (written every max_age / 3), and
    // not long after (the bound is loose: two loaded cores).
    assert!(
        gone >= MAX_AGE / 2 && gone <= MAX_AGE + Duration::from_secs(5),
        "gone after {gone:?}"
    );
    common::assert_no_process(&marker, Duration::from_secs(10)).await;

    // One that stops (SIGTERM) withdraws at once, not after max_age.
    let mut gw = GatewayProcess::start(servers(&marker), &["--nats", &url, "--id", "gw4"], &[]);
    status_until(&d, "gw4 and its server ready", |s| {
        member(s, "gw4").is_some_and(|m| m.state == "ready")
    })
    .await;
    let pid = i32::try_from(gw.child.id()).expect("a pid");
    // SAFETY: kill(2) on our own child's PID; no memory is touched.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let status = common::wait_exit(&mut gw.child, LIMIT);
    assert_eq!(status.code(), Some(143), "SIGTERM's exit code");
    let s = d.status().await.unwrap();
    assert!(!s.gateways.iter().any(|g| g.gateway == "gw4"), "{s:?}");
    assert!(member(&s, "gw4").is_none(), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_keeps_serving_without_nats_and_publishes_again_once_it_is_back() {
    let mut c = Cluster::start(&["--health-max-age", "3"]).await;
    let marker = common::marker("dist-gateway-lost");
    let url = c.nats.url();
    let gw = GatewayProcess::start(servers(&marker), &["--nats", &url, "--id", "gw2"], &[]);
    {
        let d = c.client().await;
        status_until(&d, "gw2 listed", |s| {
            s.gateways.iter().any(|g| g.gateway == "gw2")
        })
        .await;
    }
    c.nats.kill();
    gateway_serves(&gw).await;
    // Back on the same port and store (gw2's old entries expire meanwhile).
    c.nats.restart();
    let d = c.client().await;
    // Its entries, written before, are removed: what comes back is new.
    let store = d.jetstream().get_key_value("sb_health").await.unwrap();
    for key in ["gateway.gw2", "fleet.gw2.test"] {
        store.delete(key).await.unwrap();
    }
    assert!(!d
        .status()
        .await
        .unwrap()
        .gateways
        .iter()
        .any(|g| g.gateway == "gw2"));
    let back = Instant::now();
    status_until(&d, "gw2 listed again after NATS came back", |s| {
        s.gateways.iter().any(|g| g.gateway == "gw2") && member(s, "gw2").is_some()
    })
    .await;
    eprintln!(
        "health written again {:?} after NATS restarted",
        back.elapsed()
    );
    gateway_serves(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_unreachable_at_start_is_an_error_naming_the_url_and_no_flag_means_no_nats() {
    let port = common::nats::free_port();
    let nowhere = format!("nats://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mcp.json");
    let marker = common::marker("dist-gateway-nowhere");
    std::fs::write(&config, json!({"mcpServers": servers(&marker)}).to_string()).unwrap();
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("gateway")
        .arg(&config)
        .args(["--listen", "127.0.0.1:0", "--nats", &nowhere])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = common::within(LIMIT, cmd.output()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&nowhere), "names the URL: {stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
    assert!(started.elapsed() < Duration::from_secs(12), "fails fast");
    // No server was started for it.
    common::assert_no_process(&marker, Duration::from_secs(5)).await;

    // Without --nats, $SWITCHBOARD_NATS pointing nowhere changes nothing.
    let gw = GatewayProcess::start(
        servers(&marker),
        &[],
        &[("SWITCHBOARD_NATS", nowhere.as_str())],
    );
    gateway_serves(&gw).await;
}
