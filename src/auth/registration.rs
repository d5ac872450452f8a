//! Who the client is at an authorization server: pre-registered
//! credentials, a Client ID Metadata Document URL, or a dynamic
//! registration (RFC 7591); and how it authenticates at the token endpoint
//! (`client_secret_basic`, `client_secret_post` or `none`).

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Url;
use serde_json::json;

use super::http;
use super::store::ClientCredentials;
use crate::error::AuthErrorKind;
use crate::{Error, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic with the form-encoded id and secret.
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
    /// A public client: `client_id` in the body, no secret.
    None,
    /// `private_key_jwt`: `client_id` in the body with a signed
    /// `client_assertion` (added by whoever holds the key).
    PrivateKeyJwt,
}

/// Picks the method: the one the server assigned at registration, else
/// from `token_endpoint_auth_methods_supported` (Basic, then Post, then
/// none); a client without a secret is public. An absent list means
/// `client_secret_basic` (RFC 8414 §2).
pub fn choose_client_auth(client: &ClientCredentials, supported: Option<&[String]>) -> ClientAuth {
    let has_secret = client
        .client_secret
        .as_deref()
        .is_some_and(|s| !s.is_empty());
    if !has_secret {
        return ClientAuth::None;
    }
    match client.token_endpoint_auth_method.as_deref() {
        Some("client_secret_basic") => return ClientAuth::Basic,
        Some("client_secret_post") => return ClientAuth::Post,
        Some("none") => return ClientAuth::None,
        _ => {}
    }
    let Some(list) = supported else {
        return ClientAuth::Basic;
    };
    let has = |m: &str| list.iter().any(|s| s == m);
    if has("client_secret_basic") {
        ClientAuth::Basic
    } else if has("client_secret_post") {
        ClientAuth::Post
    } else if has("none") {
        ClientAuth::None
    } else {
        ClientAuth::Basic
    }
}

/// Adds the client's authentication to a token request: a header, or
/// form fields.
pub(crate) fn authenticate(
    client: &ClientCredentials,
    how: ClientAuth,
    form: &mut Vec<(&'static str, String)>,
) -> HeaderMap {
    let mut headers = http::form_headers();
    let secret = client.client_secret.clone().unwrap_or_default();
    match how {
        ClientAuth::Basic => {
            // RFC 6749 §2.3.1: form-encode each part before base64.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let creds = format!("{}:{}", enc(&client.client_id), enc(&secret));
            if let Ok(mut v) =
                HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(creds.as_bytes())))
            {
                v.set_sensitive(true);
                headers.insert(AUTHORIZATION, v);
            }
        }
        ClientAuth::Post => {
            form.push(("client_id", client.client_id.clone()));
            form.push(("client_secret", secret));
        }
        ClientAuth::None | ClientAuth::PrivateKeyJwt => {
            form.push(("client_id", client.client_id.clone()))
        }
    }
    headers
}

/// What the client says about itself when registering.
#[derive(Debug, Clone)]
pub(crate) struct ClientMetadata {
    pub(crate) client_name: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: Option<String>,
    pub(crate) client_credentials: bool,
}

/// Registers dynamically (RFC 7591). The server's refusal is surfaced
/// with its `error` and `error_description`.
pub(crate) async fn register(
    client: &reqwest::Client,
    endpoint: &Url,
    meta: &ClientMetadata,
    deadline: Duration,
) -> Result<ClientCredentials> {
    let mut body = if meta.client_credentials {
        json!({
            "client_name": meta.client_name,
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic",
            "application_type": "native",
        })
    } else {
        json!({
            "client_name": meta.client_name,
            "redirect_uris": [meta.redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            // Localhost redirects: a native client (SEP-837).
            "application_type": "native",
        })
    };
    if let Some(scope) = &meta.scope {
        body["scope"] = json!(scope);
    }
    let bytes = serde_json::to_vec(&body)
        .map_err(|e| Error::auth(AuthErrorKind::Registration, e.to_string()))?;
    let reply = http::post(
        client,
        "client registration",
        endpoint,
        http::json_headers(),
        bytes,
        deadline,
    )
    .await?;
    if !reply.status.is_success() {
        return Err(Error::auth(
            AuthErrorKind::Registration,
            format!(
                "the authorization server refused to register this client ({})",
                reply.oauth_error()
            ),
        ));
    }
    let v = reply.json().ok_or_else(|| {
        Error::auth(
            AuthErrorKind::Registration,
            "client registration: the reply is not JSON",
        )
    })?;
    let client_id = v["client_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::auth(
                AuthErrorKind::Registration,
                "client registration: the reply has no client_id",
            )
        })?;
    Ok(ClientCredentials {
        client_id: client_id.to_owned(),
        client_secret: v["client_secret"].as_str().map(str::to_owned),
        token_endpoint_auth_method: v["token_endpoint_auth_method"].as_str().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(secret: Option<&str>, assigned: Option<&str>) -> ClientCredentials {
        ClientCredentials {
            client_id: "id".into(),
            client_secret: secret.map(str::to_owned),
            token_endpoint_auth_method: assigned.map(str::to_owned),
        }
    }

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn auth_method_choice() {
        let none = list(&["none"]);
        let post = list(&["client_secret_post"]);
        let both = list(&["client_secret_post", "client_secret_basic"]);
        assert_eq!(
            choose_client_auth(&with(None, None), Some(&both)),
            ClientAuth::None
        );
        assert_eq!(
            choose_client_auth(&with(Some("s"), None), Some(&none)),
            ClientAuth::None
        );
        assert_eq!(
            choose_client_auth(&with(Some("s"), None), Some(&post)),
            ClientAuth::Post
        );
        assert_eq!(
            choose_client_auth(&with(Some("s"), None), Some(&both)),
            ClientAuth::Basic
        );
        assert_eq!(
            choose_client_auth(&with(Some("s"), None), None),
            ClientAuth::Basic
        );
        assert_eq!(
            choose_client_auth(&with(Some("s"), Some("client_secret_post")), Some(&both)),
            ClientAuth::Post
        );
    }

    #[test]
    fn basic_credentials_are_form_encoded() {
        let mut form = Vec::new();
        let h = authenticate(&with(Some("p:ss"), None), ClientAuth::Basic, &mut form);
        assert!(form.is_empty());
        let v = h.get(AUTHORIZATION).unwrap();
        assert!(v.is_sensitive());
        assert_eq!(
            v.to_str().unwrap(),
            format!("Basic {}", STANDARD.encode(b"id:p%3Ass"))
        );
        let mut form = Vec::new();
        authenticate(&with(Some("s"), None), ClientAuth::Post, &mut form);
        assert_eq!(form.len(), 2);
    }
}
