//! `switchboard` over a real VS Code `.vscode/mcp.json`
//! (tests/fixtures/clients/vscode/) against real child processes
//! (server-everything, FastMCP): `${input:...}` from `--input`, from
//! `SWITCHBOARD_INPUT_<ID>`, and from a prompt on a real pseudo-terminal
//! that does not echo the password; a server whose input nobody gave
//! fails alone.

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn workspace() -> PathBuf {
    common::manifest_dir().join("tests/fixtures/clients/vscode")
}

fn mcp_json() -> String {
    workspace()
        .join(".vscode/mcp.json")
        .to_string_lossy()
        .into_owned()
}

/// The command with the peers' paths the fixture names (`${env:...}`) and
/// no input variables from the test's own environment.
fn switchboard(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("SWITCHBOARD_EVERYTHING", common::everything_js())
        .env("SWITCHBOARD_PYTHON", common::python())
        .env_remove("SWITCHBOARD_INPUT_EVERYTHING_TOKEN")
        .env_remove("SWITCHBOARD_INPUT_DOCS_KEY")
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run switchboard")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn tool_names(out: &Output) -> Vec<String> {
    common::stdout_json(out)
        .as_array()
        .expect("a tool array")
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

/// server-everything's `get-env` result: the child's environment.
fn child_env(out: &Output) -> Value {
    let result = common::stdout_json(out);
    let text = result["content"][0]["text"].as_str().expect("text content");
    serde_json::from_str(text).expect("get-env returns JSON")
}

#[test]
fn an_input_given_with_the_flag_reaches_the_server() {
    let file = mcp_json();
    let out = run(&mut switchboard(&[
        "tools",
        &file,
        "--server",
        "everything",
        "--input",
        "everything-token=flag-t0k",
        "--json",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let names = tool_names(&out);
    assert!(names.iter().any(|n| n == "get-env"), "{names:?}");

    let out = run(&mut switchboard(&[
        "call",
        &file,
        "get-env",
        "--server",
        "everything",
        "--input",
        "everything-token=flag-t0k",
        "--json",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let env = child_env(&out);
    assert_eq!(env["EVERYTHING_TOKEN"], "flag-t0k");
    // From envFile, under the explicit env.
    assert_eq!(env["FROM_ENV_FILE"], "loaded from .env");
    assert_eq!(env["WORKSPACE"], workspace().to_string_lossy().as_ref());
}

#[test]
fn an_input_given_in_the_environment_reaches_the_server() {
    let file = mcp_json();
    let mut cmd = switchboard(&["call", &file, "get-env", "--server", "everything", "--json"]);
    let out = run(cmd.env("SWITCHBOARD_INPUT_EVERYTHING_TOKEN", "env-t0k"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(child_env(&out)["EVERYTHING_TOKEN"], "env-t0k");
}

#[test]
fn a_server_whose_input_nobody_gave_fails_alone() {
    let file = mcp_json();
    // The whole file: FastMCP lists its tools; everything and docs (both
    // need an input, and there is no terminal to ask on) are reported.
    let out = run(&mut switchboard(&["tools", &file, "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let names = tool_names(&out);
    assert!(names.iter().any(|n| n == "fastmcp_add"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("everything_")),
        "{names:?}"
    );
    let err = stderr(&out);
    assert!(
        err.contains(
            "input \"everything-token\" has no value: pass --input everything-token=VALUE \
             or set SWITCHBOARD_INPUT_EVERYTHING_TOKEN"
        ),
        "{err}"
    );
    assert!(err.contains("input \"docs-key\" has no value"), "{err}");

    // Naming it: a clear error, exit 2 (usage).
    let out = run(&mut switchboard(&[
        "tools",
        &file,
        "--server",
        "everything",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("server \"everything\": field \"env.EVERYTHING_TOKEN\": input \"everything-token\" has no value: pass --input everything-token=VALUE or set SWITCHBOARD_INPUT_EVERYTHING_TOKEN"),
        "{err}"
    );

    // Naming a server that uses no input: no error at all.
    let out = run(&mut switchboard(&[
        "tools", &file, "--server", "fastmcp", "--json",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(tool_names(&out).iter().any(|n| n == "add"));
    assert!(!stderr(&out).contains("input"), "{}", stderr(&out));
}

#[test]
fn input_flag_needs_id_equals_value_and_a_config() {
    let file = mcp_json();
    let out = run(&mut switchboard(&[
        "tools",
        &file,
        "--server",
        "fastmcp",
        "--input",
        "s3cret-without-id",
    ]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--input expects ID=VALUE"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");

    let server = format!("{BIN} serve-test");
    let out = run(&mut switchboard(&["tools", &server, "--input", "a=b"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SOURCE is not a config file"));
}

/// Runs `shell_cmd` under a pseudo-terminal (`script` from util-linux),
/// typing `answer` once `prompt` shows; returns everything the terminal
/// showed.
fn on_a_terminal(shell_cmd: &str, prompt: &str, answer: &str) -> (Option<i32>, String) {
    typing_on_a_terminal(shell_cmd, prompt, &format!("{answer}\n"))
}

/// Like [`on_a_terminal`], typing exactly `typed` (no Enter added).
fn typing_on_a_terminal(shell_cmd: &str, prompt: &str, typed: &str) -> (Option<i32>, String) {
    let mut child = Command::new("script")
        .args(["-qec", shell_cmd, "/dev/null"])
        .env("SWITCHBOARD_EVERYTHING", common::everything_js())
        .env("SWITCHBOARD_PYTHON", common::python())
        .env_remove("SWITCHBOARD_INPUT_EVERYTHING_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
    let text = |shown: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&shown.lock().expect("lock")).into_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !text(&shown).contains(prompt) {
        assert!(
            Instant::now() < deadline,
            "no prompt {prompt:?}; the terminal showed:\n{}",
            text(&shown)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(typed.as_bytes()).expect("type the answer");
    let deadline = Instant::now() + Duration::from_secs(25);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("did not finish; the terminal showed:\n{}", text(&shown));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    let _ = reader.join();
    (status.code(), text(&shown))
}

#[test]
fn on_a_terminal_the_password_is_asked_without_echo() {
    let secret = "pty-s3cret-4711";
    let cmd = format!(
        "'{BIN}' call '{}' get-env --server everything --json",
        mcp_json()
    );
    let prompt = "Token for the everything server: ";
    let (code, shown) = on_a_terminal(&cmd, prompt, secret);
    assert_eq!(code, Some(0), "{shown}");
    // Between the question and the end of its line nothing was echoed.
    let after = &shown[shown.find(prompt).expect("prompt") + prompt.len()..];
    let line = after.split('\n').next().unwrap_or("");
    assert!(!line.contains(secret), "echoed: {line:?}");
    // The answer reached the server: it shows once, in get-env's output.
    assert_eq!(shown.matches(secret).count(), 1, "{shown}");
    assert!(
        shown.contains(&format!("\\\"EVERYTHING_TOKEN\\\": \\\"{secret}\\\"")),
        "{shown}"
    );
    // Only the selected server's input was asked for.
    assert!(!shown.contains("Docs API key"), "{shown}");
}

#[test]
fn ctrl_c_at_a_password_prompt_exits_130_with_echo_back_on() {
    // The shell keeps going after Ctrl-C (a trap), to report the exit code
    // and the terminal's settings once switchboard is gone.
    let cmd = format!(
        "trap true INT; '{BIN}' call '{}' get-env --server everything --json; \
         echo EXIT=$?; stty -a",
        mcp_json()
    );
    let prompt = "Token for the everything server: ";
    let (_, shown) = typing_on_a_terminal(&cmd, prompt, "\x03");
    assert!(shown.contains("EXIT=130"), "{shown}");
    let flags = &shown[shown.find("EXIT=130").expect("exit line")..];
    assert!(
        flags.contains(" echo ") && !flags.contains("-echo "),
        "echo is still off:\n{flags}"
    );
}
