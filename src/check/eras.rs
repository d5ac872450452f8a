//! Negotiation in each era to check, then the battery over each
//! connection that negotiated.

use crate::protocol::{Era, ProtocolVersion, VersionChoice};
use crate::transport::Source;
use crate::Client;

use super::checker::Checker;
use super::probe::Probe;
use super::report::{EraReport, Figures, Finding};
use super::{calls, caps, errors, lists, load, prompts, resources, tools, CheckOptions, EraChoice};

/// What negotiation found.
pub(super) struct Spoken {
    pub(super) eras: Vec<EraReport>,
    pub(super) name: Option<String>,
    pub(super) version: Option<String>,
}

fn versions(choice: EraChoice) -> Vec<ProtocolVersion> {
    match choice {
        EraChoice::Auto | EraChoice::Both => {
            vec![ProtocolVersion::LATEST, ProtocolVersion::LATEST_HANDSHAKE]
        }
        EraChoice::Exact(v) => vec![v],
    }
}

fn era_name(v: ProtocolVersion) -> &'static str {
    match v.era() {
        Era::Modern => "the stateless era (server/discover)",
        Era::Handshake => "the handshake era (initialize)",
    }
}

/// Connects in each era to check and runs the battery over each.
pub(super) async fn check(
    source: &Source,
    options: &CheckOptions,
    c: &mut Checker,
    figures: &mut Figures,
) -> Spoken {
    let mut spoken = Spoken {
        eras: Vec::new(),
        name: None,
        version: None,
    };
    let mut failures = Vec::new();
    let mut measured = false;
    for version in versions(options.eras) {
        c.era(Some(version.as_str()));
        c.ran("negotiation.connect");
        let connected = Client::builder(source.clone())
            .name("checked")
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .probe_timeout(options.timeout)
            .protocol(VersionChoice::Exact(version))
            .connect()
            .await;
        let client = match connected {
            Ok(client) => client,
            Err(e) => {
                spoken.eras.push(EraReport {
                    era: version.as_str().into(),
                    negotiated: None,
                    error: Some(e.to_string()),
                });
                failures.push((version, e));
                continue;
            }
        };
        let agreed = client.protocol_version().unwrap_or(version);
        spoken.eras.push(EraReport {
            era: version.as_str().into(),
            negotiated: Some(agreed.as_str().into()),
            error: None,
        });
        if let Some(info) = client.server_info() {
            spoken.name.get_or_insert(info.name.clone());
            spoken.version.get_or_insert(info.version.clone());
        }
        let probe = Probe {
            caps: client.capabilities().unwrap_or_default(),
            client,
            version: agreed,
        };
        battery(&probe, c, figures, !measured).await;
        measured = true;
        let _ = probe.client.close().await;
    }
    let none_spoken = spoken.eras.iter().all(|e| e.negotiated.is_none());
    for (version, e) in failures {
        c.era(Some(version.as_str()));
        let message = format!("does not negotiate {version}, {}: {e}", era_name(version));
        let finding = if none_spoken || options.eras != EraChoice::Auto {
            Finding::error("negotiation.connect", message)
                .rule("basic/lifecycle: the server answers initialize (handshake era) or server/discover (2026-07-28)")
                .fix("answer the opening request of the era; see the stderr lines above for why it failed")
        } else {
            Finding::note("negotiation.connect", message)
        };
        c.find(finding);
    }
    spoken
}

/// Every era's checks over one negotiated connection; `measure` also
/// runs the load checks (once per server).
async fn battery(p: &Probe, c: &mut Checker, figures: &mut Figures, measure: bool) {
    server_info(p, c);
    let lists = lists::fetch(p, c).await;
    caps::check(p, c, &lists.prompts, &lists.templates).await;
    tools::check(c, &lists.tools);
    calls::check(p, c, &lists.tools).await;
    resources::check(p, c, &lists.resources).await;
    resources::templates(c, &lists.templates);
    prompts::check(p, c, &lists.prompts).await;
    errors::check(p, c, &lists.tools).await;
    if measure {
        load::check(p, c, &lists.tools, figures).await;
    }
}

fn server_info(p: &Probe, c: &mut Checker) {
    c.ran("negotiation.server-info");
    let named = p
        .client
        .server_info()
        .is_some_and(|i| !i.name.is_empty() && i.name != "unknown");
    if !named {
        let rule = match p.era() {
            Era::Modern => "2026-07-28 server/discover: results carry serverInfo in _meta (io.modelcontextprotocol/serverInfo)",
            Era::Handshake => "basic/lifecycle: the initialize result carries serverInfo {name, version}",
        };
        c.find(
            Finding::warning(
                "negotiation.server-info",
                "the server does not say who it is",
            )
            .rule(rule)
            .fix("send serverInfo with your server's name and version"),
        );
    }
}
