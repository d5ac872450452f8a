//! What `switchboard` shows on a terminal and only there: progress bars
//! from a real server's `notifications/progress` (server-everything's
//! long-running operation), the live bench line, a fleet's connect lines,
//! colour (and `NO_COLOR`). Each runs under a real pseudo-terminal
//! (`script` from util-linux), and the same command piped or with
//! `--json` must show none of it.

mod common;

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// Runs `shell_cmd` under a pseudo-terminal (stdout and stderr both the
/// terminal); returns its exit code and everything the terminal showed.
fn on_a_terminal(shell_cmd: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", shell_cmd, "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .expect("`script` (util-linux) runs the command under a pseudo-terminal");
    let shown = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut stdout = child.stdout.take().expect("stdout");
    let sink = shown.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = sink.lock() {
                s.extend_from_slice(&buf[..n]);
            }
        }
    });
    // stdin stays open (a closed one ends `script` early) until the end.
    let stdin = child.stdin.take();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "did not finish; the terminal showed:\n{}",
                String::from_utf8_lossy(&shown.lock().expect("lock"))
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    let _ = reader.join();
    let text = String::from_utf8_lossy(&shown.lock().expect("lock")).into_owned();
    (status.code(), text)
}

/// The same command piped (stdout and stderr to pipes).
fn piped(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("run switchboard")
}

fn quoted(args: &[&str]) -> String {
    args.iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn everything() -> String {
    format!("node {}", common::everything_js().display())
}

const LONG: &str = "trigger-long-running-operation";

#[test]
fn call_on_a_terminal_draws_a_bar_from_the_servers_progress() {
    let source = everything();
    let args = [
        "call",
        &source,
        LONG,
        "--arg",
        "duration=1",
        "--arg",
        "steps=4",
    ];
    let (code, shown) = on_a_terminal(&format!("'{BIN}' {}", quoted(&args)), &[]);
    assert_eq!(code, Some(0), "{shown}");
    for step in ["1/4  25%", "2/4  50%", "3/4  75%", "4/4 100%"] {
        assert!(shown.contains(step), "no {step:?} in:\n{shown}");
    }
    assert!(shown.contains('█'), "{shown}");
    assert!(
        shown.contains("Long running operation completed"),
        "{shown}"
    );

    // Piped: the result, and no bar.
    let out = piped(&args);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("100%") && !err.contains('\r'), "{err:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Long running operation completed"));

    // --json on a terminal: no bar either.
    let mut json = args.to_vec();
    json.push("--json");
    let (code, shown) = on_a_terminal(&format!("'{BIN}' {}", quoted(&json)), &[]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(!shown.contains("100%") && !shown.contains('█'), "{shown}");
}

#[test]
fn bench_on_a_terminal_shows_a_live_line_and_counts_its_warmup_apart() {
    let source = format!("{BIN} serve-echo");
    let args = [
        "bench",
        &source,
        "--tool",
        "echo",
        "--args",
        r#"{"text":"x"}"#,
        "--calls",
        "3000",
    ];
    let (code, shown) = on_a_terminal(&format!("'{BIN}' {}", quoted(&args)), &[]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("bench echo: 50 warm-up calls"), "{shown}");
    assert!(shown.contains("/3000 calls, "), "no live line:\n{shown}");
    assert!(
        shown.contains("after 50 warm-up calls in "),
        "the warm-up is not reported:\n{shown}"
    );

    let out = piped(&args);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("bench echo"), "{err:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3000 calls, 1 in flight"), "{text}");
    assert!(text.contains("after 50 warm-up calls"), "{text}");

    let mut json = args.to_vec();
    json.push("--json");
    let out = piped(&json);
    let report = common::stdout_json(&out);
    assert_eq!(report["calls"], 3000);
    assert_eq!(report["warmup_calls"], 50);
    assert!(report["warmup_seconds"].as_f64().is_some(), "{report}");
}

/// A config with a server that starts and one that cannot.
fn fleet_file(dir: &std::path::Path) -> String {
    let bin = serde_json::to_string(BIN).unwrap();
    let path = dir.join("mcp.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"mcpServers": {{
                "demo": {{"command": {bin}, "args": ["serve-test"]}},
                "broken": {{"command": "/nonexistent/switchboard-terminal-test"}}
            }}}}"#
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_fleet_on_a_terminal_prints_a_coloured_line_per_server_as_it_connects() {
    let dir = tempfile::tempdir().unwrap();
    let file = fleet_file(dir.path());
    let args = ["tools", &file];
    let (code, shown) = on_a_terminal(&format!("'{BIN}' {}", quoted(&args)), &[]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("connecting 2 server(s)"), "{shown}");
    assert!(shown.contains("\x1b[32m✓\x1b[0m demo ready in "), "{shown}");
    assert!(
        shown.contains("\x1b[31m✗\x1b[0m broken failed after "),
        "{shown}"
    );
    assert!(shown.contains("demo_echo"), "{shown}");

    // NO_COLOR: the same lines, no colour.
    let (code, shown) = on_a_terminal(&format!("'{BIN}' {}", quoted(&args)), &[("NO_COLOR", "1")]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("✓ demo ready in "), "{shown}");
    assert!(shown.contains("✗ broken failed after "), "{shown}");
    assert!(
        !shown.contains("\x1b[3"),
        "colour despite NO_COLOR:\n{shown:?}"
    );

    // Piped: no connect lines, no colour.
    let out = piped(&args);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("ready in") && !err.contains('\x1b'),
        "{err:?}"
    );
    // --json on a terminal: none either.
    let (_, shown) = on_a_terminal(&format!("'{BIN}' {} --json", quoted(&args)), &[]);
    assert!(!shown.contains("ready in"), "{shown}");
}

#[test]
fn errors_are_red_on_a_terminal_and_plain_when_piped_or_with_no_color() {
    let args = ["tools", "/nonexistent/switchboard-terminal-test"];
    let (code, shown) = on_a_terminal(&format!("'{BIN}' {}", quoted(&args)), &[]);
    assert_eq!(code, Some(3), "{shown}");
    assert!(shown.contains("\x1b[31merror\x1b[0m: "), "{shown:?}");
    let (_, shown) = on_a_terminal(&format!("'{BIN}' {}", quoted(&args)), &[("NO_COLOR", "1")]);
    assert!(
        shown.contains("error: ") && !shown.contains('\x1b'),
        "{shown:?}"
    );
    let out = piped(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && !err.contains('\x1b'),
        "{err:?}"
    );
}

#[test]
fn a_check_report_is_coloured_on_a_terminal_only() {
    let script = common::peer_script("fault_server.py");
    let source = format!("python3 {} good", script.display());
    let args = ["check", source.as_str()];
    let (code, shown) = on_a_terminal(&format!("'{BIN}' {}", quoted(&args)), &[]);
    assert_eq!(code, Some(1), "{shown}");
    // The failing group's mark and the finding's severity in yellow; a
    // passing group's mark in green.
    assert!(shown.contains("\x1b[33m!\x1b[0m negotiation"), "{shown:?}");
    assert!(
        shown.contains("\x1b[33mwarning\x1b[0m negotiation.fallback"),
        "{shown:?}"
    );
    assert!(shown.contains("\x1b[32m✓\x1b[0m tools"), "{shown:?}");
    let (_, shown) = on_a_terminal(&format!("'{BIN}' {}", quoted(&args)), &[("NO_COLOR", "1")]);
    assert!(
        shown.contains("! negotiation") && !shown.contains("\x1b["),
        "{shown:?}"
    );
}
