//! Era negotiation: probe `server/discover` and adopt 2026-07-28, else fall
//! back to the `initialize` handshake at the newest revision the server
//! accepts (CLIENT_CHECKLIST A3, B1).

use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::era_cache;
use super::outgoing::{ModernIdentity, NoParams};
use super::{decode, CallOptions, MetaMode, Negotiated, ServerState, Session, Target};
use crate::protocol::version::meta;
use crate::protocol::{
    codes, DiscoverResult, Era, Implementation, InitializeResult, ProtocolVersion, VersionChoice,
};
use crate::{Error, Result};

fn raw(v: &impl serde::Serialize) -> Result<Box<RawValue>> {
    serde_json::value::to_raw_value(v).map_err(|e| Error::Encode(e.to_string()))
}

fn client_info(session: &Session) -> Value {
    let o = &session.shared().options;
    json!({"name": o.client_name, "version": o.client_version})
}

fn known(versions: &[String]) -> Vec<ProtocolVersion> {
    let mut v: Vec<ProtocolVersion> = versions
        .iter()
        .filter_map(|s| ProtocolVersion::parse(s))
        .collect();
    v.sort_by(|a, b| b.cmp(a));
    v
}

fn ours() -> Vec<String> {
    ProtocolVersion::ALL
        .iter()
        .map(|v| v.as_str().to_owned())
        .collect()
}

/// Runs negotiation per the session's [`VersionChoice`]. In auto mode, an
/// origin known (in this process) to speak the handshake era skips the
/// `server/discover` probe; if that assumption fails, it is forgotten and
/// the server probed again.
pub(super) async fn negotiate(session: &Session) -> Result<Negotiated> {
    let negotiated = match session.shared().options.version {
        VersionChoice::Exact(v) if v.era() == Era::Modern => {
            return discover(session, v, false).await
        }
        VersionChoice::Exact(v) => return initialize(session, v, true).await,
        VersionChoice::Auto => auto(session).await,
    };
    // Only what the probe found: a version asked for by name says nothing
    // of what the server would pick (a both-era server would otherwise be
    // taken for a handshake-only one by every later auto connection).
    if let (Ok(n), Some(key)) = (&negotiated, session.era_key()) {
        let era = if n.modern.is_some() {
            Era::Modern
        } else {
            Era::Handshake
        };
        era_cache::put(&key, era);
    }
    negotiated
}

async fn auto(session: &Session) -> Result<Negotiated> {
    let key = session.era_key();
    if let Some(key) = &key {
        if era_cache::get(key) == Some(Era::Handshake) {
            tracing::debug!(server = %session.name(), origin = %key, "known handshake-era server: no discover probe");
            match initialize(session, ProtocolVersion::LATEST_HANDSHAKE, false).await {
                Ok(n) => return Ok(n),
                Err(e) if e.is_connection_lost() => return Err(e),
                Err(e) => {
                    tracing::debug!(server = %session.name(), origin = %key, error = %e, "the cached era failed; probing again");
                    era_cache::forget(key);
                }
            }
        }
    }
    discover(session, ProtocolVersion::LATEST, true).await
}

/// The outcome of a discover attempt that did not settle the era.
async fn discover(
    session: &Session,
    version: ProtocolVersion,
    fall_back: bool,
) -> Result<Negotiated> {
    let identity = ModernIdentity {
        version,
        capabilities: raw(&session.client_capabilities(Era::Modern))?,
        client_info: raw(&client_info(session))?,
    };
    let probe = session.shared().options.probe_timeout;
    let call = CallOptions::new().timeout(probe).max_time(probe);
    let reply = session
        .request_bytes(
            "server/discover",
            Target::default(),
            &NoParams {},
            Some(&call),
            MetaMode::Modern(&identity),
        )
        .await;
    match reply {
        Ok(bytes) => {
            // A legacy server that answers any method with some result
            // (e.g. `{}`) has not said it is modern (A3).
            let result = decode::<DiscoverResult>("server/discover", &bytes)
                .ok()
                .filter(|r| !r.supported_versions.is_empty());
            let result = match result {
                Some(r) => r,
                None if fall_back => {
                    tracing::debug!(server = %session.name(), "discover answered without supportedVersions; using the initialize handshake");
                    return initialize(session, ProtocolVersion::LATEST_HANDSHAKE, false).await;
                }
                None => decode("server/discover", &bytes)?,
            };
            let mutual = known(&result.supported_versions);
            if result
                .supported_versions
                .iter()
                .any(|v| v == version.as_str())
            {
                tracing::debug!(server = %session.name(), %version, "server speaks the stateless era");
                let server_info = result
                    .meta
                    .as_ref()
                    .and_then(|m| m.get(meta::SERVER_INFO))
                    .and_then(|v| serde_json::from_value::<Implementation>(v.clone()).ok())
                    .unwrap_or_else(unnamed_server);
                return Ok(Negotiated {
                    state: ServerState {
                        version,
                        server_info,
                        capabilities: result.capabilities,
                        instructions: result.instructions,
                    },
                    modern: Some(identity),
                });
            }
            pick_other(session, mutual, &result.supported_versions, version, false).await
        }
        Err(Error::Protocol {
            code,
            data,
            message,
        }) if code == codes::UNSUPPORTED_PROTOCOL_VERSION => {
            let supported: Vec<String> = data
                .as_ref()
                .and_then(|d| d.get("supported"))
                .and_then(|s| serde_json::from_value(s.clone()).ok())
                .unwrap_or_default();
            tracing::debug!(server = %session.name(), ?supported, %message, "server wants another version");
            // A server may reject a version it lists (e.g. a header it did
            // not like): the first such rejection is retried once as is.
            pick_other(session, known(&supported), &supported, version, fall_back).await
        }
        Err(e) if e.is_connection_lost() || matches!(e, Error::Encode(_) | Error::Io(_)) => Err(e),
        Err(Error::Protocol {
            code,
            message,
            data,
        }) if codes::is_modern_only(code) => Err(Error::Protocol {
            code,
            message,
            data,
        }),
        Err(e) if fall_back => {
            tracing::debug!(server = %session.name(), error = %e, "no stateless-era answer; using the initialize handshake");
            initialize(session, ProtocolVersion::LATEST_HANDSHAKE, false).await
        }
        Err(e) => Err(e),
    }
}

async fn pick_other(
    session: &Session,
    mutual: Vec<ProtocolVersion>,
    offered: &[String],
    tried: ProtocolVersion,
    retry_same: bool,
) -> Result<Negotiated> {
    if retry_same && tried.era() == Era::Modern && mutual.contains(&tried) {
        return Box::pin(discover(session, tried, false)).await;
    }
    match mutual.iter().copied().find(|v| *v != tried) {
        Some(v) if v.era() == Era::Modern => Box::pin(discover(session, v, false)).await,
        Some(v) => initialize(session, v, false).await,
        None => Err(Error::UnsupportedVersion {
            server: offered.to_vec(),
            client: ours(),
        }),
    }
}

fn unnamed_server() -> Implementation {
    serde_json::from_value(json!({"name": "unknown", "version": ""})).unwrap_or_default()
}

pub(super) async fn initialize(
    session: &Session,
    version: ProtocolVersion,
    exact: bool,
) -> Result<Negotiated> {
    let params = json!({
        "protocolVersion": version.as_str(),
        "capabilities": session.client_capabilities(Era::Handshake),
        "clientInfo": client_info(session),
    });
    let bytes = match session
        .request_bytes(
            "initialize",
            Target::default(),
            &params,
            None,
            MetaMode::Bare,
        )
        .await
    {
        Ok(b) => b,
        // Some servers reject an unknown version instead of countering it.
        Err(Error::Protocol {
            code,
            message,
            data,
        }) if !exact && data.as_ref().and_then(|d| d.get("supported")).is_some() => {
            let supported: Vec<String> = data
                .as_ref()
                .and_then(|d| d.get("supported"))
                .and_then(|s| serde_json::from_value(s.clone()).ok())
                .unwrap_or_default();
            return match known(&supported).into_iter().find(|v| *v != version) {
                Some(v) if v.era() == Era::Handshake => {
                    Box::pin(initialize(session, v, true)).await
                }
                Some(v) => Box::pin(discover(session, v, false)).await,
                None => Err(Error::Protocol {
                    code,
                    message,
                    data,
                }),
            };
        }
        Err(e) => return Err(e),
    };
    let result: InitializeResult = decode("initialize", &bytes)?;
    let agreed = match ProtocolVersion::parse(&result.protocol_version) {
        Some(v) if v.era() == Era::Handshake => v,
        _ => {
            return Err(Error::UnsupportedVersion {
                server: vec![result.protocol_version.clone()],
                client: ours(),
            })
        }
    };
    if agreed != version {
        tracing::info!(server = %session.name(), asked = %version, agreed = %agreed, "server countered with another revision");
    }
    session
        .notify_as::<Value>("notifications/initialized", None, Some(agreed))
        .await?;
    tracing::debug!(server = %session.name(), version = %agreed, "initialized");
    Ok(Negotiated {
        state: ServerState {
            version: agreed,
            server_info: result.server_info,
            capabilities: result.capabilities,
            instructions: result.instructions,
        },
        modern: None,
    })
}
