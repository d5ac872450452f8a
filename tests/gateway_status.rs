//! The gateway's status page in a real browser (headless Chromium, driven
//! by playwright-core: `tests/peers/status_page.mjs`): it shows every
//! server and fits a phone; when an upstream's process is killed the live
//! page shows it leave `ready` and come back with its restart counted.
//! And what the page reads, `/status.json`, is refused to a page whose
//! name was rebound to 127.0.0.1 (a foreign `Host`).

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::gateway::GatewayProcess;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn env_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run bash .ci/install-peers.sh and . .peers/env.sh")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_an_upstream_die_and_come_back_live() {
    common::within(Duration::from_secs(90), async {
        let marker = common::marker("gateway-status");
        let env = json!({ common::MARKER_VAR: marker });
        // A restart delay long enough for a page polling once a second.
        let restart = json!({"backoff_initial_ms": 2500, "backoff_max_ms": 2500});
        let gw = GatewayProcess::start(
            json!({
                "demo": {"command": BIN, "args": ["serve-test"], "env": env, "restart": restart},
                "everything": {"command": "node", "args": [common::everything_js(), "stdio"], "env": env},
            }),
            &[],
            &[],
        );
        let base = gw.url.trim_end_matches("/mcp").to_owned();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let status: Value = http
            .get(format!("{base}/status.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names: Vec<&str> = status["servers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        assert_eq!(names, ["demo", "everything"], "config order: {status}");
        let rebound = http
            .get(format!("{base}/status.json"))
            .header("host", "evil.example:8931")
            .send()
            .await
            .unwrap();
        assert_eq!(rebound.status(), 403, "DNS rebinding is refused");

        let signals = tempfile::tempdir().unwrap();
        let killed = signals.path().join("killed");
        let mut page = tokio::process::Command::new("node")
            .arg(common::peer_script("status_page.mjs"))
            .arg(&base)
            .arg("demo")
            .arg(&killed)
            .env("SWITCHBOARD_BROWSER_MODULES", env_var("SWITCHBOARD_BROWSER_MODULES"))
            .env("SWITCHBOARD_CHROMIUM", env_var("SWITCHBOARD_CHROMIUM"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node");
        let mut lines = BufReader::new(page.stdout.take().unwrap()).lines();
        let first = lines.next_line().await.unwrap().unwrap_or_default();
        assert_eq!(first, "ready", "the page did not show demo ready");
        // Kill the upstream's process (ours: it carries the marker).
        let demo = common::processes_with_marker(&marker)
            .into_iter()
            .find(|(_, cmd)| cmd.contains("serve-test"))
            .expect("the demo server's process");
        let pid = i32::try_from(demo.0).unwrap();
        // SAFETY: kill(2) on a pid this test's gateway started.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        std::fs::write(&killed, b"").unwrap();
        let report = lines.next_line().await.unwrap().unwrap_or_default();
        let v: Value = serde_json::from_str(&report).unwrap_or_else(|e| panic!("{e}: {report}"));
        let states: Vec<&str> = v["states"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(states.first(), Some(&"ready"), "{v}");
        assert_eq!(states.last(), Some(&"ready"), "{v}");
        assert!(
            states.iter().any(|s| *s != "ready"),
            "the page showed the server leave ready: {v}"
        );
        assert_eq!(v["restarts"], "restarts 1", "{v}");
        assert_eq!(v["fitsPhone"], true, "{v}");
        assert_eq!(v["servers"], json!(["demo", "everything"]), "{v}");
        let _ = page.wait().await;
        drop(gw);
        common::assert_no_process(&marker, Duration::from_secs(15)).await;
    })
    .await
}
