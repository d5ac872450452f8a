//! A server's `replay` setting as users write it: JSON and TOML
//! `mcpServers` files, VS Code's `servers`, the `defaults` table, an
//! environment override, and the errors a typo gives.

use std::collections::HashMap;

use switchboard::config::{FleetConfig, Format};
use switchboard::{Error, Replay, ReplayPolicy};

fn read(text: &str, format: Format, vars: &[(&str, &str)]) -> switchboard::Result<FleetConfig> {
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let origin = match format {
        Format::Json => "mcp.json",
        _ => "mcp.toml",
    };
    FleetConfig::parse_with_env(text, format, origin, &env)
}

fn policy(cfg: &FleetConfig, server: &str) -> ReplayPolicy {
    cfg.server(server).expect("the server").replay.clone()
}

#[test]
fn json_takes_a_mode_a_table_booleans_and_glob_lists() {
    let cfg = read(
        r#"{"mcpServers": {
            "plain": {"command": "a"},
            "never": {"command": "a", "replay": "never"},
            "off": {"command": "a", "replay": false},
            "always": {"command": "a", "replay": "Always", "replay_deny": ["charge_*"]},
            "table": {"command": "a", "replay": {"mode": "safe", "allow": "note, list_*", "deny": ["drop"]}},
            "camel": {"command": "a", "replayAllow": ["x"]}
        }}"#,
        Format::Json,
        &[],
    )
    .unwrap();
    assert_eq!(policy(&cfg, "plain"), ReplayPolicy::default());
    assert_eq!(policy(&cfg, "plain").mode, Replay::Safe);
    assert_eq!(policy(&cfg, "never"), ReplayPolicy::new(Replay::Never));
    assert_eq!(policy(&cfg, "off"), ReplayPolicy::new(Replay::Never));
    assert_eq!(
        policy(&cfg, "always"),
        ReplayPolicy::new(Replay::Always).deny(["charge_*"])
    );
    assert_eq!(
        policy(&cfg, "table"),
        ReplayPolicy::default()
            .allow(["note", "list_*"])
            .deny(["drop"])
    );
    assert_eq!(policy(&cfg, "camel"), ReplayPolicy::default().allow(["x"]));
    // Nothing of it is left over as an unknown field.
    assert!(cfg.server("table").unwrap().extra.is_empty());
}

#[test]
fn toml_defaults_give_the_mode_and_deny_globs_add_up() {
    let cfg = read(
        r#"
[defaults]
replay = "always"
replay_allow = ["get_*"]
replay_deny = ["*_payment"]

[mcpServers.billing]
command = "billing-mcp"
replay_deny = ["refund"]

[mcpServers.search]
command = "search-mcp"
replay = "safe"
replay_allow = ["find"]
"#,
        Format::Toml,
        &[],
    )
    .unwrap();
    assert_eq!(
        policy(&cfg, "billing"),
        ReplayPolicy::new(Replay::Always)
            .allow(["get_*"])
            .deny(["*_payment", "refund"])
    );
    assert_eq!(
        policy(&cfg, "search"),
        ReplayPolicy::new(Replay::Safe)
            .allow(["find"])
            .deny(["*_payment"])
    );
    let billing = policy(&cfg, "billing");
    assert!(!billing.replays("card_payment", None));
    assert!(billing.replays("invoice", None));
}

#[test]
fn a_vs_code_file_reads_replay_like_any_other() {
    let cfg = read(
        r#"{"inputs": [], "servers": {
            "db": {"type": "stdio", "command": "db-mcp", "replay": "never"}
        }}"#,
        Format::Json,
        &[],
    )
    .unwrap();
    assert_eq!(policy(&cfg, "db"), ReplayPolicy::new(Replay::Never));
}

#[test]
fn an_environment_override_sets_the_mode() {
    let cfg = read(
        r#"{"mcpServers": {"db": {"command": "db-mcp", "replay": "always"}}}"#,
        Format::Json,
        &[
            ("SWITCHBOARD__SERVERS__DB__REPLAY", "false"),
            ("SWITCHBOARD__SERVERS__DB__REPLAY_DENY", "a, b"),
        ],
    )
    .unwrap();
    assert_eq!(
        policy(&cfg, "db"),
        ReplayPolicy::new(Replay::Never).deny(["a", "b"])
    );
}

#[test]
fn a_bad_mode_names_the_file_the_server_and_the_field() {
    let cases = [
        (
            r#"{"mcpServers": {"db": {"command": "x", "replay": "sometimes"}}}"#,
            r#"mcp.json: server "db": field "replay": expected "never", "safe" or "always", got "sometimes""#,
        ),
        (
            r#"{"mcpServers": {"db": {"command": "x", "replay": 3}}}"#,
            r#"mcp.json: server "db": field "replay": expected "never", "safe" or "always", got 3"#,
        ),
        (
            r#"{"mcpServers": {"db": {"command": "x", "replay": {"mode": "once"}}}}"#,
            r#"mcp.json: server "db": field "replay.mode": expected "never", "safe" or "always", got "once""#,
        ),
        (
            r#"{"mcpServers": {"db": {"command": "x", "replay_deny": {"a": 1}}}}"#,
            r#"mcp.json: server "db": field "replay_deny": expected a list of strings, got a table"#,
        ),
    ];
    for (text, want) in cases {
        match read(text, Format::Json, &[]) {
            Err(Error::Config(problem)) => assert_eq!(problem.to_string(), want),
            other => panic!("{text}: expected a config error, got {other:?}"),
        }
    }
}
