//! `--sampling model` and a config file's `sampling` table: the CLI answers
//! a real child server's sampling request from an OpenAI-compatible
//! endpoint served by the test on 127.0.0.1.

mod common;

mod model_common;

use std::time::Duration;

use model_common::{text_completion, ModelServer, Step};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

async fn switchboard(args: Vec<String>, env: &[(&str, String)]) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("SWITCHBOARD_MODEL")
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("switchboard finished in time")
        .expect("run switchboard")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_model_asks_the_endpoint_from_the_environment() {
    let endpoint = ModelServer::start(vec![Step::json(text_completion(
        "env-model",
        "A one-sentence summary.",
        12,
        5,
    ))])
    .await;
    let out = switchboard(
        vec![
            "call".into(),
            format!("{BIN} serve-test --eras handshake"),
            "summarize".into(),
            r#"{"text": "A long text about switchboards."}"#.into(),
            "--sampling".into(),
            "model".into(),
            "--json".into(),
        ],
        &[
            ("OPENAI_BASE_URL", endpoint.base_url()),
            ("OPENAI_API_KEY", "sk-cli-test".into()),
            ("SWITCHBOARD_MODEL", "env-model".into()),
        ],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = common::stdout_json(&out);
    assert_eq!(result["content"][0]["text"], "A one-sentence summary.");
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer sk-cli-test")
    );
    assert_eq!(requests[0].body["model"], "env-model");
    assert_eq!(requests[0].body["max_tokens"], 200);
    assert_eq!(
        requests[0].body["messages"],
        json!([{"role": "user", "content": "Summarize in one sentence:\nA long text about switchboards."}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_model_without_a_model_name_is_a_usage_error() {
    let out = switchboard(
        vec![
            "call".into(),
            format!("{BIN} serve-test"),
            "echo".into(),
            r#"{"text": "x"}"#.into(),
            "--sampling".into(),
            "model".into(),
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SWITCHBOARD_MODEL"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_files_sampling_table_answers_its_servers() {
    let endpoint = ModelServer::start(vec![
        Step::json(text_completion(
            "file-model",
            "From the file's model.",
            3,
            4,
        )),
        Step::Status(500, "down".into()),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mcp.json");
    std::fs::write(
        &config,
        json!({
            "mcpServers": {"demo": {"command": BIN, "args": ["serve-test"], "protocol": "2025-11-25"}},
            "sampling": {"mode": "model", "base_url": endpoint.base_url(), "model": "file-model",
                          "budget": {"requests": 1}},
        })
        .to_string(),
    )
    .unwrap();
    let call = |text: &str| {
        vec![
            "call".into(),
            config.display().to_string(),
            "demo_summarize".into(),
            json!({ "text": text }).to_string(),
            "--json".into(),
        ]
    };
    let out = switchboard(call("first"), &[]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        common::stdout_json(&out)["content"][0]["text"],
        "From the file's model."
    );
    assert_eq!(endpoint.requests()[0].body["model"], "file-model");

    // A model that fails: the server hears that it failed (never the
    // endpoint's words) and says so; the call itself still completes (the
    // connection stayed up).
    let out = switchboard(call("second"), &[]).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit 1: the tool answered isError"
    );
    let result = common::stdout_json(&out);
    assert_eq!(result["isError"], true, "{result}");
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("sampling failed: the model could not answer this request"),
        "{result}"
    );
}

fn agent_file(dir: &std::path::Path, base_url: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("agent.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "cli-agent"
system_prompt = "Be brief."

[model]
model = "agent-model"
base_url = "{base_url}"
api_key_env = "SB_TEST_AGENT_KEY"

[servers.demo]
command = "{BIN}"
args = ["serve-test", "--eras", "handshake"]
{extra}"#
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_hosts_an_agent_and_prints_its_transcript() {
    let endpoint = ModelServer::start(vec![
        Step::json(model_common::tool_call_completion(
            "agent-model",
            &[("c1", "demo_add", r#"{"a": 20, "b": 22}"#)],
        )),
        Step::json(text_completion("agent-model", "The sum is 42.", 40, 6)),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let agent = agent_file(dir.path(), &endpoint.base_url(), "");
    let out = switchboard(
        vec![
            "run".into(),
            agent.display().to_string(),
            "Add".into(),
            "20 and 22.".into(),
            "--json".into(),
        ],
        &[("SB_TEST_AGENT_KEY", "sk-from-env".into())],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = common::stdout_json(&out);
    assert_eq!(t["agent"], "cli-agent");
    assert_eq!(t["prompt"], "Add 20 and 22.");
    assert_eq!(t["answer"], "The sum is 42.");
    assert_eq!(t["steps"][0]["tool_calls"][0]["name"], "demo_add");
    assert!(t["steps"][0]["tool_calls"][0]["output"]
        .as_str()
        .unwrap()
        .contains("42"));
    let requests = endpoint.requests();
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer sk-from-env")
    );
    assert_eq!(
        requests[0].body["stream"], true,
        "the CLI streams the model's text"
    );
    // The live view went to stderr.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("calling demo_add"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_reads_the_prompt_from_stdin_and_reports_limits_by_exit_code() {
    let endpoint = ModelServer::start_repeating(Step::json(model_common::tool_call_completion(
        "agent-model",
        &[("c", "demo_echo", r#"{"text": "again"}"#)],
    )))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let agent = agent_file(
        dir.path(),
        &endpoint.base_url(),
        "[limits]\nmax_steps = 2\n",
    );
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(["run", &agent.display().to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"echo things forever\n").await.unwrap();
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a limit: exit 1");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stopped after 2 steps (max_steps)"), "{err}");
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body["messages"][1]["content"],
        "echo things forever"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_a_bad_definition_names_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let agent = agent_file(
        dir.path(),
        "http://127.0.0.1:9/v1",
        "[limits]\nmax_stepz = 2\n",
    );
    let out = switchboard(
        vec!["run".into(), agent.display().to_string(), "hi".into()],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("agent.toml") && err.contains("max_stepz"),
        "{err}"
    );
}

/// A pseudo-terminal: the child's stdin is a terminal, as a person's is.
fn pty() -> (std::fs::File, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors we then own.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both are fresh descriptors owned by nothing else.
    unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::os::fd::OwnedFd::from_raw_fd(slave),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_without_a_prompt_on_a_terminal_is_an_interactive_conversation() {
    use std::io::Write;
    let endpoint = ModelServer::start(vec![
        Step::json(text_completion("agent-model", "Noted: you like tea.", 5, 4)),
        Step::json(text_completion("agent-model", "Tea.", 9, 1)),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let agent = agent_file(dir.path(), &endpoint.base_url(), "");
    let (mut master, slave) = pty();
    let child = tokio::process::Command::new(BIN)
        .args(["run", &agent.display().to_string()])
        .stdin(std::process::Stdio::from(slave))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Two tasks, then an empty line to end.
    master
        .write_all(b"I like tea.\nWhat do I like?\n\n")
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the session ends on an empty line")
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Noted: you like tea.") && stdout.contains("Tea."),
        "{stdout}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("type a task"), "{err}");
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].body["messages"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "I like tea."},
            {"role": "assistant", "content": "Noted: you like tea."},
            {"role": "user", "content": "What do I like?"},
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_uses_a_configured_model_instead_of_the_planner() {
    let endpoint = ModelServer::start(vec![
        Step::json(model_common::tool_call_completion(
            "demo-model",
            &[("d1", "notes_add", r#"{"a": 2, "b": 40}"#)],
        )),
        Step::json(text_completion("demo-model", "2 + 40 = 42.", 30, 5)),
    ])
    .await;
    let out = switchboard(
        vec!["demo".into(), "--json".into()],
        &[
            ("OPENAI_BASE_URL", endpoint.base_url()),
            ("SWITCHBOARD_MODEL", "demo-model".into()),
        ],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = common::stdout_json(&out);
    assert_eq!(t["model"], "demo-model");
    assert_eq!(t["answer"], "2 + 40 = 42.");
    assert_eq!(t["steps"][0]["tool_calls"][0]["name"], "notes_add");
    let offered: Vec<String> = endpoint.requests()[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        offered.contains(&"worker_crash".to_owned())
            && offered.contains(&"notes_summarize".to_owned()),
        "{offered:?}"
    );
}
