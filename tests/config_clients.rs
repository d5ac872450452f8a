//! Config files as each MCP client documents them (tests/fixtures/clients/):
//! the servers, commands, env and URLs come out as that client would run
//! them. VS Code's `inputs`, `${input:...}`, `${workspaceFolder}` and
//! `envFile`; Cursor's `envFile`; Cline's `transportType`; Windsurf's
//! `serverUrl`; Claude Code's `${VAR:-default}`; Codex's TOML. A value
//! nobody gave fails only the server that uses it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard::config::{
    FleetConfig, LoadOptions, RemoteTransport, ServerConfig, StdioServer, Unresolved,
};

fn clients() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients")
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The fixture at `rel`, with exactly the environment `vars`.
fn load(rel: &str, vars: &[(&str, &str)], options: LoadOptions) -> FleetConfig {
    let path = clients().join(rel);
    match FleetConfig::load(&path, &options.environment(env(vars))) {
        Ok(cfg) => cfg,
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

fn stdio<'a>(cfg: &'a FleetConfig, name: &str) -> &'a StdioServer {
    server(cfg, name).stdio().expect("a stdio server")
}

fn server<'a>(cfg: &'a FleetConfig, name: &str) -> &'a ServerConfig {
    cfg.server(name)
        .unwrap_or_else(|| panic!("no server {name:?}: {:?}", cfg.unresolved))
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const PEERS: &[(&str, &str)] = &[
    ("SWITCHBOARD_EVERYTHING", "/peers/everything/index.js"),
    ("SWITCHBOARD_PYTHON", "/peers/venv/bin/python"),
    ("HOME", "/home/me"),
];

#[test]
fn vscode_mcp_json_loads_as_vscode_runs_it() {
    let ws = clients().join("vscode");
    let mut vars = PEERS.to_vec();
    vars.push(("SWITCHBOARD_INPUT_DOCS_KEY", "docs-k3y"));
    let cfg = load(
        "vscode/.vscode/mcp.json",
        &vars,
        LoadOptions::new().input("everything-token", "tok-from-flag"),
    );
    assert!(cfg.unresolved.is_empty(), "{:?}", cfg.unresolved);
    assert_eq!(
        cfg.names().collect::<Vec<_>>(),
        ["everything", "fastmcp", "docs"]
    );
    assert_eq!(cfg.workspace_folder.as_deref(), Some(ws.as_path()));
    let ids: Vec<(&str, bool)> = cfg
        .inputs
        .iter()
        .map(|i| (i.id.as_str(), i.password))
        .collect();
    assert_eq!(ids, [("everything-token", true), ("docs-key", true)]);

    let everything = stdio(&cfg, "everything");
    assert_eq!(everything.command, "node");
    assert_eq!(everything.args, ["/peers/everything/index.js", "stdio"]);
    // The envFile's values under the explicit env, which wins.
    let ws_text = ws.display().to_string();
    assert_eq!(
        everything.env,
        pairs(&[
            ("EVERYTHING_TOKEN", "tok-from-flag"),
            ("FROM_ENV_FILE", "loaded from .env"),
            ("GREETING", "hello # not a comment"),
            ("WORKSPACE", &ws_text),
        ])
    );

    let fastmcp = stdio(&cfg, "fastmcp");
    assert_eq!(fastmcp.command, "/peers/venv/bin/python");
    assert_eq!(
        fastmcp.args,
        [format!("{ws_text}/../../../peers/fastmcp_server.py")]
    );

    let docs = server(&cfg, "docs").remote().expect("remote");
    assert_eq!(docs.url, "https://docs.example.com/mcp");
    assert_eq!(docs.transport, RemoteTransport::StreamableHttp);
    assert_eq!(docs.headers, pairs(&[("Authorization", "Bearer docs-k3y")]));
}

#[test]
fn an_input_nobody_gave_fails_only_the_servers_that_use_it() {
    let cfg = load("vscode/.vscode/mcp.json", PEERS, LoadOptions::new());
    assert_eq!(
        cfg.enabled().map(|s| &s.name).collect::<Vec<_>>(),
        ["fastmcp"]
    );
    let everything = cfg.unresolved("everything").expect("unresolved");
    assert_eq!(
        everything.reason,
        Unresolved::Input {
            id: "everything-token".into()
        }
    );
    assert_eq!(everything.field, "env.EVERYTHING_TOKEN");
    let msg = &everything.problem.to_string();
    assert!(
        msg.ends_with(
            "server \"everything\": field \"env.EVERYTHING_TOKEN\": input \"everything-token\" \
             has no value: pass --input everything-token=VALUE or set \
             SWITCHBOARD_INPUT_EVERYTHING_TOKEN"
        ),
        "{msg}"
    );
    let docs = cfg.unresolved("docs").expect("unresolved");
    assert_eq!(
        docs.reason,
        Unresolved::Input {
            id: "docs-key".into()
        }
    );
}

#[test]
fn the_prompt_is_asked_only_for_inputs_of_selected_servers() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let prompt = move |input: &switchboard::config::InputSpec| {
        if let Ok(mut l) = log.lock() {
            l.push((input.id.clone(), input.description.clone(), input.password));
        }
        Some("typed".to_owned())
    };

    // --server fastmcp: it uses no input, so nobody is asked and the
    // others are simply left unresolved (no error).
    let cfg = load(
        "vscode/.vscode/mcp.json",
        PEERS,
        LoadOptions::new().only("fastmcp").prompt(prompt.clone()),
    );
    assert!(asked.lock().map(|a| a.is_empty()).unwrap_or(false));
    assert!(cfg.server("fastmcp").is_some());

    // --server everything: asked once, for its input only.
    let cfg = load(
        "vscode/.vscode/mcp.json",
        PEERS,
        LoadOptions::new().only("everything").prompt(prompt.clone()),
    );
    assert_eq!(
        *asked.lock().expect("lock"),
        [(
            "everything-token".to_owned(),
            Some("Token for the everything server".to_owned()),
            true
        )]
    );
    let token = stdio(&cfg, "everything")
        .env
        .iter()
        .find(|(k, _)| k == "EVERYTHING_TOKEN")
        .map(|(_, v)| v.clone());
    assert_eq!(token.as_deref(), Some("typed"));
    assert!(cfg.unresolved("docs").is_some());

    // The environment answers before the prompt.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let mut vars = PEERS.to_vec();
    vars.push(("SWITCHBOARD_INPUT_EVERYTHING_TOKEN", "from-env"));
    vars.push(("SWITCHBOARD_INPUT_DOCS_KEY", "k"));
    let cfg = load(
        "vscode/.vscode/mcp.json",
        &vars,
        LoadOptions::new().prompt(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            None
        }),
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert!(cfg.unresolved.is_empty(), "{:?}", cfg.unresolved);
}

#[test]
fn vscode_hints_use_only_syntax_vscode_reads() {
    let vars = [("SWITCHBOARD_EVERYTHING", "/e.js")];
    let cfg = load(
        "vscode/.vscode/mcp.json",
        &vars,
        LoadOptions::new().input("everything-token", "t"),
    );
    let fastmcp = cfg.unresolved("fastmcp").expect("unresolved");
    assert_eq!(
        fastmcp.reason,
        Unresolved::EnvVar {
            name: "SWITCHBOARD_PYTHON".into()
        }
    );
    assert!(
        fastmcp
            .problem
            .to_string()
            .contains("environment variable SWITCHBOARD_PYTHON is not set"),
        "{}",
        fastmcp.problem.to_string()
    );
    assert!(
        !fastmcp.problem.to_string().contains(":-"),
        "{}",
        fastmcp.problem.to_string()
    );
    assert!(cfg.server("everything").is_some());
}

#[test]
fn a_missing_env_file_fails_its_server_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vscode = dir.path().join(".vscode");
    std::fs::create_dir(&vscode).expect("mkdir");
    std::fs::write(
        vscode.join("mcp.json"),
        r#"{"servers": {
            "a": {"type": "stdio", "command": "srv", "envFile": "${workspaceFolder}/missing.env"},
            "b": {"type": "stdio", "command": "srv", "args": ["${workspaceFolderBasename}"],
                  "envFile": "conf/b.env", "env": {"B": "explicit"}}
        }}"#,
    )
    .expect("write");
    std::fs::create_dir(dir.path().join("conf")).expect("mkdir");
    std::fs::write(dir.path().join("conf/b.env"), "B=file\nC=file\n").expect("write");
    let cfg = FleetConfig::load(
        vscode.join("mcp.json"),
        &LoadOptions::new().environment(HashMap::new()),
    )
    .expect("loads");
    let a = cfg.unresolved("a").expect("unresolved");
    assert_eq!(a.field, "envFile");
    assert!(
        matches!(&a.reason, Unresolved::EnvFile { path, .. } if path == &dir.path().join("missing.env")),
        "{a:?}"
    );
    let b = stdio(&cfg, "b");
    assert_eq!(b.env, pairs(&[("B", "explicit"), ("C", "file")]));
    let base = dir.path().file_name().expect("name").to_string_lossy();
    assert_eq!(b.args, [base.as_ref()]);
}

#[test]
fn cursor_env_file_is_merged_under_env() {
    let ws = clients().join("cursor");
    let cfg = load(
        "cursor/.cursor/mcp.json",
        &[
            ("SWITCHBOARD_EVERYTHING", "/e.js"),
            ("CURSOR_FIXTURE_LINEAR_KEY", "lin"),
        ],
        LoadOptions::new(),
    );
    assert_eq!(cfg.workspace_folder.as_deref(), Some(ws.as_path()));
    let everything = stdio(&cfg, "everything");
    assert_eq!(everything.args, ["/e.js", "stdio"]);
    assert_eq!(
        everything.env,
        pairs(&[
            ("CURSOR_ENV_FILE", "loaded from .env"),
            ("LOG_LEVEL", "debug")
        ])
    );
    assert!(!everything_extra_has(&cfg, "everything", "envFile"));
    let linear = server(&cfg, "linear").remote().expect("remote");
    assert_eq!(linear.url, "https://mcp.linear.app/sse");
    assert_eq!(linear.headers, pairs(&[("Authorization", "Bearer lin")]));
}

fn everything_extra_has(cfg: &FleetConfig, name: &str, key: &str) -> bool {
    server(cfg, name).extra.contains_key(key)
}

#[test]
fn cline_transport_type_is_understood() {
    let cfg = load("cline/cline_mcp_settings.json", &[], LoadOptions::new());
    assert_eq!(
        cfg.names().collect::<Vec<_>>(),
        ["everything", "weather-sse", "tickets"]
    );
    let everything = server(&cfg, "everything");
    assert_eq!(stdio(&cfg, "everything").command, "npx");
    assert_eq!(everything.timeout, Some(Duration::from_secs(60)));
    assert!(!everything.disabled);
    let weather = server(&cfg, "weather-sse").remote().expect("remote");
    assert_eq!(weather.transport, RemoteTransport::Sse);
    let tickets = server(&cfg, "tickets");
    assert!(tickets.disabled);
    let remote = tickets.remote().expect("remote");
    assert_eq!(remote.transport, RemoteTransport::StreamableHttp);
    assert_eq!(remote.url, "https://tickets.example.com/mcp");
    for s in &cfg.servers {
        assert!(
            !s.extra.contains_key("transportType"),
            "{}: transportType left unknown",
            s.name
        );
    }
    assert_eq!(cfg.enabled().count(), 2);
}

#[test]
fn windsurf_server_url_is_a_remote_server() {
    let cfg = load(
        "windsurf/mcp_config.json",
        &[
            ("SWITCHBOARD_EVERYTHING", "/e.js"),
            ("WINDSURF_FIXTURE_FIGMA_TOKEN", "fig"),
        ],
        LoadOptions::new(),
    );
    assert_eq!(stdio(&cfg, "everything").args, ["/e.js", "stdio"]);
    assert_eq!(
        stdio(&cfg, "everything").env,
        pairs(&[("WINDSURF_FIXTURE", "1")])
    );
    let figma = server(&cfg, "figma").remote().expect("remote");
    assert_eq!(figma.url, "https://mcp.figma.example/mcp");
    assert_eq!(figma.transport, RemoteTransport::Auto);
    assert_eq!(figma.headers, pairs(&[("X-Figma-Token", "fig")]));

    // Windsurf reads ${env:...} but not ${VAR:-default}: the hint says
    // nothing about defaults, and the other server still loads.
    let cfg = load(
        "windsurf/mcp_config.json",
        &[("SWITCHBOARD_EVERYTHING", "/e.js")],
        LoadOptions::new(),
    );
    let figma = cfg.unresolved("figma").expect("unresolved");
    assert!(figma.problem.to_string().ends_with(
        "field \"headers.X-Figma-Token\": environment variable WINDSURF_FIXTURE_FIGMA_TOKEN is not set"
    ), "{}", figma.problem);
    assert!(cfg.server("everything").is_some());
}

#[test]
fn claude_code_types_and_defaults() {
    let cfg = load(
        "claude-code/.mcp.json",
        &[
            ("SWITCHBOARD_EVERYTHING", "/e.js"),
            ("CLAUDE_FIXTURE_API_KEY", "k3y"),
        ],
        LoadOptions::new(),
    );
    let everything = stdio(&cfg, "everything");
    assert_eq!(everything.args, ["/e.js", "stdio"]);
    assert_eq!(everything.env, pairs(&[("LOG_DIR", "/tmp/claude-logs")]));
    let api = server(&cfg, "api-server").remote().expect("remote");
    assert_eq!(api.url, "https://api.example.com/mcp");
    assert_eq!(api.transport, RemoteTransport::StreamableHttp);
    assert_eq!(api.headers, pairs(&[("Authorization", "Bearer k3y")]));
    let events = server(&cfg, "events").remote().expect("remote");
    assert_eq!(events.transport, RemoteTransport::Sse);

    // Unset without a default: that server alone, and the hint is Claude
    // Code's own syntax.
    let cfg = load(
        "claude-code/.mcp.json",
        &[
            ("SWITCHBOARD_EVERYTHING", "/e.js"),
            ("CLAUDE_FIXTURE_API_BASE", "http://127.0.0.1:9"),
        ],
        LoadOptions::new(),
    );
    let api = cfg.unresolved("api-server").expect("unresolved");
    assert!(
        api.problem.to_string().ends_with(
            "environment variable CLAUDE_FIXTURE_API_KEY is not set \
             (write ${CLAUDE_FIXTURE_API_KEY:-default} to give a default)"
        ),
        "{}",
        api.problem.to_string()
    );
    assert_eq!(cfg.enabled().count(), 2);
}

#[test]
fn claude_desktop_config_is_read_as_is() {
    let cfg = load(
        "claude-desktop/claude_desktop_config.json",
        &[],
        LoadOptions::new(),
    );
    assert_eq!(cfg.names().collect::<Vec<_>>(), ["filesystem", "github"]);
    let fs = stdio(&cfg, "filesystem");
    assert_eq!(fs.command, "npx");
    assert_eq!(
        fs.args,
        [
            "-y",
            "@modelcontextprotocol/server-filesystem",
            "/Users/me/Desktop",
            "/Users/me/Downloads"
        ]
    );
    let gh = stdio(&cfg, "github");
    assert_eq!(gh.command, "docker");
    assert_eq!(gh.args[..4], ["run", "-i", "--rm", "-e"]);
    assert_eq!(
        gh.env,
        pairs(&[("GITHUB_PERSONAL_ACCESS_TOKEN", "ghp_example_not_a_token")])
    );
}

#[test]
fn codex_config_toml_mcp_servers() {
    let cfg = load("codex/.codex/config.toml", &[], LoadOptions::new());
    assert_eq!(cfg.names().collect::<Vec<_>>(), ["everything", "docs"]);
    let everything = stdio(&cfg, "everything");
    assert_eq!(everything.command, "node");
    assert_eq!(
        everything.args,
        ["/opt/mcp/server-everything/dist/index.js", "stdio"]
    );
    assert_eq!(everything.env, pairs(&[("LOG_LEVEL", "debug")]));
    let docs = stdio(&cfg, "docs");
    assert_eq!(docs.args, ["-y", "mcp-server-docs"]);
    assert_eq!(
        docs.env,
        pairs(&[("DOCS_API_KEY", "sk-example"), ("DOCS_REGION", "eu")])
    );
}
