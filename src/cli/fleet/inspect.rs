//! `inspect FILE`: the file's servers, then the merged lists.

use serde_json::{json, Value};

use super::Opened;
use crate::cli::args::Global;
use crate::cli::output;
use crate::fleet::ServerState;
use crate::Result;

/// `inspect FILE`: every server of the file in file order (disabled ones
/// as `disabled`), then the merged lists. Exits 3 when a server is down
/// or its breaker open, so it works as a health check.
pub(super) async fn inspect(global: &Global, opened: &Opened) -> Result<u8> {
    let fleet = &opened.fleet;
    let tools = fleet.list_tools().await;
    let prompts = fleet.list_prompts().await;
    let resources = fleet.list_resources().await;
    let health = fleet.health();
    let failed = health
        .iter()
        .any(|h| matches!(h.state, ServerState::Down | ServerState::BreakerOpen));
    let code = if failed { crate::cli::EXIT_CONNECT } else { 0 };
    if global.json {
        let servers: Vec<Value> = opened
            .servers
            .iter()
            .map(|(name, disabled)| match health.iter().find(|h| &h.name == name) {
                Some(h) => json!(h),
                None => json!({"name": name, "state": if *disabled { "disabled" } else { "not_started" }}),
            })
            .collect();
        let resources: Vec<Value> = resources
            .iter()
            .map(|(s, r)| json!({"server": s, "resource": r}))
            .collect();
        output::json(&json!({
            "servers": servers,
            "tools": tools,
            "prompts": prompts,
            "resources": resources,
        }));
        return Ok(code);
    }
    let rows: Vec<Vec<String>> = opened
        .servers
        .iter()
        .map(
            |(name, disabled)| match health.iter().find(|h| &h.name == name) {
                Some(h) => vec![
                    h.name.clone(),
                    h.state.to_string(),
                    h.restarts.to_string(),
                    // One row per server: the error's first line.
                    output::first_line(h.last_error.as_deref()),
                ],
                None => vec![
                    name.clone(),
                    if *disabled { "disabled" } else { "not_started" }.to_owned(),
                    "0".to_owned(),
                    String::new(),
                ],
            },
        )
        .collect();
    output::table(&["SERVER", "STATE", "RESTARTS", "LAST ERROR"], &rows);
    output::section(
        "tools",
        tools
            .iter()
            .map(|t| output::described(&t.name, t.description.as_deref())),
    );
    output::section(
        "prompts",
        prompts
            .iter()
            .map(|p| output::described(&p.name, p.description.as_deref())),
    );
    output::section(
        "resources",
        resources
            .iter()
            .map(|(server, r)| vec![r.uri.clone(), format!("{} ({server})", r.name)]),
    );
    Ok(code)
}
