//! What environment the CLI's stdio servers get, tried against a real
//! server that reports it (server-everything's `get-env`): the allowlist
//! by default (proxy and CA variables included), `--env KEY=VALUE`,
//! `--env KEY`, `--inherit-env`, the same for a config file's servers, and
//! a note naming what was withheld when a server fails to start. Also the
//! command line's `--timeout` for config files, and out-of-range values.

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const SECRET_VAR: &str = "SB_TEST_SECRET_TOKEN";

fn everything() -> String {
    format!("node {} stdio", common::everything_js().display())
}

fn switchboard(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env(SECRET_VAR, "ours-s3cret")
        .env("HTTPS_PROXY", "http://127.0.0.1:3128")
        .env("NODE_EXTRA_CA_CERTS", "/nonexistent/ca.pem");
    cmd
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("run switchboard")
}

/// The `--json` result of a command that must have succeeded.
fn json_result(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON result")
}

/// The server's environment as `get-env` reports it.
fn server_env(extra: &[&str]) -> serde_json::Map<String, Value> {
    let server = everything();
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["call", &server, "get-env"]);
    let out = output(&mut switchboard(&args));
    let result = json_result(&out);
    let text = result["content"][0]["text"].as_str().expect("text content");
    match serde_json::from_str(text) {
        Ok(Value::Object(env)) => env,
        other => panic!("get-env did not return an object: {other:?}"),
    }
}

#[test]
fn by_default_a_server_gets_the_allowlist_with_proxy_and_ca_variables() {
    let env = server_env(&[]);
    assert!(env.contains_key("PATH"), "{env:?}");
    assert_eq!(env["HTTPS_PROXY"], "http://127.0.0.1:3128");
    assert_eq!(env["NODE_EXTRA_CA_CERTS"], "/nonexistent/ca.pem");
    assert!(!env.contains_key(SECRET_VAR), "a secret leaked: {env:?}");
}

#[test]
fn env_flags_pass_values_and_our_variables_by_name() {
    let env = server_env(&["--env", "GIVEN=by value", "--env", SECRET_VAR]);
    assert_eq!(env["GIVEN"], "by value");
    assert_eq!(env[SECRET_VAR], "ours-s3cret");

    let env = server_env(&["--inherit-env"]);
    assert_eq!(env[SECRET_VAR], "ours-s3cret");
}

#[test]
fn a_bad_or_unset_env_flag_is_a_usage_error() {
    for (flag, says) in [
        ("NOT_SET_ANYWHERE_42", "is not set here"),
        ("1BAD=x", "expected KEY=VALUE"),
        ("=x", "expected KEY=VALUE"),
    ] {
        let out = output(&mut switchboard(&["--env", flag, "tools", &everything()]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains(says), "{flag}: {stderr}");
    }
}

/// `--env` for a URL server would be ignored: it is refused instead,
/// before anything is reached (the port is closed).
#[test]
fn env_flags_for_a_url_server_are_a_usage_error() {
    for flags in [&["--env", "K=v"][..], &["--inherit-env"][..]] {
        let mut args = flags.to_vec();
        args.extend_from_slice(&["tools", "http://127.0.0.1:9/mcp"]);
        let out = output(&mut switchboard(&args));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains("stdio server"), "{flags:?}: {stderr}");
    }
}

#[test]
fn a_server_that_fails_at_start_names_the_withheld_variables() {
    let server = "python3 -c \"import os,sys; sys.exit('the token is missing') if 'SB_TEST_SECRET_TOKEN' not in os.environ else None\"";
    let out = output(&mut switchboard(&["tools", server]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("the token is missing"), "{stderr}");
    let note = stderr
        .lines()
        .find(|l| l.starts_with("note:"))
        .unwrap_or_else(|| panic!("no note: {stderr}"));
    assert!(
        note.contains(SECRET_VAR) && note.contains("--env"),
        "{note}"
    );
    assert!(!note.contains("ours-s3cret"), "a value was shown: {note}");
    // The allowlisted variables are not named as withheld.
    assert!(
        !note.contains("HTTPS_PROXY") && !note.contains(" PATH"),
        "{note}"
    );

    // Given by name, it is no longer withheld (and the server starts).
    let out = output(&mut switchboard(&["--env", SECRET_VAR, "tools", server]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(SECRET_VAR), "{stderr}");
}

fn config_file(dir: &tempfile::TempDir, servers: &str) -> String {
    let path = dir.path().join("mcp.json");
    std::fs::write(&path, format!("{{\"mcpServers\": {{{servers}}}}}")).expect("write config");
    path.display().to_string()
}

#[test]
fn env_flags_reach_a_config_files_servers_over_their_own_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let js = common::everything_js();
    let config = config_file(
        &dir,
        &format!(
            r#""ev": {{"command": "node", "args": [{js:?}, "stdio"], "env": {{"GIVEN": "from the file", "KEPT": "file"}}}}"#
        ),
    );
    let out = output(&mut switchboard(&[
        "--json",
        "--env",
        "GIVEN=from the command line",
        "--env",
        SECRET_VAR,
        "call",
        &config,
        "ev_get-env",
    ]));
    let result = json_result(&out);
    let env: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(env["GIVEN"], "from the command line");
    assert_eq!(env["KEPT"], "file");
    assert_eq!(env[SECRET_VAR], "ours-s3cret");
}

#[test]
fn the_command_lines_timeout_applies_to_a_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = common::manifest_dir().join("tests/peers/fault_server.py");
    // `mute` never answers initialize; the file asks for 60 s.
    let config = config_file(
        &dir,
        &format!(
            r#""mute": {{"command": "python3", "args": [{script:?}, "mute"], "timeout": 60, "connect_timeout": 60}}"#
        ),
    );
    let started = Instant::now();
    let out = output(&mut switchboard(&[
        "--timeout",
        "2",
        "--server",
        "mute",
        "tools",
        &config,
    ]));
    let took = started.elapsed();
    // In a fleet the server is down (3); a single server's connect that
    // times out is a timeout (4), as for any other.
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        took < Duration::from_secs(15),
        "waited {took:?} with --timeout 2"
    );
    let mute = format!("python3 {} mute", script.display());
    let out = output(&mut switchboard(&["--timeout", "2", "tools", &mute]));
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn out_of_range_timeouts_are_usage_errors() {
    for value in ["1e20", "0", "-1", "nan", "inf", "soon"] {
        let out = output(&mut switchboard(&[
            "--timeout",
            value,
            "tools",
            &everything(),
        ]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--timeout {value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_urls_query_and_password_never_reach_the_logs() {
    // Nothing listens on port 9 of 127.0.0.1 (discard): the connect fails,
    // after logging at debug level with the server's name.
    let url = "http://user:s3cret-pw@127.0.0.1:9/mcp?key=s3cret-q";
    let out = output(&mut switchboard(&["-vv", "--timeout", "2", "tools", url]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("127.0.0.1"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    // A URL that does not parse is not echoed whole either.
    let out = output(&mut switchboard(&[
        "tools",
        "http://user:s3cret-pw@exa mple/mcp?key=s3cret-q",
    ]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn arg_values_are_typed_by_the_tools_input_schema() {
    // server-everything's echo takes `message: string`: 42 is the text.
    let out = output(&mut switchboard(&[
        "--json",
        "call",
        &everything(),
        "echo",
        "--arg",
        "message=42",
    ]));
    let result = json_result(&out);
    assert_eq!(result["content"][0]["text"], "Echo: 42");
    // get-sum takes numbers: 2 and 3 are numbers.
    let out = output(&mut switchboard(&[
        "--json",
        "call",
        &everything(),
        "get-sum",
        "--arg",
        "a=2",
        "--arg",
        "b=3",
    ]));
    let result = json_result(&out);
    assert!(
        result["content"][0]["text"].as_str().unwrap().contains('5'),
        "{result}"
    );
}
