//! `mcpServers` config files as users have them: Claude Desktop, Cursor and
//! VS Code JSON read as-is, Switchboard's TOML with its extensions, `${VAR}`
//! expansion, environment overrides, and the errors a user sees.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use switchboard::config::{
    AuthConfig, FleetConfig, Format, RemoteTransport, ServerConfig, ServerKind, Unresolved,
};
use switchboard::{Error, Source, VersionChoice};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn json(text: &str, vars: &[(&str, &str)]) -> switchboard::Result<FleetConfig> {
    FleetConfig::parse_with_env(text, Format::Json, "servers.json", &env(vars))
}

fn config_error(result: switchboard::Result<FleetConfig>) -> String {
    match result {
        Err(Error::Config(problem)) => problem.to_string(),
        Err(other) => panic!("expected a config error, got {other:?}"),
        Ok(cfg) => panic!("expected an error, got {cfg:?}"),
    }
}

fn stdio(server: &ServerConfig) -> &switchboard::config::StdioServer {
    server.stdio().expect("a stdio server")
}

#[test]
fn claude_desktop_file_is_read_as_is_in_file_order() {
    let cfg = FleetConfig::from_path(fixture("claude_desktop.json")).unwrap();
    assert_eq!(
        cfg.names().collect::<Vec<_>>(),
        [
            "filesystem",
            "github",
            "brave-search",
            "puppeteer",
            "weather"
        ]
    );

    let github = cfg.server("github").unwrap();
    let gh = stdio(github);
    assert_eq!(gh.command, "npx");
    assert_eq!(gh.args, ["-y", "@modelcontextprotocol/server-github"]);
    assert_eq!(
        gh.env,
        [(
            "GITHUB_PERSONAL_ACCESS_TOKEN".to_string(),
            "ghp_not_a_real_token".to_string()
        )]
    );
    assert!(!gh.inherit_env);
    assert!(!github.lazy && !github.disabled);
    assert_eq!(github.timeout, None, "unset: the client's default applies");
    assert_eq!(github.protocol, VersionChoice::Auto);

    match github.to_source().unwrap() {
        Source::Stdio(c) => {
            assert_eq!(c.program, "npx");
            assert_eq!(c.args, gh.args);
            assert_eq!(c.env, gh.env);
        }
        other => panic!("expected a stdio source, got {other:?}"),
    }
    assert!(github.client_builder().is_ok());

    // Claude Desktop's own keys are kept, not fatal.
    let puppeteer = cfg.server("puppeteer").unwrap();
    assert!(puppeteer.disabled);
    assert!(puppeteer.extra.contains_key("alwaysAllow"));
    assert_eq!(
        cfg.enabled().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["filesystem", "github", "brave-search", "weather"]
    );
}

#[test]
fn cursor_file_with_urls_headers_and_variables() {
    // Unique names: tests share the process environment.
    std::env::set_var("SWITCHBOARD_TEST_CURSOR_TOKEN_5E1", "sekrit-5e1");
    std::env::remove_var("SWITCHBOARD_TEST_CURSOR_TEAM_5E1");
    let cfg = FleetConfig::from_path(fixture("cursor.json")).unwrap();

    let linear = cfg.server("linear").unwrap();
    let remote = linear.remote().expect("a remote server");
    assert_eq!(remote.url, "https://mcp.linear.example/sse");
    assert_eq!(remote.transport, RemoteTransport::Auto);
    assert_eq!(
        remote.headers,
        [("Authorization".to_string(), "Bearer sekrit-5e1".to_string())]
    );
    assert!(matches!(linear.to_source().unwrap(), Source::Http(c) if c.url() == remote.url));
    // Header values are secrets: the source's Debug never shows them.
    let shown = format!("{:?}", linear.to_source().unwrap());
    assert!(!shown.contains("sekrit-5e1"), "{shown}");

    let docs = cfg.server("internal-docs").unwrap().remote().unwrap();
    assert_eq!(docs.transport, RemoteTransport::StreamableHttp);
    assert_eq!(
        docs.headers,
        [("X-Team".to_string(), "platform".to_string())],
        "the default after :- applies when the variable is unset"
    );
    assert_eq!(docs.auth, Some(AuthConfig::Bearer("sekrit-5e1".into())));

    let local = cfg.server("local").unwrap();
    assert_eq!(stdio(local).env, [("PORT".to_string(), "8080".to_string())]);
}

#[test]
fn vscode_servers_key_and_type_field() {
    let cfg = FleetConfig::from_path(fixture("vscode.json")).unwrap();
    assert_eq!(cfg.names().collect::<Vec<_>>(), ["memory", "fetch"]);
    assert!(cfg.server("memory").unwrap().stdio().is_some());
    let fetch = cfg.server("fetch").unwrap().remote().unwrap();
    assert_eq!(fetch.transport, RemoteTransport::Sse);
    assert_eq!(fetch.url, "http://localhost:8931/sse");
}

#[test]
fn toml_file_with_extensions_and_defaults() {
    let path = fixture("switchboard.toml");
    let cfg = FleetConfig::from_path(&path).unwrap();
    assert_eq!(
        cfg.names().collect::<Vec<_>>(),
        ["everything", "remote", "archived"]
    );

    let e = cfg.server("everything").unwrap();
    let s = stdio(e);
    assert_eq!(s.args, ["-y", "@modelcontextprotocol/server-everything"]);
    assert_eq!(s.env, [("LOG_LEVEL".to_string(), "debug".to_string())]);
    assert_eq!(
        s.cwd.as_deref(),
        Some(path.parent().unwrap().join("servers").as_path()),
        "cwd is relative to the file"
    );
    assert!(s.inherit_env);
    assert!(e.lazy);
    assert_eq!(e.timeout, Some(Duration::from_secs(30)));
    assert_eq!(e.max_request_time, Some(Duration::from_secs(600)));
    assert_eq!(
        e.connect_timeout,
        Some(Duration::from_secs(20)),
        "from defaults"
    );
    assert_eq!(e.health_check, Some(Duration::ZERO));
    assert_eq!(e.max_message_size, Some(1 << 20));
    assert_eq!(e.protocol, "2025-06-18".parse::<VersionChoice>().unwrap());
    assert_eq!(e.roots, ["file:///srv/data", "file:///home/me/project"]);
    assert_eq!(e.tools.allow, ["get_*", "echo", "add"]);
    assert_eq!(
        e.tools.deny,
        ["*delete*", "get_secret*"],
        "defaults' deny first"
    );
    assert_eq!(e.restart.max_restarts, Some(3), "from defaults");
    assert_eq!(e.restart.window, Some(Duration::from_secs(60)));
    assert_eq!(e.restart.backoff_initial, Some(Duration::from_millis(250)));
    assert_eq!(e.restart.backoff_max, Some(Duration::from_secs(5)));
    assert_eq!(e.restart.breaker_threshold, Some(4));
    assert_eq!(e.restart.breaker_cooldown, Some(Duration::from_secs(15)));
    match e.to_source().unwrap() {
        Source::Stdio(c) => {
            assert!(c.inherit_env);
            assert_eq!(c.max_message_size, 1 << 20);
            assert_eq!(c.cwd, s.cwd);
        }
        other => panic!("expected stdio, got {other:?}"),
    }

    let r = cfg.server("remote").unwrap();
    let remote = r.remote().unwrap();
    assert_eq!(remote.transport, RemoteTransport::StreamableHttp);
    assert_eq!(remote.auth, Some(AuthConfig::Bearer("tok-123".into())));
    assert_eq!(
        remote.headers,
        [("X-Client".to_string(), "switchboard".to_string())]
    );
    assert_eq!(r.restart.max_restarts, Some(0), "restart = false");
    assert_eq!(r.restart_policy(), None);

    let policy = e.restart_policy().expect("restarts on");
    assert_eq!(policy.backoff_initial, Duration::from_millis(250));
    assert_eq!(policy.backoff_max, Duration::from_secs(5));
    assert_eq!(policy.breaker_threshold, 4);
    assert_eq!(policy.breaker_cooldown, Duration::from_secs(15));
    assert_eq!(policy.health_interval, None, "health_check_secs = 0");
    assert_eq!(policy.max_restarts, Some(3));
    assert_eq!(policy.restart_window, Duration::from_secs(60));
    assert!(!r.lazy);

    assert!(cfg.server("archived").unwrap().disabled, "enabled = false");
    assert_eq!(cfg.enabled().count(), 2);
}

#[test]
fn toml_and_json_strings_read_through_the_same_path() {
    let cfg = FleetConfig::from_toml_str("[mcpServers.a]\ncommand = \"srv\"\n").unwrap();
    assert_eq!(stdio(&cfg.servers[0]).command, "srv");
    assert_eq!(cfg.origin, "<toml>");
    let cfg = FleetConfig::from_json_str(r#"{"mcpServers": {"b": {"url": "https://x.test/mcp"}}}"#)
        .unwrap();
    assert!(cfg.servers[0].remote().is_some());
    // Codex's table name.
    let cfg = FleetConfig::from_toml_str("[mcp_servers.c]\ncommand = \"srv\"\n").unwrap();
    assert_eq!(cfg.servers[0].name, "c");
}

#[test]
fn variables_expand_in_every_string() {
    let text = r#"{"mcpServers": {
        "s": {
            "command": "${BIN_DIR}/server",
            "args": ["--token=${TOKEN}", "--price=$$5", "${MISSING:-fallback}", "a$b"],
            "env": {"KEY": "${TOKEN}", "EMPTY_DEFAULT": "${EMPTY:-d}"},
            "cwd": "${HOME_DIR}/work",
            "timeout": "${TIMEOUT:-45}"
        },
        "r": {"url": "https://${HOST}/mcp", "headers": {"X-Key": "${env:TOKEN}"}}
    }}"#;
    let cfg = json(
        text,
        &[
            ("BIN_DIR", "/opt/bin"),
            ("TOKEN", "t0k"),
            ("EMPTY", ""),
            ("HOME_DIR", "/home/me"),
            ("HOST", "mcp.example.com"),
        ],
    )
    .unwrap();
    let s = cfg.server("s").unwrap();
    let st = stdio(s);
    assert_eq!(st.command, "/opt/bin/server");
    assert_eq!(st.args, ["--token=t0k", "--price=$5", "fallback", "a$b"]);
    assert_eq!(
        st.env,
        [
            ("EMPTY_DEFAULT".to_string(), "d".to_string()),
            ("KEY".to_string(), "t0k".to_string())
        ]
    );
    assert_eq!(st.cwd, Some(PathBuf::from("/home/me/work")));
    assert_eq!(s.timeout, Some(Duration::from_secs(45)));
    let r = cfg.server("r").unwrap().remote().unwrap();
    assert_eq!(r.url, "https://mcp.example.com/mcp");
    assert_eq!(r.headers, [("X-Key".to_string(), "t0k".to_string())]);
}

#[test]
fn an_unset_variable_fails_its_server_alone_naming_file_server_and_field() {
    let text = r#"{"mcpServers": {"github": {"command": "npx",
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_TOKEN}"}},
        "fine": {"command": "true"}}}"#;
    let cfg = json(text, &[]).unwrap();
    assert_eq!(cfg.enabled().map(|s| &s.name).collect::<Vec<_>>(), ["fine"]);
    // Every name, in file order (the unresolved one where the file has it).
    assert_eq!(cfg.names().collect::<Vec<_>>(), ["github", "fine"]);
    assert_eq!(cfg.order, ["github", "fine"]);
    let github = cfg.unresolved("github").unwrap();
    assert_eq!(
        github.reason,
        Unresolved::EnvVar {
            name: "GITHUB_TOKEN".into()
        }
    );
    assert_eq!(github.field, "env.GITHUB_PERSONAL_ACCESS_TOKEN");
    assert_eq!(
        github.problem.to_string(),
        "servers.json: server \"github\": field \"env.GITHUB_PERSONAL_ACCESS_TOKEN\": \
         environment variable GITHUB_TOKEN is not set (write ${GITHUB_TOKEN:-default} to give a default)"
    );
    let text =
        r#"{"mcpServers": {"api": {"url": "https://x.test", "auth": "${NO_SUCH_TOKEN_9}"}}}"#;
    let cfg = json(text, &[]).unwrap();
    let msg = &cfg.unresolved("api").unwrap().problem.to_string();
    assert!(
        msg.starts_with("servers.json: server \"api\": field \"auth\": environment variable NO_SUCH_TOKEN_9 is not set"),
        "{msg}"
    );
    // A syntax error is still the file's.
    let text = r#"{"mcpServers": {"x": {"command": "a", "args": ["${UNCLOSED"]}}}"#;
    let msg = config_error(json(text, &[]));
    assert!(
        msg.starts_with("servers.json: server \"x\": field \"args[0]\":"),
        "{msg}"
    );
}

#[test]
fn environment_overrides_servers_and_defaults() {
    let text = r#"{"mcpServers": {
        "brave-search": {"command": "npx", "args": ["-y", "brave"], "env": {"BRAVE_API_KEY": "old"}},
        "GitHub": {"url": "https://api.example.com/mcp", "headers": {"authorization": "Bearer old"}, "timeout": 5}
    }}"#;
    let cfg = json(
        text,
        &[
            (
                "SWITCHBOARD__SERVERS__BRAVE_SEARCH__ENV__BRAVE_API_KEY",
                "new-key",
            ),
            (
                "SWITCHBOARD__SERVERS__BRAVE_SEARCH__ARGS",
                r#"["-y", "brave@2"]"#,
            ),
            ("SWITCHBOARD__SERVERS__BRAVE_SEARCH__DISABLED", "true"),
            (
                "SWITCHBOARD__SERVERS__BRAVE_SEARCH__TOOLS__DENY",
                "brave_local_*, brave_news",
            ),
            ("SWITCHBOARD__SERVERS__GITHUB__TIMEOUT", "90"),
            (
                "SWITCHBOARD__SERVERS__GITHUB__HEADERS__Authorization",
                "Bearer ${GH_TOKEN}",
            ),
            ("SWITCHBOARD__SERVERS__GITHUB__RESTART__MAX_RESTARTS", "7"),
            ("SWITCHBOARD__DEFAULTS__CONNECT_TIMEOUT", "12"),
            ("SWITCHBOARD__DEFAULTS__LAZY", "true"),
            ("GH_TOKEN", "fresh"),
        ],
    )
    .unwrap();

    let brave = cfg.server("brave-search").unwrap();
    assert_eq!(
        stdio(brave).env,
        [("BRAVE_API_KEY".to_string(), "new-key".to_string())]
    );
    assert_eq!(stdio(brave).args, ["-y", "brave@2"]);
    assert!(brave.disabled);
    assert!(!brave.tool_allowed("brave_local_search"));
    assert!(!brave.tool_allowed("brave_news"));
    assert!(brave.tool_allowed("brave_web_search"));

    let gh = cfg.server("GitHub").unwrap();
    assert_eq!(gh.timeout, Some(Duration::from_secs(90)));
    assert_eq!(gh.restart.max_restarts, Some(7));
    assert_eq!(
        gh.remote().unwrap().headers,
        [("Authorization".to_string(), "Bearer fresh".to_string())],
        "header names match without case; the value expands"
    );
    for s in &cfg.servers {
        assert_eq!(s.connect_timeout, Some(Duration::from_secs(12)));
        assert!(s.lazy);
    }
    assert_eq!(cfg.defaults.connect_timeout, Some(Duration::from_secs(12)));
}

#[test]
fn an_override_error_names_the_variable() {
    let text = r#"{"mcpServers": {"github": {"command": "npx"}}}"#;
    assert_eq!(
        config_error(json(text, &[("SWITCHBOARD__SERVERS__GITHUB__TIMEOUT", "soon")])),
        "servers.json: server \"github\": field \"timeout\" (set by SWITCHBOARD__SERVERS__GITHUB__TIMEOUT): \
         expected a number of seconds, got \"soon\""
    );
    // The same place, as fields a caller can read.
    let Err(Error::Config(problem)) =
        json(text, &[("SWITCHBOARD__SERVERS__GITHUB__TIMEOUT", "soon")])
    else {
        panic!("expected a config error");
    };
    assert_eq!(problem.file.as_deref(), Some("servers.json"));
    assert_eq!(problem.server.as_deref(), Some("github"));
    assert_eq!(problem.field.as_deref(), Some("timeout"));
    assert_eq!(
        problem.set_by.as_deref(),
        Some("SWITCHBOARD__SERVERS__GITHUB__TIMEOUT")
    );
    // The defaults table is overridden the same way, and named the same way.
    let Err(Error::Config(problem)) =
        json(text, &[("SWITCHBOARD__DEFAULTS__CONNECT_TIMEOUT", "soon")])
    else {
        panic!("expected a config error");
    };
    assert_eq!(problem.field.as_deref(), Some("defaults.connect_timeout"));
    assert_eq!(
        problem.set_by.as_deref(),
        Some("SWITCHBOARD__DEFAULTS__CONNECT_TIMEOUT")
    );
    // A variable naming no server is ignored, not fatal.
    assert!(json(text, &[("SWITCHBOARD__SERVERS__GITLAB__TIMEOUT", "1")]).is_ok());
}

#[test]
fn bad_types_give_exact_messages() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"github": {"command": "npx", "timeout": "abc"}}"#,
            r#"servers.json: server "github": field "timeout": expected a number of seconds, got "abc""#,
        ),
        (
            r#"{"github": {"command": "npx", "timeout": -3}}"#,
            r#"servers.json: server "github": field "timeout": expected a number of seconds, got -3"#,
        ),
        (
            r#"{"s": {"command": "npx", "args": {"a": 1}}}"#,
            r#"servers.json: server "s": field "args": expected a list of strings, got a table"#,
        ),
        (
            r#"{"s": {"command": "npx", "args": ["ok", ["nested"]]}}"#,
            r#"servers.json: server "s": field "args[1]": expected a string, got a list"#,
        ),
        (
            r#"{"s": {"command": "npx", "disabled": "maybe"}}"#,
            r#"servers.json: server "s": field "disabled": expected true or false, got "maybe""#,
        ),
        (
            r#"{"s": {"command": "npx", "restart": {"max_restarts": 1.5}}}"#,
            r#"servers.json: server "s": field "restart.max_restarts": expected a whole number, got 1.5"#,
        ),
        (
            r#"{"s": {"command": "npx", "restart": {"backoff_initial_ms": "x"}}}"#,
            r#"servers.json: server "s": field "restart.backoff_initial_ms": expected a number of milliseconds, got "x""#,
        ),
        (
            r#"{"s": {"command": "npx", "env": {"TOKEN": {"nested": "secret-value"}}}}"#,
            r#"servers.json: server "s": field "env.TOKEN": expected a string, got a table"#,
        ),
        (
            r#"{"s": {"command": "  "}}"#,
            r#"servers.json: server "s": field "command": must not be empty"#,
        ),
        (
            r#"{"s": {"command": "npx", "transport": "carrier-pigeon"}}"#,
            r#"servers.json: server "s": field "transport": expected "stdio", "http", "streamable-http" or "sse", got "carrier-pigeon""#,
        ),
        (
            r#"{"s": {"command": "npx", "type": "sse"}}"#,
            r#"servers.json: server "s": field "type": "sse" needs a "url", but this server has a "command""#,
        ),
        (
            r#"{"s": {"url": "ftp://x.test/secret-token"}}"#,
            r#"servers.json: server "s": field "url": expected an http:// or https:// URL (or memory://demo)"#,
        ),
        (
            r#"{"s": {"url": "https://x.test", "auth": 12345}}"#,
            r#"servers.json: server "s": field "auth": expected a bearer token, "oauth" or a table, got a number"#,
        ),
        (
            r#"{"s": "npx server"}"#,
            r#"servers.json: server "s": expected a table with "command" or "url", got "npx server""#,
        ),
        (
            r#"{"s": {"command": "npx", "url": "https://x.test"}}"#,
            r#"servers.json: server "s": has both "command" and "url"; a server is either a program to run or a remote URL"#,
        ),
        (
            r#"{"s": {"args": ["x"]}}"#,
            r#"servers.json: server "s": needs "command" (a program to run) or "url" (a remote server)"#,
        ),
    ];
    for (servers, expected) in cases {
        let text = format!(r#"{{"mcpServers": {servers}}}"#);
        assert_eq!(&config_error(json(&text, &[])), expected, "for {servers}");
    }

    let msg = config_error(json(
        r#"{"mcpServers": {"s": {"command": "a", "protocol": "1999-01-01"}}}"#,
        &[],
    ));
    assert!(
        msg.starts_with(r#"servers.json: server "s": field "protocol": expected "auto" or a protocol version: unknown protocol version "1999-01-01""#),
        "{msg}"
    );
}

#[test]
fn bad_files_name_the_file() {
    let path = fixture("bad_timeout.json");
    let msg = config_error(FleetConfig::from_path(&path));
    assert_eq!(
        msg,
        format!(
            "{}: server \"github\": field \"timeout\": expected a number of seconds, got \"abc\"",
            path.display()
        )
    );

    let empty = fixture("empty.json");
    assert_eq!(
        config_error(FleetConfig::from_path(&empty)),
        format!(
            "{}: the file is empty; expected a \"mcpServers\" table",
            empty.display()
        )
    );

    let missing = fixture("no-such-file.json");
    let msg = config_error(FleetConfig::from_path(&missing));
    assert!(
        msg.starts_with(&format!("{}: cannot read:", missing.display())),
        "{msg}"
    );

    let msg = config_error(FleetConfig::from_path("servers.yaml"));
    assert_eq!(
        msg,
        "servers.yaml: unknown config format; expected a .json or .toml file"
    );

    assert_eq!(
        config_error(json(r#"{"other": 1}"#, &[])),
        "servers.json: no servers: expected a \"mcpServers\" table (or \"servers\")"
    );
    assert_eq!(
        config_error(json(r#"{"mcpServers": {}}"#, &[])),
        "servers.json: \"mcpServers\" is empty: no servers configured"
    );
    assert_eq!(
        config_error(json(r#"{"mcpServers": ["a"]}"#, &[])),
        "servers.json: \"mcpServers\" must be a table of servers, got a list"
    );
    assert_eq!(
        config_error(json(
            r#"{"mcpServers": {"a": {"command": "x"}}, "servers": {}}"#,
            &[]
        )),
        "servers.json: both \"mcpServers\" and \"servers\" are present; keep one"
    );
    let msg = config_error(json(r#"{"mcpServers": {"a": "#, &[]));
    assert!(msg.starts_with("servers.json: "), "{msg}");
    let msg = config_error(FleetConfig::parse_with_env(
        "[mcpServers\ncommand =",
        Format::Toml,
        "mcp.toml",
        &env(&[]),
    ));
    assert!(msg.starts_with("mcp.toml: "), "{msg}");
}

#[test]
fn allow_and_deny_globs_with_deny_winning() {
    let text = r#"{"mcpServers": {
        "gh": {"command": "x", "tools": {"allow": ["get_*", "search_?ode", "list_issues"], "deny": ["get_secret*"]}},
        "open": {"command": "x"},
        "aliases": {"command": "x", "allowedTools": ["read_*"], "disabledTools": "read_private"},
        "gemini": {"command": "x", "includeTools": ["a*"], "excludeTools": ["ab"]}
    }}"#;
    let cfg = json(text, &[]).unwrap();
    let gh = cfg.server("gh").unwrap();
    assert!(gh.tool_allowed("get_issue"));
    assert!(gh.tool_allowed("search_code"));
    assert!(!gh.tool_allowed("search_codes"));
    assert!(gh.tool_allowed("list_issues"));
    assert!(!gh.tool_allowed("list_prs"), "not in allow");
    assert!(!gh.tool_allowed("get_secret_key"), "deny wins over allow");
    let open = cfg.server("open").unwrap();
    assert!(
        open.tool_allowed("anything"),
        "no lists: everything allowed"
    );
    let aliases = cfg.server("aliases").unwrap();
    assert!(aliases.tool_allowed("read_file"));
    assert!(!aliases.tool_allowed("read_private"));
    assert!(!aliases.tool_allowed("write_file"));
    let gemini = cfg.server("gemini").unwrap();
    assert!(gemini.tool_allowed("ax") && !gemini.tool_allowed("ab") && !gemini.tool_allowed("b"));
}

#[test]
fn unknown_keys_are_kept_and_never_fatal() {
    let text = r#"{
        "mcpServers": {
            "s": {"command": "x", "autoApprove": ["t"], "myToolSetting": {"deep": [1, 2]},
                  "restart": {"max_restartz": 2}, "tools": {"alow": ["x"]}}
        },
        "someOtherToolsKey": true,
        "defaults": {"unknownDefault": 1}
    }"#;
    let cfg = json(text, &[]).unwrap();
    let s = cfg.server("s").unwrap();
    assert_eq!(
        s.extra.keys().map(String::as_str).collect::<Vec<_>>(),
        ["autoApprove", "myToolSetting"]
    );
    assert_eq!(s.extra["myToolSetting"]["deep"][1], 2);
}

#[test]
fn camel_case_spellings_and_auth_forms() {
    let text = r#"{"mcpServers": {
        "a": {"command": "x", "maxRequestTime": 5, "connectTimeout": "1500ms", "inheritEnv": true,
              "healthCheckSecs": 10, "restart": {"maxRestarts": 1}},
        "b": {"serverUrl": "https://b.test/mcp", "auth": "Bearer abc"},
        "c": {"httpUrl": "https://c.test/mcp", "auth": "oauth"},
        "d": {"url": "https://d.test/mcp", "auth": {"type": "oauth", "scopes": ["read"]}},
        "e": {"url": "https://e.test/mcp", "auth": {"token": "xyz"}}
    }}"#;
    let cfg = json(text, &[]).unwrap();
    let a = cfg.server("a").unwrap();
    assert_eq!(a.max_request_time, Some(Duration::from_secs(5)));
    assert_eq!(a.connect_timeout, Some(Duration::from_millis(1500)));
    assert_eq!(a.health_check, Some(Duration::from_secs(10)));
    assert_eq!(a.restart.max_restarts, Some(1));
    assert!(stdio(a).inherit_env);
    let remote = |n: &str| cfg.server(n).unwrap().remote().unwrap().clone();
    assert_eq!(remote("b").auth, Some(AuthConfig::Bearer("abc".into())));
    assert_eq!(remote("c").transport, RemoteTransport::StreamableHttp);
    assert!(matches!(remote("c").auth, Some(AuthConfig::OAuth(m)) if m.is_empty()));
    assert!(matches!(remote("d").auth, Some(AuthConfig::OAuth(m)) if m.contains_key("scopes")));
    assert_eq!(remote("e").auth, Some(AuthConfig::Bearer("xyz".into())));
    // An oauth table builds the OAuth provider into the HTTP config.
    for name in ["c", "d"] {
        let Source::Http(http) = cfg.server(name).unwrap().to_source().unwrap() else {
            panic!("{name}: not an HTTP source");
        };
        let shown = format!("{http:?}");
        assert!(shown.contains("auth: true"), "{shown}");
    }
    let bad = json(
        r#"{"mcpServers": {"x": {"url": "https://x.test/mcp", "auth": {"type": "oauth", "client_ip": "1"}}}}"#,
        &[],
    )
    .unwrap();
    let e = bad.server("x").unwrap().to_source().unwrap_err();
    let problem = e.as_config().expect("a config error");
    assert_eq!(problem.server.as_deref(), Some("x"), "{e}");
    assert_eq!(problem.field.as_deref(), Some("auth.client_ip"), "{e}");
    assert!(problem.reason.contains("unknown OAuth setting"), "{e}");
}

#[test]
fn server_names_with_dots_and_spaces_survive() {
    let text = r#"{"mcpServers": {"my.server": {"command": "a"}, "with space": {"command": "b"}}}"#;
    let cfg = json(text, &[("SWITCHBOARD__SERVERS__MY_SERVER__LAZY", "yes")]).unwrap();
    assert_eq!(cfg.names().collect::<Vec<_>>(), ["my.server", "with space"]);
    assert!(cfg.server("my.server").unwrap().lazy);
}

#[test]
fn debug_output_redacts_secrets() {
    let text = r#"{"mcpServers": {
        "s": {"command": "x", "env": {"TOKEN": "env-secret-1"}, "vendor": {"key": "extra-secret-2"}},
        "r": {"url": "https://r.test/mcp?api_key=url-secret-3", "headers": {"Authorization": "hdr-secret-4"},
              "auth": "auth-secret-5"}
    }}"#;
    let cfg = json(text, &[]).unwrap();
    let shown = format!("{cfg:?}");
    for secret in [
        "env-secret-1",
        "extra-secret-2",
        "url-secret-3",
        "hdr-secret-4",
        "auth-secret-5",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains("TOKEN") && shown.contains("Authorization"));
    assert!(matches!(
        cfg.server("s").unwrap().kind,
        ServerKind::Stdio(_)
    ));
}

/// A root given as a path becomes the same `file://` URI in a config file
/// as in a policy: relative to the file's folder, with spaces, `#`, `?`,
/// `%` and non-ASCII escaped (one builder, on `url`).
#[test]
fn path_roots_are_escaped_file_uris_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("servers.json");
    std::fs::write(
        &path,
        r#"{"mcpServers": {"a": {"command": "x", "roots": ["my docs/#1?%é", "/abs"]}}}"#,
    )
    .unwrap();
    let cfg = FleetConfig::from_path(&path).unwrap();
    let roots = &cfg.server("a").unwrap().roots;
    let expected = dir.path().join("my docs/#1?%é");
    assert_eq!(
        roots[0],
        switchboard::policy::root_uri(expected.to_str().unwrap()).unwrap()
    );
    assert!(
        roots[0].ends_with("/my%20docs/%231%3F%25%C3%A9"),
        "{}",
        roots[0]
    );
    assert_eq!(roots[1], "file:///abs");
}
