//! Discovery: Protected Resource Metadata (RFC 9728), then the
//! authorization server's metadata (RFC 8414 and OpenID Connect Discovery,
//! in the MCP spec's order), with the issuer checked exactly. A server
//! with no PRM is treated as 2025-03-26: metadata at its origin, else the
//! default endpoints `/authorize`, `/token` and `/register`.

use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::http::{self, checked_url};
use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// Protected Resource Metadata (RFC 9728 §2), the fields we use.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourceMetadata {
    /// The protected resource's identifier.
    pub resource: String,
    /// Issuers of the authorization servers that protect it.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// Scopes the resource understands.
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
}

/// Authorization server metadata (RFC 8414 §2 / OIDC Discovery), the
/// fields the flow uses.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AuthServerMetadata {
    /// The issuer identifier.
    pub issuer: String,
    /// Where the user authorizes.
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// Where codes and refresh tokens are exchanged.
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// Dynamic client registration (RFC 7591).
    #[serde(default)]
    pub registration_endpoint: Option<String>,
    /// Scopes the server knows.
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    /// Grant types the server supports.
    #[serde(default)]
    pub grant_types_supported: Option<Vec<String>>,
    /// PKCE methods; absent means PKCE is not supported (we refuse).
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Client authentication methods at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the server puts `iss` in authorization responses.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// The server accepts Client ID Metadata Document URLs as client ids.
    #[serde(default)]
    pub client_id_metadata_document_supported: Option<bool>,
    /// Where its signing keys are published (a JWK Set), for checking
    /// the tokens it issues.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// DPoP proof algorithms the server accepts (RFC 9449 §5.1); present
    /// when it supports DPoP.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

/// What discovery found for one MCP server.
#[derive(Debug, Clone)]
pub(crate) struct Discovery {
    /// The `resource` parameter: the PRM's `resource` as published, or
    /// the canonical server URL when there is no PRM.
    pub(crate) resource: String,
    /// The PRM's `scopes_supported`.
    pub(crate) resource_scopes: Option<Vec<String>>,
    /// The chosen authorization server's issuer.
    pub(crate) issuer: String,
    /// Its metadata (`None`: 2025-03-26 default endpoints).
    pub(crate) metadata: Option<AuthServerMetadata>,
    pub(crate) authorization_endpoint: Url,
    pub(crate) token_endpoint: Url,
    pub(crate) registration_endpoint: Option<Url>,
}

/// The PRM locations to try, in order (RFC 9728 §3.1): path-inserted, then
/// the root.
pub fn resource_metadata_urls(server: &Url) -> Vec<Url> {
    let mut out = Vec::new();
    let path = server.path().trim_end_matches('/');
    let mut root = server.clone();
    root.set_query(None);
    root.set_fragment(None);
    if !path.is_empty() {
        let mut u = root.clone();
        u.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
        out.push(u);
    }
    root.set_path("/.well-known/oauth-protected-resource");
    out.push(root);
    out
}

/// The authorization server metadata locations for `issuer`, in the MCP
/// spec's order: for an issuer with a path, RFC 8414 path-inserted, OIDC
/// path-inserted, OIDC path-appended; without one, RFC 8414 then OIDC.
pub fn auth_server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let mut base = issuer.clone();
    base.set_query(None);
    base.set_fragment(None);
    let at = |p: String| {
        let mut u = base.clone();
        u.set_path(&p);
        u
    };
    if path.is_empty() {
        vec![
            at("/.well-known/oauth-authorization-server".into()),
            at("/.well-known/openid-configuration".into()),
        ]
    } else {
        vec![
            at(format!("/.well-known/oauth-authorization-server{path}")),
            at(format!("/.well-known/openid-configuration{path}")),
            at(format!("{path}/.well-known/openid-configuration")),
        ]
    }
}

/// The canonical URI of an MCP server (RFC 8707, MCP §Canonical Server
/// URI): lowercase scheme and host, no query or fragment, no trailing
/// slash.
pub fn canonical_resource(server: &Url) -> String {
    let mut u = server.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let s = u.to_string();
    s.trim_end_matches('/').to_owned()
}

/// True if a PRM `resource` may stand for the server at `server`: same
/// origin, and its path is the server's path or a parent of it.
pub fn resource_matches(resource: &str, server: &Url) -> bool {
    let Ok(r) = Url::parse(resource) else {
        return false;
    };
    if r.origin() != server.origin() || r.fragment().is_some() {
        return false;
    }
    let rp = r.path().trim_end_matches('/');
    let sp = server.path().trim_end_matches('/');
    sp == rp || sp.starts_with(&format!("{rp}/"))
}

/// The origin (`scheme://host[:port]`) of a URL: the 2025-03-26 issuer.
fn origin(server: &Url) -> String {
    server.origin().ascii_serialization()
}

/// Fetches a JSON document; `Ok(None)` for a 4xx (try the next place).
pub(crate) async fn fetch<T: for<'de> Deserialize<'de>>(
    client: &reqwest::Client,
    what: &str,
    url: &Url,
    deadline: Duration,
) -> Result<Option<T>> {
    let reply = http::get(client, what, url, deadline).await?;
    if reply.status.is_client_error() {
        tracing::debug!(url = %http::shown(url), status = %reply.status, "{what}: not here");
        return Ok(None);
    }
    if !reply.status.is_success() {
        return Err(Error::auth(
            AuthErrorKind::Discovery,
            format!("{what} ({}): HTTP {}", http::shown(url), reply.status),
        ));
    }
    serde_json::from_slice(&reply.body).map(Some).map_err(|e| {
        Error::auth(
            AuthErrorKind::Discovery,
            format!("{what} ({}): invalid document: {e}", http::shown(url)),
        )
    })
}

/// Finds the PRM: the challenge's `resource_metadata` first, then the
/// well-known locations.
async fn resource_metadata(
    client: &reqwest::Client,
    server: &Url,
    hint: Option<&str>,
    deadline: Duration,
) -> Result<Option<ResourceMetadata>> {
    let mut urls = Vec::new();
    if let Some(h) = hint {
        urls.push(checked_url("resource_metadata", h)?);
    }
    urls.extend(resource_metadata_urls(server));
    for url in urls {
        if let Some(prm) = fetch(client, "protected resource metadata", &url, deadline).await? {
            return Ok(Some(prm));
        }
    }
    Ok(None)
}

/// Fetches the metadata of `issuer`, keeping only a document whose
/// `issuer` is identical to it (unless `exact` is false: the 2025-03-26
/// lookup at the server's origin, where no issuer was named to compare
/// with).
pub(crate) async fn auth_server_metadata(
    client: &reqwest::Client,
    issuer: &str,
    exact: bool,
    deadline: Duration,
) -> Result<Option<AuthServerMetadata>> {
    let issuer_url = checked_url("authorization server issuer", issuer)?;
    let mut mismatch = None;
    for url in auth_server_metadata_urls(&issuer_url) {
        let Some(doc) =
            fetch::<AuthServerMetadata>(client, "authorization server metadata", &url, deadline)
                .await?
        else {
            continue;
        };
        if doc.issuer == issuer || !exact {
            return Ok(Some(doc));
        }
        tracing::warn!(url = %http::shown(&url), "authorization server metadata names another issuer; ignored");
        mismatch = Some(doc.issuer);
    }
    match mismatch {
        Some(other) => Err(Error::auth(
            AuthErrorKind::Unsafe,
            format!(
            "the authorization server metadata for {issuer} names issuer {other:?}; refusing it"
        ),
        )),
        None => Ok(None),
    }
}

/// Runs discovery for the MCP server at `server`. `hint` is the
/// challenge's `resource_metadata`; `preferred` an issuer to pick when
/// the PRM lists several (else the first).
pub(crate) async fn discover(
    client: &reqwest::Client,
    server: &Url,
    hint: Option<&str>,
    preferred: Option<&str>,
    deadline: Duration,
) -> Result<Discovery> {
    if let Some(prm) = resource_metadata(client, server, hint, deadline).await? {
        if !resource_matches(&prm.resource, server) {
            return Err(Error::auth(
                AuthErrorKind::Unsafe,
                format!(
                    "the protected resource metadata is for {:?}, not for this server ({})",
                    prm.resource,
                    canonical_resource(server)
                ),
            ));
        }
        let issuer = preferred
            .and_then(|p| prm.authorization_servers.iter().find(|i| i.as_str() == p))
            .or(prm.authorization_servers.first())
            .ok_or_else(|| {
                Error::auth(
                    AuthErrorKind::Discovery,
                    "the protected resource metadata lists no authorization server",
                )
            })?
            .clone();
        let metadata = auth_server_metadata(client, &issuer, true, deadline)
            .await?
            .ok_or_else(|| {
                Error::auth(
                    AuthErrorKind::Discovery,
                    format!("no authorization server metadata found for {issuer}"),
                )
            })?;
        let endpoint = |what: &str, v: &Option<String>| -> Result<Url> {
            let raw = v.as_deref().ok_or_else(|| {
                Error::auth(
                    AuthErrorKind::Discovery,
                    format!("the authorization server metadata has no {what}"),
                )
            })?;
            checked_url(what, raw)
        };
        return Ok(Discovery {
            resource: prm.resource.clone(),
            resource_scopes: prm.scopes_supported.clone(),
            authorization_endpoint: endpoint(
                "authorization_endpoint",
                &metadata.authorization_endpoint,
            )?,
            token_endpoint: endpoint("token_endpoint", &metadata.token_endpoint)?,
            registration_endpoint: metadata
                .registration_endpoint
                .as_deref()
                .map(|r| checked_url("registration_endpoint", r))
                .transpose()?,
            issuer,
            metadata: Some(metadata),
        });
    }
    // 2025-03-26: the authorization server lives at the server's origin.
    let origin = origin(server);
    tracing::debug!(%origin, "no protected resource metadata: using the 2025-03-26 discovery");
    let metadata = auth_server_metadata(client, &origin, false, deadline).await?;
    let base = checked_url("server origin", &origin)?;
    // The issuer the metadata names (recorded for the `iss` check), else
    // the origin.
    let issuer = metadata
        .as_ref()
        .map_or_else(|| origin.clone(), |m| m.issuer.clone());
    let default = |p: &str| {
        let mut u = base.clone();
        u.set_path(p);
        u
    };
    let pick = |what: &str, v: Option<&Option<String>>, p: &str| -> Result<Url> {
        match v.and_then(|v| v.as_deref()) {
            Some(raw) => checked_url(what, raw),
            None => Ok(default(p)),
        }
    };
    let m = metadata.as_ref();
    Ok(Discovery {
        resource: canonical_resource(server),
        resource_scopes: None,
        authorization_endpoint: pick(
            "authorization_endpoint",
            m.map(|m| &m.authorization_endpoint),
            "/authorize",
        )?,
        token_endpoint: pick("token_endpoint", m.map(|m| &m.token_endpoint), "/token")?,
        registration_endpoint: Some(pick(
            "registration_endpoint",
            m.map(|m| &m.registration_endpoint),
            "/register",
        )?),
        issuer,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn strings(v: Vec<Url>) -> Vec<String> {
        v.into_iter().map(|u| u.to_string()).collect()
    }

    #[test]
    fn prm_order_path_then_root() {
        assert_eq!(
            strings(resource_metadata_urls(&u(
                "https://h.example/public/mcp?x=1"
            ))),
            [
                "https://h.example/.well-known/oauth-protected-resource/public/mcp",
                "https://h.example/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            strings(resource_metadata_urls(&u("http://localhost:3000/"))),
            ["http://localhost:3000/.well-known/oauth-protected-resource"]
        );
    }

    #[test]
    fn as_metadata_order_with_and_without_path() {
        assert_eq!(
            strings(auth_server_metadata_urls(&u(
                "https://auth.example.com/tenant1"
            ))),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            strings(auth_server_metadata_urls(&u("https://auth.example.com"))),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn canonical_uris() {
        assert_eq!(
            canonical_resource(&u("HTTPS://MCP.Example.com/mcp/#frag")),
            "https://mcp.example.com/mcp"
        );
        assert_eq!(
            canonical_resource(&u("https://mcp.example.com")),
            "https://mcp.example.com"
        );
        assert_eq!(
            canonical_resource(&u("http://localhost:8080/mcp")),
            "http://localhost:8080/mcp"
        );
    }

    #[test]
    fn resource_must_cover_the_server() {
        let server = u("http://localhost:3000/mcp");
        assert!(resource_matches("http://localhost:3000/mcp", &server));
        assert!(resource_matches("http://localhost:3000", &server));
        assert!(resource_matches("http://localhost:3000/", &server));
        assert!(!resource_matches("https://evil.example.com/mcp", &server));
        assert!(!resource_matches("http://localhost:3001/mcp", &server));
        assert!(!resource_matches("http://localhost:3000/mcpx", &server));
        assert!(!resource_matches("http://localhost:3000/mcp/sub", &server));
    }
}
