//! The client the official MCP conformance suite drives
//! (`@modelcontextprotocol/conformance`, `client --command ...`).
//!
//! The suite starts a test server and runs this program with the server's
//! URL as the last argument and the scenario's name in
//! `MCP_CONFORMANCE_SCENARIO`. It uses only the public API: connect, list
//! and call every tool (arguments made up from each tool's input schema),
//! answer sampling with a fixed reply and elicitation by accepting the
//! form with its schema defaults filled in (SEP-1034), read every resource,
//! get every prompt; list skills (SEP-2640) and, in the skill verification
//! scenarios, load them through the verifying API, refusing any that fail.
//! Exit status 0 on success, 1 with a message otherwise.
//!
//! For the `auth/*` scenarios it authorizes with [`switchboard::auth::OAuth`]:
//! the headless handler (the suite's authorization server redirects at
//! once), credentials from `MCP_CONFORMANCE_CONTEXT` when the scenario
//! pre-registers a client, and the suite's Client ID Metadata Document URL.
//! When the context carries an identity provider's ID token it uses the
//! ID-JAG grant (enterprise-managed authorization); a workload JWT, the
//! JWT-bearer grant. DPoP is on: tokens are key-bound wherever the
//! authorization server advertises it.
//!
//! ```text
//! node .../conformance/dist/index.js client \
//!     --command "target/debug/examples/conformance_client" --scenario tools_call
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use switchboard::auth::{Assertion, Grant, HeadlessHandler, OAuthConfig, TokenExchange};
use switchboard::cli::ElicitationMode;
use switchboard::protocol::Tool;
use switchboard::sampling::SamplingBackend;
use switchboard::{Client, Sampler, Source};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(url) = std::env::args().skip(1).last() else {
        eprintln!("usage: conformance_client URL (scenario in MCP_CONFORMANCE_SCENARIO)");
        std::process::exit(2);
    };
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    match run(&url, &scenario).await {
        Ok(()) => eprintln!("conformance client: scenario {scenario:?} done"),
        Err(e) => {
            eprintln!("conformance client: scenario {scenario:?} failed: {e}");
            std::process::exit(1);
        }
    }
}

/// Arguments that satisfy a tool's required properties.
fn made_up_arguments(tool: &Tool) -> Value {
    let schema = serde_json::to_value(&tool.input_schema).unwrap_or_default();
    let props = schema.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut args = Map::new();
    for name in required {
        let prop = props.and_then(|p| p.get(name));
        let value = match prop.and_then(|p| p.get("default")) {
            Some(d) => d.clone(),
            None => match prop.and_then(|p| p.get("type")).and_then(Value::as_str) {
                Some("number") | Some("integer") => json!(1),
                Some("boolean") => json!(true),
                Some("array") => json!([]),
                Some("object") => json!({}),
                _ => json!("test"),
            },
        };
        args.insert(name.to_owned(), value);
    }
    Value::Object(args)
}

/// The OAuth provider for an `auth/*` scenario.
fn oauth(url: &str, scenario: &str, context: &Value) -> Result<Source, String> {
    let handler =
        HeadlessHandler::with_timeout(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let mut config = OAuthConfig::new()
        .client_name("switchboard-conformance-client")
        // The URL the suite expects as a metadata-document client id.
        .client_metadata_url("https://conformance-test.local/client-metadata.json")
        .redirect_uri("http://localhost:3000/callback")
        .handler(Arc::new(handler))
        // DPoP where the authorization server offers it (RFC 9449).
        .dpop(true)
        .timeout(Duration::from_secs(10));
    if let Some(id) = context["client_id"].as_str() {
        config = config.client_id(id);
    }
    if let Some(secret) = context["client_secret"].as_str() {
        config = config.client_secret(secret);
    }
    if let Some(pem) = context["private_key_pem"].as_str() {
        let key =
            switchboard::auth::SigningKey::from_pem(pem).map_err(|e| format!("oauth: {e}"))?;
        config = config.signing_key(key);
    }
    if let Some(issuer) = context["issuer"].as_str() {
        config = config.issuer(issuer);
    }
    if scenario.starts_with("auth/client-credentials") {
        config = config.grant(Grant::ClientCredentials);
    }
    // Enterprise-managed authorization: the IdP's ID token, exchanged
    // there for an ID-JAG.
    if let (Some(endpoint), Some(id_token)) = (
        context["idp_token_endpoint"].as_str(),
        context["idp_id_token"].as_str(),
    ) {
        let mut exchange = TokenExchange::new(endpoint, Assertion::value(id_token));
        if let Some(id) = context["idp_client_id"].as_str() {
            exchange = exchange.client_id(id);
        }
        config = config.grant(Grant::IdJag).token_exchange(exchange);
    }
    // Workload identity federation: the platform's JWT is the grant.
    if let Some(jwt) = context["valid_jwt"].as_str() {
        config = config
            .grant(Grant::JwtBearer)
            .assertion(Assertion::value(jwt));
    }
    let provider = config.build().map_err(|e| format!("oauth: {e}"))?;
    Ok(Source::http_with_auth(url, Arc::new(provider)))
}

async fn run(url: &str, scenario: &str) -> Result<(), String> {
    // Scenarios may name the calls to make (and their arguments), or
    // pre-registered credentials.
    let context: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default();
    let source = if scenario.starts_with("auth/") {
        oauth(url, scenario, &context)?
    } else {
        Source::http(url)
    };
    let client = Client::builder(source)
        .name("conformance")
        .client_info("switchboard-conformance-client", env!("CARGO_PKG_VERSION"))
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10))
        .probe_timeout(Duration::from_secs(5))
        // The actors answer: a fixed reply from the sampling actor, and
        // forms accepted with their defaults (SEP-1034) by the policy.
        .sampling(
            Sampler::builder(SamplingBackend::Text(
                "A reply from the conformance client.".into(),
            ))
            .start()
            .map_err(|e| format!("sampler: {e}"))?,
        )
        .elicitation(
            ElicitationMode::AcceptDefaults
                .policy()
                .map_err(|e| format!("policy: {e}"))?,
        )
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    eprintln!(
        "connected to {:?} using {:?} (scenario {scenario:?})",
        client.server_info().map(|i| i.name.clone()),
        client.protocol_version()
    );
    let caps = client.capabilities().unwrap_or_default();
    let planned: Vec<(String, Value)> = context["toolCalls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .filter_map(|c| {
                    Some((
                        c["name"].as_str()?.to_owned(),
                        c.get("arguments").cloned().unwrap_or(json!({})),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if caps.tools.is_some() || scenario == "initialize" {
        let tools = client
            .list_tools()
            .await
            .map_err(|e| format!("tools/list: {e}"))?;
        for (name, args) in &planned {
            match client.call_tool(name, args.clone()).await {
                Ok(out) => eprintln!("{name}: {}", out.text()),
                // A planned call may be meant to fail (e.g. a dropped tool).
                Err(e) => eprintln!("{name} {args}: {e}"),
            }
        }
        if scenario == "json-schema-2020-12-preservation" {
            // Echo the rich schema back through the echo tool, verbatim.
            let focal = tools
                .iter()
                .find(|t| t.name == "json_schema_2020_12_tool")
                .ok_or("no json_schema_2020_12_tool listed")?;
            let echo = tools
                .iter()
                .find(|t| t.name != focal.name)
                .ok_or("no echo tool listed")?;
            let schema = serde_json::to_value(&focal.input_schema).map_err(|e| e.to_string())?;
            client
                .call_tool(&echo.name, json!({ "schema": schema }))
                .await
                .map_err(|e| format!("tools/call {}: {e}", echo.name))?;
        } else if scenario != "initialize" && planned.is_empty() {
            for tool in &tools {
                let args = made_up_arguments(tool);
                // Some scenario servers only list tools: a failed call is
                // reported, not fatal (the suite's checks decide).
                match client.call_tool(&tool.name, args.clone()).await {
                    Ok(out) => eprintln!("{}: {}", tool.name, out.text()),
                    Err(e) => eprintln!("tools/call {} {args}: {e}", tool.name),
                }
            }
        }
    }
    if caps.resources.is_some() {
        for r in client
            .list_resources()
            .await
            .map_err(|e| format!("resources/list: {e}"))?
        {
            client
                .read_resource(&r.uri)
                .await
                .map_err(|e| format!("resources/read {}: {e}", r.uri))?;
        }
    }
    if client.has_skills() {
        skills(&client, scenario).await?;
    }
    if caps.prompts.is_some() {
        for p in client
            .list_prompts()
            .await
            .map_err(|e| format!("prompts/list: {e}"))?
        {
            let mut args = Map::new();
            for a in p.arguments.iter().flatten() {
                if a.required == Some(true) {
                    args.insert(a.name.clone(), json!("test"));
                }
            }
            client
                .get_prompt(&p.name, Value::Object(args))
                .await
                .map_err(|e| format!("prompts/get {}: {e}", p.name))?;
        }
    }
    client.close().await.map_err(|e| format!("close: {e}"))?;
    Ok(())
}

/// The skills extension (SEP-2640) as a host uses it: list the skills
/// (no file is read), and only when one is needed load it and read its
/// files, each verified against the listing. In the suite the
/// `sep-2640-client-verify-*` scenarios stand for "a skill is needed"; the
/// others only list. A skill that fails verification is refused (reported,
/// its content never used) and the client goes on: that is not a failure
/// of the client.
async fn skills(client: &Client, scenario: &str) -> Result<(), String> {
    let skills = client
        .list_skills()
        .await
        .map_err(|e| format!("skills/list: {e}"))?;
    for skill in &skills {
        eprintln!(
            "skill {}: {} ({})",
            skill.name().unwrap_or("?"),
            skill.description().unwrap_or(""),
            skill.uri
        );
    }
    if !scenario.starts_with("sep-2640-client-verify") {
        return Ok(());
    }
    for skill in &skills {
        let loaded = match client.load_skill(skill).await {
            Ok(loaded) => loaded,
            Err(e) if e.is_skill_verification() => {
                eprintln!("skill {} refused: {e}", skill.uri);
                continue;
            }
            Err(e) => return Err(format!("loading skill {}: {e}", skill.uri)),
        };
        eprintln!(
            "skill {} loaded ({} bytes of instructions)",
            skill.uri,
            loaded.instructions().len()
        );
        for file in skill.supporting_files() {
            match loaded.read_file(&file.uri).await {
                Ok(content) => eprintln!("  {}: {} bytes", content.uri(), content.bytes().len()),
                Err(e) if e.is_skill_verification() => eprintln!("  {} refused: {e}", file.uri),
                Err(e) => return Err(format!("reading {}: {e}", file.uri)),
            }
        }
    }
    Ok(())
}
