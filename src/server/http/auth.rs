//! Who may call the endpoint: bearer tokens, checked on every request to
//! the MCP path before anything else is read.
//!
//! A token passes when it is one of the static tokens given (compared by
//! SHA-256 digest, so the comparison's time tells nothing of the tokens),
//! or when it is a JWT the configured issuer signed for this resource
//! ([`JwtVerifier`]). A request without one, or with one that does not
//! pass, is answered 401 with `WWW-Authenticate: Bearer` naming the
//! protected resource metadata (RFC 9728), which the endpoint serves at
//! `/.well-known/oauth-protected-resource` + its path when an issuer is
//! configured, so that an OAuth client finds where to get a token.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::digest::{digest, SHA256};
use serde_json::json;

use crate::auth::JwtVerifier;

/// The path of the protected resource metadata, before the endpoint's own
/// path (RFC 9728 §3.1).
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// Who may call an endpoint (see the module docs). The default lets
/// everyone in.
#[derive(Clone, Default)]
pub struct InboundAuth {
    /// SHA-256 digests of the static tokens.
    tokens: Vec<[u8; 32]>,
    jwt: Option<Arc<JwtVerifier>>,
    resource: Option<String>,
    scopes: Vec<String>,
}

impl std::fmt::Debug for InboundAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundAuth")
            .field("tokens", &self.tokens.len())
            .field("jwt", &self.jwt)
            .field("resource", &self.resource)
            .finish()
    }
}

fn sha256(token: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    out
}

impl InboundAuth {
    /// Nobody is let in until tokens or an issuer are added.
    pub fn new() -> Self {
        InboundAuth::default()
    }

    /// Lets in requests bearing one of `tokens` (empty ones are ignored).
    pub fn bearer_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let digests = tokens
            .into_iter()
            .filter(|t| !t.as_ref().is_empty())
            .map(|t| sha256(t.as_ref()));
        self.tokens.extend(digests);
        self
    }

    /// Lets in requests bearing a JWT that `verifier` accepts, and serves
    /// the protected resource metadata naming its issuer.
    pub fn jwt(mut self, verifier: JwtVerifier) -> Self {
        self.jwt = Some(Arc::new(verifier));
        self
    }

    /// The resource's identifier, as the metadata and the audience of
    /// its tokens name it (its public URL, e.g.
    /// `https://mcp.example.com/mcp`). Default: `http://` + the request's
    /// `Host` + the endpoint's path.
    pub fn resource(mut self, url: impl Into<String>) -> Self {
        self.resource = Some(url.into());
        self
    }

    /// Scopes the metadata lists (`scopes_supported`). Default: none.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Whether it checks anything (tokens or an issuer were given).
    pub fn is_enabled(&self) -> bool {
        !self.tokens.is_empty() || self.jwt.is_some()
    }

    /// Whether the metadata is served (an issuer was given).
    pub(crate) fn serves_metadata(&self) -> bool {
        self.jwt.is_some()
    }

    fn resource_for(&self, headers: &HeaderMap, path: &str) -> String {
        match &self.resource {
            Some(r) => r.clone(),
            None => {
                let host = headers
                    .get(HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("localhost");
                format!("http://{host}{path}")
            }
        }
    }

    /// Where the metadata of `resource` is: its origin, then
    /// [`METADATA_PATH`], then its path.
    fn metadata_url(resource: &str) -> String {
        match url::Url::parse(resource) {
            Ok(url) => {
                let path = url.path().trim_end_matches('/');
                format!(
                    "{}{METADATA_PATH}{path}",
                    url.origin().ascii_serialization()
                )
            }
            Err(_) => METADATA_PATH.to_owned(),
        }
    }

    /// Checks one request's `Authorization`.
    async fn admits(&self, headers: &HeaderMap) -> Result<(), Denied> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(Denied::Missing);
        };
        let value = value
            .to_str()
            .map_err(|_| Denied::Invalid("unreadable".into()))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(Denied::Missing),
        };
        if self.tokens.contains(&sha256(token)) {
            return Ok(());
        }
        match &self.jwt {
            Some(verifier) => match verifier.verify(token).await {
                Ok(claims) => {
                    tracing::debug!(subject = ?claims.subject, "bearer token accepted");
                    Ok(())
                }
                Err(e) => Err(Denied::Invalid(e.to_string())),
            },
            None => Err(Denied::Invalid("not a token of this server".into())),
        }
    }

    /// The protected resource metadata for a request to `path`.
    pub(crate) fn metadata(&self, headers: &HeaderMap, path: &str) -> Response {
        let mut doc = json!({
            "resource": self.resource_for(headers, path),
            "bearer_methods_supported": ["header"],
        });
        if let Some(jwt) = &self.jwt {
            doc["authorization_servers"] = json!([jwt.issuer()]);
        }
        if !self.scopes.is_empty() {
            doc["scopes_supported"] = json!(self.scopes);
        }
        (
            StatusCode::OK,
            [(CONTENT_TYPE, "application/json")],
            doc.to_string(),
        )
            .into_response()
    }
}

/// Why a request was not let in.
enum Denied {
    Missing,
    Invalid(String),
}

/// The middleware: lets the request through or answers 401.
pub(crate) async fn check(
    State(guard): State<Arc<(InboundAuth, String)>>,
    request: Request,
    next: Next,
) -> Response {
    let (auth, path) = &*guard;
    match refusal(auth, request.headers(), path).await {
        None => next.run(request).await,
        Some(refused) => refused,
    }
}

/// `None` when `headers` pass `auth`, else the 401 to answer (for a
/// request to `path`).
pub(crate) async fn refusal(
    auth: &InboundAuth,
    headers: &HeaderMap,
    path: &str,
) -> Option<Response> {
    let denied = auth.admits(headers).await.err()?;
    let metadata = InboundAuth::metadata_url(&auth.resource_for(headers, path));
    let mut challenge = String::from("Bearer");
    if auth.serves_metadata() {
        challenge.push_str(&format!(" resource_metadata=\"{metadata}\""));
    }
    let message = match &denied {
        Denied::Missing => "a bearer token is required".to_owned(),
        Denied::Invalid(why) => {
            tracing::info!(reason = %why, "refused a bearer token");
            let why = why.replace(['"', '\\'], "'");
            challenge.push_str(&format!(
                ", error=\"invalid_token\", error_description=\"{why}\""
            ));
            format!("invalid bearer token: {why}")
        }
    };
    let body = json!({"jsonrpc": "2.0", "id": null,
        "error": {"code": crate::protocol::codes::INVALID_REQUEST, "message": message}});
    let mut response = (
        StatusCode::UNAUTHORIZED,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    Some(response)
}
