//! The `switchboard` command as scripts use it: `--json` output, exit codes,
//! the deterministic sampling/elicitation modes, against the built-in test
//! server running as a real child process (`switchboard serve-test`).

mod common;

use std::process::{Command, Output};

use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn server() -> String {
    format!("{BIN} serve-test")
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run switchboard")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

#[test]
fn tools_json_is_exactly_the_tool_array() {
    let s = server();
    let out = run(&["tools", &s, "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let tools = common::stdout_json(&out);
    let names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "echo",
            "add",
            "slow",
            "summarize",
            "confirm",
            "roots",
            "log",
            "touch"
        ]
    );
    assert_eq!(tools[0]["inputSchema"]["required"], json!(["text"]));
}

#[test]
fn call_prints_the_mcp_result_and_merges_arg_pairs() {
    let s = server();
    let out = run(&["call", &s, "add", r#"{"a": 1}"#, "--arg", "b=2", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let result = common::stdout_json(&out);
    assert_eq!(result["structuredContent"], json!({"sum": 3.0}));
    assert_eq!(result["content"][0]["type"], "text");

    let human = run(&["call", &s, "echo", "--arg", "text=hello world"]);
    assert_eq!(code(&human), 0);
    assert_eq!(String::from_utf8_lossy(&human.stdout).trim(), "hello world");
}

#[test]
fn exit_codes_follow_the_contract() {
    let s = server();
    // 1: the tool answered isError (add without its arguments).
    let out = run(&["call", &s, "add", "{}", "--json"]);
    assert_eq!(code(&out), 1);
    assert_eq!(common::stdout_json(&out)["isError"], json!(true));
    // 2: usage.
    assert_eq!(code(&run(&["call", &s, "add", "{not json"])), 2);
    assert_eq!(code(&run(&["frobnicate"])), 2);
    assert_eq!(code(&run(&["tools", &s, "--protocol", "1999-01-01"])), 2);
    // 3: cannot connect.
    let out = run(&["tools", "/nonexistent/switchboard-test-server"]);
    assert_eq!(code(&out), 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not start"));
    // 4: timeout (one 3 s step with a 0.5 s idle deadline, no progress before it).
    let out = run(&[
        "call",
        &s,
        "slow",
        r#"{"steps": 1, "ms": 3000}"#,
        "--timeout",
        "0.5",
    ]);
    assert_eq!(code(&out), 4, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));
}

#[test]
fn protocol_flag_forces_the_era() {
    for (flag, expected) in [
        ("auto", "2026-07-28"),
        ("2025-11-25", "2025-11-25"),
        ("2025-03-26", "2025-03-26"),
    ] {
        let s = server();
        let out = run(&["inspect", &s, "--json", "--protocol", flag]);
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
        let info = common::stdout_json(&out);
        assert_eq!(info["protocolVersion"], expected);
        assert_eq!(info["serverInfo"]["name"], "switchboard-demo");
        assert_eq!(info["tools"].as_array().unwrap().len(), 8);
        assert_eq!(info["resources"].as_array().unwrap().len(), 2);
        assert_eq!(info["prompts"].as_array().unwrap().len(), 2);
    }
}

#[test]
fn deterministic_sampling_elicitation_and_roots() {
    for protocol in ["auto", "2025-11-25"] {
        let s = server();
        let out = run(&[
            "call",
            &s,
            "summarize",
            r#"{"text":"x"}"#,
            "--sampling",
            "text:fixed reply",
            "--protocol",
            protocol,
        ]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "fixed reply",
            "{protocol}"
        );

        let out = run(&[
            "call",
            &s,
            "confirm",
            r#"{"action":"ship"}"#,
            "--elicitation",
            r#"accept:{"confirm":true}"#,
            "--protocol",
            protocol,
        ]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "ship: confirmed"
        );
        let out = run(&[
            "call",
            &s,
            "confirm",
            r#"{"action":"ship"}"#,
            "--elicitation",
            "accept-defaults",
            "--protocol",
            protocol,
        ]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "ship: not confirmed",
            "the schema's default is false"
        );
        let out = run(&[
            "call",
            &s,
            "confirm",
            r#"{"action":"ship"}"#,
            "--elicitation",
            "decline",
            "--protocol",
            protocol,
        ]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "ship: declined"
        );

        let out = run(&[
            "call",
            &s,
            "roots",
            "--root",
            "file:///a",
            "--root",
            "file:///b",
            "--json",
            "--protocol",
            protocol,
        ]);
        assert_eq!(
            common::stdout_json(&out)["structuredContent"]["roots"],
            json!([{"uri": "file:///a"}, {"uri": "file:///b"}])
        );
    }
    let s = server();
    let out = run(&[
        "call",
        &s,
        "summarize",
        r#"{"text":"x"}"#,
        "--sampling",
        "reject",
    ]);
    assert_eq!(code(&out), 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("sampling/createMessage"));
}

#[test]
fn resources_templates_prompts_and_ping() {
    let s = server();
    let out = run(&["read", &s, "greet://Ada"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Hello, Ada!");
    let out = run(&["read", &s, "config://app", "--json"]);
    assert_eq!(
        common::stdout_json(&out)["contents"][0]["uri"],
        "config://app"
    );
    let out = run(&["templates", &s, "--json"]);
    assert_eq!(
        common::stdout_json(&out)[0]["uriTemplate"],
        "greet://{name}"
    );
    let out = run(&["resources", &s]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("data://logo.png"));
    let out = run(&["prompt", &s, "review", "--arg", "code=let x = 1;", "--json"]);
    assert!(common::stdout_json(&out)["messages"]
        .to_string()
        .contains("let x = 1;"));
    let out = run(&["prompts", &s]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("review"));
    let out = run(&["ping", &s, "--json"]);
    assert_eq!(common::stdout_json(&out)["ok"], json!(true));
}

#[test]
fn bench_json_reports_the_documented_fields() {
    let s = format!("{BIN} serve-echo");
    let out = run(&[
        "bench",
        &s,
        "--tool",
        "echo",
        "--args",
        r#"{"text":"hi"}"#,
        "--calls",
        "200",
        "--concurrency",
        "4",
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let report = common::stdout_json(&out);
    assert_eq!(report["calls"], 200);
    assert_eq!(report["concurrency"], 4);
    assert!(report["calls_per_sec"].as_f64().unwrap() > 0.0);
    assert!(report["p50_us"].as_u64().unwrap() <= report["p99_us"].as_u64().unwrap());
    assert!(report["seconds"].as_f64().unwrap() > 0.0);
}

#[test]
fn demo_runs_an_agent_offline_and_says_what_it_did() {
    let out = run(&["demo"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "the built-in deterministic planner (no network, no API key)",
        "step 1 (3 calls in parallel",
        "✓ notes_add -> {\"sum\":42.0}",
        "✓ worker_echo -> hello from a child process",
        "✗ worker_crash -> Error: the server restarted during the call",
        "✓ worker_echo -> back after the restart",
        "✓ notes_summarize -> MCP lets a model use tools",
        "✓ worker_confirm -> deploy: confirmed",
        "server worker: ready after 1 restart(s)",
        "sampling: 1 request(s) from notes",
        "(final answer)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let live = String::from_utf8_lossy(&out.stderr);
    assert!(
        live.contains("calling worker_crash"),
        "the live view on stderr:\n{live}"
    );
    assert!(live.contains("demo: final answer"), "{live}");
    let left = common::processes_running("serve-test --eras handshake --crash-tool");
    assert!(left.is_empty(), "the demo left {left:?} behind");

    let json = run(&["demo", "--json"]);
    assert_eq!(code(&json), 0);
    let t = common::stdout_json(&json);
    assert_eq!(t["stop"]["reason"], "final_answer");
    assert_eq!(t["steps"].as_array().unwrap().len(), 4);
    assert_eq!(t["steps"][1]["tool_calls"][0]["is_error"], true);
}

#[test]
fn demo_tour_walks_the_client_api() {
    let out = run(&["demo", "--tour"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "protocol 2026-07-28",
        "protocol 2025-11-25",
        "add(2, 40) = 42",
        "deploy: confirmed",
        "Hello, world!",
        "no process is left behind",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn a_config_file_is_a_fleet_with_prefixed_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mcp.json");
    std::fs::write(
        &path,
        json!({"mcpServers": {
            "demo": {"command": BIN, "args": ["serve-test"]},
            "echoer": {"command": BIN, "args": ["serve-echo"]},
            "broken": {"command": "/nonexistent/switchboard-cli-test"},
            "off": {"command": BIN, "args": ["serve-test"], "disabled": true},
        }})
        .to_string(),
    )
    .unwrap();
    let config = path.to_str().unwrap();

    // A server down makes `inspect` fail (exit 3), as a health check should.
    let out = run(&["inspect", config, "--json"]);
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stderr));
    let table = run(&["inspect", config]);
    assert_eq!(code(&table), 3);
    let text = String::from_utf8_lossy(&table.stdout);
    let rows: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 5, "a header and one line per server:\n{text}");
    let info = common::stdout_json(&out);
    let states: Vec<(String, String)> = info["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("broken".into(), "down".into()),
            ("demo".into(), "ready".into()),
            ("echoer".into(), "ready".into()),
            ("off".into(), "disabled".into())
        ]
    );
    let tools: Vec<&str> = info["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        tools.contains(&"demo_add") && tools.contains(&"echoer_echo"),
        "{tools:?}"
    );

    let out = run(&["call", config, "demo_add", r#"{"a": 2, "b": 5}"#, "--json"]);
    assert_eq!(
        common::stdout_json(&out)["structuredContent"]["sum"],
        json!(7.0)
    );
    // --server narrows to one server, whose own names are used.
    let out = run(&[
        "call",
        config,
        "add",
        r#"{"a": 1, "b": 1}"#,
        "--server",
        "demo",
        "--json",
    ]);
    assert_eq!(
        common::stdout_json(&out)["structuredContent"]["sum"],
        json!(2.0)
    );
    let out = run(&["read", config, "greet://cli", "--server", "demo"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Hello, cli!");
    // Without --server: a listed resource is read from the server that
    // lists it, a prompt and a bench go by the prefixed names `prompts`
    // and `tools` print.
    let out = run(&["read", config, "config://app"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("mode = demo"));
    let out = run(&["prompt", config, "demo_review", r#"{"code": "fn x() {}"}"#]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("fn x() {}"));
    for bench in [
        vec![
            "bench",
            config,
            "--tool",
            "echoer_echo",
            "--args",
            r#"{"text":"b"}"#,
        ],
        vec![
            "bench",
            config,
            "--server",
            "echoer",
            "--tool",
            "echo",
            "--args",
            r#"{"text":"b"}"#,
        ],
    ] {
        let mut args = bench.clone();
        args.extend(["--calls", "20", "--json"]);
        let out = run(&args);
        assert_eq!(
            code(&out),
            0,
            "{bench:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(common::stdout_json(&out)["calls"], 20);
    }
    // What no server lists, or no such server, is a usage error.
    assert_eq!(code(&run(&["read", config, "greet://x"])), 2);
    assert_eq!(code(&run(&["bench", config, "--tool", "nobody_echo"])), 2);
    assert_eq!(code(&run(&["tools", config, "--server", "nope"])), 2);
}

fn escapes_server() -> String {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/fault_server.py");
    format!("python3 {} escapes", script.display())
}

#[test]
fn a_servers_control_sequences_are_shown_not_obeyed() {
    let server = escapes_server();
    for args in [
        vec!["call", server.as_str(), "bad"],
        vec!["tools", server.as_str()],
        vec!["inspect", server.as_str()],
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .output()
            .expect("run switchboard");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !stdout.contains('\x1b') && !stdout.contains('\r') && !stdout.contains('\x07'),
            "{args:?}: {stdout:?}"
        );
        assert!(
            stdout.contains("\\u{1b}]52;c;"),
            "{args:?}: the sequence is shown: {stdout}"
        );
    }
    // --json is exact: the text comes back as the server sent it.
    let out = Command::new(BIN)
        .args(["--json", "call", &server, "bad"])
        .output()
        .expect("run switchboard");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(result["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("\x1b]52;c;"));
}

#[test]
fn a_root_with_control_characters_or_no_scheme_is_a_usage_error() {
    for root in ["file:///tmp/a\x1b[2Jb", "file:///tmp/a\nb", "relative/path"] {
        let out = run(&["--root", root, "tools", &server()]);
        assert_eq!(
            code(&out),
            2,
            "{root:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn dash_v_shows_a_stdio_servers_stderr_lines() {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/fault_server.py");
    let server = format!("python3 {} good", script.display());
    let quiet = run(&["tools", &server]);
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("mode good ready"));
    let verbose = run(&["-v", "tools", &server]);
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(stderr.contains("fault_server: mode good ready"), "{stderr}");
}

#[test]
fn a_protocol_of_the_wrong_era_is_named_in_the_error() {
    let handshake_only = format!("{BIN} serve-test --eras handshake");
    let out = run(&["tools", &handshake_only, "--protocol", "2026-07-28"]);
    assert_eq!(code(&out), 3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("method not found"), "{err}");
    assert!(
        err.contains("note: --protocol 2026-07-28 is the stateless era")
            && err.contains("only the handshake era")
            && err.contains("--protocol auto"),
        "{err}"
    );
}

#[test]
fn a_capability_the_server_needs_points_to_the_flag_that_gives_it() {
    // 2026-07-28: the server's -32021 error; the handshake era: the tool's
    // isError result (the server could not send its request).
    let modern = server();
    let handshake = format!("{BIN} serve-test --eras handshake");
    for (s, expected) in [(&modern, 3), (&handshake, 1)] {
        capability_notes(s, expected);
    }
}

fn capability_notes(s: &str, expected: i32) {
    for (tool, args, flag) in [
        ("summarize", vec!["--arg", "text=hi"], "--sampling"),
        ("confirm", vec!["--arg", "action=deploy"], "--elicitation"),
        ("roots", vec![], "--root"),
    ] {
        let mut cmd = vec!["call", s, tool];
        cmd.extend(args);
        let out = run(&cmd);
        assert_eq!(code(&out), expected, "{s} {tool}");
        let err = String::from_utf8_lossy(&out.stderr);
        let note = err
            .lines()
            .find(|l| l.starts_with("note: "))
            .unwrap_or_else(|| panic!("{tool}: no note:\n{err}"));
        assert!(note.contains(flag), "{tool}: {note}");
    }
}

#[test]
fn a_model_flag_without_a_model_is_an_argument_mistake_not_a_configuration_one() {
    for flag in ["--sampling", "--elicitation"] {
        let out = Command::new(BIN)
            .args(["tools", &server(), flag, "model"])
            .env_remove("SWITCHBOARD_MODEL")
            .output()
            .expect("run switchboard");
        assert_eq!(code(&out), 2, "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("configuration"), "{flag}: {err}");
        assert!(
            err.starts_with(&format!("error: invalid argument: {flag} model: "))
                && err.contains("set SWITCHBOARD_MODEL"),
            "{flag}: {err}"
        );
    }
}

#[test]
fn warnings_are_plain_lines_at_the_default_verbosity_and_detailed_with_v() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mcp.json");
    std::fs::write(
        &path,
        json!({"mcpServers": {
            "demo": {"command": BIN, "args": ["serve-test"]},
            "broken": {"command": "/nonexistent/switchboard-cli-test"},
        }})
        .to_string(),
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let out = run(&["tools", file]);
    assert_eq!(code(&out), 0);
    let err = String::from_utf8_lossy(&out.stderr);
    let warning = err
        .lines()
        .find(|l| l.contains("could not start"))
        .unwrap_or_else(|| panic!("no warning:\n{err}"));
    assert!(
        warning.starts_with("warning: could not start: ") && warning.ends_with("(server=broken)"),
        "{warning}"
    );
    assert!(
        !err.contains("WARN") && !err.contains("switchboard::"),
        "{err}"
    );

    let out = run(&["tools", file, "-v"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.contains(" WARN ") && l.contains("switchboard::fleet")),
        "{err}"
    );
}

#[test]
fn demo_tour_with_json_prints_only_one_json_object() {
    let out = run(&["--json", "demo", "--tour"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let report = common::stdout_json(&out);
    let servers = report["servers"].as_array().expect("servers");
    assert_eq!(servers.len(), 2);
    assert_eq!(servers[0]["protocolVersion"], "2026-07-28");
    assert_eq!(servers[1]["protocolVersion"], "2025-11-25");
    for s in servers {
        assert_eq!(s["add"], json!(42.0));
        assert_eq!(s["progressUpdates"], json!(3));
    }
    // The tour's prose went to stderr.
    assert!(String::from_utf8_lossy(&out.stderr).contains("Switchboard demo"));
}

#[test]
fn a_file_named_on_the_command_line_that_is_not_there_is_an_argument_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let missing_config = dir.path().join("mcp.json");
    let missing_agent = dir.path().join("agent.toml");
    for args in [
        vec!["tools", missing_config.to_str().unwrap()],
        vec!["run", missing_agent.to_str().unwrap(), "hello"],
        vec!["gateway", missing_config.to_str().unwrap(), "--stdio"],
    ] {
        let out = run(&args);
        assert_eq!(code(&out), 2, "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: invalid argument: ")
                && err.contains("no such file")
                && !err.contains("configuration"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn demo_with_a_model_but_no_key_says_configuration_once() {
    let out = Command::new(BIN)
        .arg("demo")
        .env("SWITCHBOARD_MODEL", "some-model")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .expect("run switchboard");
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("configuration").count(), 1, "{err}");
    assert!(err.contains("OPENAI_API_KEY is not set"), "{err}");
}
