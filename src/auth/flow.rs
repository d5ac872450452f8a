//! The authorization code flow's pure parts and its token requests:
//! scope selection, the authorization URL (PKCE S256, `state`,
//! `resource`), checking the redirect (`state`, RFC 9207 `iss`), and the
//! token endpoint calls (code, refresh, client credentials).

use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::Url;

use super::dpop::{Dpop, DPOP_HEADER};
use super::http;
use super::jwt::{SigningKey, JWT_BEARER};
use super::metadata::AuthServerMetadata;
use super::pkce::Pkce;
use super::registration::{authenticate, ClientAuth};
use super::store::{now_secs, ClientCredentials, Tokens};
use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// The scopes to ask for first (MCP §Scope Selection Strategy): the
/// challenge's `scope`, else the PRM's `scopes_supported`, else the
/// configured ones, else none (the parameter is omitted). `offline_access`
/// is added when the authorization server lists it, so a refresh token
/// may be issued.
pub fn select_scopes(
    challenge: &[String],
    resource_scopes: Option<&[String]>,
    configured: &[String],
    server_scopes: Option<&[String]>,
) -> Vec<String> {
    let mut out: Vec<String> = if !challenge.is_empty() {
        challenge.to_vec()
    } else if let Some(s) = resource_scopes.filter(|s| !s.is_empty()) {
        s.to_vec()
    } else {
        configured.to_vec()
    };
    let offline = "offline_access";
    if !out.is_empty()
        && !out.iter().any(|s| s == offline)
        && server_scopes.is_some_and(|s| s.iter().any(|x| x == offline))
    {
        out.push(offline.to_owned());
    }
    out
}

/// `a` plus the scopes of `b` it lacks, in order.
pub fn union_scopes(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for s in b {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// An authorization request on its way: what is needed to check the
/// redirect and to redeem the code. Holds the PKCE verifier: no `Debug`.
pub(crate) struct Pending {
    pub(crate) url: Url,
    pub(crate) state: String,
    pub(crate) pkce: Pkce,
    pub(crate) issuer: String,
    pub(crate) iss_required: bool,
    pub(crate) redirect_uri: String,
}

/// Builds the authorization URL. Refuses an authorization server whose
/// metadata does not list `S256` in `code_challenge_methods_supported`
/// (an absent list included); with no metadata at all (2025-03-26 default
/// endpoints) S256 is used as the spec requires.
#[allow(clippy::too_many_arguments)]
pub(crate) fn authorization_request(
    endpoint: &Url,
    metadata: Option<&AuthServerMetadata>,
    issuer: &str,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[String],
    resource: &str,
) -> Result<Pending> {
    if let Some(m) = metadata {
        let s256 = m
            .code_challenge_methods_supported
            .as_deref()
            .is_some_and(|l| l.iter().any(|x| x == "S256"));
        if !s256 {
            return Err(Error::auth(AuthErrorKind::Unsafe, format!(
                "the authorization server {issuer} does not advertise PKCE S256 (code_challenge_methods_supported); refusing to authorize"
            )));
        }
    }
    let pkce = Pkce::new()?;
    let state = super::pkce::random_string(32)?;
    let mut url = endpoint.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_challenge", pkce.challenge())
            .append_pair("code_challenge_method", pkce.method())
            .append_pair("state", &state)
            .append_pair("resource", resource);
        if !scopes.is_empty() {
            q.append_pair("scope", &scopes.join(" "));
        }
    }
    Ok(Pending {
        url,
        state,
        pkce,
        issuer: issuer.to_owned(),
        iss_required: metadata
            .and_then(|m| m.authorization_response_iss_parameter_supported)
            .unwrap_or(false),
        redirect_uri: redirect_uri.to_owned(),
    })
}

/// Checks the redirect the user agent came back with and returns the
/// code. RFC 9207 first: a present `iss` must equal the recorded issuer
/// byte for byte, and must be present when the server advertised it; on
/// a mismatch the response's `error` is neither acted on nor shown. Then
/// `state`, then `error`, then `code`.
pub(crate) fn check_redirect(
    redirect: &str,
    state: &str,
    issuer: &str,
    iss_required: bool,
) -> Result<String> {
    let url = Url::parse(redirect).map_err(|e| {
        Error::auth(
            AuthErrorKind::Consent,
            format!("the authorization redirect is not a URL: {e}"),
        )
    })?;
    let get = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    match get("iss") {
        Some(iss) if iss != issuer => {
            return Err(Error::auth(AuthErrorKind::Unsafe, format!(
                "the authorization response came from issuer {iss:?}, expected {issuer:?} (possible mix-up attack); refusing it"
            )))
        }
        None if iss_required => {
            return Err(Error::auth(AuthErrorKind::Unsafe,
                "the authorization server advertises the iss parameter but its response has none; refusing it",
            ))
        }
        _ => {}
    }
    if get("state").as_deref() != Some(state) {
        return Err(Error::auth(
            AuthErrorKind::Unsafe,
            "the authorization response's state does not match the request",
        ));
    }
    if let Some(error) = get("error") {
        let desc = get("error_description")
            .map(|d| format!(": {}", d.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        return Err(Error::auth(
            AuthErrorKind::Consent,
            format!("authorization was refused: {error}{desc}"),
        ));
    }
    get("code").filter(|c| !c.is_empty()).ok_or_else(|| {
        Error::auth(
            AuthErrorKind::Consent,
            "the authorization response has no code",
        )
    })
}

/// What a token request signs afresh at each attempt (a retried request
/// must not replay a `jti`).
#[derive(Clone, Copy, Default)]
pub(crate) struct Signers<'a> {
    /// `private_key_jwt`: the client's key and the assertion's audience.
    pub(crate) client_key: Option<(&'a SigningKey, &'a str)>,
    /// DPoP proofs for the token endpoint.
    pub(crate) dpop: Option<&'a Dpop>,
}

/// Calls the token endpoint with `form` (plus client authentication) and
/// reads the tokens. `previous_refresh` is kept when the server issues no
/// new refresh token. With a DPoP signer, each attempt carries a fresh
/// proof, and a `use_dpop_nonce` refusal with a `DPoP-Nonce` is retried
/// once with that nonce (RFC 9449 §8); each attempt has the deadline.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn token_request(
    client: &reqwest::Client,
    endpoint: &Url,
    mut form: Vec<(&'static str, String)>,
    credentials: &ClientCredentials,
    how: ClientAuth,
    previous_refresh: Option<String>,
    deadline: Duration,
    signers: Signers<'_>,
) -> Result<Tokens> {
    let headers = authenticate(credentials, how, &mut form);
    let grant = form
        .iter()
        .find(|(k, _)| *k == "grant_type")
        .map(|(_, v)| v.to_string())
        .unwrap_or_default();
    let dpop = signers.dpop;
    let mut retried = false;
    let reply = loop {
        let mut form = form.clone();
        if let Some((key, audience)) = signers.client_key {
            form.push(("client_assertion_type", JWT_BEARER.to_owned()));
            form.push((
                "client_assertion",
                key.client_assertion(&credentials.client_id, audience)?,
            ));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = http::form(&pairs);
        let mut headers = headers.clone();
        if let Some(dpop) = dpop {
            let proof =
                HeaderValue::from_str(&dpop.proof("POST", endpoint, None)?).map_err(|_| {
                    Error::auth(
                        AuthErrorKind::Credentials,
                        "the DPoP proof is not a header value",
                    )
                })?;
            headers.insert(DPOP_HEADER, proof);
        }
        let reply = http::post(client, "token request", endpoint, headers, body, deadline).await?;
        let (Some(dpop), Some(nonce)) = (dpop, reply.dpop_nonce.as_deref()) else {
            break reply;
        };
        let learned = dpop.learn_nonce(endpoint, nonce);
        if learned
            && !retried
            && !reply.status.is_success()
            && reply.error_code().as_deref() == Some("use_dpop_nonce")
        {
            tracing::debug!("the token endpoint wants a DPoP nonce; sending the request again");
            retried = true;
            continue;
        }
        break reply;
    };
    if !reply.status.is_success() {
        return Err(Error::auth(
            AuthErrorKind::Token,
            format!(
                "the token endpoint refused the {grant} grant ({})",
                reply.oauth_error()
            ),
        ));
    }
    let v = reply
        .json()
        .ok_or_else(|| Error::auth(AuthErrorKind::Token, "the token response is not JSON"))?;
    let access_token = v["access_token"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::auth(
                AuthErrorKind::Token,
                "the token response has no access_token",
            )
        })?;
    let expires_in = v["expires_in"]
        .as_u64()
        .or_else(|| v["expires_in"].as_str().and_then(|s| s.parse().ok()));
    Ok(Tokens {
        access_token: access_token.to_owned(),
        token_type: v["token_type"].as_str().map(str::to_owned),
        refresh_token: v["refresh_token"]
            .as_str()
            .map(str::to_owned)
            .or(previous_refresh),
        expires_at: expires_in.map(|s| now_secs().saturating_add(s)),
        scope: v["scope"].as_str().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn scope_selection_order() {
        let prm = s(&["mcp:read", "mcp:write"]);
        assert_eq!(
            select_scopes(&s(&["mcp:basic"]), Some(&prm), &[], None),
            s(&["mcp:basic"])
        );
        assert_eq!(select_scopes(&[], Some(&prm), &s(&["cfg"]), None), prm);
        assert_eq!(select_scopes(&[], None, &s(&["cfg"]), None), s(&["cfg"]));
        assert!(select_scopes(&[], Some(&[]), &[], None).is_empty());
        let as_scopes = s(&["mcp:basic", "offline_access"]);
        assert_eq!(
            select_scopes(&s(&["mcp:basic"]), None, &[], Some(&as_scopes)),
            s(&["mcp:basic", "offline_access"])
        );
        // Nothing requested: the parameter stays omitted.
        assert!(select_scopes(&[], None, &[], Some(&as_scopes)).is_empty());
    }

    #[test]
    fn union_keeps_order() {
        assert_eq!(
            union_scopes(&s(&["a", "b"]), &s(&["b", "c"])),
            s(&["a", "b", "c"])
        );
    }

    fn metadata(methods: Option<&[&str]>, iss: Option<bool>) -> AuthServerMetadata {
        AuthServerMetadata {
            issuer: "https://as.example".into(),
            code_challenge_methods_supported: methods.map(s),
            authorization_response_iss_parameter_supported: iss,
            ..Default::default()
        }
    }

    #[test]
    fn authorization_url_carries_pkce_state_resource_scope() {
        let ep = Url::parse("https://as.example/authorize?tenant=1").unwrap();
        let m = metadata(Some(&["S256"]), Some(true));
        let p = authorization_request(
            &ep,
            Some(&m),
            "https://as.example",
            "cid",
            "http://localhost:1/cb",
            &s(&["a", "b"]),
            "https://mcp.example/mcp",
        )
        .unwrap();
        let q: std::collections::HashMap<String, String> =
            p.url.query_pairs().into_owned().collect();
        assert_eq!(q["tenant"], "1");
        assert_eq!(q["code_challenge"], p.pkce.challenge());
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["state"], p.state);
        assert_eq!(q["resource"], "https://mcp.example/mcp");
        assert_eq!(q["scope"], "a b");
        assert!(p.iss_required);
        let none = authorization_request(&ep, None, "i", "c", "r", &[], "x").unwrap();
        assert!(!none.url.query_pairs().any(|(k, _)| k == "scope"));
    }

    #[test]
    fn pkce_support_is_required_when_there_is_metadata() {
        let ep = Url::parse("https://as.example/authorize").unwrap();
        for m in [metadata(None, None), metadata(Some(&["plain"]), None)] {
            assert!(authorization_request(&ep, Some(&m), "i", "c", "r", &[], "x").is_err());
        }
    }

    #[test]
    fn iss_checks() {
        let issuer = "http://localhost:9000";
        let ok = "http://localhost:1/cb?code=c&state=st&iss=http%3A%2F%2Flocalhost%3A9000";
        assert_eq!(check_redirect(ok, "st", issuer, true).unwrap(), "c");
        // Not advertised, absent: proceed.
        assert_eq!(
            check_redirect("http://l/cb?code=c&state=st", "st", issuer, false).unwrap(),
            "c"
        );
        // Advertised but absent.
        assert!(check_redirect("http://l/cb?code=c&state=st", "st", issuer, true).is_err());
        // Wrong, or only equal after normalization: rejected, advertised or not.
        for iss in [
            "https://evil.example.com",
            "http://localhost:9000/",
            "HTTP://localhost:9000",
        ] {
            let url = Url::parse_with_params(
                "http://l/cb",
                [("code", "c"), ("state", "st"), ("iss", iss)],
            )
            .unwrap();
            assert!(
                check_redirect(url.as_str(), "st", issuer, false).is_err(),
                "{iss}"
            );
        }
        // A mismatched iss hides the error it carries.
        let e = check_redirect(
            "http://l/cb?error=access_denied&error_description=click%20here&state=st&iss=x",
            "st",
            issuer,
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("click here"), "{e}");
    }

    #[test]
    fn state_and_error_checks() {
        assert!(check_redirect("http://l/cb?code=c&state=other", "st", "i", false).is_err());
        let e = check_redirect("http://l/cb?error=access_denied&state=st", "st", "i", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("access_denied"), "{e}");
        assert!(check_redirect("http://l/cb?state=st", "st", "i", false).is_err());
    }

    /// What the nonce server saw of one token request: the DPoP
    /// proof's `nonce` and the client assertion's `jti`, if any.
    type SeenRequests = std::sync::Arc<std::sync::Mutex<Vec<(Option<String>, Option<String>)>>>;

    fn jwt_claims(jwt: &str) -> serde_json::Value {
        let payload = jwt.split('.').nth(1).unwrap_or_default();
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// A token endpoint that wants DPoP nonces: it answers
    /// `use_dpop_nonce` with nonce `n-<call>` until a proof carries `n-1`
    /// (or always, when stubborn).
    async fn nonce_server(stubborn: bool) -> (Url, SeenRequests) {
        use axum::http::{HeaderMap, StatusCode};
        use axum::response::IntoResponse;
        let seen: SeenRequests = Default::default();
        let log = seen.clone();
        let app = axum::Router::new().route(
            "/token",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let log = log.clone();
                async move {
                    let proof = headers
                        .get("dpop")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    let claims = jwt_claims(proof);
                    assert_eq!(claims["htm"], "POST");
                    let nonce = claims["nonce"].as_str().map(str::to_owned);
                    let jti = url::form_urlencoded::parse(body.as_bytes())
                        .find(|(k, _)| k == "client_assertion")
                        .and_then(|(_, v)| jwt_claims(&v)["jti"].as_str().map(str::to_owned));
                    let calls = {
                        let mut l = log.lock().unwrap();
                        l.push((nonce.clone(), jti));
                        l.len()
                    };
                    if stubborn || nonce.as_deref() != Some("n-1") {
                        let body = serde_json::json!({"error": "use_dpop_nonce"}).to_string();
                        let headers = [
                            ("dpop-nonce", format!("n-{calls}")),
                            ("content-type", "application/json".into()),
                        ];
                        return (StatusCode::BAD_REQUEST, headers, body).into_response();
                    }
                    let body = serde_json::json!({"access_token": "tok", "token_type": "DPoP"});
                    axum::Json(body).into_response()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (Url::parse(&format!("http://{addr}/token")).unwrap(), seen)
    }

    async fn dpop_token_request(
        endpoint: &Url,
        dpop: &Dpop,
        client_key: Option<&SigningKey>,
    ) -> Result<Tokens> {
        let http = reqwest::Client::new();
        let client = ClientCredentials::new("c".to_owned(), None);
        let form = vec![("grant_type", "client_credentials".to_owned())];
        let signers = Signers {
            client_key: client_key.map(|k| (k, "http://127.0.0.1")),
            dpop: Some(dpop),
        };
        let how = if client_key.is_some() {
            ClientAuth::PrivateKeyJwt
        } else {
            ClientAuth::None
        };
        let deadline = Duration::from_secs(5);
        token_request(&http, endpoint, form, &client, how, None, deadline, signers).await
    }

    #[tokio::test]
    async fn a_token_request_is_retried_once_with_the_servers_dpop_nonce() {
        let (endpoint, seen) = nonce_server(false).await;
        let dpop = Dpop::new(SigningKey::generate().unwrap());
        let tokens = dpop_token_request(&endpoint, &dpop, None).await.unwrap();
        assert_eq!(tokens.token_type.as_deref(), Some("DPoP"));
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(None, None), (Some("n-1".to_owned()), None)]
        );
    }

    #[tokio::test]
    async fn a_retried_request_signs_a_new_client_assertion() {
        let (endpoint, seen) = nonce_server(false).await;
        let dpop = Dpop::new(SigningKey::generate().unwrap());
        let client_key = SigningKey::generate().unwrap();
        dpop_token_request(&endpoint, &dpop, Some(&client_key))
            .await
            .unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        let (first, second) = (seen[0].1.clone(), seen[1].1.clone());
        assert!(first.is_some() && second.is_some());
        assert_ne!(first, second, "a replayed jti would be refused");
    }

    #[tokio::test]
    async fn a_server_that_keeps_asking_for_nonces_gets_one_retry_then_an_error() {
        let (endpoint, seen) = nonce_server(true).await;
        let dpop = Dpop::new(SigningKey::generate().unwrap());
        let e = dpop_token_request(&endpoint, &dpop, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("use_dpop_nonce"), "{e}");
        let nonces: Vec<_> = seen.lock().unwrap().iter().map(|s| s.0.clone()).collect();
        assert_eq!(nonces, vec![None, Some("n-1".to_owned())]);
    }
}
