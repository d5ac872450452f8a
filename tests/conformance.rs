//! The official MCP conformance suite (`@modelcontextprotocol/conformance`,
//! pinned in `.ci/install-peers.sh`: 0.1.16 and the 0.2.0 alpha with the
//! 2026-07-28 scenarios) drives `examples/conformance_client` through each
//! client scenario it passes, the `auth/*` ones included (OAuth through
//! `switchboard::auth` with the headless handler) and those of the skills
//! extension (SEP-2640, through `Client::list_skills`/`load_skill`). The suite starts its
//! own test server (and authorization servers) on localhost for each
//! scenario.
//!
//! Needs the example built (`cargo test --all-targets` does; alone:
//! `cargo build --example conformance_client`), `SWITCHBOARD_CONFORMANCE`,
//! `SWITCHBOARD_CONFORMANCE_NEXT` and `SWITCHBOARD_NODE22` from
//! `. .peers/env.sh`.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The scenarios that pass today without authorization.
const SCENARIOS: [&str; 4] = [
    "initialize",
    "tools_call",
    "elicitation-sep1034-client-defaults",
    // Timing-sensitive (the reconnect must wait the server's 500 ms retry):
    // the scenarios run one at a time.
    "sse-retry",
];

/// The 0.2.0 alpha's scenarios without authorization, and the client
/// scenarios of the skills extension (SEP-2640): no file read before a
/// skill is loaded, and a skill whose `SKILL.md` fails digest, size or
/// frontmatter verification refused.
const NEXT_SCENARIOS: [&str; 15] = [
    "initialize",
    "tools_call",
    "elicitation-sep1034-client-defaults",
    "sse-retry",
    "request-metadata",
    "sep-2322-client-request-state",
    "http-standard-headers",
    "http-custom-headers",
    "http-invalid-tool-headers",
    "json-schema-ref-no-deref",
    "json-schema-2020-12-preservation",
    // Extension (io.modelcontextprotocol/skills).
    "sep-2640-client-no-prefetch",
    "sep-2640-client-verify-digest",
    "sep-2640-client-verify-size",
    "sep-2640-client-verify-frontmatter",
];

/// The 0.1.16 authorization scenarios, the extensions included.
const AUTH_SCENARIOS: [&str; 22] = [
    "auth/metadata-default",
    "auth/metadata-var1",
    "auth/metadata-var2",
    "auth/metadata-var3",
    "auth/basic-cimd",
    "auth/scope-from-www-authenticate",
    "auth/scope-from-scopes-supported",
    "auth/scope-omitted-when-undefined",
    "auth/scope-step-up",
    "auth/scope-retry-limit",
    "auth/token-endpoint-auth-basic",
    "auth/token-endpoint-auth-post",
    "auth/token-endpoint-auth-none",
    "auth/pre-registration",
    "auth/2025-03-26-oauth-metadata-backcompat",
    "auth/2025-03-26-oauth-endpoint-fallback",
    "auth/resource-mismatch",
    "auth/offline-access-scope",
    "auth/offline-access-not-supported",
    // Extension (oauth-client-credentials).
    "auth/client-credentials-basic",
    "auth/client-credentials-jwt",
    // Extension (enterprise-managed authorization): token exchange for an
    // ID-JAG, then the JWT-bearer grant.
    "auth/cross-app-access-complete-flow",
];

/// The 0.2.0 alpha's authorization scenarios: the 0.1.16 ones plus the
/// 2026-07-28 checks (issuer binding, RFC 9207 `iss`, AS migration), the
/// extensions included.
const NEXT_AUTH_SCENARIOS: [&str; 33] = [
    "auth/metadata-default",
    "auth/metadata-var1",
    "auth/metadata-var2",
    "auth/metadata-var3",
    "auth/basic-cimd",
    "auth/scope-from-www-authenticate",
    "auth/scope-from-scopes-supported",
    "auth/scope-omitted-when-undefined",
    "auth/scope-step-up",
    "auth/scope-retry-limit",
    "auth/token-endpoint-auth-basic",
    "auth/token-endpoint-auth-post",
    "auth/token-endpoint-auth-none",
    "auth/pre-registration",
    "auth/2025-03-26-oauth-metadata-backcompat",
    "auth/2025-03-26-oauth-endpoint-fallback",
    "auth/resource-mismatch",
    "auth/offline-access-scope",
    "auth/offline-access-not-supported",
    "auth/authorization-server-migration",
    "auth/iss-supported",
    "auth/iss-not-advertised",
    "auth/iss-supported-missing",
    "auth/iss-wrong-issuer",
    "auth/iss-unexpected",
    "auth/iss-normalized",
    "auth/metadata-issuer-mismatch",
    // Extension (oauth-client-credentials).
    "auth/client-credentials-basic",
    "auth/client-credentials-jwt",
    // Extension (enterprise-managed authorization): token exchange for an
    // ID-JAG, then the JWT-bearer grant.
    "auth/enterprise-managed-authorization",
    // Extension (workload identity federation): RFC 7523 JWT-bearer grant.
    "auth/wif-jwt-bearer",
    // Extension (DPoP, RFC 9449): key-bound tokens, a proof on the token
    // request and on each MCP request; then with the servers' nonces.
    "auth/dpop",
    "auth/dpop-nonce",
];

#[test]
fn client_scenarios_pass() {
    run_scenarios(
        &common::conformance_suite("SWITCHBOARD_CONFORMANCE", "conformance"),
        &SCENARIOS,
    );
}

#[test]
fn next_client_scenarios_pass() {
    run_scenarios(
        &common::conformance_suite("SWITCHBOARD_CONFORMANCE_NEXT", "conformance-next"),
        &NEXT_SCENARIOS,
    );
}

#[test]
fn auth_scenarios_pass() {
    run_scenarios(
        &common::conformance_suite("SWITCHBOARD_CONFORMANCE", "conformance"),
        &AUTH_SCENARIOS,
    );
}

#[test]
fn next_auth_scenarios_pass() {
    run_scenarios(
        &common::conformance_suite("SWITCHBOARD_CONFORMANCE_NEXT", "conformance-next"),
        &NEXT_AUTH_SCENARIOS,
    );
}

/// Every client scenario each pinned suite lists is run above: a suite
/// upgrade that adds one fails here until it is added (and passes).
#[test]
fn every_listed_client_scenario_is_run() {
    let node = common::node22();
    let suites: [(&str, &str, Vec<&str>); 2] = [
        (
            "SWITCHBOARD_CONFORMANCE",
            "conformance",
            SCENARIOS.iter().chain(&AUTH_SCENARIOS).copied().collect(),
        ),
        (
            "SWITCHBOARD_CONFORMANCE_NEXT",
            "conformance-next",
            NEXT_SCENARIOS
                .iter()
                .chain(&NEXT_AUTH_SCENARIOS)
                .copied()
                .collect(),
        ),
    ];
    for (var, dir, run) in suites {
        let out = Command::new(&node)
            .arg(common::conformance_suite(var, dir))
            .arg("list")
            .output()
            .expect("list the conformance scenarios");
        let listing = String::from_utf8_lossy(&out.stdout);
        // "Client scenarios (test against a client):" then "  - name [versions]"
        // lines, up to the next section.
        let listed: Vec<&str> = listing
            .lines()
            .skip_while(|l| !l.starts_with("Client scenarios"))
            .skip(1)
            .take_while(|l| l.trim_start().starts_with("- "))
            .filter_map(|l| l.trim_start().strip_prefix("- "))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert!(
            listed.len() >= 20,
            "{dir}: could not read the client scenarios from `list`:\n{listing}"
        );
        let missing: Vec<&&str> = listed.iter().filter(|s| !run.contains(s)).collect();
        assert!(
            missing.is_empty(),
            "{dir} lists client scenarios this file does not run: {missing:?}"
        );
        let unknown: Vec<&&str> = run.iter().filter(|s| !listed.contains(s)).collect();
        assert!(
            unknown.is_empty(),
            "{dir} does not list scenarios this file runs: {unknown:?}"
        );
    }
}

/// Runs the scenarios one at a time (sse-retry measures timing).
fn run_scenarios(suite: &Path, scenarios: &[&str]) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let node = common::node22();
    let client = common::example_binary("conformance_client");
    let mut failed = Vec::new();
    for &scenario in scenarios {
        let started = Instant::now();
        let out = Command::new(&node)
            .arg(suite)
            .args(["client", "--command"])
            .arg(&client)
            .args(["--scenario", scenario, "--timeout", "30000"])
            .env("RUST_LOG", "warn")
            .output()
            .expect("run the conformance suite");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let summary: Vec<&str> = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| l.contains("Passed:") || l.contains("OVERALL"))
            .collect();
        eprintln!(
            "{scenario}: {} in {:?}",
            summary.join(" | "),
            started.elapsed()
        );
        if !out.status.success() {
            failed.push(format!("{scenario}:\n{stdout}\n{stderr}"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{scenario} took too long"
        );
    }
    assert!(
        failed.is_empty(),
        "failed scenarios:\n{}",
        failed.join("\n")
    );
}
