//! The official MCP conformance suite's server scenarios
//! (`@modelcontextprotocol/conformance`, pinned in `.ci/install-peers.sh`:
//! 0.1.16 and the 0.2.0 alpha with the 2026-07-28 scenarios) against
//! `examples/conformance_server` over Streamable HTTP (`Server::http_router`
//! on 127.0.0.1). Every server scenario each suite lists is run, without a
//! baseline file: the 0.2.0 ones at their default revision (2025-11-25
//! unless introduced later) and again at 2026-07-28 where they apply there.
//! The tasks extension's scenarios (SEP-2663) run at 2026-07-28, the
//! suite's revision for extension scenarios.
//!
//! Needs the example built (`cargo test --all-targets` does; alone:
//! `cargo build --example conformance_server`), `SWITCHBOARD_CONFORMANCE`,
//! `SWITCHBOARD_CONFORMANCE_NEXT` and `SWITCHBOARD_NODE22` from
//! `. .peers/env.sh`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Every server scenario of 0.1.16 (2025-06-18 and 2025-11-25).
const SCENARIOS: [&str; 32] = [
    "server-initialize",
    "logging-set-level",
    "ping",
    "completion-complete",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-with-logging",
    "tools-call-error",
    "tools-call-with-progress",
    "tools-call-sampling",
    "tools-call-elicitation",
    "json-schema-2020-12",
    "elicitation-sep1034-defaults",
    "server-sse-polling",
    "server-sse-multiple-streams",
    "elicitation-sep1330-enums",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "resources-subscribe",
    "resources-unsubscribe",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "dns-rebinding-protection",
];

/// The 0.2.0 alpha's server scenarios that pass, at their default revision.
const NEXT_SCENARIOS: [&str; 65] = [
    "server-initialize",
    "server-session-lifecycle",
    "server-stateless",
    "logging-set-level",
    "ping",
    "completion-complete",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-with-logging",
    "tools-call-error",
    "tools-call-with-progress",
    "tools-call-sampling",
    "tools-call-elicitation",
    "json-schema-2020-12",
    "elicitation-sep1034-defaults",
    "server-sse-polling",
    "server-sse-multiple-streams",
    "elicitation-sep1330-enums",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "resources-subscribe",
    "resources-unsubscribe",
    "sep-2164-resource-not-found",
    // Extension (io.modelcontextprotocol/skills); directoryRead is not
    // declared, so sep-2640-skills-directory's checks are skipped.
    "sep-2640-skills-directory",
    "sep-2640-skills-enumeration",
    "sep-2640-skills-manifest",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "dns-rebinding-protection",
    "caching",
    "http-header-validation",
    "http-custom-header-server-validation",
    // The tasks extension (SEP-2663): the core's tasks (`server/tasks.rs`)
    // and the fixtures of `examples/conformance/tasks.rs`.
    "tasks-lifecycle",
    "tasks-capability-negotiation",
    "tasks-wire-fields",
    "tasks-request-state-removal",
    "tasks-mrtr-input",
    "tasks-request-headers",
    "tasks-dispatch-and-envelope",
    "tasks-required-task-error",
    "tasks-mrtr-composition",
    // Skipped by the suite itself (pending the subscriptions/listen rewrite).
    "tasks-status-notifications",
    "input-required-result-basic-elicitation",
    "input-required-result-basic-sampling",
    "input-required-result-basic-list-roots",
    "input-required-result-request-state",
    "input-required-result-multiple-input-requests",
    "input-required-result-multi-round",
    "input-required-result-missing-input-response",
    "input-required-result-non-tool-request",
    "input-required-result-result-type",
    "input-required-result-unsupported-methods",
    "input-required-result-tampered-state",
    "input-required-result-capability-check",
    "input-required-result-ignore-extra-params",
    "input-required-result-validate-input",
];

/// The 0.2.0 alpha's scenarios that apply at 2026-07-28, run there too
/// (`--spec-version 2026-07-28`): the stateless wire for the older ones.
const NEXT_MODERN_SCENARIOS: [&str; 40] = [
    "server-stateless",
    "completion-complete",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-error",
    "tools-call-with-progress",
    "json-schema-2020-12",
    "server-sse-multiple-streams",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "sep-2164-resource-not-found",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "dns-rebinding-protection",
    "caching",
    "http-header-validation",
    "http-custom-header-server-validation",
    "input-required-result-basic-elicitation",
    "input-required-result-basic-sampling",
    "input-required-result-basic-list-roots",
    "input-required-result-request-state",
    "input-required-result-multiple-input-requests",
    "input-required-result-multi-round",
    "input-required-result-missing-input-response",
    "input-required-result-non-tool-request",
    "input-required-result-result-type",
    "input-required-result-unsupported-methods",
    "input-required-result-tampered-state",
    "input-required-result-capability-check",
    "input-required-result-ignore-extra-params",
    "input-required-result-validate-input",
];

fn v1() -> PathBuf {
    common::conformance_suite("SWITCHBOARD_CONFORMANCE", "conformance")
}

fn next() -> PathBuf {
    common::conformance_suite("SWITCHBOARD_CONFORMANCE_NEXT", "conformance-next")
}

/// The example serving HTTP on a free port; killed when dropped.
struct Served {
    child: Child,
    url: String,
    /// The gateway's config file, when it is one.
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The conformance server itself, over HTTP.
fn serve() -> Served {
    let mut command = Command::new(common::example_binary("conformance_server"));
    command.arg("0");
    listening(command, None)
}

/// `switchboard gateway --unprefixed` in front of the conformance server
/// (over stdio, its one upstream).
fn serve_gateway() -> Served {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("mcp.json");
    let upstream = common::example_binary("conformance_server");
    let servers = serde_json::json!({"mcpServers": {
        "conformance": {"command": upstream, "args": ["--stdio"]},
    }});
    std::fs::write(&config, servers.to_string()).expect("write the config");
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .arg("gateway")
        .arg(&config)
        .args(["--listen", "127.0.0.1:0", "--unprefixed"]);
    listening(command, Some(dir))
}

/// Starts `command`, which prints `listening on URL` first.
fn listening(mut command: Command, dir: Option<tempfile::TempDir>) -> Served {
    let mut child = command
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the conformance server");
    let stdout = child.stdout.take().expect("its stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    // Killed on every way out, the panics below included.
    let mut served = Served {
        child,
        url: String::new(),
        _dir: dir,
    };
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the conformance server did not say where it listens within 20 s");
    served.url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    served
}

/// The longest one scenario may take (the suite's own limit is 30 s).
const SCENARIO_LIMIT: Duration = Duration::from_secs(90);

/// Runs `command` to its end or for `limit` at most (then kills it):
/// whether it succeeded, its stdout and its stderr.
fn run_within(mut command: Command, limit: Duration) -> (bool, String, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the conformance suite");
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait().expect("wait for the conformance suite") {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let mut stderr = stderr.join().unwrap_or_default();
    if status.is_none() {
        stderr.push_str(&format!("\n(killed after {limit:?})"));
    }
    (status.is_some_and(|s| s.success()), stdout, stderr)
}

/// Runs the scenarios one at a time against a fresh server; returns the
/// failed ones with the suite's output.
fn run_scenarios(
    suite: &Path,
    scenarios: &[&str],
    spec_version: Option<&str>,
) -> Vec<(String, String)> {
    run_scenarios_on(serve(), suite, scenarios, spec_version)
}

fn run_scenarios_on(
    served: Served,
    suite: &Path,
    scenarios: &[&str],
    spec_version: Option<&str>,
) -> Vec<(String, String)> {
    let node = common::node22();
    let mut failed = Vec::new();
    for &scenario in scenarios {
        let started = Instant::now();
        let mut command = Command::new(&node);
        command
            .arg(suite)
            .args(["server", "--url", &served.url, "--scenario", scenario]);
        if let Some(version) = spec_version {
            command.args(["--spec-version", version]);
        }
        let (success, stdout, stderr) = run_within(command, SCENARIO_LIMIT);
        let summary: Vec<&str> = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| l.contains("Passed:") || l.contains("is not applicable at"))
            .collect();
        eprintln!(
            "{scenario}{}: {} in {:?}",
            spec_version.map(|v| format!(" @{v}")).unwrap_or_default(),
            summary.join(" | "),
            started.elapsed()
        );
        // The suite exits 0 when it skips an inapplicable scenario: that
        // would hide a wrong list here.
        let skip = "is not applicable at spec version";
        let skipped = stdout.contains(skip) || stderr.contains(skip);
        if !success || skipped {
            failed.push((scenario.to_owned(), format!("{stdout}\n{stderr}")));
        }
    }
    failed
}

fn assert_all_pass(suite: &Path, scenarios: &[&str], spec_version: Option<&str>) {
    let failed = run_scenarios(suite, scenarios, spec_version);
    let report: Vec<String> = failed
        .iter()
        .map(|(name, out)| format!("{name}:\n{out}"))
        .collect();
    assert!(
        failed.is_empty(),
        "failed scenarios:\n{}",
        report.join("\n")
    );
}

#[test]
fn server_scenarios_pass() {
    assert_all_pass(&v1(), &SCENARIOS, None);
}

#[test]
fn next_server_scenarios_pass() {
    assert_all_pass(&next(), &NEXT_SCENARIOS, None);
}

#[test]
fn next_server_scenarios_pass_at_2026_07_28() {
    assert_all_pass(&next(), &NEXT_MODERN_SCENARIOS, Some("2026-07-28"));
}

/// The server scenarios `list` shows, with their revisions.
fn listed(suite: &Path) -> Vec<(String, String)> {
    let mut command = Command::new(common::node22());
    command.arg(suite).arg("list");
    let (_, listing, _) = run_within(command, SCENARIO_LIMIT);
    // "Server scenarios (test against a server):" then "  - name [versions]"
    // lines, up to the next section.
    let listed: Vec<(String, String)> = listing
        .lines()
        .skip_while(|l| !l.starts_with("Server scenarios"))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("- "))
        .filter_map(|l| l.trim_start().strip_prefix("- "))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next()?.to_owned();
            Some((name, parts.collect::<Vec<_>>().join(" ")))
        })
        .collect();
    assert!(
        listed.len() >= 30,
        "could not read the server scenarios from `list`:\n{listing}"
    );
    listed
}

fn same_names(what: &str, listed: &[&str], run: &[&str]) {
    let missing: Vec<&&str> = listed.iter().filter(|s| !run.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "{what}: listed scenarios this file does not run: {missing:?}"
    );
    let unknown: Vec<&&str> = run.iter().filter(|s| !listed.contains(s)).collect();
    assert!(
        unknown.is_empty(),
        "{what}: scenarios this file runs that are not listed: {unknown:?}"
    );
}

/// Every server scenario each pinned suite lists is run above, each at
/// 2026-07-28 too where it applies: a suite upgrade that adds one fails
/// here until it is added.
#[test]
fn every_listed_server_scenario_is_run() {
    let v1_listed = listed(&v1());
    let names: Vec<&str> = v1_listed.iter().map(|(n, _)| n.as_str()).collect();
    same_names("0.1.16", &names, &SCENARIOS);

    let next_listed = listed(&next());
    let names: Vec<&str> = next_listed.iter().map(|(n, _)| n.as_str()).collect();
    same_names("0.2.0", &names, &NEXT_SCENARIOS);
    let modern: Vec<&str> = next_listed
        .iter()
        .filter(|(_, versions)| versions.contains("2026-07-28"))
        .map(|(n, _)| n.as_str())
        .collect();
    same_names("0.2.0 at 2026-07-28", &modern, &NEXT_MODERN_SCENARIOS);
}

fn assert_all_pass_through_the_gateway(
    suite: &Path,
    scenarios: &[&str],
    spec_version: Option<&str>,
) {
    let failed = run_scenarios_on(serve_gateway(), suite, scenarios, spec_version);
    let report: Vec<String> = failed
        .iter()
        .map(|(n, out)| format!("{n}:\n{out}"))
        .collect();
    assert!(
        failed.is_empty(),
        "failed through the gateway:\n{}",
        report.join("\n")
    );
}

/// Every 0.1.16 scenario passes again through `switchboard gateway
/// --unprefixed` in front of the conformance server (a handshake-era
/// client; the upstream speaks 2026-07-28 over stdio): its asks
/// (sampling, elicitation) become requests to the client, its log
/// messages are relayed, completions, templates and subscriptions reach
/// it. `server-sse-polling` passes because the gateway answers
/// `test_reconnection` as JSON (it does not end its own streams), so
/// resumption is not exercised through it.
#[test]
fn server_scenarios_pass_through_the_gateway() {
    assert_all_pass_through_the_gateway(&v1(), &SCENARIOS, None);
}

/// The 0.2.0 scenarios pass through the gateway too.
#[test]
fn next_server_scenarios_pass_through_the_gateway() {
    assert_all_pass_through_the_gateway(&next(), &NEXT_SCENARIOS, None);
}

/// And at 2026-07-28: stateless requests, caching, the standard headers,
/// and input-required rounds passed on with the upstream's `requestState`
/// sealed in the gateway's (a tampered one refused).
#[test]
fn next_server_scenarios_pass_through_the_gateway_at_2026_07_28() {
    assert_all_pass_through_the_gateway(&next(), &NEXT_MODERN_SCENARIOS, Some("2026-07-28"));
}
