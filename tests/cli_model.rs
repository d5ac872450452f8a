//! `--sampling model` and a config file's `sampling` table: the CLI answers
//! a real child server's sampling request from an OpenAI-compatible
//! endpoint served by the test on 127.0.0.1.

mod model_common;

use std::time::Duration;

use model_common::{text_completion, ModelServer, Step};
use serde_json::{json, Value};

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

fn json_out(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
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
    let result = json_out(&out);
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
        json_out(&out)["content"][0]["text"],
        "From the file's model."
    );
    assert_eq!(endpoint.requests()[0].body["model"], "file-model");

    // A model that fails: the server hears an error and says so; the
    // call itself still completes (the connection stayed up).
    let out = switchboard(call("second"), &[]).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit 1: the tool answered isError"
    );
    let result = json_out(&out);
    assert_eq!(result["isError"], true, "{result}");
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("500"),
        "{result}"
    );
}
