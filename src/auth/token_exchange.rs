//! Enterprise-managed authorization (SEP-990, "cross-app access"): the
//! Identity Assertion JWT Authorization Grant (ID-JAG,
//! draft-ietf-oauth-identity-assertion-authz-grant).
//!
//! The user signed in to the enterprise identity provider (IdP), which
//! gave the client an ID token. The client trades it at the IdP's token
//! endpoint (RFC 8693 token exchange) for an ID-JAG: a short-lived JWT
//! naming the user, the MCP server's authorization server (`audience`)
//! and the MCP server (`resource`). The client then presents the ID-JAG
//! to that authorization server as an RFC 7523 JWT-bearer grant and gets
//! an ordinary access token; no browser is involved.

use std::fmt;
use std::time::Duration;

use super::assertion::Assertion;
use super::http;
use super::registration::{authenticate, ClientAuth};
use super::store::ClientCredentials;
use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// `grant_type` of an RFC 8693 token exchange.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The token type of an OpenID Connect ID token (RFC 8693 §3).
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
/// The token type of an Identity Assertion JWT Authorization Grant.
pub const ID_JAG_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";

/// Where and how to get an ID-JAG: the identity provider's token
/// endpoint, the client's identity there, and the token that proves who
/// the user is (an ID token by default). Used with
/// [`super::Grant::IdJag`]; the client secret and the subject token are
/// never shown by `Debug`.
#[derive(Clone)]
pub struct TokenExchange {
    token_endpoint: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    subject_token: Assertion,
    subject_token_type: String,
}

impl fmt::Debug for TokenExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenExchange")
            .field("token_endpoint", &self.token_endpoint)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("subject_token", &self.subject_token)
            .field("subject_token_type", &self.subject_token_type)
            .finish()
    }
}

impl TokenExchange {
    /// Exchange `subject_token` (the user's ID token) at the identity
    /// provider's `token_endpoint` (`https`, or `http` to a loopback
    /// host).
    pub fn new(token_endpoint: impl Into<String>, subject_token: Assertion) -> TokenExchange {
        TokenExchange {
            token_endpoint: token_endpoint.into(),
            client_id: None,
            client_secret: None,
            subject_token,
            subject_token_type: ID_TOKEN_TYPE.to_owned(),
        }
    }

    /// The client's id at the identity provider (sent in the form, or
    /// with the secret as HTTP Basic).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The client's secret at the identity provider (HTTP Basic).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The subject token's type (default [`ID_TOKEN_TYPE`]; e.g.
    /// `urn:ietf:params:oauth:token-type:saml2` for a SAML assertion).
    pub fn subject_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.subject_token_type = token_type.into();
        self
    }

    /// The identity provider's token endpoint.
    pub fn token_endpoint(&self) -> &str {
        &self.token_endpoint
    }

    /// Asks the identity provider for an ID-JAG for the authorization
    /// server `audience` (its issuer) and the MCP server `resource`.
    pub(crate) async fn request_id_jag(
        &self,
        client: &reqwest::Client,
        audience: &str,
        resource: &str,
        scopes: &[String],
        deadline: Duration,
    ) -> Result<String> {
        let endpoint = http::checked_url(
            "the identity provider's token endpoint",
            &self.token_endpoint,
        )?;
        let subject = self.subject_token.read().await?;
        let mut form = id_jag_form(
            subject,
            &self.subject_token_type,
            audience,
            resource,
            scopes,
        );
        let headers = match &self.client_id {
            Some(id) => {
                let creds = ClientCredentials::new(id.clone(), self.client_secret.clone());
                let how = if self.client_secret.is_some() {
                    ClientAuth::Basic
                } else {
                    ClientAuth::None
                };
                authenticate(&creds, how, &mut form)
            }
            None => http::form_headers(),
        };
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = http::post(
            client,
            "token exchange",
            &endpoint,
            headers,
            http::form(&pairs),
            deadline,
        )
        .await?;
        if !reply.status.is_success() {
            return Err(Error::auth(
                AuthErrorKind::Token,
                format!(
                    "the identity provider refused the token exchange for an ID-JAG ({})",
                    reply.oauth_error()
                ),
            ));
        }
        let v = reply.json().ok_or_else(|| {
            Error::auth(
                AuthErrorKind::Token,
                "the token exchange response is not JSON",
            )
        })?;
        match v["issued_token_type"].as_str() {
            Some(ID_JAG_TOKEN_TYPE) => {}
            Some(other) => {
                return Err(Error::auth(
                    AuthErrorKind::Token,
                    format!("the identity provider issued a {other:?} token, not an ID-JAG"),
                ))
            }
            None => {
                return Err(Error::auth(
                    AuthErrorKind::Token,
                    "the token exchange response has no issued_token_type",
                ))
            }
        }
        v["access_token"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::auth(
                    AuthErrorKind::Token,
                    "the token exchange response has no access_token",
                )
            })
    }
}

/// The token exchange form (RFC 8693 §2.1) asking for an ID-JAG.
pub(crate) fn id_jag_form(
    subject_token: String,
    subject_token_type: &str,
    audience: &str,
    resource: &str,
    scopes: &[String],
) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("grant_type", TOKEN_EXCHANGE_GRANT.to_owned()),
        ("requested_token_type", ID_JAG_TOKEN_TYPE.to_owned()),
        ("audience", audience.to_owned()),
        ("resource", resource.to_owned()),
        ("subject_token", subject_token),
        ("subject_token_type", subject_token_type.to_owned()),
    ];
    if !scopes.is_empty() {
        form.push(("scope", scopes.join(" ")));
    }
    form
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exchange_asks_for_an_id_jag_for_the_authorization_server_and_resource() {
        let form = id_jag_form(
            "id.token.sig".into(),
            ID_TOKEN_TYPE,
            "https://as.example",
            "https://mcp.example/mcp",
            &["read".into(), "write".into()],
        );
        let get = |k: &str| {
            form.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.as_str())
                .unwrap()
        };
        assert_eq!(get("grant_type"), TOKEN_EXCHANGE_GRANT);
        assert_eq!(get("requested_token_type"), ID_JAG_TOKEN_TYPE);
        assert_eq!(get("subject_token_type"), ID_TOKEN_TYPE);
        assert_eq!(get("subject_token"), "id.token.sig");
        assert_eq!(get("audience"), "https://as.example");
        assert_eq!(get("resource"), "https://mcp.example/mcp");
        assert_eq!(get("scope"), "read write");
        let bare = id_jag_form("t".into(), ID_TOKEN_TYPE, "a", "r", &[]);
        assert!(!bare.iter().any(|(k, _)| *k == "scope"));
    }

    /// Each request's `Authorization` header and form body.
    type Seen = std::sync::Arc<std::sync::Mutex<Vec<(Option<String>, String)>>>;

    /// An identity provider's token endpoint answering `reply` (status,
    /// JSON) and recording each request.
    async fn idp(status: u16, reply: serde_json::Value) -> (String, Seen) {
        use axum::http::{HeaderMap, StatusCode};
        let seen: Seen = Default::default();
        let log = seen.clone();
        let app = axum::Router::new().route(
            "/token",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (log, reply) = (log.clone(), reply.clone());
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    log.lock().unwrap().push((auth, body));
                    (StatusCode::from_u16(status).unwrap(), axum::Json(reply))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{addr}/token"), seen)
    }

    async fn exchange(endpoint: &str, secret: Option<&str>) -> Result<String> {
        let mut tx =
            TokenExchange::new(endpoint, Assertion::value("id.token.sig")).client_id("idp-client");
        if let Some(s) = secret {
            tx = tx.client_secret(s);
        }
        tx.request_id_jag(
            &reqwest::Client::new(),
            "http://127.0.0.1:1",
            "http://127.0.0.1:2/mcp",
            &[],
            Duration::from_secs(5),
        )
        .await
    }

    #[tokio::test]
    async fn the_id_jag_comes_back_and_the_client_authenticates_at_the_idp() {
        let ok = serde_json::json!({
            "access_token": "the.id.jag", "issued_token_type": ID_JAG_TOKEN_TYPE, "token_type": "N_A"
        });
        let (endpoint, seen) = idp(200, ok.clone()).await;
        assert_eq!(exchange(&endpoint, None).await.unwrap(), "the.id.jag");
        assert_eq!(
            exchange(&endpoint, Some("s3cret")).await.unwrap(),
            "the.id.jag"
        );
        let seen = seen.lock().unwrap();
        let form = |i: usize| -> std::collections::HashMap<String, String> {
            url::form_urlencoded::parse(seen[i].1.as_bytes())
                .into_owned()
                .collect()
        };
        // A public client names itself in the form...
        assert_eq!(seen[0].0, None);
        assert_eq!(form(0)["client_id"], "idp-client");
        assert_eq!(form(0)["audience"], "http://127.0.0.1:1");
        assert_eq!(form(0)["resource"], "http://127.0.0.1:2/mcp");
        assert_eq!(form(0)["subject_token"], "id.token.sig");
        // ...a confidential one with HTTP Basic, its secret not in the form.
        assert!(seen[1].0.as_deref().unwrap().starts_with("Basic "));
        assert!(!form(1).contains_key("client_secret"));
    }

    #[tokio::test]
    async fn refusals_and_other_token_types_are_errors() {
        let (endpoint, _) = idp(
            400,
            serde_json::json!({"error": "invalid_grant", "error_description": "expired"}),
        )
        .await;
        let e = exchange(&endpoint, None).await.unwrap_err().to_string();
        assert!(e.contains("invalid_grant") && e.contains("expired"), "{e}");
        let access = serde_json::json!({
            "access_token": "x", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"
        });
        let (endpoint, _) = idp(200, access).await;
        let e = exchange(&endpoint, None).await.unwrap_err().to_string();
        assert!(e.contains("not an ID-JAG"), "{e}");
        let (endpoint, _) = idp(200, serde_json::json!({"access_token": "x"})).await;
        assert!(exchange(&endpoint, None).await.is_err());
        // Only https, or http to a loopback host.
        assert!(exchange("http://idp.example/token", None).await.is_err());
    }

    #[test]
    fn secrets_are_not_shown() {
        let tx = TokenExchange::new(
            "https://idp.example/token",
            Assertion::value("id.token.secret"),
        )
        .client_id("idp-client")
        .client_secret("hunter2");
        let shown = format!("{tx:?}");
        assert!(shown.contains("idp-client"), "{shown}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("id.token.secret"),
            "{shown}"
        );
    }
}
