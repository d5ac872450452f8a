//! TOML that nests too deep (dotted keys, arrays, inline tables) is a
//! config error naming the line, not a stack overflow that aborts the
//! process: the `toml` crate builds and drops its tree recursively, and a
//! fuzzed config nested about 130 levels took a 2 MiB thread down (issue 12).

use std::process::Command;
use std::time::Duration;

use switchboard::agent::AgentDefinition;
use switchboard::config::FleetConfig;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A tokio worker's default stack: where a library user reads configs.
const WORKER_STACK: usize = 2 * 1024 * 1024;

/// The fuzzer's input (its first byte picks TOML): empty dotted-key
/// segments and unclosed inline tables, which the parser's recovery nests
/// past its own recursion limit.
const FUZZED: &[u8] = include_bytes!("../fuzz/artifacts-fixed/config/dotted-keys-130-deep");

/// Texts that nest far past any real file, each a different way.
fn too_deep() -> Vec<(&'static str, String)> {
    vec![
        ("fuzzed", String::from_utf8_lossy(&FUZZED[1..]).into_owned()),
        (
            "dotted key",
            format!(
                "[mcp_servers.a]\ncommand = \"x\"\nk{} = 1\n",
                ".a".repeat(50_000)
            ),
        ),
        ("arrays", format!("x = {}", "[".repeat(50_000))),
        ("inline tables", format!("x = {}", "{ a = ".repeat(20_000))),
        (
            "header and key",
            format!("[t{}]\nk{} = 1\n", ".a".repeat(40), ".a".repeat(40)),
        ),
    ]
}

/// Runs `f` on a thread with a tokio worker's stack; a stack overflow
/// aborts the whole test binary, which fails the test too.
fn on_worker_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(WORKER_STACK)
        .spawn(f)
        .expect("a thread")
        .join()
        .expect("no panic")
}

#[test]
fn a_config_nested_too_deep_is_a_config_error_naming_the_line() {
    for (what, text) in too_deep() {
        let err = on_worker_stack(move || FleetConfig::from_toml_str(&text).unwrap_err());
        assert!(err.is_config(), "{what}: {err}");
        let message = err.to_string();
        assert!(
            message.contains("nests deeper than 64 levels") && message.contains("line "),
            "{what}: {message}"
        );
    }
}

#[test]
fn an_agent_definition_nested_too_deep_is_a_config_error() {
    for (what, text) in too_deep() {
        let text = format!("name = \"a\"\n{text}");
        let err = on_worker_stack(move || AgentDefinition::from_toml_str(&text).unwrap_err());
        assert!(err.is_config(), "{what}: {err}");
        assert!(err.to_string().contains("nests deeper"), "{what}: {err}");
    }
}

#[test]
fn a_real_codex_config_still_reads() {
    let text =
        "[mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"-y\", \"@x/y.z\", \"--v=1.2.3\"]\n\
                env = { \"A.B\" = \"1\", C = '''\n[[{{.\n''' }\n\
                [mcp_servers.docs.tools]\nallow = [\"a.*\"] # [[[ not counted\n";
    let config = on_worker_stack(move || FleetConfig::from_toml_str(text).expect("reads"));
    assert_eq!(config.servers.len(), 1);
}

#[test]
fn the_cli_reports_a_too_deep_file_with_exit_2() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("mcp.toml");
    std::fs::write(&path, &too_deep()[0].1).expect("write");
    let mut child = Command::new(BIN)
        .args(["inspect"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("switchboard starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        assert!(std::time::Instant::now() < deadline, "inspect hangs");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nests deeper than 64 levels"), "{stderr}");
}
