//! `switchboard inspect` as people read it, and the commands that need
//! one server of a config file, against real child processes: the
//! built-in test server (`switchboard serve-test`), the echo server,
//! server-everything, and servers that fail on purpose.

mod common;

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run switchboard")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes `text` (an mcpServers file, written by hand so its key order is
/// the order we mean) to `dir/mcp.json`.
fn config(dir: &Path, text: &str) -> String {
    let path = dir.join("mcp.json");
    std::fs::write(&path, text).expect("write the config");
    path.to_string_lossy().into_owned()
}

/// A file whose servers are not in name order: one up, one disabled, one
/// that dies with two stderr lines, the echo server.
fn mixed(dir: &Path) -> String {
    let bin = serde_json::to_string(BIN).unwrap();
    config(
        dir,
        &format!(
            r#"{{"mcpServers": {{
                "zeta": {{"command": {bin}, "args": ["serve-test"]}},
                "off": {{"command": {bin}, "args": ["serve-test"], "disabled": true}},
                "alpha": {{"command": "sh", "args": ["-c", "echo first line >&2; echo second line >&2; sleep 0.3; exit 3"]}},
                "mid": {{"command": {bin}, "args": ["serve-echo"]}}
            }}}}"#
        ),
    )
}

#[test]
fn inspect_of_a_config_file_keeps_its_order_shows_disabled_servers_and_the_merged_lists() {
    let dir = tempfile::tempdir().unwrap();
    let file = mixed(dir.path());

    let out = run(&["inspect", &file]);
    // alpha is down: a failed health check.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    let table: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
    let rows: Vec<Vec<&str>> = table
        .iter()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let names_states: Vec<(&str, &str)> = rows.iter().map(|r| (r[0], r[1])).collect();
    assert_eq!(
        names_states,
        [
            ("zeta", "ready"),
            ("off", "disabled"),
            ("alpha", "down"),
            ("mid", "ready")
        ],
        "file order, the disabled server listed, one line per server:\n{text}"
    );
    // The multi-line last error (its stderr tail) stays on its row.
    assert!(table[3].contains("exit status: 3"), "{text}");
    assert!(!text.contains("second line"), "{text}");
    // The merged lists, not only counts: each name on a line of its own.
    let listed = |section: &str, name: &str| {
        let rest = &text[text
            .find(section)
            .unwrap_or_else(|| panic!("no {section}:\n{text}"))..];
        rest.lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .any(|l| l.split_whitespace().next() == Some(name))
    };
    assert!(listed(" tools\n", "zeta_add"), "{text}");
    assert!(listed(" tools\n", "mid_echo"), "{text}");
    assert!(listed(" prompts\n", "zeta_review"), "{text}");
    assert!(listed(" resources\n", "config://app"), "{text}");

    let out = run(&["inspect", &file, "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let info = common::stdout_json(&out);
    let servers: Vec<(&str, &str)> = info["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        servers,
        [
            ("zeta", "ready"),
            ("off", "disabled"),
            ("alpha", "down"),
            ("mid", "ready")
        ]
    );
    let resources = info["resources"].as_array().expect("resources");
    assert!(
        resources
            .iter()
            .any(|r| r["server"] == "zeta" && r["resource"]["uri"] == "config://app"),
        "{resources:?}"
    );
}

#[test]
fn templates_of_a_whole_config_file_fails_before_starting_any_server() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    let bin = serde_json::to_string(BIN).unwrap();
    let script = serde_json::to_string(&format!(
        "touch '{}'; exec \"$0\" serve-test",
        marker.display()
    ))
    .unwrap();
    let file = config(
        dir.path(),
        &format!(
            r#"{{"mcpServers": {{"demo": {{"command": "sh", "args": ["-c", {script}, {bin}]}}}}}}"#
        ),
    );
    let out = run(&["templates", &file]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--server NAME"), "{}", stderr(&out));
    assert!(
        !marker.exists(),
        "a server was started before the usage error"
    );

    // The marker works: with --server the server starts and answers.
    let out = run(&["templates", &file, "--server", "demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("greet://{name}"), "{}", stdout(&out));
    assert!(marker.exists());
}

#[test]
fn inspect_aligns_descriptions_after_names_longer_than_28_characters() {
    let source = format!("node {}", common::everything_js().display());
    let out = run(&["inspect", &source]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let tools: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.ends_with(" tools"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    let long = tools
        .iter()
        .find(|l| l.trim_start().starts_with("trigger-long-running-operation"))
        .unwrap_or_else(|| panic!("no long tool name:\n{text}"));
    assert!(
        long.contains("trigger-long-running-operation  "),
        "two spaces after the name: {long:?}"
    );
    // Every description starts in the same column.
    let column = |l: &str| {
        let name_end = 2 + l.trim_start().find(' ').expect("a description");
        name_end + l[name_end..].len() - l[name_end..].trim_start().len()
    };
    let columns: Vec<usize> = tools.iter().map(|l| column(l)).collect();
    assert!(
        columns.windows(2).all(|w| w[0] == w[1]),
        "{columns:?}:\n{}",
        tools.join("\n")
    );
}

#[test]
fn a_prompt_or_a_bench_by_prefixed_name_starts_only_the_server_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("other-started");
    let bin = serde_json::to_string(BIN).unwrap();
    let script = serde_json::to_string(&format!(
        "touch '{}'; exec \"$0\" serve-test",
        marker.display()
    ))
    .unwrap();
    let file = config(
        dir.path(),
        &format!(
            r#"{{"mcpServers": {{
                "demo": {{"command": {bin}, "args": ["serve-test"]}},
                "other": {{"command": "sh", "args": ["-c", {script}, {bin}]}}
            }}}}"#
        ),
    );
    let out = run(&["prompt", &file, "demo_review", r#"{"code": "fn y() {}"}"#]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("fn y() {}"), "{}", stdout(&out));
    let out = run(&[
        "bench",
        &file,
        "--tool",
        "demo_echo",
        "--args",
        r#"{"text":"b"}"#,
        "--calls",
        "5",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(common::stdout_json(&out)["calls"], 5);
    assert!(!marker.exists(), "the other server was started");

    // The marker works: a name of the other server starts it.
    let out = run(&["prompt", &file, "other_review", r#"{"code": "z"}"#]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(marker.exists());
}
