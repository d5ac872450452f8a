//! Agent definitions (`agents/*.toml`): the shipped examples read, and a
//! bad definition is an error that names the file and the field.

use std::time::Duration;

use switchboard::agent::{AgentDefinition, Provider};
use switchboard::config::ServerKind;
use switchboard::{Replay, ReplayPolicy};

fn agent_file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("agents")
        .join(name)
}

#[test]
fn the_shipped_researcher_reads() {
    let a = AgentDefinition::from_path(agent_file("researcher.toml")).expect("researcher");
    assert_eq!(a.name, "researcher");
    assert_eq!(a.model.provider, Provider::Openai);
    assert_eq!(a.model.temperature, Some(0.2));
    let names: Vec<&str> = a.servers.names().collect();
    assert_eq!(names, ["fetch", "memory"], "file order");
    match &a.servers.server("fetch").unwrap().kind {
        ServerKind::Stdio(s) => {
            assert_eq!(s.command, "uvx");
            assert_eq!(s.args, ["mcp-server-fetch"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(!a.tools.allows("memory_delete_entities"));
    assert!(a.tools.allows("memory_create_entities"));
    assert!(a.tools.allows("fetch_fetch"));
    assert_eq!(a.limits.max_steps, 12);
    assert_eq!(a.limits.max_tool_calls_per_step, 4);
    assert_eq!(a.limits.token_budget, Some(60000));
    assert_eq!(a.limits.deadline, Duration::from_secs(300));
    assert!(a.servers.elicitation.is_some());
}

#[test]
fn the_shipped_coder_reads_with_roots_relative_to_its_file() {
    let project = format!("file://{}", env!("CARGO_MANIFEST_DIR"));
    let a = AgentDefinition::from_path(agent_file("coder.toml")).expect("coder");
    let fs = a.servers.server("fs").unwrap();
    assert_eq!(
        fs.roots,
        std::slice::from_ref(&project),
        "`..` of agents/, named plainly"
    );
    // As `switchboard run agents/coder.toml` reads it: a relative path
    // (cargo runs tests in the package's directory).
    let relative = AgentDefinition::from_path("agents/coder.toml").expect("coder, relative");
    assert_eq!(relative.servers.server("fs").unwrap().roots, [project]);
    assert!(a.tools.allows("fs_read_text_file"));
    assert!(!a.tools.allows("fs_write_file"), "writes are left out");
    assert_eq!(a.model.max_tokens, Some(2000));
}

fn error_of(text: &str) -> String {
    match AgentDefinition::from_toml_str(text) {
        Ok(a) => panic!("expected an error, got {a:?}"),
        Err(e) => e.to_string(),
    }
}

const SERVER: &str = "[servers.a]\ncommand = \"srv\"\n";

#[test]
fn a_misspelt_limit_is_an_error_naming_the_field_and_line() {
    let e = error_of(&format!("name = \"x\"\n{SERVER}[limits]\nmax_step = 3\n"));
    assert!(e.contains("<toml>"), "{e}");
    assert!(e.contains("max_step"), "{e}");
    assert!(e.contains("line 5"), "{e}");
}

#[test]
fn bad_values_name_their_field() {
    let e = error_of(&format!(
        "name = \"x\"\n{SERVER}[model]\ntemperature = 3.5\n"
    ));
    assert!(e.contains("model.temperature") && e.contains("3.5"), "{e}");
    let e = error_of(&format!("name = \"x\"\n{SERVER}[limits]\nmax_steps = 0\n"));
    assert!(e.contains("limits.max_steps"), "{e}");
    let e = error_of(&format!(
        "name = \"x\"\n{SERVER}[limits]\ndeadline_secs = -1\n"
    ));
    assert!(e.contains("limits.deadline_secs"), "{e}");
    let e = error_of("name = \"x\"\n");
    assert!(e.contains("servers") && e.contains("no servers"), "{e}");
    let e = error_of(&format!("name = \"\"\n{SERVER}"));
    assert!(e.contains("field \"name\": must not be empty"), "{e}");
    let e = error_of("name = \"x\"\n[servers.a]\nurl = \"http://x\"\ncommand = \"y\"\n");
    assert!(
        e.contains("\"a\"") || e.contains("a:") || e.contains("server"),
        "{e}"
    );
    let e = error_of(&format!(
        "name = \"x\"\n{SERVER}[model]\nprovider = \"claude\"\n"
    ));
    assert!(
        e.contains("line 5") && e.contains("unknown variant `claude`"),
        "{e}"
    );
}

#[test]
fn servers_from_a_file_narrowed_by_use_servers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mcp.json"),
        r#"{"mcpServers": {"one": {"command": "a"}, "two": {"command": "b"}}}"#,
    )
    .unwrap();
    let agent = dir.path().join("agent.toml");
    std::fs::write(
        &agent,
        "name = \"x\"\nservers_file = \"mcp.json\"\nuse_servers = [\"two\"]\n",
    )
    .unwrap();
    let a = AgentDefinition::from_path(&agent).unwrap();
    assert_eq!(a.servers.names().collect::<Vec<_>>(), ["two"]);

    std::fs::write(
        &agent,
        "name = \"x\"\nservers_file = \"mcp.json\"\nuse_servers = [\"three\"]\n",
    )
    .unwrap();
    let e = AgentDefinition::from_path(&agent).unwrap_err().to_string();
    assert!(e.contains("agent.toml") && e.contains("use_servers"), "{e}");
    assert!(e.contains("\"three\"") && e.contains("one, two"), "{e}");
}

#[test]
fn the_tools_table_sets_the_replay_policy_of_distributed_runs() {
    let a = AgentDefinition::from_toml_str(&format!(
        "name = \"x\"\n{SERVER}[tools]\nreplay = \"always\"\nreplay_deny = [\"a_charge*\"]\n"
    ))
    .unwrap();
    let policy = a.tools.replay_policy();
    assert_eq!(
        policy,
        ReplayPolicy::new(Replay::Always).deny(["a_charge*"])
    );
    assert!(!policy.replays("a_charge_card", None));
    assert!(policy.replays("a_note", None));
    // Unset: safe.
    let a = AgentDefinition::from_toml_str(&format!("name = \"x\"\n{SERVER}")).unwrap();
    assert_eq!(a.tools.replay_policy(), ReplayPolicy::default());
    let e = error_of(&format!(
        "name = \"x\"\n{SERVER}[tools]\nreplay = \"twice\"\n"
    ));
    assert!(
        e.contains("unknown variant `twice`") && e.contains("line 5"),
        "{e}"
    );
}

/// A definition pushed to NATS names secrets the workers hold, not the
/// machine that pushes it: `check_for_elsewhere` (what `agents push` runs)
/// accepts a `${VAR}` unset here and still refuses every other mistake.
#[test]
fn a_definition_for_another_machine_may_name_variables_unset_here() {
    let text = |temperature: &str| {
        format!(
            "name = \"remote\"\n[model]\ntemperature = {temperature}\n\
             [servers.shared]\nurl = \"http://gateway.example:8931/mcp\"\n\
             auth = \"${{SWITCHBOARD_TEST_UNSET_TOKEN_4711}}\"\n"
        )
    };
    assert!(std::env::var_os("SWITCHBOARD_TEST_UNSET_TOKEN_4711").is_none());
    let here = AgentDefinition::from_toml_str(&text("0.2")).unwrap_err();
    assert!(
        here.to_string()
            .contains("SWITCHBOARD_TEST_UNSET_TOKEN_4711"),
        "{here}"
    );
    let elsewhere = AgentDefinition::check_for_elsewhere(&text("0.2")).expect("accepted");
    assert_eq!(elsewhere.name, "remote");
    let bad = AgentDefinition::check_for_elsewhere(&text("7")).unwrap_err();
    assert!(bad.to_string().contains("model.temperature"), "{bad}");
    let no_servers = AgentDefinition::check_for_elsewhere("name = \"x\"\n").unwrap_err();
    assert!(
        no_servers.to_string().contains("no servers"),
        "{no_servers}"
    );
}
